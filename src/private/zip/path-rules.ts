/**
 * Exclude patterns for the files that go into a zip.
 *
 * A small, documented subset of .gitignore syntax:
 * - `*` matches within one path segment, `?` one character, `**` any number of segments;
 * - a pattern ending in `/` matches directories only (and so their whole subtree);
 * - a pattern starting with `/` is anchored at the root of the tree; any other pattern
 *   matches at any depth (`*.dist-info/RECORD` matches `a/b-1.0.dist-info/RECORD` too);
 * - patterns apply to files and to directories; an excluded directory is not walked;
 * - a pattern starting with `!` keeps what an earlier pattern excluded; the last pattern
 *   that matches decides. As in git, what is inside an excluded directory cannot be kept
 *   (keep the directory instead: `!.aws/`).
 */

/**
 * What the engine always strips: files that carry the build machine's paths or
 * timestamps and that Python rebuilds or ignores. `*.dist-info` itself stays, since
 * importlib.metadata needs it.
 */
export const ALWAYS_EXCLUDED: readonly string[] = [
  '__pycache__/',
  '*.pyc',
  '*.pyo',
  '*.dist-info/RECORD',
  '*.dist-info/direct_url.json',
  // uv records where a package it built from source came from in its cache: machine-specific.
  '*.dist-info/uv_cache.json',
];

interface CompiledPattern {
  readonly source: string;
  readonly dirOnly: boolean;
  readonly negated: boolean;
  readonly regex: RegExp;
}

export class PathRules {
  private readonly patterns: CompiledPattern[];
  private readonly anyNegated: boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map(compilePattern);
    this.anyNegated = this.patterns.some(p => p.negated);
  }

  /** True when the relative path (with `/` separators) is excluded. */
  public excludes(relPath: string, isDirectory: boolean): boolean {
    if (!this.anyNegated) return this.patterns.some(p => (isDirectory || !p.dirOnly) && p.regex.test(relPath));
    return this.decidingPattern(relPath, isDirectory)?.negated === false;
  }

  /** The pattern that excludes the path (as it was written), or undefined when the path is kept. */
  public excludedBy(relPath: string, isDirectory: boolean): string | undefined {
    const p = this.decidingPattern(relPath, isDirectory);
    return p && !p.negated ? p.source : undefined;
  }

  private decidingPattern(relPath: string, isDirectory: boolean): CompiledPattern | undefined {
    for (let i = this.patterns.length - 1; i >= 0; i--) {
      const p = this.patterns[i];
      if ((isDirectory || !p.dirOnly) && p.regex.test(relPath)) return p;
    }
    return undefined;
  }
}

function compilePattern(pattern: string): CompiledPattern {
  let body = pattern.trim();
  const negated = body.startsWith('!');
  if (negated) body = body.slice(1);
  if (body === '' || body === '/') {
    throw new Error(`Exclude pattern ${JSON.stringify(pattern)} is empty; remove it from the exclude list.`);
  }
  const dirOnly = body.endsWith('/');
  if (dirOnly) body = body.slice(0, -1);
  const anchored = body.startsWith('/');
  if (anchored) body = body.slice(1);

  let re = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '*' && body[i + 1] === '*') {
      if (body[i + 2] === '/') {
        re += '(?:[^/]*/)*';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  const prefix = anchored ? '^' : '^(?:[^/]+/)*';
  return { source: pattern, dirOnly, negated, regex: new RegExp(`${prefix}${re}$`, 's') };
}
