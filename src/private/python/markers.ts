/**
 * PEP 508 environment markers, evaluated for the Lambda target rather than the build
 * machine, so a lock file installs what Lambda needs (and not, say, a Windows-only
 * dependency whose marker pip would otherwise check against the host).
 */

import { comparePythonStrings, markerVersionCompare, parseSpecifier } from './pep440';
import { clipped } from '../clip';

type Node =
  | { readonly op: 'and' | 'or'; readonly items: readonly Node[] }
  | { readonly op: 'cmp'; readonly left: Operand; readonly cmp: string; readonly right: Operand };
type Operand = { readonly variable: string } | { readonly literal: string };

/** Parentheses nested deeper than this are refused (real markers nest two or three). */
const MAX_DEPTH = 100;
/** Markers longer than this are refused (real ones are under a few hundred characters). */
const MAX_LENGTH = 100_000;

/**
 * True when `marker` holds in `env`. `extras` are the extras active for the package whose
 * dependency carries the marker (`extra == "x"`).
 *
 * Linear in the marker's length: `and`/`or` chains are flat lists (a chain of a million
 * clauses costs no stack), and nesting is bounded.
 * @throws Error naming the marker (clipped) when it cannot be parsed.
 */
export function evaluateMarker(marker: string, env: Record<string, string>, extras: readonly string[] = []): boolean {
  if (marker.length > MAX_LENGTH) {
    throw new Error(`Cannot read the environment marker ${clipped(marker)}: it is longer than ${MAX_LENGTH.toLocaleString('en-US')} characters, ` +
      'far beyond any real one; check the manifest that holds it.');
  }
  const tokens = tokenize(marker);
  let pos = 0;
  let depth = 0;
  const fail = (why: string): never => {
    throw new Error(`Cannot read the environment marker ${clipped(marker)}: ${why}.`);
  };
  const peek = () => tokens[pos];
  /** `next (op next)*` as one flat node: `and` binds tighter because parseOr chains parseAnd. */
  const parseChain = (op: 'and' | 'or', next: () => Node): Node => {
    const items = [next()];
    while (peek() === op) {
      pos++;
      items.push(next());
    }
    return items.length === 1 ? items[0] : { op, items };
  };
  const parseAnd = (): Node => parseChain('and', parseAtom);
  const parseOr = (): Node => parseChain('or', parseAnd);
  const parseOperand = (): Operand => {
    const t = tokens[pos++];
    if (t === undefined) return fail('it ends too early');
    if (t.startsWith('"') || t.startsWith("'")) return { literal: t.slice(1, -1) };
    if (/^[a-z_.]+$/.test(t)) return { variable: t === 'os.name' ? 'os_name' : t === 'sys.platform' ? 'sys_platform' : t };
    return fail(`unexpected ${clipped(t, 60)}`);
  };
  const parseAtom = (): Node => {
    if (peek() === '(') {
      pos++;
      if (++depth > MAX_DEPTH) fail(`parentheses nest deeper than ${MAX_DEPTH} levels`);
      const inner = parseOr();
      if (tokens[pos++] !== ')') fail('a parenthesis is not closed');
      depth--;
      return inner;
    }
    const left = parseOperand();
    let cmp = tokens[pos++];
    if (cmp === 'not' && peek() === 'in') {
      pos++;
      cmp = 'not in';
    }
    if (!['<', '<=', '==', '!=', '>=', '>', '~=', '===', 'in', 'not in'].includes(cmp)) fail(`unknown operator ${clipped(String(cmp), 60)}`);
    return { op: 'cmp', left, cmp, right: parseOperand() };
  };
  const tree = parseOr();
  if (pos !== tokens.length) fail(`unexpected ${clipped(tokens[pos], 60)}`);

  const evaluate = (n: Node): boolean => {
    if (n.op !== 'cmp') return n.op === 'and' ? n.items.every(evaluate) : n.items.some(evaluate);
    const variable = 'variable' in n.left ? n.left.variable : 'variable' in n.right ? n.right.variable : undefined;
    if (variable === 'extra') {
      const literal = 'literal' in n.left ? n.left.literal : 'literal' in n.right ? n.right.literal : '';
      const active = extras.map(normalizeName).includes(normalizeName(literal));
      if (n.cmp === '==') return active;
      if (n.cmp === '!=') return !active;
      return fail('extra can only be compared with == or !=');
    }
    const value = (o: Operand) => 'literal' in o ? o.literal : (o.variable in env ? env[o.variable] : fail(`unknown variable ${o.variable}`));
    const lhs = value(n.left);
    const rhs = value(n.right);
    if (n.cmp === 'in') return rhs.includes(lhs);
    if (n.cmp === 'not in') return !rhs.includes(lhs);
    // As packaging does for any variable: when `cmp + rhs` is a PEP 440 specifier and lhs
    // a version, the specifier decides (3.9.0 < 3.11.0a7, 3.11 > 3.9, 3.11 == 3.11.0).
    const asVersions = markerVersionCompare(lhs, n.cmp, rhs);
    if (asVersions !== undefined) return asVersions;
    // Otherwise Python's string operators. (packaging 25 raises InvalidVersion when rhs is
    // a version but lhs is not, e.g. platform_release "" < "5"; pip would stop there.)
    const order = comparePythonStrings(lhs, rhs);
    switch (n.cmp) {
      case '==': return order === 0;
      // `===` has no string meaning in packaging unless `===rhs` is a specifier (it almost
      // always is; `;` or `)` in rhs make it not).
      case '===': return parseSpecifier(n.cmp + rhs) ? order === 0 : fail('=== cannot compare these');
      case '!=': return order !== 0;
      case '<': return order < 0;
      case '<=': return order <= 0;
      case '>': return order > 0;
      case '>=': return order >= 0;
      default: return fail(`${n.cmp} needs versions on both sides`);
    }
  };
  return evaluate(tree);
}

function tokenize(marker: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|===|==|!=|<=|>=|~=|<|>|"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.]*)/y;
  const trailing = /\s*$/y;
  let i = 0;
  while (i < marker.length) {
    trailing.lastIndex = i;
    if (trailing.test(marker)) break;
    re.lastIndex = i;
    const m = re.exec(marker);
    if (!m) throw new Error(`Cannot read the environment marker ${clipped(marker)}: unexpected text at ${clipped(marker.slice(i, i + 80), 60)}.`);
    tokens.push(m[1]);
    i = re.lastIndex;
  }
  return tokens;
}

/** PEP 503 name normalisation: `Foo.Bar_baz` -> `foo-bar-baz`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
