import * as path from 'path';
import { readDependencies } from '../../src/private/python/manifest';
import { pythonTarget } from '../../src/private/python/target';
import { tempDir, writeTree } from '../helpers/run';

/**
 * Lock files in the shapes their tools write (poetry.lock 1.1 and 2.1, uv.lock), read
 * natively and filtered for each Lambda target. test/integration/reference-sets.test.ts
 * checks the same against locks made by the real tools.
 */
const H = (c: string) => `sha256:${c.repeat(64)}`;
const py = (v: string, arch = 'x86_64') => pythonTarget(`python${v}`, arch);
const pins = (dir: string, v: string, arch = 'x86_64') =>
  readDependencies(dir, undefined, py(v, arch)).steps.flatMap(s => s.requirements.trim().split('\n')).map(l => l.split(' ')[0]).sort();

describe('poetry.lock', () => {
  const pyproject = '[tool.poetry]\nname = "fn"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.10"\nboto3 = "^1.35"\n';

  test('lock format 1.1 keeps hashes under [metadata.files]', () => {
    const dir = tempDir('poetry11');
    writeTree(dir, {
      'pyproject.toml': '[tool.poetry]\nname = "fn"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.10"\nsix = "^1.16"\n\n[tool.poetry.dev-dependencies]\npytest = "^8"\n',
      'poetry.lock': [
        '[[package]]', 'name = "six"', 'version = "1.16.0"', 'description = ""', 'category = "main"', 'optional = false', 'python-versions = ">=2.7"', '',
        '[[package]]', 'name = "pytest"', 'version = "8.0.0"', 'description = ""', 'category = "dev"', 'optional = false', 'python-versions = ">=3.8"', '',
        '[metadata]', 'lock-version = "1.1"', 'python-versions = "^3.10"', 'content-hash = "x"', '',
        '[metadata.files]',
        `six = [\n    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "${H('a')}"},\n    {file = "six-1.16.0.tar.gz", hash = "${H('b')}"},\n]`,
        `pytest = [\n    {file = "pytest-8.0.0-py3-none-any.whl", hash = "${H('c')}"},\n]`, '',
      ].join('\n'),
    });
    const spec = readDependencies(dir, undefined, py('3.12'));
    expect(spec.steps.map(s => s.requirements.trim())).toEqual([`six==1.16.0 --hash=${H('a')} --hash=${H('b')}`]);
  });

  test('two locked versions of one package: the constraint and python markers on each edge choose, as poetry export does', () => {
    const dir = tempDir('poetry-split');
    const pkg = (name: string, version: string, deps = '', markers = '') => [
      '[[package]]', `name = "${name}"`, `version = "${version}"`, 'description = ""', 'optional = false', 'python-versions = ">=3.8"', 'groups = ["main"]',
      ...(markers ? [`markers = "${markers}"`] : []),
      `files = [{file = "${name}-${version}.tar.gz", hash = "${H(version.replace(/\D/g, '').slice(-1) || 'e')}"}]`, deps, '',
    ].join('\n');
    writeTree(dir, {
      'pyproject.toml': pyproject,
      'poetry.lock': [
        pkg('boto3', '1.35.0', '\n[package.dependencies]\nbotocore = ">=1.35.0,<1.36.0"\n'),
        pkg('botocore', '1.35.0', '\n[package.dependencies]\nurllib3 = [\n    {version = ">=1.25.4,<1.27", markers = "python_version < \\"3.10\\""},\n' +
          '    {version = ">=1.25.4,!=2.2.0,<3", markers = "python_version >= \\"3.10\\""},\n]\n'),
        // Poetry 2.1 writes where each of the two applies.
        pkg('urllib3', '1.26.20', '', 'python_version < \\"3.10\\"'),
        pkg('urllib3', '2.2.3', '', 'python_version >= \\"3.10\\"'),
        '[metadata]\nlock-version = "2.1"\npython-versions = "^3.10"\ncontent-hash = "x"\n',
      ].join('\n'),
    });
    expect(pins(dir, '3.12')).toEqual(['boto3==1.35.0', 'botocore==1.35.0', 'urllib3==2.2.3']);
    // A dependency table that restricts by Python version (python = "<3.11") is an edge marker too.
    writeTree(dir, {
      'pyproject.toml': pyproject.replace('boto3 = "^1.35"', 'urllib3 = [{version = "<2", python = "<3.11"}, {version = ">=2", python = ">=3.11"}]'),
    });
    expect(pins(dir, '3.10')).toEqual(['urllib3==1.26.20']);
    expect(pins(dir, '3.13')).toEqual(['urllib3==2.2.3']);
  });

  test('the project\'s python constraint (and the lock\'s python-versions) must admit the runtime', () => {
    const dir = tempDir('poetry-python');
    writeTree(dir, {
      'pyproject.toml': pyproject.replace('python = "^3.10"', 'python = "^3.13"').replace('boto3 = "^1.35"', ''),
      'poetry.lock': '[metadata]\nlock-version = "2.1"\npython-versions = "^3.13"\ncontent-hash = "x"\n',
    });
    expect(() => readDependencies(dir, undefined, py('3.12')))
      .toThrow(`${path.join(dir, 'pyproject.toml')} [tool.poetry.dependencies].python = "^3.13" excludes the function's runtime python3.12 (Python 3.12)`);
    expect(readDependencies(dir, undefined, py('3.13')).steps).toEqual([]);
  });

  test('a local path dependency is a local source of the bundle', () => {
    const dir = tempDir('poetry-path');
    writeTree(dir, {
      'pyproject.toml': '[tool.poetry]\nname = "fn"\nversion = "0.1"\n[tool.poetry.dependencies]\npython = "^3.10"\ncommon = {path = "../common", develop = true}\n',
      'poetry.lock': '[[package]]\nname = "common"\nversion = "0.1"\ndescription = ""\noptional = false\npython-versions = "*"\nfiles = []\ndevelop = true\n\n' +
        '[package.source]\ntype = "directory"\nurl = "../common"\n\n[metadata]\nlock-version = "2.1"\npython-versions = "^3.10"\ncontent-hash = "x"\n',
    });
    const spec = readDependencies(dir, undefined, py('3.12'));
    expect(spec.localSources).toEqual([path.resolve(dir, '../common')]);
    expect(spec.steps[0]).toEqual({ hashed: false, requirements: `common @ file://${path.resolve(dir, '../common')}\n` });
  });
});

describe('uv.lock', () => {
  const project = '[project]\nname = "fn"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["client", "numpy"]\n';
  const lock = (requiresPython = '>=3.10') => [
    'version = 1', 'revision = 3', `requires-python = "${requiresPython}"`,
    'resolution-markers = [', '    "python_full_version >= \'3.12\'",', '    "python_full_version < \'3.12\'",', ']', '',
    '[[package]]', 'name = "fn"', 'version = "0.1.0"', 'source = { virtual = "." }',
    'dependencies = [', '    { name = "client" },',
    '    { name = "numpy", version = "1.26.4", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version < \'3.12\'" },',
    '    { name = "numpy", version = "2.1.3", source = { registry = "https://pypi.org/simple" }, marker = "python_full_version >= \'3.12\'" },', ']', '',
    '[package.metadata]', 'requires-dist = [', '    { name = "client", git = "https://github.com/example/mono?subdirectory=client&rev=main" },',
    '    { name = "numpy" },', ']', '',
    '[[package]]', 'name = "client"', 'version = "0.3.0"',
    'source = { git = "https://github.com/example/mono?subdirectory=client&rev=main#0123456789abcdef0123456789abcdef01234567" }', '',
    '[[package]]', 'name = "numpy"', 'version = "1.26.4"', 'source = { registry = "https://pypi.org/simple" }',
    'resolution-markers = ["python_full_version < \'3.12\'"]',
    `sdist = { url = "https://x/numpy-1.26.4.tar.gz", hash = "${H('1')}", size = 1 }`, '',
    '[[package]]', 'name = "numpy"', 'version = "2.1.3"', 'source = { registry = "https://pypi.org/simple" }',
    'resolution-markers = ["python_full_version >= \'3.12\'"]',
    `sdist = { url = "https://x/numpy-2.1.3.tar.gz", hash = "${H('2')}", size = 1 }`, '',
  ].join('\n');

  test('git sources keep their subdirectory; forked versions are chosen by the edge\'s version for the target', () => {
    const dir = tempDir('uvlock');
    writeTree(dir, { 'pyproject.toml': project, 'uv.lock': lock() });
    const spec = readDependencies(dir, undefined, py('3.11'));
    expect(spec.steps.map(s => s.requirements.trim())).toEqual([
      `numpy==1.26.4 --hash=${H('1')}`,
      'client @ git+https://github.com/example/mono@0123456789abcdef0123456789abcdef01234567#subdirectory=client',
    ]);
    expect(pins(dir, '3.13')).toContain('numpy==2.1.3');
    expect(spec.warnings).toEqual([]);
  });

  test('requires-python that excludes the runtime is an error naming the lock, the constraint and the runtime', () => {
    const dir = tempDir('uvlock-python');
    writeTree(dir, { 'pyproject.toml': project.replace('>=3.10', '>=3.14'), 'uv.lock': lock('>=3.14') });
    expect(() => readDependencies(dir, undefined, py('3.12')))
      .toThrow(/requires-python = ">=3\.14" excludes the function's runtime python3\.12 \(Python 3\.12\)/);
  });
});
