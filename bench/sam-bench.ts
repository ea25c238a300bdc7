/**
 * possum vs `sam build` (needs PyPI): one SAM app of 10 Python 3.11 functions with real
 * dependencies, packaged by
 *   - possum (bundles, uploads to a moto S3 server on 127.0.0.1, prints the template):
 *     cold (empty build cache, empty bucket) and warm (nothing changed);
 *   - aws-sam-cli's `sam build` (no container; this machine's Python 3.11 matches the
 *     runtime): cold, and warm with `--cached` (after a first cached build),
 * all in one run. Results go to bench/out/sam-bench.json.
 *
 *   npx projen bench:sam      (installs aws-sam-cli into bench/out/sam-venv once)
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

const OUT = path.join(__dirname, 'out', 'sam');
const REPO = path.join(__dirname, '..');
const SAM = path.join(__dirname, 'out', 'sam-venv', 'bin', 'sam');
const MOTO = path.join(REPO, '.tools', 'bin', 'moto_server');
const POSSUM = path.join(REPO, 'lib', 'cli', 'possum.js');

const FUNCTIONS: string[][] = [
  ['requests==2.32.3'],
  ['pydantic==2.11.7'],
  ['PyYAML==6.0.2', 'Jinja2==3.1.6'],
  ['attrs==24.2.0', 'python-dateutil==2.9.0.post0'],
  ['orjson==3.10.18'],
  ['numpy==2.2.6'],
  ['structlog==25.4.0', 'requests==2.32.3'],
  ['cryptography==45.0.4'],
  ['aws-lambda-powertools==3.15.1'],
  ['httpx==0.28.1'],
];

function writeApp(dir: string) {
  const resources = FUNCTIONS.map((reqs, i) => {
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

async function freePort(): Promise<number> {
  return new Promise(resolve => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  if (!fs.existsSync(SAM)) throw new Error(`${SAM} is missing: run "npx projen bench:sam", which installs aws-sam-cli first.`);
  fs.rmSync(OUT, { recursive: true, force: true });
  const app = path.join(OUT, 'app');
  writeApp(app);

  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const aws = { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1', SAM_CLI_TELEMETRY: '0' };
  try {
    const { S3Client, CreateBucketCommand } = require('@aws-sdk/client-s3');
    const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    for (let i = 0; ; i++) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise(r => setTimeout(r, 100));
      }
    }
    s3.destroy();

    const possumEnv = { ...aws, POSSUM_CACHE_DIR: path.join(OUT, 'possum-cache') };
    const possumArgs = [POSSUM, 'bench/app', '-t', 'template.yaml', '--endpoint-url', endpoint, '-o', path.join(OUT, 'packaged.yaml')];
    const possumCold = timed(process.execPath, possumArgs, app, possumEnv);
    const possumWarm = [0, 1, 2].map(() => timed(process.execPath, possumArgs, app, possumEnv)).sort((a, b) => a - b)[1];

    const samCold = timed(SAM, ['build', '--build-dir', path.join(OUT, 'sam-build-cold')], app, aws);
    const samCachedArgs = ['build', '--cached', '--cache-dir', path.join(OUT, 'sam-cache'), '--build-dir', path.join(OUT, 'sam-build')];
    timed(SAM, samCachedArgs, app, aws);
    const samWarm = [0, 1, 2].map(() => timed(SAM, samCachedArgs, app, aws)).sort((a, b) => a - b)[1];

    const result = {
      date: new Date().toISOString(),
      functions: FUNCTIONS.length,
      possum: { cold: possumCold, warm: possumWarm },
      sam: { cold: samCold, warmCached: samWarm },
      ratios: { cold: possumCold / samCold, warm: possumWarm / samWarm },
    };
    fs.writeFileSync(path.join(__dirname, 'out', 'sam-bench.json'), JSON.stringify(result, undefined, 2) + '\n');
    const f = (n: number) => n.toFixed(2);
    console.log('| 10-function SAM app | sam build s | possum s | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| cold (empty caches; possum also uploads) | ${f(samCold)} | ${f(possumCold)} | ${f(result.ratios.cold)} |`);
    console.log(`| warm, nothing changed (sam build --cached; median of 3) | ${f(samWarm)} | ${f(possumWarm)} | ${f(result.ratios.warm)} |`);
  } finally {
    moto.kill();
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
