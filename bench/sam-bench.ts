/**
 * possum vs `sam build` (needs PyPI): one SAM app of 10 Python 3.11 functions with real
 * dependencies, packaged by
 *   - possum (bundles, uploads to moto's S3 server on 127.0.0.1, writes the template), with
 *     its default settings: cold five times (each with an empty build cache, uv download
 *     cache and prefix; the uv it pins already provisioned, as sam's pip is), warm (nothing
 *     changed), and the
 *     first run on a machine (cold, and provisioning that uv too); then cold again with
 *     `--installer pip`;
 *   - aws-sam-cli's `sam build` (no container; this machine's Python 3.11 matches the
 *     runtime): cold five times (each with an empty build folder and pip cache), and warm with `--cached` (after a first cached build),
 *   - the construct: a CDK app whose SamTemplatePackager brings in the same template, synthesized
 *     cold five times (empty cdk.out and caches, the same provisioned uv), as `cdk synth` runs it,
 * all in one run, the cold runs of the three alternating, each after `settle()`.
 * Results go to bench/out/sam-bench.json.
 *
 *   npx projen bench:sam      (installs aws-sam-cli into bench/out/sam-venv once)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { MotoS3 } from '../test/helpers/s3';
import { BENCH_FUNCTIONS } from './functions';

const OUT = path.join(__dirname, 'out', 'sam');
const REPO = path.join(__dirname, '..');
const SAM = path.join(__dirname, 'out', 'sam-venv', 'bin', 'sam');
const POSSUM = path.join(REPO, 'lib', 'cli', 'possum.js');
const CDK_LIB = path.dirname(require.resolve('aws-cdk-lib/package.json'));

/** A CDK app that brings the SAM template in with SamTemplatePackager, run as `cdk synth` would (`node app`). */
function writeCdkApp(dir: string): string {
  const file = path.join(dir, 'cdk-app.js');
  fs.writeFileSync(file, `
const cdk = require(${JSON.stringify(CDK_LIB)});
const { SamTemplatePackager } = require(${JSON.stringify(path.join(REPO, 'lib'))});
const app = new cdk.App();
const stack = new cdk.Stack(app, 'Bench');
new SamTemplatePackager(stack, 'Sam', { templateFile: ${JSON.stringify(path.join(dir, 'template.yaml'))} });
app.synth();
`);
  return file;
}


function writeApp(dir: string) {
  const resources = BENCH_FUNCTIONS.map((reqs, i) => {
    fs.mkdirSync(path.join(dir, `fn${i}`), { recursive: true });
    fs.writeFileSync(path.join(dir, `fn${i}`, 'app.py'), 'def handler(event, context):\n    return "ok"\n');
    fs.writeFileSync(path.join(dir, `fn${i}`, 'requirements.txt'), reqs.join('\n') + '\n');
    return `  Fn${i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn${i}/\n`;
  });
  fs.writeFileSync(path.join(dir, 'template.yaml'), [
    "AWSTemplateFormatVersion: '2010-09-09'",
    'Transform: AWS::Serverless-2016-10-31',
    'Globals:', '  Function:', '    Runtime: python3.11', '    Handler: app.handler', '    Timeout: 10',
    'Resources:', ...resources,
  ].join('\n'));
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * Before each cold run: writes dirty blocks out and waits a minute, so that neither tool pays
 * for files deleted before it started. This machine's root filesystem is ext4 without a
 * journal, and there ext4 will not reuse an inode freed in the last 60 seconds (360 while its
 * inode-table block is still unwritten): each new file's allocation scans past them. perf
 * put 13% of a cold possum run in that scan (`recently_deleted`) when it started a minute
 * after the previous run's caches were deleted, and 0% after `sync` and 61 seconds; sam's pip
 * deletes its temporary install folders, so its second and third runs paid for its first.
 * A journaled ext4, XFS or APFS does not do this. BENCH_SETTLE_SECONDS=0 skips the wait.
 */
function settle() {
  const seconds = Number(process.env.BENCH_SETTLE_SECONDS ?? '61');
  if (!(seconds > 0)) return;
  spawnSync('sync');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return seconds;
}


async function main() {
  if (!fs.existsSync(SAM)) throw new Error(`${SAM} is missing: run "npx projen bench:sam", which installs aws-sam-cli first.`);
  // The last run's files are deleted after this run's timings, not before: ext4 skips inodes
  // freed in the last minute when it allocates new ones, so a mass delete just before a cold
  // run makes every file it creates (hundreds of thousands here) measurably slower to create.
  const old = fs.existsSync(OUT) ? `${OUT}.old-${process.pid}` : undefined;
  if (old) fs.renameSync(OUT, old);
  const app = path.join(OUT, 'app');
  writeApp(app);

  const moto = await MotoS3.start('bench');
  const endpoint = moto.endpoint;
  const aws = { ...MotoS3.ENV, SAM_CLI_TELEMETRY: '0' };
  try {

    // Each tool starts with empty build and download caches, so neither downloads for the other.
    // possum's default installer is uv: its download cache starts empty too.
    const uvHome = path.join(OUT, 'uv-provisioned');
    const possumEnv = (name: string, extra: NodeJS.ProcessEnv = {}) => ({
      ...aws,
      POSSUM_CACHE_DIR: path.join(OUT, `${name}-cache`),
      UV_CACHE_DIR: path.join(OUT, `${name}-uv-cache`),
      PIP_CACHE_DIR: path.join(OUT, `${name}-pip-cache`),
      ...extra,
    });
    const possumArgs = (name: string, extra: string[] = []) =>
      [POSSUM, `bench/${name}`, '-t', 'template.yaml', '--endpoint-url', endpoint, ...extra, '-o', path.join(OUT, `packaged-${name}.yaml`)];
    // The first run on a machine: nothing provisioned, so possum installs the uv it pins (with
    // pip, from the configured index) before building. PATH without .tools/ keeps the tests' uv out.
    const bareEnv = possumEnv('first', { PATH: (process.env.PATH ?? '').split(':').filter(d => !d.includes('.tools')).join(':'), POSSUM_UV: '' });
    settle();
    const possumFirst = timed(process.execPath, possumArgs('first'), app, bareEnv);
    // Later cold runs find that uv where it was provisioned (POSSUM_UV points at it, as PATH could).
    fs.cpSync(path.join(OUT, 'first-cache', 'v2', 'tools'), uvHome, { recursive: true });
    const uvBinary = path.join(uvHome, fs.readdirSync(uvHome).find(d => d.startsWith('uv-'))!, 'bin', 'uv');
    // Five cold runs each (empty caches every time; BENCH_COLD_RUNS for another count), the
    // median reported: a lost DNS reply or a slow download moves one run by seconds, and sam's
    // runs alone spread over five seconds (14 to 19 s), more than a median of three steadies.
    // The tools alternate, so a slow spell of the network or the machine falls on both.
    const samEnv = { ...aws, PIP_CACHE_DIR: path.join(OUT, 'pip-cache-sam') };
    const cdkApp = writeCdkApp(app);
    const possumColds: number[] = [];
    const samColds: number[] = [];
    const constructColds: number[] = [];
    const coldRuns = Math.max(1, Number(process.env.BENCH_COLD_RUNS ?? 5));
    for (let i = 0; i < coldRuns; i++) {
      settle();
      possumColds.push(timed(process.execPath, possumArgs(`default${i}`), app, possumEnv(`default${i}`, { POSSUM_UV: uvBinary })));
      settle();
      samColds.push(timed(SAM, ['build', '--build-dir', path.join(OUT, `sam-build-cold${i}`)], app,
        { ...samEnv, PIP_CACHE_DIR: path.join(OUT, `pip-cache-sam-cold${i}`) }));
      settle();
      constructColds.push(timed(process.execPath, [cdkApp], app,
        possumEnv(`construct${i}`, { POSSUM_UV: uvBinary, CDK_OUTDIR: path.join(OUT, `cdk.out.construct${i}`) })));
    }
    const constructCold = median(constructColds);
    const possumCold = median(possumColds);
    const samCold = median(samColds);
    const defaultEnv = possumEnv('default0', { POSSUM_UV: uvBinary });
    const possumWarm = median([0, 1, 2].map(() => timed(process.execPath, possumArgs('default0'), app, defaultEnv)));
    settle();
    const possumPipCold = timed(process.execPath, possumArgs('pip', ['--installer', 'pip']), app, possumEnv('pip', { POSSUM_UV: uvBinary }));

    const samCachedArgs = ['build', '--cached', '--cache-dir', path.join(OUT, 'sam-cache'), '--build-dir', path.join(OUT, 'sam-build')];
    timed(SAM, samCachedArgs, app, samEnv);
    const samWarm = median([0, 1, 2].map(() => timed(SAM, samCachedArgs, app, samEnv)));

    const result = {
      date: new Date().toISOString(),
      functions: BENCH_FUNCTIONS.length,
      possum: { cold: possumCold, colds: possumColds, firstRun: possumFirst, warm: possumWarm, coldPip: possumPipCold },
      sam: { cold: samCold, colds: samColds, warmCached: samWarm },
      construct: { cold: constructCold, colds: constructColds },
      ratios: {
        cold: possumCold / samCold, firstRun: possumFirst / samCold, coldPip: possumPipCold / samCold, warm: possumWarm / samWarm,
        constructCold: constructCold / samCold,
      },
    };
    fs.writeFileSync(path.join(__dirname, 'out', 'sam-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
    const f = (n: number) => n.toFixed(2);
    console.log('| 10-function SAM app | sam build s | possum s | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| cold, default settings (empty build and download caches; possum also uploads; median of ${coldRuns}) | ${f(samCold)} | ${f(possumCold)} | ${f(result.ratios.cold)} |`);
    console.log(`| first run on a machine (cold, and possum provisions its uv) | ${f(samCold)} | ${f(possumFirst)} | ${f(result.ratios.firstRun)} |`);
    console.log(`| cold, \`possum --installer pip\` | ${f(samCold)} | ${f(possumPipCold)} | ${f(result.ratios.coldPip)} |`);
    console.log(`| warm, nothing changed (sam build --cached; median of 3) | ${f(samWarm)} | ${f(possumWarm)} | ${f(result.ratios.warm)} |`);
    console.log(`| cold, the construct (\`cdk synth\` of SamTemplatePackager; median of ${coldRuns}) | ${f(samCold)} | ${f(constructCold)} | ${f(result.ratios.constructCold)} |`);
  } finally {
    moto.stop();
    if (old) fs.rmSync(old, { recursive: true, force: true });
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
