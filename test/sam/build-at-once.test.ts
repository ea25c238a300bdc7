import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SamTemplatePackager } from '../../src';
import { REPO_ROOT, tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * SamTemplatePackager knows all of a template's bundles up front, so it builds those missing
 * from the cache at once (the possum CLI's pool of workers) instead of one after another.
 */
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'sam-app.js');
const local = useLocalIndex('sam-at-once');

const TEMPLATE = [
  "AWSTemplateFormatVersion: '2010-09-09'",
  'Transform: AWS::Serverless-2016-10-31',
  'Resources:',
  '  Greeter:', '    Type: AWS::Serverless::Function',
  '    Properties:', '      CodeUri: greeter/', '      Handler: app.handler', '      Runtime: python3.12',
  '  Maths:', '    Type: AWS::Serverless::Function',
  '    Properties:', '      CodeUri: maths/', '      Handler: app.handler', '      Runtime: python3.11', '      Architectures: [arm64]',
].join('\n') + '\n';

function samFolder(label: string): string {
  const dir = tempDir(label);
  writeTree(dir, {
    'template.yaml': TEMPLATE,
    'greeter/app.py': 'import greeting\ndef handler(e, c):\n    return greeting.greet("a")\n',
    'greeter/requirements.txt': 'greeting==1.0\n',
    'maths/app.py': 'import fastmath\ndef handler(e, c):\n    return fastmath.VARIANT\n',
    'maths/requirements.txt': 'fastmath==1.0\n',
  });
  return path.join(dir, 'template.yaml');
}

/**
 * An index in front of the local one that holds the first request for each of `projects`'
 * pages until a request for another of them arrives (or `holdMs` passes): two installs that
 * run at once get through together; one after another, the first waits out the hold.
 */
async function barrierIndex(target: string, projects: string[], holdMs: number) {
  const waiting: Array<() => void> = [];
  const seen = new Set<string>();
  const state = { overlapped: false };
  const server = http.createServer((req, res) => {
    const forward = () => {
      const upstream = http.request(`${target.replace(/\/simple$/, '')}${req.url}`, { method: req.method, headers: req.headers }, up => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    const project = projects.find(p => req.url === `/simple/${p}/`);
    if (!project || seen.has(project)) return forward();
    seen.add(project);
    if (waiting.length > 0) {
      state.overlapped = true;
      waiting.splice(0).forEach(release => release());
      return forward();
    }
    const timer = setTimeout(() => {
      waiting.splice(waiting.indexOf(release), 1);
      forward();
    }, holdMs);
    const release = () => {
      clearTimeout(timer);
      forward();
    };
    waiting.push(release);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`,
    state,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Runs a command without blocking this process's event loop (the barrier index serves from it). */
function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => stdout += d);
    child.stderr.on('data', d => stderr += d);
    child.on('error', reject);
    child.on('close', status => resolve({ status, stdout, stderr }));
  });
}

/** The S3 keys of the template's packaged code (CDK names an asset after its zip's sha256). */
function codeKeys(template: any): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (r.Properties?.CodeUri?.Key) keys[id] = JSON.stringify(r.Properties.CodeUri.Key);
  }
  return keys;
}

describe('SamTemplatePackager builds the bundles a template needs at once', () => {
  test('two functions install at the same time, and their assets are the bytes building them one by one gives', async () => {
    const templateFile = samFolder('at-once');
    const barrier = await barrierIndex(local.index.url(), ['greeting', 'fastmath'], 30_000);
    const outdir = tempDir('at-once-out');
    let r;
    try {
      r = await runAsync(process.execPath, [APP], {
        ...process.env,
        SAM_TEMPLATE: templateFile,
        SAM_PARAMETERS: '{}',
        SAM_CACHE: path.join(tempDir('at-once-cache'), 'c'),
        SAM_INDEX_URL: barrier.url,
        CDK_OUTDIR: outdir,
      });
    } finally {
      barrier.close();
    }
    if (r.status !== 0) throw new Error(`synth failed:\n${r.stderr}`);
    // Both project pages were asked for while the other was held: the installs overlapped.
    expect(barrier.state.overlapped).toBe(true);
    for (const fn of ['Greeter', 'Maths']) {
      expect(r.stderr.match(new RegExp(`SamApp/Legacy/${fn}: installing`, 'g'))).toHaveLength(1);
      // Built just now, by a worker that said so: not "unchanged".
      expect(r.stderr).not.toContain(`SamApp/Legacy/${fn}: bundle unchanged`);
    }
    const parallel = codeKeys(JSON.parse(fs.readFileSync(path.join(outdir, 'SamApp.template.json'), 'utf8')));

    // One by one: command hooks (functions, which the workers cannot receive) keep the
    // construct on its one-at-a-time path, with a cache of its own.
    const app = new cdk.App({ outdir: tempDir('one-by-one-out') });
    const stack = new cdk.Stack(app, 'SamApp');
    const quiet = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      new SamTemplatePackager(stack, 'Legacy', {
        templateFile,
        bundling: {
          indexUrl: local.index.url(),
          cacheDir: path.join(tempDir('one-by-one-cache'), 'c'),
          commandHooks: { beforeInstall: () => [], afterInstall: () => [] },
        },
      });
    } finally {
      quiet.mockRestore();
    }
    const oneByOne = codeKeys(app.synth().getStackByName('SamApp').template);
    expect(Object.keys(parallel).sort()).toEqual(['Greeter', 'Maths']);
    expect(parallel).toEqual(oneByOne);
  });

  test('a remote cache that is down is one warning for the template, and the bundles are built here', () => {
    const templateFile = samFolder('at-once-remote');
    const saved = { ...process.env };
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9';
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    process.env.AWS_REGION = 'us-east-1';
    const app = new cdk.App({ outdir: tempDir('at-once-remote-out') });
    const stack = new cdk.Stack(app, 'S');
    const quiet = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let packager: SamTemplatePackager;
    try {
      packager = new SamTemplatePackager(stack, 'App', {
        templateFile,
        bundling: { indexUrl: local.index.url(), cacheDir: path.join(tempDir('at-once-remote-cache'), 'c'), remoteCache: 's3://fleet/ci' },
      });
    } finally {
      quiet.mockRestore();
      process.env = saved;
    }
    expect(packager.packagedResources).toEqual(['Greeter', 'Maths']);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('the remote cache s3://fleet/ci/ could not be read'));
    expect(warnings).toHaveLength(1);
    const keys = codeKeys(app.synth().getStackByName('S').template);
    expect(Object.keys(keys).sort()).toEqual(['Greeter', 'Maths']);
  });
});
