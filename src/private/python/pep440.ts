/**
 * PEP 440 versions and specifiers, PEP 508 marker comparisons and Poetry constraints.
 *
 * The reference for every rule here is what Python's `packaging` 25.x does (pip vendors
 * it), including its odd corners, because a lock file or a requirement must mean the same
 * thing to us as it does to the tool that wrote it. Poetry's own constraint syntax follows
 * poetry-core. test/python/pep440.test.ts checks both against the real libraries.
 *
 * Numbers are bigints: PEP 440 puts no bound on them and date-like releases get large.
 */

/** A pre- or post-release tag: letter (normalised: a, b, rc; post) and number. */
export interface Pep440Tag {
  readonly letter: string;
  readonly number: bigint;
}

/** A parsed, normalised PEP 440 version. */
export interface Pep440Version {
  readonly epoch: bigint;
  /** As written (trailing zeros kept); comparisons ignore trailing zeros. */
  readonly release: readonly bigint[];
  readonly pre?: Pep440Tag;
  readonly post?: Pep440Tag;
  readonly dev?: bigint;
  /** Local label segments: numbers for all-digit segments, lower-cased text otherwise. */
  readonly local?: ReadonlyArray<string | bigint>;
  /** The normalised text, as `str(packaging.version.Version(...))` prints it. */
  readonly text: string;
}

/** One clause of a specifier set, e.g. `>=1.2` or `==1.4.*`. */
export interface Pep440Specifier {
  readonly operator: '~=' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '===';
  /** The version part as written (whitespace trimmed), e.g. `1.4.*`. */
  readonly version: string;
}

export interface SatisfiesOptions {
  /**
   * Whether pre-releases (and dev releases) may match. Default: only when a clause of the
   * set itself names one, as pip decides for a single requirement.
   */
  readonly prereleases?: boolean;
}

// ---------------------------------------------------------------------------------------
// Lexical pieces, spelled as Python's `re` reads them with IGNORECASE | VERBOSE.
// ---------------------------------------------------------------------------------------

/** Python's `\s` (str.isspace()), which is wider than JavaScript's and differs from it. */
const WS = '[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const NOT_WS = WS.replace('[', '[^');

/**
 * Case-insensitive spelling of an ASCII word as Python's `re.IGNORECASE` matches it: besides
 * the other case, `i` also matches U+0130/U+0131, `s` U+017F and `k` U+212A (Kelvin sign).
 */
function ci(word: string): string {
  const extra: Record<string, string> = { i: '\\u0130\\u0131', s: '\\u017f', k: '\\u212a' };
  return [...word].map(c => /[a-z]/.test(c) ? `[${c}${c.toUpperCase()}${extra[c] ?? ''}]` : c).join('');
}
const ALNUM = '[a-zA-Z0-9\\u0130\\u0131\\u017f\\u212a]';
const SEP = '[-_.]';
const PRE_WORDS = ['alpha', 'a', 'beta', 'b', 'preview', 'pre', 'c', 'rc'];
const POST_WORDS = ['post', 'rev', 'r'];
const alt = (words: string[]) => words.map(ci).join('|');

/** The version grammar, unanchored (Poetry's constraint patterns embed it). */
const VERSION_BODY = `${ci('v')}?`
  + '(?:([0-9]+)!)?' // 1 epoch
  + '([0-9]+(?:\\.[0-9]+)*)' // 2 release
  + `(?:${SEP}?(${alt(PRE_WORDS)})${SEP}?([0-9]+)?)?` // 3 pre letter, 4 pre number
  + `(?:-([0-9]+)|${SEP}?(${alt(POST_WORDS)})${SEP}?([0-9]+)?)?` // 5 implicit post, 6 post letter, 7 number
  + `(?:${SEP}?(${ci('dev')})${SEP}?([0-9]+)?)?` // 8 dev, 9 dev number
  + `(?:\\+(${ALNUM}+(?:${SEP}${ALNUM}+)*))?`; // 10 local
const VERSION_RE = new RegExp(`^${WS}*${VERSION_BODY}${WS}*$`);

// The version part of each kind of specifier clause (validation only; the version is then
// parsed with VERSION_RE).
const SPEC_HEAD = `${ci('v')}?(?:[0-9]+!)?[0-9]+`;
const SPEC_PRE = `(?:${SEP}?(?:${alt(PRE_WORDS)})${SEP}?[0-9]*)?`;
const SPEC_POST = `(?:-[0-9]+|${SEP}?(?:${alt(POST_WORDS)})${SEP}?[0-9]*)?`;
const SPEC_DEV = `(?:${SEP}?${ci('dev')}${SEP}?[0-9]*)?`;
const SPEC_LOCAL = `(?:\\+${ALNUM}+(?:${SEP}${ALNUM}+)*)?`;
const SPEC_TAIL = `${SPEC_PRE}${SPEC_POST}${SPEC_DEV}`;
const SPEC_VERSION_RE: Record<Pep440Specifier['operator'], RegExp> = (() => {
  const equality = new RegExp(`^${SPEC_HEAD}(?:\\.[0-9]+)*(?:\\.\\*|${SPEC_TAIL}${SPEC_LOCAL})$`);
  const ordered = new RegExp(`^${SPEC_HEAD}(?:\\.[0-9]+)*${SPEC_TAIL}$`);
  return {
    '===': new RegExp(`^${NOT_WS.replace(']', ';)]')}*$`),
    '==': equality,
    '!=': equality,
    '~=': new RegExp(`^${SPEC_HEAD}(?:\\.[0-9]+)+${SPEC_TAIL}$`),
    '<=': ordered,
    '>=': ordered,
    '<': ordered,
    '>': ordered,
  };
})();
const OPERATORS = ['===', '~=', '==', '!=', '<=', '>=', '<', '>'] as const;
const TRIM_RE = new RegExp(`^${WS}+|${WS}+$`, 'g');
const LEADING_WS_RE = new RegExp(`^${WS}+`);
const ANY_WS_RE = new RegExp(WS);

/** Python's `str.strip()` with no argument. */
function pyStrip(s: string): string {
  return s.replace(TRIM_RE, '');
}

/** -1, 0 or 1: Python's string ordering (by code point; JavaScript's `<` orders UTF-16 units). */
export function comparePythonStrings(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return Math.sign(d);
  }
}

const sign = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------

/** Parses a PEP 440 version as `packaging.version.Version` does; undefined when it rejects it. */
export function parseVersion(text: string): Pep440Version | undefined {
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  const [, epoch, release, preL, preN, postN1, postL, postN2, devL, devN, local] = m;
  const pre = preL === undefined ? undefined : tag(preL, preN);
  const postNumber = postN1 ?? postN2;
  const post = postL !== undefined ? tag(postL, postNumber) : postN1 !== undefined ? tag('post', postN1) : undefined;
  return makeVersion({
    epoch: epoch === undefined ? 0n : BigInt(epoch),
    release: release.split('.').map(BigInt),
    pre,
    post,
    dev: devL === undefined ? undefined : BigInt(devN ?? 0),
    local: local === undefined ? undefined : local.split(/[-_.]/).map(p => /^[0-9]+$/.test(p) ? BigInt(p) : p.toLowerCase()),
  });
}

const LETTER_SPELLINGS: Record<string, string> = { alpha: 'a', beta: 'b', c: 'rc', pre: 'rc', preview: 'rc', rev: 'post', r: 'post' };

function tag(letter: string, number: string | undefined): Pep440Tag {
  const lower = letter.toLowerCase();
  return { letter: LETTER_SPELLINGS[lower] ?? lower, number: BigInt(number ?? 0) };
}

function makeVersion(parts: Omit<Pep440Version, 'text'>): Pep440Version {
  let text = parts.epoch !== 0n ? `${parts.epoch}!` : '';
  text += parts.release.join('.');
  if (parts.pre) text += `${parts.pre.letter}${parts.pre.number}`;
  if (parts.post) text += `.post${parts.post.number}`;
  if (parts.dev !== undefined) text += `.dev${parts.dev}`;
  if (parts.local) text += `+${parts.local.join('.')}`;
  return { ...parts, text };
}

function requireVersion(text: string): Pep440Version {
  return parseVersion(text) ?? fail(`Invalid version: ${JSON.stringify(text)} is not a PEP 440 version.`);
}

/** Pre-releases and dev releases (`1.0a1`, `1.0.dev0`, `1.0.post1.dev2`). */
export function isPrerelease(v: Pep440Version): boolean {
  return v.pre !== undefined || v.dev !== undefined;
}

/**
 * The version without its local label, read again from its normal form as packaging
 * does: that drops odd letters (`1.0po\u017ft1` becomes `1.0.post1`).
 * @throws Error in the one case where the normal form is no version (a pre-release
 * spelled `prev\u0130ew`, whose lower case has a combining dot); packaging raises there too.
 */
function publicVersion(v: Pep440Version): Pep440Version {
  const text = v.text.split('+')[0];
  return parseVersion(text) ?? fail(`Invalid version: ${JSON.stringify(text)} (the normal form of a version) is not a PEP 440 version.`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** Epoch and release only. */
function baseVersion(v: Pep440Version): Pep440Version {
  return makeVersion({ epoch: v.epoch, release: v.release });
}

/** -1, 0 or 1 as `a` sorts before, equal to or after `b` in PEP 440 order. */
export function compareVersions(a: Pep440Version, b: Pep440Version): number {
  return sign(a.epoch, b.epoch)
    || compareRelease(a.release, b.release)
    || compareTagKey(preKey(a), preKey(b))
    || compareTagKey(a.post ?? -1, b.post ?? -1)
    || compareTagKey(a.dev === undefined ? 1 : { letter: 'dev', number: a.dev }, b.dev === undefined ? 1 : { letter: 'dev', number: b.dev })
    || compareLocal(a.local, b.local);
}

/** Like compareVersions, for version strings. @throws Error naming a string that is not a version. */
export function compareVersionStrings(a: string, b: string): number {
  return compareVersions(requireVersion(a), requireVersion(b));
}

/** Trailing zeros do not count: 1.0 == 1.0.0. */
function compareRelease(a: readonly bigint[], b: readonly bigint[]): number {
  const trim = (r: readonly bigint[]) => {
    let n = r.length;
    while (n > 0 && r[n - 1] === 0n) n--;
    return n;
  };
  const la = trim(a);
  const lb = trim(b);
  for (let i = 0; i < Math.min(la, lb); i++) {
    const d = sign(a[i], b[i]);
    if (d) return d;
  }
  return Math.sign(la - lb);
}

/** A tag, or -1 / 1 for "sorts before / after every tag". */
type TagKey = Pep440Tag | -1 | 1;

/** A dev release of a plain release sorts before its pre-releases; no pre-release sorts after them. */
function preKey(v: Pep440Version): TagKey {
  if (v.pre) return v.pre;
  return !v.post && v.dev !== undefined ? -1 : 1;
}

function compareTagKey(a: TagKey, b: TagKey): number {
  if (typeof a === 'number' || typeof b === 'number') {
    if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
    return typeof a === 'number' ? a : -(b as number);
  }
  return comparePythonStrings(a.letter, b.letter) || sign(a.number, b.number);
}

/** No label < any label; segment by segment, text < number, texts by code point, numbers by value; a prefix first. */
function compareLocal(a: Pep440Version['local'], b: Pep440Version['local']): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    let d: number;
    if (typeof x === 'bigint' && typeof y === 'bigint') d = sign(x, y);
    else if (typeof x === 'string' && typeof y === 'string') d = comparePythonStrings(x, y);
    else d = typeof x === 'bigint' ? 1 : -1;
    if (d) return d;
  }
  return Math.sign(a.length - b.length);
}

const equalVersions = (a: Pep440Version, b: Pep440Version) => compareVersions(a, b) === 0;

// ---------------------------------------------------------------------------------------
// Specifiers (PEP 440 "version specifiers", packaging.specifiers)
// ---------------------------------------------------------------------------------------

/** Parses one clause such as `>= 1.2` or `==1.4.*`; undefined when packaging rejects it. */
export function parseSpecifier(text: string): Pep440Specifier | undefined {
  const body = text.replace(LEADING_WS_RE, '');
  const operator = OPERATORS.find(op => body.startsWith(op));
  if (!operator) return undefined;
  // The version may be preceded by whitespace; trailing whitespace ends the clause.
  const version = pyStrip(body.slice(operator.length));
  if (!SPEC_VERSION_RE[operator].test(version)) return undefined;
  // Anything after the version but whitespace is an error (`[^\s;)]*` stops at `;` or `)`).
  if (ANY_WS_RE.test(version)) return undefined;
  return { operator, version };
}

/**
 * Parses a comma-separated specifier set (`>=1.2, !=1.3.*`); empty clauses are ignored.
 * @throws Error quoting the clause packaging would reject.
 */
export function parseSpecifierSet(text: string): Pep440Specifier[] {
  return text.split(',').map(pyStrip).filter(s => s !== '').map(clause => {
    const spec = parseSpecifier(clause);
    if (!spec) throw new Error(`Invalid specifier: ${JSON.stringify(clause)} in ${JSON.stringify(text)} is not a PEP 440 version specifier.`);
    return spec;
  });
}

/**
 * True when `version` satisfies every clause of `specifiers`, exactly as
 * `packaging.specifiers.SpecifierSet(specifiers).contains(version, prereleases=...)`.
 * @throws Error naming the version or the clause when one cannot be parsed.
 */
export function satisfies(version: string, specifiers: string, options: SatisfiesOptions = {}): boolean {
  return setContains(parseSpecifierSet(specifiers), requireVersion(version), options.prereleases);
}

/** Whether a clause names a pre-release (which lets the whole set match pre-releases). */
export function specifierAllowsPrereleases(spec: Pep440Specifier): boolean {
  if (spec.operator === '!=') return false;
  const text = spec.operator === '==' && spec.version.endsWith('.*') ? spec.version.slice(0, -2) : spec.version;
  // packaging 25 raises InvalidVersion here for `===` with a non-version; we take it as "no".
  const v = parseVersion(text);
  return v !== undefined && isPrerelease(v);
}

function setContains(specs: readonly Pep440Specifier[], v: Pep440Version, prereleases: boolean | undefined): boolean {
  const allow = prereleases ?? specs.some(specifierAllowsPrereleases);
  if (!allow && isPrerelease(v)) return false;
  return specs.every(s => specifierContains(s, v));
}

/** The clause's own test, after the pre-release filter. */
export function specifierContains(spec: Pep440Specifier, v: Pep440Version): boolean {
  const target = () => parseVersion(spec.version)!;
  switch (spec.operator) {
    case '===':
      // packaging compares the normalised text of the candidate with the clause as written.
      return v.text.toLowerCase() === spec.version.toLowerCase();
    case '==':
      return isEqual(v, spec.version);
    case '!=':
      return !isEqual(v, spec.version);
    case '<=':
      return compareVersions(publicVersion(v), target()) <= 0;
    case '>=':
      return compareVersions(publicVersion(v), target()) >= 0;
    case '<': {
      const t = target();
      if (compareVersions(v, t) >= 0) return false;
      // `<3.1` does not admit 3.1's own pre-releases (3.1rc1, 3.1.dev0) unless it names one.
      return !(!isPrerelease(t) && isPrerelease(v) && equalVersions(baseVersion(v), baseVersion(t)));
    }
    case '>': {
      const t = target();
      if (compareVersions(v, t) <= 0) return false;
      // `>3.1` admits neither 3.1's post-releases (unless it names one) nor its local builds.
      if (!t.post && v.post && equalVersions(baseVersion(v), baseVersion(t))) return false;
      return !(v.local && equalVersions(baseVersion(v), baseVersion(t)));
    }
    case '~=':
      return compareVersions(publicVersion(v), target()) >= 0 && prefixMatches(v, compatiblePrefix(spec.version));
  }
}

function isEqual(v: Pep440Version, specVersion: string): boolean {
  if (specVersion.endsWith('.*')) return prefixMatches(v, specVersion.slice(0, -2));
  const t = parseVersion(specVersion)!;
  return equalVersions(t.local ? v : publicVersion(v), t);
}

/**
 * `==prefix.*`: the candidate's public version, split into epoch, release numbers and
 * suffixes and padded with zeros, starts with the prefix. This works on normalised text,
 * as packaging does, so an unusual prefix (see compatiblePrefix) behaves as it does there.
 */
function prefixMatches(v: Pep440Version, prefix: string): boolean {
  const want = splitForPrefix(parseVersion(prefix)?.text ?? prefix);
  const publicText = v.text.split('+')[0];
  const have = splitForPrefix(parseVersion(publicText)?.text ?? publicText);
  const isNumber = (s: string) => /^[0-9]+$/.test(s);
  let releaseLength = 0;
  while (releaseLength < have.length && isNumber(have[releaseLength])) releaseLength++;
  let wantReleaseLength = 0;
  while (wantReleaseLength < want.length && isNumber(want[wantReleaseLength])) wantReleaseLength++;
  const padding = Array<string>(Math.max(0, wantReleaseLength - releaseLength)).fill('0');
  const padded = [...have.slice(0, releaseLength), ...padding, ...have.slice(releaseLength)];
  return want.every((part, i) => padded[i] === part);
}

/** `1!2.3rc1.post4` -> ['1', '2', '3', 'rc1', 'post4']; a missing epoch is '0'. */
function splitForPrefix(text: string): string[] {
  const bang = text.lastIndexOf('!');
  const parts = [bang > 0 ? text.slice(0, bang) : '0'];
  for (const item of text.slice(bang + 1).split('.')) {
    const m = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    if (m) parts.push(m[1], m[2]);
    else parts.push(item);
  }
  return parts;
}

/**
 * The `==X.*` half of `~=X.Y`: the clause's text, split as above, up to its first suffix,
 * less its last release number. Like packaging, this reads the text as written, so a few
 * spellings (`~=1.4.5.preview1`, `~=1.4.5c1`, `~=v1.4`) get a different prefix than their
 * normal form would.
 */
function compatiblePrefix(specVersion: string): string {
  const parts = splitForPrefix(specVersion);
  const isSuffix = (s: string) => ['dev', 'a', 'b', 'rc', 'post'].some(p => s.startsWith(p));
  let n = 0;
  while (n < parts.length && !isSuffix(parts[n])) n++;
  const kept = parts.slice(0, n - 1);
  return `${kept[0]}!${kept.slice(1).join('.')}`;
}

// ---------------------------------------------------------------------------------------
// PEP 508 markers
// ---------------------------------------------------------------------------------------

/**
 * `lhs <op> rhs` in an environment marker, as packaging.markers (25.x) compares when both
 * sides are versions: `Specifier(op + rhs).contains(lhs, prereleases=True)`. Undefined when
 * `op + rhs` is not a specifier or `lhs` is not a version, for the caller to compare the
 * strings instead (packaging 25 falls back the same way for the first; for the second it
 * raises InvalidVersion).
 */
export function markerVersionCompare(lhs: string, op: string, rhs: string): boolean | undefined {
  const spec = parseSpecifier(op + rhs);
  const v = spec && parseVersion(lhs);
  if (!spec || !v) return undefined;
  try {
    return specifierContains(spec, v);
  } catch {
    return undefined; // see publicVersion
  }
}

// ---------------------------------------------------------------------------------------
// Poetry constraints (pyproject.toml [tool.poetry.dependencies], poetry.lock)
// ---------------------------------------------------------------------------------------
//
// Poetry reads a constraint into ranges of versions and tests a version against those
// ranges, not against PEP 440 clauses; the two agree but for a few corners that
// satisfiesPoetry follows Poetry on (see poetryRangeAllows). The rules are poetry-core's
// (2.x): `^` and `~` per its documentation, `1.2.*` as [1.2.dev0, 1.3.dev0), `<V` (V a
// final release) as `<V.dev0`, a bare version as `==`.

/** An interval of versions as Poetry sees it; an open end has no bound. */
interface PoetryRange {
  readonly min?: Pep440Version;
  readonly max?: Pep440Version;
  readonly includeMin: boolean;
  readonly includeMax: boolean;
}

/** One clause: a single version, a range, `!=V`, or the complement of a wildcard range. */
type PoetryClause =
  | { readonly kind: 'exact'; readonly version: Pep440Version }
  | { readonly kind: 'range'; readonly range: PoetryRange; readonly wildcard?: Pep440Version }
  | { readonly kind: 'not'; readonly version: Pep440Version }
  | { readonly kind: 'not-range'; readonly range: PoetryRange; readonly wildcard?: Pep440Version };

const ANY: PoetryRange = { includeMin: false, includeMax: false };

/** Parses a Poetry constraint into alternatives (`||`) of clauses that must all hold. */
function parsePoetry(constraint: string): PoetryClause[][] {
  if (constraint === '*') return [[{ kind: 'range', range: ANY }]];
  return pyStrip(constraint).split(POETRY_OR).map(alternative => {
    const trimmed = alternative.replace(/,+$/, '').replace(new RegExp(`${WS}+$`), '');
    return trimmed.split(POETRY_AND).map(c => parsePoetryClause(c, constraint));
  });
}

const POETRY_OR = new RegExp(`${WS}*\\|\\|?${WS}*`);
/**
 * Between clauses: a comma or a space with optional spaces around it. Not after an
 * operator or at the start (`>= 1.2`), not touching a `-`, and not before a comma or the end.
 */
const POETRY_AND = /(?<=[^\^~=<>, ]) *(?<!-)[, ](?!-) *(?!,|$)/;
const POETRY_ANY = /^[vV]?[xX*](?:\.[xX*])*$/;
const POETRY_TILDE = new RegExp(`^~(?!=)${WS}*(${VERSION_BODY})$`);
const POETRY_COMPATIBLE = new RegExp(`^~=${WS}*(${VERSION_BODY})$`);
const POETRY_CARET = new RegExp(`^\\^${WS}*(${VERSION_BODY})$`);
const POETRY_WILDCARD = new RegExp(`^(!=|==)?${WS}*v?([0-9]+(?:\\.[0-9]+)?(?:\\.[0-9]+)?)(?:\\.\\*)+$`);
const POETRY_COMPARISON = new RegExp(`^(<>|!=|>=?|<=?|==?)?${WS}*(${VERSION_BODY}|${ci('dev')})(\\.\\*)?$`);

function parsePoetryClause(text: string, constraint: string): PoetryClause {
  const bad = (): never => fail(`Invalid Poetry constraint: ${JSON.stringify(constraint)} (cannot read ${JSON.stringify(text)}).`);
  const version = (s: string) => parseVersion(s) ?? bad();
  if (POETRY_ANY.test(text)) return { kind: 'range', range: ANY };
  let m = POETRY_TILDE.exec(text);
  if (m) {
    // ~1.2.3 and ~1.2: next minor; ~1: next major.
    const v = version(m[1]);
    const stable = stableOf(v);
    return rangeTo(v, v.release.length === 1 ? bumpRelease(stable, 0) : bumpRelease(stable, 1));
  }
  m = POETRY_COMPATIBLE.exec(text);
  if (m) {
    // ~=1.4.5: up to 1.5; unlike PEP 440, ~=1 is allowed (up to 2).
    const v = version(m[1]);
    const stable = stableOf(v);
    return rangeTo(v, bumpRelease(stable, Math.max(0, stable.release.length - 2)));
  }
  m = POETRY_CARET.exec(text);
  if (m) {
    // ^1.2.3: <2.0.0; ^0.2.3: <0.3.0; ^0.0.3: <0.0.4; ^0.0: <0.1; ^0: <1.
    const v = version(m[1]);
    const [major, minor] = v.release;
    const stable = stableOf(v);
    const index = major > 0n || minor === undefined ? 0 : minor > 0n || v.release.length === 2 ? 1 : 2;
    return rangeTo(v, bumpRelease(stable, index));
  }
  m = POETRY_WILDCARD.exec(text);
  if (m) return wildcardClause(version(m[2]), m[1] === '!=');
  m = POETRY_COMPARISON.exec(text);
  if (m) {
    const op = m[1];
    const v = m[2] === 'dev' ? version('0.0.dev0') : version(m[2]);
    switch (op) {
      case '<': return { kind: 'range', range: { max: strictMax(v), includeMin: false, includeMax: false } };
      case '<=': return { kind: 'range', range: { max: v, includeMin: false, includeMax: true } };
      case '>': return { kind: 'range', range: { min: v, includeMin: false, includeMax: false } };
      case '>=': return { kind: 'range', range: { min: v, includeMin: true, includeMax: false } };
    }
    if (m[m.length - 1] !== undefined) return wildcardClause(v, op === '!=');
    // poetry-core reads `<>` like `==` (it is not in its list of operators that do something else).
    return op === '!=' ? { kind: 'not', version: v } : { kind: 'exact', version: v };
  }
  return bad();
}

/** [v, end) with Poetry's reading of an exclusive end. */
function rangeTo(v: Pep440Version, end: Pep440Version): PoetryClause {
  return { kind: 'range', range: { min: v, max: strictMax(end), includeMin: true, includeMax: false } };
}

/** `<V` for a final release V excludes V's pre- and dev releases too: it is `<V.dev0`. */
function strictMax(v: Pep440Version): Pep440Version {
  return isPrerelease(v) ? v : firstDevOf(v);
}

/** The version less its pre-release and dev parts (and its post part if it had a pre-release). */
function stableOf(v: Pep440Version): Pep440Version {
  if (!isPrerelease(v)) return v;
  return makeVersion({ epoch: v.epoch, release: v.release, post: v.pre ? undefined : v.post });
}

/** `v` with dev release 0 (and no local label). */
function firstDevOf(v: Pep440Version): Pep440Version {
  return makeVersion({ epoch: v.epoch, release: v.release, pre: v.pre, post: v.post, dev: 0n });
}

/**
 * The release after `v` at position `index` (0 major, 1 minor, 2 patch, more: that number),
 * later numbers zeroed, padded to reach `index`, as poetry-core's next_major/minor/patch.
 */
function bumpRelease(v: Pep440Version, index: number): Pep440Version {
  const release = [...v.release];
  while (release.length <= index) release.push(0n);
  release[index] += 1n;
  for (let i = index + 1; i < release.length; i++) release[i] = 0n;
  return makeVersion({ epoch: v.epoch, release });
}

/** `1.2.*` (or `1.2a1.*`...): from the version's first dev release to the next one's. */
function wildcardClause(v: Pep440Version, invert: boolean): PoetryClause {
  let next: Pep440Version;
  const parts = { epoch: v.epoch, release: v.release };
  if (v.post) {
    next = makeVersion({ ...parts, pre: v.pre, post: v.dev === undefined ? { ...v.post, number: v.post.number + 1n } : v.post });
  } else if (!isPrerelease(v)) {
    next = bumpRelease(v, Math.max(0, v.release.length - 1));
  } else if (v.pre) {
    next = makeVersion({ ...parts, pre: v.dev === undefined ? { ...v.pre, number: v.pre.number + 1n } : v.pre });
  } else {
    next = makeVersion({ ...parts, dev: v.dev! + 1n });
  }
  const range: PoetryRange = { min: firstDevOf(v), max: next.dev === undefined ? firstDevOf(next) : next, includeMin: true, includeMax: false };
  // A plain release's wildcard is exactly PEP 440's `==1.2.*`.
  const wildcard = isPrerelease(v) || v.post ? undefined : makeVersion(parts);
  return { kind: invert ? 'not-range' : 'range', range, wildcard };
}

/** Poetry's test of one version against a range, with PEP 440's rules for `>V` and locals. */
function poetryRangeAllows(r: PoetryRange, v: Pep440Version): boolean {
  if (r.min) {
    let other = v;
    // `>V` admits neither V's post-releases (unless V is one) nor V's local builds.
    if (!r.includeMin && !r.min.post && other.post) other = makeVersion({ ...other, post: undefined, dev: undefined });
    if (!r.min.local && other.local) other = makeVersion({ ...other, local: undefined });
    const c = compareVersions(other, r.min);
    if (c < 0 || (c === 0 && !r.includeMin)) return false;
  }
  if (r.max) {
    const other = !r.max.local && v.local ? makeVersion({ ...v, local: undefined }) : v;
    const c = compareVersions(other, r.max);
    if (c > 0 || (c === 0 && !r.includeMax)) return false;
  }
  return true;
}

/** `==V` in Poetry: a local label on the candidate is ignored unless V has one. */
function poetryExactAllows(exact: Pep440Version, v: Pep440Version): boolean {
  return equalVersions(exact, !exact.local && v.local ? makeVersion({ ...v, local: undefined }) : v);
}

function poetryClauseAllows(c: PoetryClause, v: Pep440Version): boolean {
  switch (c.kind) {
    case 'exact': return poetryExactAllows(c.version, v);
    case 'range': return poetryRangeAllows(c.range, v);
    // Once combined with other clauses, `!=V` is the ranges <V and >V, so `>=1,!=1.5`
    // excludes 1.5.post1 as `>1.5` does. (Alone, see poetryAlternativeAllows.)
    case 'not': return poetryRangeAllows({ max: c.version, includeMin: false, includeMax: false }, v)
      || poetryRangeAllows({ min: c.version, includeMin: false, includeMax: false }, v);
    case 'not-range': return !!c.range.min && poetryRangeAllows({ max: c.range.min, includeMin: false, includeMax: false }, v)
      || !!c.range.max && poetryRangeAllows({ min: c.range.max, includeMin: true, includeMax: false }, v);
  }
}

function poetryAlternativeAllows(clauses: readonly PoetryClause[], v: Pep440Version): boolean {
  const constraining = clauses.filter(c => !(c.kind === 'range' && !c.range.min && !c.range.max));
  // `!=V` on its own (or repeated) excludes exactly V and its local builds, nothing else.
  const first = constraining[0];
  if (first?.kind === 'not' && constraining.every(c => c.kind === 'not' && equalVersions(c.version, first.version))) {
    return !poetryExactAllows(first.version, v);
  }
  return clauses.every(c => poetryClauseAllows(c, v));
}

/**
 * True when Poetry would accept `version` for `constraint` (poetry-core's
 * `parse_constraint(constraint).allows(Version.parse(version))`). Pre-releases are not
 * filtered: whether to consider them is the resolver's choice, not the constraint's.
 * @throws Error naming the version or the constraint when one cannot be parsed.
 */
export function satisfiesPoetry(version: string, constraint: string): boolean {
  const alternatives = parsePoetry(constraint);
  const v = requireVersion(version);
  return alternatives.some(clauses => poetryAlternativeAllows(clauses, v));
}

/**
 * A Poetry constraint as PEP 440 specifier sets, one per alternative (`^1.2 || ^2.0` gives
 * two); a version matches the constraint when it matches any of them. `*` gives `''`, the
 * empty set. A few corners cannot be said in PEP 440, so there the sets differ from what
 * satisfiesPoetry (Poetry) answers: PEP 440's `>V` excludes every post-release and local
 * build of V's release numbers (`>2.0a1` excludes 2.0.post1, Poetry admits it), Poetry's
 * `!=V` next to other clauses also excludes V's post-releases, and a local label in an
 * ordered bound (`>=1.0+local`, forbidden in PEP 440) is dropped.
 * @throws Error quoting the constraint when Poetry could not read it.
 */
export function poetryToPep440(constraint: string): string[] {
  const out: string[] = [];
  for (const clauses of parsePoetry(constraint)) {
    // Each clause is one or two alternatives (a negated pre-release wildcard is two).
    let sets: string[][] = [[]];
    for (const clause of clauses) {
      const options = clauseToPep440(clause);
      sets = sets.flatMap(set => options.map(o => o === '' ? set : [...set, o]));
    }
    for (const set of sets) {
      const text = [...new Set(set)].join(',');
      if (!out.includes(text)) out.push(text);
    }
  }
  return out;
}

function clauseToPep440(c: PoetryClause): string[] {
  switch (c.kind) {
    case 'exact': return [`==${c.version.text}`];
    case 'not': return [`!=${c.version.text}`];
    case 'range': {
      if (c.wildcard) return [`==${c.wildcard.text}.*`];
      const { min, max, includeMin, includeMax } = c.range;
      const parts: string[] = [];
      if (min) parts.push(`${includeMin ? '>=' : '>'}${withoutLocal(min).text}`);
      if (max) parts.push(`${includeMax ? '<=' : '<'}${renderMax(withoutLocal(max), includeMax)}`);
      return [parts.join(',')];
    }
    case 'not-range': {
      if (c.wildcard) return [`!=${c.wildcard.text}.*`];
      return [`<${renderMax(c.range.min!, false)}`, `>=${withoutLocal(c.range.max!).text}`];
    }
  }
}

/** PEP 440 has no local labels in ordered comparisons; Poetry allows them (`>=1.0+local`). */
function withoutLocal(v: Pep440Version): Pep440Version {
  return v.local ? makeVersion({ ...v, local: undefined }) : v;
}

/**
 * An exclusive `V.dev0` end (V a plain release) is PEP 440's `<V`, which excludes V's pre-
 * and dev releases. (Not for V a post-release: PEP 440's `<1.0.post1` also excludes 1.0a1.)
 */
function renderMax(max: Pep440Version, inclusive: boolean): string {
  if (!inclusive && max.dev === 0n && !max.pre && !max.post && !max.local) return makeVersion({ ...max, dev: undefined }).text;
  return max.text;
}
