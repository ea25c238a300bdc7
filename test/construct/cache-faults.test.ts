import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BuildCache } from '../../src/private/cache';
import { REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * The build cache on a real full or read-only file system: a tmpfs mounted in a private
 * mount namespace (`unshare -m`, as root), with the synth in a child process. Each fault
 * must give an error naming the cache and the fix, and leave no lock, scratch folder, index
 * entry or zip behind, so the next synth (with room again) runs at once.
 */
const local = useLocalIndex('cache-faults');

const canMount = run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt']).status === 0;
const maybe = canMount ? test : test.skip;

/** A synth of one function, in a child process, with its cache on `cache`. */
const SYNTH = `
const cdk = require(${JSON.stringify(path.join(REPO_ROOT, 'node_modules', 'aws-cdk-lib'))});
const lambda = cdk.aws_lambda;
const { PythonPipfileFunction } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib'))});
const app = new cdk.App({ outdir: process.env.OUTDIR });
const stack = new cdk.Stack(app, 'S');
try {
  new PythonPipfileFunction(stack, 'Fn', { entry: process.env.ENTRY, runtime: lambda.Runtime.PYTHON_3_12,
    bundling: { indexUrl: process.env.INDEX_URL, cacheDir: process.env.CACHE } });
  app.synth();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e.message }));
}
`;

/**
 * Runs `steps` (shell, with $CACHE mounted as a tmpfs of `size`) and the synth in one mount
 * namespace; returns each synth's outcome and a listing of the cache after each.
 */
function inNamespace(size: string, script: string, entry: string) {
  const work = tempDir('faults');
  const cache = path.join(work, 'cache');
  fs.mkdirSync(cache);
  const synthJs = path.join(work, 'synth.js');
  fs.writeFileSync(synthJs, SYNTH);
  const r = run('unshare', ['-m', 'bash', '-euc', `mount -t tmpfs -o size=${size} tmpfs "$CACHE"\nsynth() { OUTDIR=$(mktemp -d) node "${synthJs}"; }\n` +
    'listing() { (cd "$CACHE" && find . -mindepth 1 -not -name fill | sort | tr "\\n" " "); echo; }\n' + script], {
    cwd: REPO_ROOT,
    env: { ...process.env, CACHE: cache, ENTRY: entry, INDEX_URL: local.index.url() },
    timeoutMs: 300_000,
  });
  if (r.status !== 0) throw new Error(`namespace script failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return { lines, stderr: r.stderr, cache };
}

function functionFolder(label: string, files: Record<string, string | Buffer> = {}) {
  const entry = path.join(tempDir(label), 'fn');
  writeTree(entry, { 'index.py': 'import greeting\n\ndef handler(e, c):\n    return greeting.greet("x")\n', 'requirements.txt': 'greeting==1.0\n', ...files });
  return entry;
}

describe('the build cache on a file system that fails', () => {
  maybe('full from the start: an error naming the cache and the fix; nothing left; with room again the synth runs at once', () => {
    const entry = functionFolder('full');
    const out = inNamespace('256k', [
      'dd if=/dev/zero of="$CACHE/fill" bs=4k count=64 2>/dev/null || true',
      'synth', 'listing',
      'rm "$CACHE/fill"',
      'synth', 'listing',
    ].join('\n'), entry);
    const [first, afterFirst, second] = [JSON.parse(out.lines[0]), out.lines[1] ?? '', JSON.parse(out.lines[2])];
    expect(first.ok).toBe(false);
    expect(first.error).toContain(`S/Fn: the build cache ${out.cache} ran out of disk space`);
    expect(first.error).toContain('Free space there (`possum-cache prune`), lower POSSUM_CACHE_MAX_BYTES, or point bundling.cacheDir (or POSSUM_CACHE_DIR) at a larger disk.');
    // Folders may remain; no file does (no lock, no half-written entry).
    expect(afterFirst.split(' ').filter(p => p && !['./v2', './v2/locks', './v2/tmp'].includes(p))).toEqual([]);
    expect(second).toEqual({ ok: true });
    expect(out.stderr).not.toContain('waiting for another build');
  });

  maybe('room for the install but not the zip: the zip fails part-written, and none of it stays', () => {
    // Random bytes do not compress: the zip needs about 1.5 MB, the tmpfs has 1 MB.
    const entry = functionFolder('half', { 'data.bin': crypto.randomBytes(1_500_000) });
    const out = inNamespace('1m', ['synth', 'listing'].join('\n'), entry);
    const first = JSON.parse(out.lines[0]);
    expect(first.ok).toBe(false);
    expect(first.error).toContain(`S/Fn: the build cache ${out.cache} ran out of disk space`);
    const left = out.lines[1].split(' ').filter(Boolean);
    expect(left.filter(p => /\/(locks|tmp|index|zips)\/./.test(p))).toEqual([]);
  });

  maybe('read-only: a miss is an error saying so; a hit is still served', () => {
    const entry = functionFolder('ro');
    const out = inNamespace('16m', [
      'mount -o remount,ro "$CACHE"', 'synth',
      'mount -o remount,rw "$CACHE"', 'synth',
      'mount -o remount,ro "$CACHE"', 'synth',
    ].join('\n'), entry);
    const [miss, fill, hit] = out.lines.map(l => JSON.parse(l));
    expect(miss.ok).toBe(false);
    expect(miss.error).toContain(`S/Fn: the build cache ${out.cache} cannot be written`);
    expect(miss.error).toContain('the file system is read-only. Point bundling.cacheDir (or POSSUM_CACHE_DIR) at a folder this user can write.');
    expect(fill).toEqual({ ok: true });
    expect(hit).toEqual({ ok: true });
  });
});

describe('what a killed or failed build leaves in the cache', () => {
  test('an empty or unreadable lock file older than a few seconds is taken over, not waited on for an hour', () => {
    const root = tempDir('lock-empty');
    const cache = new BuildCache(root);
    const lock = path.join(root, 'v2', 'locks', 'k.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const started = Date.now();
    expect(cache.withLock('k', () => 'ran', 5_000)).toBe('ran');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fs.existsSync(lock)).toBe(false);
  });

  test('a lock held by a process that is gone is taken over at once; one held by a live process is waited on', () => {
    const root = tempDir('lock-dead');
    const cache = new BuildCache(root);
    const lock = path.join(root, 'v2', 'locks', 'k.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    const gone = run(process.execPath, ['-e', 'console.log(process.pid)']).stdout.trim();
    fs.writeFileSync(lock, JSON.stringify({ pid: Number(gone), host: os.hostname() }));
    expect(cache.withLock('k', () => 'ran', 5_000)).toBe('ran');
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: os.hostname() }));
    expect(() => cache.withLock('k', () => 'ran', 300)).toThrow(`Timed out waiting for the build cache lock ${lock}`);
  });

  test('scratch folders of killed processes are removed by the next build; a live process\'s are kept', () => {
    const root = tempDir('scratch');
    const tmp = path.join(root, 'v2', 'tmp');
    const host = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const gone = run(process.execPath, ['-e', 'console.log(process.pid)']).stdout.trim();
    writeTree(tmp, { [`${host}-${gone}-abc/tree/pkg/__init__.py`]: 'x', [`${host}-${process.ppid}-def/bundle.zip`]: 'partial' });
    // Fresh module state: the sweep runs on a process's first scratch folder.
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { BuildCache: Fresh } = require('../../src/private/cache');
      new Fresh(root).scratch();
    });
    expect(fs.readdirSync(tmp).filter(n => !n.startsWith(`${host}-${process.pid}-`)).sort()).toEqual([`${host}-${process.ppid}-def`]);
  });
});
