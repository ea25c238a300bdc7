import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { knownParameters, planSamPackaging } from '../../src/private/sam/plan';
import { readTemplate } from '../../src/private/sam/template';
import { samPython, refEnv } from '../helpers/reference-tools';
import { RieFunction } from '../helpers/rie';
import { REPO_ROOT, run, sha256, tempDir, unzipWithPython } from '../helpers/run';
import { MotoS3 } from '../helpers/s3';
import { samCheckBatch } from '../helpers/sam-corpora';

/**
 * The project a new SAM user starts from: `sam init`'s Python hello-world, made at test time
 * by the real SAM CLI (aws-sam-cli from PyPI, pinned in test/helpers/reference-tools.ts) from
 * the cookiecutter it ships, as `sam init --location ... --no-input` makes it offline. Nothing
 * of it is edited. It goes through both paths:
 * - `cdk synth` (the real CDK CLI) of an app with a SamTemplatePackager over it;
 * - `possum BUCKET -t template.yaml -o out.yaml` against moto's S3;
 * then the real SAM translator must see the same template as the original but for CodeUri,
 * cfn-lint must find nothing new, the uploaded zip must hold the function's requirement
 * (`requests`, unpinned, so resolved from PyPI), and the zip must run in the Lambda Runtime
 * Interface Emulator and answer as the template's own unit test expects.
 */
const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'sam-app.js');
const POSSUM = path.join(REPO_ROOT, 'lib', 'cli', 'possum.js');
const CACHE = path.join(REPO_ROOT, '.possum-cache', 'sam-init');
/** The interpreter the emulator runs functions with (the tools venv's, 3.11): the runtime to ask `sam init` for. */
const RUNTIME = 'python3.11';

let moto: MotoS3;
let sam: string;
beforeAll(async () => {
  sam = samPython();
  moto = await MotoS3.start('sam-init-bucket');
}, 10 * 60_000);
afterAll(() => moto?.stop());

/** Runs `sam init` with the hello-world cookiecutter the SAM CLI ships; returns the project folder. */
function samInit(name: string, extraContext?: object): string {
  const location = run(sam, ['-c', 'import os, samcli; print(os.path.join(os.path.dirname(samcli.__file__), "lib", "init", "templates", "cookiecutter-aws-sam-hello-python"))'])
    .stdout.trim();
  const out = tempDir('sam-init');
  const args = ['-m', 'samcli', 'init', '--location', location, '--no-input', '--name', name, '--output-dir', out];
  if (extraContext) args.push('--extra-context', JSON.stringify(extraContext));
  const r = run(sam, args, { env: refEnv({ SAM_CLI_TELEMETRY: '0', HOME: out }), cwd: out, timeoutMs: 300_000 });
  if (r.status !== 0) throw new Error(`sam init failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  const dir = path.join(out, name);
  expect(fs.existsSync(path.join(dir, 'template.yaml'))).toBe(true);
  return dir;
}

function cdkSynth(templateFile: string) {
  const work = tempDir('sam-init-cdk');
  const outdir = path.join(work, 'cdk.out');
  const r = run(CDK, ['synth', '--app', `node ${APP}`, '--output', outdir, '--no-notices', '--quiet'], {
    cwd: work,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', SAM_TEMPLATE: templateFile, SAM_CACHE: CACHE, SAM_PARAMETERS: '{}' },
    timeoutMs: 900_000,
  });
  return { ...r, outdir, template: path.join(outdir, 'SamApp.template.json') };
}

function possum(templateFile: string) {
  const output = path.join(tempDir('sam-init-cli'), 'packaged.yaml');
  const r = run(process.execPath, [POSSUM, 'sam-init-bucket/hello', '-t', templateFile, '-o', output, '--endpoint-url', moto.endpoint], {
    env: { ...process.env, ...MotoS3.ENV, POSSUM_CACHE_DIR: CACHE },
    timeoutMs: 900_000,
  });
  return { ...r, output };
}

test('sam init with its default runtime (python3.8): both paths refuse it, naming the resource, the runtime and the fix, and write nothing', () => {
  const dir = samInit('hello-default');
  const template = path.join(dir, 'template.yaml');
  expect(fs.readFileSync(template, 'utf8')).toMatch(/Runtime: python3\.8\n/);

  const synth = cdkSynth(template);
  expect(synth.status).not.toBe(0);
  expect(synth.stderr).toContain('resource HelloWorldFunction (AWS::Serverless::Function): its Runtime is python3.8, which AWS Lambda has deprecated (functions on it can no longer be created or updated); use python3.10 or later.');
  expect(fs.existsSync(synth.template)).toBe(false);

  const cli = possum(template);
  expect(cli.status).not.toBe(0);
  expect(cli.stderr).toContain('its Runtime is python3.8, which AWS Lambda has deprecated (functions on it can no longer be created or updated); use python3.10 or later.');
  expect(fs.existsSync(cli.output)).toBe(false);
}, 15 * 60_000);

test(`sam init hello-world (${RUNTIME}): cdk synth and possum package it, the SAM translator sees the same app, and the zip runs in the emulator`, async () => {
  const dir = samInit('hello-app', { runtime: RUNTIME });
  const template = path.join(dir, 'template.yaml');
  const original = fs.readFileSync(template, 'utf8');
  expect(original).toContain(`Runtime: ${RUNTIME}`);

  const synth = cdkSynth(template);
  expect(synth.stderr).not.toMatch(/docker/i);
  if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stderr}`);
  const cli = possum(template);
  if (cli.status !== 0) throw new Error(`possum failed:\n${cli.stderr}`);
  // possum left the project as it was.
  expect(fs.readFileSync(template, 'utf8')).toBe(original);

  // The translator and cfn-lint.
  const parsed = readTemplate(template).value;
  const changed = JSON.stringify(planSamPackaging(parsed, template, knownParameters(parsed, {})).map(a => [...a.path]));
  expect(JSON.parse(changed)).toEqual([['Resources', 'HelloWorldFunction', 'Properties', 'CodeUri']]);
  const checks = samCheckBatch([
    { command: 'equivalent', original: template, packaged: synth.template, changed },
    { command: 'lint', templates: [template, synth.template] },
    { command: 'equivalent', original: template, packaged: cli.output, changed },
    { command: 'lint', templates: [template, cli.output] },
  ]);
  for (const c of checks) expect(c.error).toBeUndefined();
  expect(checks[0].ok).toBe(true);
  expect(checks[2].ok).toBe(true);
  expect(checks[1].result.new).toEqual([]);
  expect(checks[3].result.new).toEqual([]);

  // Both paths ship the same zip: the CLI names the S3 object by its sha256, the construct
  // stages it as the asset whose hash is derived from that sha256.
  const synthKey = JSON.parse(fs.readFileSync(synth.template, 'utf8')).Resources.HelloWorldFunction.Properties.CodeUri.Key as string;
  const cliUri = readTemplate(cli.output).value.Resources.HelloWorldFunction.Properties.CodeUri as string;
  const m = /^s3:\/\/sam-init-bucket\/hello\/([0-9a-f]{64})\.zip$/.exec(cliUri);
  expect(m).not.toBeNull();
  expect(sha256(path.join(synth.outdir, `asset.${synthKey}`))).toBe(m![1]);

  // The uploaded zip: handler at the root, requests and its dependencies beside it.
  const got = await moto.client.send(new GetObjectCommand({ Bucket: 'sam-init-bucket', Key: `hello/${m![1]}.zip` }));
  const work = tempDir('sam-init-run');
  const zip = path.join(work, 'code.zip');
  fs.writeFileSync(zip, Buffer.from(await got.Body!.transformToByteArray()));
  const task = path.join(work, 'task');
  unzipWithPython(zip, task);
  for (const f of ['app.py', '__init__.py', 'requests/__init__.py', 'urllib3/__init__.py', 'idna/__init__.py', 'certifi/__init__.py', 'charset_normalizer/__init__.py']) {
    expect(`${f}: ${fs.existsSync(path.join(task, f))}`).toBe(`${f}: true`);
  }
  // The manifest is a build input: not shipped.
  expect(fs.existsSync(path.join(task, 'requirements.txt'))).toBe(false);

  // The emulator: the handler answers as the project's tests/unit/test_handler.py expects,
  // and requests imports from the bundle (a probe module in the unpacked copy, not the project).
  fs.writeFileSync(path.join(task, 'possum_probe.py'), 'import requests\n\ndef handler(event, context):\n    return {"requests": requests.__file__}\n');
  const fn = await RieFunction.start({ codeDir: task, handler: 'app.lambda_handler' });
  try {
    const event = JSON.parse(fs.readFileSync(path.join(dir, 'events', 'event.json'), 'utf8'));
    const r = await fn.invoke(event);
    expect(r.status).toBe(200);
    expect(r.body.statusCode).toBe(200);
    expect(JSON.parse(r.body.body)).toEqual({ message: 'hello world' });
  } finally {
    await fn.stop();
  }
  const probe = await RieFunction.start({ codeDir: task, handler: 'possum_probe.handler' });
  try {
    const r = await probe.invoke({});
    expect(r.status).toBe(200);
    expect(r.body.requests).toBe(path.join(task, 'requests', '__init__.py'));
  } finally {
    await probe.stop();
  }
}, 20 * 60_000);
