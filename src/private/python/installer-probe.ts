import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { UV_VERSION } from './uv-tool';
import { writeFileAtomic } from '../atomic-file';
import { onPath } from '../on-path';

/** What the bundle key needs to know about the installer on this machine. */
export interface InstallerProbe {
  /** `pip 24.0` / `uv 0.13.9`: part of the cache key (not of the asset's name). */
  readonly version: string;
  /** The interpreter's sys.prefix, where pip looks for a site-wide pip.conf (pip only). */
  readonly sysPrefix?: string;
}

const memo = new Map<string, InstallerProbe>();

/** A probe answer, with the files whose change would change it. */
interface Remembered {
  readonly probe: InstallerProbe;
  /** Paths and their mtimes when the probe ran. */
  readonly stamps: Array<[string, number]>;
}

/**
 * Probes the installer once per process. For pip the answer is remembered on disk in
 * `memoDir` while the interpreter, pip's package folder and site-packages keep their
 * mtimes (installing or upgrading pip changes them), so a warm synth starts no Python.
 * uv is the pinned version possum-cdk provides, so nothing needs asking.
 */
export function probeInstaller(tool: 'pip' | 'uv', python: string, memoDir?: string): InstallerProbe {
  if (tool === 'uv') return { version: `uv ${UV_VERSION}` };
  // PATH (and pyenv/venv selection) decides which python3 runs; cwd, which .python-version applies.
  const key = JSON.stringify([tool, python, process.env.PATH, process.env.VIRTUAL_ENV, process.env.PYENV_VERSION, process.cwd()]);
  const known = memo.get(key);
  if (known) return known;
  const memoFile = memoDir && path.join(memoDir, 'installer-probes.json');
  const remembered = memoFile ? readMemo(memoFile)[key] : undefined;
  if (remembered && remembered.stamps.every(([p, mtime]) => mtimeOf(p) === mtime)) {
    memo.set(key, remembered.probe);
    return remembered.probe;
  }
  // `-m pip --version` loads all of pip (about 1 s); pip's __init__ holds just the version.
  const script = 'import os, sys, pip; d = os.path.dirname(pip.__file__); '
    + 'print(pip.__version__); print(sys.prefix); print(os.path.realpath(sys.executable)); print(d); print(os.path.dirname(d))';
  const r = spawnSync(python, ['-I', '-c', script], { encoding: 'utf8', env: process.env });
  if (r.error || r.status !== 0) {
    throw new Error(`${python} -m pip is not available (${r.error?.message ?? r.stderr.trim()}). ` +
      'Install Python 3 with pip on this machine, or point bundling.pythonExecutable at one.');
  }
  const [version, sysPrefix, ...stampPaths] = r.stdout.trim().split('\n');
  const probe: InstallerProbe = { version: `pip ${(version.match(/\d+\.\d+(\.\d+)?/) ?? ['?'])[0]}`, sysPrefix };
  memo.set(key, probe);
  if (memoFile) {
    const stamps = stampPaths.map(p => [p, mtimeOf(p)] as [string, number]).filter(([, m]) => m >= 0);
    writeMemo(memoFile, key, { probe, stamps });
  }
  return probe;
}

function mtimeOf(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function readMemo(file: string): Record<string, Remembered> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** Rewrites the memo through a temp file and a rename, so concurrent synths never read half of it. */
function writeMemo(file: string, key: string, value: Remembered) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify({ ...readMemo(file), [key]: value }));
  } catch {
    // Only an optimisation: the installer is asked again next time.
  }
}

const interpreters = new Map<string, string>();

/** Files by which pyenv, asdf and mise choose a Python for the folder they are run in (or a parent's). */
const VERSION_FILES = ['.python-version', '.tool-versions', '.mise.toml', 'mise.toml'];

/**
 * The interpreter `python` starts, as a path, asked at most once per process and choice of
 * version. A pyenv, asdf or mise shim is a shell script that works out which Python to run
 * every time it starts, and uv asks the interpreter it is given about itself on every run
 * unless it is a real file whose answer it has cached: given the shim, each uv run paid for
 * both. A shim's choice depends on the folder it runs in (`cwd`, where the installer runs)
 * through the nearest version file, so the answer is kept per nearest version file. A real
 * interpreter (an ELF file, or a venv's link to one) is used as it is, without asking.
 * When the question cannot be answered, `python` itself is used, and fails where it did.
 */
export function hostInterpreter(python: string, cwd: string): string {
  const found = python.includes('/') ? path.resolve(cwd, python) : onPath(python);
  if (!found) return python;
  if (isElf(found)) return found;
  const env = process.env;
  const key = JSON.stringify([found, nearestFile(cwd, VERSION_FILES) ?? '', env.PYENV_VERSION, env.ASDF_PYTHON_VERSION, env.MISE_PYTHON_VERSION]);
  const known = interpreters.get(key);
  if (known) return known;
  const chosen = pyenvChoice(found, cwd, env);
  if (chosen) {
    interpreters.set(key, chosen);
    return chosen;
  }
  const r = spawnSync(found, ['-I', '-c', 'import sys; print(sys.executable)'], { cwd, encoding: 'utf8', env: process.env });
  const executable = r.status === 0 ? r.stdout.trim() : '';
  const answer = executable && path.isAbsolute(executable) && fs.existsSync(executable) ? executable : python;
  interpreters.set(key, answer);
  return answer;
}

/**
 * The interpreter a pyenv shim would start, read from pyenv's own files instead of running
 * the shim (a shell and about 16 processes, a quarter of a second, ahead of every build).
 * Only the plain case is read: one version named by PYENV_VERSION, else by the nearest
 * .python-version from `cwd` up, else by pyenv's global version file, and that version's
 * `bin/` holding the program. Anything else (several versions, `system`, a version prefix
 * such as `3.11` that pyenv expands, PYENV_DIR set) is undefined, and the shim is asked.
 */
export function pyenvChoice(shim: string, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  let text: string;
  try {
    if (fs.statSync(shim).size > 4096) return undefined;
    text = fs.readFileSync(shim, 'utf8');
  } catch {
    return undefined;
  }
  // pyenv writes its root into every shim it generates, next to the command that runs it.
  const root = /^export PYENV_ROOT="([^"$`\\]+)"$/m.exec(text)?.[1];
  if (!root || !text.includes(`exec "${root}/libexec/pyenv" exec "$program"`) || env.PYENV_DIR) return undefined;
  let versions: string[] | undefined;
  if (env.PYENV_VERSION) {
    versions = env.PYENV_VERSION.split(':').filter(Boolean);
  } else {
    const file = nearestFile(cwd, ['.python-version']) ?? path.join(root, 'version');
    versions = versionFileWords(file);
  }
  if (!versions || versions.length !== 1) return undefined;
  const version = versions[0];
  if (version === 'system' || version === '..' || version.includes('/')) return undefined;
  const program = path.join(root, 'versions', version, 'bin', path.basename(shim));
  try {
    fs.accessSync(program, fs.constants.X_OK);
    return fs.statSync(program).isFile() ? program : undefined;
  } catch {
    return undefined;
  }
}

/** The first word of each line of a pyenv version file that is not empty or a comment, as pyenv reads it. */
function versionFileWords(file: string): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return text.split(/\r?\n|\r/).map(l => l.trim().split(/\s+/)[0]).filter(w => w && !w.startsWith('#'));
}

/** The first of `names` found in `dir` or the nearest folder above it that has one. */
function nearestFile(dir: string, names: readonly string[]): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const f of names) if (fs.existsSync(path.join(d, f))) return path.join(d, f);
    if (path.dirname(d) === d) return undefined;
  }
}

function isElf(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

