/**
 * The reference tools (pipenv, poetry, uv) that the manifest corpus under
 * test/fixtures/manifest-corpus/ is locked and exported with, and the runner of
 * test/fixtures/reference_sets.py that turns their output into per-target sets.
 *
 * pipenv and poetry live in pinned virtual environments under .tools/ref/<tool>/ (gitignored),
 * made on first use: each is built under a temporary name in .tools/ref/ and renamed into
 * place only once it works, so a killed build leaves no half-made tool behind (just a
 * `.build-*` folder, removed by the next build). The venvs are relocatable and the tools are
 * run as `<venv>/bin/python -m pipenv|poetry`, so the rename breaks no script shebang.
 * uv is the one `npx projen install-tools` puts in .tools/bin (pinned in .ci/python-tools.txt).
 *
 * Every tool shares one cache, .tools/ref/cache/{uv,pip,pipenv,poetry}, and runs without
 * the machine's PIP_FIND_LINKS / index overrides, so what it resolves comes from PyPI alone.
 *
 * Notes on each tool, learnt the hard way:
 * - pipenv resolves for the interpreter it locks with and drops (or leaves unpinned) any
 *   dependency whose marker is false there, so the corpus is always locked with Python 3.11
 *   (`--python`, the interpreter under .tools/bin/python, or POSSUM_REF_LOCK_PYTHON). The
 *   corpus' Pipfiles have no `[requires] python_version`, which pipenv would otherwise check
 *   against that interpreter. PIPENV_VENV_IN_PROJECT puts the venv pipenv insists on making
 *   into the temporary copy (`.venv`, removed after locking, so it is never bundled).
 * - The PyPI mirror reachable here answers only the simple API (PEP 503/691), not the JSON API
 *   that poetry's built-in PyPI repository uses, so poetry is locked with a temporary primary
 *   `[[tool.poetry.source]]` pointing at https://pypi.org/simple/; afterwards the pyproject is
 *   restored, the `[package.source]` tables of that source are removed from poetry.lock and
 *   its content-hash is recomputed with poetry's own code, giving the lock a plain-PyPI project
 *   gets. `poetry check --lock` then confirms poetry accepts it.
 * - uv runs with UV_PYTHON_DOWNLOADS=never and without the pyenv shims on PATH (probing them
 *   costs seconds per call); `uv lock` then uses a system interpreter, so a uv-locked case may
 *   not require a Python newer than the machine's (3.11).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from './run';

export const TOOLS_BIN = path.join(REPO_ROOT, '.tools', 'bin');
export const TOOLS_PYTHON = path.join(TOOLS_BIN, 'python');
export const UV = path.join(TOOLS_BIN, 'uv');
export const UV_VERSION = '0.13.9';
export const REF_ROOT = path.join(REPO_ROOT, '.tools', 'ref');
export const REF_CACHE = path.join(REF_ROOT, 'cache');
export const CORPUS_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'manifest-corpus');
export const REFERENCE_SETS_PY = path.join(REPO_ROOT, 'test', 'fixtures', 'reference_sets.py');

/** What goes into each reference venv. Changing a pin rebuilds that venv on next use. */
export const REFERENCE_PINS = {
  pipenv: ['pipenv==2026.10.3'],
  poetry: ['poetry==2.5.1', 'poetry-plugin-export==1.10.1'],
  // The SAM CLI, for the project `sam init` makes (test/integration/sam-init.test.ts).
  sam: ['aws-sam-cli==1.170.0'],
} as const;
export type ReferenceVenv = keyof typeof REFERENCE_PINS;
/** The module each reference venv's tool runs as (`python -m <module>`). */
export const REFERENCE_MODULES: Record<ReferenceVenv, string> = { pipenv: 'pipenv', poetry: 'poetry', sam: 'samcli' };

export const PYTHONS = ['3.10', '3.11', '3.12', '3.13', '3.14'] as const;
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = typeof ARCHITECTURES[number];

/** A Lambda target: `python3.12/arm64`. */
export interface Target {
  readonly runtime: string; // python3.X
  readonly architecture: Architecture;
}
export const targetKey = (t: Target) => `${t.runtime}/${t.architecture}`;

// ------------------------------------------------------------------------------------------
// Environment and processes

/** Folders of PATH that hold pyenv shims (slow to probe and failing for other versions). */
const isShimDir = (d: string) => /[\\/]\.pyenv[\\/]shims$/.test(d);

/** The environment every reference tool runs with: shared caches, no index overrides. */
export function refEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of Object.keys(env)) {
    if (/^(PIP_(FIND_LINKS|INDEX_URL|EXTRA_INDEX_URL|NO_INDEX|REQUIRE_VIRTUALENV|TARGET|PREFIX|USER)|UV_(INDEX|INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|DEFAULT_INDEX|PYTHON)|VIRTUAL_ENV|CONDA_PREFIX|PYTHONPATH|PYTHONHOME|PIPENV_.*|POETRY_.*)$/.test(v)) {
      delete env[v];
    }
  }
  const pathDirs = (env.PATH ?? '').split(path.delimiter).filter(d => d && !isShimDir(d));
  return {
    ...env,
    PATH: [TOOLS_BIN, ...pathDirs.filter(d => d !== TOOLS_BIN)].join(path.delimiter),
    UV_CACHE_DIR: path.join(REF_CACHE, 'uv'),
    UV_PYTHON_DOWNLOADS: 'never',
    UV_NO_CONFIG: '1',
    PIP_CACHE_DIR: path.join(REF_CACHE, 'pip'),
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
    NO_COLOR: '1',
    ...extra,
  };
}

export interface Exec {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly command: string;
}

/** Runs a command asynchronously (cases run side by side); never throws for its exit code. */
export function exec(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Exec> {
  const start = Date.now();
  return new Promise(resolve => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? refEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    const done = (status: number | null) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - start, command: [cmd, ...args].join(' ') });
    };
    child.on('error', e => { stderr += String(e); done(null); });
    child.on('close', code => done(code));
  });
}

function execSync(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, [...args], { cwd: opts.cwd, env: opts.env ?? refEnv(), encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${[cmd, ...args].join(' ')} failed (${r.status ?? r.signal ?? r.error}):\n${r.stderr}\n${r.stdout}`);
  }
  return r.stdout;
}

// ------------------------------------------------------------------------------------------
// The tools

/** .tools/bin/uv, checked to be the pinned version. */
export function uvBinary(): string {
  if (!fs.existsSync(UV)) throw new Error(`${UV} is missing: run \`npx projen install-tools\``);
  const version = execSync(UV, ['--version']).trim();
  if (!version.startsWith(`uv ${UV_VERSION}`)) {
    throw new Error(`${UV} is ${version}, the corpus expects uv ${UV_VERSION}: run \`npx projen install-tools\``);
  }
  return UV;
}

let lockPythonMemo: string | undefined;
/** The interpreter pipenv locks with: Python 3.11 (see the notes at the top of this file). */
export function lockPython(): string {
  if (lockPythonMemo) return lockPythonMemo;
  const candidates = [process.env.POSSUM_REF_LOCK_PYTHON, TOOLS_PYTHON, 'python3.11'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import sys; print(sys._base_executable); print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', env: refEnv() });
    const [exe, version] = (r.stdout ?? '').trim().split('\n');
    if (r.status === 0 && version === '3.11' && exe) return (lockPythonMemo = exe);
  }
  throw new Error(`no Python 3.11 found for pipenv lock (tried ${candidates.join(', ')}); set POSSUM_REF_LOCK_PYTHON`);
}

const STAMP = 'possum-ref.json';
const memo = new Map<ReferenceVenv, string>();

/**
 * Makes (once) the pinned venv of a tool under .tools/ref/<tool>/ and returns its python.
 * Built in `.tools/ref/.build-<tool>-*` and renamed into place when it works; a venv whose
 * stamp lists other pins is replaced the same way.
 */
export function ensureReferenceVenv(tool: ReferenceVenv): string {
  const cached = memo.get(tool);
  if (cached) return cached;
  const final = path.join(REF_ROOT, tool);
  const python = path.join(final, 'bin', 'python');
  const stamp = JSON.stringify({ pins: REFERENCE_PINS[tool] });
  const current = () => {
    try {
      return fs.readFileSync(path.join(final, STAMP), 'utf8') === stamp && fs.existsSync(python);
    } catch {
      return false;
    }
  };
  if (!current()) {
    fs.mkdirSync(REF_ROOT, { recursive: true });
    for (const old of fs.readdirSync(REF_ROOT)) {
      const m = /^\.(build|old)-[a-z]+-(\d+)-/.exec(old);
      if (m && !processAlive(Number(m[2]))) fs.rmSync(path.join(REF_ROOT, old), { recursive: true, force: true });
    }
    const build = path.join(REF_ROOT, `.build-${tool}-${process.pid}-${Date.now()}`);
    try {
      execSync(uvBinary(), ['venv', '--quiet', '--relocatable', '--python', lockPython(), build]);
      execSync(UV, ['pip', 'install', '--quiet', '--python', path.join(build, 'bin', 'python'), ...REFERENCE_PINS[tool]]);
      execSync(path.join(build, 'bin', 'python'), ['-m', REFERENCE_MODULES[tool], '--version'], { cwd: build });
      fs.writeFileSync(path.join(build, STAMP), stamp);
      if (!current()) {
        const old = path.join(REF_ROOT, `.old-${tool}-${process.pid}-${Date.now()}`);
        if (fs.existsSync(final)) fs.renameSync(final, old);
        try {
          fs.renameSync(build, final);
        } catch (e) {
          if (!current()) throw e; // another process put a good one in place first
        }
        fs.rmSync(old, { recursive: true, force: true });
      }
    } finally {
      fs.rmSync(build, { recursive: true, force: true });
    }
  }
  memo.set(tool, python);
  return python;
}

function processAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const pipenvPython = () => ensureReferenceVenv('pipenv');
export const poetryPython = () => ensureReferenceVenv('poetry');
export const samPython = () => ensureReferenceVenv('sam');

// ------------------------------------------------------------------------------------------
// Cases

/** A case's case.json (see test/fixtures/manifest-corpus/README.md). */
export interface CaseSpec {
  readonly description: string;
  readonly kind: 'requirements' | 'pipfile' | 'pipfile-lock' | 'uv-lock' | 'uv-workspace-member'
  | 'poetry-lock' | 'pyproject-pep621' | 'pyproject-poetry';
  readonly lockTool: 'pipenv' | 'uv' | 'poetry' | 'none';
  /** The function folder (the Lambda entry), relative to the case folder. Default '.'. */
  readonly entry?: string;
  /** Where the lock tool runs and the lock lives (a uv workspace root). Default: entry. */
  readonly projectRoot?: string;
  /** uv workspace member to export (`uv export --package`). */
  readonly uvPackage?: string;
  /** Rewrite the generated lock into an older format: 'poetry-lock-1.1'. */
  readonly lockTransform?: 'poetry-lock-1.1';
  readonly prepare?: {
    /** Folders (relative to the case) made into git repositories with one fixed commit. */
    readonly gitRepos?: readonly string[];
    /** Files in which {{CASE_ROOT}} becomes the absolute path of the prepared copy. */
    readonly substitute?: readonly string[];
  };
  readonly targets: { readonly runtimes: readonly string[]; readonly architectures: readonly Architecture[]; readonly why?: string };
  /** How the sets should relate across targets: identical everywhere, or per Python version. */
  readonly uniform?: 'all' | 'per-python' | 'none';
  readonly expect?: readonly Expectation[];
  /** Also compute `uv pip compile` sets of the same manifest and report where they differ. */
  readonly crossCheck?: 'uv-pip-compile';
  readonly imitates?: string;
}

export interface Expectation {
  /** Targets this applies to (all of the case's when absent). */
  readonly when?: { readonly runtimes?: readonly string[]; readonly architectures?: readonly Architecture[] };
  /** Names (PEP 503) that must be in the set. */
  readonly present?: readonly string[];
  /** Names that must not be in the set. */
  readonly absent?: readonly string[];
  /** name -> regular expression the pinned version must match. */
  readonly versions?: Readonly<Record<string, string>>;
  /** name -> 'path' | 'workspace' | 'git' | 'url': entries reported as `name @ kind`. */
  readonly local?: Readonly<Record<string, string>>;
  /** Names the tool left unpinned. */
  readonly unpinned?: readonly string[];
  /** Names the case's cross-check (uv pip compile of the same manifest) installs but the reference does not. */
  readonly crossCheckOnly?: readonly string[];
  /** Names the reference installs but the cross-check does not. */
  readonly referenceOnly?: readonly string[];
  /** The reference tool refuses: the `error` field it reports, and a pattern for its message. */
  readonly error?: string;
  readonly message?: string;
}

export function corpusCases(): string[] {
  return fs.readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter(d => d.isDirectory() && fs.existsSync(path.join(CORPUS_DIR, d.name, 'case.json')))
    .map(d => d.name)
    .sort();
}

export function readCase(name: string): CaseSpec {
  return JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, name, 'case.json'), 'utf8'));
}

export function caseTargets(spec: CaseSpec): Target[] {
  return spec.targets.runtimes.flatMap(runtime => spec.targets.architectures.map(architecture => ({ runtime, architecture })));
}

export interface PreparedCase {
  readonly name: string;
  readonly spec: CaseSpec;
  /** The copy of the case folder. */
  readonly root: string;
  /** The function folder in the copy. */
  readonly entry: string;
  /** Where the lock is made. */
  readonly projectRoot: string;
}

/**
 * Copies a case into `parent` (a fresh temporary folder when absent), fills in
 * {{CASE_ROOT}} and makes its git repositories, ready for its lock tool.
 */
export function prepareCase(name: string, parent?: string): PreparedCase {
  const spec = readCase(name);
  const base = parent ?? fs.mkdtempSync(path.join(os.tmpdir(), 'possum-ref-'));
  const root = path.join(base, name);
  fs.cpSync(path.join(CORPUS_DIR, name), root, { recursive: true });
  for (const rel of spec.prepare?.substitute ?? []) {
    const file = path.join(root, rel);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split('{{CASE_ROOT}}').join(root));
  }
  const gitEnv = refEnv({
    GIT_AUTHOR_NAME: 'possum fixtures',
    GIT_AUTHOR_EMAIL: 'fixtures@possum.invalid',
    GIT_AUTHOR_DATE: '2025-01-01T00:00:00Z',
    GIT_COMMITTER_NAME: 'possum fixtures',
    GIT_COMMITTER_EMAIL: 'fixtures@possum.invalid',
    GIT_COMMITTER_DATE: '2025-01-01T00:00:00Z',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  });
  for (const rel of spec.prepare?.gitRepos ?? []) {
    const repo = path.join(root, rel);
    execSync('git', ['init', '--quiet', '--initial-branch', 'main'], { cwd: repo, env: gitEnv });
    execSync('git', ['add', '--all'], { cwd: repo, env: gitEnv });
    execSync('git', ['commit', '--quiet', '--no-gpg-sign', '--message', 'fixture'], { cwd: repo, env: gitEnv });
  }
  return {
    name,
    spec,
    root,
    entry: path.join(root, spec.entry ?? '.'),
    projectRoot: path.join(root, spec.projectRoot ?? spec.entry ?? '.'),
  };
}

// ------------------------------------------------------------------------------------------
// Locking

export interface LockOutcome {
  readonly tool: 'pipenv' | 'uv' | 'poetry' | 'none';
  readonly ok: boolean;
  readonly ms: number;
  /** The lock file written (absent when none was needed or the tool failed). */
  readonly lockFile?: string;
  /** The tool's output when it failed. */
  readonly log?: string;
}

const failed = (tool: LockOutcome['tool'], ms: number, r: Exec): LockOutcome =>
  ({ tool, ok: false, ms, log: `${r.command}\n(exit ${r.status})\n${r.stderr}\n${r.stdout}` });

/** `pipenv lock` in a folder holding a Pipfile (a temporary copy: it gets a .venv for a while). */
export async function pipenvLock(dir: string): Promise<LockOutcome> {
  const python = pipenvPython();
  const env = refEnv({
    PIPENV_PIPFILE: path.join(dir, 'Pipfile'),
    PIPENV_VENV_IN_PROJECT: '1',
    PIPENV_IGNORE_VIRTUALENVS: '1',
    PIPENV_YES: '1',
    PIPENV_NOSPIN: '1',
    PIPENV_VERBOSITY: '-1',
    PIPENV_DONT_LOAD_ENV: '1',
    PIPENV_CACHE_DIR: path.join(REF_CACHE, 'pipenv'),
  });
  const r = await exec(python, ['-m', 'pipenv', 'lock', '--python', lockPython()], { cwd: dir, env });
  fs.rmSync(path.join(dir, '.venv'), { recursive: true, force: true });
  const lockFile = path.join(dir, 'Pipfile.lock');
  if (r.status !== 0 || !fs.existsSync(lockFile)) return failed('pipenv', r.ms, r);
  return { tool: 'pipenv', ok: true, ms: r.ms, lockFile };
}

/** `uv lock` in a project or workspace root. */
export async function uvLock(dir: string): Promise<LockOutcome> {
  const r = await exec(uvBinary(), ['lock', '--color', 'never'], { cwd: dir });
  const lockFile = path.join(dir, 'uv.lock');
  if (r.status !== 0 || !fs.existsSync(lockFile)) return failed('uv', r.ms, r);
  return { tool: 'uv', ok: true, ms: r.ms, lockFile };
}

const SIMPLE_SOURCE = 'possum-ref-pypi-simple';

/** poetry's settings: its own cache and (empty) config, no venv of its own for the project. */
export function poetryEnv(): NodeJS.ProcessEnv {
  return refEnv({
    POETRY_CACHE_DIR: path.join(REF_CACHE, 'poetry'),
    POETRY_CONFIG_DIR: path.join(REF_ROOT, 'poetry-config'),
    POETRY_DATA_DIR: path.join(REF_ROOT, 'poetry-data'),
    POETRY_VIRTUALENVS_CREATE: 'false',
    POETRY_NO_INTERACTION: '1',
    POETRY_KEYRING_ENABLED: 'false',
  });
}

/**
 * Rewrites poetry.lock after locking: drops the temporary simple-API source, recomputes the
 * content-hash for the restored pyproject, and optionally writes the 1.1 format (per-package
 * `category`, no `groups`/`markers`, file hashes under `[metadata.files]`). Run with the
 * poetry venv's python (tomlkit and poetry are there).
 */
const POETRY_POSTPROCESS = `
import sys
from pathlib import Path
import tomlkit
from poetry.factory import Factory

root, source_name, target_format = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
lock_path = root / "poetry.lock"
doc = tomlkit.parse(lock_path.read_text())
for pkg in doc.get("package", []):
    if pkg.get("source", {}).get("reference") == source_name:
        del pkg["source"]
poetry = Factory().create_poetry(root)
doc["metadata"]["content-hash"] = poetry.locker._get_content_hash()

if target_format == "1.1":
    files = tomlkit.table()
    packages = tomlkit.aot()
    for pkg in doc["package"]:
        new = tomlkit.table()
        groups = list(pkg.get("groups", ["main"]))
        for key, value in pkg.items():
            if key in ("files", "groups", "markers"):
                continue
            new[key] = value
            if key == "description":
                new["category"] = "main" if "main" in groups else "dev"
        entries = tomlkit.array()
        entries.multiline(True)
        for f in pkg.get("files", []):
            item = tomlkit.inline_table()
            item.update({"file": f["file"], "hash": f["hash"]})
            entries.append(item)
        files[pkg["name"]] = entries
        packages.append(new)
    meta = tomlkit.table()
    meta["lock-version"] = "1.1"
    meta["python-versions"] = doc["metadata"]["python-versions"]
    meta["content-hash"] = doc["metadata"]["content-hash"]
    meta["files"] = files
    out = tomlkit.document()
    out.add(tomlkit.comment("This file is automatically @generated by Poetry and should not be changed by hand."))
    out.add(tomlkit.nl())
    out["package"] = packages
    out["metadata"] = meta
    doc = out
lock_path.write_text(tomlkit.dumps(doc))
`;

/**
 * `poetry lock` in a project folder, through the simple API (see the notes at the top), then
 * the clean-up above and `poetry check --lock`. lockFormat '1.1' rewrites the result into
 * the format poetry 1.0-1.2 wrote.
 */
export async function poetryLock(dir: string, opts: { lockFormat?: '2' | '1.1' } = {}): Promise<LockOutcome> {
  const python = poetryPython();
  const env = poetryEnv();
  const pyproject = path.join(dir, 'pyproject.toml');
  const original = fs.readFileSync(pyproject, 'utf8');
  const start = Date.now();
  fs.writeFileSync(pyproject, `${original.replace(/\s*$/, '\n')}\n[[tool.poetry.source]]\nname = "${SIMPLE_SOURCE}"\nurl = "https://pypi.org/simple/"\npriority = "primary"\n`);
  let r: Exec;
  try {
    r = await exec(python, ['-m', 'poetry', 'lock', '--no-ansi'], { cwd: dir, env });
  } finally {
    fs.writeFileSync(pyproject, original);
  }
  const lockFile = path.join(dir, 'poetry.lock');
  if (r.status !== 0 || !fs.existsSync(lockFile)) return failed('poetry', Date.now() - start, r);
  r = await exec(python, ['-c', POETRY_POSTPROCESS, dir, SIMPLE_SOURCE, opts.lockFormat ?? '2'], { cwd: dir, env });
  if (r.status !== 0) return failed('poetry', Date.now() - start, r);
  r = await exec(python, ['-m', 'poetry', 'check', '--lock', '--no-ansi'], { cwd: dir, env });
  if (r.status !== 0) return failed('poetry', Date.now() - start, r);
  return { tool: 'poetry', ok: true, ms: Date.now() - start, lockFile };
}

/** Makes the lock a prepared case asks for (nothing for lockTool 'none'). */
export async function lockCase(c: PreparedCase): Promise<LockOutcome> {
  switch (c.spec.lockTool) {
    case 'pipenv': return pipenvLock(c.projectRoot);
    case 'uv': return uvLock(c.projectRoot);
    case 'poetry': return poetryLock(c.projectRoot, { lockFormat: c.spec.lockTransform === 'poetry-lock-1.1' ? '1.1' : '2' });
    default: return { tool: 'none', ok: true, ms: 0 };
  }
}

// ------------------------------------------------------------------------------------------
// Reference sets

/** A target's set: entries as printed by reference_sets.py, sorted. */
export interface TargetSet {
  readonly ok: true;
  readonly set: string[];
  readonly unpinned: string[];
  /** name -> where a path / workspace / git / url entry comes from. */
  readonly local: Record<string, { kind: string; ref: string }>;
  /** Names with two different entries for the target (should never happen). */
  readonly conflicts: string[];
}

/** A target the reference tool refuses. */
export interface TargetRefusal {
  readonly ok: false;
  readonly error: string;
  readonly tool: string;
  readonly message: string;
  readonly requiresPython?: string;
  /** True when reference_sets.py applied the tool's rule itself (requires-python). */
  readonly emulated?: boolean;
}

export type TargetResult = TargetSet | TargetRefusal;

export interface ReferenceSets {
  readonly case: string;
  readonly kind: string;
  readonly mode: string;
  readonly command: string[];
  /** Keyed by `python3.X/arch`. */
  readonly targets: Record<string, TargetResult>;
  readonly ms: number;
}

/**
 * Runs reference_sets.py on a prepared (and locked) case for the given targets (the case's
 * own by default). mode forces a way of computing them, e.g. 'uv-pip-compile' on a Pipfile
 * that also has a lock.
 */
const MODE_OF_LOCK_TOOL = { pipenv: 'pipenv', uv: 'uv-export', poetry: 'poetry-export', none: 'uv-pip-compile' } as const;

export interface ReferenceSetsOptions {
  readonly targets?: readonly Target[];
  readonly mode?: string;
  /** uv pip compile runs at once inside reference_sets.py. */
  readonly jobs?: number;
}

export async function referenceSets(c: PreparedCase, opts: ReferenceSetsOptions = {}): Promise<ReferenceSets> {
  const args = [REFERENCE_SETS_PY, c.root, '--json', '--uv', uvBinary(), '--jobs', String(opts.jobs ?? 2)];
  const mode = opts.mode ?? MODE_OF_LOCK_TOOL[c.spec.lockTool];
  args.push('--mode', mode);
  if (mode === 'pipenv') args.push('--pipenv', pipenvPython());
  if (mode === 'poetry-export') args.push('--poetry', poetryPython());
  for (const t of opts.targets ?? caseTargets(c.spec)) args.push('--target', targetKey(t));
  const env = mode === 'poetry-export' ? poetryEnv() : refEnv();
  const r = await exec(TOOLS_PYTHON, args, { cwd: c.root, env: { ...env, POSSUM_REF_BUILD_PYTHON: TOOLS_PYTHON } });
  if (r.status !== 0 && r.status !== 3) {
    throw new Error(`reference_sets.py failed for ${c.name} (${r.status}):\n${r.stderr}\n${r.stdout}`);
  }
  return { ...JSON.parse(r.stdout), ms: r.ms };
}
