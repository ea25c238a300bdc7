import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { run, tempDir, writeTree } from '../helpers/run';
import { MotoS3 } from '../helpers/s3';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * The remote build cache against a real S3-compatible server (moto on 127.0.0.1): CI
 * runners are separate synth processes, each with its own empty local cache.
 */
const APP = path.join(__dirname, '..', 'fixtures', 'one-function-app.js');
const local = useLocalIndex('remote');
let moto: MotoS3;

beforeAll(async () => {
  moto = await MotoS3.start('fleet-cache');
});
afterAll(() => moto?.stop());

interface Runner {
  readonly assetKey: string;
  readonly stderr: string;
  readonly installed: boolean;
  readonly zip: Buffer;
}

/** One CI runner: a fresh local cache and cdk.out, the shared remote cache. */
function runner(entry: string, env: NodeJS.ProcessEnv): Runner {
  const outdir = tempDir('remote-out');
  const r = run(process.execPath, [APP], {
    env: {
      ...process.env,
      ...MotoS3.ENV,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      POSSUM_REMOTE_CACHE: 's3://fleet-cache/ci',
      FN_ENTRY: entry,
      FN_OUTDIR: outdir,
      FN_CACHE: path.join(tempDir('remote-cache'), 'c'),
      FN_INDEX_URL: local.index.url(),
      ...env,
    },
  });
  if (r.status !== 0) throw new Error(`synth failed:\n${r.stderr}`);
  const assetKey = JSON.parse(r.stdout.trim().split('\n').pop()!).assetKey as string;
  return { assetKey, stderr: r.stderr, installed: r.stderr.includes('S/Fn: installing'), zip: fs.readFileSync(path.join(outdir, `asset.${assetKey}`)) };
}

async function objects(prefix: string): Promise<string[]> {
  const listed = await moto.client.send(new ListObjectsV2Command({ Bucket: 'fleet-cache', Prefix: prefix }));
  return (listed.Contents ?? []).map(o => o.Key!).sort();
}

function newFunction(label: string): string {
  const dir = path.join(tempDir(label), 'fn');
  writeTree(dir, { 'index.py': 'import withdeps\n\ndef handler(e, c):\n    return withdeps.WHO\n', 'requirements.txt': 'withdeps==1.0\n' });
  return dir;
}

describe('a remote build cache in S3 (moto on 127.0.0.1)', () => {
  test('runner A builds and publishes; runner B, with an empty local cache, installs nothing and gets the same bytes', async () => {
    const entry = newFunction('remote-ab');
    const a = runner(entry, {});
    expect(a.installed).toBe(true);
    expect(a.stderr).toContain('possum-cdk: S/Fn: published to the remote cache s3://fleet-cache/ci/');
    // The SDK's notice about its own future Node.js support is not the app's concern (possum-cdk ships the SDK).
    expect(a.stderr).not.toContain('NodeVersionSupportWarning');
    const sha = crypto.createHash('sha256').update(a.zip).digest('hex');
    expect(await objects('ci/zips/')).toContain(`ci/zips/${sha}.zip`);
    expect((await objects('ci/index/')).length).toBeGreaterThan(0);

    const b = runner(entry, {});
    expect(b.installed).toBe(false);
    expect(b.stderr).toContain('possum-cdk: S/Fn: bundle fetched from the remote cache s3://fleet-cache/ci/');
    expect(b.stderr).not.toContain('bundled ');
    expect(b.assetKey).toBe(a.assetKey);
    expect(b.zip.equals(a.zip)).toBe(true);
  });

  test('a tampered object is ignored with a warning, rebuilt here, and replaced', async () => {
    const entry = newFunction('remote-tamper');
    const a = runner(entry, {});
    const sha = crypto.createHash('sha256').update(a.zip).digest('hex');
    await moto.client.send(new PutObjectCommand({ Bucket: 'fleet-cache', Key: `ci/zips/${sha}.zip`, Body: Buffer.from('PK tampered') }));
    const c = runner(entry, {});
    expect(c.stderr).toMatch(/possum-cdk: warning: the remote cache s3:\/\/fleet-cache\/ci\/ holds a damaged or altered bundle for S\/Fn \(zips\/[0-9a-f]{64}\.zip hashes to [0-9a-f]{64}\); it was ignored/);
    expect(c.installed).toBe(true);
    expect(c.zip.equals(a.zip)).toBe(true);
    const restored = await moto.client.send(new GetObjectCommand({ Bucket: 'fleet-cache', Key: `ci/zips/${sha}.zip` }));
    expect(Buffer.from(await restored.Body!.transformToByteArray()).equals(a.zip)).toBe(true);
  });

  test('a server that is down, or a bucket that does not exist, is one warning and a correct local build', () => {
    const entry = newFunction('remote-down');
    const expected = runner(entry, { POSSUM_REMOTE_CACHE: '' });
    for (const env of [{ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }, { POSSUM_REMOTE_CACHE: 's3://no-such-bucket-here/ci' }]) {
      const down = runner(entry, env);
      expect(down.stderr.match(/possum-cdk: warning: the remote cache s3:\/\/\S+ could not be read/g)).toHaveLength(1);
      expect(down.installed).toBe(true);
      expect(down.zip.equals(expected.zip)).toBe(true);
    }
  });

  test('a value that is not an s3:// location is an error naming where it came from', () => {
    const entry = newFunction('remote-bad');
    expect(() => runner(entry, { POSSUM_REMOTE_CACHE: 'https://example.com/cache' }))
      .toThrow('POSSUM_REMOTE_CACHE https://example.com/cache is not an S3 location; write it as s3://BUCKET or s3://BUCKET/PREFIX.');
  });
});
