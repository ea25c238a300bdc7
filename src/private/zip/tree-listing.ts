import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { CollectedFile } from './collect';
import { writeFileAtomic } from '../atomic-file';

/**
 * The file list of a tree that never changes (a cached dependency tree), remembered per set of
 * exclude rules, so that the next zip of the tree need not walk it again. A handler edit of a
 * function with thousands of dependency files otherwise spends more time listing them (a
 * `readdir` per folder, an `lstat` per file) than copying their compressed bytes.
 *
 * Listings are kept in a folder the caller names beside the tree, and go when the tree goes.
 * Paths are stored relative to the tree, so a cache moved elsewhere keeps them. A listing
 * that cannot be read or does not have the expected shape is ignored: the tree is walked
 * and the listing written again.
 */

const LISTING_FORMAT = 1;

/** [path in the tree, where the bytes are when not there (a symlink's target) or null, size, executable] */
type ListedFile = [string, string | null, number, boolean];

interface Listing {
  readonly format: number;
  readonly rules: readonly string[];
  readonly files: ListedFile[];
}

function listingFile(folder: string, rules: readonly string[]): string {
  return path.join(folder, `${crypto.createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 16)}.json`);
}

/**
 * The remembered files of the tree at `root` (real path `rootReal`) under `rules`, as the walk
 * would give them (paths relative to the tree, before any zip prefix), or undefined.
 */
export function readListing(folder: string, root: string, rootReal: string, rules: readonly string[]): CollectedFile[] | undefined {
  let listing: Listing;
  try {
    listing = JSON.parse(fs.readFileSync(listingFile(folder, rules), 'utf8'));
  } catch {
    return undefined;
  }
  if (listing?.format !== LISTING_FORMAT || !Array.isArray(listing.files) || JSON.stringify(listing.rules) !== JSON.stringify(rules)) {
    return undefined;
  }
  const out: CollectedFile[] = [];
  for (const f of listing.files) {
    if (!Array.isArray(f) || !insideTree(f[0]) || (f[1] !== null && !insideTree(f[1]))
      || !Number.isSafeInteger(f[2]) || f[2] < 0 || typeof f[3] !== 'boolean') {
      return undefined;
    }
    out.push({ zipPath: f[0], sourcePath: f[1] === null ? path.join(root, f[0]) : path.join(rootReal, f[1]), size: f[2], executable: f[3] });
  }
  return out;
}

/** Remembers the files a walk of the tree found under `rules` (never fails: a listing is only a shortcut). */
export function writeListing(folder: string, root: string, rootReal: string, rules: readonly string[], files: readonly CollectedFile[]) {
  const listed = files.map((f): ListedFile => {
    const direct = f.sourcePath === path.join(root, f.zipPath);
    return [f.zipPath, direct ? null : path.relative(rootReal, f.sourcePath).split(path.sep).join('/'), f.size, f.executable];
  });
  try {
    fs.mkdirSync(folder, { recursive: true });
    writeFileAtomic(listingFile(folder, rules), JSON.stringify({ format: LISTING_FORMAT, rules, files: listed } satisfies Listing));
  } catch {
    // A read-only or full cache still zips; the next zip walks the tree again.
  }
}

/** A relative `/`-separated path that stays inside its tree. */
function insideTree(p: unknown): p is string {
  return typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').some(s => s === '' || s === '.' || s === '..');
}
