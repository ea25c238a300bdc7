/**
 * Nested-bundle loader benchmark: the cold-start cost of unpacking a large nested bundle
 * with possum-cdk's loader, against the floor of the same work, Python's own
 * `zipfile.ZipFile(inner).extractall(dir)`, measured in the same run.
 *
 * The tree is a real site-packages for python3.11 x86_64 (numpy, scipy, pandas, pyarrow by
 * default: about 400 MB unzipped), installed once with pip into bench/out/loader-tree. The
 * engine zips it nested; the outer zip is unpacked as Lambda unpacks it. Then, alternating,
 * each in a fresh Python process with a fresh extract folder:
 *   - floor:  `import zipfile` + extractall of the inner zip;
 *   - loader: `import _possum_loader` (handler placement), which checks space and every
 *     entry name, takes the lock, unpacks into a staging folder, sets modes and renames.
 * The time is taken inside each process, around the import and the extraction; both unpack
 * into /dev/shm (BENCH_EXTRACT_DIR) so that disk write-back does not decide the result.
 *
 *   npx projen bench:loader     (BENCH_LOADER_PACKAGES="numpy==2.2.6 ..." changes the tree,
 *                                BENCH_RUNS the number of runs of each)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildZipSync } from '../src/private/zip/run-sync';

const OUT = path.join(__dirname, 'out');
const TREE = path.join(OUT, 'loader-tree');
const WORK = path.join(OUT, 'loader-work');
const PYTHON = process.env.BENCH_PYTHON ?? 'python3';
const PACKAGES = (process.env.BENCH_LOADER_PACKAGES ?? 'numpy==2.2.6 scipy==1.15.3 pandas==2.2.3 pyarrow==20.0.0').split(/\s+/).filter(Boolean);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/**
 * Where the runs unpack: a memory file system by default, so the disk's write-back (which
 * swings from run to run on a shared machine) does not drown the CPU work being compared.
 */
const EXTRACT_PARENT = process.env.BENCH_EXTRACT_DIR ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : path.join(OUT, 'loader-work'));

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function ensureTree() {
  const stamp = path.join(TREE, '.packages');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === PACKAGES.join(' ')) return;
  fs.rmSync(TREE, { recursive: true, force: true });
  process.stderr.write(`installing ${PACKAGES.join(' ')} for python3.11 x86_64 into ${TREE}\n`);
  sh(PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-compile', '--target', TREE, '--only-binary=:all:',
    '--platform', 'manylinux2014_x86_64', '--python-version', '3.11', '--implementation', 'cp', ...PACKAGES]);
  fs.writeFileSync(stamp, PACKAGES.join(' '));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main() {
  fs.mkdirSync(OUT, { recursive: true });
  ensureTree();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const zip = path.join(WORK, 'fn.zip');
  const report = buildZipSync({ sources: [{ dir: TREE }], output: zip, nestThresholdBytes: 1, loader: { kind: 'handler' }, excludes: ['.packages'] });
  const task = path.join(WORK, 'task');
  sh(PYTHON, ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, task]);
  const inner = path.join(task, '_possum_bundle.zip');

  const floorCode = [
    'import sys, time', 't = time.perf_counter()', 'import zipfile',
    'zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', 'print(time.perf_counter() - t)',
  ].join('\n');
  const loaderCode = ['import time', 't = time.perf_counter()', 'import _possum_loader', 'print(time.perf_counter() - t)'].join('\n');
  const floor: number[] = [];
  const loader: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 === 0 ? ['floor', 'loader'] : ['loader', 'floor'];
    for (const which of order) {
      const dest = fs.mkdtempSync(path.join(EXTRACT_PARENT, `possum-loader-bench-${which}-`));
      const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', POSSUM_EXTRACT_ROOT: dest, POSSUM_HANDLER: 'json.dumps' };
      const seconds = which === 'floor'
        ? Number(sh(PYTHON, ['-c', floorCode, inner, path.join(dest, 'tree')], env).trim())
        : Number(spawnSync(PYTHON, ['-c', loaderCode], { cwd: task, env, encoding: 'utf8' }).stdout.trim());
      if (!Number.isFinite(seconds)) throw new Error(`${which} run ${i} failed`);
      (which === 'floor' ? floor : loader).push(seconds);
      fs.rmSync(dest, { recursive: true, force: true });
    }
  }
  const result = {
    date: new Date().toISOString().slice(0, 10),
    packages: PACKAGES,
    files: report.files,
    unzippedMB: +(report.unzippedBytes / 1e6).toFixed(1),
    innerZipMB: +(fs.statSync(inner).size / 1e6).toFixed(1),
    runs: RUNS,
    extractedInto: EXTRACT_PARENT,
    floorSeconds: floor.map(s => +s.toFixed(3)),
    loaderSeconds: loader.map(s => +s.toFixed(3)),
    floorMedian: +median(floor).toFixed(3),
    loaderMedian: +median(loader).toFixed(3),
    ratio: +(median(loader) / median(floor)).toFixed(3),
  };
  fs.writeFileSync(path.join(OUT, 'loader-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
  process.stdout.write(`${JSON.stringify(result, undefined, 2)}\n`);
  process.stdout.write(`\n| unpack of ${result.unzippedMB} MB in ${result.files} files | median s | ratio |\n|---|---|---|\n` +
    `| zipfile extractall (floor) | ${result.floorMedian} | 1.00 |\n| possum-cdk loader | ${result.loaderMedian} | **${result.ratio.toFixed(2)}** |\n`);
  fs.rmSync(WORK, { recursive: true, force: true });
}

main();
