import * as fs from 'fs';
import * as path from 'path';
import { redactUrl, scrub, expandUrl } from '../../src/private/python/credentials';
import { detectManifest, pipfileHash, readDependencies } from '../../src/private/python/manifest';
import { evaluateMarker } from '../../src/private/python/markers';
import { manylinuxTags, markerEnvironment, pythonTarget } from '../../src/private/python/target';
import { tempDir, writeTree } from '../helpers/run';

const LOCKS = path.join(__dirname, '..', 'fixtures', 'locks');
const PY311_X86 = pythonTarget('python3.11', 'x86_64');

/** Names (lowercase) of the pinned requirements of a spec's steps. */
function pinnedNames(requirements: string): string[] {
  return requirements.trim().split('\n').map(l => /^([A-Za-z0-9._-]+)/.exec(l)![1].toLowerCase());
}

describe('Lambda target', () => {
  test('python3.11 (Amazon Linux 2, glibc 2.26) accepts manylinux up to 2_26, never 2_28', () => {
    const t = pythonTarget('python3.11', 'x86_64');
    expect(t).toMatchObject({ pythonVersion: '3.11', abi: 'cp311', machine: 'x86_64', glibc: '2.26' });
    expect(t.platformTags[0]).toBe('manylinux_2_26_x86_64');
    expect(t.platformTags).toEqual(expect.arrayContaining(['manylinux2014_x86_64', 'manylinux_2_17_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64']));
    expect(t.platformTags).not.toContain('manylinux_2_28_x86_64');
  });

  test('python3.12+ (Amazon Linux 2023, glibc 2.34) accepts manylinux_2_28..2_34; arm64 uses aarch64 wheels', () => {
    const t = pythonTarget('python3.13', 'arm64');
    expect(t).toMatchObject({ abi: 'cp313', machine: 'aarch64', architecture: 'arm64', glibc: '2.34' });
    expect(t.platformTags.slice(0, 7)).toEqual([34, 33, 32, 31, 30, 29, 28].map(n => `manylinux_2_${n}_aarch64`));
    expect(t.platformTags).toContain('manylinux2014_aarch64');
    expect(t.platformTags.some(x => x.startsWith('manylinux1') || x.includes('2010'))).toBe(false); // no aarch64 wheels before 2014
    expect(manylinuxTags(17, 'aarch64')).toEqual(['manylinux_2_17_aarch64', 'manylinux2014_aarch64']);
  });

  test('a non-Python runtime is an error naming it', () => {
    expect(() => pythonTarget('nodejs20.x', 'x86_64')).toThrow('Runtime nodejs20.x, which is not a Python runtime');
  });
});

describe('environment markers, evaluated for Lambda', () => {
  const env = markerEnvironment(PY311_X86);
  test.each([
    ["sys_platform == 'win32'", false],
    ["sys_platform == 'linux'", true],
    ['platform_machine == "aarch64"', false],
    ["python_version >= '3.8'", true],
    ["python_version < '3.10'", false],
    ['python_version >= "3.9" and (sys_platform == "darwin" or os_name == "posix")', true],
    ["python_full_version >= '3.11.0' and python_full_version < '3.12'", true],
    ["python_version == '3.*'", true],
    ["python_version ~= '3.10'", true],
    ["'linux' in sys_platform", true],
    ["platform_python_implementation != 'PyPy'", true],
    ["python_version > '3.9'", true], // as versions: 3.11 > 3.9, though "3.11" < "3.9" as strings
  ])('%s -> %p', (marker, expected) => {
    expect(evaluateMarker(marker, env)).toBe(expected);
  });

  test('extra markers follow the active extras', () => {
    expect(evaluateMarker('extra == "socks"', env, ['socks'])).toBe(true);
    expect(evaluateMarker('extra == "socks"', env, [])).toBe(false);
  });

  test('an unreadable marker is an error naming it', () => {
    expect(() => evaluateMarker('python_version >>> "3"', env)).toThrow(/Cannot read the environment marker "python_version >>> \\"3\\""/);
  });

  test('hostile markers: long chains cost no stack, nesting and length are bounded, messages stay short', () => {
    const clause = 'python_version >= "3"';
    expect(evaluateMarker(Array(3_000).fill(clause).join(' and '), env)).toBe(true);
    expect(evaluateMarker(Array(3_000).fill('python_version < "3"').join(' or '), env)).toBe(false);
    expect(evaluateMarker(`${'('.repeat(100)}${clause}${')'.repeat(100)}`, env)).toBe(true);
    expect(() => evaluateMarker(`${'('.repeat(101)}${clause}${')'.repeat(101)}`, env)).toThrow(/parentheses nest deeper than 100 levels/);
    const huge = Array(50_000).fill(clause).join(' and ');
    let message = '';
    try {
      evaluateMarker(huge, env);
    } catch (e: any) {
      message = e.message;
    }
    expect(message).toMatch(/^Cannot read the environment marker "python_version >= \\"3\\" and .*"\.\.\. \(([0-9,]+) characters\): it is longer than 100,000 characters/);
    expect(message).toContain(`(${huge.length.toLocaleString('en-US')} characters)`);
    expect(message.length).toBeLessThan(500);
    const unterminated = `python_version == "${'a'.repeat(90_000)}`;
    expect(() => evaluateMarker(unterminated, env)).toThrow(/: unexpected text at " \\"a{58}"\.\.\. \(80 characters\)\.$/);
  });
});

describe('Pipfile hash (pipenv-compatible)', () => {
  // Expected values computed by pipenv's own code (plette Pipfile.get_hash) on the same text.
  test.each([
    ['[packages]\nrequests = "*"\n"caf\u00e9" = {version = "==1.0", extras = ["a"]}\n\n[dev-packages]\npytest = ">=7"\n\n[custom]\nfoo = "==1"\n\n[scripts]\nx = "y"\n',
      '50b7a246884fbef1a3fa394861cc3d4ef7bc2b3b4e81a99b6825a04f52a72923'],
    ['[[source]]\nurl = "https://u:${TOKEN}@example.com/simple"\nverify_ssl = false\nname = "private"\n\n[packages]\nx = {git = "https://github.com/a/b.git", ref = "v1"}\n\n[requires]\npython_version = "3.12"\n',
      'aed1950f9a9a1a4b437f850b0d6bb158b526209c2fbf9c073b824819907dcb9c'],
    [fs.readFileSync(path.join(LOCKS, 'pipenv', 'Pipfile'), 'utf8'), 'a9a54b60484be96fbbdf7ae86d3b6690db5a47092af377365d553d4f08dc7083'],
  ])('matches pipenv for Pipfile #%#', (text, expected) => {
    expect(pipfileHash(text, 'Pipfile')).toBe(expected);
  });
});

describe('manifest detection', () => {
  test('Pipfile.lock > Pipfile > uv.lock (with pyproject) > poetry.lock > requirements.txt > pyproject deps > none', () => {
    const dir = tempDir('detect');
    const order: Array<[string, string]> = [];
    const kind = () => detectManifest(dir)?.kind ?? 'none';
    expect(kind()).toBe('none');
    writeTree(dir, { 'pyproject.toml': '[project]\nname = "x"\n' });
    expect(kind()).toBe('none'); // no [project].dependencies
    writeTree(dir, { 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["a"]\n' });
    order.push(['pyproject.toml', 'pyproject.toml']);
    expect(kind()).toBe('pyproject.toml');
    for (const f of ['requirements.txt', 'poetry.lock', 'uv.lock', 'Pipfile', 'Pipfile.lock']) {
      writeTree(dir, { [f]: '' });
      expect(kind()).toBe(f);
    }
  });

  test('uv.lock without pyproject.toml is not a manifest', () => {
    const dir = tempDir('detect-uv');
    writeTree(dir, { 'uv.lock': '', 'requirements.txt': 'a\n' });
    expect(detectManifest(dir)?.kind).toBe('requirements.txt');
  });
});

describe('Pipfile.lock', () => {
  test('installs "default" pinned with hashes, markers decided for Lambda; never "develop"', () => {
    const spec = readDependencies(path.join(LOCKS, 'pipenv'), undefined, PY311_X86);
    expect(spec.kind).toBe('Pipfile.lock');
    expect(spec.warnings).toEqual([]);
    expect(spec.steps).toHaveLength(1);
    expect(spec.steps[0].hashed).toBe(true);
    const lines = spec.steps[0].requirements.trim().split('\n');
    // colorama is Windows-only (pipenv leaves it unpinned); pytest is a dev package.
    expect(pinnedNames(spec.steps[0].requirements)).toEqual(['attrs', 'certifi', 'charset-normalizer', 'idna', 'pysocks', 'requests', 'urllib3']);
    expect(lines.every(l => / --hash=sha256:[0-9a-f]{64}/.test(l))).toBe(true);
    expect(lines.find(l => l.startsWith('requests'))).toMatch(/^requests\[socks\]==2\.32\.3 --hash=sha256:/);
    expect(spec.manifestIndexUrls).toEqual(['https://pypi.org/simple']);
    expect(spec.inputFiles.map(f => path.basename(f))).toEqual(['Pipfile.lock', 'Pipfile']);
  });

  test('a lock out of date with its Pipfile warns, or fails when strict', () => {
    const dir = tempDir('stale-lock');
    fs.copyFileSync(path.join(LOCKS, 'pipenv', 'Pipfile.lock'), path.join(dir, 'Pipfile.lock'));
    fs.writeFileSync(path.join(dir, 'Pipfile'), fs.readFileSync(path.join(LOCKS, 'pipenv', 'Pipfile'), 'utf8') + 'boto3 = "*"\n');
    const spec = readDependencies(dir, undefined, PY311_X86);
    expect(spec.warnings).toEqual([{ id: 'possum-cdk:pipfileLockOutOfDate', message: expect.stringContaining(`${path.join(dir, 'Pipfile.lock')} is out of date with ${path.join(dir, 'Pipfile')}`) }]);
    expect(() => readDependencies(dir, undefined, PY311_X86, { strictLock: true })).toThrow(/is out of date with .*Run "pipenv lock" to update it/);
  });

  test('git and path entries are installed in a second, unhashed step', () => {
    const dir = tempDir('vcs-lock');
    writeTree(dir, {
      'Pipfile.lock': JSON.stringify({
        _meta: { sources: [] },
        default: {
          six: { version: '==1.16.0', hashes: ['sha256:' + 'a'.repeat(64)] },
          pywin32: { version: '==306', hashes: ['sha256:' + 'b'.repeat(64)], markers: "sys_platform == 'win32'" },
          mylib: { git: 'https://example.com/mylib.git', ref: 'abc123' },
          local: { path: './vendor/local', editable: true },
        },
        develop: {},
      }),
    });
    const spec = readDependencies(dir, undefined, PY311_X86);
    expect(spec.steps.map(s => s.requirements.trim())).toEqual([
      `six==1.16.0 --hash=sha256:${'a'.repeat(64)}`,
      `local @ file://${path.join(dir, 'vendor/local')}\nmylib @ git+https://example.com/mylib.git@abc123`,
    ]);
  });

  test('a package the lock left unpinned (locked where its markers did not hold) is resolved beside the pins, with a warning', () => {
    const dir = tempDir('unpinned-lock');
    writeTree(dir, {
      'Pipfile.lock': JSON.stringify({
        _meta: {},
        default: {
          colorama: { version: '*', markers: "sys_platform == 'linux'" },
          six: { version: '==1.16.0', hashes: ['sha256:' + 'a'.repeat(64)] },
        },
      }),
    });
    const spec = readDependencies(dir, undefined, PY311_X86);
    expect(spec.steps.map(s => s.requirements.trim())).toEqual([`six==1.16.0 --hash=sha256:${'a'.repeat(64)}`]);
    expect(spec.resolve).toEqual({ text: 'colorama\n', cwd: dir, constraints: 'six==1.16.0\n' });
    expect(spec.warnings.map(w => w.id)).toEqual(['possum-cdk:pipfileLockUnpinned']);
  });

  test('bad JSON is an error naming the file', () => {
    const dir = tempDir('bad-lock');
    writeTree(dir, { 'Pipfile.lock': '{ nope' });
    expect(() => readDependencies(dir, undefined, PY311_X86)).toThrow(`${path.join(dir, 'Pipfile.lock')} is not valid JSON`);
  });
});

describe('hostile manifests', () => {
  const longName = 'a'.repeat(5_000_000);
  test.each([
    ['requirements.txt', { 'requirements.txt': `six==1.16.0\n${longName}==1.0\n` }],
    ['Pipfile', { Pipfile: `[packages]\n${longName} = "==1.0"\n` }],
    ['Pipfile.lock', { 'Pipfile.lock': JSON.stringify({ _meta: { sources: [] }, default: { [longName]: { version: '==1.0' } } }) }],
  ])('a package name millions of characters long in %s: a short error naming the file, before any index is asked', (name, files) => {
    const dir = tempDir('long-name');
    writeTree(dir, files);
    let message = '';
    try {
      readDependencies(dir, undefined, PY311_X86);
    } catch (e: any) {
      message = e.message;
    }
    expect(message).toMatch(new RegExp(`^${path.join(dir, name)} requires a package named "a{60}"\\.\\.\\. \\(5,000,000 characters\\), 5,000,000 characters long; ` +
      'no package name is longer than 200\\. Fix the requirement\\.$'));
  });

  test('a requirements.txt that is not UTF-8: an error naming the file, not a pip traceback', () => {
    const dir = tempDir('latin1-req');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'requirements.txt'), Buffer.from('caf\xe9==1.0\n', 'latin1'));
    expect(() => readDependencies(dir, undefined, PY311_X86)).toThrow(`${path.join(dir, 'requirements.txt')} is not UTF-8 text; save it as UTF-8`);
  });
});

describe('Pipfile', () => {
  test('[packages] entries become requirement lines uv resolves for the target; [dev-packages] are ignored', () => {
    const dir = tempDir('pipfile');
    writeTree(dir, {
      Pipfile: [
        '[packages]',
        'requests = "*"',
        'attrs = "==24.2.0"',
        'six = "1.16.0"',
        'urllib3 = {version = ">=2", extras = ["socks"], markers = "python_version >= \'3.8\'"}',
        'winonly = {version = "*", sys_platform = "== \'win32\'"}',
        'mylib = {git = "https://example.com/mylib.git", ref = "v2"}',
        'local = {path = "./libs/local", editable = true}',
        '', '[dev-packages]', 'pytest = "*"', '',
      ].join('\n'),
    });
    const spec = readDependencies(dir, undefined, PY311_X86);
    expect(spec.steps).toEqual([]);
    expect(spec.resolve).toEqual({
      cwd: dir,
      text: [
        'attrs==24.2.0',
        `local @ file://${path.join(dir, 'libs/local')}`,
        'mylib @ git+https://example.com/mylib.git@v2',
        'requests',
        'six==1.16.0',
        "urllib3[socks]>=2 ; python_version >= '3.8'",
        "winonly ; sys_platform == 'win32'",
      ].join('\n') + '\n',
    });
    expect(spec.localSources).toEqual([path.join(dir, 'libs/local')]);
  });
});

describe('requirements.txt', () => {
  test('uv reads the file itself; -r and -c includes are inputs of the cache key', () => {
    const dir = tempDir('reqs');
    writeTree(dir, {
      'requirements.txt': '# top\n-r common.txt\n--constraint=constraints/c.txt\nrequests==2.32.3 \\\n  --hash=sha256:abc\n',
      'common.txt': 'attrs\n-r ./common.txt\n',
      'constraints/c.txt': 'urllib3<3\n',
    });
    const spec = readDependencies(dir, undefined, PY311_X86);
    expect(spec.resolve).toEqual({ file: path.join(dir, 'requirements.txt'), cwd: dir, hashes: { requests: ['sha256:abc'] } });
    expect(spec.inputFiles).toEqual([path.join(dir, 'requirements.txt'), path.join(dir, 'common.txt'), path.join(dir, 'constraints/c.txt')]);
  });

  test('a missing include is an error naming it and where it came from', () => {
    const dir = tempDir('reqs-missing');
    writeTree(dir, { 'requirements.txt': '-r gone.txt\n' });
    expect(() => readDependencies(dir, undefined, PY311_X86))
      .toThrow(`Requirements file ${path.join(dir, 'gone.txt')} (included from ${path.join(dir, 'requirements.txt')}) does not exist`);
  });

  test('an explicit manifest with another name is read as a requirements file', () => {
    const dir = tempDir('reqs-explicit');
    writeTree(dir, { 'requirements-prod.txt': 'attrs\n', 'Pipfile': '[packages]\n' });
    expect(readDependencies(dir, path.join(dir, 'requirements-prod.txt'), PY311_X86).kind).toBe('requirements.txt');
    expect(() => readDependencies(dir, path.join(dir, 'nope.txt'), PY311_X86)).toThrow(`Dependency manifest ${path.join(dir, 'nope.txt')} does not exist`);
  });
});

describe('uv.lock and poetry.lock (read natively, filtered for Lambda)', () => {
  test.each(['uv', 'poetry'])('%s: main dependencies with extras, pinned with hashes; no dev group, no Windows-only package', tool => {
    const spec = readDependencies(path.join(LOCKS, tool), undefined, PY311_X86);
    expect(spec.kind).toBe(`${tool}.lock`);
    expect(spec.steps).toHaveLength(1);
    expect(spec.steps[0].hashed).toBe(true);
    expect(pinnedNames(spec.steps[0].requirements)).toEqual(['attrs', 'certifi', 'charset-normalizer', 'idna', 'pysocks', 'requests', 'urllib3']);
    expect(spec.steps[0].requirements).toMatch(/^requests==2\.32\.3 --hash=sha256:[0-9a-f]{64}/m);
    expect(spec.inputFiles.map(f => path.basename(f))).toEqual([`${tool}.lock`, 'pyproject.toml']);
  });
});

describe('pyproject.toml', () => {
  test('[project].dependencies: uv reads the file itself (with its [tool.uv.sources]) and resolves it for the target', () => {
    const dir = tempDir('pyproject');
    writeTree(dir, { 'pyproject.toml': '[project]\nname = "fn"\ndependencies = ["attrs>=24", "requests[socks]; python_version >= \'3.8\'"]\n' });
    expect(readDependencies(dir, undefined, PY311_X86).resolve).toEqual({ file: path.join(dir, 'pyproject.toml'), cwd: dir });
  });
});

describe('credentials', () => {
  test('are removed from URLs and scrubbed from text', () => {
    expect(redactUrl('https://alice:t0ps3cret@pypi.example.com/simple')).toBe('https://pypi.example.com/simple');
    expect(redactUrl('https://__token__@host/simple')).toBe('https://host/simple');
    expect(redactUrl('https://host/simple')).toBe('https://host/simple');
    expect(scrub('GET https://alice:t0ps3cret@host failed: t0ps3cret', ['t0ps3cret'])).toBe('GET https://alice:****@host failed: ****');
    expect(expandUrl('https://u:${TOKEN}@h/simple', { TOKEN: 'abc' })).toBe('https://u:abc@h/simple');
  });
});
