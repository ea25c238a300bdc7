/**
 * The S3 side of the remote build cache, run in a worker thread that a synchronous caller
 * (remote-cache.ts, through SyncThread) keeps for the whole process, so the AWS SDK loads once.
 * Never reports credentials: errors are the SDK's names and messages.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { proxyFailureText, s3Connection, s3EndpointFromEnvironment } from '../aws-config';
import { serveSync } from '../sync-thread';

// possum-cdk ships its own copy of the SDK, so the SDK's notice that its later releases need a
// newer Node.js concerns possum-cdk's releases, not the app being synthesized (the possum CLI
// does the same). The environment is the app's (shared), so it is left alone: only this thread's
// emitWarning drops the notice, and only when the user has not set the SDK's own switch.
if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: any[]) => {
    if (String(typeof warning === 'string' ? warning : warning?.message).startsWith('NodeVersionSupportWarning')) return;
    (emitWarning as any)(warning, ...rest);
  }) as typeof process.emitWarning;
}

serveSync(async request => {
  // Read per request: the process's environment is shared with this thread and may change.
  const endpoint = s3EndpointFromEnvironment();
  let s3: S3Client | undefined;
  try {
    s3 = client(endpoint);
    return await handle(s3, request);
  } catch (e: any) {
    return { ok: false, error: proxyFailureText(e, endpoint) ?? `${e?.name ?? 'Error'}: ${e?.message ?? e}` };
  } finally {
    // A client (and its connections, tunnels through a proxy among them) per request: none is left open.
    s3?.destroy();
  }
});

function client(endpoint: string | undefined): S3Client {
  return new S3Client({
    // Region and CA bundle as the AWS CLI finds them (AWS_DEFAULT_REGION, the profile's, AWS_CA_BUNDLE).
    // A cache that does not answer is given up on sooner than an upload would be: each
    // bundle asks it, and the build goes on without it.
    ...s3Connection(undefined, process.env, { connectMs: 10_000, silentMs: 30_000 }),
    endpoint,
    forcePathStyle: endpoint !== undefined,
    // Degrade fast when the bucket is unreachable: one retry, short connection timeout.
    maxAttempts: 2,
  });
}

async function handle(s3: S3Client, request: any): Promise<object> {
  if (request.op === 'fetch') {
    let index: any;
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: request.bucket, Key: request.indexKey }));
      index = JSON.parse(await got.Body!.transformToString());
    } catch (e: any) {
      // A missing entry is a miss; a missing bucket is a problem to report.
      if (e?.name === 'NoSuchKey' || (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket')) return { ok: true, missing: true };
      throw e;
    }
    const sha256 = String(index?.sha256 ?? '');
    if (!/^[0-9a-f]{64}$/.test(sha256)) return { ok: true, sha256: '', report: undefined };
    const zip = await s3.send(new GetObjectCommand({ Bucket: request.bucket, Key: `${request.zipPrefix}${sha256}.zip` }));
    fs.mkdirSync(path.dirname(request.dest), { recursive: true });
    const out = fs.createWriteStream(request.dest);
    await new Promise<void>((resolve, reject) => {
      (zip.Body as NodeJS.ReadableStream).pipe(out).on('finish', () => resolve()).on('error', reject);
    });
    return { ok: true, sha256, report: index.report };
  }
  if (request.op === 'publish') {
    let present = false;
    if (!request.replace) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: request.bucket, Key: request.zipKey }));
        present = true;
      } catch (e: any) {
        if (e?.$metadata?.httpStatusCode !== 404 && e?.name !== 'NotFound') throw e;
      }
    }
    if (!present) {
      const body = fs.readFileSync(request.zipFile);
      await s3.send(new PutObjectCommand({ Bucket: request.bucket, Key: request.zipKey, Body: body, ContentType: 'application/zip' }));
    }
    await s3.send(new PutObjectCommand({ Bucket: request.bucket, Key: request.indexKey, Body: request.index, ContentType: 'application/json' }));
    return { ok: true, uploaded: !present };
  }
  throw new Error(`unknown request ${request.op}`);
}
