import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from './atomic-file';
import { progress } from './progress';
import { compareZipPaths } from './zip/collect';

/**
 * The user-level build cache, shared by every app and surviving `cdk.out` deletions.
 *
 *   <root>/v2/deps/<key>/       an installed dependency tree: tree/ and entry.json
 *   <root>/v2/index/<key>.json  what a bundle's inputs produced: the zip's sha256 and its report
 *   <root>/v2/zips/<sha256>.zip the bundles themselves, named by their content
 *   <root>/v2/tmp/              private scratch of running builds
 *   <root>/v2/locks/            one lock file per key being built
 *
 * The index is keyed by everything that decides a bundle (installer version and all);
 * the zips are named by their bytes, which is also what the asset is named by. Entries
 * are built in a private scratch folder and renamed into place whole, so a reader sees a
 * complete entry or none. Every copy-out verifies the bytes against their name or digest;
 * a damaged entry is removed and rebuilt, never used. Each use stamps the entry's mtime,
 * and the least recently used entries are evicted when the cache outgrows its budget.
 */
export const CACHE_FORMAT = 'v2';

/** Default size budget of the cache: 5 GB, overridable with POSSUM_CACHE_MAX_BYTES. */
export const DEFAULT_CACHE_MAX_BYTES = 5_000_000_000;

/** Entries used this recently may be in use by another synth: eviction leaves them alone. */
const EVICTION_GRACE_MS = 15 * 60 * 1000;

/** A lock file this old that names no live holder (or cannot be read) is stale. */
const UNREADABLE_LOCK_STALE_MS = 10_000;

/** The cache root: the configured folder, else $POSSUM_CACHE_DIR, else the user's cache folder. */
export function cacheRoot(configured?: string): string {
  if (configured) return path.resolve(configured);
  if (process.env.POSSUM_CACHE_DIR) return path.resolve(process.env.POSSUM_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'possum-cdk');
}

/**
 * The cache's size budget in bytes: POSSUM_CACHE_MAX_BYTES when set (a whole number; 0
 * turns eviction off), else 5 GB.
 * @throws Error naming the variable when its value is not a whole number
 */
export function cacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.POSSUM_CACHE_MAX_BYTES;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CACHE_MAX_BYTES;
  if (!/^\s*[0-9]+\s*$/.test(raw)) {
    throw new Error(`POSSUM_CACHE_MAX_BYTES=${JSON.stringify(raw)} is not a whole number of bytes; set it to e.g. 10000000000 (10 GB), or 0 for no limit.`);
  }
  return Number(raw);
}

/**
 * A clear error for a file-system failure in the cache (full disk, quota, read-only or
 * unwritable folder), or undefined for any other error.
 */
export function cacheStorageError(e: any, root: string, label: string): Error | undefined {
  // Errors from the zip worker arrive as messages ("ENOSPC: no space left on device, write").
  let code = e?.code ?? /\b(ENOSPC|EDQUOT|EROFS)\b/.exec(String(e?.message ?? ''))?.[1];
  if (code === 'ENOENT' && typeof e?.path === 'string' && (e.path === root || e.path.startsWith(root + path.sep))) {
    // `mkdir -p` under a read-only root says ENOENT; ask the root itself.
    try {
      fs.accessSync(fs.existsSync(root) ? root : path.dirname(root), fs.constants.W_OK);
    } catch (denied: any) {
      code = denied.code;
    }
  }
  const where = typeof e?.path === 'string' ? ` (at ${e.path})` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new Error(`${label}: the build cache ${root} ran out of ${code === 'ENOSPC' ? 'disk space' : 'disk quota'}${where}. Nothing half-written was kept. ` +
      'Free space there (`possum-cache prune`), lower POSSUM_CACHE_MAX_BYTES, or point bundling.cacheDir (or POSSUM_CACHE_DIR) at a larger disk.');
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new Error(`${label}: the build cache ${root} cannot be written${where}: ${code === 'EROFS' ? 'the file system is read-only' : 'permission denied'}. ` +
      'Point bundling.cacheDir (or POSSUM_CACHE_DIR) at a folder this user can write.');
  }
  return undefined;
}

/** An index entry: what a bundle key produced. */
export interface IndexedBundle<R> {
  readonly sha256: string;
  readonly size: number;
  readonly report: R;
}

/** A bundle ready to copy out: the cached zip and its report. */
export interface CachedZip<R> {
  readonly zipFile: string;
  readonly sha256: string;
  readonly report: R;
}

interface TreeEntry {
  readonly format: string;
  readonly digest: string;
  readonly files: number;
  readonly bytes: number;
  /** treeStamp at commit: when the tree still matches it, its content is not hashed again. */
  readonly stamp?: string;
}

/** The last zip built from a dependency tree, whose compressed entries a later zip may copy. */
export interface ZipReference {
  /** The zip's sha256 (its name in zips/). */
  readonly sha256: string;
  /**
   * The CRC-32 of the zip's bytes: a later zip checks the bytes it copies by it, in the pass
   * that copies them (see EarlierZip). Absent in references recorded before it was.
   */
  readonly crc32?: number;
  /** The inner zip's name when that bundle was nested. */
  readonly innerZip?: string;
  /** What decides the compressed bytes besides the files: all must match for a copy. */
  readonly level: number;
  readonly zlib: string;
  /** How large entries were cut for deflating (zip-writer's DEFLATE_SCHEME); absent before there was a choice. */
  readonly deflate?: string;
  readonly dependencyPrefix: string;
  readonly codePrefix: string;
}

/** One evictable entry of the cache. */
export interface CacheEntryInfo {
  readonly kind: 'deps' | 'zip';
  /** The dependency key, or the zip's sha256. */
  readonly id: string;
  readonly bytes: number;
  /** Last use, ms since the epoch. */
  readonly lastUsedMs: number;
}

/** Keys and digests this process has used: never evicted by this process. */
/** Zips this process renamed into the cache itself, with the digest it computed while writing them. */
const PUBLISHED_HERE = new Set<string>();
const USED_HERE = new Set<string>();

/** Scratch folders of dead processes are swept once per process and root. */
const SWEPT = new Set<string>();

export class BuildCache {
  private readonly base: string;

  constructor(public readonly root: string) {
    this.base = path.join(root, CACHE_FORMAT);
  }

  /** Where a tool possum-cdk provides for itself (uv, uv's PyPI configuration) lives: never evicted. */
  public toolPath(name: string): string {
    return path.join(this.base, 'tools', name);
  }

  // ---------------------------------------------------------------------------------
  // Dependency trees

  /** The verified dependency tree for `key`, or undefined (a damaged entry is removed). */
  public dependencyTree(key: string): string | undefined {
    const dir = path.join(this.base, 'deps', key);
    const entryFile = path.join(dir, 'entry.json');
    const entry = readJson<TreeEntry>(entryFile);
    if (!entry) return this.discard(dir);
    const tree = path.join(dir, 'tree');
    if (!fs.existsSync(tree)) return this.discard(dir);
    // Reading every file again costs as much as zipping them: a tree whose names, sizes, modes
    // and mtimes are as committed (nothing here writes into it) is taken as it is; any other is
    // hashed in full, and removed when its content changed.
    const stamp = treeStamp(tree);
    if (stamp !== entry.stamp) {
      if (treeDigest(tree).digest !== entry.digest) return this.discard(dir);
      // The content is as committed: remember its metadata so the next use need not read it.
      writeFileAtomic(entryFile, JSON.stringify({ ...entry, stamp } satisfies TreeEntry, undefined, 1) + '\n');
    }
    this.stamp(entryFile, key);
    return tree;
  }

  /** The zip reference recorded for a dependency tree, if its zip is still in the cache. */
  public zipReference(key: string): { ref: ZipReference; zipFile: string } | undefined {
    const ref = readJson<ZipReference>(path.join(this.base, 'deps', key, 'zip-ref.json'));
    if (!ref || typeof ref.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256)) return undefined;
    const zipFile = this.zipPath(ref.sha256);
    return fs.existsSync(zipFile) ? { ref, zipFile } : undefined;
  }

  /** Records the zip just built from a dependency tree for the next build to copy from. */
  public recordZipReference(key: string, ref: ZipReference) {
    const dir = path.join(this.base, 'deps', key);
    if (fs.existsSync(dir)) writeFileAtomic(path.join(dir, 'zip-ref.json'), JSON.stringify(ref) + '\n');
  }

  /**
   * Marks a dependency tree as used without reading it: a bundle built from it was used,
   * so it is worth keeping for that bundle's next handler change.
   */
  public touchDependencyTree(key: string) {
    const entryFile = path.join(this.base, 'deps', key, 'entry.json');
    if (fs.existsSync(entryFile)) this.stamp(entryFile, key);
  }

  /** Moves a freshly installed tree into the cache under `key` and returns its new path. */
  public commitDependencyTree(key: string, tree: string): string {
    const staging = this.scratch();
    try {
      fs.renameSync(tree, path.join(staging, 'tree'));
      const { digest, files, bytes } = treeDigest(path.join(staging, 'tree'));
      const stamp = treeStamp(path.join(staging, 'tree'));
      writeJson(path.join(staging, 'entry.json'), { format: CACHE_FORMAT, digest, files, bytes, stamp } satisfies TreeEntry);
      USED_HERE.add(key);
      return path.join(this.publish(staging, path.join(this.base, 'deps', key)), 'tree');
    } catch (e) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------
  // Bundles: an input-keyed index over content-addressed zips

  /**
   * What `key` produced, if the cache has it: read from the index without hashing the zip
   * (the zip is verified whenever it is copied out). Stamps both as used.
   */
  public lookup<R>(key: string): IndexedBundle<R> | undefined {
    const indexFile = path.join(this.base, 'index', `${key}.json`);
    const entry = readJson<IndexedBundle<R>>(indexFile);
    if (!entry || !/^[0-9a-f]{64}$/.test(entry.sha256)) return undefined;
    const zipFile = this.zipPath(entry.sha256);
    let size: number;
    try {
      size = fs.statSync(zipFile).size;
    } catch {
      return undefined;
    }
    if (size !== entry.size) return undefined;
    this.stamp(indexFile, key);
    this.stamp(zipFile, entry.sha256);
    return entry;
  }

  /** Where the zip with this sha256 lives in the cache (it may not be there). */
  public zipPath(sha256: string): string {
    return path.join(this.base, 'zips', `${sha256}.zip`);
  }

  /** The zip with this sha256 after checking its bytes, or undefined (a damaged one is removed). */
  public verifiedZip(sha256: string): string | undefined {
    const zipFile = this.zipPath(sha256);
    if (!fs.existsSync(zipFile)) return undefined;
    // A zip this process published a moment ago was hashed as it was written.
    if (!PUBLISHED_HERE.has(sha256) && sha256File(zipFile) !== sha256) {
      this.discard(zipFile);
      return undefined;
    }
    this.stamp(zipFile, sha256);
    return zipFile;
  }

  /** A file path where a bundle may be written before `commitBundle`. */
  public newZipPath(): string {
    return path.join(this.scratch(), 'bundle.zip');
  }

  /** Publishes a zip written at `newZipPath()` under its content hash, and indexes it under `key`. */
  public commitBundle<R>(key: string, zipFile: string, report: R, knownSha256?: string): CachedZip<R> {
    // The engine hashes what it wrote; hashing it again here would double a handler edit's cost.
    const sha256 = knownSha256 ?? sha256File(zipFile);
    const size = fs.statSync(zipFile).size;
    const target = this.zipPath(sha256);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (this.verifiedZip(sha256)) {
      // The same bytes are already here (another key produced them, or a racing build).
      fs.rmSync(path.dirname(zipFile), { recursive: true, force: true });
    } else {
      fs.renameSync(zipFile, target);
      fs.rmSync(path.dirname(zipFile), { recursive: true, force: true });
      PUBLISHED_HERE.add(sha256);
    }
    this.writeIndex(key, { sha256, size, report });
    USED_HERE.add(key);
    USED_HERE.add(sha256);
    return { zipFile: target, sha256, report };
  }

  /** Records that `key` produced the cached zip `sha256` (e.g. fetched from elsewhere). */
  public writeIndex<R>(key: string, entry: IndexedBundle<R>) {
    const indexFile = path.join(this.base, 'index', `${key}.json`);
    fs.mkdirSync(path.dirname(indexFile), { recursive: true });
    const tmp = path.join(this.scratch(), 'index.json');
    try {
      writeJson(tmp, entry);
      fs.renameSync(tmp, indexFile);
    } finally {
      fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
    }
  }

  /** Drops a scratch folder from `newZipPath()` after a failure. */
  public abandon(pathInScratch: string) {
    const scratch = path.dirname(pathInScratch);
    if (path.dirname(scratch) === path.join(this.base, 'tmp')) fs.rmSync(scratch, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------
  // Locks

  /**
   * Runs `fn` holding an exclusive lock on `key` across processes. A lock whose holder
   * has died is taken over, and so is one that cannot be read after a few seconds (a
   * writer that failed half-way, e.g. on a full disk); one held longer than `timeoutMs`
   * is an error.
   */
  public withLock<T>(key: string, fn: () => T, timeoutMs = 60 * 60 * 1000, waitingFor = 'another build of the same bundle'): T {
    const lockFile = this.lockFile(key);
    const deadline = Date.now() + timeoutMs;
    let announced = false;
    while (!this.tryLock(lockFile)) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for the build cache lock ${lockFile} (held by ${fs.existsSync(lockFile) ? fs.readFileSync(lockFile, 'utf8').trim() : 'nobody now'}); ` +
          'if no other synth is running, delete that file.');
      }
      if (!announced) {
        progress(`waiting for ${waitingFor} (${lockFile})`);
        announced = true;
      }
      sleepSync(100);
    }
    try {
      return fn();
    } finally {
      fs.rmSync(lockFile, { force: true });
    }
  }

  private lockFile(key: string): string {
    return path.join(this.base, 'locks', `${key}.lock`);
  }

  /**
   * Takes the lock if it is free or stale. The holder's details are written to a private
   * file first and then linked into place, so the lock file never exists half-written.
   */
  private tryLock(lockFile: string): boolean {
    fs.mkdirSync(path.dirname(lockFile), { recursive: true });
    const mine = `${lockFile}.${os.hostname()}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    try {
      fs.writeFileSync(mine, JSON.stringify({ pid: process.pid, host: os.hostname() }));
      try {
        fs.linkSync(mine, lockFile);
        return true;
      } catch (e: any) {
        if (e.code !== 'EEXIST') throw e;
      }
    } finally {
      fs.rmSync(mine, { force: true });
    }
    if (this.lockIsStale(lockFile)) {
      // Rename first: of several processes that find it stale, only one removes it.
      const trash = `${lockFile}.stale.${process.pid}`;
      try {
        fs.renameSync(lockFile, trash);
        fs.rmSync(trash, { force: true });
      } catch {
        // someone else took it over first
      }
    }
    return false;
  }

  private lockIsStale(lockFile: string): boolean {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(lockFile);
    } catch {
      return false;
    }
    const holder = readJson<{ pid: number; host: string }>(lockFile);
    if (!holder || typeof holder.pid !== 'number') return Date.now() - stat.mtimeMs > UNREADABLE_LOCK_STALE_MS;
    return holder.host === os.hostname() && !processAlive(holder.pid);
  }

  // ---------------------------------------------------------------------------------
  // Size, eviction, inspection

  /** Every evictable entry with its size and last use. */
  public entries(): CacheEntryInfo[] {
    const out: CacheEntryInfo[] = [];
    const depsDir = path.join(this.base, 'deps');
    for (const key of listDir(depsDir)) {
      const entryFile = path.join(depsDir, key, 'entry.json');
      const entry = readJson<TreeEntry>(entryFile);
      const stat = statOrUndefined(entryFile);
      out.push({ kind: 'deps', id: key, bytes: entry?.bytes ?? 0, lastUsedMs: stat?.mtimeMs ?? 0 });
    }
    const zipsDir = path.join(this.base, 'zips');
    for (const name of listDir(zipsDir)) {
      const stat = statOrUndefined(path.join(zipsDir, name));
      if (!stat || !name.endsWith('.zip')) continue;
      out.push({ kind: 'zip', id: name.slice(0, -4), bytes: stat.size, lastUsedMs: stat.mtimeMs });
    }
    return out;
  }

  /**
   * Removes least recently used entries until the cache fits in `maxBytes` (0: no limit).
   * Never removes what this process used, what another synth used in the last 15 minutes,
   * or an entry whose lock is held. Returns what was removed.
   */
  public evict(maxBytes: number): CacheEntryInfo[] {
    if (maxBytes <= 0) return [];
    const entries = this.entries();
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    const removed: CacheEntryInfo[] = [];
    if (total <= maxBytes) return removed;
    const now = Date.now();
    for (const e of [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
      if (total <= maxBytes) break;
      if (USED_HERE.has(e.id) || now - e.lastUsedMs < EVICTION_GRACE_MS) continue;
      if (this.remove(e)) {
        total -= e.bytes;
        removed.push(e);
      }
    }
    if (removed.some(e => e.kind === 'zip')) this.dropDanglingIndex();
    return removed;
  }

  /** Removes everything but the locks of running builds. Returns the bytes freed. */
  public clear(): number {
    let freed = 0;
    for (const e of this.entries()) {
      if (this.remove(e, true)) freed += e.bytes;
    }
    this.dropDanglingIndex();
    return freed;
  }

  private remove(e: CacheEntryInfo, force = false): boolean {
    const target = e.kind === 'deps' ? path.join(this.base, 'deps', e.id) : this.zipPath(e.id);
    const lockFile = this.lockFile(e.kind === 'deps' ? `deps-${e.id}` : e.id);
    if (!force && fs.existsSync(lockFile)) return false;
    this.discard(target);
    return !fs.existsSync(target);
  }

  /** Index entries whose zip is gone are removed (they would miss anyway). */
  private dropDanglingIndex() {
    const indexDir = path.join(this.base, 'index');
    for (const name of listDir(indexDir)) {
      const entry = readJson<IndexedBundle<unknown>>(path.join(indexDir, name));
      if (!entry || !fs.existsSync(this.zipPath(entry.sha256))) fs.rmSync(path.join(indexDir, name), { force: true });
    }
  }

  /** Marks an entry as used now (for least-recently-used eviction). */
  private stamp(file: string, id: string) {
    USED_HERE.add(id);
    try {
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      // read-only cache: eviction order is only a preference
    }
  }

  // ---------------------------------------------------------------------------------
  // Scratch

  /**
   * A new private scratch folder under tmp/. The first call in a process also removes
   * scratch folders that processes killed mid-build left behind on this host.
   */
  public scratch(): string {
    const tmp = path.join(this.base, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    if (!SWEPT.has(tmp)) {
      SWEPT.add(tmp);
      sweepDeadScratch(tmp);
    }
    return fs.mkdtempSync(path.join(tmp, `${scratchPrefix()}-`));
  }

  /** Renames a complete staging folder to `dir`, replacing a damaged entry if one is there. */
  private publish(staging: string, dir: string): string {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    try {
      fs.renameSync(staging, dir);
    } catch (e: any) {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      // Someone else published the same key first. Entries for one key are
      // interchangeable, so keep theirs unless it is damaged.
      if (!this.dependencyTree(path.basename(dir))) this.discard(dir);
      if (fs.existsSync(dir)) {
        fs.rmSync(staging, { recursive: true, force: true });
      } else {
        fs.renameSync(staging, dir);
      }
    }
    return dir;
  }

  private discard(target: string): undefined {
    if (fs.existsSync(target)) {
      // Rename first so a half-deleted entry is never seen under its key.
      const trash = path.join(this.base, 'tmp', `${scratchPrefix()}-trash-${crypto.randomBytes(4).toString('hex')}`);
      fs.mkdirSync(path.dirname(trash), { recursive: true });
      try {
        fs.renameSync(target, trash);
      } catch {
        return undefined;
      }
      fs.rmSync(trash, { recursive: true, force: true });
    }
    return undefined;
  }
}

/** `<host>-<pid>`: whose scratch folder this is. */
function scratchPrefix(): string {
  return `${os.hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${process.pid}`;
}

/** Removes scratch folders whose process (on this host) is gone, and any older than a day. */
function sweepDeadScratch(tmp: string) {
  const host = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
  const now = Date.now();
  for (const name of listDir(tmp)) {
    const m = /^(.*)-(\d+)-/.exec(name);
    const stat = statOrUndefined(path.join(tmp, name));
    if (!stat) continue;
    const dead = m !== null && m[1] === host && Number(m[2]) !== process.pid && !processAlive(Number(m[2]));
    if (dead || now - stat.mtimeMs > 24 * 3600 * 1000) {
      fs.rmSync(path.join(tmp, name), { recursive: true, force: true });
    }
  }
}

/**
 * A digest of a folder's metadata without reading any file: relative paths, sizes, modes and
 * modification times. A rename keeps mtimes, so it survives the move into the cache.
 */
export function treeStamp(root: string): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort(compareZipPaths);
    for (const name of names) {
      const abs = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(abs, { bigint: true });
      hash.update(`${relPath} ${st.mode} ${st.size} ${st.mtimeNs}\n`);
      if (st.isDirectory()) walk(abs, relPath);
    }
  };
  walk(root, '');
  return hash.digest('hex');
}

/** A digest of a folder: sorted relative paths, sizes, exec bits and content hashes. */
export function treeDigest(root: string): { digest: string; files: number; bytes: number } {
  const hash = crypto.createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort(compareZipPaths);
    for (const name of names) {
      const abs = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) {
        hash.update(`d ${relPath}\n`);
        walk(abs, relPath);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${relPath} ${fs.readlinkSync(abs)}\n`);
      } else {
        files++;
        bytes += st.size;
        hash.update(`f ${relPath} ${st.size} ${isExecutable(st.mode) ? 'x' : '-'} ${sha256File(abs)}\n`);
      }
    }
  };
  walk(root, '');
  return { digest: hash.digest('hex'), files, bytes };
}

/**
 * One read buffer for every file hashed in this process (the code is synchronous, so it is
 * never shared): a fresh 1 MiB buffer per file went back to the system after each file and
 * cost page faults on every read, a third of the time of hashing a dependency tree.
 */
let readBuffer: Buffer | undefined;

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = readBuffer ??= Buffer.allocUnsafe(1024 * 1024);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function isExecutable(mode: number): boolean {
  // eslint-disable-next-line no-bitwise
  return (mode & 0o111) !== 0;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown) {
  fs.writeFileSync(file, JSON.stringify(value, undefined, 1) + '\n');
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
