import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { run, sha256, tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

const APP = path.join(__dirname, '..', 'fixtures', 'one-function-app.js');

const local = useLocalIndex('cache');

interface SynthRun {
  readonly assetKey: string;
  /** The bundle's sha256, from its size report. */
  readonly sha256: string;
  readonly stderr: string;
  /** Did CDK call our bundler, did pip run, was a zip written? */
  readonly bundled: boolean;
  readonly installed: boolean;
  readonly zipped: boolean;
}

function env(entry: string, outdir: string, cache: string): NodeJS.ProcessEnv {
  return { ...process.env, FN_ENTRY: entry, FN_OUTDIR: outdir, FN_CACHE: cache, FN_INDEX_URL: local.index.url() };
}

function parse(stdout: string, stderr: string, status: number | null): SynthRun {
  if (status !== 0) throw new Error(`synth failed (${status}):\n${stderr}`);
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  return {
    assetKey: result.assetKey,
    sha256: result.sha256,
    stderr,
    bundled: stderr.includes('Bundling asset S/Fn'),
    installed: stderr.includes('possum-cdk: S/Fn: installing'),
    zipped: stderr.includes('possum-cdk: S/Fn: bundled'),
  };
}

/** One `cdk synth`-like run of the app in its own process. */
function synth(entry: string, outdir: string, cache: string): SynthRun {
  const r = run(process.execPath, [APP], { env: env(entry, outdir, cache) });
  return parse(r.stdout, r.stderr, r.status);
}

function newFunction(label: string, requirement = 'greeting==1.0'): string {
  const dir = path.join(tempDir(label), 'fn');
  writeTree(dir, { 'index.py': 'import greeting\n\ndef handler(event, context):\n    return greeting.VERSION\n', 'requirements.txt': `${requirement}\n` });
  return dir;
}

describe('caching across synths (each synth its own process)', () => {
  test('an unchanged function does no work; a handler change re-zips without reinstalling; a lock change reinstalls', () => {
    const entry = newFunction('cache-flow');
    const outdir = tempDir('cache-flow-out');
    const cache = path.join(tempDir('cache-flow-cache'), 'c');

    const cold = synth(entry, outdir, cache);
    expect([cold.bundled, cold.installed, cold.zipped]).toEqual([true, true, true]);

    const warm = synth(entry, outdir, cache);
    expect(warm.assetKey).toBe(cold.assetKey);
    expect([warm.bundled, warm.installed, warm.zipped]).toEqual([false, false, false]);

    fs.appendFileSync(path.join(entry, 'index.py'), '# a handler-only change\n');
    const handlerChange = synth(entry, outdir, cache);
    expect(handlerChange.assetKey).not.toBe(cold.assetKey);
    expect([handlerChange.bundled, handlerChange.installed, handlerChange.zipped]).toEqual([true, false, true]);
    // Only the handler is compressed again: the dependencies' entries are copied from the previous
    // zip, and the result is the zip a fresh cache builds, byte for byte.
    expect(handlerChange.stderr).toMatch(/possum-cdk: S\/Fn: bundled .*; \d+ entries copied compressed from the previous zip of these dependencies/);
    const fresh = synth(entry, tempDir('cache-flow-fresh-out'), path.join(tempDir('cache-flow-fresh'), 'c'));
    expect(fresh.stderr).not.toContain('copied compressed');
    expect(fresh.assetKey).toBe(handlerChange.assetKey);

    // A zip recorded by a version that deflated large files another way (no `deflate` in its
    // reference) holds other bytes for them: it is not copied from, and the result is again
    // the zip a fresh cache builds.
    const refs = fs.readdirSync(path.join(cache, 'v2', 'deps')).map(d => path.join(cache, 'v2', 'deps', d, 'zip-ref.json')).filter(f => fs.existsSync(f));
    expect(refs).toHaveLength(1);
    const { deflate, ...older } = JSON.parse(fs.readFileSync(refs[0], 'utf8'));
    expect(deflate).toMatch(/^chunks-/);
    fs.writeFileSync(refs[0], JSON.stringify(older));
    fs.appendFileSync(path.join(entry, 'index.py'), '# another handler-only change\n');
    const afterUpgrade = synth(entry, outdir, cache);
    expect(afterUpgrade.installed).toBe(false);
    expect(afterUpgrade.stderr).not.toContain('copied compressed');
    expect(afterUpgrade.assetKey).toBe(synth(entry, tempDir('cache-flow-fresh2-out'), path.join(tempDir('cache-flow-fresh2'), 'c')).assetKey);

    fs.writeFileSync(path.join(entry, 'requirements.txt'), 'greeting==2.0\n');
    const lockChange = synth(entry, outdir, cache);
    expect(lockChange.assetKey).not.toBe(handlerChange.assetKey);
    expect(lockChange.installed).toBe(true);
  });

  test('deleting cdk.out still hits the user cache: same asset, nothing installed or zipped', () => {
    const entry = newFunction('cache-cdkout');
    const cache = path.join(tempDir('cache-cdkout-cache'), 'c');
    const first = synth(entry, tempDir('out-a'), cache);
    const again = synth(entry, tempDir('out-b'), cache);
    expect(again.assetKey).toBe(first.assetKey);
    expect([again.bundled, again.installed, again.zipped]).toEqual([true, false, false]);
    expect(again.stderr).toContain('bundle unchanged, reused from the cache');
  });

  test('a truncated cache entry is detected and rebuilt, never shipped', () => {
    const entry = newFunction('cache-truncated');
    const cache = path.join(tempDir('cache-truncated-cache'), 'c');
    const first = synth(entry, tempDir('out-1'), cache);
    // Zips are kept under their sha256, an index maps the function's inputs to one.
    const zips = path.join(cache, 'v2', 'zips');
    const [name] = fs.readdirSync(zips);
    const cachedZip = path.join(zips, name);
    expect(name).toBe(`${sha256(cachedZip)}.zip`);
    const good = fs.readFileSync(cachedZip);
    fs.truncateSync(cachedZip, 100);

    const outdir = tempDir('out-2');
    const rebuilt = synth(entry, outdir, cache);
    expect(rebuilt.assetKey).toBe(first.assetKey);
    expect([rebuilt.installed, rebuilt.zipped]).toEqual([false, true]);
    const shipped = fs.readFileSync(path.join(outdir, `asset.${rebuilt.assetKey}`));
    expect(shipped.equals(good)).toBe(true);

    // A damaged dependency tree is reinstalled.
    const deps = path.join(cache, 'v2', 'deps');
    const [depKey] = fs.readdirSync(deps);
    fs.writeFileSync(path.join(deps, depKey, 'tree', 'greeting', '__init__.py'), 'corrupted');
    fs.rmSync(cachedZip);
    const out3 = tempDir('out-3');
    const reinstalled = synth(entry, out3, cache);
    expect([reinstalled.installed, reinstalled.zipped]).toEqual([true, true]);
    expect(fs.readFileSync(path.join(out3, `asset.${reinstalled.assetKey}`)).equals(good)).toBe(true);
  });

  test.each([
    ['a small function (its edit zipped on the app\'s thread)', 0],
    ['5 MB of its own files (its edit zipped in the zip thread)', 5 * 1024 * 1024],
  ])('the asset in cdk.out shares the cached zip\'s file; bytes written into it are never copied into the next bundle: %s', (_label, dataBytes) => {
    const entry = newFunction('cache-linked');
    if (dataBytes) fs.writeFileSync(path.join(entry, 'model.bin'), crypto.randomBytes(dataBytes));
    const cache = path.join(tempDir('cache-linked-cache'), 'c');
    const outdir = tempDir('cache-linked-out');
    synth(entry, outdir, cache);
    fs.appendFileSync(path.join(entry, 'index.py'), '# edit 1\n');
    const edit1 = synth(entry, outdir, cache);
    expect(edit1.stderr).toContain('copied compressed');
    const asset = path.join(outdir, `asset.${edit1.assetKey}`);
    const cachedZip = path.join(cache, 'v2', 'zips', `${edit1.sha256}.zip`);
    // One file, two names: the 54 MB of a large bundle are not written twice.
    expect(fs.statSync(asset).ino).toBe(fs.statSync(cachedZip).ino);

    // A tool that writes into the asset in place writes into the cache's zip too.
    const dep = inspectZip(asset).entries.find(e => e.name === 'greeting/__init__.py')!;
    const at = dep.localHeaderOffset + 30 + Buffer.byteLength(dep.name);
    const fd = fs.openSync(asset, 'r+');
    fs.writeSync(fd, Buffer.from([0xff, 0xff]), 0, 2, at);
    fs.closeSync(fd);

    fs.appendFileSync(path.join(entry, 'index.py'), '# edit 2\n');
    const edit2 = synth(entry, outdir, cache);
    expect(edit2.stderr).toContain('no longer has the bytes it was written with');
    expect(edit2.stderr).not.toContain('copied compressed');
    const fresh = synth(entry, tempDir('cache-linked-fresh-out'), path.join(tempDir('cache-linked-fresh'), 'c'));
    expect(edit2.assetKey).toBe(fresh.assetKey);
    expect(sha256(path.join(outdir, `asset.${edit2.assetKey}`))).toBe(edit2.sha256);
  });

  test('a handler edit over a dependency tree changed since its install: the tree is installed again, its damage never shipped', () => {
    const entry = newFunction('cache-tree-edit');
    const cache = path.join(tempDir('cache-tree-edit-cache'), 'c');
    const outdir = tempDir('cache-tree-edit-out');
    synth(entry, outdir, cache);
    // A handler edit copies the tree's entries from the last zip: a tree changed since must not pass as the one zipped then.
    const deps = path.join(cache, 'v2', 'deps');
    const [depKey] = fs.readdirSync(deps);
    fs.appendFileSync(path.join(deps, depKey, 'tree', 'greeting', '__init__.py'), 'DAMAGED = True\n');
    fs.appendFileSync(path.join(entry, 'index.py'), '# edit\n');
    const edit = synth(entry, outdir, cache);
    expect([edit.installed, edit.zipped]).toEqual([true, true]);
    // The same bytes as a build from nothing: the damaged file is in neither.
    const fresh = synth(entry, tempDir('cache-tree-edit-fresh-out'), path.join(tempDir('cache-tree-edit-fresh'), 'c'));
    expect(edit.assetKey).toBe(fresh.assetKey);
  });

  test('two synths at once share the work: one installs, the other waits and reuses it', async () => {
    const entry = newFunction('cache-race');
    const cache = path.join(tempDir('cache-race-cache'), 'c');
    const runs = await Promise.all([tempDir('race-a'), tempDir('race-b')].map(outdir => new Promise<SynthRun>((resolve, reject) => {
      const child = spawn(process.execPath, [APP], { env: env(entry, outdir, cache) });
      let out = '';
      let err = '';
      child.stdout.on('data', d => { out += d; });
      child.stderr.on('data', d => { err += d; });
      child.on('close', code => {
        try {
          resolve(parse(out, err, code));
        } catch (e) {
          reject(e);
        }
      });
    })));
    expect(runs[0].assetKey).toBe(runs[1].assetKey);
    expect(runs.filter(r => r.installed)).toHaveLength(1);
    expect(runs.filter(r => r.zipped)).toHaveLength(1);
    expect(fs.readdirSync(path.join(cache, 'v2', 'locks'))).toEqual([]);
  });
});
