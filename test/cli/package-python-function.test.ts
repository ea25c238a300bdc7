import * as fs from 'fs';
import * as path from 'path';
import { makeWheel, PACKAGE_PYTHON_FUNCTION_JS, PYTHON, python, run, sha256, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { inspectZip } from '../helpers/zip-inspect';

/** Wheels for a project (`my-service`) and its dependency (`greeting`), built by the test itself. */
function writeWheels(root: string): string {
  writeTree(path.join(root, 'greeting-src'), {
    'greeting/__init__.py': 'def greet(name):\n    return "hello " + name\n',
  });
  writeTree(path.join(root, 'service-src'), {
    'my_service/__init__.py': '',
    'my_service/handler.py': 'import greeting\n\ndef handler(event, context):\n    return {"message": greeting.greet(event["name"])}\n',
  });
  writeTree(path.join(root, 'service'), {
    'pyproject.toml': '[project]\nname = "my-service"\nversion = "0.1.0"\ndependencies = ["greeting"]\n',
  });
  const wheels = path.join(root, 'wheels');
  makeWheel({ name: 'greeting', version: '1.2.3', source: path.join(root, 'greeting-src'), out: wheels });
  makeWheel({ name: 'my-service', version: '0.1.0', source: path.join(root, 'service-src'), out: wheels, requires: ['greeting'] });
  return wheels;
}

/** A real virtual environment with the project installed by real pip, offline, from the test's wheels. */
function makeVenv(venv: string, wheels: string) {
  const mk = run(PYTHON, ['-m', 'venv', venv]);
  if (mk.status !== 0) throw new Error(mk.stderr);
  const pip = run(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--find-links', wheels, '--quiet', 'my-service'],
    { env: { ...process.env, PIP_FIND_LINKS: '' }, timeoutMs: 240_000 });
  if (pip.status !== 0) throw new Error(`pip install failed: ${pip.stderr}`);
}

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return run(process.execPath, [PACKAGE_PYTHON_FUNCTION_JS, ...args], opts);
}

describe('package-python-function (real venv, real pip)', () => {
  let work: string;
  let venv: string;

  beforeAll(() => {
    work = tempDir('ppf');
    venv = path.join(work, 'venv');
    makeVenv(venv, writeWheels(work));
  });

  test('zips site-packages into <project_name>.zip that runs the handler', () => {
    const out = path.join(work, 'dist');
    const r = cli([venv, '--project', path.join(work, 'service', 'pyproject.toml'), '--output-dir', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(''); // stdout stays clean; progress is on stderr
    expect(r.stderr).toContain(`package-python-function: wrote ${path.join(out, 'my_service.zip')}`);
    // Every line is the tool's (the engine's "zipped N/M files" lines of a longer zip too: the
    // name reaches the zip worker through the environment, as possum's test shows).
    expect(r.stderr.trim().split('\n').filter(l => !l.startsWith('package-python-function: '))).toEqual([]);
    const names = inspectZip(path.join(out, 'my_service.zip')).entries.map(e => e.name);
    expect(names).toContain('my_service/handler.py');
    expect(names).toContain('greeting/__init__.py');
    expect(names.some(n => n.startsWith('greeting-1.2.3.dist-info/'))).toBe(true);
    // pip wrote these into the venv; they leak paths and times, so they are gone.
    expect(names.filter(n => /__pycache__|\.pyc$|\/RECORD$|direct_url\.json$/.test(n))).toEqual([]);

    unzipWithPython(path.join(out, 'my_service.zip'), path.join(work, 'task'));
    const result = python('import json; from my_service.handler import handler; print(json.dumps(handler({"name": "possum"}, None)))', { cwd: path.join(work, 'task') });
    expect(JSON.parse(result)).toEqual({ message: 'hello possum' });
  });

  test('the same project installed into a second venv elsewhere gives the same bytes', () => {
    const other = tempDir('ppf-other');
    makeVenv(path.join(other, 'env-two'), writeWheels(other));
    const a = cli([venv, '--project', path.join(work, 'service', 'pyproject.toml'), '--output', path.join(work, 'a.zip')]);
    const b = cli([path.join(other, 'env-two'), '--project', path.join(other, 'service', 'pyproject.toml'), '--output', path.join(other, 'b.zip')],
      { env: { ...process.env, TZ: 'Asia/Kolkata' } });
    expect([a.status, b.status]).toEqual([0, 0]);
    expect(sha256(path.join(other, 'b.zip'))).toBe(sha256(path.join(work, 'a.zip')));
  });

  test('--report writes the engine report as JSON', () => {
    const r = cli([venv, '--project', path.join(work, 'service', 'pyproject.toml'), '--output', path.join(work, 'r.zip'), '--report', path.join(work, 'reports', 'r.json')]);
    expect(r.status).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(work, 'reports', 'r.json'), 'utf8'));
    expect(report).toMatchObject({ output: path.join(work, 'r.zip'), nested: false, sha256: sha256(path.join(work, 'r.zip')) });
    expect(report.files).toBe(inspectZip(path.join(work, 'r.zip')).entries.length);
    expect(report.largest.map((l: any) => l.name)).toEqual(expect.arrayContaining(['pip', 'greeting', 'my_service']));
  });

  test('--output /dev/fd/1 (piped) gives the zip\'s bytes on stdout, --report /dev/fd/2 the report on stderr; --output a link keeps the link', () => {
    const project = path.join(work, 'service', 'pyproject.toml');
    const plain = cli([venv, '--project', project, '--output', path.join(work, 'plain.zip')]);
    expect(plain.status).toBe(0);
    // The zip through a pipe (| aws s3 cp - ...): byte for byte the one written to a file, and no
    // file left in place of the pipe or in the temporary folder. /dev/fd/N rather than
    // /dev/stdout: the same thing, but if this ever regressed to a rename, the rename would
    // fail inside /proc instead of replacing /dev/stdout on the machine running the tests.
    const piped = path.join(work, 'piped.zip');
    const tmp = tempDir('ppf-tmp');
    const pipe = run('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(PACKAGE_PYTHON_FUNCTION_JS)} ${JSON.stringify(venv)} ` +
      `--project ${JSON.stringify(project)} --output /dev/fd/1 --report /dev/fd/2 | cat > ${JSON.stringify(piped)}`],
    { env: { ...process.env, TMPDIR: tmp } });
    expect({ status: pipe.status, stderr: pipe.status === 0 ? '' : pipe.stderr }).toEqual({ status: 0, stderr: '' });
    expect(sha256(piped)).toBe(sha256(path.join(work, 'plain.zip')));
    expect(pipe.stderr).toContain('"output": "/dev/fd/1"'); // the report, through the socket the test reads stderr from
    expect(fs.readdirSync(tmp)).toEqual([]);
    // A link: it stays, and the file it names is the zip.
    fs.mkdirSync(path.join(work, 'releases'), { recursive: true });
    fs.symlinkSync(path.join('releases', 'v1.zip'), path.join(work, 'current.zip'));
    const linked = cli([venv, '--project', project, '--output', path.join(work, 'current.zip')]);
    expect(linked.status).toBe(0);
    expect(fs.lstatSync(path.join(work, 'current.zip')).isSymbolicLink()).toBe(true);
    expect(sha256(path.join(work, 'releases', 'v1.zip'))).toBe(sha256(path.join(work, 'plain.zip')));
  });

  test('SOURCE_DATE_EPOCH is honoured; a bad value fails and writes nothing', () => {
    const project = path.join(work, 'service', 'pyproject.toml');
    const ok = cli([venv, '--project', project, '--output', path.join(work, 'dated.zip')], { env: { ...process.env, SOURCE_DATE_EPOCH: '1600000000' } });
    expect(ok.status).toBe(0);
    expect(python(`import zipfile; print({i.date_time for i in zipfile.ZipFile(${JSON.stringify(path.join(work, 'dated.zip'))}).infolist()})`).trim())
      .toBe('{(2020, 9, 13, 12, 26, 40)}');
    const bad = cli([venv, '--project', project, '--output', path.join(work, 'bad', 'x.zip')], { env: { ...process.env, SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('SOURCE_DATE_EPOCH="yesterday" is not a non-negative integer');
    expect(fs.existsSync(path.join(work, 'bad'))).toBe(false);
  });

  test('over the threshold it writes the nested form, and the deployed handler string still works', () => {
    const out = path.join(work, 'nested');
    const r = cli([venv, '--project', path.join(work, 'service', 'pyproject.toml'), '--output-dir', out, '--nest-threshold-bytes', '100000']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('nested');
    expect(inspectZip(path.join(out, 'my_service.zip')).entries.map(e => e.name)).toEqual(['my_service/__init__.py', 'my_service/_possum_bundle.zip']);
    unzipWithPython(path.join(out, 'my_service.zip'), path.join(out, 'task'));
    const result = run(PYTHON, ['-c', 'import json; from my_service.handler import handler; print(json.dumps(handler({"name": "nest"}, None)))'],
      { cwd: path.join(out, 'task'), env: { ...process.env, POSSUM_EXTRACT_ROOT: path.join(out, 'tmp') } });
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ message: 'hello nest' });
  });

  test('[tool.poetry].name names the zip when there is no [project] table', () => {
    writeTree(path.join(work, 'poetry'), { 'pyproject.toml': '[tool.poetry]\nname = "poetry-app"\nversion = "1.0"\n' });
    const r = cli([venv, '--project', path.join(work, 'poetry', 'pyproject.toml'), '--output-dir', path.join(work, 'poetry-out')]);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(work, 'poetry-out'))).toEqual(['poetry_app.zip']);
  });

  test('--project defaults to ./pyproject.toml', () => {
    const r = cli([venv, '--output-dir', path.join(work, 'cwd-out')], { cwd: path.join(work, 'service') });
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(work, 'cwd-out'))).toEqual(['my_service.zip']);
  });
});

describe('package-python-function errors', () => {
  const dir = tempDir('ppf-errors');
  writeTree(dir, { 'pyproject.toml': '[project]\nname = "x"\n', 'empty-venv/.keep': '', 'noname/pyproject.toml': '[project]\nversion = "1"\n', 'broken/pyproject.toml': '[project\n' });

  test.each([
    [[], 2, 'VENV_DIR is required'],
    [['venv'], 2, 'one of --output-dir DIR or --output FILE is required'],
    [['venv', '--output-dir', 'a', '--output', 'b.zip'], 2, 'give either --output-dir or --output, not both'],
    [['venv', '--output'], 2, '--output needs a value'],
    [['venv', '--frobnicate', '--output', 'b.zip'], 2, 'unknown option --frobnicate'],
    [['venv', '--output', 'b.zip', '--nest-threshold-bytes', 'lots'], 2, '--nest-threshold-bytes lots is not a positive whole number'],
    [['empty-venv', '--output', 'out/b.zip'], 1, `No site-packages in empty-venv (looked for ${path.join('empty-venv', 'lib', 'python3.*', 'site-packages')})`],
    [['missing-venv', '--output', 'out/b.zip'], 1, 'Virtual environment missing-venv does not exist'],
    [['empty-venv', '--project', 'nope.toml', '--output', 'out/b.zip'], 1, 'nope.toml does not exist; pass the project\'s pyproject.toml with --project FILE'],
    [['empty-venv', '--project', 'noname/pyproject.toml', '--output', 'out/b.zip'], 1, 'noname/pyproject.toml has no [project].name or [tool.poetry].name'],
    [['empty-venv', '--project', 'broken/pyproject.toml', '--output', 'out/b.zip'], 1, 'broken/pyproject.toml is not valid TOML'],
  ])('%j exits %i with %p and writes nothing', (args, code, message) => {
    const r = cli(args as string[], { cwd: dir });
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(code);
    if (code === 2) expect(r.stderr).toContain('usage: package-python-function VENV_DIR');
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'b.zip'))).toBe(false);
  });

  test('--help prints the usage on stdout and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: package-python-function VENV_DIR');
  });
});
