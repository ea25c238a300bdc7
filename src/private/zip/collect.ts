import * as fs from 'fs';
import * as path from 'path';
import { PathRules } from './path-rules';

/** One folder whose contents go into the zip, optionally under a path prefix. */
export interface SourceTree {
  /** Absolute or cwd-relative folder. */
  readonly dir: string;
  /** Path inside the zip to put the folder's contents under, e.g. `python`. Empty means the root. */
  readonly prefix?: string;
  /** Exclude patterns for this folder only, on top of the ones for every folder. */
  readonly excludes?: string[];
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

/**
 * Lists the files of the source trees that the rules keep, sorted by the bytes of their
 * UTF-8 zip path, which is the order the zip must have whatever the file system returns.
 *
 * @throws Error for a symlink that leaves its tree or loops, a dangling symlink, a special
 * file, or two trees that both provide the same zip path.
 */
export function collectFiles(sources: readonly SourceTree[], excludes: readonly string[]): CollectedFile[] {
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
    const walker = new TreeWalker(root, rootReal, new PathRules([...excludes, ...(source.excludes ?? [])]));
    for (const file of walker.walk()) {
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

/** Orders zip paths by the bytes of their UTF-8 encoding (not by UTF-16 code units or locale). */
export function compareZipPaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
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
    private readonly rules: PathRules) {}

  public walk(): CollectedFile[] {
    const out: CollectedFile[] = [];
    this.walkDir(this.root, '', [this.rootReal], out);
    return out;
  }

  private walkDir(dirAbs: string, relDir: string, realStack: string[], out: CollectedFile[]) {
    for (const name of fs.readdirSync(dirAbs)) {
      const abs = path.join(dirAbs, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const lst = fs.lstatSync(abs);
      let realPath = abs;
      if (lst.isSymbolicLink()) {
        realPath = this.resolveLink(abs, rel);
      }
      const st = lst.isSymbolicLink() ? fs.statSync(realPath) : lst;
      if (st.isDirectory()) {
        if (this.rules.excludes(rel, true)) continue;
        const dirReal = lst.isSymbolicLink() ? realPath : fs.realpathSync(abs);
        if (realStack.includes(dirReal)) {
          throw new Error(
            `Symlink ${abs} points to ${fs.readlinkSync(abs)}, a folder that contains it, so the tree would loop forever. ` +
            'Remove the link or exclude it.');
        }
        this.walkDir(abs, rel, [...realStack, dirReal], out);
      } else if (st.isFile()) {
        if (this.rules.excludes(rel, false)) continue;
        out.push({
          zipPath: rel,
          sourcePath: realPath,
          size: st.size,
          executable: (st.mode & 0o111) !== 0,
        });
      } else {
        if (this.rules.excludes(rel, false)) continue;
        throw new Error(`${abs} is not a regular file or folder (a socket, FIFO or device); remove it or exclude it.`);
      }
    }
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
