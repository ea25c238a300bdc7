import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Installer, PythonPipfileBundlingOptions, PythonPipfileFunction, SourceBuilds } from '../../src';
import { readDependencies } from '../../src/private/python/manifest';
import { pythonTarget } from '../../src/private/python/target';
import { tempDir, TOOLS_UV, run, writeLocalProject, writeTree } from '../helpers/run';
import { lockHashes, useLocalIndex } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

/**
 * Dependencies are decided for the function's runtime and architecture, never for the
 * machine that synthesizes (python3.11 on x86_64 here): real uv resolves unlocked
 * manifests, real pip and uv install, against an index on 127.0.0.1.
 */
const local = useLocalIndex('target-resolution');
const INSTALLERS: Array<[string, Installer]> = [['pip', Installer.pip()], ['uv', Installer.uv()]];

interface Bundle {
  /** `name==version` of every distribution in the zip. */
  readonly dists: string[];
  readonly names: string[];
  readonly log: string;
  readonly warnings: string[];
  readonly zip: string;
}

const RUNTIMES: Record<string, lambda.Runtime> = {
  '3.10': lambda.Runtime.PYTHON_3_10, '3.11': lambda.Runtime.PYTHON_3_11, '3.12': lambda.Runtime.PYTHON_3_12, '3.13': lambda.Runtime.PYTHON_3_13,
};

function bundle(entry: string, target: string, bundling: PythonPipfileBundlingOptions = {}, cacheDir?: string): Bundle {
  const [version, arch] = target.split('/');
  const app = new cdk.App({ outdir: tempDir('tr-out') });
  const stack = new cdk.Stack(app, 'S');
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((c: any) => { lines.push(String(c)); return true; });
  try {
    const func = new PythonPipfileFunction(stack, 'Fn', {
      entry,
      runtime: RUNTIMES[version],
      architecture: arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      bundling: { indexUrl: local.index.url(), cacheDir: cacheDir ?? path.join(tempDir('tr-cache'), 'c'), ...bundling },
    });
    const assembly = app.synth();
    const key = (stack.resolve((func.node.defaultChild as lambda.CfnFunction).code) as any).s3Key as string;
    const zip = path.join(assembly.directory, `asset.${key}`);
    const names = inspectZip(zip).entries.map(e => e.name);
    const dists = [...new Set(names.map(n => /^([^/]+)-([^-/]+)\.dist-info\//.exec(n)).filter((m): m is RegExpExecArray => !!m)
      .map(m => `${m[1].toLowerCase().replace(/_/g, '-')}==${m[2]}`))].sort();
    const warnings = assembly.getStackByName('S').messages.filter(m => m.level === 'warning').map(m => String(m.entry.data));
    return { dists, names, log: lines.join(''), warnings, zip };
  } finally {
    spy.mockRestore();
  }
}

function fn(files: Record<string, string>, label = 'tr-fn'): string {
  const dir = path.join(tempDir(label), 'fn');
  writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', ...files });
  return dir;
}

describe.each(INSTALLERS)('markers are decided for the target, not this machine (%s)', (_name, installer) => {
  const requirements = [
    'greeting==1.0 ; python_version < "3.11"',
    'withdeps==1.0 ; platform_machine == "aarch64"',
    'fastmath==1.0 ; platform_machine == "x86_64" and python_version >= "3.13"',
    'markerdep==1.0',
    'legacy==1.0 ; python_full_version < "3.11.0a7"',
  ].join('\n') + '\n';

  test.each([
    // The machine running this (python3.11, x86_64) would get markerdep + greeting only.
    ['3.10/arm64', ['greeting==1.0', 'legacy==1.0', 'markerdep==1.0', 'withdeps==1.0']],
    ['3.11/arm64', ['greeting==2.0', 'markerdep==1.0', 'withdeps==1.0']],
    ['3.12/x86_64', ['markerdep==1.0']],
    ['3.13/x86_64', ['fastmath==1.0', 'markerdep==1.0']],
  ])('requirements.txt for %s', (target, expected) => {
    expect(bundle(fn({ 'requirements.txt': requirements }), target, { installer }).dists).toEqual(expected);
  });

  test('a Pipfile\'s markers too', () => {
    const pipfile = '[packages]\ngreeting = {version = "==1.0", markers = "python_version < \'3.11\'"}\nmarkerdep = "*"\n' +
      'withdeps = {version = "*", platform_machine = "== \'aarch64\'"}\n';
    expect(bundle(fn({ Pipfile: pipfile }), '3.10/arm64', { installer }).dists).toEqual(['greeting==1.0', 'markerdep==1.0', 'withdeps==1.0']);
    expect(bundle(fn({ Pipfile: pipfile }), '3.12/x86_64', { installer }).dists).toEqual(['markerdep==1.0']);
  });
});

describe('Requires-Python is checked against the runtime, not this machine\'s Python', () => {
  const lock = {
    'Pipfile.lock': JSON.stringify({ _meta: { sources: [] }, default: { legacy: { version: '==1.0', hashes: [] } }, develop: {} }),
  };
  test.each(INSTALLERS)('%s: a lock pinning a package for python3.10 only installs for python3.10, and is refused for python3.11', (_n, installer) => {
    const withHashes = { 'Pipfile.lock': lock['Pipfile.lock'].replace('"hashes":[]', `"hashes":${JSON.stringify(lockHashes(local.house, 'legacy', '1.0'))}`) };
    expect(bundle(fn(withHashes), '3.10/x86_64', { installer }).dists).toEqual(['legacy==1.0']);
    expect(() => bundle(fn(withHashes), '3.11/x86_64', { installer }))
      .toThrow(/S\/Fn: legacy==1\.0 from .*Pipfile\.lock requires Python <3\.11, but the function's runtime python3\.11 is Python 3\.11/);
  });
});

describe('local path dependencies', () => {
  test('are built here (pure Python), shipped as packages, resolved against the manifest\'s folder, and part of the cache key', () => {
    const root = tempDir('local-deps');
    writeLocalProject(path.join(root, 'libs', 'common-lib'), { name: 'common', version: '1.0', files: { '__init__.py': 'VALUE = "first"\n' } });
    writeLocalProject(path.join(root, 'functions', 'api', 'vendor', 'mylib'), { name: 'mylib', version: '0.1', dependencies: ['greeting==2.0'] });
    const entry = path.join(root, 'functions', 'api');
    writeTree(entry, {
      'index.py': 'import common\n\ndef handler(e, c):\n    return common.VALUE\n',
      'requirements.txt': '-e ../../libs/common-lib\n./vendor/mylib\n',
    });
    const cache = path.join(tempDir('local-deps-cache'), 'c');
    const saved = process.cwd();
    process.chdir(tempDir('elsewhere')); // relative paths must not depend on where synth runs
    try {
      const first = bundle(entry, '3.12/x86_64', {}, cache);
      expect(first.dists).toEqual(['common==1.0', 'greeting==2.0', 'mylib==0.1']);
      expect(first.names).toContain('common/__init__.py');
      // Installed as a package, never as a link back to this machine.
      expect(first.names.filter(n => n.endsWith('.pth') || n.endsWith('direct_url.json'))).toEqual([]);
      expect(first.log).toMatch(/building .*common-lib.* from source on this machine/);
      fs.writeFileSync(path.join(root, 'libs', 'common-lib', 'common', '__init__.py'), 'VALUE = "second"\n');
      const second = bundle(entry, '3.12/x86_64', {}, cache);
      expect(second.log).toContain('installing');
      const python = run('python3', ['-c', `import zipfile; print(zipfile.ZipFile(${JSON.stringify(second.zip)}).read("common/__init__.py").decode())`]);
      expect(python.stdout).toContain('second');
      // Nothing may be built here with SourceBuilds.NONE.
      expect(() => bundle(entry, '3.12/x86_64', { sourceBuilds: SourceBuilds.NONE }))
        .toThrow(/installs from local folders .*bundling\.sourceBuilds is SourceBuilds\.NONE/);
    } finally {
      process.chdir(saved);
    }
  });
});

describe('local path dependencies are built from a copy', () => {
  test('a build backend that writes into its source tree (as setuptools does) leaves the user\'s folder untouched', () => {
    const root = tempDir('out-of-tree');
    const lib = path.join(root, 'libs', 'writer');
    writeLocalProject(lib, { name: 'writer', version: '1.0' });
    // The backend leaves a build/ folder behind in the tree it builds, like setuptools.
    fs.writeFileSync(path.join(lib, '_backend', 'inline_backend.py'), fs.readFileSync(path.join(lib, '_backend', 'inline_backend.py'), 'utf8') +
      '\n_inline_build_wheel = build_wheel\n\ndef build_wheel(*a, **k):\n    os.makedirs("build", exist_ok=True)\n' +
      '    open(os.path.join("build", "left-behind.txt"), "w").write("x")\n    return _inline_build_wheel(*a, **k)\n');
    const before = fs.readdirSync(lib).sort();
    const entry = path.join(root, 'fn');
    writeTree(entry, { 'index.py': 'import writer\n', 'requirements.txt': '../libs/writer\n' });
    const b = bundle(entry, '3.12/x86_64');
    expect(b.dists).toEqual(['writer==1.0']);
    expect(b.names).toContain('writer/__init__.py');
    expect(fs.readdirSync(lib).sort()).toEqual(before);
  });
});

describe('a uv project in src layout', () => {
  test('its own package is built and shipped beside the lock\'s pins (uv sync installs it), its handler importing it', () => {
    const entry = path.join(tempDir('src-layout'), 'fn');
    writeLocalProject(entry, { name: 'orders', version: '0.3', dependencies: ['greeting==1.0'], requiresPython: '>=3.10' });
    fs.renameSync(path.join(entry, 'orders'), path.join(entry, 'src-orders'));
    fs.mkdirSync(path.join(entry, 'src'));
    fs.renameSync(path.join(entry, 'src-orders'), path.join(entry, 'src', 'orders'));
    writeTree(entry, { 'index.py': 'import orders\n\ndef handler(e, c):\n    return orders.VERSION\n' });
    const lock = run(TOOLS_UV, ['lock', '--no-config', '--index-url', local.index.url()], { cwd: entry, env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' } });
    expect(lock.stderr).not.toMatch(/error/i);
    expect(fs.readFileSync(path.join(entry, 'uv.lock'), 'utf8')).toMatch(/name = "orders"\nversion = "0.3"\nsource = \{ editable = "." \}/);
    const b = bundle(entry, '3.12/x86_64');
    expect(b.dists).toEqual(['greeting==1.0', 'orders==0.3']);
    expect(b.names).toEqual(expect.arrayContaining(['index.py', 'orders/__init__.py']));
    expect(b.names.filter(n => n.endsWith('.pth') || n.endsWith('direct_url.json'))).toEqual([]);
  });
});

describe('uv workspaces and [tool.uv.sources]', () => {
  function workspace(): { root: string; api: string } {
    const root = tempDir('workspace');
    writeTree(root, {
      'pyproject.toml': '[project]\nname = "monorepo"\nversion = "0"\nrequires-python = ">=3.10"\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n',
    });
    writeLocalProject(path.join(root, 'packages', 'common'), { name: 'common', version: '0.1', dependencies: ['greeting==1.0'] });
    const api = path.join(root, 'packages', 'api');
    writeTree(api, {
      'pyproject.toml': '[project]\nname = "api"\nversion = "0.1"\nrequires-python = ">=3.10"\ndependencies = ["common", "withdeps==1.0"]\n\n' +
        '[tool.uv.sources]\ncommon = { workspace = true }\n',
      'index.py': 'import common\n\ndef handler(e, c):\n    return common.VERSION\n',
    });
    return { root, api };
  }

  test('a member without a lock installs its sibling from the workspace, never the public package of that name', () => {
    const { api } = workspace();
    const b = bundle(api, '3.12/x86_64');
    expect(b.dists).toEqual(['common==0.1', 'greeting==1.0', 'withdeps==1.0']);
  });

  test('a member uses the workspace\'s uv.lock (made by the real uv)', () => {
    const { root, api } = workspace();
    const lock = run(TOOLS_UV, ['lock', '--no-config', '--index-url', local.index.url()], { cwd: root });
    expect(lock.stderr).not.toMatch(/error/i);
    expect(fs.existsSync(path.join(root, 'uv.lock'))).toBe(true);
    expect(readDependencies(api, undefined, pythonTarget('python3.12', 'x86_64')).kind).toBe('uv.lock');
    expect(bundle(api, '3.12/x86_64').dists).toEqual(['common==0.1', 'greeting==1.0', 'withdeps==1.0']);
    // A lock that no longer matches the member's pyproject warns, or fails with strictLock.
    fs.writeFileSync(path.join(api, 'pyproject.toml'), fs.readFileSync(path.join(api, 'pyproject.toml'), 'utf8').replace('"withdeps==1.0"', '"withdeps==1.0", "markerdep"'));
    expect(bundle(api, '3.12/x86_64').warnings.join('\n')).toMatch(/uv\.lock is out of date with .*pyproject\.toml: the project asks for markerdep/);
    expect(() => bundle(api, '3.12/x86_64', { strictLock: true })).toThrow(/uv\.lock is out of date .*Run "uv lock" to update it/);
  });

  test('a workspace source that names no member is an error, not a lookup on the index', () => {
    const dir = fn({ 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\ndependencies = ["common"]\n[tool.uv.sources]\ncommon = { workspace = true }\n' });
    expect(() => bundle(dir, '3.12/x86_64')).toThrow(/\[tool\.uv\.sources\] common = \{ workspace = true \}, but no member .*will not look for it on a package index/);
  });
});

describe('sdists (old pins often have nothing else)', () => {
  const lockOf = (name: string) => ({
    'Pipfile.lock': JSON.stringify({ _meta: { sources: [] }, default: { [name]: { version: '==1.0', hashes: lockHashes(local.house, name, '1.0') } }, develop: {} }),
  });

  test.each(INSTALLERS)('%s: a pure-Python sdist is built here by default, hash-checked, and shipped', (_n, installer) => {
    const b = bundle(fn(lockOf('puresdist')), '3.12/arm64', { installer });
    expect(b.dists).toEqual(['puresdist==1.0']);
    expect(b.log).toMatch(/building puresdist==1\.0 from source on this machine \(it has no wheel for the target\)/);
    // From requirements.txt too (uv resolves it, then it is built).
    expect(bundle(fn({ 'requirements.txt': 'puresdist==1.0\n' }), '3.12/arm64', { installer }).dists).toEqual(['puresdist==1.0']);
  });

  test.each(INSTALLERS)('%s: when the newest version is a native sdist, the newest with a wheel is installed, with a warning; sdist-only pins still build', (_n, installer) => {
    const b = bundle(fn({ 'requirements.txt': 'gluelib\npuresdist\n' }), '3.12/arm64', { installer });
    expect(b.dists).toEqual(['gluelib==1.0', 'puresdist==1.0']);
    expect(b.log).toMatch(/possum-cdk: S\/Fn: warning: gluelib 2\.0 -> 1\.0: the newest version has no wheel for python3\.12 on arm64 and its source cannot be built here/);
    // A set the reference resolution can install is installed as it is, without the warning.
    expect(bundle(fn({ 'requirements.txt': 'greeting\npuresdist\n' }), '3.12/arm64', { installer }).log).not.toContain('warning');
    // Left to choose freely, uv takes gluelib 2.0, whose native sdist would then be refused.
    const plain = run(TOOLS_UV, ['pip', 'compile', '-', '--no-config', '--python', 'python3', '--python-version', '3.12', '--python-platform',
      'aarch64-manylinux_2_17', '--index-url', local.index.url(), '--quiet', '--no-header', '--no-annotate'], { input: 'gluelib\n', env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' } });
    expect(plain.stdout).toContain('gluelib==2.0');
  });

  test.each(INSTALLERS)('%s: a requirements file\'s own --hash values are enforced, not replaced by the index\'s', (_n, installer) => {
    const good = lockHashes(local.house, 'greeting', '1.0').map(h => ` --hash=${h}`).join('');
    expect(bundle(fn({ 'requirements.txt': `greeting==1.0${good}\n` }), '3.12/x86_64', { installer }).dists).toEqual(['greeting==1.0']);
    // A hash the user vouched for that no file of greeting 1.0 has: the install stops, naming the package.
    const wrong = ` --hash=sha256:${'0'.repeat(64)}`;
    expect(() => bundle(fn({ 'requirements.txt': `greeting==1.0${wrong}\n` }), '3.12/x86_64', { installer }))
      .toThrow(/greeting==1\.0.*hash|hash.*greeting==1\.0/is);
  });

  test('an sdist that builds a platform-specific wheel is refused, naming it; SourceBuilds.NONE builds nothing', () => {
    expect(() => bundle(fn(lockOf('nativesdist')), '3.12/arm64'))
      .toThrow(/nativesdist==1\.0 from .*Pipfile\.lock has no wheel for the target for python3\.12 on arm64, and its source builds a platform-specific wheel here \(nativesdist-1\.0-cp311-cp311-linux_x86_64\.whl\)/);
    expect(() => bundle(fn(lockOf('puresdist')), '3.12/arm64', { sourceBuilds: SourceBuilds.NONE }))
      .toThrow(/no wheel of puresdist.*bundling\.sourceBuilds is SourceBuilds\.NONE/s);
  });
});

describe('pyproject.toml', () => {
  test('with only [tool.poetry.dependencies] (no lock): Poetry constraints are honoured', () => {
    const dir = fn({
      'pyproject.toml': '[tool.poetry]\nname = "f"\nversion = "1"\n\n[tool.poetry.dependencies]\npython = "^3.10"\ngreeting = "^1.0"\n' +
      'withdeps = {version = "*", python = "<3.12"}\n',
    });
    expect(bundle(dir, '3.11/x86_64').dists).toEqual(['greeting==1.0', 'withdeps==1.0']);
    expect(bundle(dir, '3.12/x86_64').dists).toEqual(['greeting==1.0']);
  });

  test('a TOML error in the only manifest is an error naming the file, not an empty bundle', () => {
    const dir = fn({ 'pyproject.toml': '[project\nname = "x"\n' });
    expect(() => bundle(dir, '3.12/x86_64')).toThrow(/pyproject\.toml is not valid TOML/);
  });

  test('a project\'s own Python requirement that excludes the runtime is an error naming file, constraint and runtime', () => {
    const dir = fn({ 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.13"\ndependencies = ["greeting"]\n' });
    expect(() => bundle(dir, '3.12/x86_64'))
      .toThrow(/pyproject\.toml \[project\]\.requires-python = ">=3\.13" excludes the function's runtime python3\.12 \(Python 3\.12\)/);
    const poetry = fn({ 'pyproject.toml': '[tool.poetry]\nname = "f"\nversion = "1"\n[tool.poetry.dependencies]\npython = "^3.13"\ngreeting = "*"\n' });
    expect(() => bundle(poetry, '3.12/x86_64')).toThrow(/\[tool\.poetry\.dependencies\]\.python = "\^3\.13" excludes the function's runtime python3\.12/);
  });
});

test('a function folder whose path has spaces', () => {
  const dir = path.join(tempDir('spaces'), 'my functions', 'api v2');
  writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', 'requirements.txt': 'withdeps==1.0\n' });
  expect(bundle(dir, '3.12/x86_64').dists).toEqual(['greeting==2.0', 'withdeps==1.0']);
});
