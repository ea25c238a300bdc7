import * as fs from 'fs';
import { sha256File } from '../cache';
import { compiledScript } from '../compiled-script';
import { SyncThread } from '../sync-thread';

/**
 * A build cache in S3 shared by a fleet of CI runners: bundles are looked up by the same
 * input key as in the local cache before anything is built, and published after a build.
 * A downloaded zip is used only when its bytes hash to the sha256 it is stored under; a
 * bucket that cannot be reached or read is one warning and a local build, never a failure.
 *
 * Layout under `s3://BUCKET/PREFIX/`: `index/<bundle key>.json` (the zip's sha256 and
 * report) and `zips/<sha256>.zip`. The S3 calls run in a child process (the AWS SDK is
 * asynchronous; CDK's bundling is not), with the standard credential chain; an S3-compatible
 * endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL.
 */

export interface RemoteCache {
  readonly bucket: string;
  /** Key prefix, empty or ending in `/`. */
  readonly prefix: string;
}

/**
 * The remote cache a bundle uses: `bundling.remoteCache`, else POSSUM_REMOTE_CACHE, as
 * `s3://BUCKET[/PREFIX]`; undefined when neither is set.
 * @throws Error naming the value and where it came from when it is not an s3:// URL
 */
export function remoteCacheOf(option: string | undefined, env: NodeJS.ProcessEnv = process.env): RemoteCache | undefined {
  const from = option !== undefined ? 'bundling.remoteCache' : 'POSSUM_REMOTE_CACHE';
  const value = (option ?? env.POSSUM_REMOTE_CACHE ?? '').trim();
  if (value === '') return undefined;
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(value);
  if (!m) throw new Error(`${from} ${value} is not an S3 location; write it as s3://BUCKET or s3://BUCKET/PREFIX.`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1], prefix: prefix ? `${prefix}/` : '' };
}

export function describeRemote(r: RemoteCache): string {
  return `s3://${r.bucket}/${r.prefix}`;
}

export type FetchResult<R> =
  | { readonly kind: 'hit'; readonly sha256: string; readonly report: R }
  | { readonly kind: 'miss' }
  /** The object did not match its hash (damaged or tampered with): ignored. */
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Looks the bundle up and, when found and intact, downloads its zip to `dest`. */
export function fetchBundle<R>(remote: RemoteCache, bundleKey: string, dest: string): FetchResult<R> {
  const r = call({ op: 'fetch', bucket: remote.bucket, indexKey: indexKey(remote, bundleKey), zipPrefix: `${remote.prefix}zips/`, dest });
  if (!r.ok) return { kind: 'unavailable', reason: r.error };
  if (r.result.missing) return { kind: 'miss' };
  const sha256 = String(r.result.sha256 ?? '');
  if (!/^[0-9a-f]{64}$/.test(sha256) || !fs.existsSync(dest)) return { kind: 'corrupt', reason: 'its index entry names no valid zip' };
  const actual = sha256File(dest);
  if (actual !== sha256) {
    fs.rmSync(dest, { force: true });
    return { kind: 'corrupt', reason: `zips/${sha256}.zip hashes to ${actual}` };
  }
  return { kind: 'hit', sha256, report: r.result.report as R };
}

/** Publishes a bundle built here: its zip (unless already there) and its index entry. */
export function publishBundle(remote: RemoteCache, bundleKey: string, zipFile: string, sha256: string, report: unknown, replace = false):
{ readonly ok: true } | { readonly ok: false; readonly reason: string } {
  const r = call({
    op: 'publish',
    bucket: remote.bucket,
    indexKey: indexKey(remote, bundleKey),
    index: JSON.stringify({ sha256, report }),
    zipKey: `${remote.prefix}zips/${sha256}.zip`,
    zipFile,
    replace,
  });
  return r.ok ? { ok: true } : { ok: false, reason: r.error };
}

function indexKey(remote: RemoteCache, bundleKey: string): string {
  return `${remote.prefix}index/${bundleKey}.json`;
}

/** The S3 helper thread, kept for the process so the AWS SDK loads once. */
const helper = new SyncThread(workerScript, 'the S3 helper', 15 * 60);

/**
 * One request to the S3 helper, waited for synchronously (bundling is synchronous). A large
 * zip over a slow link takes a while; more than 15 minutes, or a minute of silence, is an error.
 */
function call(request: Record<string, unknown>): { ok: true; result: any } | { ok: false; error: string } {
  try {
    const out = helper.call(request);
    return out.ok ? { ok: true, result: out } : { ok: false, error: String(out.error) };
  } catch (e: any) {
    return { ok: false, error: e?.message ?? String(e) };
  }
}

function workerScript(): string {
  return compiledScript(__dirname, 'remote-worker.js', 'The remote cache helper');
}
