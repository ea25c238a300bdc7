/**
 * Bundling benchmark (needs PyPI): an app of 10 Python functions with real dependencies,
 * synthesized with PythonPipfileFunction, against a plain app of the same shape
 * (lambda.Function + Code.fromAsset over the same files, already installed), each synth
 * a separate `node app` process, all in one run:
 *
 *   - cold: empty build cache and cdk.out (possum installs and zips everything);
 *   - warm: the same cdk.out again, nothing changed;
 *   - handler: one function's index.py changed.
 *
 * And a 178 MB function: what a handler-only change adds to a warm synth (the synth after
 * the edit less a synth with nothing changed), against the engine's own full zip of that
 * bundle's tree. Results go to bench/out/bundle-bench.json.
 *
 *   npx projen bench:bundle
 *   BENCH_PART=big npx projen bench:bundle     # the 178 MB function only
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { buildZipSync } from '../src/private/zip/run-sync';
import { BENCH_FUNCTIONS } from './functions';

const OUT = path.join(__dirname, 'out', 'bundle');
const LIB = path.join(__dirname, '..', 'lib');
const CDK_LIB = path.dirname(require.resolve('aws-cdk-lib/package.json'));

const BIG_FUNCTION = ['scipy==1.15.3', 'numpy==2.2.6'];

function writeFunction(dir: string, requirements: string[]) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.py'), 'def handler(event, context):\n    return "ok"\n');
  fs.writeFileSync(path.join(dir, 'requirements.txt'), requirements.join('\n') + '\n');
}

function appSource(kind: 'possum' | 'plain', dirs: string[], cacheDir: string): string {
  return `
const cdk = require(${JSON.stringify(CDK_LIB)});
const lambda = require(${JSON.stringify(path.join(CDK_LIB, 'aws-lambda'))});
const { PythonPipfileFunction } = require(${JSON.stringify(LIB)});
const app = new cdk.App();
const stack = new cdk.Stack(app, 'Bench');
${JSON.stringify(dirs)}.forEach((dir, i) => {
  ${kind === 'possum'
    ? `new PythonPipfileFunction(stack, 'Fn' + i, { entry: dir, runtime: lambda.Runtime.PYTHON_3_12, bundling: { cacheDir: ${JSON.stringify(cacheDir)} } });`
    : "new lambda.Function(stack, 'Fn' + i, { code: lambda.Code.fromAsset(dir), handler: 'index.handler', runtime: lambda.Runtime.PYTHON_3_12 });"}
});
app.synth();`;
}

/** Runs one synth in its own process; returns wall seconds. `expected`: what its stderr must say (what it did). */
function synth(appFile: string, outdir: string, expected?: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [appFile], { env: { ...process.env, CDK_OUTDIR: outdir }, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${appFile} failed:\n${r.stderr}`);
  if (expected && !r.stderr.includes(expected)) throw new Error(`${appFile} did not say "${expected}":\n${r.stderr}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main() {
  const f = (n: number) => n.toFixed(2);
  const app = process.env.BENCH_PART === 'big' ? undefined : appPart();
  const big = bigPart();
  const result = { date: new Date().toISOString(), functions: BENCH_FUNCTIONS.length, app, big };
  fs.writeFileSync(path.join(__dirname, 'out', `bundle-bench${app ? '' : '-big'}.json`), JSON.stringify(result, undefined, 2) + '\n');
  if (app) {
    console.log('| 10-function app | plain Code.fromAsset s | possum-cdk s | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| cold (empty cache and cdk.out) | ${f(app.plain.cold)} | ${f(app.possum.cold)} | ${f(app.ratios.cold)} |`);
    console.log(`| warm re-synth, nothing changed (median of 5) | ${f(app.plain.warm)} | ${f(app.possum.warm)} | ${f(app.ratios.warm)} |`);
    console.log(`| one handler changed | ${f(app.plain.handler)} | ${f(app.possum.handler)} | ${f(app.ratios.handler)} |`);
    console.log('');
  }
  console.log(`| ${(big.unzippedBytes / 1e6).toFixed(0)} MB function | seconds | ratio to the engine zip |`);
  console.log('|---|---|---|');
  console.log(`| engine zip of the same tree, from scratch (median of 5) | ${f(big.engineZip)} | 1.00 |`);
  console.log(`| warm synth, nothing changed (median of 5) | ${f(big.warm)} | ${f(big.warm / big.engineZip)} |`);
  console.log(`| synth after a handler-only change (median of 5) | ${f(big.handlerChange)} | ${f(big.handlerChange / big.engineZip)} |`);
  console.log(`| what the handler change adds (difference of the medians) | ${f(big.added)} | ${f(big.ratio)} |`);
}

function appPart() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const cacheDir = path.join(OUT, 'cache');
  const possumDirs = BENCH_FUNCTIONS.map((_reqs, i) => path.join(OUT, 'possum', `fn${i}`));
  BENCH_FUNCTIONS.forEach((reqs, i) => writeFunction(possumDirs[i], reqs));
  const possumApp = path.join(OUT, 'possum-app.js');
  fs.writeFileSync(possumApp, appSource('possum', possumDirs, cacheDir));

  const cold = synth(possumApp, path.join(OUT, 'cdk.out.possum'));

  // The plain app gets exactly the files of each bundle, unpacked into a folder.
  const outPossum = path.join(OUT, 'cdk.out.possum');
  const template = JSON.parse(fs.readFileSync(path.join(outPossum, 'Bench.template.json'), 'utf8'));
  const plainDirs = possumDirs.map((_d, i) => {
    const resource = Object.entries(template.Resources).find(([id, r]: [string, any]) =>
      r.Type === 'AWS::Lambda::Function' && new RegExp(`^Fn${i}[0-9A-F]{8}$`).test(id))![1] as any;
    const target = path.join(OUT, 'plain', `fn${i}`);
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', path.join(outPossum, `asset.${resource.Properties.Code.S3Key}`), target]);
    if (unzip.status !== 0) throw new Error(String(unzip.stderr));
    return target;
  });
  const plainApp = path.join(OUT, 'plain-app.js');
  fs.writeFileSync(plainApp, appSource('plain', plainDirs, cacheDir));

  const plainCold = synth(plainApp, path.join(OUT, 'cdk.out.plain'));
  const warm: number[] = [];
  const plainWarm: number[] = [];
  for (let i = 0; i < 5; i++) {
    plainWarm.push(synth(plainApp, path.join(OUT, 'cdk.out.plain')));
    warm.push(synth(possumApp, path.join(OUT, 'cdk.out.possum')));
  }
  fs.appendFileSync(path.join(possumDirs[0], 'index.py'), '# changed\n');
  const handler = synth(possumApp, path.join(OUT, 'cdk.out.possum'), 'entries copied compressed from the previous zip');
  fs.appendFileSync(path.join(plainDirs[0], 'index.py'), '# changed\n');
  const plainHandler = synth(plainApp, path.join(OUT, 'cdk.out.plain'));

  return {
    plain: { cold: plainCold, warm: median(plainWarm), handler: plainHandler },
    possum: { cold, warm: median(warm), handler },
    ratios: { cold: cold / plainCold, warm: median(warm) / median(plainWarm), handler: handler / plainHandler },
  };
}

function bigPart() {
  const cacheDir = path.join(OUT, 'cache');
  // The 178 MB function: the engine's full zip of its tree, a warm synth, and a synth after a handler edit.
  const bigDir = path.join(OUT, 'big', 'fn');
  fs.rmSync(path.dirname(bigDir), { recursive: true, force: true });
  writeFunction(bigDir, BIG_FUNCTION);
  const bigApp = path.join(OUT, 'big-app.js');
  fs.writeFileSync(bigApp, appSource('possum', [bigDir], cacheDir));
  synth(bigApp, path.join(OUT, 'cdk.out.big'));
  const bigTree = fs.readdirSync(path.join(cacheDir, 'v2', 'deps')).map(k => path.join(cacheDir, 'v2', 'deps', k, 'tree'))
    .find(t => fs.existsSync(path.join(t, 'scipy')))!;
  const engineRuns: number[] = [];
  const warmRuns: number[] = [];
  const handlerRuns: number[] = [];
  let unzippedBytes = 0;
  // An edit never seen before: the build cache outlives a `BENCH_PART=big` run, and an edit
  // that repeated an earlier run's (`# change 0`) found its zip there and measured nothing.
  const nonce = crypto.randomBytes(8).toString('hex');
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    const report = buildZipSync({ sources: [{ dir: bigTree }, { dir: bigDir }], output: path.join(OUT, `engine-${i}.zip`) });
    engineRuns.push(Number(process.hrtime.bigint() - start) / 1e9);
    unzippedBytes = report.unzippedBytes;
    warmRuns.push(synth(bigApp, path.join(OUT, 'cdk.out.big'), 'bundle unchanged, reused from the cache'));
    fs.appendFileSync(path.join(bigDir, 'index.py'), `# change ${nonce} ${i}\n`);
    handlerRuns.push(synth(bigApp, path.join(OUT, 'cdk.out.big'), 'entries copied compressed from the previous zip'));
  }
  const added = median(handlerRuns) - median(warmRuns);
  return {
    unzippedBytes,
    engineZip: median(engineRuns),
    warm: median(warmRuns),
    handlerChange: median(handlerRuns),
    added,
    ratio: added / median(engineRuns),
  };
}

main();
