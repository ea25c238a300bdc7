import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ZipPlan } from '../../src/private/zip/engine';
import type { WorkerResult } from '../../src/private/zip/worker';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const WORKER_JS = path.join(REPO_ROOT, 'lib', 'private', 'zip', 'worker.js');
export const PACKAGE_PYTHON_FUNCTION_JS = path.join(REPO_ROOT, 'lib', 'cli', 'package-python-function.js');
export const PYTHON = process.env.POSSUM_TEST_PYTHON ?? 'python3';
/** The pinned uv the tools venv holds (the version possum-cdk itself pins). */
export const TOOLS_UV = path.join(REPO_ROOT, '.tools', 'bin', 'uv');
// The offline suite gives possum-cdk the tools venv's uv (the pinned version) instead of
// letting it install one from PyPI; test/integration covers that installation for real.
process.env.POSSUM_UV ??= TOOLS_UV;

/** A fresh temporary folder, removed when the test process ends. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `possum-test-${label}-`));
  TEMP_DIRS.push(dir);
  return dir;
}
const TEMP_DIRS: string[] = [];
afterAll(() => {
  if (process.env.POSSUM_KEEP_TEST_DIRS) return;
  for (const d of TEMP_DIRS.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes files (path -> content) under root, creating folders. */
export function writeTree(root: string, files: Record<string, string | Buffer>) {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Runs the compiled engine worker in its own process with the given environment and
 * umask, as bundling does, and returns its result.
 */
export function runWorker(plan: ZipPlan, opts: { env?: NodeJS.ProcessEnv; umask?: string; cwd?: string } = {}): WorkerResult {
  const script = opts.umask
    ? ['sh', ['-c', `umask ${opts.umask} && exec "$0" "$1"`, process.execPath, WORKER_JS]] as const
    : [process.execPath, [WORKER_JS]] as const;
  const child = spawnSync(script[0], [...script[1]], {
    input: JSON.stringify(plan),
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`worker failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, [...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * A private certificate authority and a server certificate for 127.0.0.1 signed by it, made
 * by openssl: `ca` is what clients are told to trust; `cert` and `key` are the server's.
 * (uv's TLS refuses a self-signed certificate that is its own authority, so there are two.)
 */
export function privateAuthority(): { ca: string; cert: string; key: string } {
  const dir = tempDir('tls');
  const file = (name: string) => path.join(dir, name);
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=possum test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1'],
    ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'),
      '-days', '2', '-extfile', file('server.ext')],
  ];
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  for (const args of steps) {
    const made = run('openssl', args);
    if (made.status !== 0) throw new Error(`openssl ${args[0]} failed: ${made.stderr}`);
  }
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/** Runs Python code; throws with its stderr when it fails. */
export function python(code: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(PYTHON, ['-c', code], opts);
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Unpacks a zip with Python's zipfile (as Lambda's service does) into a new folder. */
export function unzipWithPython(zipFile: string, dest: string) {
  fs.mkdirSync(dest, { recursive: true });
  const r = run(PYTHON, ['-m', 'zipfile', '-e', zipFile, dest]);
  if (r.status !== 0) throw new Error(`unzip failed: ${r.stderr}`);
}

const MAKE_WHEEL = path.join(__dirname, '..', 'fixtures', 'make_wheel.py');
const INLINE_BACKEND = path.join(__dirname, '..', 'fixtures', 'inline_backend.py');

export interface LocalProject {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: string[];
  readonly requiresPython?: string;
  /** Wheel tag the build produces: py3-none-any (pure) unless a platform tag is given. */
  readonly tag?: string;
  /** Files of the import package, relative to it; default `__init__.py` saying its name and version. */
  readonly files?: Record<string, string>;
}

/**
 * Writes a buildable Python project (PEP 517, with the in-tree test backend, so building it
 * needs nothing from an index) into `dir`.
 */
export function writeLocalProject(dir: string, p: LocalProject) {
  const pkg = p.name.replace(/-/g, '_');
  const files = p.files ?? { '__init__.py': `NAME = "${p.name}"\nVERSION = "${p.version}"\n` };
  writeTree(dir, {
    'pyproject.toml': [
      '[build-system]', 'requires = []', 'build-backend = "inline_backend"', 'backend-path = ["_backend"]', '',
      '[project]', `name = "${p.name}"`, `version = "${p.version}"`,
      `dependencies = [${(p.dependencies ?? []).map(d => JSON.stringify(d)).join(', ')}]`,
      ...(p.requiresPython ? [`requires-python = "${p.requiresPython}"`] : []), '',
      '[tool.inline-backend]', `tag = "${p.tag ?? 'py3-none-any'}"`, '',
    ].join('\n'),
    '_backend/inline_backend.py': fs.readFileSync(INLINE_BACKEND),
    ...Object.fromEntries(Object.entries(files).map(([f, c]) => [`${pkg}/${f}`, c])),
  });
}

/** Builds an sdist of a project written by writeLocalProject into `out`; returns its path. */
export function makeSdist(projectDir: string, out: string): string {
  fs.mkdirSync(out, { recursive: true });
  const r = run(PYTHON, ['-c', `import sys; sys.path.insert(0, "_backend"); import inline_backend; print(inline_backend.build_sdist(${JSON.stringify(out)}))`],
    { cwd: projectDir });
  if (r.status !== 0) throw new Error(`sdist failed: ${r.stderr}`);
  return path.join(out, r.stdout.trim());
}

/** Builds a real wheel from a folder with test/fixtures/make_wheel.py; returns its path. */
export interface WheelSpec {
  readonly name: string;
  readonly version: string;
  readonly source: string;
  readonly out: string;
  readonly tag?: string;
  readonly requires?: string[];
  readonly requiresPython?: string;
}

export function makeWheel(opts: WheelSpec): string {
  const args = [MAKE_WHEEL, '--name', opts.name, '--version', opts.version, '--source', opts.source, '--out', opts.out];
  if (opts.tag) args.push('--tag', opts.tag);
  if (opts.requiresPython) args.push('--requires-python', opts.requiresPython);
  for (const r of opts.requires ?? []) args.push('--requires', r);
  const r = run(PYTHON, args);
  if (r.status !== 0) throw new Error(`make_wheel failed: ${r.stderr}`);
  return r.stdout.trim();
}
