/**
 * possum vs `sam build` (needs PyPI): one SAM app of 10 Python 3.11 functions with real
 * dependencies, packaged by
 *   - possum (bundles, uploads to moto's S3 server on 127.0.0.1, writes the template):
 *     cold (empty build cache, empty bucket) and warm (nothing changed), with its default
 *     installer (pip) and cold again with `--installer uv` (uv from .tools/);
 *   - aws-sam-cli's `sam build` (no container; this machine's Python 3.11 matches the
 *     runtime): cold, and warm with `--cached` (after a first cached build),
 * all in one run. Results go to bench/out/sam-bench.json.
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

function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${r.stderr.slice(-3000)}`);
  return seconds;
}


async function main() {
  if (!fs.existsSync(SAM)) throw new Error(`${SAM} is missing: run "npx projen bench:sam", which installs aws-sam-cli first.`);
  fs.rmSync(OUT, { recursive: true, force: true });
  const app = path.join(OUT, 'app');
  writeApp(app);

  const moto = await MotoS3.start('bench');
  const endpoint = moto.endpoint;
  const aws = { ...MotoS3.ENV, SAM_CLI_TELEMETRY: '0' };
  try {

    // Each tool starts with its own empty pip download cache, so neither downloads for the other.
    const possumEnv = { ...aws, POSSUM_CACHE_DIR: path.join(OUT, 'possum-cache'), PIP_CACHE_DIR: path.join(OUT, 'pip-cache-possum') };
    const samEnv = { ...aws, PIP_CACHE_DIR: path.join(OUT, 'pip-cache-sam') };
    const possumArgs = [POSSUM, 'bench/app', '-t', 'template.yaml', '--endpoint-url', endpoint, '-o', path.join(OUT, 'packaged.yaml')];
    const possumCold = timed(process.execPath, possumArgs, app, possumEnv);
    const possumWarm = [0, 1, 2].map(() => timed(process.execPath, possumArgs, app, possumEnv)).sort((a, b) => a - b)[1];

    // The same cold run with uv: its own empty build cache, uv download cache and prefix.
    const uvEnv = {
      ...aws,
      POSSUM_CACHE_DIR: path.join(OUT, 'possum-uv-cache'),
      UV_CACHE_DIR: path.join(OUT, 'uv-cache'),
      PATH: `${path.join(REPO, '.tools', 'bin')}:${process.env.PATH}`,
    };
    const uvArgs = [POSSUM, 'bench/app-uv', '-t', 'template.yaml', '--endpoint-url', endpoint, '--installer', 'uv', '-o', path.join(OUT, 'packaged-uv.yaml')];
    const possumUvCold = timed(process.execPath, uvArgs, app, uvEnv);

    const samCold = timed(SAM, ['build', '--build-dir', path.join(OUT, 'sam-build-cold')], app, samEnv);
    const samCachedArgs = ['build', '--cached', '--cache-dir', path.join(OUT, 'sam-cache'), '--build-dir', path.join(OUT, 'sam-build')];
    timed(SAM, samCachedArgs, app, samEnv);
    const samWarm = [0, 1, 2].map(() => timed(SAM, samCachedArgs, app, samEnv)).sort((a, b) => a - b)[1];

    const result = {
      date: new Date().toISOString(),
      functions: BENCH_FUNCTIONS.length,
      possum: { cold: possumCold, warm: possumWarm, coldUv: possumUvCold },
      sam: { cold: samCold, warmCached: samWarm },
      ratios: { cold: possumCold / samCold, coldUv: possumUvCold / samCold, warm: possumWarm / samWarm },
    };
    fs.writeFileSync(path.join(__dirname, 'out', 'sam-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
    const f = (n: number) => n.toFixed(2);
    console.log('| 10-function SAM app | sam build s | possum s | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| cold (empty build and pip caches; possum also uploads) | ${f(samCold)} | ${f(possumCold)} | ${f(result.ratios.cold)} |`);
    console.log(`| cold, \`possum --installer uv\` (empty build and uv caches) | ${f(samCold)} | ${f(possumUvCold)} | ${f(result.ratios.coldUv)} |`);
    console.log(`| warm, nothing changed (sam build --cached; median of 3) | ${f(samWarm)} | ${f(possumWarm)} | ${f(result.ratios.warm)} |`);
  } finally {
    moto.stop();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
