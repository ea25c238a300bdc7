import * as fs from 'fs';
import * as path from 'path';
import { PathRules } from './path-rules';
import { readListing, writeListing } from './tree-listing';

/** One folder whose contents go into the zip, optionally under a path prefix. */
export interface SourceTree {
  /** Absolute or cwd-relative folder. */
  readonly dir: string;
  /** Path inside the zip to put the folder's contents under, e.g. `python`. Empty means the root. */
  readonly prefix?: string;
  /** Exclude patterns for this folder only, on top of the ones for every folder. */
  readonly excludes?: string[];
  /**
   * A folder of .pyc files compiled for the bundle (see bytecode.ts): `__pycache__/` and
   * `*.pyc`, which are otherwise always left out, are what it is for.
   */
  readonly bytecode?: boolean;
  /**
   * A folder where this tree's file list is kept for the next zip, for a tree that never
   * changes while the folder exists (a cached dependency tree): the tree is walked once per
   * set of rules, not on every zip (see tree-listing.ts).
   */
  readonly listing?: string;
}

/** A file as it will be stored: its path in the zip and where its bytes come from. */
export interface CollectedFile {
  /** Relative path inside the zip, `/`-separated. */
  readonly zipPath: string;
  /** Absolute path of the bytes to store (a symlink inside the tree is resolved to its file). */
  readonly sourcePath: string;
  readonly size: number;
  readonly executable: boolean;
}

/** Told about each file or folder the rules leave out (for audits; costs a second pattern pass). */
export type ExcludedObserver = (zipPath: string, sourcePath: string, isDirectory: boolean, pattern: string) => void;

/**
 * Lists the files of the source trees that the rules keep, sorted by the bytes of their
 * UTF-8 zip path, which is the order the zip must have whatever the file system returns.
 *
 * @throws Error for a symlink that leaves its tree or loops, a dangling symlink, a special
 * file, a name that is not UTF-8 or holds a backslash, or two trees that both provide the
 * same zip path.
 */
export function collectFiles(sources: readonly SourceTree[], excludes: readonly string[], onExcluded?: ExcludedObserver): CollectedFile[] {
  const byZipPath = new Map<string, { file: CollectedFile; tree: string }>();
  for (const source of sources) {
    const root = path.resolve(source.dir);
    let rootReal: string;
    try {
      rootReal = fs.realpathSync(root);
    } catch {
      throw new Error(`Source folder ${root} does not exist; check the path you gave.`);
    }
    if (!fs.statSync(rootReal).isDirectory()) {
      throw new Error(`Source ${root} is not a folder; give the folder that holds the files to zip.`);
    }
    const prefix = normalizePrefix(source.prefix);
    const observer: ExcludedObserver | undefined = onExcluded && ((rel, abs, dir, p) => onExcluded(prefix + rel, abs, dir, p));
    const own = source.bytecode ? excludes.filter(e => e !== '__pycache__/' && e !== '*.pyc') : excludes;
    const rules = [...own, ...(source.excludes ?? [])];
    // An audit wants to hear about every excluded path, which only a walk sees.
    const listing = observer ? undefined : source.listing;
    let files = listing ? readListing(listing, root, rootReal, rules) : undefined;
    if (!files) {
      files = new TreeWalker(root, rootReal, new PathRules(rules), observer).walk();
      if (listing) writeListing(listing, root, rootReal, rules, files);
    }
    for (const file of files) {
      const zipPath = prefix + file.zipPath;
      const existing = byZipPath.get(zipPath);
      if (existing) {
        throw new Error(
          `Both ${existing.tree} and ${root} provide ${zipPath}; a zip cannot hold the same path twice. ` +
          'Remove one of them or exclude it.');
      }
      byZipPath.set(zipPath, { file: { ...file, zipPath }, tree: root });
    }
  }
  return [...byZipPath.values()]
    .map(v => v.file)
    .sort((a, b) => compareZipPaths(a.zipPath, b.zipPath));
}

/**
 * Orders zip paths by the bytes of their UTF-8 encoding (not by UTF-16 code units or locale),
 * without encoding them: a sort of thousands of paths encoded two per comparison, which
 * took longer than the rest of a handler edit's file list. UTF-8 byte order is code point
 * order, and so is UTF-16 code unit order except where a surrogate (half of a code point
 * above U+FFFF) meets a unit from U+E000 to U+FFFF: the surrogate's code point is the larger.
 */
export function compareZipPaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const surrogateX = x < 0xe000;
      if (surrogateX !== y < 0xe000) return surrogateX ? 1 : -1;
    }
    return x - y;
  }
  return a.length - b.length;
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed.split('/').some(s => s === '' || s === '.' || s === '..')) {
    throw new Error(`Zip path prefix ${JSON.stringify(prefix)} must be a plain relative path such as "python".`);
  }
  return trimmed + '/';
}

class TreeWalker {
  constructor(
    private readonly root: string,
    private readonly rootReal: string,
    private readonly rules: PathRules,
    private readonly onExcluded?: ExcludedObserver) {}

  public walk(): CollectedFile[] {
    const out: CollectedFile[] = [];
    this.walkDir(this.root, '', [this.rootReal], out);
    return out;
  }

  private walkDir(dirAbs: string, relDir: string, realStack: string[], out: CollectedFile[]) {
    for (const raw of fs.readdirSync(dirAbs, { encoding: 'buffer' })) {
      const name = raw.toString('utf8');
      const abs = path.join(dirAbs, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const badName = !Buffer.from(name, 'utf8').equals(raw) ? 'is not valid UTF-8' : name.includes('\\') ? 'holds a backslash' : undefined;
      if (badName) {
        // Excluded names are fine; a kept one cannot be stored faithfully. A name that is
        // not UTF-8 cannot even be opened through Node's string paths.
        if (this.rules.excludes(rel, false) || this.rules.excludes(rel, true)) continue;
        throw new Error(`${path.join(dirAbs, escapeName(raw))}: the file name ${badName}. ` +
          (badName.startsWith('holds')
            ? 'Zip tools and our nested-bundle loader read a backslash as a folder separator, so the file could unpack somewhere else or not at all. '
            : 'A zip entry name must be UTF-8 for Lambda to unpack it under the same name. ') +
          'Rename the file, or leave it out (the `exclude` bundling option; possum: --exclude PATTERN).');
      }
      const lst = fs.lstatSync(abs);
      let realPath = abs;
      if (lst.isSymbolicLink()) {
        realPath = this.resolveLink(abs, rel);
      }
      const st = lst.isSymbolicLink() ? fs.statSync(realPath) : lst;
      if (st.isDirectory()) {
        if (this.skip(rel, abs, true)) continue;
        // A folder that is not a link is where its parent's real path says: no need to ask.
        const dirReal = lst.isSymbolicLink() ? realPath : path.join(realStack[realStack.length - 1], name);
        if (realStack.includes(dirReal)) {
          throw new Error(
            `Symlink ${abs} points to ${fs.readlinkSync(abs)}, a folder that contains it, so the tree would loop forever. ` +
            'Remove the link or exclude it.');
        }
        this.walkDir(abs, rel, [...realStack, dirReal], out);
      } else if (st.isFile()) {
        if (this.skip(rel, abs, false)) continue;
        out.push({
          zipPath: rel,
          sourcePath: realPath,
          size: st.size,
          executable: (st.mode & 0o111) !== 0,
        });
      } else {
        if (this.skip(rel, abs, false)) continue;
        throw new Error(`${abs} is not a regular file or folder (a socket, FIFO or device); remove it or exclude it.`);
      }
    }
  }

  private skip(rel: string, abs: string, isDirectory: boolean): boolean {
    if (!this.rules.excludes(rel, isDirectory)) return false;
    if (this.onExcluded) this.onExcluded(rel, abs, isDirectory, this.rules.excludedBy(rel, isDirectory)!);
    return true;
  }

  /** Resolves a symlink that must stay inside the tree, or throws naming the link and its target. */
  private resolveLink(abs: string, rel: string): string {
    const target = fs.readlinkSync(abs);
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch (e: any) {
      if (e.code === 'ELOOP') {
        throw new Error(`Symlink ${abs} (${rel}) points to ${target}, which loops back on itself. Remove the link or exclude it.`);
      }
      throw new Error(`Symlink ${abs} (${rel}) points to ${target}, which does not exist. Remove the link or exclude it.`);
    }
    if (real !== this.rootReal && !real.startsWith(this.rootReal + path.sep)) {
      throw new Error(
        `Symlink ${abs} (${rel}) points to ${target} (${real}), outside the folder being zipped (${this.root}). ` +
        'Only links to files inside that folder are stored; copy the file in or remove the link.');
    }
    return real;
  }
}

/** A file name for messages: printable ASCII kept, every other byte as \xNN. */
function escapeName(raw: Buffer): string {
  let out = '';
  for (const b of raw) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
