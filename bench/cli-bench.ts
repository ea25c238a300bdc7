/**
 * `package-python-function` benchmark: our CLI against the original Python tool of the same
 * name (package-python-function 1.0.0 from PyPI), packaging the same virtual environment in
 * the same run: wall time and peak resident memory (GNU time's %M: the largest of the
 * process and the children it waited for).
 *
 * The venv holds numpy, scipy, pandas and pyarrow for this machine's Python (about 400 MB),
 * installed once into bench/out/cli-venv with uv; the original tool lives in
 * bench/out/cli-original. Each tool packages it BENCH_RUNS times (default 3), alternating.
 *
 *   npx projen bench:cli     (needs PyPI; BENCH_CLI_PACKAGES changes the venv)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(__dirname, 'out');
const VENV = path.join(OUT, 'cli-venv');
const ORIGINAL = path.join(OUT, 'cli-original');
const WORK = path.join(OUT, 'cli-work');
const UV = process.env.POSSUM_UV ?? path.join(ROOT, '.tools', 'bin', 'uv');
const PYTHON = path.join(ROOT, '.tools', 'bin', 'python');
const PACKAGES = (process.env.BENCH_CLI_PACKAGES ?? 'numpy==2.2.6 scipy==1.15.3 pandas==2.2.3 pyarrow==20.0.0').split(/\s+/).filter(Boolean);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const OUR_CLI = path.join(ROOT, 'lib', 'cli', 'package-python-function.js');

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 64 << 20, env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout + r.stderr;
}

function ensureVenvs() {
  const stamp = path.join(VENV, '.packages');
  if (!(fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === PACKAGES.join(' '))) {
    fs.rmSync(VENV, { recursive: true, force: true });
    sh(UV, ['venv', '--quiet', '--python', PYTHON, VENV]);
    sh(UV, ['pip', 'install', '--quiet', '--no-config', '--python', path.join(VENV, 'bin', 'python'), ...PACKAGES]);
    // The project itself, as `pip install .` would put it: the nested loader goes into its package.
    const sitePackages = path.join(VENV, 'lib', fs.readdirSync(path.join(VENV, 'lib')).find(d => d.startsWith('python'))!, 'site-packages');
    fs.mkdirSync(path.join(sitePackages, 'bench_fn'), { recursive: true });
    fs.writeFileSync(path.join(sitePackages, 'bench_fn', '__init__.py'), '');
    fs.writeFileSync(path.join(sitePackages, 'bench_fn', 'handler.py'), 'import numpy, pandas\n\ndef handler(event, context):\n    return 1\n');
    fs.writeFileSync(stamp, PACKAGES.join(' '));
  }
  if (!fs.existsSync(path.join(ORIGINAL, 'bin', 'package-python-function'))) {
    sh(UV, ['venv', '--quiet', '--python', PYTHON, ORIGINAL]);
    sh(UV, ['pip', 'install', '--quiet', '--no-config', '--python', path.join(ORIGINAL, 'bin', 'python'), 'package-python-function==1.0.0']);
  }
}

/** Runs a command under GNU time; returns wall seconds and peak RSS in MiB. */
function timed(cmd: string, args: string[], cwd: string): { seconds: number; peakMiB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'POSSUM_TIME %e %M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /POSSUM_TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main() {
  if (!fs.existsSync(OUR_CLI)) throw new Error(`${OUR_CLI} is missing: run \`npx projen compile\``);
  fs.mkdirSync(OUT, { recursive: true });
  ensureVenvs();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(path.join(WORK, 'pyproject.toml'), '[project]\nname = "bench-fn"\nversion = "0.1.0"\n');
  const results: Record<'ours' | 'original', Array<{ seconds: number; peakMiB: number }>> = { ours: [], original: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const which of (i % 2 === 0 ? ['ours', 'original'] : ['original', 'ours']) as Array<'ours' | 'original'>) {
      const out = path.join(WORK, `${which}-${i}`);
      const r = which === 'ours'
        ? timed(process.execPath, [OUR_CLI, VENV, '--output-dir', out], WORK)
        : timed(path.join(ORIGINAL, 'bin', 'package-python-function'), [VENV, '--output-dir', out], WORK);
      results[which].push(r);
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  const summary = (k: 'ours' | 'original') => ({
    medianSeconds: +median(results[k].map(r => r.seconds)).toFixed(2),
    peakMiB: +Math.max(...results[k].map(r => r.peakMiB)).toFixed(1),
    runs: results[k],
  });
  const ours = summary('ours');
  const original = summary('original');
  const result = {
    date: new Date().toISOString().slice(0, 10),
    packages: PACKAGES,
    venvMB: +(Number(sh('du', ['-sb', VENV]).split('\t')[0]) / 1e6).toFixed(0),
    ours,
    original,
    timeRatio: +(ours.medianSeconds / original.medianSeconds).toFixed(2),
  };
  fs.writeFileSync(path.join(OUT, 'cli-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
  process.stdout.write(`${JSON.stringify(result, undefined, 2)}\n\n| ${result.venvMB} MB venv | median s | ratio | peak RSS MiB |\n|---|---|---|---|\n` +
    `| package-python-function 1.0.0 (Python, PyPI) | ${original.medianSeconds} | 1.00 | ${original.peakMiB} |\n` +
    `| possum-cdk package-python-function | ${ours.medianSeconds} | **${result.timeRatio.toFixed(2)}** | **${ours.peakMiB}** |\n`);
  fs.rmSync(WORK, { recursive: true, force: true });
}

main();
