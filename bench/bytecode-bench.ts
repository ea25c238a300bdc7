/**
 * Cold-import benchmark for Bytecode.CHECKED_HASH (needs PyPI): one python3.11 function with
 * pandas, numpy, pydantic and boto3, bundled with and without bytecode by PythonPipfileFunction,
 * each unpacked as Lambda would unpack it; then, alternating, a fresh `python3` process
 * imports them from the unpacked tree with bytecode writing off (Lambda's /var/task is
 * read-only), 7 times each. Results go to bench/out/bytecode-bench.json.
 *
 *   npx projen bench:bytecode
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const OUT = path.join(__dirname, 'out', 'bytecode');
const LIB = path.join(__dirname, '..', 'lib');
const CDK_LIB = path.dirname(require.resolve('aws-cdk-lib/package.json'));
const REQUIREMENTS = ['pandas==2.2.3', 'numpy==2.2.6', 'pydantic==2.11.7', 'boto3==1.40.4'];
const IMPORTS = 'import pandas, numpy, pydantic, boto3';

function bundle(label: string, bytecode: boolean): { dir: string; files: number; unzippedBytes: number } {
  const entry = path.join(OUT, label, 'fn');
  fs.mkdirSync(entry, { recursive: true });
  fs.writeFileSync(path.join(entry, 'index.py'), `${IMPORTS}\n\ndef handler(event, context):\n    return "ok"\n`);
  fs.writeFileSync(path.join(entry, 'requirements.txt'), REQUIREMENTS.join('\n') + '\n');
  const app = path.join(OUT, `${label}-app.js`);
  fs.writeFileSync(app, `
const cdk = require(${JSON.stringify(CDK_LIB)});
const lambda = require(${JSON.stringify(path.join(CDK_LIB, 'aws-lambda'))});
const { Bytecode, PythonPipfileFunction } = require(${JSON.stringify(LIB)});
const app = new cdk.App({ outdir: ${JSON.stringify(path.join(OUT, label, 'cdk.out'))} });
const stack = new cdk.Stack(app, 'S');
const fn = new PythonPipfileFunction(stack, 'Fn', { entry: ${JSON.stringify(entry)}, runtime: lambda.Runtime.PYTHON_3_11,
  bundling: { cacheDir: ${JSON.stringify(path.join(OUT, 'cache'))}, bytecode: Bytecode.${bytecode ? 'CHECKED_HASH' : 'NONE'} } });
app.synth();
process.stdout.write(JSON.stringify({ key: stack.resolve(fn.node.defaultChild.code).s3Key, report: fn.sizeReport }) + '\\n');`);
  const r = spawnSync(process.execPath, [app], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const { key, report } = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const dir = path.join(OUT, label, 'task');
  const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', path.join(OUT, label, 'cdk.out', `asset.${key}`), dir]);
  if (unzip.status !== 0) throw new Error(String(unzip.stderr));
  return { dir, files: report.files, unzippedBytes: report.unzippedBytes };
}

function coldImport(dir: string): number {
  const start = process.hrtime.bigint();
  // -I ignores PYTHON* variables, so -B (not PYTHONDONTWRITEBYTECODE) keeps the tree read-only as on Lambda.
  const r = spawnSync('python3', ['-I', '-B', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); ${IMPORTS}`],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const plain = bundle('sources', false);
  const compiled = bundle('bytecode', true);
  coldImport(plain.dir);
  coldImport(compiled.dir); // warm the page cache for both trees
  const without: number[] = [];
  const withPyc: number[] = [];
  for (let i = 0; i < 7; i++) {
    without.push(coldImport(plain.dir));
    withPyc.push(coldImport(compiled.dir));
  }
  const result = {
    date: new Date().toISOString(), requirements: REQUIREMENTS,
    sources: { seconds: median(without), unzippedBytes: plain.unzippedBytes, files: plain.files },
    bytecode: { seconds: median(withPyc), unzippedBytes: compiled.unzippedBytes, files: compiled.files },
    ratio: median(withPyc) / median(without),
  };
  fs.writeFileSync(path.join(__dirname, 'out', 'bytecode-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
  const f = (x: number) => x.toFixed(3);
  console.log(`| ${IMPORTS}, fresh python3.11, read-only tree | seconds (median of 7) | ratio | unzipped MB |`);
  console.log('|---|---|---|---|');
  console.log(`| sources only (Bytecode.NONE) | ${f(result.sources.seconds)} | 1.00 | ${(plain.unzippedBytes / 1e6).toFixed(1)} |`);
  console.log(`| Bytecode.CHECKED_HASH | ${f(result.bytecode.seconds)} | ${result.ratio.toFixed(2)} | ${(compiled.unzippedBytes / 1e6).toFixed(1)} |`);
}

main();
