import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, tempDir } from '../helpers/run';

const INSTALLER_JS = path.join(REPO_ROOT, 'lib', 'private', 'python', 'installer-probe.js');

describe('the installer version (part of every cache key)', () => {
  // A stand-in interpreter: logs each call and answers the version probe like Python would.
  const dir = tempDir('installer-version');
  const sitePackages = path.join(dir, 'site-packages');
  const pipDir = path.join(sitePackages, 'pip');
  fs.mkdirSync(pipDir, { recursive: true });
  const log = path.join(dir, 'calls.log');
  const fakePython = path.join(dir, 'python3');
  fs.writeFileSync(fakePython, `#!/bin/sh\necho called >> ${log}\nprintf '98.7.6\\n${dir}\\n${fakePython}\\n${pipDir}\\n${sitePackages}\\n'\n`);
  fs.chmodSync(fakePython, 0o755);
  const memo = path.join(dir, 'memo');

  /** Asks for the version in a fresh process, as each synth does. */
  const ask = () => {
    const r = run(process.execPath, ['-e',
      `process.stdout.write(require(${JSON.stringify(INSTALLER_JS)}).probeInstaller('pip', ${JSON.stringify(fakePython)}, ${JSON.stringify(memo)}).version)`]);
    if (r.status !== 0) throw new Error(r.stderr);
    return { version: r.stdout, calls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0 };
  };

  test('is asked once, remembered across processes, and asked again when pip or site-packages change', () => {
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 1 });
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 1 }); // remembered: the interpreter did not run
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(sitePackages, later, later); // what installing or upgrading pip does
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 2 });
    expect(ask().calls).toBe(2);
  });
});

describe('the host interpreter handed to uv and pip', () => {
  // A stand-in for a pyenv shim: a shell script that logs each start and, like the shim,
  // runs the interpreter that the nearest .python-version names (here: this machine's python3).
  const dir = tempDir('host-interpreter');
  const log = path.join(dir, 'shim.log');
  const shimDir = path.join(dir, 'shims');
  fs.mkdirSync(shimDir);
  const shim = path.join(shimDir, 'python3');
  const real = run('python3', ['-c', 'import sys; print(sys.executable)']).stdout.trim();
  fs.writeFileSync(shim, `#!/bin/sh\necho "$PWD" >> ${log}\nexec ${real} "$@"\n`);
  fs.chmodSync(shim, 0o755);
  const project = path.join(dir, 'project');
  const [fnA, fnB, pinned] = ['fn-a', 'fn-b', 'pinned'].map(n => path.join(project, n));
  for (const d of [fnA, fnB, pinned]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(pinned, '.python-version'), '3.11\n');

  /** Asks in one fresh process for each folder, as one synth or one possum run does. */
  const ask = (python: string, folders: string[]) => {
    const r = run(process.execPath, ['-e', `const { hostInterpreter } = require(${JSON.stringify(INSTALLER_JS)});
      process.stdout.write(JSON.stringify(${JSON.stringify(folders)}.map(f => hostInterpreter(${JSON.stringify(python)}, f))))`],
    { env: { ...process.env, PATH: `${shimDir}:${process.env.PATH}` } });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as string[];
  };
  const shimStarts = () => fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];

  test('a shim is asked once per version file that applies, from the folder the installer runs in; its answer is the real interpreter', () => {
    expect(ask('python3', [fnA, fnB, pinned, fnA])).toEqual([real, real, real, real]);
    // fn-a and fn-b see the same (no) version file: one start; the folder with its own .python-version: another.
    expect(shimStarts()).toEqual([fnA, pinned]);
  });

  test('a real interpreter is used as it is, without starting it; something that does not answer is left as given', () => {
    fs.rmSync(log, { force: true });
    expect(ask(real, [fnA])).toEqual([real]);
    expect(shimStarts()).toEqual([]);
    expect(ask('no-such-python-here', [fnA])).toEqual(['no-such-python-here']);
    const broken = path.join(dir, 'broken-python');
    fs.writeFileSync(broken, '#!/bin/sh\nexit 3\n');
    fs.chmodSync(broken, 0o755);
    expect(ask(broken, [fnA])).toEqual([broken]);
  });
});

describe('a pyenv shim is read, not run, when its choice is plain', () => {
  // A pyenv root of our own: a shim in the shape pyenv generates (its root written in, then
  // `pyenv exec` of the program), a `pyenv` that logs each start and runs this machine's
  // python3, and one installed version whose bin/python3 is that python3.
  const root = tempDir('pyenv-root');
  const log = path.join(root, 'pyenv.log');
  const real = run('python3', ['-c', 'import sys; print(sys.executable)']).stdout.trim();
  for (const d of ['shims', 'libexec', 'versions/3.11.99/bin']) fs.mkdirSync(path.join(root, d), { recursive: true });
  const shim = path.join(root, 'shims', 'python3');
  fs.writeFileSync(shim, `#!/usr/bin/env bash\nset -e\nprogram="\${0##*/}"\n\nexport PYENV_ROOT="${root}"\nexec "${root}/libexec/pyenv" exec "$program" "$@"\n`);
  fs.writeFileSync(path.join(root, 'libexec', 'pyenv'), `#!/bin/sh\necho "$PWD" >> ${log}\nshift 2\nexec ${real} "$@"\n`);
  for (const f of [shim, path.join(root, 'libexec', 'pyenv')]) fs.chmodSync(f, 0o755);
  const installed = path.join(root, 'versions', '3.11.99', 'bin', 'python3');
  fs.symlinkSync(real, installed);
  const project = path.join(root, 'project');
  const [plain, commented, prefix, two] = ['plain', 'commented', 'prefix', 'two'].map(n => path.join(project, n));
  for (const d of [plain, commented, prefix, two]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(commented, '.python-version'), '# chosen for Lambda\n\n  3.11.99  \n');
  fs.writeFileSync(path.join(prefix, '.python-version'), '3.11\n');
  fs.writeFileSync(path.join(two, '.python-version'), '3.11.99\n3.10.99\n');

  const ask = (folder: string, env: NodeJS.ProcessEnv = {}) => {
    const r = run(process.execPath, ['-e', `const { hostInterpreter } = require(${JSON.stringify(INSTALLER_JS)});
      process.stdout.write(hostInterpreter(${JSON.stringify(shim)}, ${JSON.stringify(folder)}))`],
    { env: { ...process.env, PYENV_VERSION: '', PYENV_DIR: '', ...env } });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  };
  const starts = () => {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    fs.rmSync(log, { force: true });
    return lines;
  };

  test('the version named by the global file, the nearest .python-version or PYENV_VERSION: its interpreter, without a start', () => {
    fs.writeFileSync(path.join(root, 'version'), '3.11.99\n');
    expect(ask(plain)).toBe(installed);
    expect(ask(commented)).toBe(installed);
    expect(ask(prefix, { PYENV_VERSION: '3.11.99' })).toBe(installed);
    expect(starts()).toEqual([]);
  });

  test('a prefix pyenv expands, several versions, system or a missing version: the shim is asked', () => {
    fs.rmSync(path.join(root, 'version'), { force: true });
    expect(ask(prefix)).toBe(real);
    expect(ask(two)).toBe(real);
    expect(ask(plain, { PYENV_VERSION: 'system' })).toBe(real);
    // No global version file either: pyenv would use the system Python.
    expect(ask(plain)).toBe(real);
    expect(starts()).toEqual([prefix, two, plain, plain]);
  });
});
