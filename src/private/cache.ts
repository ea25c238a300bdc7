import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The user-level build cache, shared by every app and surviving `cdk.out` deletions.
 *
 *   <root>/v1/deps/<key>/   an installed dependency tree: tree/ and entry.json
 *   <root>/v1/zips/<key>/   a finished bundle: bundle.zip and entry.json (with its report)
 *
 * Entries are built in a private temporary folder and renamed into place whole, so a
 * reader sees a complete entry or none. Every read verifies the entry against the
 * digest recorded at write time; an entry that fails is removed and rebuilt, never used.
 * A lock per key lets concurrent synths wait for each other instead of doing the work twice.
 */
export const CACHE_FORMAT = 'v1';

/** The cache root: the configured folder, else $POSSUM_CACHE_DIR, else the user's cache folder. */
export function cacheRoot(configured?: string): string {
  if (configured) return path.resolve(configured);
  if (process.env.POSSUM_CACHE_DIR) return path.resolve(process.env.POSSUM_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'possum-cdk');
}

export interface CachedZip<R> {
  readonly zipFile: string;
  readonly report: R;
}

interface TreeEntry {
  readonly format: string;
  readonly digest: string;
  readonly files: number;
  readonly bytes: number;
}

interface ZipEntry<R> {
  readonly format: string;
  readonly sha256: string;
  readonly size: number;
  readonly report: R;
}

export class BuildCache {
  private readonly base: string;

  constructor(public readonly root: string) {
    this.base = path.join(root, CACHE_FORMAT);
  }

  /** The verified dependency tree for `key`, or undefined (a damaged entry is removed). */
  public dependencyTree(key: string): string | undefined {
    const dir = path.join(this.base, 'deps', key);
    const entry = readJson<TreeEntry>(path.join(dir, 'entry.json'));
    if (!entry) return this.discard(dir);
    const tree = path.join(dir, 'tree');
    const actual = fs.existsSync(tree) ? treeDigest(tree) : undefined;
    if (!actual || actual.digest !== entry.digest) return this.discard(dir);
    return tree;
  }

  /** Moves a freshly installed tree into the cache under `key` and returns its new path. */
  public commitDependencyTree(key: string, tree: string): string {
    const staging = this.staging();
    fs.renameSync(tree, path.join(staging, 'tree'));
    const { digest, files, bytes } = treeDigest(path.join(staging, 'tree'));
    writeJson(path.join(staging, 'entry.json'), { format: CACHE_FORMAT, digest, files, bytes } satisfies TreeEntry);
    return path.join(this.publish(staging, path.join(this.base, 'deps', key)), 'tree');
  }

  /** The verified bundle for `key`, or undefined (a damaged entry is removed). */
  public zip<R>(key: string): CachedZip<R> | undefined {
    const dir = path.join(this.base, 'zips', key);
    const entry = readJson<ZipEntry<R>>(path.join(dir, 'entry.json'));
    const zipFile = path.join(dir, 'bundle.zip');
    if (!entry || !fs.existsSync(zipFile)) return this.discard(dir);
    if (fs.statSync(zipFile).size !== entry.size || sha256File(zipFile) !== entry.sha256) return this.discard(dir);
    return { zipFile, report: entry.report };
  }

  /**
   * The report stored with a bundle, without hashing the zip: for callers that only need
   * the sizes (the zip is verified whenever it is copied out with `zip()`).
   */
  public zipReport<R>(key: string): R | undefined {
    const dir = path.join(this.base, 'zips', key);
    const entry = readJson<ZipEntry<R>>(path.join(dir, 'entry.json'));
    const zipFile = path.join(dir, 'bundle.zip');
    if (!entry || !fs.existsSync(zipFile) || fs.statSync(zipFile).size !== entry.size) return undefined;
    return entry.report;
  }

  /** A file path where a bundle may be written before `commitZip`. */
  public newZipPath(): string {
    return path.join(this.staging(), 'bundle.zip');
  }

  /** Publishes a zip written at `newZipPath()` with its report. */
  public commitZip<R>(key: string, zipFile: string, report: R): CachedZip<R> {
    const staging = path.dirname(zipFile);
    writeJson(path.join(staging, 'entry.json'), {
      format: CACHE_FORMAT, sha256: sha256File(zipFile), size: fs.statSync(zipFile).size, report,
    } satisfies ZipEntry<R>);
    const dir = this.publish(staging, path.join(this.base, 'zips', key));
    return { zipFile: path.join(dir, 'bundle.zip'), report };
  }

  /** Drops a staging folder from `newZipPath()` after a failure. */
  public abandon(pathInStaging: string) {
    const staging = path.dirname(pathInStaging);
    if (path.dirname(staging) === path.join(this.base, 'tmp')) fs.rmSync(staging, { recursive: true, force: true });
  }

  /**
   * Runs `fn` holding an exclusive lock on `key` across processes. A lock whose holder
   * has died is taken over; one held longer than `timeoutMs` is an error.
   */
  public withLock<T>(key: string, fn: () => T, timeoutMs = 60 * 60 * 1000): T {
    const locks = path.join(this.base, 'locks');
    fs.mkdirSync(locks, { recursive: true });
    const lockFile = path.join(locks, `${key}.lock`);
    const deadline = Date.now() + timeoutMs;
    let announced = false;
    for (;;) {
      try {
        fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname() }), { flag: 'wx' });
        break;
      } catch (e: any) {
        if (e.code !== 'EEXIST') throw e;
      }
      const holder = readJson<{ pid: number; host: string }>(lockFile);
      if (holder && holder.host === os.hostname() && !processAlive(holder.pid)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for the build cache lock ${lockFile} (held by ${JSON.stringify(holder)}); ` +
          'if no other synth is running, delete that file.');
      }
      if (!announced) {
        process.stderr.write(`possum-cdk: waiting for another build of the same bundle (${lockFile})\n`);
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

  private staging(): string {
    const tmp = path.join(this.base, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    return fs.mkdtempSync(path.join(tmp, `${process.pid}-`));
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
      this.discardStale(dir);
      if (fs.existsSync(dir)) {
        fs.rmSync(staging, { recursive: true, force: true });
      } else {
        fs.renameSync(staging, dir);
      }
    }
    return dir;
  }

  private discardStale(dir: string) {
    const isZip = path.basename(path.dirname(dir)) === 'zips';
    const ok = isZip ? this.zip(path.basename(dir)) : this.dependencyTree(path.basename(dir));
    if (!ok) this.discard(dir);
  }

  private discard(dir: string): undefined {
    if (fs.existsSync(dir)) {
      // Rename first so a half-deleted entry is never seen under its key.
      const trash = path.join(this.base, 'tmp', `trash-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      fs.mkdirSync(path.dirname(trash), { recursive: true });
      try {
        fs.renameSync(dir, trash);
      } catch {
        return undefined;
      }
      fs.rmSync(trash, { recursive: true, force: true });
    }
    return undefined;
  }
}

/** A digest of a folder: sorted relative paths, sizes, exec bits and content hashes. */
export function treeDigest(root: string): { digest: string; files: number; bytes: number } {
  const hash = crypto.createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
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

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
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
