import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { CollectedFile, SourceTree, collectFiles, compareZipPaths } from './collect';
import { resolveEntryTime } from './entry-time';
import { LoaderPlacement, loaderPaths, loaderSource } from './nested-loader';
import { ALWAYS_EXCLUDED } from './path-rules';
import { METHOD_STORE } from './zip-format';
import { readZipIndex } from './zip-index';
import { runSteps, runStepsSync, Steps, ZipInput, ZipWriteResult, writeZipSteps } from './zip-writer';
import { progress } from '../progress';

/**
 * Lambda refuses a package (function code plus all its layers) whose unzipped size is
 * not smaller than this many bytes.
 */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000;

/** Everything that decides the bytes of a zip. Plain data, so it can cross a process boundary. */
export interface ZipPlan {
  /** Folders to zip; their files are merged (a path given twice is an error). */
  readonly sources: SourceTree[];
  /** File to write. Written atomically: a temp file beside it, then a rename. */
  readonly output: string;
  /** Exclude patterns on top of the always-excluded ones (see path-rules.ts). */
  readonly excludes?: string[];
  /** Raw `SOURCE_DATE_EPOCH` value; unset or empty means 1980-01-01T00:00:00Z. */
  readonly sourceDateEpoch?: string;
  /** zlib level, 0 (store) to 9. @default 6 */
  readonly level?: number;
  /**
   * How Lambda would load a nested bundle. Without it the engine never nests and a
   * tree at or over `limitBytes` is an error.
   */
  readonly loader?: LoaderPlacement;
  /** The unzipped size at which the bundle becomes nested. @default limitBytes */
  readonly nestThresholdBytes?: number;
  /** The unzipped size the deployed zip must stay below. @default LAMBDA_UNZIPPED_LIMIT_BYTES */
  readonly limitBytes?: number;
  /** Write progress lines to stderr. @default false */
  readonly progress?: boolean;
  /**
   * Flush the zip to disk before it takes its name, so that a power cut leaves the old file
   * or the whole new one. The build cache turns it off: it checks a zip's bytes wherever it
   * reads them (against its sha256, or the CRC-32 recorded with it when a handler edit copies
   * from it), and the flush (about 0.02 s for a 54 MB zip here, more while other writes are
   * queued) is a fifth of what a handler edit may cost. @default true
   */
  readonly durable?: boolean;
  /**
   * An earlier zip built from the same (immutable) dependency tree with the same level and
   * zlib: entries of files under `trees` are copied from it compressed, not compressed again.
   * The output is the same, byte for byte; only the function's own files are compressed.
   */
  readonly reuse?: ZipReuse;
}

/** Where to find compressed entries to copy. */
export interface ZipReuse {
  /**
   * The earlier zip. Its compressed bytes are copied as they are, never inflated or checked
   * here: the report gives the CRC-32 of the zip as read (reusedZipCrc32), and the caller
   * compares it with the one recorded when it was written (the bundler zips again without
   * copying when they differ).
   */
  readonly zipFile: string;
  /** The inner zip's name when the earlier bundle was nested. */
  readonly innerZip?: string;
  /** Folders whose files never change under their path (cached dependency trees). */
  readonly trees: string[];
}

/** Unzipped bytes under one top-level name, with its dist-info and .libs folded in. */
export interface TopLevelSize {
  readonly name: string;
  readonly bytes: number;
  readonly files: number;
}

/** What the engine wrote. */
export interface ZipReport {
  readonly output: string;
  readonly sha256: string;
  /** Files of the user's tree (inside the inner zip when nested). */
  readonly files: number;
  /** Unzipped size of the user's tree, what /tmp must hold when nested. */
  readonly unzippedBytes: number;
  /** Size of the zip file written. */
  readonly zippedBytes: number;
  readonly nested: boolean;
  /** Unzipped size Lambda counts against its limit: the tree, or the loader plus the inner zip. */
  readonly deployedUnzippedBytes: number;
  /** The largest top-level packages, biggest first. */
  readonly largest: TopLevelSize[];
  /** Entries copied compressed from an earlier zip (see ZipPlan.reuse). */
  readonly reusedEntries?: number;
  /** The CRC-32 of the zip file written, for a later zip that copies from it to check it by. */
  readonly crc32?: number;
  /**
   * When entries were copied: the CRC-32 of the earlier zip's bytes as they were read while
   * copying (see EarlierZip), for the caller to compare with the one recorded when it was written.
   */
  readonly reusedZipCrc32?: number;
}

const TOP_LEVEL_REPORTED = 10;

/** Builds the zip the plan describes. On any failure nothing is left at `plan.output`. */
export function buildZip(plan: ZipPlan): Promise<ZipReport> {
  return runSteps(buildZipSteps(plan, false));
}

/**
 * buildZip on this thread, the same bytes: every entry is compressed in turn, on one core.
 * For a zip with little to compress, such as a handler edit's, whose other entries are
 * copied from an earlier zip: no thread to start and wait for.
 */
export function buildZipHere(plan: ZipPlan): ZipReport {
  return runStepsSync(buildZipSteps(plan, true));
}

function* buildZipSteps(plan: ZipPlan, sync: boolean): Steps<ZipReport> {
  const entryTime = resolveEntryTime(plan.sourceDateEpoch);
  const level = plan.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new Error(`Compression level ${level} is not an integer from 0 (store) to 9.`);
  }
  const limit = plan.limitBytes ?? LAMBDA_UNZIPPED_LIMIT_BYTES;
  const threshold = plan.nestThresholdBytes ?? limit;
  const collected = collectFiles(plan.sources, [...ALWAYS_EXCLUDED, ...(plan.excludes ?? [])]);
  const { files, reusedEntries } = withReuse(collected, plan.reuse, level);
  const unzippedBytes = files.reduce((sum, f) => sum + f.size, 0);
  const largest = largestTopLevel(files);
  const onEntry = plan.progress ? progressReporter(files.length) : undefined;

  const output = path.resolve(plan.output);
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(path.dirname(output), `.${path.basename(output)}.`));
  try {
    if (unzippedBytes < threshold || !plan.loader) {
      if (unzippedBytes >= limit) {
        throw new Error(
          `The bundle for ${output} unzips to ${unzippedBytes} bytes, not below Lambda's limit of ${limit} bytes, ` +
          `and nesting is off. Largest: ${describeLargest(largest)}. Remove dependencies or enable the nested zip.`);
      }
      const tmp = path.join(scratch, 'flat.zip');
      const written = yield* writeZipFile(tmp, files, entryTime, level, plan.durable ?? true, sync, onEntry);
      return finish(tmp, output,
        { files: files.length, unzippedBytes, nested: false, deployedUnzippedBytes: unzippedBytes, largest, ...reused(written) });
    }

    const loader = plan.loader;
    const paths = loaderPaths(loader);
    if (loader.kind === 'package' && !files.some(f => f.zipPath.startsWith(`${loader.packageName}/`))) {
      throw new Error(
        `The bundle for ${output} unzips to ${unzippedBytes} bytes, at or over the nesting threshold of ${threshold} bytes, ` +
        `so it must be nested; the nested zip's loader goes into the top-level package ${loader.packageName}/, ` +
        'which the tree does not have. Install the project into the virtual environment (pip install .) so that its package is there.');
    }
    const clash = files.find(f => f.zipPath === paths.innerZip);
    if (clash) {
      throw new Error(`${clash.sourcePath} has the name the nested zip needs (${paths.innerZip}); rename or exclude it.`);
    }
    const innerZip = path.join(scratch, 'inner.zip');
    const written = yield* writeZipFile(innerZip, files, entryTime, level, false, sync, onEntry);
    const bundleId = digestFile(innerZip).sha256.slice(0, 32);
    const loaderFile = path.join(scratch, 'loader.py');
    fs.writeFileSync(loaderFile, loaderSource(bundleId, loader));
    const innerSize = fs.statSync(innerZip).size;
    const loaderSize = fs.statSync(loaderFile).size;
    const deployedUnzippedBytes = innerSize + loaderSize;
    if (deployedUnzippedBytes >= limit) {
      throw new Error(
        `The bundle for ${output} is too large even as a nested zip: the tree unzips to ${unzippedBytes} bytes, ` +
        `its zip is ${innerSize} bytes, and with the ${loaderSize}-byte loader that is ${deployedUnzippedBytes} bytes, ` +
        `not below Lambda's limit of ${limit} bytes. Largest: ${describeLargest(largest)}.`);
    }
    const outer: CollectedFile[] = [
      { zipPath: paths.loader, sourcePath: loaderFile, size: loaderSize, executable: false },
      { zipPath: paths.innerZip, sourcePath: innerZip, size: innerSize, executable: false },
    ].sort((a, b) => compareZipPaths(a.zipPath, b.zipPath));
    const tmp = path.join(scratch, 'outer.zip');
    yield* writeZipFile(tmp, outer.map(f => ({ ...f, store: f.zipPath === paths.innerZip })), entryTime, level, plan.durable ?? true, sync);
    return finish(tmp, output, { files: files.length, unzippedBytes, nested: true, deployedUnzippedBytes, largest, ...reused(written) });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  function reused(written: ZipWriteResult): Pick<ZipReport, 'reusedEntries' | 'reusedZipCrc32'> {
    if (!reusedEntries || !plan.reuse) return { reusedEntries };
    return { reusedEntries, reusedZipCrc32: written.rawSourceCrc32s[plan.reuse.zipFile] };
  }
}

/**
 * The files, with the compressed bytes of an earlier zip attached where they can be copied:
 * a file of a cached dependency tree (whose content is fixed by its path) that the earlier
 * zip holds under the same name and size. A store-only build copies only stored entries.
 */
function withReuse(files: CollectedFile[], reuse: ZipReuse | undefined, level: number): { files: ZipInput[]; reusedEntries: number } {
  if (!reuse) return { files, reusedEntries: 0 };
  const index = readZipIndex(reuse.zipFile, reuse.innerZip);
  if (!index) return { files, reusedEntries: 0 };
  const roots = reuse.trees.map(t => path.resolve(t) + path.sep);
  let reusedEntries = 0;
  const out = files.map((f): ZipInput => {
    if (!roots.some(r => f.sourcePath.startsWith(r))) return f;
    const e = index.get(f.zipPath);
    if (!e || e.size !== f.size || (level === 0 && e.method !== METHOD_STORE)) return f;
    reusedEntries++;
    return { ...f, raw: { file: reuse.zipFile, dataOffset: e.dataOffset, method: e.method, crc: e.crc, compressedSize: e.compressedSize } };
  });
  return { files: out, reusedEntries };
}

function* writeZipFile(file: string, inputs: readonly ZipInput[], entryTime: number, level: number, durable: boolean, sync: boolean,
  onEntry?: (written: number, total: number) => void): Steps<ZipWriteResult> {
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    const written = yield* writeZipSteps(fd, inputs, { entryTime, level, onEntry }, sync);
    if (durable) fs.fsyncSync(fd);
    return written;
  } finally {
    fs.closeSync(fd);
  }
}

function finish(tmp: string, output: string, report: Omit<ZipReport, 'output' | 'sha256' | 'zippedBytes'>): ZipReport {
  const { sha256, crc32 } = digestFile(tmp);
  const zippedBytes = fs.statSync(tmp).size;
  // The scratch folder sits beside the output, so this rename stays on one file system.
  fs.chmodSync(tmp, 0o644);
  fs.renameSync(tmp, output);
  return { output, sha256, zippedBytes, crc32, ...report };
}

/** The sha256 and CRC-32 of a file, in one pass through one reused buffer. */
function digestFile(file: string): { sha256: string; crc32: number } {
  const hash = crypto.createHash('sha256');
  let crc32 = 0;
  const buffer = digestBuffer ??= Buffer.allocUnsafe(256 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) {
      const piece = buffer.subarray(0, n);
      hash.update(piece);
      crc32 = zlib.crc32(piece, crc32);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: hash.digest('hex'), crc32: crc32 >>> 0 };
}
let digestBuffer: Buffer | undefined;

/** Groups sizes by top-level name, folding `foo-1.0.dist-info`, `foo.libs` and `foo.py` into `foo`. */
export function largestTopLevel(files: readonly CollectedFile[], count = TOP_LEVEL_REPORTED): TopLevelSize[] {
  const groups = new Map<string, { bytes: number; files: number }>();
  for (const f of files) {
    const first = f.zipPath.split('/')[0];
    const isDir = f.zipPath.includes('/');
    let name = first;
    if (isDir && /\.(dist-info|egg-info|data)$/.test(first)) {
      name = first.replace(/-[^-]*\.(dist-info|egg-info|data)$/, '').replace(/\.(dist-info|egg-info|data)$/, '');
    } else if (isDir && first.endsWith('.libs')) {
      name = first.slice(0, -'.libs'.length);
    } else if (!isDir) {
      name = first.replace(/\.(py|pth|so)$/, '');
    }
    name = name.toLowerCase().replace(/-/g, '_');
    const g = groups.get(name) ?? { bytes: 0, files: 0 };
    g.bytes += f.size;
    g.files += 1;
    groups.set(name, g);
  }
  return [...groups.entries()]
    .map(([name, g]) => ({ name, ...g }))
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1))
    .slice(0, count);
}

export function describeLargest(largest: readonly TopLevelSize[], count = 5): string {
  return largest.slice(0, count).map(t => `${t.name} ${formatBytes(t.bytes)}`).join(', ') || '(empty)';
}

/** Sizes for people: 512 B, 12.3 kB, 45.6 MB (decimal units, as Lambda's limits are stated). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/**
 * Prints "zipped N/M files" to stderr at most once a second; zips done within the first
 * second stay quiet, and a zip that printed progress also prints its end.
 */
function progressReporter(total: number): (written: number, total: number) => void {
  let last = Date.now();
  let printed = false;
  return (written: number) => {
    const now = Date.now();
    if (now - last >= 1000 || (written === total && printed)) {
      last = now;
      printed = true;
      progress(`zipped ${written}/${total} files`);
    }
  };
}
