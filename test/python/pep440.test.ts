import * as fs from 'fs';
import * as path from 'path';
import { evaluateMarker } from '../../src/private/python/markers';
import {
  compareVersionStrings, markerVersionCompare, parseSpecifierSet, parseVersion, poetryToPep440, satisfies, satisfiesPoetry,
} from '../../src/private/python/pep440';
import { REPO_ROOT, run, tempDir } from '../helpers/run';

/**
 * The reference implementations: `packaging` and `poetry-core`, pinned in
 * .ci/python-tools.txt and installed into .tools/ by `npx projen install-tools`.
 */
const TOOLS_PYTHON = path.join(REPO_ROOT, '.tools', 'bin', 'python');

/** Runs `script` in one Python process with `cases` as JSON on stdin; returns its JSON answer. */
function askPython<T>(script: string, cases: unknown): T {
  if (!fs.existsSync(TOOLS_PYTHON)) throw new Error(`${TOOLS_PYTHON} is missing: run \`npx projen install-tools\``);
  const dir = tempDir('pep440');
  const file = path.join(dir, 'reference.py');
  fs.writeFileSync(file, script);
  const r = run(TOOLS_PYTHON, [file], { input: JSON.stringify(cases), env: { ...process.env, PYTHONHASHSEED: '0' } });
  if (r.status !== 0) throw new Error(`reference.py failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A small deterministic generator (mulberry32), so every run checks the same cases. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const shuffle = <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  return { next, pick, shuffle };
}

// Building blocks for versions: many spellings of each part, weighted towards plain ones.
const EPOCHS = ['', '', '', '', '1!', '0!', '2!', '01!'];
const RELEASES = ['0', '1', '1.0', '1.0.0', '1.2', '1.2.0', '1.2.3', '1.2.4', '1.3', '2', '2.0', '2.0.1', '10.0', '1.10', '1.9', '0.0', '0.0.0', '0.1', '0.2.3', '0.0.3', '1.2.3.4', '01.02', '3.9', '3.9.0', '3.11', '3.11.0', '3.12.1'];
const PRES = ['', '', '', '', 'a1', 'a', 'b2', 'rc1', 'c1', '.alpha.3', '-beta', '_pre1', 'preview2', 'RC1', 'a0', 'rc', '.b0'];
const POSTS = ['', '', '', '', '', '.post1', '-1', 'post', '.rev2', 'r3', '.post0', '-post1', '_r', '.POST2'];
const DEVS = ['', '', '', '', '', '.dev0', '.dev', 'dev3', '-dev1', '.DEV2', '_dev0'];
const LOCALS = ['', '', '', '', '', '', '+ubuntu.1', '+1', '+abc', '+ABC-01', '+1.a', '+a.1', '+01', '+1_2', '+abc.5'];
const PREFIXES = ['', '', '', '', '', 'v', 'V', ' ', '\t', '\u00a0'];
const ODD_VERSIONS = [
  '1.0.', '.1', '1..0', 'a1', '1.0+', '1.0+a..b', '1.0-', 'v', '', ' ', '1!', '1.0a1a2', '1.0 post1', '1,0', '1.0.*', 'dev',
  '1.0dev-', '1_0', '1.0+a_', '\u0661.\u0660', '1.0\u017f', '1.0po\u017ft1', '1.0+\u212a', '1.0+\u017f', '1.0prev\u0130ew', '1.0prev\u0131ew1',
  '\u2003 1.0', '\ufeff1.0', '1.0\x85', '\x1c1.0', '1.0\n', '1.0\u200b', '9'.repeat(30) + '.1', '1.' + '9'.repeat(25), '1.0.post1.post2',
  '1.0-1-1', '1!2!3', 'v1!1.0', '1.0+local version', '1.0.dev1.post1', '1.0a1.post1.dev1+x', '1.0_a_1', '1.0-a-1', '1.0.a.1', '1.0.post.dev',
  '1.0-dev', '1.0+1-2_3.4', '1.0+-a', 'V1.0', 'vv1.0', '1.0B1', '1.0.Post', '1.0.r', '1.0c', '1.0pre', '1.0alpha', '1.0beta2',
];

function versionPool(rng: ReturnType<typeof random>, n: number): string[] {
  const out = new Set<string>(ODD_VERSIONS);
  while (out.size < n) {
    out.add(rng.pick(PREFIXES) + rng.pick(EPOCHS) + rng.pick(RELEASES) + rng.pick(PRES) + rng.pick(POSTS) + rng.pick(DEVS) + rng.pick(LOCALS));
  }
  return [...out];
}

/** Specifier clauses: every operator over the version pool, wildcards, odd spellings and mistakes. */
function clausePool(rng: ReturnType<typeof random>, versions: readonly string[], n: number): string[] {
  const ops = ['==', '!=', '<=', '>=', '<', '>', '~=', '==', '!=', '<=', '>=', '<', '>', '~=', '>=', '<', '==', '===', '=', '=>', ''];
  const odd = [
    '~=1', '~=1.0', '~=v1.4', '~=1.4.5.preview1', '~=1.4.5c1', '~=1.4.RC1', '~=1.4.5a4', '~=2!1.4', '~=v2!1.4.1', '~=1.4.5.post4', '~=1.4.5-4',
    '==1.0.*', '!=1.0.*', '==v1.*', '==1.*', '==1.2.*', '!=1.2.*', '==2!1.*', '==1.0.0.*', '==0.*', '==1.0.*.*', '==1.0a1.*', '>=1.0.*',
    '==1.0+local', '==1.0+ubuntu.1', '!=1.0+ubuntu.1', '<=1.0+local', '===1.0', '===foo', '=== 1.0', '===1.0a1', '===1.0+ubuntu.1', '===v1.0',
    '===', '==', '>= 1.0', '>=\t1.0', '< 2', '1.0', '>=1.0 <2.0', '<3.1', '>3.1', '<3.1rc1', '>3.1.post1', '<=3.1', '>=3.1.dev0', '==3.1.*',
    '<1.0.dev0', '>1.0a1', '==1.0a1', '<1!1.0', '>0!2', '~=0.0.1', '~=1.2.3.4', '== 1.2.*', '==1.2.* ', ' ==1.2', '==1.2;', '==1.2)',
    '==1.0.post1', '!=1.0.post1', '>1.0', '>1.0.post0', '<1.0+local', '>=1.0+local', '~=1.0+local', '==1.0.*+local',
  ];
  const out = new Set<string>(odd);
  const valid = versions.filter(v => parseVersion(v) !== undefined);
  while (out.size < n) {
    const op = rng.pick(ops);
    let v = rng.next() < 0.9 ? rng.pick(valid).trim() : rng.pick(versions);
    if (rng.next() < 0.85) {
      // Mostly what each operator allows: locals only with == and !=, ~= with two numbers.
      if (!['==', '!=', '==='].includes(op)) v = v.replace(/\+.*$/, '');
      if (op === '~=' && !/^[^.]*[0-9]\.[0-9]/.test(v.replace(/^.*!/, ''))) v = v.replace(/^((?:[vV]?[0-9]+!)?[vV]?[0-9]+)/, '$1.0');
    }
    if (rng.next() < (['==', '!='].includes(op) ? 0.4 : 0.03)) v = (rng.next() < 0.8 ? /^[^0-9]*(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*/.exec(v)?.[0] ?? v : v) + '.*';
    out.add(op + (rng.next() < 0.1 ? ' ' : '') + v);
  }
  return [...out];
}

function specifierSetPool(rng: ReturnType<typeof random>, clauses: readonly string[], n: number): string[] {
  const out = new Set<string>(['', ' ', ',', '>=1.0,', ',<2', '>=1.0,,<2.0', '>=1.0, <2.0', '>=1.0 ,<2.0, !=1.5.*', '>=1.0;<2']);
  while (out.size < n) {
    const x = rng.next();
    const k = x < 0.55 ? 1 : x < 0.9 ? 2 : 3;
    out.add(Array.from({ length: k }, () => rng.pick(clauses)).join(rng.pick([',', ', ', ' , '])));
  }
  return [...out];
}

/** What a call gave: true/false, or the kind of error it threw. */
function outcome(f: () => boolean | undefined): string {
  try {
    const r = f();
    return r === undefined ? 'none' : r ? 'T' : 'F';
  } catch (e) {
    const m = (e as Error).message;
    return m.startsWith('Invalid version') ? 'bad-version' : m.startsWith('Invalid specifier') ? 'bad-specifier' : `error: ${m}`;
  }
}

/** Versions next to `text` (a version, perhaps with an operator or `.*`): where the rules have corners. */
function neighbours(text: string): string[] {
  const v = parseVersion(text.replace(/^[\^~=<>! ]+/, '').replace(/(\.\*)+$/, ''));
  if (!v) return [];
  const epoch = v.epoch ? `${v.epoch}!` : '';
  const base = epoch + v.release.join('.');
  const pub = v.text.split('+')[0];
  const bumped = (d: bigint) => epoch + [...v.release.slice(0, -1), v.release[v.release.length - 1] + d].join('.');
  const out = [v.text, pub, `${pub}+zzz`, `${pub}+0`, base, `${base}.post1`, `${base}+local`, `${base}a1`, `${base}.dev0`, `${base}.0`, bumped(1n), `${bumped(1n)}.dev0`];
  if (v.release[v.release.length - 1] > 0n) out.push(bumped(-1n), `${bumped(-1n)}.post1`);
  const pre = v.pre ? `${v.pre.letter}${v.pre.number}` : '';
  if (v.pre) out.push(`${base}${v.pre.letter}${v.pre.number + 1n}`, `${base}${pre}.post1`);
  if (v.post) out.push(`${base}${pre}.post${v.post.number + 1n}`, `${base}${pre}.post${v.post.number + 1n}+local`);
  if (v.dev !== undefined) out.push(`${base}${pre}.dev${v.dev + 1n}`);
  if (!v.post && v.dev === undefined) out.push(`${pub}.post1`, `${pub}.post1+x`);
  return out;
}

/** Lists the cases where ours and the reference differ (empty when they agree), for a readable failure. */
function differences<C>(cases: readonly C[], ours: readonly unknown[], theirs: readonly unknown[]) {
  expect(theirs).toHaveLength(cases.length);
  expect(ours).toHaveLength(cases.length);
  const same = (i: number) => JSON.stringify(ours[i]) === JSON.stringify(theirs[i]);
  return cases.flatMap((c, i) => same(i) ? [] : [{ case: c, ours: ours[i], reference: theirs[i] }]).slice(0, 25);
}

const rng = random(440);
const VERSIONS = versionPool(rng, 700);
const VALID_VERSIONS = VERSIONS.filter(v => parseVersion(v) !== undefined);
const CLAUSES = clausePool(rng, VERSIONS, 400);
const SETS = specifierSetPool(rng, CLAUSES, 700);

describe('PEP 440 versions, checked against packaging.version', () => {
  test('parsing and normalisation agree on every string of the pool', () => {
    const theirs = askPython<Array<string | null>>(`
import json, sys
from packaging.version import Version, InvalidVersion
def norm(s):
    try: return str(Version(s))
    except InvalidVersion: return None
print(json.dumps([norm(s) for s in json.load(sys.stdin)]))
`, VERSIONS);
    const ours = VERSIONS.map(v => parseVersion(v)?.text ?? null);
    expect(differences(VERSIONS, ours, theirs)).toEqual([]);
    expect(theirs.filter(x => x === null).length).toBeGreaterThan(25); // the pool has invalid strings too
  });

  test('ordering agrees: a shuffled pool sorts the same, and every pair of a sample compares the same', () => {
    const shuffled = random(7).shuffle(VALID_VERSIONS);
    const sample = shuffled.slice(0, 160);
    const theirs = askPython<{ order: number[]; pairs: string[] }>(`
import json, sys
from packaging.version import Version
data = json.load(sys.stdin)
vs = [Version(s) for s in data['all']]
order = sorted(range(len(vs)), key=lambda i: vs[i])
sample = [Version(s) for s in data['sample']]
pairs = [''.join('<' if a < b else '>' if a > b else '=' for b in sample) for a in sample]
print(json.dumps({'order': order, 'pairs': pairs}))
`, { all: shuffled, sample });
    const ours = shuffled.map((_, i) => i).sort((i, j) => compareVersionStrings(shuffled[i], shuffled[j]));
    expect(ours.map(i => shuffled[i])).toEqual(theirs.order.map(i => shuffled[i]));
    const symbol = (c: number) => (c < 0 ? '<' : c > 0 ? '>' : '=');
    const ourPairs = sample.map(a => sample.map(b => symbol(compareVersionStrings(a, b))).join(''));
    expect(differences(sample, ourPairs, theirs.pairs)).toEqual([]);
    expect(sample.length * sample.length).toBe(25_600);
  });

  test('hand-checked orderings', () => {
    expect(compareVersionStrings('3.9.0', '3.11.0a7')).toBe(-1);
    expect(compareVersionStrings('1.0', '1.0.0')).toBe(0);
    expect(compareVersionStrings('1.0.dev0', '1.0a0')).toBe(-1);
    expect(compareVersionStrings('1.0a1.post1', '1.0a2.dev0')).toBe(-1);
    expect(compareVersionStrings('1.0', '1.0.post0.dev0')).toBe(-1);
    expect(compareVersionStrings('1.0+abc', '1.0+1')).toBe(-1); // text segments sort before numbers
    expect(compareVersionStrings('1!0.1', '2.0')).toBe(1);
    expect(parseVersion(' V1.0-1_dev+Ubuntu-01 ')?.text).toBe('1.0.post1.dev0+ubuntu.1');
    expect(() => compareVersionStrings('1.0', 'one')).toThrow('Invalid version: "one"');
  });
});

describe('PEP 440 specifiers, checked against packaging.specifiers.SpecifierSet.contains', () => {
  test('thousands of (version, specifier set, prereleases) cases agree', () => {
    const r = random(508);
    const cases: Array<[string, string, boolean | null]> = [];
    for (let i = 0; i < 12_000; i++) {
      const set = r.pick(SETS);
      // Most versions are near one the set names, so that boundaries get tested.
      const near = neighbours(r.pick(set.split(',')).trim());
      const version = near.length && r.next() < 0.7 ? r.pick(near) : r.pick(VALID_VERSIONS);
      cases.push([r.next() < 0.04 ? r.pick(VERSIONS) : version, set, r.pick([null, null, true, false])]);
    }
    const theirs = askPython<string[]>(`
import json, sys
from packaging.specifiers import SpecifierSet, InvalidSpecifier
from packaging.version import InvalidVersion
def check(v, s, pre):
    try: spec = SpecifierSet(s)
    except InvalidSpecifier: return 'bad-specifier'
    try: return 'T' if spec.contains(v, prereleases=pre) else 'F'
    except InvalidVersion as e:
        # (packaging 25) an === clause that is not a version, or else the version itself
        arbitrary = ['Invalid version: %r' % c.version for c in spec if c.operator == '===']
        return 'arbitrary-not-a-version' if str(e) in arbitrary else 'bad-version'
print(json.dumps([check(*c) for c in json.load(sys.stdin)]))
`, cases);
    // packaging 25 raises InvalidVersion when a set with an \`===text\` clause decides on
    // pre-releases by itself; we answer false there (the clause matches no version).
    const reference = theirs.map(x => (x === 'arbitrary-not-a-version' ? 'F' : x));
    const ours = cases.map(([v, s, pre]) => outcome(() => satisfies(v, s, { prereleases: pre ?? undefined })));
    expect(differences(cases, ours, reference)).toEqual([]);
    // The cases cover every answer, and enough of each.
    const count = (x: string) => theirs.filter(t => t === x).length;
    expect(count('T')).toBeGreaterThan(1500);
    expect(count('F')).toBeGreaterThan(1500);
    expect(count('bad-specifier')).toBeGreaterThan(300);
    expect(count('bad-version')).toBeGreaterThan(10);
  });

  test.each([
    ['1.0.post1', '>1.0', undefined, false], // > excludes post-releases of the version it names
    ['1.0.post1', '>1.0.post0', undefined, true],
    ['1.0+local', '>1.0', undefined, false],
    ['1.0+local', '<=1.0', undefined, true],
    ['3.1.dev0', '<3.1', true, false], // < excludes pre-releases of the version it names...
    ['3.0.dev0', '<3.1', true, true],
    ['3.1a1', '<3.1rc1', undefined, true], // ...unless it names one, which also admits pre-releases
    ['2.0b1', '>=1.0', undefined, false],
    ['2.0b1', '>=1.0', true, true],
    ['1.4.9', '~=1.4.5', undefined, true],
    ['1.5.0', '~=1.4.5', undefined, false],
    ['1.2.0+ubuntu.1', '==1.2', undefined, true],
    ['1.2.0', '==1.2+ubuntu.1', undefined, false],
    ['1.2.7', '==1.2.*', undefined, true],
    ['1.2.7', '!=1.2.*,>=1.0', undefined, false],
    ['1.0', '===1.0', undefined, true],
    ['1.0.0', '===1.0', undefined, false],
  ])('%s in %p (prereleases %p) -> %p', (version, spec, prereleases, expected) => {
    expect(satisfies(version, spec, { prereleases })).toBe(expected);
  });

  test('an invalid specifier is an error quoting it', () => {
    expect(() => satisfies('1.0', '>=1.0, =>2')).toThrow('Invalid specifier: "=>2"');
    expect(() => parseSpecifierSet('~=1')).toThrow('"~=1"');
    expect(() => satisfies('one', '>=1')).toThrow('Invalid version: "one"');
  });
});

describe('PEP 508 marker comparisons, checked against packaging.markers', () => {
  test('version-valued comparisons agree, in both orientations, and with the string fallback', () => {
    const r = random(1508);
    const lefts = [...VALID_VERSIONS.slice(0, 120), '', 'linux', 'x86_64', '5.10.0-amzn2.x86_64', '3.11', '3.9.0', '3.11.0a7'].map(s => s.trim());
    const rights = [...CLAUSES.map(c => c.replace(/^[=!<>~ ]+/, '')), '3.11.0a7', '3.*', '3.10.*', 'linux', '3.8 3.9 3.10', '', 'a'].filter(s => !/["'\\]|\s/.test(s));
    const ops = ['==', '!=', '<', '<=', '>', '>=', '~=', '===', 'in', 'not in'];
    const cases: Array<[string, string, string, boolean]> = [];
    for (let i = 0; i < 4000; i++) cases.push([r.pick(lefts), r.pick(ops), r.pick(rights), r.next() < 0.5]);
    const theirs = askPython<string[]>(`
import json, operator, sys
from packaging.markers import Marker, UndefinedComparison
from packaging.version import InvalidVersion
strings = {'==': operator.eq, '!=': operator.ne, '<': operator.lt, '<=': operator.le, '>': operator.gt, '>=': operator.ge, '===': operator.eq}
def check(value, op, literal, literal_first):
    marker = f'"{literal}" {op} python_full_version' if literal_first else f'python_full_version {op} "{literal}"'
    lhs, rhs = (literal, value) if literal_first else (value, literal)
    try: return 'T' if Marker(marker).evaluate({'python_full_version': value}) else 'F'
    except UndefinedComparison: return 'undefined-comparison'
    except InvalidVersion:
        # packaging 25 stops here; we compare the strings, as it does when rhs is no specifier
        # (and ~= has no string meaning)
        if op not in strings: return 'undefined-comparison'
        return 'string:' + ('T' if strings[op](lhs, rhs) else 'F')
print(json.dumps([check(*c) for c in json.load(sys.stdin)]))
`, cases);
    const ours = cases.map(([value, op, literal, literalFirst]) => {
      const marker = literalFirst ? `"${literal}" ${op} python_full_version` : `python_full_version ${op} "${literal}"`;
      const [lhs, rhs] = literalFirst ? [literal, value] : [value, literal];
      const result = outcome(() => evaluateMarker(marker, { python_full_version: value }));
      if (result.startsWith('error:')) return 'undefined-comparison';
      return markerVersionCompare(lhs, op, rhs) === undefined && parseSpecifierSetOk(op + rhs) ? `string:${result}` : result;
    });
    expect(differences(cases, ours, theirs)).toEqual([]);
    const count = (p: string) => theirs.filter(t => t.startsWith(p)).length;
    expect([count('T'), count('F'), count('string:'), count('undefined')].every(n => n > 100)).toBe(true);
  });

  test('the comparisons that used to go wrong', () => {
    const env = { python_full_version: '3.9.0', python_version: '3.9', platform_release: '' };
    expect(evaluateMarker('python_full_version < "3.11.0a7"', env)).toBe(true); // as strings "3.9.0" > "3.11.0a7"
    expect(evaluateMarker('python_version > "3.10"', { ...env, python_version: '3.11' })).toBe(true);
    expect(evaluateMarker('python_version == "3.9.0"', env)).toBe(true);
    expect(evaluateMarker('python_full_version != "3.9.*"', env)).toBe(false);
    expect(evaluateMarker('"3.8" < python_version', env)).toBe(true);
    expect(markerVersionCompare('3.11.0', '<', '3.11.0a7')).toBe(false);
    expect(markerVersionCompare('3.11.0rc1', '>=', '3.11')).toBe(false); // pre-releases do compare: 3.11.0rc1 < 3.11
    expect(markerVersionCompare('linux', '==', 'linux')).toBeUndefined();
    expect(evaluateMarker('platform_release < "5"', env)).toBe(true); // "" < "5" as strings
    expect(() => evaluateMarker('python_version ~= "3"', env)).toThrow(/needs versions/);
  });
});

/** Whether `text` parses as one specifier (so that a version/non-version mix is what made it undefined). */
function parseSpecifierSetOk(text: string): boolean {
  try {
    return !text.includes(',') && parseSpecifierSet(text).length === 1;
  } catch {
    return false;
  }
}

describe('Poetry constraints, checked against poetry-core', () => {
  // Lower-case spellings only: poetry-core 2.5 keeps the case of a pre-release letter it
  // does not know (1.0RC1 != 1.0rc1 there), which we do not copy.
  const r = random(2024);
  const releases = ['0', '1', '0.0', '0.2', '1.2', '2.0', '0.0.3', '0.2.3', '1.2.3', '1.2.0', '2.0.0', '1.2.3.4', '3.9', '3.10', '3.11.2', '1!1.2'];
  const suffixes = ['', '', '', '', 'a1', 'rc1', 'b2', '.post1', '.dev0', '.dev1', 'a1.dev1', '.post1.dev1', '+local', '.post2+abc.1'];
  const ops = ['^', '~', '~=', '', '==', '=', '!=', '>=', '>', '<=', '<', '<>', '^ ', '>= ', 'v'];
  const single = () => {
    const x = r.next();
    if (x < 0.15) return r.pick(['', '==', '!=']) + r.pick(['1', '1.2', '0.2', '1.2.3', '3', '1!1', '1.2.3.4']) + '.*';
    return r.pick(ops) + r.pick(releases) + (x < 0.7 ? '' : r.pick(suffixes));
  };
  const ODD = [
    '*', 'x', 'x.X', '*.*', 'v*', '^0.0', '^0', '^0.0.0', '^0.2.3', '^0.0.3', '^0.0.3.4', '^1.2.3a1', '~1', '~1.2', '~1.2.3.4', '~1.2a1', '~=1', '~=1.4.5a4',
    '>= 1.2, < 1.5', '>=1.2 <2.0', '>=1.2 <2.0,', ' ^1.2 ', 'dev', '>=dev', 'DEV', '1.2.3a1.*', '!=1.2.*', '!=1.2.3a1.*', '1.0.dev1.*', '1.0.post1.*',
    '1.0.post1.dev1.*', '1.2+abc.*', '1.*.*', 'v1.2', '~ 1.2', '>=1.0.*', '<1.0.*', '<>1.0', '1.0 - 2.0', '1.0-  2.0', '>=1.0,,<2', '', ' ', '||', '1.x',
    '^1.2 || ^2.0', '^1.2 | ^2.0', '>=3.8,<3.9 || >=3.10', '>=1.0,!=1.5', '!=1.5,!=1.5.0', '!=1.5,!=1.6', '>=1.0,<=1.0', '>1.0,<1.0.post1', '<1.0.post1',
    '<1.0+local', '>=1.0+local', '==1.0+local', '>1.0.post1', '>1.0a1', '>1.0.dev1', '>1.0+local', '<=1.0+local', '^3.9', '>=3.9,<4.0', '===1.0', '=>1.0', '1.0,', '1.0 ,', '>=1.0 , <2', '>=1.0 ,<2', '>= 1.0,< 2',
  ];
  const constraints = [...ODD];
  while (constraints.length < 500) {
    const x = r.next();
    constraints.push(x < 0.45 ? single() : x < 0.8 ? [single(), single()].join(r.pick([',', ', ', ' ', ' , '])) : [single(), single()].join(r.pick([' || ', '||', ' | '])));
  }
  const cases: Array<[string, string]> = [];
  for (let i = 0; i < 10_000; i++) {
    const c = i < 5000 ? constraints[i % constraints.length] : r.pick(constraints); // each one at least ten times
    const near = neighbours(r.pick(c.split(/\|\||,/)).trim().replace(/^v/, ''));
    cases.push([near.length && r.next() < 0.8 ? r.pick(near) : r.pick(releases) + r.pick(suffixes), c]);
  }
  const theirs = askPython<string[]>(`
import json, sys, warnings
warnings.simplefilter('ignore')
from poetry.core.constraints.version import parse_constraint, Version
def check(v, c):
    try: constraint = parse_constraint(c)
    except ValueError: return 'bad-constraint'
    return 'T' if constraint.allows(Version.parse(v)) else 'F'
print(json.dumps([check(*c) for c in json.load(sys.stdin)]))
`, cases);

  test('satisfiesPoetry agrees with parse_constraint(c).allows(Version.parse(v)) on thousands of cases', () => {
    const ours = cases.map(([v, c]) => {
      const o = outcome(() => satisfiesPoetry(v, c));
      return o.startsWith('error: Invalid Poetry constraint') ? 'bad-constraint' : o;
    });
    expect(differences(cases, ours, theirs)).toEqual([]);
    const count = (x: string) => theirs.filter(t => t === x).length;
    expect(count('T')).toBeGreaterThan(1500);
    expect(count('F')).toBeGreaterThan(1500);
    expect(count('bad-constraint')).toBeGreaterThan(100);
  });

  test('poetryToPep440 gives sets that packaging reads and that agree with Poetry, but for documented corners', () => {
    const valid = cases.flatMap((c, i) => theirs[i] === 'bad-constraint' ? [] : [{ c, reference: theirs[i] }]);
    const ours = valid.map(({ c: [v, constraint] }) => poetryToPep440(constraint).some(set => satisfies(v, set, { prereleases: true })) ? 'T' : 'F');
    // Where PEP 440 cannot say what Poetry means: a post-release or a local build near an
    // exclusive bound (`>2.0a1` admits 2.0.post1 and `>1.0.dev1` admits 1.0+local in Poetry,
    // not in PEP 440, whose `>V` excludes every post-release and local build of V's release
    // numbers; `>=1,!=1.5` excludes 1.5.post1 in Poetry, not in PEP 440), and local labels in
    // ordered bounds (`>=1.0+local`), which PEP 440 forbids and poetryToPep440 drops.
    const documented = ({ c: [v, constraint] }: { c: [string, string] }) => {
      const parsed = parseVersion(v)!;
      return parsed.post !== undefined || parsed.local !== undefined || constraint.includes('+');
    };
    const strict = valid.filter(x => !documented(x));
    expect(differences(strict, ours.filter((_, i) => !documented(valid[i])), strict.map(x => x.reference))).toEqual([]);
    expect(strict.length).toBeGreaterThan(5000);
    // Those corners are rare, and the check above must not be an empty one.
    const corners = valid.filter((x, i) => documented(x) && ours[i] !== x.reference);
    expect(corners.length).toBeGreaterThan(0);
    expect(corners.length).toBeLessThan(valid.length / 200);
  });

  test.each([
    ['^1.2.3', ['>=1.2.3,<2.0.0']],
    ['^1.2', ['>=1.2,<2.0']],
    ['^0.2.3', ['>=0.2.3,<0.3.0']],
    ['^0.0.3', ['>=0.0.3,<0.0.4']],
    ['^0.0', ['>=0.0,<0.1']],
    ['^0', ['>=0,<1']],
    ['~1.2.3', ['>=1.2.3,<1.3.0']],
    ['~1.2', ['>=1.2,<1.3']],
    ['~1', ['>=1,<2']],
    ['*', ['']],
    ['1.*', ['==1.*']],
    ['1.2.*', ['==1.2.*']],
    ['!=1.2.*', ['!=1.2.*']],
    ['1.2', ['==1.2']],
    ['>=1.2 <2.0', ['>=1.2,<2.0']],
    ['>= 1.2, < 1.5', ['>=1.2,<1.5']],
    ['^1.2 || ^2.0', ['>=1.2,<2.0', '>=2.0,<3.0']],
    ['!=1.5', ['!=1.5']],
    ['^3.9', ['>=3.9,<4.0']],
    ['1.2.3a1.*', ['>=1.2.3a1.dev0,<1.2.3a2.dev0']],
    ['!=1.2.3a1.*', ['<1.2.3a1.dev0', '>=1.2.3a2.dev0']],
    ['<1.0.post1', ['<1.0.post1.dev0']], // PEP 440's <1.0.post1 would also exclude 1.0a1
  ])('Poetry %p is PEP 440 %p', (constraint, expected) => {
    expect(poetryToPep440(constraint)).toEqual(expected);
  });

  test.each([
    ['2.0.0', '^1.2.3', false],
    ['1.9.9', '^1.2.3', true],
    ['0.2.9', '^0.2.3', true],
    ['0.3.0', '^0.2.3', false],
    ['0.0.4', '^0.0.3', false],
    ['2.0a1', '^1.2', false], // <2.0 excludes 2.0's pre-releases
    ['2.0.0rc1', '>=1.0', true], // a constraint does not filter pre-releases in Poetry
    ['1.3.0', '~1.2', false],
    ['3.12.1', '>=3.9,<4.0', true],
    ['1.5.post1', '>=1.0,!=1.5', false],
    ['1.5.post1', '!=1.5', true],
  ])('%s in Poetry %p -> %p', (version, constraint, expected) => {
    expect(satisfiesPoetry(version, constraint)).toBe(expected);
  });

  test('an unreadable constraint is an error quoting it', () => {
    expect(() => poetryToPep440('>=1.0,,<2')).toThrow('Invalid Poetry constraint: ">=1.0,,<2"');
    expect(() => satisfiesPoetry('1.0', '1.0 - 2.0')).toThrow('Invalid Poetry constraint: "1.0 - 2.0"');
  });
});
