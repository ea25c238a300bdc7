/**
 * Remote build cache benchmark (needs PyPI): the 10-function app of bench:bundle synthesized
 * by CI runners, each its own `node app` process with its own empty local cache, all in one
 * run against moto's S3 server on 127.0.0.1:
 *
 *   - fully cold: empty local cache, no remote cache;
 *   - runner A: empty local cache, empty remote cache (builds and publishes);
 *   - runner B: empty local cache, the remote cache A filled (median of 3).
 *
 *   npx projen bench:remote
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BENCH_FUNCTIONS } from './functions';
import { MotoS3 } from '../test/helpers/s3';

const OUT = path.join(__dirname, 'out', 'remote');
const LIB = path.join(__dirname, '..', 'lib');
const CDK_LIB = path.dirname(require.resolve('aws-cdk-lib/package.json'));

function appSource(dirs: string[]): string {
  return `
const cdk = require(${JSON.stringify(CDK_LIB)});
const lambda = require(${JSON.stringify(path.join(CDK_LIB, 'aws-lambda'))});
const { PythonPipfileFunction } = require(${JSON.stringify(LIB)});
const app = new cdk.App();
const stack = new cdk.Stack(app, 'Bench');
${JSON.stringify(dirs)}.forEach((dir, i) => {
  new PythonPipfileFunction(stack, 'Fn' + i, { entry: dir, runtime: lambda.Runtime.PYTHON_3_12, bundling: { cacheDir: process.env.BENCH_CACHE } });
});
app.synth();`;
}

let runs = 0;
/** One runner: a fresh local cache and cdk.out; returns wall seconds and whether anything was installed. */
function runner(appFile: string, env: NodeJS.ProcessEnv): { seconds: number; installed: boolean } {
  const n = runs++;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [appFile], {
    env: { ...process.env, ...env, CDK_OUTDIR: path.join(OUT, `cdk.out.${n}`), BENCH_CACHE: path.join(OUT, `cache-${n}`) },
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${appFile} failed:\n${r.stderr}`);
  return { seconds, installed: r.stderr.includes(': installing ') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const dirs = BENCH_FUNCTIONS.map((reqs, i) => {
    const dir = path.join(OUT, 'fn', `fn${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.py'), 'def handler(event, context):\n    return "ok"\n');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), reqs.join('\n') + '\n');
    return dir;
  });
  const app = path.join(OUT, 'app.js');
  fs.writeFileSync(app, appSource(dirs));
  const moto = await MotoS3.start('fleet');
  try {
    const remote = { ...MotoS3.ENV, AWS_ENDPOINT_URL_S3: moto.endpoint, POSSUM_REMOTE_CACHE: 's3://fleet/possum' };
    const cold = runner(app, { POSSUM_REMOTE_CACHE: '' });
    const a = runner(app, remote);
    const b = [runner(app, remote), runner(app, remote), runner(app, remote)];
    if (b.some(r => r.installed)) throw new Error('a runner with the remote cache filled installed something');
    const result = { date: new Date().toISOString(), functions: dirs.length, cold: cold.seconds, publish: a.seconds, warmRemote: median(b.map(r => r.seconds)) };
    fs.writeFileSync(path.join(__dirname, 'out', 'remote-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
    const f = (x: number) => x.toFixed(2);
    console.log('| 10-function app, each runner with an empty local cache | seconds | ratio |');
    console.log('|---|---|---|');
    console.log(`| fully cold (no remote cache) | ${f(result.cold)} | 1.00 |`);
    console.log(`| runner A: cold, publishing to the remote cache | ${f(result.publish)} | ${f(result.publish / result.cold)} |`);
    console.log(`| runner B: the remote cache warm (median of 3) | ${f(result.warmRemote)} | ${f(result.warmRemote / result.cold)} |`);
  } finally {
    moto.stop();
  }
}

void main();
