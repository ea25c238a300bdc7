import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { nestedWiring } from '../../src/private/sam/packaging';
import { planSamPackaging } from '../../src/private/sam/plan';
import { parseTemplate } from '../../src/private/sam/template';
import { editTemplateText } from '../../src/private/sam/text-edits';
import { HttpProxy } from '../helpers/proxy';
import { privateAuthority, REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { freePort, MotoS3 } from '../helpers/s3';
import { buildWheelhouse, LocalIndex, lockHashes, Wheelhouse } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

const POSSUM = path.join(REPO_ROOT, 'lib', 'cli', 'possum.js');
const CREDENTIALS = MotoS3.ENV;

let index: LocalIndex;
let house: Wheelhouse;
let work: string;
let moto: MotoS3;
let endpoint: string;
let s3: S3Client;


beforeAll(async () => {
  work = tempDir('possum');
  house = buildWheelhouse(work);
  index = await LocalIndex.start(house);
  moto = await MotoS3.start('deploy-bucket');
  endpoint = moto.endpoint;
  s3 = moto.client;
});
afterAll(() => {
  index?.stop();
  moto?.stop();
});

function samApp(): string {
  const dir = path.join(tempDir('possum-app'), 'app');
  writeTree(dir, {
    'template.yaml': [
      "AWSTemplateFormatVersion: '2010-09-09'",
      'Transform: AWS::Serverless-2016-10-31',
      'Globals:', '  Function:', '    Runtime: python3.12', '    CodeUri: src/',
      '    Environment:', '      Variables:', '        TABLE: !Ref Table',
      'Resources:',
      '  Table:', '    Type: AWS::DynamoDB::Table', '    Properties:', '      BillingMode: PAY_PER_REQUEST',
      '      KeySchema: [{AttributeName: id, KeyType: HASH}]', '      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]',
      '  Deps:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: layer/', '    Metadata:', '      BuildMethod: python3.12',
      '  Api:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: app.handler', '      Layers: [!Ref Deps]',
      '  Worker:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: app.work', '      Layers: [!Ref Deps]',
      '  Remote:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: s3://elsewhere/code.zip', '      Handler: x.y',
    ].join('\n') + '\n',
    'src/app.py': 'import greeting\n\ndef handler(e, c):\n    return greeting.greet("api")\n\ndef work(e, c):\n    return 1\n',
    'src/requirements.txt': 'greeting==1.0\n',
    'layer/requirements.txt': 'withdeps==1.0\n',
  });
  return path.join(dir, 'template.yaml');
}

function possum(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [POSSUM, ...args, '--index-url', index.url()], {
    env: { ...process.env, ...CREDENTIALS, POSSUM_CACHE_DIR: path.join(work, 'cache'), ...extraEnv },
    timeoutMs: 300_000,
  });
}

describe('possum CLI (real S3-compatible server: moto on 127.0.0.1)', () => {
  test('uploads under the prefix, prints the deployment template, and a second run uploads nothing', async () => {
    const template = samApp();
    const first = possum(['deploy-bucket/apps/demo', '-t', template, '--endpoint-url', endpoint]);
    expect(first.status).toBe(0);
    expect(first.stderr).toContain('possum: 2 object(s): 2 uploaded, 0 already in s3://deploy-bucket/apps/demo/');
    // The bundled AWS SDK's notice about Node.js versions is not the user's to act on.
    expect(first.stderr).not.toContain('NodeVersionSupportWarning');
    // Every line is possum's, its bundle workers' included (the library's own lines say possum-cdk).
    expect(first.stderr.trim().split('\n').filter(l => !l.startsWith('possum: '))).toEqual([]);
    expect(first.stderr).toMatch(/^possum: template\.yaml: Api: bundled \d+ files/m);
    const out = parseTemplate(first.stdout, 'stdout').value;
    const api = out.Resources.Api.Properties.CodeUri;
    const layer = out.Resources.Deps.Properties.ContentUri;
    expect(api).toMatch(/^s3:\/\/deploy-bucket\/apps\/demo\/[0-9a-f]{64}\.zip$/);
    expect(out.Resources.Worker.Properties.CodeUri).toBe(api); // one folder, one zip
    expect(layer).toMatch(/^s3:\/\/deploy-bucket\/apps\/demo\/[0-9a-f]{64}\.zip$/);
    expect(out.Resources.Remote.Properties.CodeUri).toBe('s3://elsewhere/code.zip');
    expect(out.Globals.Function.Environment.Variables.TABLE).toEqual({ Ref: 'Table' });

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: 'apps/demo/' }));
    const keys = (listed.Contents ?? []).map(o => o.Key).sort();
    expect(keys).toEqual([api, layer].map(u => u.replace('s3://deploy-bucket/', '')).sort());
    const before = await s3.send(new HeadObjectCommand({ Bucket: 'deploy-bucket', Key: keys[0] }));

    // The uploaded function zip is the bundle: code plus its dependencies.
    const downloaded = path.join(work, 'api.zip');
    const object = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: api.replace('s3://deploy-bucket/', '') }));
    const body = await object.Body!.transformToByteArray();
    fs.writeFileSync(downloaded, body);
    expect(inspectZip(downloaded).entries.map(e => e.name)).toEqual(expect.arrayContaining(['app.py', 'greeting/__init__.py']));

    const output = path.join(work, 'packaged.yaml');
    const second = possum(['deploy-bucket/apps/demo', '-t', template, '--endpoint-url', endpoint, '-o', output]);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr).toContain('possum: 2 object(s): 0 uploaded, 2 already in s3://deploy-bucket/apps/demo/');
    expect(second.stderr).not.toContain('installing');
    expect(fs.readFileSync(output, 'utf8')).toBe(first.stdout);
    const after = await s3.send(new HeadObjectCommand({ Bucket: 'deploy-bucket', Key: keys[0] }));
    expect(after.LastModified).toEqual(before.LastModified);

    // The bucket is asked every time, never a local record: an object deleted behind
    // possum's back is put back by the next run, from the cache, without reinstalling.
    await s3.send(new DeleteObjectCommand({ Bucket: 'deploy-bucket', Key: keys[0] }));
    const again = possum(['deploy-bucket/apps/demo', '-t', template, '--endpoint-url', endpoint]);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('1 uploaded, 1 already in');
    expect(again.stderr).not.toContain('installing');
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'deploy-bucket', Key: keys[0] }))).ContentLength).toBeGreaterThan(0);

    const clean = possum(['deploy-bucket/apps/demo', '-t', template, '--endpoint-url', endpoint, '-c']);
    expect(clean.status).toBe(0);
    expect(clean.stderr).toContain('installing');
    expect(clean.stderr).toContain('2 uploaded');
    expect(clean.stdout).toBe(first.stdout); // rebuilt byte for byte
    const restored = await s3.send(new HeadObjectCommand({ Bucket: 'deploy-bucket', Key: keys[0] }));
    expect(restored.ContentLength).toBeGreaterThan(0);

    // Built before, never sent to this prefix: the cached zips are copied out and uploaded,
    // nothing is installed, and each object's bytes hash to its content-addressed name.
    const elsewhere = possum(['deploy-bucket/apps/copy', '-t', template, '--endpoint-url', endpoint]);
    expect(elsewhere.status).toBe(0);
    // Each cached bundle is announced once (the layer, and the folder Api and Worker share).
    expect(elsewhere.stderr.match(/bundle unchanged/g)).toHaveLength(2);
    expect(elsewhere.stderr).toContain('bundle unchanged, in the cache');
    expect(elsewhere.stderr).not.toContain('installing');
    expect(elsewhere.stderr).toContain('2 uploaded');
    const copies = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: 'apps/copy/' }));
    for (const o of copies.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: o.Key! }));
      const digest = crypto.createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex');
      expect(o.Key).toBe(`apps/copy/${digest}.zip`);
    }
    expect(copies.Contents).toHaveLength(2);
  });

  test('secrets and manifests stay out of the uploaded zip; a kept secret is a warning on stderr naming the resource and file', async () => {
    const template = samApp();
    const src = path.join(path.dirname(template), 'src');
    writeTree(src, {
      '.env': 'TOKEN=1\n',
      'id_rsa': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n',
      'config.py': 'DB = "postgres://app:hunter2@db.internal/app"\n',
    });
    const r = possum(['deploy-bucket/secrets', '-t', template, '--endpoint-url', endpoint]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`possum: warning: template.yaml: Api: the bundle of ${src} includes a file that looks like a secret: ` +
      'config.py (holds a URL with a password).');
    // What a possum user can do about it, not only the construct's option.
    expect(r.stderr).toContain('with the `exclude` bundling option (possum: --exclude PATTERN), or by moving them out of the code\'s folder');
    // Api and Worker share the folder and the bundle: one warning.
    expect(r.stderr.match(/\[possum-cdk:secretIncluded\]/g)).toHaveLength(1);
    const api = parseTemplate(r.stdout, 'stdout').value.Resources.Api.Properties.CodeUri as string;
    const got = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: api.replace('s3://deploy-bucket/', '') }));
    const zip = path.join(tempDir('possum-secrets'), 'api.zip');
    fs.writeFileSync(zip, await got.Body!.transformToByteArray());
    expect(inspectZip(zip).entries.map(e => e.name).filter(n => !n.startsWith('greeting'))).toEqual(['app.py', 'config.py']);

    // --exclude leaves it out of every folder's zip (repeatable, .gitignore-like), and the warning goes with it.
    const excluded = possum(['deploy-bucket/secrets', '-t', template, '--endpoint-url', endpoint, '--exclude', 'config.py', '--exclude=/nothing/']);
    expect(excluded.status).toBe(0);
    expect(excluded.stderr).not.toContain('secretIncluded');
    const without = parseTemplate(excluded.stdout, 'stdout').value.Resources.Api.Properties.CodeUri as string;
    expect(without).not.toBe(api);
    const got2 = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: without.replace('s3://deploy-bucket/', '') }));
    fs.writeFileSync(zip, await got2.Body!.transformToByteArray());
    expect(inspectZip(zip).entries.map(e => e.name).filter(n => !n.startsWith('greeting'))).toEqual(['app.py']);

    // An --exclude that drops the Handler's module is a warning naming the resource, the file and the pattern.
    const noHandler = possum(['deploy-bucket/secrets', '-t', template, '--endpoint-url', endpoint, '--exclude', '*.py']);
    expect(noHandler.status).toBe(0);
    expect(noHandler.stderr).toContain(`possum: warning: template.yaml: Api: the handler module app is ${path.join(src, 'app.py')}, but the ` +
      'exclude pattern \'*.py\' leaves it out of the bundle: Lambda would fail every invocation with "Unable to import module \'app\'". ' +
      'Remove the pattern, or keep it with the exclude pattern \'!app.py\' (bundling.exclude; possum: --exclude \'!app.py\').');
    // Api and Worker name the same module: one warning.
    expect(noHandler.stderr.match(/\[possum-cdk:handlerExcluded\]/g)).toHaveLength(1);
  });

  test('functions that share a folder and its bundle each get their own handler warning', () => {
    const dir = path.join(tempDir('possum-shared-handlers'), 'app');
    writeTree(dir, {
      'template.yaml': [
        'Transform: AWS::Serverless-2016-10-31',
        'Globals:', '  Function:', '    Runtime: python3.12', '    CodeUri: ./',
        'Resources:',
        '  Api:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: src/app.handler',
        '  Smoke:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: tests/smoke.handler',
        '  Legacy:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: test.legacy.handler',
      ].join('\n') + '\n',
      'src/app.py': 'def handler(e, c):\n    return 1\n',
      'tests/smoke.py': 'def handler(e, c):\n    return 1\n',
      'test/legacy.py': 'def handler(e, c):\n    return 1\n',
    });
    const r = possum(['deploy-bucket/shared', '-t', path.join(dir, 'template.yaml'), '--endpoint-url', endpoint]);
    expect(r.status).toBe(0);
    const warnings = r.stderr.split('\n').filter(l => l.includes('[possum-cdk:handlerExcluded]'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('possum: warning: template.yaml: Smoke: the handler module tests/smoke is ' +
      `${path.join(dir, 'tests', 'smoke.py')}, but the default exclude pattern '/tests/' (DefaultExcludes.FUNCTION_FILES) leaves tests/ out`);
    expect(warnings[1]).toContain('possum: warning: template.yaml: Legacy: the handler module test.legacy is ' +
      `${path.join(dir, 'test', 'legacy.py')}, but the default exclude pattern '/test/' (DefaultExcludes.FUNCTION_FILES) leaves test/ out`);
  });

  test('a .zip is uploaded as it is, code above the template folder is packaged, and a bad nested template (or an image function without ImageUri) fails before any upload', async () => {
    const root = tempDir('possum-shapes');
    writeTree(root, {
      'app/template.yaml': [
        'Transform: AWS::Serverless-2016-10-31',
        'Resources:',
        '  Zipped:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: ../prebuilt/fn.zip', '      Runtime: python3.12', '      Handler: a.b',
        '  Raw:', '    Type: AWS::Lambda::Function', '    Properties:', '      Code: ../prebuilt/fn.zip', '      Runtime: python3.12', '      Handler: a.b',
        '      Role: arn:aws:iam::123456789012:role/x',
        '  Up:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: ../src/', '      Runtime: python3.12', '      Handler: app.handler',
        // Another language's function: zipped as it is, as sam package does (its node_modules too).
        '  Node:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: ../node/', '      Runtime: nodejs20.x', '      Handler: index.handler',
      ].join('\n') + '\n',
      'node/index.js': 'exports.handler = async () => require("dep").value;\n',
      'node/node_modules/dep/index.js': 'exports.value = 1;\n',
      'node/.env': 'TOKEN=not-for-lambda\n',
      'prebuilt/fn.zip': 'bytes uploaded as they are',
      'src/app.py': 'def handler(e, c):\n    return 1\n',
      'bad/template.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n' +
        '      CodeUri: ../src/\n      Runtime: python3.12\n      Handler: app.handler\n  Child:\n    Type: AWS::Serverless::Application\n' +
        '    Properties:\n      Location: child.yaml\n',
      'bad/child.yaml': 'Resources:\n  Deep:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../src/\n      Runtime: nodejs-20\n' +
        '      Handler: app.handler\n',
    });
    const r = possum(['deploy-bucket/shapes', '-t', path.join(root, 'app', 'template.yaml'), '--endpoint-url', endpoint]);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    const out = parseTemplate(r.stdout, 'stdout').value;
    const digest = crypto.createHash('sha256').update('bytes uploaded as they are').digest('hex');
    expect(out.Resources.Zipped.Properties.CodeUri).toBe(`s3://deploy-bucket/shapes/${digest}.zip`);
    expect(out.Resources.Raw.Properties.Code).toEqual({ S3Bucket: 'deploy-bucket', S3Key: `shapes/${digest}.zip` });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: `shapes/${digest}.zip` }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe('bytes uploaded as they are');
    expect(out.Resources.Up.Properties.CodeUri).toMatch(/^s3:\/\/deploy-bucket\/shapes\/[0-9a-f]{64}\.zip$/);
    expect(r.stderr).toContain('possum: warning: template.yaml: Node: its Runtime is nodejs20.x, and possum-cdk builds Python only, so CodeUri ' +
      `${path.join(root, 'node')} is zipped as it is, as sam package does`);
    const nodeZip = path.join(tempDir('possum-node'), 'node.zip');
    const nodeObject = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: out.Resources.Node.Properties.CodeUri.replace('s3://deploy-bucket/', '') }));
    fs.writeFileSync(nodeZip, Buffer.from(await nodeObject.Body!.transformToByteArray()));
    expect(inspectZip(nodeZip).entries.map(e => e.name).sort()).toEqual(['index.js', 'node_modules/dep/index.js']);

    const bad = possum(['deploy-bucket/preflight', '-t', path.join(root, 'bad', 'template.yaml'), '--endpoint-url', endpoint]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${path.join(root, 'bad', 'child.yaml')}: resource Deep (AWS::Serverless::Function): its code is a local folder but its ` +
      'Runtime is nodejs-20, which is not a Lambda runtime possum-cdk knows');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: 'preflight/' }));
    expect(listed.Contents ?? []).toEqual([]);

    // Container image functions whose image sam build would build: possum builds no images, and a
    // template without their ImageUri would not deploy. Every one is named, before anything is built.
    writeTree(root, {
      'images/template.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n' +
        '      CodeUri: ../src/\n      Runtime: python3.12\n      Handler: app.handler\n' +
        '  ImageFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n' +
        '    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./img\n' +
        '  Pushed:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n' +
        '      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1\n' +
        '  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n',
      'images/child.yaml': 'Globals:\n  Function:\n    PackageType: Image\nResources:\n  Deeper:\n    Type: AWS::Serverless::Function\n',
    });
    const output = path.join(root, 'images', 'packaged.yaml');
    const images = possum(['deploy-bucket/images', '-t', path.join(root, 'images', 'template.yaml'), '--endpoint-url', endpoint, '-o', output]);
    expect(images.status).toBe(1);
    expect(images.stderr).toContain(`${path.join(root, 'images', 'template.yaml')}: resource ImageFn (AWS::Serverless::Function): it is a container ` +
      'image function (PackageType: Image) with no ImageUri, whose image sam build would build (Metadata.DockerContext ./img). possum-cdk packages ' +
      'zip code and builds no images.');
    expect(images.stderr).toContain(`${path.join(root, 'images', 'child.yaml')}: resource Deeper (AWS::Serverless::Function): it is a container image function`);
    expect(images.stderr).not.toContain('Pushed');
    expect(images.stderr).not.toContain('installing');
    expect(fs.existsSync(output)).toBe(false);
    const none = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: 'images/' }));
    expect(none.Contents ?? []).toEqual([]);
  });

  test('a stale lock is a warning on stderr, and an error with --strict-lock (nothing uploaded)', async () => {
    const dir = path.join(tempDir('possum-stale'), 'app');
    writeTree(dir, {
      'template.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n' +
        '      CodeUri: src/\n      Runtime: python3.12\n      Handler: app.handler\n',
      'src/app.py': 'import greeting\n',
      'src/Pipfile': '[packages]\ngreeting = "==1.0"\nwithdeps = "*"\n',
      'src/Pipfile.lock': JSON.stringify({
        _meta: { hash: { sha256: '0'.repeat(64) }, sources: [] },
        default: { greeting: { version: '==1.0', hashes: lockHashes(house, 'greeting', '1.0') } },
        develop: {},
      }),
    });
    const template = path.join(dir, 'template.yaml');
    const warned = possum(['deploy-bucket/stale', '-t', template, '--endpoint-url', endpoint]);
    expect(warned.status).toBe(0);
    expect(warned.stderr).toMatch(/possum: warning: .*Pipfile\.lock is out of date with .*Pipfile/);
    const strict = possum(['deploy-bucket/stale-strict', '-t', template, '--endpoint-url', endpoint, '--strict-lock']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/possum: error: .*Pipfile\.lock is out of date with .*Pipfile/);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: 'stale-strict/' }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  test('a function without CodeUri (the template\'s folder): the template and possum\'s own -o output stay out, so a rerun uploads nothing new', () => {
    const dir = path.join(tempDir('possum-self'), 'app');
    writeTree(dir, {
      'template.yaml': 'Transform: AWS::Serverless-2016-10-31\nParameters:\n  Py:\n    Type: String\n    Default: python3.13\nGlobals:\n  Function:\n' +
        '    Runtime: !Ref Py\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n',
      'app.py': 'def handler(e, c):\n    return 1\n',
    });
    const output = path.join(dir, 'packaged.yaml');
    const args = ['deploy-bucket/self', '-t', path.join(dir, 'template.yaml'), '--endpoint-url', endpoint, '-o', output, '--parameter-overrides', 'Py=python3.12'];
    const first = possum(args);
    expect(first.status).toBe(0);
    expect(first.stderr).toContain('possum: note: the values given with --parameter-overrides (Py=python3.12) chose what was packaged, but are not written');
    const firstUri = parseTemplate(fs.readFileSync(output, 'utf8'), output).value.Resources.Fn.Properties.CodeUri;
    const second = possum(args);
    expect(second.status).toBe(0);
    expect(parseTemplate(fs.readFileSync(output, 'utf8'), output).value.Resources.Fn.Properties.CodeUri).toBe(firstUri);
    expect(second.stderr).toContain('0 uploaded');
  });

  test('--remote-cache: a second runner with an empty local cache fetches the bundles instead of building them', () => {
    const template = samApp();
    const remote = { AWS_ENDPOINT_URL_S3: endpoint };
    const a = possum(['deploy-bucket/fleet-a', '-t', template, '--endpoint-url', endpoint, '--remote-cache', 's3://deploy-bucket/build-cache'],
      { ...remote, POSSUM_CACHE_DIR: path.join(tempDir('runner-a'), 'c') });
    expect(a.status).toBe(0);
    expect(a.stderr).toContain('published to the remote cache s3://deploy-bucket/build-cache/');
    const b = possum(['deploy-bucket/fleet-b', '-t', template, '--endpoint-url', endpoint, '--remote-cache', 's3://deploy-bucket/build-cache'],
      { ...remote, POSSUM_CACHE_DIR: path.join(tempDir('runner-b'), 'c') });
    expect(b.status).toBe(0);
    expect(b.stderr).toContain('bundle fetched from the remote cache s3://deploy-bucket/build-cache/');
    expect(b.stderr).not.toContain('installing');
    expect(b.stdout.replace(/fleet-b/g, 'fleet-a')).toBe(a.stdout);
  });

  test('--remote-cache without AWS_ENDPOINT_URL_S3 uses --endpoint-url, as the uploads do', () => {
    const template = samApp();
    const noEnv = { AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL: undefined };
    const runner = (name: string) => possum([`deploy-bucket/given-${name}`, '-t', template, '--endpoint-url', endpoint, '--remote-cache', 's3://deploy-bucket/given-cache'],
      { ...noEnv, POSSUM_CACHE_DIR: path.join(tempDir(`given-${name}`), 'c') });
    const a = runner('a');
    expect({ status: a.status, warnings: a.stderr.split('\n').filter(l => /warning|error/.test(l)) }).toEqual({ status: 0, warnings: [] });
    expect(a.stderr).toContain('published to the remote cache s3://deploy-bucket/given-cache/');
    const b = runner('b');
    expect(b.status).toBe(0);
    expect(b.stderr).toContain('bundle fetched from the remote cache s3://deploy-bucket/given-cache/');
  });

  test('bundle workers start without NODE_EXTRA_CA_CERTS (no certificates to parse) and give it back to uv; with --remote-cache they keep it', () => {
    const dir = tempDir('possum-ca');
    const ca = path.join(dir, 'corporate-ca.pem');
    fs.copyFileSync(process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt', ca);
    // A uv that notes, for each pip command, what it was given and what its parent (the
    // bundle worker) was started with, then runs the real uv.
    const log = path.join(dir, 'uv.log');
    const uv = path.join(dir, 'uv');
    fs.writeFileSync(uv, [
      '#!/bin/bash',
      'if [ "$1" = pip ]; then',
      '  worker=$(tr \'\\0\' \'\\n\' < /proc/$PPID/environ | grep -c \'^NODE_EXTRA_CA_CERTS=\')',
      `  echo "uv=\${NODE_EXTRA_CA_CERTS-unset} worker=$worker" >> ${JSON.stringify(log)}`,
      'fi',
      `exec ${JSON.stringify(process.env.POSSUM_UV)} "$@"`,
    ].join('\n') + '\n', { mode: 0o755 });
    const template = samApp();
    const seen = (args: string[], env: NodeJS.ProcessEnv) => {
      fs.rmSync(log, { force: true });
      const r = possum(['deploy-bucket/ca', '-t', template, '--endpoint-url', endpoint, ...args],
        { NODE_EXTRA_CA_CERTS: ca, POSSUM_UV: uv, POSSUM_CACHE_DIR: path.join(tempDir('possum-ca-cache'), 'c'), ...env });
      expect(r.status).toBe(0);
      return [...new Set(fs.readFileSync(log, 'utf8').trim().split('\n'))];
    };
    expect(seen([], {})).toEqual([`uv=${ca} worker=0`]);
    expect(seen(['--remote-cache', 's3://deploy-bucket/ca-cache'], { AWS_ENDPOINT_URL_S3: endpoint })).toEqual([`uv=${ca} worker=1`]);
  });

  test('--remote-cache over https signed by a private authority (NODE_EXTRA_CA_CERTS): published and fetched; without the authority, a warning and a local build', async () => {
    const { ca: cert, ...server } = privateAuthority();
    const tls = await MotoS3.start('private-cache', { ...server, ca: cert });
    try {
      const template = samApp();
      const runner = (name: string, ca: string | undefined) => possum(
        [`deploy-bucket/tls-${name}`, '-t', template, '--endpoint-url', endpoint, '--remote-cache', 's3://private-cache/builds'],
        { AWS_ENDPOINT_URL_S3: tls.endpoint, NODE_EXTRA_CA_CERTS: ca, POSSUM_CACHE_DIR: path.join(tempDir(`tls-${name}`), 'c') });
      const a = runner('a', cert);
      expect(a.status).toBe(0);
      expect(a.stderr).toContain('published to the remote cache s3://private-cache/builds/');
      expect(a.stderr).not.toContain('warning');
      const b = runner('b', cert);
      expect(b.status).toBe(0);
      expect(b.stderr).toContain('bundle fetched from the remote cache s3://private-cache/builds/');
      expect(b.stderr).not.toContain('installing');
      // The authority is what made the server trusted: without it the cache is unusable, and said so.
      const c = runner('c', undefined);
      expect(c.status).toBe(0);
      expect(c.stderr).toMatch(/warning: .*the remote cache s3:\/\/private-cache\/builds\/ could not be read \(.*certificate/);
      expect(c.stderr).toContain('installing');
      expect(c.stdout.replace(/tls-c/g, 'tls-a')).toBe(a.stdout);
    } finally {
      tls.stop();
    }
  });

  test('region and CA bundle as the AWS CLI finds them: AWS_CA_BUNDLE, or the profile\'s ca_bundle and region (-p); an unreadable bundle is an error naming it', async () => {
    const { ca: cert, ...server } = privateAuthority();
    const tls = await MotoS3.start('corp-bucket', { ...server, ca: cert });
    try {
      const root = tempDir('possum-corp');
      writeTree(root, {
        'app/template.yaml': [
          'Transform: AWS::Serverless-2016-10-31',
          'Resources:',
          '  Api:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: fn/', '      Runtime: python3.12', '      Handler: app.handler',
          '  Child:', '    Type: AWS::Serverless::Application', '    Properties:', '      Location: child.yaml',
        ].join('\n') + '\n',
        'app/fn/app.py': 'import greeting\n\ndef handler(e, c):\n    return greeting.greet("corp")\n',
        'app/fn/requirements.txt': 'greeting==1.0\n',
        'app/child.yaml': 'Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n',
        'aws/config': `[profile corp]\nregion = eu-west-2\nca_bundle = ${cert}\n[profile keys-elsewhere]\nregion = eu-west-2\n`,
        'aws/credentials': '[corp]\naws_access_key_id = testing\naws_secret_access_key = testing\n',
      });
      const template = path.join(root, 'app', 'template.yaml');
      // No NODE_EXTRA_CA_CERTS and no region variables: only the AWS CLI's settings name them.
      const cli = {
        NODE_EXTRA_CA_CERTS: undefined,
        AWS_CA_BUNDLE: undefined,
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
        AWS_CONFIG_FILE: path.join(root, 'aws', 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(root, 'aws', 'credentials'),
      };
      const cache = ['--remote-cache', 's3://corp-bucket/builds'];
      const a = possum(['corp-bucket/a', '-t', template, '--endpoint-url', tls.endpoint, ...cache],
        { ...cli, AWS_CA_BUNDLE: cert, AWS_ENDPOINT_URL_S3: tls.endpoint, POSSUM_CACHE_DIR: path.join(tempDir('corp-a'), 'c') });
      expect({ status: a.status, stderr: a.stderr.split('\n').filter(l => /warning|error/.test(l)) }).toEqual({ status: 0, stderr: [] });
      expect(a.stderr).toContain('published to the remote cache s3://corp-bucket/builds/');
      expect(a.stderr).toContain('2 object(s): 2 uploaded');
      // The profile's CA bundle and region; the endpoint from the SDK's own AWS_ENDPOINT_URL_S3,
      // so the nested template's URL is the region's S3 URL.
      const b = possum(['corp-bucket/b', '-t', template, '-p', 'corp', ...cache],
        { ...cli, AWS_ENDPOINT_URL_S3: tls.endpoint, POSSUM_CACHE_DIR: path.join(tempDir('corp-b'), 'c') });
      expect({ status: b.status, stderr: b.status === 0 ? '' : b.stderr }).toEqual({ status: 0, stderr: '' });
      expect(b.stderr).toContain('bundle fetched from the remote cache s3://corp-bucket/builds/');
      expect(b.stderr).not.toContain('warning');
      const out = parseTemplate(b.stdout, 'stdout').value;
      expect(out.Resources.Child.Properties.Location).toMatch(/^https:\/\/s3\.eu-west-2\.amazonaws\.com\/corp-bucket\/b\/[0-9a-f]{64}\.template$/);
      expect(out.Resources.Api.Properties.CodeUri).toMatch(/^s3:\/\/corp-bucket\/b\/[0-9a-f]{64}\.zip$/);
      // AWS_PROFILE naming a profile without keys, and keys in the environment: the AWS CLI uses
      // the keys (the SDK alone would skip them and find none).
      const d = possum(['corp-bucket/d', '-t', template, '--endpoint-url', tls.endpoint],
        { ...cli, AWS_PROFILE: 'keys-elsewhere', AWS_CA_BUNDLE: cert, POSSUM_CACHE_DIR: path.join(tempDir('corp-d'), 'c') });
      expect({ status: d.status, stderr: d.status === 0 ? '' : d.stderr }).toEqual({ status: 0, stderr: '' });
      // A bundle that cannot be read: the error names the setting and the file; nothing is written.
      const output = path.join(root, 'out.yaml');
      const missing = path.join(root, 'no-such-bundle.pem');
      const c = possum(['corp-bucket/c', '-t', template, '--endpoint-url', tls.endpoint, '-o', output],
        { ...cli, AWS_CA_BUNDLE: missing, POSSUM_CACHE_DIR: path.join(tempDir('corp-c'), 'c') });
      expect(c.status).toBe(1);
      expect(c.stderr).toContain(`possum: error: AWS_CA_BUNDLE names the CA bundle ${missing}, which cannot be read (ENOENT)`);
      expect(c.stderr).not.toContain('installing'); // said before anything is built
      expect(fs.existsSync(output)).toBe(false);
    } finally {
      tls.stop();
    }
  });

  test('S3 through the proxies the AWS CLI would use (proxy.py, basic auth): HTTP_PROXY forwards, HTTPS_PROXY tunnels, NO_PROXY goes direct; a refusal is an error naming the proxy, not its password', async () => {
    const { ca: cert, ...server } = privateAuthority();
    const tls = await MotoS3.start('proxied-bucket', { ...server, ca: cert });
    const proxy = await HttpProxy.start(tempDir('proxy'), 'possum:s3cret');
    const tlsProxy = await HttpProxy.start(tempDir('proxy-tls'), undefined, server);
    try {
      const template = samApp();
      const plainHost = new URL(endpoint).host;
      const tlsHost = new URL(tls.endpoint).host;
      const cache = (name: string) => ({ POSSUM_CACHE_DIR: path.join(tempDir(`proxied-${name}`), 'c') });
      const s3Only = (requests: string[]) => requests.filter(r => r.includes(plainHost) || r.includes(tlsHost));
      const toS3 = (p: HttpProxy) => s3Only(p.requests());
      // proxy.py logs a request when its connection ends: wait for the one expected.
      const tunnelSeen = async (p: HttpProxy) => s3Only(await p.requestsOnceSeen(0, r => r.includes(`CONNECT ${tlsHost}`)));

      // An http endpoint: each request goes to the proxy in absolute form (uv's index requests too).
      const aCache = path.join(tempDir('proxied-a'), 'c');
      const a = possum(['deploy-bucket/proxied-a', '-t', template, '--endpoint-url', endpoint], { HTTP_PROXY: proxy.url, POSSUM_CACHE_DIR: aCache });
      expect({ status: a.status, stderr: a.status === 0 ? '' : a.stderr }).toEqual({ status: 0, stderr: '' });
      const putsOf = (requests: string[]) => s3Only(requests).filter(r => r.startsWith(`PUT ${plainHost}/deploy-bucket/proxied-a/`));
      const puts = putsOf(await proxy.requestsOnceSeen(0, r => putsOf(r).length >= 2));
      expect(puts).toHaveLength(2); // the functions' bundle and the layer's
      expect(a.stderr).toContain('2 object(s): 2 uploaded');

      // An https endpoint: a CONNECT tunnel, and inside it TLS that trusts AWS_CA_BUNDLE. The
      // remote cache goes the same way: runner B fetches through the proxy.
      const viaTls = { AWS_CA_BUNDLE: cert, AWS_ENDPOINT_URL_S3: tls.endpoint };
      const remote = ['--remote-cache', 's3://proxied-bucket/cache'];
      const b = possum(['proxied-bucket/b', '-t', template, '--endpoint-url', tls.endpoint, ...remote], { HTTPS_PROXY: proxy.url, ...viaTls, ...cache('b') });
      expect({ status: b.status, warnings: b.stderr.split('\n').filter(l => /warning|error/.test(l)) }).toEqual({ status: 0, warnings: [] });
      expect(b.stderr).toContain('published to the remote cache s3://proxied-bucket/cache/');
      expect(await tunnelSeen(proxy)).toContain(`CONNECT ${tlsHost}`);
      const c = possum(['proxied-bucket/c', '-t', template, '--endpoint-url', tls.endpoint, ...remote], { https_proxy: proxy.url, ...viaTls, ...cache('c') });
      expect(c.status).toBe(0);
      expect(c.stderr).toContain('bundle fetched from the remote cache s3://proxied-bucket/cache/');
      expect(c.stderr).not.toContain('installing');

      // A proxy that refuses the credentials: the remote cache says so in a warning and the
      // upload in the error; both name the proxy and the variable, neither the password.
      const output = path.join(tempDir('proxied-d'), 'out.yaml');
      const refused = proxy.url.replace('s3cret', 'wrong');
      const d = possum(['proxied-bucket/d', '-t', template, '--endpoint-url', tls.endpoint, '-o', output, ...remote],
        { HTTPS_PROXY: refused, ...viaTls, ...cache('d') });
      expect(d.status).toBe(1);
      const shown = refused.replace(':wrong@', ':***@');
      expect(d.stderr).toMatch(new RegExp(`warning: .*remote cache .*the proxy ${escape(shown)} \\(from HTTPS_PROXY\\) refused to open a tunnel to ${escape(tlsHost)}: 407`));
      expect(d.stderr).toMatch(new RegExp(`error: uploading to s3://proxied-bucket/d/.* failed: the proxy ${escape(shown)} \\(from HTTPS_PROXY\\) refused to open a tunnel to ${escape(tlsHost)}: 407 Proxy Authentication Required. Check the user and password in HTTPS_PROXY \\(http://user:password@host:port\\), or name 127\\.0\\.0\\.1 in NO_PROXY to connect directly\\.$`, 'm'));
      expect(d.stderr).not.toContain('wrong');
      expect(fs.existsSync(output)).toBe(false);
      // And with an http endpoint, where the proxy answers the request itself.
      // (With runner A's cache nothing is installed, so only S3 meets the proxy.)
      const e = possum(['deploy-bucket/proxied-e', '-t', template, '--endpoint-url', endpoint], { HTTP_PROXY: refused, POSSUM_CACHE_DIR: aCache });
      expect(e.status).toBe(1);
      expect(e.stderr).toContain(`failed: the proxy ${shown} (from HTTP_PROXY) refused the request: 407 Proxy Authentication Required. Check the user and password in HTTP_PROXY`);

      // NO_PROXY names the endpoint's host: straight there, past a proxy that would refuse.
      const before = toS3(proxy).length;
      const f = possum(['proxied-bucket/f', '-t', template, '--endpoint-url', tls.endpoint], { HTTPS_PROXY: refused, NO_PROXY: 'localhost,.example.com,127.0.0.1', ...viaTls, ...cache('f') });
      expect({ status: f.status, stderr: f.status === 0 ? '' : f.stderr }).toEqual({ status: 0, stderr: '' });
      expect(toS3(proxy)).toHaveLength(before);

      // A proxy reached over https, its certificate from the same authority.
      const g = possum(['proxied-bucket/g', '-t', template, '--endpoint-url', tls.endpoint], { HTTPS_PROXY: tlsProxy.url, ...viaTls, ...cache('g') });
      expect({ status: g.status, stderr: g.status === 0 ? '' : g.stderr }).toEqual({ status: 0, stderr: '' });
      expect(await tunnelSeen(tlsProxy)).toContain(`CONNECT ${tlsHost}`);
      // Every way gave the same deployment template.
      for (const [r, name] of [[a, 'proxied-a'], [b, 'b'], [c, 'c'], [f, 'f'], [g, 'g']] as const) {
        expect(r.stdout.replace(/s3:\/\/[a-z-]+\/[a-z-]+\//g, 's3://B/P/')).toBe(a.stdout.replace(/s3:\/\/[a-z-]+\/[a-z-]+\//g, 's3://B/P/'));
        expect(r.stdout).toContain(name);
      }

      // A proxy that cannot be reached, and one whose policy refuses the endpoint: named, with
      // what it said, for an http endpoint (the proxy answers) and an https one (the tunnel).
      const down = `http://127.0.0.1:${await freePort()}`;
      const i = possum(['deploy-bucket/proxied-i', '-t', template, '--endpoint-url', endpoint], { HTTP_PROXY: down, POSSUM_CACHE_DIR: aCache });
      expect(i.status).toBe(1);
      expect(i.stderr).toContain(`failed: the proxy ${down} (from HTTP_PROXY) could not be reached: connect ECONNREFUSED`);
      expect(i.stderr).not.toContain('Check the bucket');
      const policy = await HttpProxy.start(tempDir('proxy-policy'), undefined, undefined, '127.0.0.1');
      try {
        const j = possum(['deploy-bucket/proxied-j', '-t', template, '--endpoint-url', endpoint], { HTTP_PROXY: policy.url, POSSUM_CACHE_DIR: aCache });
        expect(j.status).toBe(1);
        expect(j.stderr).toContain(`failed: the proxy ${policy.url} (from HTTP_PROXY) answered 418 itself (it refused the request or could not pass it on). ` +
          'Check HTTP_PROXY and what the proxy allows, or name 127.0.0.1 in NO_PROXY to connect directly.');
        const k = possum(['proxied-bucket/k', '-t', template, '--endpoint-url', tls.endpoint], { HTTPS_PROXY: policy.url, ...viaTls, ...cache('k') });
        expect(k.status).toBe(1);
        expect(k.stderr).toContain(`failed: the proxy ${policy.url} (from HTTPS_PROXY) refused to open a tunnel to ${tlsHost}: 418`);
      } finally {
        policy.stop();
      }

      // A proxy possum-cdk cannot use is said before anything is built.
      const h = possum(['proxied-bucket/h', '-t', template, '--endpoint-url', tls.endpoint], { HTTPS_PROXY: 'socks5://user:pw@127.0.0.1:1080', ...viaTls, ...cache('h') });
      expect(h.status).toBe(1);
      expect(h.stderr).toContain('possum: error: HTTPS_PROXY=socks5://user:***@127.0.0.1:1080 is not a proxy possum-cdk can use for S3');
      expect(h.stderr).not.toContain('installing');
    } finally {
      tls.stop();
      proxy.stop();
      tlsProxy.stop();
    }
  });

  test('uv, the default installer, gives the same files as --installer pip', async () => {
    const template = samApp();
    const withPip = possum(['deploy-bucket/uv-check/pip', '-t', template, '--endpoint-url', endpoint, '--installer', 'pip'], {
      POSSUM_CACHE_DIR: path.join(work, 'pip-cache'),
    });
    expect(withPip.status).toBe(0);
    expect(withPip.stderr).toContain('with pip');
    const withUv = possum(['deploy-bucket/uv-check/uv', '-t', template, '--endpoint-url', endpoint], {
      POSSUM_CACHE_DIR: path.join(work, 'uv-cache'),
    });
    expect(withUv.status).toBe(0);
    expect(withUv.stderr).toContain('with uv');
    expect(withUv.stderr).not.toContain('with pip');
    // The same files in the zips (the installer is part of the key, so the object names
    // differ). uv marks every package REQUESTED, pip only the ones asked for by name.
    const entries = async (prefix: string) => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'deploy-bucket', Prefix: prefix }));
      const all = await Promise.all((listed.Contents ?? []).map(async (o, i) => {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'deploy-bucket', Key: o.Key! }));
        const file = path.join(work, `${prefix.replace(/\W/g, '-')}${i}.zip`);
        fs.writeFileSync(file, await got.Body!.transformToByteArray());
        return inspectZip(file).entries.map(e => e.name).filter(n => !n.endsWith('.dist-info/REQUESTED')).join(' ');
      }));
      return all.sort();
    };
    const fromPip = await entries('uv-check/pip/');
    expect(fromPip).toHaveLength(2);
    expect(await entries('uv-check/uv/')).toEqual(fromPip);
  });

  test('bundles installing at once with a cold uv cache start the interpreter once for uv to learn it, not once each', () => {
    const dir = path.join(tempDir('possum-learn'), 'app');
    const functions = ['One', 'Two', 'Three'];
    writeTree(dir, {
      'template.yaml': [
        'Transform: AWS::Serverless-2016-10-31',
        'Globals:', '  Function:', '    Runtime: python3.12', '    Handler: app.handler',
        'Resources:',
        ...functions.flatMap(f => [`  ${f}:`, '    Type: AWS::Serverless::Function', '    Properties:', `      CodeUri: ${f.toLowerCase()}/`]),
      ].join('\n') + '\n',
      ...Object.fromEntries(functions.flatMap((f, i) => [
        [`${f.toLowerCase()}/app.py`, `def handler(e, c):\n    return ${i}\n`],
        [`${f.toLowerCase()}/requirements.txt`, ['greeting==1.0', 'withdeps==1.0', 'greeting==2.0'][i] + '\n'],
      ])),
    });
    // A python3 that notes each start (a venv's sitecustomize), ahead of the others on PATH.
    const venv = path.join(tempDir('possum-learn-venv'), 'venv');
    expect(run('python3', ['-m', 'venv', '--without-pip', venv]).status).toBe(0);
    const log = path.join(venv, 'starts.log');
    const site = run(path.join(venv, 'bin', 'python3'), ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.trim();
    writeTree(site, { 'sitecustomize.py': `import sys\nwith open(${JSON.stringify(log)}, 'a') as f:\n    f.write(' '.join(sys.orig_argv[1:4]) + '\\n')\n` });
    const bin = path.join(venv, 'bin');
    const r = possum(['deploy-bucket/learn', '-t', path.join(dir, 'template.yaml'), '--endpoint-url', endpoint], {
      POSSUM_CACHE_DIR: path.join(work, 'learn-cache'),
      UV_CACHE_DIR: path.join(work, 'learn-uv-cache'),
      PATH: `${bin}:${process.env.PATH}`,
      PYENV_VERSION: '',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('with uv');
    // uv asks an interpreter about itself with `python -I -B -c <script>`.
    const asked = fs.readFileSync(log, 'utf8').split('\n').filter(l => l.startsWith('-I -B -c'));
    expect(asked).toHaveLength(1);
  });

  test('a function that fails stops the run: what is under way finishes first, and the error is the last word', () => {
    const dir = path.join(tempDir('possum-failing'), 'app');
    const fn = (name: string, requirement: string) => ({ [`${name}/app.py`]: 'def h(e, c):\n    return 1\n', [`${name}/requirements.txt`]: `${requirement}\n` });
    writeTree(dir, {
      'template.yaml': ['Transform: AWS::Serverless-2016-10-31', 'Globals:', '  Function:', '    Runtime: python3.12', '    Handler: app.h', 'Resources:',
        ...['A', 'B', 'C', 'D', 'E', 'F'].map(n => `  ${n}: {Type: AWS::Serverless::Function, Properties: {CodeUri: ${n.toLowerCase()}/}}`)].join('\n') + '\n',
      ...fn('a', 'greeting==1.0'),
      ...fn('b', 'nosuchpackage==1.0'),
      ...fn('c', 'greeting==2.0'),
      ...fn('d', 'withdeps==1.0'),
      ...fn('e', 'markerdep==1.0'),
      ...fn('f', 'legacy==1.0 ; python_version < "3.11"'),
    });
    const output = path.join(dir, 'out.yaml');
    const r = possum(['deploy-bucket/failing', '-t', path.join(dir, 'template.yaml'), '--endpoint-url', endpoint, '-o', output],
      { POSSUM_CACHE_DIR: path.join(work, 'failing-cache') });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    const error = lines.findIndex(l => l.startsWith('possum: error: template.yaml: B: there is no package nosuchpackage'));
    expect(error).toBeGreaterThan(0);
    expect(lines[lines.length - 1]).toBe(`possum: nothing was written to ${output}`);
    // Nothing reported after the error but its own lines: uploads under way finished before it.
    expect(lines.slice(error).filter(l => /^possum: (uploaded |\d+ object|template\.yaml: [A-F]: (resolving|installing|bundled) )/.test(l))).toEqual([]);
    // Every line carries the prefix, the installer's words quoted in the error too.
    expect(lines.filter(l => !l.startsWith('possum: '))).toEqual([]);
    expect(lines.length - error).toBeGreaterThan(2);
    expect(fs.existsSync(output)).toBe(false);
  });

  test('-o names a link or a FIFO: the link stays and its file gets the template; the FIFO is written to, not replaced', async () => {
    const dir = tempDir('possum-out');
    fs.mkdirSync(path.join(dir, 'deploy'));
    fs.symlinkSync(path.join('deploy', 'packaged.yaml'), path.join(dir, 'out.yaml'));
    const template = samApp();
    const a = possum(['deploy-bucket/out', '-t', template, '--endpoint-url', endpoint, '-o', path.join(dir, 'out.yaml')]);
    expect(a.status).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'out.yaml')).isSymbolicLink()).toBe(true);
    expect(parseTemplate(fs.readFileSync(path.join(dir, 'deploy', 'packaged.yaml'), 'utf8'), 'out').value.Resources.Api.Properties.CodeUri)
      .toMatch(/^s3:\/\/deploy-bucket\/out\/[0-9a-f]{64}\.zip$/);
    // A FIFO stands for /dev/null and /dev/stdout, which a rename would replace with a file.
    const fifo = path.join(dir, 'pipe');
    expect(run('mkfifo', [fifo]).status).toBe(0);
    const reader = run('bash', ['-c', `cat ${JSON.stringify(fifo)} > ${JSON.stringify(path.join(dir, 'read.yaml'))} & ` +
      `${JSON.stringify(process.execPath)} ${JSON.stringify(POSSUM)} deploy-bucket/out -t ${JSON.stringify(template)} --endpoint-url ${endpoint} ` +
      `--index-url ${index.url()} -o ${JSON.stringify(fifo)}; status=$?; wait; exit $status`],
    { env: { ...process.env, ...CREDENTIALS, POSSUM_CACHE_DIR: path.join(work, 'cache') }, timeoutMs: 120_000 });
    expect({ status: reader.status, stderr: reader.status === 0 ? '' : reader.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'read.yaml'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'deploy', 'packaged.yaml'), 'utf8'));
  });

  test('a server that does not answer is a clear error, and no output template is written', async () => {
    const port = await freePort();
    const output = path.join(work, 'never.yaml');
    const r = possum(['deploy-bucket', '-t', samApp(), '--endpoint-url', `http://127.0.0.1:${port}`, '-o', output]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/possum: error: uploading to s3:\/\/deploy-bucket\/[0-9a-f]{64}\.zip at http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    expect(r.stderr).toContain(`nothing was written to ${output}`);
    expect(fs.existsSync(output)).toBe(false);
  });

  test.each([
    [[], 2, 'S3_BUCKET is required'],
    [['Not_A_Bucket'], 2, 'Not_A_Bucket is not a valid S3 bucket name'],
    [['deploy-bucket', '--bogus'], 2, 'unknown option --bogus'],
    [['deploy-bucket', '--installer', 'conda'], 2, '--installer conda is not pip or uv.'],
    [['deploy-bucket', '-t', '/nonexistent/template.yaml'], 1, 'Template /nonexistent/template.yaml does not exist'],
  ])('%j exits %i with %p', (args, code, message) => {
    const r = run(process.execPath, [POSSUM, ...(args as string[])], { env: { ...process.env, ...CREDENTIALS } });
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(code);
  });
});

describe('the deployment template: an edit in place', () => {
  test('a nested function gets the loader, POSSUM_HANDLER beside its variables, and /tmp; nothing else changes', () => {
    const dir = tempDir('nested-edit');
    writeTree(dir, { 'src/app.py': 'def h(e, c):\n    return 1\n' });
    const file = path.join(dir, 'template.yaml');
    const text = [
      '# A comment that stays',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      CodeUri: src/   # the code',
      '      Runtime: python3.12',
      '      Handler: app.h',
      '      Environment:',
      '        Variables:',
      "          A: '1'",
      '',
    ].join('\n');
    fs.writeFileSync(file, text);
    const parsed = parseTemplate(text, file);
    const [fn] = planSamPackaging(parsed.value, file);
    const report = { output: '', sha256: 'x', files: 10, unzippedBytes: 300e6, zippedBytes: 1, nested: true, deployedUnzippedBytes: 1, largest: [] };
    const wiring = nestedWiring(fn as any, report, 'template.yaml: Fn')!;
    const out = editTemplateText(parsed, [{ path: fn.path, value: 's3://b/k.zip' }, ...wiring.edits]);
    expect(out).toBe([
      '# A comment that stays',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      `      EphemeralStorage: {"Size":${wiring.ephemeralMb}}`,
      '      CodeUri: "s3://b/k.zip"   # the code',
      '      Runtime: python3.12',
      '      Handler: "_possum_loader.handler"',
      '      Environment:',
      '        Variables:',
      '          POSSUM_HANDLER: "app.h"',
      "          A: '1'",
      '',
    ].join('\n'));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
