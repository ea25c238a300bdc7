import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Installer, NestedZip, PythonPipfileFunction, PythonPipfileFunctionProps, PythonPipfileLayerVersion } from '../../src';
import { python, REPO_ROOT, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { buildWheelhouse, LocalIndex, lockHashes, Wheelhouse } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

let house: Wheelhouse;
let index: LocalIndex;
let work: string;

beforeAll(async () => {
  delete process.env.POSSUM_CACHE_DIR;
  work = tempDir('construct');
  house = buildWheelhouse(work);
  index = await LocalIndex.start(house);
});
afterAll(() => index?.stop());

interface Synth {
  readonly template: Template;
  readonly stack: cdk.Stack;
  readonly fn: PythonPipfileFunction;
  /** The staged zip CDK will upload. */
  readonly zip: string;
  /** What the library wrote to stderr during the synth. */
  readonly log: string;
}

/** Synthesizes one function in-process, capturing possum-cdk's stderr lines. */
function synthFunction(props: PythonPipfileFunctionProps & { outdir?: string; cacheDir?: string }): Synth {
  const { outdir, cacheDir, ...fnProps } = props;
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const app = new cdk.App({ outdir: outdir ?? tempDir('out') });
    const stack = new cdk.Stack(app, 'S');
    const fn = new PythonPipfileFunction(stack, 'Fn', {
      ...fnProps,
      bundling: { indexUrl: index.url(), cacheDir: cacheDir ?? path.join(work, 'cache'), ...fnProps.bundling },
    });
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    const key = (Object.values(template.findResources('AWS::Lambda::Function'))[0] as any).Properties.Code.S3Key as string;
    return { template, stack, fn, zip: path.join(assembly.directory, `asset.${key}`), log: lines.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** A function folder with an index.py that reports what it imported. */
function functionDir(label: string, files: Record<string, string>, imports = ['greeting']): string {
  const dir = path.join(tempDir(label), 'fn');
  writeTree(dir, {
    'index.py': [
      ...imports.map(i => `import ${i}`),
      'import json',
      'def handler(event, context):',
      `    return {${imports.map(i => `"${i}": getattr(${i}, "VERSION", getattr(${i}, "VARIANT", "ok"))`).join(', ')}}`,
      '',
    ].join('\n'),
    ...files,
  });
  return dir;
}

const PEM_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

function zipNames(zip: string): string[] {
  return inspectZip(zip).entries.map(e => e.name);
}

/** Unzips the bundle with Python and calls the handler, as Lambda would. */
function invokeBundle(zip: string, handler = 'index.handler', env: NodeJS.ProcessEnv = {}): any {
  const task = path.join(tempDir('task'), 'task');
  unzipWithPython(zip, task);
  const [mod, fn] = [handler.slice(0, handler.lastIndexOf('.')), handler.slice(handler.lastIndexOf('.') + 1)];
  const out = python(`import json, importlib; print(json.dumps(getattr(importlib.import_module(${JSON.stringify(mod)}), ${JSON.stringify(fn)})({}, None)))`,
    { cwd: task, env: { ...process.env, POSSUM_EXTRACT_ROOT: path.join(path.dirname(task), 'tmp'), ...env } });
  return JSON.parse(out);
}

type LockedPackages = Record<string, { version: string; hashes: string[]; markers?: string }>;

function pipfileLock(packages: LockedPackages, develop: Record<string, unknown> = {}): string {
  return JSON.stringify({
    _meta: { 'hash': { sha256: 'not-checked-without-a-pipfile' }, 'pipfile-spec': 6, 'requires': {}, 'sources': [{ name: 'local', url: index.url(), verify_ssl: false }] },
    default: packages,
    develop,
  }, undefined, 4);
}

describe('PythonPipfileFunction: the construct', () => {
  test('is a lambda.Function with the alpha module defaults: index.py, handler, a current Python runtime', () => {
    const dir = functionDir('defaults', { 'requirements.txt': 'greeting==1.0\n' });
    const { template, fn, zip } = synthFunction({ entry: dir });
    expect(fn).toBeInstanceOf(lambda.Function);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'python3.13',
      Code: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
    });
    expect(zipNames(zip)).toEqual(expect.arrayContaining(['index.py', 'greeting/__init__.py']));
    expect(zipNames(zip)).not.toContain('requirements.txt'); // a build input, not shipped
    expect(invokeBundle(zip)).toEqual({ greeting: '1.0' });
    expect(fn.sizeReport).toMatchObject({ nested: false, files: zipNames(zip).length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  test('index and handler props name the handler; FunctionOptions pass through', () => {
    const dir = functionDir('handler-props', {});
    writeTree(dir, { 'app/main.py': 'def run(event, context):\n    return "ran"\n' });
    const { template } = synthFunction({ entry: dir, index: 'app/main.py', handler: 'run', memorySize: 1024, runtime: lambda.Runtime.PYTHON_3_12 });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'app/main.run', MemorySize: 1024, Runtime: 'python3.12' });
  });

  test.each([
    [{ runtime: lambda.Runtime.NODEJS_20_X }, /S\/Fn: runtime nodejs20.x is not a Python runtime; use lambda.Runtime.PYTHON_3_x/],
    [{ entry: '/nonexistent/fn' }, /S\/Fn: entry \/nonexistent\/fn is not a folder/],
    [{ index: 'main.py' }, /S\/Fn: index main.py does not exist in .*; set index to the handler module's file/],
  ])('bad props are errors naming the value: %p', (override, message) => {
    const dir = functionDir('bad-props', {});
    expect(() => synthFunction({ entry: dir, ...override } as PythonPipfileFunctionProps)).toThrow(message);
  });
});

describe('dependency manifests (real pip, local index)', () => {
  test('Pipfile.lock: "default" installed with hash checking, "develop" never', () => {
    const dir = functionDir('pipfile-lock', {
      'Pipfile.lock': pipfileLock(
        { greeting: { version: '==2.0', hashes: lockHashes(house, 'greeting', '2.0') } },
        { withdeps: { version: '==1.0', hashes: lockHashes(house, 'withdeps', '1.0') } }),
    });
    const { zip } = synthFunction({ entry: dir });
    expect(zipNames(zip).filter(n => n.startsWith('withdeps'))).toEqual([]);
    expect(invokeBundle(zip)).toEqual({ greeting: '2.0' });
  });

  test('a tampered hash in Pipfile.lock fails with pip\'s hash error and leaves no asset and no cache entry', () => {
    const dir = functionDir('tampered', {
      'Pipfile.lock': pipfileLock({ greeting: { version: '==1.0', hashes: [`sha256:${'0'.repeat(64)}`] } }),
    });
    const outdir = tempDir('tampered-out');
    const cacheDir = path.join(tempDir('tampered-cache'), 'cache');
    expect(() => synthFunction({ entry: dir, outdir, cacheDir, bundling: { installer: Installer.pip() } }))
      .toThrow(/S\/Fn: pip refused a package whose hash does not match the lock[\s\S]*THESE PACKAGES DO NOT MATCH THE HASHES/);
    // uv, the default installer, refuses it too.
    expect(() => synthFunction({ entry: dir, outdir, cacheDir })).toThrow(/S\/Fn: uv refused a package whose hash does not match the lock[\s\S]*Hash mismatch/);
    expect(fs.readdirSync(outdir).filter(f => f.startsWith('asset.'))).toEqual([]);
    const entries = (sub: string) => fs.existsSync(path.join(cacheDir, 'v2', sub)) ? fs.readdirSync(path.join(cacheDir, 'v2', sub)) : [];
    expect([entries('deps'), entries('zips'), entries('tmp')]).toEqual([[], [], []]);
  });

  test('Pipfile: [packages] resolved with dependencies', () => {
    const dir = functionDir('pipfile', { Pipfile: '[packages]\nwithdeps = "==1.0"\n\n[dev-packages]\nfastmath = "*"\n' }, ['withdeps', 'greeting']);
    const { zip } = synthFunction({ entry: dir });
    expect(invokeBundle(zip)).toEqual({ withdeps: 'ok', greeting: '2.0' });
    expect(zipNames(zip).some(n => n.startsWith('fastmath'))).toBe(false);
  });

  test('requirements.txt with -r includes', () => {
    const dir = functionDir('reqs', { 'requirements.txt': '-r base.txt\n', 'base.txt': 'greeting==1.0\n' });
    expect(invokeBundle(synthFunction({ entry: dir }).zip)).toEqual({ greeting: '1.0' });
  });

  test('pyproject.toml [project].dependencies', () => {
    const dir = functionDir('pyproject', { 'pyproject.toml': '[project]\nname = "fn"\nversion = "0"\ndependencies = ["greeting==1.0"]\n' });
    expect(invokeBundle(synthFunction({ entry: dir }).zip)).toEqual({ greeting: '1.0' });
  });

  test('uv.lock: the project\'s dependencies, pinned and hash-checked; dev groups left out', () => {
    const pkg = (name: string, version: string, deps = '') => [
      '[[package]]', `name = "${name}"`, `version = "${version}"`, `source = { registry = "${index.url()}" }`, deps,
      `wheels = [${lockHashes(house, name, version).map(h => `{ url = "${index.url()}/x.whl", hash = "${h}" }`).join(', ')}]`, '',
    ].join('\n');
    const dir = functionDir('uv', {
      'pyproject.toml': '[project]\nname = "my-fn"\nversion = "0.1.0"\ndependencies = ["withdeps"]\n',
      'uv.lock': [
        'version = 1', 'requires-python = ">=3.11"', '',
        pkg('greeting', '1.0'), pkg('newlib', '1.0'), pkg('withdeps', '1.0', 'dependencies = [{ name = "greeting" }]'),
        '[[package]]', 'name = "my-fn"', 'version = "0.1.0"', 'source = { virtual = "." }', 'dependencies = [{ name = "withdeps" }]',
        '[package.dev-dependencies]', 'dev = [{ name = "newlib" }]', '',
      ].join('\n'),
    }, ['withdeps', 'greeting']);
    const { zip } = synthFunction({ entry: dir });
    expect(invokeBundle(zip)).toEqual({ withdeps: 'ok', greeting: '1.0' });
    expect(zipNames(zip).some(n => n.startsWith('newlib'))).toBe(false);
  });

  test('poetry.lock: main dependencies pinned and hash-checked; groups left out', () => {
    const pkg = (name: string, version: string, deps = '') => [
      '[[package]]', `name = "${name}"`, `version = "${version}"`, 'optional = false', 'python-versions = "*"',
      `files = [${lockHashes(house, name, version).map(h => `{file = "x.whl", hash = "${h}"}`).join(', ')}]`, '', deps, '',
    ].join('\n');
    const dir = functionDir('poetry', {
      'pyproject.toml': '[tool.poetry]\nname = "fn"\nversion = "0"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nwithdeps = "1.0"\n\n[tool.poetry.group.dev.dependencies]\nnewlib = "*"\n',
      'poetry.lock': [
        pkg('greeting', '2.0'), pkg('newlib', '1.0'), pkg('withdeps', '1.0', '[package.dependencies]\ngreeting = "*"'),
        '[metadata]', 'lock-version = "2.1"', 'python-versions = "^3.11"', 'content-hash = "x"', '',
      ].join('\n'),
    }, ['withdeps', 'greeting']);
    const { zip } = synthFunction({ entry: dir });
    expect(invokeBundle(zip)).toEqual({ withdeps: 'ok', greeting: '2.0' });
    expect(zipNames(zip).some(n => n.startsWith('newlib'))).toBe(false);
  });

  test('no manifest: the folder alone', () => {
    const dir = functionDir('none', {}, []);
    expect(zipNames(synthFunction({ entry: dir }).zip)).toEqual(['index.py']);
  });
});

describe('platform tags', () => {
  test('arm64 gets the aarch64 wheel, x86_64 the x86_64 one (checked by the ELF machine field)', () => {
    const dir = functionDir('arch', { 'requirements.txt': 'fastmath==1.0\n' }, ['fastmath']);
    const elfMachine = (zip: string) => {
      const task = tempDir('elf');
      unzipWithPython(zip, task);
      const so = fs.readdirSync(path.join(task, 'fastmath')).find(f => f.endsWith('.so'))!;
      return { so, machine: fs.readFileSync(path.join(task, 'fastmath', so)).readUInt16LE(18) };
    };
    const arm = synthFunction({ entry: dir, runtime: lambda.Runtime.PYTHON_3_11, architecture: lambda.Architecture.ARM_64 });
    const x86 = synthFunction({ entry: dir, runtime: lambda.Runtime.PYTHON_3_11, architecture: lambda.Architecture.X86_64 });
    expect(elfMachine(arm.zip)).toEqual({ so: '_speedups.cpython-311-aarch64-linux-gnu.so', machine: 0xb7 });
    expect(elfMachine(x86.zip)).toEqual({ so: '_speedups.cpython-311-x86_64-linux-gnu.so', machine: 0x3e });
    expect(arm.zip).not.toBe(x86.zip);
    const py313 = synthFunction({ entry: dir, runtime: lambda.Runtime.PYTHON_3_13 });
    expect(elfMachine(py313.zip).so).toBe('_speedups.cpython-313-x86_64-linux-gnu.so');
  });

  test('python3.11 refuses a manylinux_2_28 wheel with an error naming package, runtime and architecture', () => {
    const dir = functionDir('too-new', { 'requirements.txt': 'newlib==1.0\n' }, ['newlib']);
    const outdir = tempDir('too-new-out');
    expect(() => synthFunction({ entry: dir, outdir, runtime: lambda.Runtime.PYTHON_3_11 }))
      .toThrow(/S\/Fn: no wheel of newlib==1\.0 from .*requirements\.txt is compatible with python3\.11 on x86_64 .*no source distribution/s);
    expect(fs.readdirSync(outdir).filter(f => f.startsWith('asset.'))).toEqual([]);
    // python3.12 runs on glibc 2.34 and takes it.
    expect(zipNames(synthFunction({ entry: dir, runtime: lambda.Runtime.PYTHON_3_12 }).zip)).toContain('newlib/__init__.py');
  });

  test('python3.11 takes a manylinux_2_24 wheel, which uv cannot name, by installing that one package with pip', () => {
    // uv's --python-platform jumps from manylinux_2_17 to 2_28; python3.11's glibc is 2.26.
    const dir = functionDir('gap', { 'requirements.txt': 'midlib==1.0\ngreeting==2.0\n' }, ['midlib', 'greeting']);
    const cacheDir = path.join(tempDir('gap-cache'), 'c');
    const x86 = synthFunction({ entry: dir, cacheDir, runtime: lambda.Runtime.PYTHON_3_11 });
    expect(x86.log).toContain('with uv');
    expect(x86.log).toMatch(/S\/Fn: midlib==1\.0 has no wheel uv can select for python3\.11 .*installed with pip/);
    expect(invokeBundle(x86.zip)).toEqual({ midlib: 'ok', greeting: '2.0' });
    const task = path.join(tempDir('gap-task'), 'task');
    unzipWithPython(x86.zip, task);
    const read = (name: string) => fs.readFileSync(path.join(task, name), 'utf8');
    expect([read('midlib-1.0.dist-info/INSTALLER').trim(), read('greeting-2.0.dist-info/INSTALLER').trim()]).toEqual(['pip', 'uv']);
    expect(read('midlib-1.0.dist-info/WHEEL')).toContain('Tag: py3-none-manylinux_2_24_x86_64');
    // The same bytes again from an empty cache: the fallback is part of a reproducible build.
    const again = synthFunction({ entry: dir, cacheDir: path.join(tempDir('gap-cache-2'), 'c'), runtime: lambda.Runtime.PYTHON_3_11 });
    expect(fs.readFileSync(again.zip).equals(fs.readFileSync(x86.zip))).toBe(true);
    // There is no aarch64 wheel at all: pip finds none either, and the sdist builds a native wheel, refused.
    expect(() => synthFunction({ entry: dir, cacheDir, runtime: lambda.Runtime.PYTHON_3_11, architecture: lambda.Architecture.ARM_64 }))
      .toThrow(/S\/Fn: midlib==1\.0 from .*requirements\.txt has no wheel for the target for python3\.11 on arm64, and its source builds a platform-specific wheel/s);
  });
});

describe('the uv installer (real uv from .tools/)', () => {
  const withUvOnPath = <T>(fn: () => T): T => {
    const saved = process.env.PATH;
    process.env.PATH = `${path.join(REPO_ROOT, '.tools', 'bin')}:${saved}`;
    try {
      return fn();
    } finally {
      process.env.PATH = saved;
    }
  };

  test('installs for the target platform and checks lock hashes', () => withUvOnPath(() => {
    const dir = functionDir('uv-installer', { 'requirements.txt': 'fastmath==1.0\ngreeting==2.0\n' }, ['fastmath', 'greeting']);
    const arm64 = { runtime: lambda.Runtime.PYTHON_3_11, architecture: lambda.Architecture.ARM_64 };
    const arm = synthFunction({ entry: dir, ...arm64, bundling: { installer: Installer.uv() } });
    expect(arm.log).toContain('with uv');
    expect(zipNames(arm.zip)).toContain('fastmath/_speedups.cpython-311-aarch64-linux-gnu.so');
    expect(zipNames(arm.zip)).not.toContain('.lock'); // uv's own lock file at the top of --target
    // The cached tree holds copies: uv's default hardlinks would tie it to uv's own cache,
    // so an edit on either side would change the other (and every later bundle).
    const trees = fs.readdirSync(path.join(work, 'cache', 'v2', 'deps')).map(k => path.join(work, 'cache', 'v2', 'deps', k, 'tree', 'greeting', '__init__.py'))
      .filter(f => fs.existsSync(f));
    expect(trees.length).toBeGreaterThan(0);
    for (const f of trees) expect(`${f}: ${fs.statSync(f).nlink}`).toBe(`${f}: 1`);
    const pip = synthFunction({ entry: dir, ...arm64, bundling: { installer: Installer.pip() } });
    expect(path.basename(pip.zip)).not.toBe(path.basename(arm.zip)); // the installer is part of the key
    // uv is the default installer.
    expect(path.basename(synthFunction({ entry: dir, ...arm64 }).zip)).toBe(path.basename(arm.zip));

    const tampered = functionDir('uv-tampered', { 'Pipfile.lock': pipfileLock({ greeting: { version: '==1.0', hashes: [`sha256:${'0'.repeat(64)}`] } }) });
    expect(() => synthFunction({ entry: tampered, bundling: { installer: Installer.uv() } })).toThrow(/S\/Fn: .*uv/s);
  }));

  test('without uv 0.13.9 on PATH or in POSSUM_UV, possum-cdk installs it from the index; when it cannot, the error says how to provide it', () => {
    const dir = functionDir('uv-missing', { 'requirements.txt': 'greeting==1.0\n' });
    const saved = { PATH: process.env.PATH, POSSUM_UV: process.env.POSSUM_UV };
    process.env.PATH = '/usr/bin:/bin';
    delete process.env.POSSUM_UV;
    try {
      // The local index has no uv: installing it fails, and the message says what to do.
      expect(() => synthFunction({ entry: dir, cacheDir: path.join(tempDir('uv-missing-cache'), 'c'), bundling: { installer: Installer.uv() } }))
        .toThrow(/possum-cdk needs uv 0\.13\.9 and could not install it with .* from your package index .*Install uv 0\.13\.9 .*POSSUM_UV/s);
      process.env.POSSUM_UV = '/bin/true';
      expect(() => synthFunction({ entry: dir, cacheDir: path.join(tempDir('uv-missing-cache'), 'c'), bundling: { installer: Installer.uv() } }))
        .toThrow('POSSUM_UV=/bin/true is not a working uv; possum-cdk needs uv 0.13.9.');
    } finally {
      process.env.PATH = saved.PATH;
      process.env.POSSUM_UV = saved.POSSUM_UV;
    }
  });
});

describe('bundle contents', () => {
  test('default excludes keep tooling, secrets and tests out; excludeRuntimePackages drops boto3/botocore', () => {
    const dir = functionDir('excludes', {
      'requirements.txt': 'boto3==1.0\ngreeting==1.0\n',
      '.env': 'SECRET=1\n',
      'tests/test_index.py': 'def test(): pass\n',
      '.venv/lib/x.py': 'x\n',
      'pkg/tests_helper.py': 'kept = True\n',
    });
    const all = zipNames(synthFunction({ entry: dir }).zip);
    expect(all).toEqual(expect.arrayContaining(['boto3/__init__.py', 'botocore/__init__.py', 'pkg/tests_helper.py']));
    expect(all.filter(n => n.startsWith('.env') || n.startsWith('tests/') || n.startsWith('.venv'))).toEqual([]);
    const slim = zipNames(synthFunction({ entry: dir, bundling: { excludeRuntimePackages: true, exclude: ['pkg/'] } }).zip);
    expect(slim.filter(n => /^(boto3|botocore)/.test(n))).toEqual([]);
    expect(slim).toContain('greeting/__init__.py');
    expect(slim).not.toContain('pkg/tests_helper.py');
    // The user's patterns add to the defaults.
    expect(slim.filter(n => n.startsWith('.env') || n.startsWith('tests/') || n.startsWith('.venv'))).toEqual([]);
  });

  test('secrets stay out by default: keys, cloud and package-manager credentials, Terraform state; user patterns add to them', () => {
    const secrets: Record<string, string> = {
      'id_rsa': PEM_KEY,
      'id_ed25519': PEM_KEY,
      'id_ed25519.pub': 'ssh-ed25519 AAAA possum\n',
      '.ssh/config': 'Host x\n',
      '.aws/credentials': '[default]\n',
      '.npmrc': '//registry.npmjs.org/:_authToken=x\n',
      '.pypirc': '[pypi]\n',
      '.netrc': 'machine x login y password z\n',
      '.envrc': 'export A=1\n',
      '.env': 'A=1\n',
      '.env.production': 'A=1\n',
      'server.pem': PEM_KEY,
      'conf/tls.key': PEM_KEY,
      'terraform.tfstate': '{}\n',
      'terraform.tfstate.backup': '{}\n',
      '.git/config': '[core]\n',
      '.git-credentials': 'https://u:p@github.com\n',
      'pip.conf': '[global]\n',
    };
    const dir = functionDir('secrets', { ...secrets, 'requirements.txt': 'greeting==1.0\n', 'lib/util.py': 'X = 1\n', 'local.cfg': 'x\n' });
    const s = synthFunction({ entry: dir, bundling: { exclude: ['*.cfg'] } });
    const names = zipNames(s.zip);
    expect(names.filter(n => !/^(greeting|greeting-1\.0\.dist-info)\//.test(n))).toEqual(['index.py', 'lib/util.py']);
    // Nothing of them reached the cache either.
    const cached = fs.readdirSync(path.join(work, 'cache', 'v2', 'zips')).map(z => path.join(work, 'cache', 'v2', 'zips', z));
    for (const z of cached) expect(zipNames(z).filter(n => Object.keys(secrets).includes(n))).toEqual([]);
    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('secret'));
  });

  test('useDefaultExcludes: false starts from none, and a file that looks like a secret is named in a warning', () => {
    const dir = functionDir('no-defaults', {
      'requirements.txt': 'greeting==1.0\n',
      '.env': 'A=1\n',
      'deploy/id_rsa': PEM_KEY,
      'settings.py': 'DB = "postgres://app:hunter2@db.internal:5432/app"\n',
      'config.py': 'URL = "postgres://app:${PASSWORD}@db/app"\nKEY = "AKIAIOSFODNN7EXAMPLE"\n',
      'tests/test_x.py': 'x\n',
    });
    const s = synthFunction({ entry: dir, bundling: { useDefaultExcludes: false } });
    const names = zipNames(s.zip);
    expect(names).toEqual(expect.arrayContaining(['.env', 'deploy/id_rsa', 'settings.py', 'config.py', 'tests/test_x.py']));
    expect(names).not.toContain('requirements.txt');
    const warnings = Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('look like secrets'));
    expect(warnings).toHaveLength(1);
    const text = String(warnings[0].entry.data);
    expect(text).toContain('[ack: possum-cdk:secretIncluded]');
    expect(text).toContain('includes 3 files that look like secrets: .env (a name in DefaultExcludes.SECRETS), deploy/id_rsa (holds a private key), ' +
      'settings.py (holds a URL with a password).');
    expect(text).not.toContain('config.py'); // placeholders and AWS's documented example key are not secrets
  });

  test('a handler module that an exclude pattern leaves out is named in a warning with the pattern that keeps it', () => {
    const warningOf = (s: Synth) => Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('possum-cdk:handlerExcluded'))
      .map(w => String(w.entry.data));
    // The user's own pattern on the file.
    const own = functionDir('handler-excluded', { 'requirements.txt': 'greeting==1.0\n' });
    const dropped = synthFunction({ entry: own, bundling: { exclude: ['*.py'] } });
    expect(zipNames(dropped.zip)).not.toContain('index.py');
    const [text] = warningOf(dropped);
    expect(text).toContain(`the handler module index is ${path.join(own, 'index.py')}, but the exclude pattern '*.py' leaves it out of the ` +
      'bundle: Lambda would fail every invocation with "Unable to import module \'index\'". Remove the pattern, or keep it with the ' +
      'exclude pattern \'!index.py\'');
    // A default on the folder above it: the function's tests are left out by default.
    const inTests = functionDir('handler-in-tests', { 'requirements.txt': 'greeting==1.0\n', 'tests/smoke.py': 'def handler(e, c):\n    return 1\n' });
    const defaulted = synthFunction({ entry: inTests, index: 'tests/smoke.py' });
    expect(zipNames(defaulted.zip)).not.toContain('tests/smoke.py');
    // The module as written, as Lambda's error names it; a default pattern is said to be one, and cannot be removed.
    expect(warningOf(defaulted)[0]).toContain('the handler module tests/smoke is ' +
      `${path.join(inTests, 'tests', 'smoke.py')}, but the default exclude pattern '/tests/' (DefaultExcludes.FUNCTION_FILES) leaves tests/ ` +
      'out of the bundle: Lambda would fail every invocation with "Unable to import module \'tests/smoke\'". Keep it with the exclude ' +
      'pattern \'!tests/\'');
    // Kept as the warning says: in the zip, and no warning.
    const kept = synthFunction({ entry: inTests, index: 'tests/smoke.py', bundling: { exclude: ['!tests/'] } });
    expect(zipNames(kept.zip)).toContain('tests/smoke.py');
    expect(warningOf(kept)).toEqual([]);
    expect(warningOf(synthFunction({ entry: own }))).toEqual([]);
  });

  test('a kept secret is still named; a certificate bundle left out by *.pem is pointed out with the pattern that keeps it', () => {
    const dir = functionDir('keep-cert', {
      'requirements.txt': 'greeting==1.0\n',
      'certs/global-bundle.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'deploy.key': PEM_KEY,
    });
    const first = synthFunction({ entry: dir, bundling: { exclude: ['!deploy.key'] } });
    expect(zipNames(first.zip)).toContain('deploy.key');
    expect(zipNames(first.zip)).not.toContain('certs/global-bundle.pem');
    const annotations = Annotations.fromStack(first.stack);
    expect(String(annotations.findWarning('*', Match.stringLikeRegexp('like a secret'))[0].entry.data))
      .toContain('includes a file that looks like a secret: deploy.key (holds a private key)');
    expect(String(annotations.findWarning('*', Match.stringLikeRegexp('only certificates'))[0].entry.data))
      .toContain('certs/global-bundle.pem in ' + dir + " holds only certificates but is left out by the default exclude '*.pem' " +
        "(which keeps private keys out). If the function reads it at run time, add '!certs/global-bundle.pem' to `exclude`.");
    const second = synthFunction({ entry: dir, bundling: { exclude: ['!certs/global-bundle.pem'] } });
    expect(zipNames(second.zip)).toContain('certs/global-bundle.pem');
    Annotations.fromStack(second.stack).hasNoWarning('*', Match.stringLikeRegexp('only certificates'));
  });

  test('manifests are build inputs: not shipped (with their -r includes) unless kept with a ! pattern', () => {
    const dir = functionDir('manifests', {
      'requirements.txt': '-r reqs/base.txt\n',
      'reqs/base.txt': 'greeting==1.0\n',
      'pyproject.toml': '[tool.ruff]\nline-length = 100\n',
      'reqs/other.txt': 'not read\n',
    });
    expect(zipNames(synthFunction({ entry: dir }).zip).filter(n => !n.startsWith('greeting'))).toEqual(['index.py', 'reqs/other.txt']);
    const kept = zipNames(synthFunction({ entry: dir, bundling: { exclude: ['!requirements.txt'] } }).zip);
    expect(kept).toContain('requirements.txt');
    expect(kept).not.toContain('reqs/base.txt');
  });

  test('a file name with a backslash is refused at synth, naming the file; excluded, it is fine', () => {
    const dir = functionDir('backslash', { 'requirements.txt': 'greeting==1.0\n', '..\\evil.py': 'x = 1\n' });
    expect(() => synthFunction({ entry: dir })).toThrow(`S/Fn: ${dir}/..\\x5cevil.py: the file name holds a backslash.`);
    expect(zipNames(synthFunction({ entry: dir, bundling: { exclude: ['*evil.py'] } }).zip)).not.toContain('..\\evil.py');
  });

  test('command hooks run before and after the install', () => {
    const dir = functionDir('hooks', { 'requirements.txt': 'greeting==1.0\n' });
    const { zip } = synthFunction({
      entry: dir,
      bundling: {
        commandHooks: {
          beforeInstall: (input: string) => [`test -f ${input}/index.py`],
          afterInstall: (_input: string, output: string) => [`echo generated > ${output}/hook_output.txt`],
        },
      },
    });
    expect(zipNames(zip)).toContain('hook_output.txt');
  });

  test('the same function gives the same bytes and asset hash in another app and folder', () => {
    const dir = functionDir('repro', { 'requirements.txt': 'greeting==1.0\n' });
    const a = synthFunction({ entry: dir });
    const b = synthFunction({ entry: dir, cacheDir: path.join(tempDir('other-cache'), 'c') });
    expect(path.basename(b.zip)).toBe(path.basename(a.zip));
    expect(fs.readFileSync(b.zip).equals(fs.readFileSync(a.zip))).toBe(true);
  });
});

describe('nested bundles', () => {
  test('over the threshold: handler points at the loader, POSSUM_HANDLER keeps the real one, /tmp is sized; it runs', () => {
    const dir = functionDir('nested', { 'requirements.txt': 'greeting==1.0\n' });
    const { template, zip, fn } = synthFunction({ entry: dir, bundling: { nestedThresholdBytes: 100 }, environment: { MINE: 'kept' } });
    expect(fn.nested).toBe(true);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: '_possum_loader.handler',
      Environment: { Variables: { MINE: 'kept', POSSUM_HANDLER: 'index.handler' } },
    });
    // The unpacked tree (4 KiB blocks per file, rounded up, plus 16 MB) on top of the usual 512 MB.
    const treeMb = Math.ceil((fn.sizeReport!.unzippedBytes + fn.sizeReport!.files * 4096) / 1048576) + 16;
    template.hasResourceProperties('AWS::Lambda::Function', { EphemeralStorage: { Size: 512 + treeMb } });
    expect(zipNames(zip)).toEqual(['_possum_bundle.zip', '_possum_loader.py']);
    expect(invokeBundle(zip, '_possum_loader.handler', { POSSUM_HANDLER: 'index.handler' })).toEqual({ greeting: '1.0' });
    Annotations.fromStack(fn.stack).hasWarning('/S/Fn', Match.stringLikeRegexp('deployed as a nested zip'));
  });

  test('NestedZip.ALWAYS nests a small function, and it still runs', () => {
    const dir = functionDir('nested-always', { 'requirements.txt': 'greeting==1.0\n' });
    const { template, zip, fn } = synthFunction({ entry: dir, bundling: { nestedZip: NestedZip.ALWAYS } });
    expect(fn.nested).toBe(true);
    expect(fn.sizeReport!.unzippedBytes).toBeLessThan(100_000);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: '_possum_loader.handler' });
    expect(zipNames(zip)).toEqual(['_possum_bundle.zip', '_possum_loader.py']);
    expect(invokeBundle(zip, '_possum_loader.handler', { POSSUM_HANDLER: 'index.handler' })).toEqual({ greeting: '1.0' });
  });

  test('NestedZip.NEVER: a bundle over the limit is an error naming the size, and nothing is staged or cached', () => {
    const dir = functionDir('nested-never', {});
    // A sparse 260 MB file: over Lambda's limit without writing 260 MB to disk.
    const big = fs.openSync(path.join(dir, 'model.bin'), 'w');
    fs.ftruncateSync(big, 260 * 1024 * 1024);
    fs.closeSync(big);
    const cacheDir = path.join(tempDir('never-cache'), 'cache');
    const outdir = tempDir('never-out');
    expect(() => synthFunction({ entry: dir, outdir, cacheDir, bundling: { nestedZip: NestedZip.NEVER } }))
      .toThrow(/unzips to \d+ bytes, not below Lambda's limit of 262144000 bytes, and nesting is off/);
    const zips = path.join(cacheDir, 'v2', 'zips');
    expect(fs.existsSync(zips) ? fs.readdirSync(zips) : []).toEqual([]);
    expect(fs.readdirSync(outdir).filter(f => f.startsWith('asset.'))).toEqual([]);
  });

  test('NestedZip choices that contradict themselves are errors naming the construct', () => {
    const dir = functionDir('nested-contradiction', {});
    expect(() => synthFunction({ entry: dir, bundling: { nestedZip: NestedZip.NEVER, nestedThresholdBytes: 100 } }))
      .toThrow('bundling.nestedZip NestedZip.NEVER at S/Fn contradicts bundling.nestedThresholdBytes 100; set one or the other.');
    const app = new cdk.App({ outdir: tempDir('nested-layer') });
    const stack = new cdk.Stack(app, 'S');
    expect(() => new PythonPipfileLayerVersion(stack, 'Layer', { entry: dir, bundling: { nestedZip: NestedZip.ALWAYS } }))
      .toThrow(/NestedZip.ALWAYS at S\/Layer: a layer cannot be a nested zip/);
  });

  test('never lowers the ephemeral storage the user set', () => {
    const dir = functionDir('nested-eph', { 'requirements.txt': 'greeting==1.0\n' });
    const { template } = synthFunction({ entry: dir, bundling: { nestedThresholdBytes: 100 }, ephemeralStorageSize: cdk.Size.mebibytes(4096) });
    template.hasResourceProperties('AWS::Lambda::Function', { EphemeralStorage: { Size: 4096 } });
  });

  test('layers built by possum-cdk count against the limit', () => {
    const dir = functionDir('layered', { 'requirements.txt': 'greeting==1.0\n' }, ['greeting', 'withdeps']);
    const layerDir = path.join(tempDir('layer'), 'layer');
    writeTree(layerDir, { 'requirements.txt': 'withdeps==1.0\n' });
    const app = new cdk.App({ outdir: tempDir('layer-out') });
    const stack = new cdk.Stack(app, 'S');
    const bundling = { indexUrl: index.url(), cacheDir: path.join(work, 'cache') };
    const layer = new PythonPipfileLayerVersion(stack, 'Layer', { entry: layerDir, bundling, runtime: lambda.Runtime.PYTHON_3_13 });
    const fn = new PythonPipfileFunction(stack, 'Fn', { entry: dir, layers: [layer], bundling });
    expect(layer.unzippedBytes).toBeGreaterThan(0);
    expect(fn.nested).toBe(false);
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleRuntimes: ['python3.13'], CompatibleArchitectures: ['x86_64'] });
    const layerKey = (Object.values(template.findResources('AWS::Lambda::LayerVersion'))[0] as any).Properties.Content.S3Key;
    const names = zipNames(path.join(assembly.directory, `asset.${layerKey}`));
    expect(names).toEqual(expect.arrayContaining(['python/withdeps/__init__.py', 'python/greeting/__init__.py']));
    expect(names.every(n => n.startsWith('python/'))).toBe(true);
  });

  test('a layer for several architectures needs identical trees: pure Python is fine, platform wheels are an error', () => {
    const pure = path.join(tempDir('layer-pure'), 'l');
    writeTree(pure, { 'requirements.txt': 'greeting==1.0\n' });
    const binary = path.join(tempDir('layer-bin'), 'l');
    writeTree(binary, { 'requirements.txt': 'fastmath==1.0\n' });
    const stack = new cdk.Stack(new cdk.App({ outdir: tempDir('layer-arch-out') }), 'S');
    const both = [lambda.Architecture.X86_64, lambda.Architecture.ARM_64];
    const bundling = { indexUrl: index.url(), cacheDir: path.join(work, 'cache') };
    new PythonPipfileLayerVersion(stack, 'Pure', { entry: pure, bundling, compatibleArchitectures: both });
    expect(() => new PythonPipfileLayerVersion(stack, 'Binary', { entry: binary, bundling, compatibleArchitectures: both, runtime: lambda.Runtime.PYTHON_3_11 }))
      .toThrow(/S\/Binary: the dependencies install differently for x86_64 and arm64 .*Create one layer per architecture/);
  });
});

describe('credentials', () => {
  test('an index password never reaches logs, errors, the template, the asset hash or the cache', async () => {
    const secretIndex = await LocalIndex.start(house, { user: 'ci', password: 'Sup3rS3cretT0ken' });
    try {
      const dir = functionDir('creds', { 'requirements.txt': 'greeting==1.0\n' });
      const cacheDir = path.join(tempDir('creds-cache'), 'c');
      const ok = synthFunction({ entry: dir, cacheDir, bundling: { indexUrl: secretIndex.url('ci:Sup3rS3cretT0ken') } });
      expect(invokeBundle(ok.zip)).toEqual({ greeting: '1.0' });
      const everything = [ok.log, JSON.stringify(ok.template.toJSON()),
        ...walk(path.dirname(ok.zip)).filter(f => !f.endsWith('.zip')).map(f => fs.readFileSync(f, 'utf8')),
        ...walk(cacheDir).filter(f => f.endsWith('.json')).map(f => fs.readFileSync(f, 'utf8'))].join('\n');
      expect(everything).not.toContain('Sup3rS3cretT0ken');
      // A rotated token is the same index: same asset.
      const rotated = synthFunction({ entry: dir, cacheDir, bundling: { indexUrl: secretIndex.url('ci:Rotated0therT0ken') } });
      expect(path.basename(rotated.zip)).toBe(path.basename(ok.zip));
      // A wrong password fails, and the error does not print it.
      const fresh = functionDir('creds-bad', { 'requirements.txt': 'greeting==2.0\n' });
      let message = '';
      try {
        synthFunction({ entry: fresh, cacheDir, bundling: { indexUrl: secretIndex.url('ci:Wr0ngPassw0rdXYZ') } });
      } catch (e: any) {
        message = e.message;
      }
      expect(message).toMatch(/S\/Fn: /);
      expect(message).not.toContain('Wr0ngPassw0rdXYZ');
    } finally {
      secretIndex.stop();
    }
  });
});

describe('what CDK asks for (aws:cdk:bundling-stacks)', () => {
  test('a stack CDK does not bundle: no installer, no index, no cache, no asset; the template still synthesizes', () => {
    const dir = functionDir('not-bundled', { 'requirements.txt': 'greeting==1.0\n' });
    const cacheDir = path.join(tempDir('not-bundled-cache'), 'c');
    const outdir = tempDir('not-bundled-out');
    const app = new cdk.App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new cdk.Stack(app, 'S');
    const before = index.requests().length;
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let fn: PythonPipfileFunction;
    let layer: PythonPipfileLayerVersion;
    try {
      // An interpreter that does not exist and an index nobody answers on: touching either fails.
      const bundling = { cacheDir, indexUrl: 'http://127.0.0.1:9/simple', pythonExecutable: '/nonexistent/python3' };
      layer = new PythonPipfileLayerVersion(stack, 'Layer', { entry: dir, bundling });
      fn = new PythonPipfileFunction(stack, 'Fn', { entry: dir, layers: [layer], bundling: { ...bundling, nestedZip: NestedZip.ALWAYS } });
      app.synth();
    } finally {
      spy.mockRestore();
    }
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'python3.13' });
    const known = [fn.sizeReport, fn.unzippedBytes, fn.nested, layer.sizeReport, layer.unzippedBytes];
    expect(known.filter(x => x !== undefined)).toEqual([]);
    expect(fs.existsSync(cacheDir)).toBe(false);
    expect(fs.readdirSync(outdir).filter(f => f.startsWith('asset.') && f.endsWith('.zip'))).toEqual([]);
    expect(index.requests().length).toBe(before);
    // Props are still checked.
    expect(() => new PythonPipfileFunction(stack, 'Bad', { entry: dir, bundling: { compressionLevel: 12 } }))
      .toThrow(/bundling.compressionLevel 12 at S\/Bad must be a whole number from 0 to 9/);
  });

  test('a function in a bundled stack counts the size of a layer in a stack that is not bundled', () => {
    const fnDir = functionDir('cross-fn', { 'requirements.txt': 'greeting==1.0\n' });
    const layerDir = path.join(tempDir('cross-layer'), 'l');
    writeTree(layerDir, { 'requirements.txt': 'withdeps==1.0\n' });
    const bundling = { indexUrl: index.url(), cacheDir: path.join(work, 'cache') };
    const limits: number[] = [];
    for (const selected of [['**'], ['Fns']]) {
      const app = new cdk.App({ outdir: tempDir('cross-out'), context: { 'aws:cdk:bundling-stacks': selected } });
      const layers = new cdk.Stack(app, 'Layers');
      const fns = new cdk.Stack(app, 'Fns');
      const layer = new PythonPipfileLayerVersion(layers, 'L', { entry: layerDir, bundling });
      const fn = new PythonPipfileFunction(fns, 'Fn', { entry: fnDir, layers: [layer], bundling: { ...bundling, sizeReportFile: true } });
      app.synth();
      expect(layer.sizeReport === undefined).toBe(selected[0] === 'Fns');
      const report = JSON.parse(fs.readFileSync(path.join(app.outdir, `possum-size-report.${fn.node.addr}.json`), 'utf8'));
      limits.push(report.layerBytes);
    }
    expect(limits[0]).toBeGreaterThan(0);
    expect(limits[1]).toBe(limits[0]);
  });
});

describe('the asset is named by the zip\'s bytes', () => {
  test('the template names an architecture only when the props do (Lambda\'s default is x86_64)', () => {
    const dir = functionDir('arch', { 'requirements.txt': 'greeting==1.0\n' });
    const plain = synthFunction({ entry: dir });
    expect((Object.values(plain.template.findResources('AWS::Lambda::Function'))[0] as any).Properties.Architectures).toBeUndefined();
    const arm = synthFunction({ entry: dir, architecture: lambda.Architecture.ARM_64 });
    arm.template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['arm64'] });
  });

  test('another pip version that builds the same bytes gives the same asset hash; the cache keys differ', () => {
    const dir = functionDir('pip-version', { 'requirements.txt': 'greeting==1.0\n' });
    // A second interpreter whose pip is this machine's pip under another version number.
    const venv = path.join(tempDir('pip-version-venv'), 'v');
    python(`import venv; venv.create(${JSON.stringify(venv)}, with_pip=False)`);
    const realPip = python('import os, pip; print(os.path.dirname(pip.__file__))').trim();
    const sitePackages = python(`import sysconfig; print(sysconfig.get_path("purelib", vars={"base": ${JSON.stringify(venv)}, "platbase": ${JSON.stringify(venv)}}))`).trim();
    fs.cpSync(realPip, path.join(sitePackages, 'pip'), { recursive: true });
    const init = path.join(sitePackages, 'pip', '__init__.py');
    fs.writeFileSync(init, fs.readFileSync(init, 'utf8').replace(/__version__ = "[^"]+"/, '__version__ = "99.1.2"'));
    const cacheA = path.join(tempDir('pip-a'), 'c');
    const cacheB = path.join(tempDir('pip-b'), 'c');
    const a = synthFunction({ entry: dir, cacheDir: cacheA, bundling: { installer: Installer.pip() } });
    const b = synthFunction({ entry: dir, cacheDir: cacheB, bundling: { installer: Installer.pip(), pythonExecutable: path.join(venv, 'bin', 'python') } });
    expect(b.log).toContain('installing');
    expect(fs.readFileSync(b.zip).equals(fs.readFileSync(a.zip))).toBe(true);
    expect(path.basename(b.zip)).toBe(path.basename(a.zip));
    const indexKeys = (cache: string) => fs.readdirSync(path.join(cache, 'v2', 'index'));
    expect(indexKeys(cacheB)).not.toEqual(indexKeys(cacheA));
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

