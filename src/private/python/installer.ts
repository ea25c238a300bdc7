import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DependencySpec, InstallStep } from './dependency-spec';
import { PythonTarget } from './target';

/** How dependencies are installed. Plain data: part of the cache key (after redaction). */
export interface InstallerSettings {
  readonly tool: 'pip' | 'uv';
  /** Allow sdists to build on this machine (then the machine must match the runtime). */
  readonly buildFromSource: boolean;
  /** May contain credentials. */
  readonly indexUrl?: string;
  /** May contain credentials. */
  readonly extraIndexUrls: readonly string[];
  readonly findLinks: readonly string[];
  /** Host Python used to run pip. */
  readonly python: string;
}

/** Removes `user:password@` from URLs, and `${VAR}` values are never expanded here. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
}

/** Expands `${VAR}` / `$VAR` in a URL from the environment, as pipenv does for sources. */
export function expandUrl(url: string, env: NodeJS.ProcessEnv = process.env): string {
  return url.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, b) => env[a ?? b] ?? '');
}

/** Passwords and tokens inside URLs, so they can be scrubbed from any message. */
function secretsOf(urls: readonly string[]): string[] {
  const secrets: string[] = [];
  for (const url of urls) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
    if (!m) continue;
    for (const part of m[1].split(':')) {
      if (part.length >= 3) {
        secrets.push(part);
        try {
          secrets.push(decodeURIComponent(part));
        } catch {
          // not URL-encoded
        }
      }
    }
  }
  return secrets;
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('****');
  return out;
}

const memoVersions = new Map<string, string>();

/** A version asked of the installer, with the files whose change would change it. */
interface RememberedVersion {
  readonly version: string;
  /** Paths and their mtimes when the version was asked. */
  readonly probes: Array<[string, number]>;
}

/**
 * `pip 24.0` / `uv 0.5.1`: part of the cache key. Asked once per process, and remembered
 * on disk in `memoDir` while the interpreter, pip's package folder and site-packages (or
 * the uv binary) keep their mtimes: installing or upgrading pip changes them.
 */
export function installerVersion(settings: InstallerSettings, memoDir?: string): string {
  // PATH (and pyenv/venv selection) decides which python3 or uv runs.
  const key = JSON.stringify([settings.tool, settings.python, process.env.PATH, process.env.VIRTUAL_ENV,
    process.env.PYENV_VERSION, settings.tool === 'pip' ? process.cwd() : '']);
  const known = memoVersions.get(key);
  if (known) return known;
  const memoFile = memoDir && path.join(memoDir, 'installer-versions.json');
  const remembered = memoFile ? readMemo(memoFile)[key] : undefined;
  if (remembered && remembered.probes.every(([p, mtime]) => mtimeOf(p) === mtime)) {
    memoVersions.set(key, remembered.version);
    return remembered.version;
  }
  // `-m pip --version` loads all of pip (about 1 s); pip's __init__ holds just the version.
  const probeScript = 'import os, sys, pip; d = os.path.dirname(pip.__file__); '
    + 'print(pip.__version__); print(os.path.realpath(sys.executable)); print(d); print(os.path.dirname(d))';
  const r = settings.tool === 'pip'
    ? spawnSync(settings.python, ['-I', '-c', probeScript], { encoding: 'utf8', env: process.env })
    : spawnSync('uv', ['--version'], { encoding: 'utf8', env: process.env });
  if (r.error || r.status !== 0) {
    const what = settings.tool === 'pip' ? `${settings.python} -m pip` : 'uv';
    const fix = settings.tool === 'pip'
      ? 'Install Python 3 with pip on this machine, or point bundling.pythonExecutable at one.'
      : 'Install uv (pip install uv) so that "uv" is on PATH, or use Installer.pip().';
    throw new Error(`${what} is not available (${r.error?.message ?? r.stderr.trim()}). ${fix}`);
  }
  const lines = r.stdout.trim().split('\n');
  const version = `${settings.tool} ${(lines[0].match(/\d+\.\d+(\.\d+)?/) ?? ['?'])[0]}`;
  memoVersions.set(key, version);
  const probePaths = settings.tool === 'pip' ? lines.slice(1) : [whichOnPath('uv')].filter((p): p is string => !!p);
  if (memoFile && probePaths.length > 0) {
    const probes = probePaths.map(p => [p, mtimeOf(p)] as [string, number]).filter(([, m]) => m >= 0);
    writeMemo(memoFile, key, { version, probes });
  }
  return version;
}

function mtimeOf(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function whichOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && fs.existsSync(candidate)) return fs.realpathSync(candidate);
  }
  return undefined;
}

function readMemo(file: string): Record<string, RememberedVersion> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** Rewrites the memo through a temp file and a rename, so concurrent synths never read half of it. */
function writeMemo(file: string, key: string, value: RememberedVersion) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ ...readMemo(file), [key]: value }));
    fs.renameSync(tmp, file);
  } catch {
    // Only an optimisation: the version is asked again next time.
  }
}

/**
 * The installer's command line for one step. Index URLs go in the environment, not the
 * arguments, so credentials never show in a process list or an error message.
 */
export function installCommand(step: InstallStep, requirementsFile: string, targetDir: string, target: PythonTarget,
  settings: InstallerSettings, manifestIndexUrls: readonly string[]): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const indexUrl = settings.indexUrl ?? manifestIndexUrls[0];
  const extra = [...settings.extraIndexUrls, ...(settings.indexUrl ? manifestIndexUrls : manifestIndexUrls.slice(1))];
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  // The user's own pip configuration must not leak into a reproducible build.
  delete env.PIP_FIND_LINKS;
  delete env.PIP_INDEX_URL;
  delete env.PIP_EXTRA_INDEX_URL;
  delete env.UV_INDEX_URL;
  delete env.UV_EXTRA_INDEX_URL;
  env.PIP_CONFIG_FILE = os.devNull;

  if (settings.tool === 'uv') {
    const args = ['pip', 'install', '--target', targetDir, '--python', settings.python, '--no-config', '--quiet'];
    if (!settings.buildFromSource) {
      args.push('--python-version', target.pythonVersion, '--python-platform', uvPlatform(target), '--only-binary', ':all:');
    }
    if (step.noDeps) args.push('--no-deps');
    for (const f of settings.findLinks) args.push('--find-links', f);
    if (indexUrl) env.UV_INDEX_URL = expandUrl(indexUrl);
    if (extra.length) env.UV_EXTRA_INDEX_URL = extra.map(u => expandUrl(u)).join(' ');
    args.push('-r', requirementsFile);
    return { command: 'uv', args, env };
  }

  const args = ['-m', 'pip', 'install', '--target', targetDir, '--no-compile', '--no-warn-script-location',
    '--progress-bar', 'off'];
  if (!settings.buildFromSource) {
    for (const tag of target.platformTags) args.push('--platform', tag);
    args.push('--implementation', 'cp', '--python-version', target.pythonVersion, '--abi', target.abi, '--only-binary=:all:');
  } else {
    args.push('--prefer-binary');
  }
  if (step.noDeps) args.push('--no-deps');
  for (const f of settings.findLinks) args.push('--find-links', f);
  if (indexUrl) env.PIP_INDEX_URL = expandUrl(indexUrl);
  if (extra.length) env.PIP_EXTRA_INDEX_URL = extra.map(u => expandUrl(u)).join(' ');
  args.push('-r', requirementsFile);
  return { command: settings.python, args, env };
}

/** glibc minors uv accepts in `--python-platform <machine>-manylinux_2_N`. */
const UV_MANYLINUX_MINORS = [17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40];

/** uv's target for the runtime: the newest manylinux it knows that the runtime's glibc still loads. */
export function uvPlatform(target: PythonTarget): string {
  const glibcMinor = Number(target.glibc.split('.')[1]);
  const minor = Math.max(...UV_MANYLINUX_MINORS.filter(m => m <= glibcMinor));
  return `${target.machine}-manylinux_2_${minor}`;
}

/**
 * Installs the dependencies into `targetDir` (which must not exist yet), step by step.
 * Output of the installer goes to stderr only on failure, inside the error.
 */
export function installDependencies(spec: DependencySpec, target: PythonTarget, settings: InstallerSettings, targetDir: string, label: string) {
  if (settings.buildFromSource) checkHostMatches(target, settings);
  const secrets = secretsOf([settings.indexUrl ?? '', ...settings.extraIndexUrls, ...spec.manifestIndexUrls].map(u => expandUrl(u)));
  fs.mkdirSync(targetDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(targetDir), '.install-'));
  try {
    spec.steps.forEach((step, i) => {
      const stepDir = i === 0 ? targetDir : path.join(work, `step-${i}`);
      const requirementsFile = path.join(work, `requirements-${i}.txt`);
      fs.writeFileSync(requirementsFile, step.requirements);
      const { command, args, env } = installCommand(step, requirementsFile, stepDir, target, settings, spec.manifestIndexUrls);
      process.stderr.write(`possum-cdk: ${label}: installing ${describeStep(step)} for ${target.runtime} ${target.architecture} with ${settings.tool}\n`);
      const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      if (r.error || r.status !== 0) {
        throw installError(r.error?.message ?? `${r.stderr}\n${r.stdout}`, spec, target, settings, secrets, label);
      }
      // `uv pip install --target` leaves its own lock file at the top of the target; it is
      // not part of any package and must not ship in the bundle.
      if (settings.tool === 'uv') fs.rmSync(path.join(stepDir, '.lock'), { force: true });
      if (stepDir !== targetDir) mergeTree(stepDir, targetDir);
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  neutralizeScripts(targetDir);
}

function describeStep(step: InstallStep): string {
  const lines = step.requirements.split('\n').filter(l => l.trim() && !l.trim().startsWith('#'));
  if (lines.length === 1 && lines[0].startsWith('-r ')) return path.basename(lines[0].slice(3));
  return `${lines.length} ${step.noDeps ? 'pinned ' : ''}requirement${lines.length === 1 ? '' : 's'}`;
}

function installError(output: string, spec: DependencySpec, target: PythonTarget, settings: InstallerSettings,
  secrets: readonly string[], label: string): Error {
  const clean = scrub(output, secrets).trim();
  const from = spec.manifestFile ? ` from ${spec.manifestFile}` : '';
  const missing = /No matching distribution found for ([^\s;]+)/.exec(clean) ?? /Because (\S+) was not found/.exec(clean)
    ?? /No solution found when resolving dependencies:[\s\S]*?Because (?:there (?:is|are) no (?:version|versions) of |only )?([A-Za-z0-9._-]+)/.exec(clean);
  if (missing && !settings.buildFromSource) {
    return new Error(
      `${label}: no wheel of ${missing[1]}${from} is compatible with ${target.runtime} on ${target.architecture} ` +
      `(Python ${target.pythonVersion}, ABI ${target.abi}, platforms ${target.platformTags[0]} and older manylinux tags). ` +
      'possum-cdk installs wheels only, so that no setup.py runs on this machine. Pin a version that has a manylinux wheel, ' +
      'or set bundling.buildFromSource to true to build sdists here (this machine must then match the runtime and architecture).\n' +
      `${settings.tool} said:\n${tail(clean)}`);
  }
  if (/DO NOT MATCH THE HASHES|hash mismatch|Hash mismatch/i.test(clean)) {
    return new Error(`${label}: ${settings.tool} refused a package whose hash does not match the lock${from}; ` +
      `the lock is out of date or a download was tampered with. Regenerate the lock.\n${settings.tool} said:\n${tail(clean)}`);
  }
  return new Error(`${label}: installing the dependencies${from} with ${settings.tool} failed.\n${settings.tool} said:\n${tail(clean)}`);
}

function tail(text: string, lines = 25): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** With buildFromSource the host interpreter builds for itself, so it has to be the runtime's twin. */
function checkHostMatches(target: PythonTarget, settings: InstallerSettings) {
  const r = spawnSync(settings.python, ['-c', 'import platform, sys; print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], platform.machine()))'],
    { encoding: 'utf8', env: process.env });
  const [version, machine] = (r.stdout ?? '').trim().split(' ');
  if (version !== target.pythonVersion || machine !== target.machine || process.platform !== 'linux') {
    throw new Error(
      `bundling.buildFromSource builds sdists with this machine's ${settings.python} (Python ${version ?? '?'} on ${process.platform} ${machine ?? '?'}), ` +
      `but the function runs ${target.runtime} on ${target.architecture}; the built code would not load there. ` +
      `Build on Linux ${target.machine} with Python ${target.pythonVersion}, or leave buildFromSource off and use wheels.`);
  }
}

/** Moves a second install step's files into the first's tree (folders merge, files replace). */
function mergeTree(from: string, to: string) {
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name);
    const dst = path.join(to, name);
    if (fs.statSync(src).isDirectory() && fs.existsSync(dst) && fs.statSync(dst).isDirectory()) {
      mergeTree(src, dst);
    } else {
      fs.rmSync(dst, { recursive: true, force: true });
      fs.renameSync(src, dst);
    }
  }
}

/**
 * pip writes console scripts to bin/ with a shebang naming this machine's interpreter,
 * which would leak the build path and differ between machines. Point them at Lambda's.
 */
function neutralizeScripts(targetDir: string) {
  const bin = path.join(targetDir, 'bin');
  if (!fs.existsSync(bin)) return;
  for (const name of fs.readdirSync(bin)) {
    const file = path.join(bin, name);
    if (!fs.statSync(file).isFile()) continue;
    const content = fs.readFileSync(file);
    const firstLine = content.subarray(0, Math.max(0, content.indexOf(10))).toString('utf8');
    if (/^#!.*python[0-9.]*\s*$/.test(firstLine)) {
      const rest = content.subarray(content.indexOf(10));
      fs.writeFileSync(file, Buffer.concat([Buffer.from('#!/usr/bin/env python3'), rest]));
    }
  }
}
