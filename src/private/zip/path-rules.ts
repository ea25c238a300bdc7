/**
 * Exclude patterns for the files that go into a zip.
 *
 * A small, documented subset of .gitignore syntax:
 * - `*` matches within one path segment, `?` one character, `**` any number of segments;
 * - a pattern ending in `/` matches directories only (and so their whole subtree);
 * - a pattern starting with `/` is anchored at the root of the tree; any other pattern
 *   matches at any depth (`*.dist-info/RECORD` matches `a/b-1.0.dist-info/RECORD` too);
 * - patterns apply to files and to directories; an excluded directory is not walked.
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
];

interface CompiledPattern {
  readonly source: string;
  readonly dirOnly: boolean;
  readonly regex: RegExp;
}

export class PathRules {
  private readonly patterns: CompiledPattern[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map(compilePattern);
  }

  /** True when the relative path (with `/` separators) is excluded. */
  public excludes(relPath: string, isDirectory: boolean): boolean {
    return this.patterns.some(p => (isDirectory || !p.dirOnly) && p.regex.test(relPath));
  }
}

function compilePattern(pattern: string): CompiledPattern {
  let body = pattern.trim();
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
  return { source: pattern, dirOnly, regex: new RegExp(`${prefix}${re}$`, 's') };
}
