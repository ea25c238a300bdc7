import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandUrl, redactUrl, scrub, secretsOf } from './credentials';
import { DependencySpec, InstallStep } from './dependency-spec';
import { IndexConfig } from './index-config';
import { Classified, classifyPip, classifyUv, toolErrorLines } from './install-errors';
import { satisfies } from './pep440';
import { PythonTarget } from './target';
import { uvExecutable } from './uv-tool';

/** How dependencies are installed: the construct's options. Plain data (it crosses processes). */
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

/** Where packages come from for one bundle, after every source of settings is applied. */
export interface IndexSettings {
  /** The index; undefined means PyPI. May contain credentials. */
  readonly indexUrl?: string;
  /** May contain credentials. */
  readonly extraIndexUrls: readonly string[];
  readonly findLinks: readonly string[];
  readonly noIndex: boolean;
  /** pip's other network settings from the user's configuration, as PIP_* variables. */
  readonly pipNetwork: Readonly<Record<string, string>>;
  /** Where the index URL came from, for messages: "bundling.indexUrl", "PIP_INDEX_URL", "/etc/pip.conf [global]", ... */
  readonly indexOrigin: string;
}

/** PyPI's own addresses: a manifest naming one means "the default index", which the user's configuration may replace. */
const PYPI = /^https?:\/\/(pypi\.org|pypi\.python\.org)\/simple\/?$/i;

/**
 * The index settings for a bundle. Precedence: the construct's options, then the indexes
 * a manifest names (Pipfile `[[source]]`; a source that is PyPI itself stands for the
 * default index, so a configured mirror replaces it), then the user's pip or uv
 * configuration (see index-config.ts), then PyPI.
 */
export function effectiveIndexes(settings: InstallerSettings, manifestIndexUrls: readonly string[], config: IndexConfig): IndexSettings {
  const manifest = manifestIndexUrls.filter(u => !PYPI.test(expandUrl(u).trim()));
  let indexUrl: string | undefined;
  let indexOrigin: string;
  let extra: string[];
  if (settings.indexUrl) {
    indexUrl = settings.indexUrl;
    indexOrigin = 'bundling.indexUrl';
    extra = [...manifest];
  } else if (manifest.length > 0) {
    indexUrl = manifest[0];
    indexOrigin = 'the manifest\'s package sources';
    extra = manifest.slice(1);
  } else {
    indexUrl = config.indexUrl;
    indexOrigin = config.indexUrl ? config.sources['index-url'] ?? 'your configuration' : 'the default, PyPI';
    extra = [];
  }
  const extraIndexUrls = [...(settings.extraIndexUrls.length > 0 ? settings.extraIndexUrls : config.extraIndexUrls), ...extra];
  return {
    indexUrl,
    extraIndexUrls,
    findLinks: settings.findLinks.length > 0 ? settings.findLinks : config.findLinks,
    noIndex: config.noIndex && !settings.indexUrl && manifest.length === 0,
    pipNetwork: config.pipNetwork,
    indexOrigin,
  };
}

/** What of the index settings decides what is installed (credentials removed), for the cache key. */
export function indexIdentity(indexes: IndexSettings, findLinksIdentity: (location: string) => unknown): unknown {
  return {
    // Unexpanded: a ${TOKEN} stays a name; only user:password@ parts are removed.
    indexUrl: indexes.indexUrl && redactUrl(indexes.indexUrl),
    extraIndexUrls: indexes.extraIndexUrls.map(redactUrl),
    findLinks: indexes.findLinks.map(findLinksIdentity),
    noIndex: indexes.noIndex,
  };
}

/** A readable name of the index, without credentials. */
export function describeIndex(indexes: IndexSettings): string {
  const main = indexes.noIndex ? 'no index (no-index is set)' : redactUrl(indexes.indexUrl ?? 'https://pypi.org/simple');
  return `${main} (from ${indexes.indexOrigin})${indexes.extraIndexUrls.length ? ` and ${indexes.extraIndexUrls.map(redactUrl).join(', ')}` : ''}`;
}

/** The pip environment: isolated from the user's pip configuration except the index settings given. */
export function pipEnvironment(indexes: IndexSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The user's other pip settings (--user, require-virtualenv, no-binary, ...) would change
    // or break what is installed; where the cache lives does not.
    if (!k.startsWith('PIP_') || k === 'PIP_CACHE_DIR' || k === 'PIP_NO_CACHE_DIR') env[k] = v;
  }
  Object.assign(env, indexes.pipNetwork);
  env.PIP_CONFIG_FILE = os.devNull;
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  if (indexes.indexUrl) env.PIP_INDEX_URL = expandUrl(indexes.indexUrl);
  if (indexes.extraIndexUrls.length) env.PIP_EXTRA_INDEX_URL = indexes.extraIndexUrls.map(u => expandUrl(u)).join(' ');
  if (indexes.findLinks.length) env.PIP_FIND_LINKS = indexes.findLinks.join(' ');
  if (indexes.noIndex) env.PIP_NO_INDEX = '1';
  return env;
}

const UV_KEPT = ['UV_CACHE_DIR', 'UV_NO_CACHE', 'UV_NATIVE_TLS', 'UV_HTTP_TIMEOUT', 'UV_HTTP_RETRIES', 'UV_INSECURE_HOST', 'UV_KEYRING_PROVIDER'];

/** The uv environment: isolated from the user's uv configuration except the index settings given. */
export function uvEnvironment(indexes: IndexSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Like pip's, uv's own settings stay out, but for where its cache is and how it reaches the network.
    if (!k.startsWith('UV_') || UV_KEPT.includes(k)) env[k] = v;
  }
  if (indexes.indexUrl) env.UV_INDEX_URL = expandUrl(indexes.indexUrl);
  if (indexes.extraIndexUrls.length) env.UV_EXTRA_INDEX_URL = indexes.extraIndexUrls.map(u => expandUrl(u)).join(' ');
  if (indexes.noIndex) env.UV_NO_INDEX = '1';
  // pip's certificate setting, for uv answering a question on pip's behalf.
  if (indexes.pipNetwork.PIP_CERT && !env.SSL_CERT_FILE) env.SSL_CERT_FILE = indexes.pipNetwork.PIP_CERT;
  return env;
}

/**
 * The installer's command line for one step. Index URLs go in the environment, not the
 * arguments, so credentials never show in a process list or an error message.
 */
export function installCommand(step: InstallStep, requirementsFile: string, targetDir: string, target: PythonTarget,
  settings: InstallerSettings, indexes: IndexSettings, uv: () => string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (settings.tool === 'uv') {
    const args = ['pip', 'install', '--target', targetDir, '--python', settings.python, '--no-config', '--quiet'];
    if (!settings.buildFromSource) {
      args.push('--python-version', target.pythonVersion, '--python-platform', uvPlatform(target), '--only-binary', ':all:');
    }
    if (step.noDeps) args.push('--no-deps');
    for (const f of indexes.findLinks) args.push('--find-links', f);
    args.push('-r', requirementsFile);
    return { command: uv(), args, env: uvEnvironment(indexes) };
  }
  const args = ['-m', 'pip', 'install', '--target', targetDir, '--no-compile', '--no-warn-script-location',
    '--progress-bar', 'off'];
  if (!settings.buildFromSource) {
    for (const tag of target.platformTags) args.push('--platform', tag);
    args.push('--implementation', 'cp', '--python-version', target.pythonVersion, '--abi', target.abi, '--only-binary=:all:');
  } else {
    args.push('--prefer-binary');
  }
  if (step.noDeps) {
    // The set is already decided for the target; pip would check Requires-Python against
    // the Python running it. Installed packages are checked against the target afterwards.
    args.push('--no-deps', '--ignore-requires-python');
  }
  args.push('-r', requirementsFile);
  return { command: settings.python, args, env: pipEnvironment(indexes) };
}

/** glibc minors uv accepts in `--python-platform <machine>-manylinux_2_N`. */
const UV_MANYLINUX_MINORS = [17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40];

/** uv's target for the runtime: the newest manylinux it knows that the runtime's glibc still loads. */
export function uvPlatform(target: PythonTarget): string {
  const glibcMinor = Number(target.glibc.split('.')[1]);
  const minor = Math.max(...UV_MANYLINUX_MINORS.filter(m => m <= glibcMinor));
  return `${target.machine}-manylinux_2_${minor}`;
}

/** Everything an install needs besides the spec and the target. */
export interface InstallContext {
  readonly settings: InstallerSettings;
  readonly indexes: IndexSettings;
  readonly label: string;
  readonly cacheRoot: string;
}

/**
 * Installs the dependencies into `targetDir` (which must not exist yet), step by step,
 * then checks every installed distribution's Requires-Python against the target.
 * Output of the installer goes to stderr only on failure, inside the error.
 */
export function installDependencies(spec: DependencySpec, target: PythonTarget, targetDir: string, ctx: InstallContext) {
  const { settings, indexes, label } = ctx;
  if (settings.buildFromSource) checkHostMatches(target, settings);
  const secrets = secretsOf([settings.indexUrl ?? '', indexes.indexUrl ?? '', ...indexes.extraIndexUrls, ...settings.extraIndexUrls,
    ...spec.manifestIndexUrls].map(u => expandUrl(u)));
  const uv = () => uvExecutable(ctx.cacheRoot, settings.python, pipEnvironment(indexes));
  fs.mkdirSync(targetDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(path.dirname(targetDir), '.install-'));
  try {
    spec.steps.forEach((step, i) => {
      const stepDir = i === 0 ? targetDir : path.join(work, `step-${i}`);
      const requirementsFile = path.join(work, `requirements-${i}.txt`);
      fs.writeFileSync(requirementsFile, step.requirements);
      const { command, args, env } = installCommand(step, requirementsFile, stepDir, target, settings, indexes, uv);
      process.stderr.write(`possum-cdk: ${label}: installing ${describeStep(step)} for ${target.runtime} ${target.architecture} with ${settings.tool}\n`);
      const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: spec.manifestFile ? path.dirname(spec.manifestFile) : undefined });
      if (r.error || r.status !== 0) {
        const output = scrub(r.error?.message ?? `${r.stderr}\n${r.stdout}`, secrets);
        throw new Error(explainFailure(output, spec, target, ctx, uv, secrets));
      }
      // `uv pip install --target` leaves its own lock file at the top of the target; it is
      // not part of any package and must not ship in the bundle.
      if (settings.tool === 'uv') fs.rmSync(path.join(stepDir, '.lock'), { force: true });
      if (stepDir !== targetDir) mergeTree(stepDir, targetDir);
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  checkRequiresPython(targetDir, target, spec, label);
  neutralizeScripts(targetDir);
}

function describeStep(step: InstallStep): string {
  const lines = step.requirements.split('\n').filter(l => l.trim() && !l.trim().startsWith('#'));
  if (lines.length === 1 && lines[0].startsWith('-r ')) return path.basename(lines[0].slice(3));
  return `${lines.length} ${step.noDeps ? 'pinned ' : ''}requirement${lines.length === 1 ? '' : 's'}`;
}

/**
 * The message for a failed install: the cause in words (network, credentials, no such
 * package or version, no wheel for the target, Requires-Python, hash), the construct, the
 * manifest, and the tool's own error lines. pip's ambiguous "no matching distribution" is
 * asked of uv, which tells the causes apart.
 */
function explainFailure(output: string, spec: DependencySpec, target: PythonTarget, ctx: InstallContext, uv: () => string,
  secrets: readonly string[]): string {
  const tool = ctx.settings.tool;
  let found: Classified = tool === 'pip' ? classifyPip(output) : classifyUv(output);
  let extra = '';
  if (found.cause === 'not-found' && found.requirement) {
    const diagnosis = diagnoseWithUv(found.requirement, target, ctx, uv, secrets);
    if (diagnosis) {
      found = { ...diagnosis.classified, requirement: diagnosis.classified.requirement ?? found.requirement };
      extra = `\nuv, asked the same question, said:\n${toolErrorLines(diagnosis.output, 8)}`;
    }
  }
  // "Not found" also is what both tools say when an index refuses the credentials it was
  // given: ask the index for the project page itself.
  if ((found.cause === 'not-found' || found.cause === 'no-such-package') && found.requirement) {
    const answer = probeProjectPage(ctx.indexes, found.requirement);
    if (answer) {
      found = { ...found, cause: answer };
      if (answer === 'auth') extra += '\nThe index answered HTTP 401/403 for the project\'s page.';
    }
  }
  return `${installFailureMessage(found, spec, target, ctx)}\n${tool} said:\n${toolErrorLines(output)}${extra}`;
}

/** Asks uv whether one requirement can be satisfied for the target, with the same indexes. */
function diagnoseWithUv(requirement: string, target: PythonTarget, ctx: InstallContext, uv: () => string,
  secrets: readonly string[]): { classified: Classified; output: string } | undefined {
  let binary: string;
  try {
    binary = uv();
  } catch {
    return undefined;
  }
  const args = ['pip', 'compile', '-', '--no-config', '--no-deps', '--no-header', '--quiet', '--python-version', target.pythonVersion,
    '--python-platform', uvPlatform(target), '--index-strategy', 'unsafe-best-match'];
  if (!ctx.settings.buildFromSource) args.push('--only-binary', ':all:');
  for (const f of ctx.indexes.findLinks) args.push('--find-links', f);
  const r = spawnSync(binary, args, { input: `${requirement}\n`, env: uvEnvironment(ctx.indexes), encoding: 'utf8' });
  if (r.error) return undefined;
  const output = scrub(`${r.stderr}\n${r.stdout}`, secrets);
  if (r.status === 0) return { classified: { cause: 'unknown' }, output };
  return { classified: classifyUv(output), output };
}

/**
 * Asks each index for the project's page (PEP 503) and says what the answers mean: a
 * 401/403 from any is `auth`; a refused connection from all is `network`; 404 from all is
 * `no-such-package`. Runs in a child process (this code is synchronous) with a short timeout.
 */
function probeProjectPage(indexes: IndexSettings, requirement: string): 'auth' | 'network' | 'no-such-package' | undefined {
  if (indexes.noIndex) return undefined;
  const project = (/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1] ?? '').toLowerCase().replace(/[-_.]+/g, '-');
  if (!project) return undefined;
  const urls = [indexes.indexUrl ?? 'https://pypi.org/simple', ...indexes.extraIndexUrls].map(u => expandUrl(u));
  const script = `
    const urls = JSON.parse(process.env.POSSUM_PROBE_URLS);
    Promise.all(urls.map(async raw => {
      try {
        const u = new URL(raw.replace(/\\/?$/, '/') + process.env.POSSUM_PROBE_PROJECT + '/');
        const headers = {};
        if (u.username || u.password) headers.authorization = 'Basic ' + Buffer.from(decodeURIComponent(u.username) + ':' + decodeURIComponent(u.password)).toString('base64');
        u.username = ''; u.password = '';
        const r = await fetch(u, { headers, signal: AbortSignal.timeout(10000) });
        return r.status;
      } catch (e) { return 0; }
    })).then(s => process.stdout.write(JSON.stringify(s)));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, POSSUM_PROBE_URLS: JSON.stringify(urls), POSSUM_PROBE_PROJECT: project },
    encoding: 'utf8',
    timeout: 20_000,
  });
  let statuses: number[];
  try {
    statuses = JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
  if (statuses.some(s => s === 401 || s === 403)) return 'auth';
  if (statuses.every(s => s === 0)) return 'network';
  if (statuses.every(s => s === 404)) return 'no-such-package';
  return undefined;
}

/** The first sentence of an install error, by cause. */
export function installFailureMessage(c: Classified, spec: DependencySpec, target: PythonTarget, ctx: InstallContext): string {
  const { label, settings, indexes } = ctx;
  const manifest = spec.manifestFile ?? 'the function\'s folder';
  const index = describeIndex(indexes);
  const what = c.requirement ? ` ${c.requirement}` : '';
  switch (c.cause) {
    case 'network':
      return `${label}: could not reach the package index ${index} to install the dependencies of ${manifest}. ` +
        'Check the network connection, a proxy (HTTPS_PROXY) and the index URL.';
    case 'auth':
      return `${label}: the package index ${index} refused the credentials (HTTP 401/403) while installing the dependencies of ${manifest}. ` +
        `Fix or renew them where the index URL is set (${indexes.indexOrigin}); a CodeArtifact token expires after 12 hours ` +
        '("aws codeartifact login --tool pip" writes a new one).';
    case 'no-such-package':
      return `${label}: there is no package${what} on ${index}, yet ${manifest} requires it. ` +
        'Check the spelling of its name, or add the index that serves it (bundling.indexUrl or extraIndexUrls, PIP_INDEX_URL or pip.conf).';
    case 'no-such-version':
      return `${label}:${what} does not exist on ${index}, yet ${manifest} requires it. Require a version that the index has.`;
    case 'no-wheel':
      return `${label}: no wheel of${what || ' a package'} from ${manifest} is compatible with ${target.runtime} on ${target.architecture} ` +
        `(Python ${target.pythonVersion}, ABI ${target.abi}, platforms ${target.platformTags[0]} and older manylinux tags). ` +
        (settings.buildFromSource
          ? 'Even building from source found nothing to build.'
          : 'possum-cdk installs wheels only, so that no setup.py runs on this machine. Pin a version that has a manylinux wheel, ' +
            'or set bundling.buildFromSource to true to build sdists here (this machine must then match the runtime and architecture).');
    case 'requires-python':
      return `${label}:${what || ' a package'} from ${manifest} requires Python ${c.requiresPython ?? '(another version)'}, ` +
        `but the function's runtime ${target.runtime} is Python ${target.pythonVersion}. ` +
        `Require a version that supports Python ${target.pythonVersion}, or choose a runtime it supports.`;
    case 'not-found':
      return `${label}:${what} from ${manifest} was not found on ${index} for ${target.runtime} on ${target.architecture}: ` +
        'the package or that version does not exist there, it has no wheel for the target, or the index could not be reached or ' +
        'refused the credentials (pip does not say which).';
    case 'hash-mismatch':
      return `${label}: ${settings.tool} refused a package whose hash does not match the lock (${manifest})${c.requirement ? `: ${c.requirement}` : ''}; ` +
        'the lock is out of date or a download was tampered with. Regenerate the lock.';
    default:
      return `${label}: installing the dependencies of ${manifest} with ${settings.tool} from ${index} failed.`;
  }
}

/**
 * Every installed distribution's Requires-Python must admit the target: pip was told to
 * skip that check (it would test the Python running it), and uv does not make it for
 * pinned sets installed without dependencies.
 */
function checkRequiresPython(treeDir: string, target: PythonTarget, spec: DependencySpec, label: string) {
  for (const name of fs.readdirSync(treeDir)) {
    if (!name.endsWith('.dist-info')) continue;
    let metadata: string;
    try {
      metadata = fs.readFileSync(path.join(treeDir, name, 'METADATA'), 'utf8');
    } catch {
      continue;
    }
    const header = metadata.split(/\r?\n\r?\n/)[0];
    const requires = /^Requires-Python:\s*(.+)$/mi.exec(header)?.[1]?.trim();
    if (!requires) continue;
    let ok: boolean;
    try {
      ok = satisfies(target.pythonVersion, requires, { prereleases: true });
    } catch {
      continue; // a specifier pip itself would not read: not ours to judge
    }
    if (!ok) {
      const pkg = `${/^Name:\s*(.+)$/mi.exec(header)?.[1]?.trim() ?? name}==${/^Version:\s*(.+)$/mi.exec(header)?.[1]?.trim() ?? '?'}`;
      throw new Error(`${label}: ${pkg} from ${spec.manifestFile ?? 'the function\'s folder'} requires Python ${requires}, ` +
        `but the function's runtime ${target.runtime} is Python ${target.pythonVersion}. ` +
        `Require a version of it that supports Python ${target.pythonVersion}, or choose a runtime it supports.`);
    }
  }
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
