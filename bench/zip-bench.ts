/**
 * Zip engine benchmark: a generated tree of about 150 MB in 5,000 files (Python-like
 * source text, compressible binaries and incompressible blobs), zipped by
 *   - the engine, as bundling runs it (a child process, via buildZipSync);
 *   - archiver 7 at level 6 with sorted entries, the library most CDK tools use;
 * against the floor: single-core zlib.deflateRawSync at level 6 over the same bytes,
 * measured in the same run. Results are printed and written to bench/out/zip-bench.json.
 *
 *   npx projen bench:zip            (BENCH_MB / BENCH_FILES change the tree size)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { buildZipSync } from '../src/private/zip/run-sync';

const TOTAL_BYTES = Number(process.env.BENCH_MB ?? 150) * 1024 * 1024;
const FILE_COUNT = Number(process.env.BENCH_FILES ?? 5000);
const OUT = path.join(__dirname, 'out');
const TREE = path.join(OUT, 'tree');

/** Deterministic xorshift32, so every run zips the same tree. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

const WORDS = ('def class return import from self None True False if else elif for in while try except ' +
  'lambda yield with as assert raise pass numpy array value result index data config handler event ' +
  'context response request session client table item key error logger debug info warning').split(' ');

function makeText(rand: () => number, size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const indent = '    '.repeat(rand() % 4);
    const words = Array.from({ length: 3 + (rand() % 9) }, () => WORDS[rand() % WORDS.length]);
    const line = `${indent}${words.join(' ')}(${rand() % 1000})\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function makeBinary(rand: () => number, size: number, compressible: boolean): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) {
    const v = rand();
    // Machine-code-like: small-valued bytes and runs compress about 2x; random blobs do not.
    b.writeUInt32LE(compressible ? (v & 0x0f0f0f0f) : v, Math.min(i, size - 4));
  }
  return b;
}

function generateTree() {
  const marker = path.join(OUT, `tree-${TOTAL_BYTES}-${FILE_COUNT}.done`);
  if (fs.existsSync(marker)) return;
  // Only this benchmark's tree: bench/out also holds the other benchmarks' venvs and results.
  fs.rmSync(TREE, { recursive: true, force: true });
  for (const old of fs.existsSync(OUT) ? fs.readdirSync(OUT).filter(f => /^tree-\d+-\d+\.done$/.test(f)) : []) fs.rmSync(path.join(OUT, old));
  fs.mkdirSync(OUT, { recursive: true });
  const rand = prng(42);
  // File sizes: mostly small, a few large, as in site-packages (scaled to the total).
  const weights = Array.from({ length: FILE_COUNT }, (_, i) => (i % 500 === 0 ? 400 : 1 + (rand() % 20)));
  const scale = TOTAL_BYTES / weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < FILE_COUNT; i++) {
    const size = Math.max(16, Math.floor(weights[i] * scale));
    const kind = i % 10;
    const dir = path.join(TREE, `pkg${i % 40}`, `sub${i % 7}`);
    fs.mkdirSync(dir, { recursive: true });
    if (kind < 6) fs.writeFileSync(path.join(dir, `mod${i}.py`), makeText(rand, size));
    else if (kind < 9) fs.writeFileSync(path.join(dir, `_ext${i}.so`), makeBinary(rand, size, true));
    else fs.writeFileSync(path.join(dir, `blob${i}.bin`), makeBinary(rand, size, false));
  }
  fs.writeFileSync(marker, '');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

function floor(files: string[]): { seconds: number; bytes: number; inputBytes: number } {
  const buffers = files.map(f => fs.readFileSync(f));
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (const b of buffers) bytes += zlib.deflateRawSync(b, { level: 6 }).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, bytes, inputBytes: buffers.reduce((s, b) => s + b.length, 0) };
}

function engine(): { seconds: number; bytes: number; maxRssBytes: number } {
  const start = process.hrtime.bigint();
  const report = buildZipSync({ sources: [{ dir: TREE }], output: path.join(OUT, 'engine.zip') });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, bytes: report.zippedBytes, maxRssBytes: report.maxRssBytes };
}

/** archiver in its own process too, so its peak memory is its own. */
function archiverRun(): { seconds: number; bytes: number; maxRssBytes: number } {
  const script = `
    const archiver = require('archiver'), fs = require('fs'), path = require('path');
    const files = JSON.parse(process.argv[1]);
    const zip = archiver('zip', { zlib: { level: 6 }, statConcurrency: 1 });
    const out = fs.createWriteStream(process.argv[2]);
    zip.pipe(out);
    const date = new Date(Date.UTC(1980, 0, 1));
    for (const f of files) zip.file(f, { name: path.relative(process.argv[3], f), date, mode: 0o644, stats: fs.statSync(f) });
    out.on('close', () => process.stdout.write(JSON.stringify({
      maxRssBytes: Number(/^VmHWM:\\s+(\\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024 })));
    zip.finalize();`;
  const files = listFiles(TREE);
  const listFile = path.join(OUT, 'files.json');
  fs.writeFileSync(listFile, JSON.stringify(files));
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script.replace('JSON.parse(process.argv[1])', `JSON.parse(fs.readFileSync(${JSON.stringify(listFile)}, 'utf8'))`), '', path.join(OUT, 'archiver.zip'), TREE],
    { encoding: 'utf8', cwd: path.join(__dirname, '..') });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(r.stderr);
  return { seconds, bytes: fs.statSync(path.join(OUT, 'archiver.zip')).size, ...JSON.parse(r.stdout) };
}

function main() {
  generateTree();
  const files = listFiles(TREE);
  const f = floor(files);
  const e = engine();
  const a = archiverRun();
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: require('os').cpus().length,
    tree: { files: files.length, bytes: f.inputBytes },
    floor: { seconds: f.seconds, outputBytes: f.bytes },
    engine: { seconds: e.seconds, outputBytes: e.bytes, peakRssBytes: e.maxRssBytes, ratioToFloor: e.seconds / f.seconds },
    archiver: { seconds: a.seconds, outputBytes: a.bytes, peakRssBytes: a.maxRssBytes, ratioToFloor: a.seconds / f.seconds },
  };
  fs.writeFileSync(path.join(OUT, 'zip-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
  console.log(`tree: ${files.length} files, ${mb(f.inputBytes)} MiB; node ${process.version}, ${result.cpus} CPUs`);
  console.log('| zipper | wall s | ratio to floor | output MiB | peak RSS MiB |');
  console.log('|---|---|---|---|---|');
  console.log(`| zlib.deflateRawSync level 6, one core (floor) | ${f.seconds.toFixed(2)} | 1.00 | ${mb(f.bytes)} | - |`);
  console.log(`| possum-cdk engine (child process) | ${e.seconds.toFixed(2)} | ${result.engine.ratioToFloor.toFixed(2)} | ${mb(e.bytes)} | ${mb(e.maxRssBytes)} |`);
  console.log(`| archiver 7, level 6 | ${a.seconds.toFixed(2)} | ${result.archiver.ratioToFloor.toFixed(2)} | ${mb(a.bytes)} | ${mb(a.maxRssBytes)} |`);
}

main();
