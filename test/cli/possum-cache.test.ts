import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * The build cache is bounded: least recently used entries are evicted past a budget
 * (POSSUM_CACHE_MAX_BYTES), never what a running synth uses; possum-cache shows and
 * clears it. Each synth runs in its own process, as `cdk synth` runs an app.
 */
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'one-function-app.js');
const POSSUM_CACHE = path.join(REPO_ROOT, 'lib', 'cli', 'possum-cache.js');
const local = useLocalIndex('cache-budget');
const HOUR_AGO = new Date(Date.now() - 3600_000);

function functionDir(requirement: string): string {
  const dir = path.join(tempDir('budget-fn'), 'fn');
  writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', 'requirements.txt': `${requirement}\n` });
  return dir;
}

function synth(entry: string, cache: string, env: NodeJS.ProcessEnv = {}) {
  const r = run(process.execPath, [APP], {
    env: { ...process.env, FN_ENTRY: entry, FN_OUTDIR: tempDir('budget-out'), FN_CACHE: cache, FN_INDEX_URL: local.index.url(), ...env },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!).sha256 as string;
}

function possumCache(args: string[], cache: string) {
  return run(process.execPath, [POSSUM_CACHE, ...args, '--cache-dir', cache]);
}

/** Marks every entry of the cache as last used an hour ago. */
function age(cache: string) {
  const v2 = path.join(cache, 'v2');
  for (const key of fs.readdirSync(path.join(v2, 'deps'))) fs.utimesSync(path.join(v2, 'deps', key, 'entry.json'), HOUR_AGO, HOUR_AGO);
  for (const zip of fs.readdirSync(path.join(v2, 'zips'))) fs.utimesSync(path.join(v2, 'zips', zip), HOUR_AGO, HOUR_AGO);
}

const list = (cache: string, sub: string) => fs.existsSync(path.join(cache, 'v2', sub)) ? fs.readdirSync(path.join(cache, 'v2', sub)).sort() : [];

describe('a bounded build cache', () => {
  test('possum-cache info shows the cache; prune evicts the least recently used past the budget; clear empties it', () => {
    const cache = path.join(tempDir('budget-info'), 'c');
    const dirs = ['greeting==1.0', 'greeting==2.0', 'withdeps==1.0'].map(functionDir);
    dirs.forEach(d => synth(d, cache));
    expect(list(cache, 'deps')).toHaveLength(3);
    expect(list(cache, 'zips')).toHaveLength(3);
    const info = possumCache(['info'], cache);
    expect(info.status).toBe(0);
    expect(info.stdout).toContain(`cache:        ${cache}`);
    expect(info.stdout).toMatch(/dependencies: 3 installed trees/);
    expect(info.stdout).toMatch(/bundles:      3 zips/);

    age(cache);
    // The first function is used again now: a synth that finds it in the cache.
    const keep = synth(dirs[0], cache);
    const pruned = possumCache(['prune', '--max-bytes', '1'], cache);
    expect(pruned.status).toBe(0);
    expect(pruned.stdout).toMatch(/removed 4 entries/);
    expect(list(cache, 'zips')).toEqual([`${keep}.zip`]);
    expect(list(cache, 'deps')).toHaveLength(1);
    // Index entries that pointed at removed zips are gone too.
    expect(list(cache, 'index')).toHaveLength(1);
    // What was evicted is rebuilt when needed.
    expect(synth(dirs[1], cache)).toMatch(/^[0-9a-f]{64}$/);

    expect(possumCache(['clear'], cache).status).toBe(0);
    expect([list(cache, 'zips'), list(cache, 'deps'), list(cache, 'index')]).toEqual([[], [], []]);
    expect(possumCache(['bogus'], cache).stderr).toContain('unknown command bogus');
  });

  test('a synth that builds trims the cache to POSSUM_CACHE_MAX_BYTES, keeping what it uses and what a build holds a lock on', () => {
    const cache = path.join(tempDir('budget-auto'), 'c');
    const old = ['greeting==1.0', 'greeting==2.0'].map(functionDir);
    old.forEach(d => synth(d, cache));
    age(cache);
    // A build of the second function's dependencies is under way elsewhere: its lock is held.
    const lockedKey = list(cache, 'deps')[0];
    fs.mkdirSync(path.join(cache, 'v2', 'locks'), { recursive: true });
    fs.writeFileSync(path.join(cache, 'v2', 'locks', `deps-${lockedKey}.lock`), JSON.stringify({ pid: process.pid, host: os.hostname() }));
    const fresh = synth(functionDir('withdeps==1.0'), cache, { POSSUM_CACHE_MAX_BYTES: '1' });
    expect(list(cache, 'zips')).toEqual([`${fresh}.zip`]);
    expect(list(cache, 'deps')).toContain(lockedKey);
    expect(list(cache, 'deps')).toHaveLength(2);
    fs.rmSync(path.join(cache, 'v2', 'locks', `deps-${lockedKey}.lock`));
  });

  test('entries used in the last 15 minutes are never evicted, so concurrent synths on a tiny budget all succeed', async () => {
    const cache = path.join(tempDir('budget-race'), 'c');
    const dirs = ['greeting==1.0', 'greeting==2.0', 'withdeps==1.0', 'fastmath==1.0'].map(functionDir);
    const runs = await Promise.all(dirs.map(d => new Promise<number | null>(resolve => {
      const child = spawn(process.execPath, [APP], {
        env: { ...process.env, FN_ENTRY: d, FN_OUTDIR: tempDir('race-out'), FN_CACHE: cache, FN_INDEX_URL: local.index.url(), POSSUM_CACHE_MAX_BYTES: '1' },
        stdio: 'ignore',
      });
      child.on('close', resolve);
    })));
    expect(runs).toEqual([0, 0, 0, 0]);
    expect(list(cache, 'zips')).toHaveLength(4);
    // A later synth of any of them finds its bundle.
    const again = run(process.execPath, [APP], {
      env: { ...process.env, FN_ENTRY: dirs[2], FN_OUTDIR: tempDir('race-again'), FN_CACHE: cache, FN_INDEX_URL: local.index.url() },
    });
    expect(again.stderr).toContain('bundle unchanged, reused from the cache');
  });

  test('a bad POSSUM_CACHE_MAX_BYTES is an error naming it', () => {
    const r = run(process.execPath, [APP], {
      env: {
        ...process.env,
        FN_ENTRY: functionDir('greeting==1.0'),
        FN_OUTDIR: tempDir('bad-budget'),
        FN_CACHE: path.join(tempDir('bad-budget-c'), 'c'),
        FN_INDEX_URL: local.index.url(),
        POSSUM_CACHE_MAX_BYTES: '5GB',
      },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('POSSUM_CACHE_MAX_BYTES="5GB" is not a whole number of bytes');
  });
});
