import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * CDK decides which stacks need bundling (`aws:cdk:bundling-stacks`): none for `cdk ls`
 * and `cdk destroy`, the selection for `cdk synth --exclusively`, none in a unit test that
 * says so. possum-cdk must then start no installer, read no index and write nothing.
 */
const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'multi-stack-app.js');
/** Nothing listens on port 9 of 127.0.0.1: every request to this index is refused. */
const DEAD_INDEX = 'http://127.0.0.1:9/simple';

const local = useLocalIndex('bundling-stacks');

function functionFolders(): string {
  const dir = tempDir('multi-fns');
  for (const name of ['a1', 'a2', 'b1', 'b2', 'c1', 'c2']) {
    writeTree(path.join(dir, name), {
      'index.py': `import greeting\n\ndef handler(event, context):\n    return "${name}"\n`,
      // Each function its own requirement, so the index log shows whose was installed.
      'requirements.txt': name.endsWith('1') ? 'greeting==1.0\n' : 'withdeps==1.0\n',
    });
  }
  return dir;
}

function cdk(args: string[], cache: string, dir: string, cwd: string) {
  return run(CDK, [...args, '--app', `node ${APP}`, '--no-notices'], {
    cwd,
    env: {
      ...process.env,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      MULTI_DIR: dir,
      MULTI_CACHE: cache,
      MULTI_INDEX_URL: local.index.url(),
      MULTI_DEAD_INDEX_URL: DEAD_INDEX,
    },
    timeoutMs: 600_000,
  });
}

function cacheEntries(cache: string): string[] {
  const list = (sub: string) => fs.existsSync(path.join(cache, 'v2', sub)) ? fs.readdirSync(path.join(cache, 'v2', sub)) : [];
  return [...list('deps'), ...list('zips'), ...list('index')];
}

describe('bundling only what CDK asks for (real cdk CLI)', () => {
  test('cdk ls lists the stacks, installs nothing, writes no cache entry, even with a dead index', () => {
    const dir = functionFolders();
    const cache = path.join(tempDir('ls-cache'), 'c');
    const before = local.index.requests().length;
    const r = cdk(['ls'], cache, dir, tempDir('ls-cwd'));
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['StackA', 'StackB', 'StackC']);
    expect(r.stderr).not.toMatch(/possum-cdk: .*(installing|bundled)|Bundling asset/);
    expect(local.index.requests().length).toBe(before);
    expect(cacheEntries(cache)).toEqual([]);
  });

  test('cdk synth --exclusively StackB bundles StackB only; StackA, whose index is dead, is left alone', () => {
    const dir = functionFolders();
    const cache = path.join(tempDir('excl-cache'), 'c');
    const cwd = tempDir('excl-cwd');
    const r = cdk(['synth', '--exclusively', 'StackB', '--quiet', '--output', path.join(cwd, 'cdk.out')], cache, dir, cwd);
    expect(r.stderr).not.toContain('127.0.0.1:9');
    expect(r.status).toBe(0);
    const bundled = [...r.stderr.matchAll(/possum-cdk: (\S+): bundled/g)].map(m => m[1]).sort();
    expect(bundled).toEqual(['StackB/Fn1', 'StackB/Fn2']);
    expect(r.stderr).not.toMatch(/Stack[AC]\/Fn\d: installing/);
    // Two functions, two zips and their index entries, two dependency trees.
    expect(cacheEntries(cache)).toHaveLength(6);
    const template = JSON.parse(fs.readFileSync(path.join(cwd, 'cdk.out', 'StackB.template.json'), 'utf8'));
    const keys = Object.values(template.Resources).filter((x: any) => x.Type === 'AWS::Lambda::Function')
      .map((f: any) => f.Properties.Code.S3Key as string);
    for (const key of keys) expect(fs.existsSync(path.join(cwd, 'cdk.out', `asset.${key}`))).toBe(true);
  });

  test('a user\'s jest test with bundling-stacks [] passes with the network cut (unshare -n)', () => {
    const project = tempDir('user-jest');
    writeTree(project, {
      'fn/index.py': 'import requests\n\ndef handler(event, context):\n    return "ok"\n',
      'fn/requirements.txt': 'requests==2.32.3\n',
      'stack.test.js': [
        'const cdk = require(\'aws-cdk-lib\');',
        'const { Template } = require(\'aws-cdk-lib/assertions\');',
        `const { PythonPipfileFunction } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib'))});`,
        'test(\'the stack has the function\', () => {',
        '  const app = new cdk.App({ context: { \'aws:cdk:bundling-stacks\': [] } });',
        '  const stack = new cdk.Stack(app, \'UserStack\');',
        '  const fn = new PythonPipfileFunction(stack, \'Api\', { entry: __dirname + \'/fn\', bundling: { cacheDir: __dirname + \'/cache\' } });',
        '  const t = Template.fromStack(stack);',
        '  t.hasResourceProperties(\'AWS::Lambda::Function\', { Handler: \'index.handler\', Runtime: \'python3.13\' });',
        '  expect(fn.sizeReport).toBeUndefined();',
        '  expect(require(\'fs\').existsSync(__dirname + \'/cache\')).toBe(false);',
        '});',
      ].join('\n'),
      'jest.config.js': `module.exports = { rootDir: __dirname, testMatch: ['**/*.test.js'], modulePaths: [${JSON.stringify(path.join(REPO_ROOT, 'node_modules'))}] };\n`,
    });
    const jest = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const r = run('unshare', ['-n', process.execPath, jest, '--config', path.join(project, 'jest.config.js'), '--ci'], { cwd: project, timeoutMs: 300_000 });
    expect(r.stderr).toMatch(/Tests:\s+1 passed/);
    expect(r.status).toBe(0);
    // The same test with bundling wanted does reach for the network, and fails there.
    fs.writeFileSync(path.join(project, 'stack.test.js'), fs.readFileSync(path.join(project, 'stack.test.js'), 'utf8').replace('\'aws:cdk:bundling-stacks\': []', '\'aws:cdk:bundling-stacks\': [\'**\']'));
    const wanted = run('unshare', ['-n', process.execPath, jest, '--config', path.join(project, 'jest.config.js'), '--ci'], { cwd: project, timeoutMs: 300_000 });
    expect(wanted.status).not.toBe(0);
  });
});
