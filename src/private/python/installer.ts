import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandUrl, redactUrl, scrub, secretsOf } from './credentials';
import { DependencySpec, InstallStep, lockedSteps } from './dependency-spec';
import { IndexConfig } from './index-config';
import type { ProbeJob } from './index-probe';
import { Classified, classifyPip, classifyUv, toolErrorLines } from './install-errors';
import { satisfies } from './pep440';
import { isPypiItself, pypiIndexConfig } from './pypi-index';
import { packagesWithoutWheels, ResolveCommand, resolveCommand, runResolve } from './resolver';
import { buildWheel, isPurePythonWheel, pipRequirement, SourceBuildPolicy } from './source-builds';
import { PythonTarget } from './target';
import { uvExecutable } from './uv-tool';
import { writeFileAtomic } from '../atomic-file';
import { compiledScript } from '../compiled-script';
import { progress } from '../progress';
import { withPipProxy } from '../proxy';

/** How dependencies are installed: the construct's options. Plain data (it crosses processes). */
export interface InstallerSettings {
  readonly tool: 'pip' | 'uv';
  /**
   * How a package is looked up when there are several indexes: `every-index` compares them
   * all, as pip does; `first-index` takes the first index that has the package, as uv does.
   */
  readonly indexStrategy: 'every-index' | 'first-index';
  /** What may be built from source on this machine (ALL: the machine must match the runtime). */
  readonly sourceBuilds: SourceBuildPolicy;
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
export function effectiveIndexes(settings: InstallerSettings, manifestIndexUrls: readonly string[], config: IndexConfig,
  manifestExtraIndexUrls: readonly string[] = []): IndexSettings {
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
  // A requirements file's --extra-index-url adds to whichever main index applies, as in pip.
  const extraIndexUrls = [...new Set([...(settings.extraIndexUrls.length > 0 ? settings.extraIndexUrls : config.extraIndexUrls), ...extra,
    ...manifestExtraIndexUrls])];
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
  if (env.PIP_CERT) {
    // requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace pip's `cert`; the user's
    // SSL_CERT_FILE is trusted along with it, as for uv.
    env.PIP_CERT = trustBundle([env.PIP_CERT, env.SSL_CERT_FILE]);
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
  }
  env.PIP_CONFIG_FILE = os.devNull;
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  if (indexes.indexUrl) env.PIP_INDEX_URL = expandUrl(indexes.indexUrl);
  if (indexes.extraIndexUrls.length) env.PIP_EXTRA_INDEX_URL = indexes.extraIndexUrls.map(u => expandUrl(u)).join(' ');
  if (indexes.findLinks.length) env.PIP_FIND_LINKS = indexes.findLinks.join(' ');
  if (indexes.noIndex) env.PIP_NO_INDEX = '1';
  return withDnsRetry(withoutColour(env));
}

/**
 * One CA bundle file trusting every certificate the named bundles hold: the file itself when
 * only one can be read (or none), else their concatenation, written once under the temporary
 * folder and named by its content.
 */
export function trustBundle(files: ReadonlyArray<string | undefined>): string {
  const named = [...new Set(files.filter((f): f is string => !!f))];
  const readable = named.flatMap(f => {
    try {
      return [fs.readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
  if (readable.length < 2) return named[0] ?? '';
  const text = readable.map(t => t.endsWith('\n') ? t : `${t}\n`).join('');
  const file = path.join(os.tmpdir(), `possum-cdk-ca-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 32)}.pem`);
  if (!fs.existsSync(file)) writeFileAtomic(file, text);
  return file;
}

/**
 * Plain text from the installers: their output is quoted in messages and logs, where colour
 * codes are noise (a CDK app's environment may ask for colour, FORCE_COLOR).
 */
function withoutColour(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  delete env.FORCE_COLOR;
  delete env.CLICOLOR_FORCE;
  env.NO_COLOR = '1';
  return env;
}

/**
 * The environment with a short DNS retry for glibc's resolver (`RES_OPTIONS=timeout:1
 * attempts:5`), unless the user or /etc/resolv.conf sets one. Several installers start at
 * once, each looking up the index's hosts, and resolvers behind NATs, in containers and
 * sandboxes drop some of such bursts: with glibc's default a lost reply costs five seconds,
 * with this one second, and a lookup still has five seconds in all (uv and pip also retry
 * a failed connection).
 */
export function withDnsRetry(env: NodeJS.ProcessEnv, resolvConf = readResolvConf()): NodeJS.ProcessEnv {
  if (env.RES_OPTIONS !== undefined || /^\s*options\b.*\b(timeout|attempts):/m.test(resolvConf)) return env;
  return { ...env, RES_OPTIONS: 'timeout:1 attempts:5' };
}

function readResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

const UV_KEPT = ['UV_CACHE_DIR', 'UV_NO_CACHE', 'UV_NATIVE_TLS', 'UV_HTTP_TIMEOUT', 'UV_HTTP_RETRIES', 'UV_INSECURE_HOST', 'UV_KEYRING_PROVIDER'];

/**
 * The uv environment: isolated from the user's uv configuration except the index settings
 * given. PyPI as the main index comes with PyPI's cache policy (see pypi-index.ts), from a
 * file under `cacheRoot`.
 */
export function uvEnvironment(indexes: IndexSettings, cacheRoot: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Like pip's, uv's own settings stay out, but for where its cache is and how it reaches the network.
    if (!k.startsWith('UV_') || UV_KEPT.includes(k)) env[k] = v;
  }
  const indexUrl = indexes.indexUrl ? expandUrl(indexes.indexUrl) : undefined;
  if (indexUrl && !isPypiItself(indexUrl)) env.UV_INDEX_URL = indexUrl;
  else if (!indexes.noIndex) env.UV_CONFIG_FILE = pypiIndexConfig(cacheRoot);
  if (indexes.extraIndexUrls.length) env.UV_EXTRA_INDEX_URL = indexes.extraIndexUrls.map(u => expandUrl(u)).join(' ');
  if (indexes.noIndex) env.UV_NO_INDEX = '1';
  // uv looks for an interpreter of the target's version and would download one; the
  // target's version only decides markers and tags here, and builds use this machine's.
  env.UV_PYTHON_DOWNLOADS = 'never';
  // pip's network settings go with pip's index: uv resolves for pip (Installer.pip()), and
  // uses pip's configured index when its own configuration names none. pip's `cert` is
  // trusted along with an SSL_CERT_FILE set for everything else; the others fill in what
  // the user left unset.
  const pip = indexes.pipNetwork;
  if (pip.PIP_CERT) env.SSL_CERT_FILE = trustBundle([pip.PIP_CERT, env.SSL_CERT_FILE]);
  if (pip.PIP_CLIENT_CERT) env.SSL_CLIENT_CERT ??= pip.PIP_CLIENT_CERT;
  if (pip.PIP_TRUSTED_HOST) env.UV_INSECURE_HOST ??= pip.PIP_TRUSTED_HOST;
  if (pip.PIP_TIMEOUT ?? pip.PIP_DEFAULT_TIMEOUT) env.UV_HTTP_TIMEOUT ??= pip.PIP_TIMEOUT ?? pip.PIP_DEFAULT_TIMEOUT;
  if (pip.PIP_RETRIES) env.UV_HTTP_RETRIES ??= pip.PIP_RETRIES;
  return withDnsRetry(withoutColour(withPipProxy(env, pip.PIP_PROXY)));
}

/**
 * The installer's command line for one step of pinned requirements (installed without
 * resolving: the set is already decided for the target). Index URLs go in the
 * environment, not the arguments, so credentials never show in a process list or an error.
 */
export function installCommand(requirementsFile: string, targetDir: string, target: PythonTarget,
  settings: InstallerSettings, indexes: IndexSettings, uv: () => string,
  cacheRoot: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const forTarget = settings.sourceBuilds !== 'ALL';
  if (settings.tool === 'uv') {
    // Copies, not uv's default hardlinks into its own cache: the cached tree must not share
    // files with a cache that anything else (another uv, a clean-up, an edit in a venv linked
    // to it) may change. Not `clone` either: where the file system cannot clone, uv hardlinks.
    const args = ['pip', 'install', '--target', targetDir, '--python', settings.python, '--no-config', '--quiet', '--no-deps', '--link-mode', 'copy'];
    if (settings.indexStrategy === 'every-index') args.push('--index-strategy', 'unsafe-best-match');
    if (forTarget) args.push('--python-version', target.pythonVersion, '--python-platform', uvPlatform(target), '--only-binary', ':all:');
    for (const f of indexes.findLinks) args.push('--find-links', f);
    args.push('-r', requirementsFile);
    return { command: uv(), args, env: uvEnvironment(indexes, cacheRoot) };
  }
  // pip would check Requires-Python against the Python running it: installed packages are
  // checked against the target afterwards instead.
  const args = ['-m', 'pip', 'install', '--target', targetDir, '--no-compile', '--no-warn-script-location',
    '--progress-bar', 'off', '--no-deps', '--ignore-requires-python'];
  if (forTarget) {
    for (const tag of target.platformTags) args.push('--platform', tag);
    args.push('--implementation', 'cp', '--python-version', target.pythonVersion, '--abi', target.abi, '--only-binary=:all:');
  } else {
    args.push('--prefer-binary');
  }
  args.push('-r', requirementsFile);
  return { command: settings.python, args, env: pipEnvironment(indexes) };
}

/** glibc minors uv accepts in `--python-platform <machine>-manylinux_2_N`. */
const UV_MANYLINUX_MINORS = [17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40];

function glibcMinorOf(target: PythonTarget): number {
  return Number(target.glibc.split('.')[1]);
}

/** The newest manylinux glibc minor uv can name that the runtime's glibc still loads. */
function uvManylinuxMinor(target: PythonTarget): number {
  return Math.max(...UV_MANYLINUX_MINORS.filter(m => m <= glibcMinorOf(target)));
}

/** uv's target for the runtime: the newest manylinux it knows that the runtime's glibc still loads. */
export function uvPlatform(target: PythonTarget): string {
  return `${target.machine}-manylinux_2_${uvManylinuxMinor(target)}`;
}

/**
 * Whether uv's platform for the target stops short of the runtime's glibc, so that a wheel
 * tagged in between (manylinux_2_24 for python3.10 and 3.11, whose glibc is 2.26) is one uv
 * cannot select and pip can.
 */
export function uvMissesTags(target: PythonTarget): boolean {
  return uvManylinuxMinor(target) < glibcMinorOf(target);
}

/** Everything an install needs besides the spec and the target. */
export interface InstallContext {
  readonly settings: InstallerSettings;
  readonly indexes: IndexSettings;
  readonly label: string;
  readonly cacheRoot: string;
}

/**
 * Installs the dependencies into `targetDir` (which must not exist yet): an unlocked
 * manifest is first resolved for the target by uv; then every pinned step is installed
 * without resolving. A pin with no wheel for the target, and a path, git or URL source, is
 * built into a wheel here when the source-build policy allows it. Finally every installed
 * distribution's Requires-Python is checked against the target.
 */
export function installDependencies(spec: DependencySpec, target: PythonTarget, targetDir: string, ctx: InstallContext) {
  const { settings, indexes, label } = ctx;
  if (settings.sourceBuilds === 'ALL') checkHostMatches(target, settings);
  const secrets = secretsOfContext(spec, ctx);
  const uv = () => uvExecutable(ctx.cacheRoot, settings.python, pipEnvironment(indexes));
  const cwd = spec.manifestFile ? path.dirname(spec.manifestFile) : process.cwd();
  fs.mkdirSync(targetDir, { recursive: true });
  const resolved = pinnedSteps(spec, target, ctx);
  try {
    installPinned(resolved);
  } catch (e: any) {
    // The newest version of a package may fit the target only as an sdist that cannot be built
    // here (numpy for python3.11, whose newest wheels need a newer glibc). The reference tools
    // would take it and fail the same way; a bundle that works is more use: resolve binary first
    // (the newest version of each package with a wheel for the target) and say what changed.
    if (!spec.resolve || !e?.sourceBuildFailed || settings.sourceBuilds === 'NONE') throw e;
    const first = new Map(resolved.flatMap(st => st.requirements.split('\n')).map(pinOf).filter(isPin));
    const steps = pinnedSteps(spec, target, ctx, true);
    const changed = steps.flatMap(st => st.requirements.split('\n')).map(pinOf).filter(isPin)
      .filter(([name, version]) => first.has(name) && first.get(name) !== version).map(([name, version]) => `${name} ${first.get(name)} -> ${version}`);
    if (changed.length === 0) throw e;
    progress(`${label}: warning: ${changed.join(', ')}: the newest version has no wheel for ${target.runtime} on ` +
      `${target.architecture} and its source cannot be built here, so the newest version with a wheel is installed. Pin it in ` +
      `${spec.manifestFile ?? 'the manifest'} to choose.`);
    fs.rmSync(targetDir, { recursive: true, force: true });
    fs.mkdirSync(targetDir, { recursive: true });
    installPinned(steps);
  }
  checkRequiresPython(targetDir, target, spec, label);
  neutralizeScripts(targetDir);
  return;

  function installPinned(steps: InstallStep[]) {
    const work = fs.mkdtempSync(path.join(path.dirname(targetDir), '.install-'));
    try {
      const buildCtx = { python: settings.python, pipEnv: pipEnvironment(indexes), cacheRoot: ctx.cacheRoot, cwd, workDir: work };
      const builtWheels: string[] = [];
      const gap = settings.tool === 'uv' && settings.sourceBuilds !== 'ALL' && uvMissesTags(target);
      const gapDirs: string[] = [];
      let index = 0;
      const install = (step: InstallStep, stepDir: string, tool = settings.tool): string | undefined => {
        const requirementsFile = path.join(work, `requirements-${index++}.txt`);
        fs.writeFileSync(requirementsFile, tool === 'pip' ? step.requirements.split('\n').map(pipRequirement).join('\n') : step.requirements);
        const { command, args, env } = installCommand(requirementsFile, stepDir, target, { ...settings, tool }, indexes, uv, ctx.cacheRoot);
        const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd });
        return r.error || r.status !== 0 ? scrub(r.error?.message ?? `${r.stderr}\n${r.stdout}`, secrets) : undefined;
      };
      steps.forEach((original, i) => {
        let step = settings.sourceBuilds === 'ALL' || original.hashed ? original : prebuildReferences(original, spec, target, ctx, buildCtx, builtWheels);
        if (step.requirements.trim() === '') return;
        const stepDir = i === 0 ? targetDir : path.join(work, `step-${i}`);
        progress(`${label}: installing ${describeStep(step)} for ${target.runtime} ${target.architecture} with ${settings.tool}`);
        for (;;) {
          const failed = install(step, stepDir);
          if (!failed) break;
          const diagnosis = diagnose(failed, settings.tool, target, ctx, uv, secrets);
          // A pin whose only wheels for the runtime's glibc are tagged where uv's platform names
          // stop short (manylinux_2_18 to 2_26 for python3.10 and 3.11): pip, given every tag the
          // runtime loads, takes the wheel the reference tools take.
          const gapPin = gap && diagnosis.found.cause === 'no-wheel' ? pinNamed(step, diagnosis.found.requirement ?? '') : undefined;
          if (gapPin) {
            const gapDir = path.join(work, `gap-${index}`);
            const pipFailed = install({ requirements: `${gapPin}\n`, hashed: step.hashed }, gapDir, 'pip');
            if (!pipFailed) {
              progress(`${label}: ${shownPin(gapPin)} has no wheel uv can select for ${target.runtime} ` +
                `(uv's platforms skip from manylinux_2_17 to 2_28); installed with pip, which takes its manylinux wheel for glibc ${target.glibc}`);
              gapDirs.push(gapDir);
              step = { ...step, requirements: step.requirements.split('\n').filter(l => l !== gapPin).join('\n') };
              if (step.requirements.trim() === '') break;
              continue;
            }
          }
          // A pin with no wheel for the target: build its sdist here, if the policy allows.
          const pin = step.hashed && settings.sourceBuilds === 'PURE_PYTHON' ? pinNamed(step, diagnosis.found.requirement ?? '') : undefined;
          if (!pin || diagnosis.found.cause !== 'no-wheel') {
            throw new Error(explain(diagnosis, failed, settings.tool, spec, target, ctx, 'installing'));
          }
          try {
            builtWheels.push(buildPure(pin, spec, target, ctx, buildCtx, 'has no wheel for the target'));
          } catch (e: any) {
            if (!(e instanceof NoSourceError)) throw e;
            const extra = `${diagnosis.extra}\nLooking for its source distribution, pip said:\n${toolErrorLines(e.output, 8)}`;
            throw new Error(explain({ ...diagnosis, extra }, failed, settings.tool, spec, target, ctx, 'installing'));
          }
          step = { ...step, requirements: step.requirements.split('\n').filter(l => l !== pin).join('\n') };
          if (step.requirements.trim() === '') break;
        }
        if (stepDir !== targetDir && fs.existsSync(stepDir)) mergeTree(stepDir, targetDir);
        for (const dir of gapDirs.splice(0)) mergeTree(dir, targetDir);
      });
      if (builtWheels.length > 0) {
        const stepDir = path.join(work, 'built');
        progress(`${label}: installing ${builtWheels.length} wheel(s) built from source for ${target.runtime} ${target.architecture}`);
        const failed = install({ requirements: builtWheels.join('\n') + '\n', hashed: false }, stepDir);
        if (failed) throw new Error(explain(diagnose(failed, settings.tool, target, ctx, uv, secrets), failed, settings.tool, spec, target, ctx, 'installing'));
        mergeTree(stepDir, targetDir);
      }
      // `uv pip install --target` leaves its own lock file at the top of the target; it is
      // not part of any package and must not ship in the bundle.
      fs.rmSync(path.join(targetDir, '.lock'), { force: true });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

/** `[name, version]` of an exact pin line (`numpy==2.2.6 --hash=...`), names normalized. */
function pinOf(line: string): [string, string] | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)/.exec(line.trim());
  return m ? [normalize(m[1]), m[2]] : undefined;
}

function isPin(p: [string, string] | undefined): p is [string, string] {
  return p !== undefined;
}

/**
 * The pinned requirements to install for the target: a lock's, or for an unlocked
 * manifest, uv's resolution of it for the target (markers, Requires-Python and wheel tags
 * all decided for the runtime and architecture).
 */
export function pinnedSteps(spec: DependencySpec, target: PythonTarget, ctx: InstallContext, binaryFirstPass = false): InstallStep[] {
  if (!spec.resolve) return spec.steps;
  const { settings, indexes, label } = ctx;
  if (settings.sourceBuilds === 'NONE' && spec.localSources.length > 0) {
    throw new Error(`${label}: ${spec.manifestFile} installs from local folders (${spec.localSources.join(', ')}), which must be built ` +
      'on this machine, but bundling.sourceBuilds is SourceBuilds.NONE. Use SourceBuilds.PURE_PYTHON (the default) or ALL.');
  }
  const secrets = secretsOfContext(spec, ctx);
  const uv = () => uvExecutable(ctx.cacheRoot, settings.python, pipEnvironment(indexes));
  progress(`${label}: resolving ${path.basename(spec.manifestFile ?? 'dependencies')} for ${target.runtime} ${target.architecture} with uv`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-resolve-'));
  try {
    let constraintsFile: string | undefined;
    if (spec.resolve.constraints) {
      constraintsFile = path.join(scratch, 'constraints.txt');
      fs.writeFileSync(constraintsFile, spec.resolve.constraints);
    }
    const command = (sdistsFor?: string[]) => resolveCommand(uv(), spec.resolve!, target, {
      python: settings.python,
      uvPlatform: uvPlatform(target),
      findLinks: indexes.findLinks,
      noBuilds: settings.sourceBuilds === 'NONE',
      sdistsFor,
      pipSemantics: settings.tool === 'pip' || settings.indexStrategy === 'every-index',
      constraintsFile,
    });
    const resolved = binaryFirstPass && settings.sourceBuilds !== 'NONE' ? binaryFirst(command, uvEnvironment(indexes, ctx.cacheRoot)) : runResolve(command(), uvEnvironment(indexes, ctx.cacheRoot));
    if (!resolved.ok) {
      const output = scrub(resolved.output, secrets);
      throw new Error(explain(diagnose(output, 'uv', target, ctx, uv, secrets), output, 'uv', spec, target, ctx, 'resolving'));
    }
    // Alongside a lock's own pins, only what the lock left unpinned (and its dependencies) is added.
    const pinned = new Set(spec.steps.flatMap(s => s.requirements.split('\n')).map(l => normalize(/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(l)?.[1] ?? '')));
    const added = (lines: string[]) => lines.filter(l => !pinned.has(normalize(/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(l)?.[1] ?? '')));
    const hashed = withGivenHashes(resolved.set.hashed, spec.resolve.hashes);
    return [...spec.steps, ...lockedSteps(added(hashed), added(resolved.set.unhashed))];
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Binary first, as Lambda needs: the newest version of each package that has a wheel for
 * the target, and an sdist only for a package that has no such wheel at all (an old
 * pure-Python pin, say). Left to itself uv takes the newest version even when only its
 * sdist fits the target (numpy for python3.11, whose newest wheels need a newer glibc),
 * which would then be a native build refused. A failure that is not about wheels falls
 * back to the plain resolution, whose error is the one to explain.
 */
function binaryFirst(command: (sdistsFor?: string[]) => ResolveCommand, env: NodeJS.ProcessEnv): ReturnType<typeof runResolve> {
  const sdistsFor: string[] = [];
  // Each round allows sdists for the packages the last one named; a bound keeps a pathological graph finite.
  for (let round = 0; round < 25; round++) {
    const attempt = runResolve(command(sdistsFor), env);
    if (attempt.ok) return attempt;
    const more = packagesWithoutWheels(attempt.output).filter(n => !sdistsFor.includes(n));
    if (more.length === 0) break;
    sdistsFor.push(...more);
  }
  return runResolve(command(), env);
}

/**
 * The resolution's pins with the manifest's own hashes where it gives them: uv lists every
 * file the index has for a version, but a hashed requirements file vouches for particular
 * files, and only those may be installed (a mismatch is pip's or uv's hash error).
 */
export function withGivenHashes(lines: readonly string[], given: Readonly<Record<string, readonly string[]>> | undefined): string[] {
  if (!given) return [...lines];
  return lines.map(line => {
    const own = given[normalize(/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1] ?? '')];
    if (!own || own.length === 0) return line;
    return `${line.replace(/\s+--hash=\S+/g, '')} ${own.map(h => `--hash=${h}`).join(' ')}`;
  });
}

/** Passwords and tokens of every index a spec may reach, to scrub from messages. */
function secretsOfContext(spec: DependencySpec, ctx: InstallContext): string[] {
  return secretsOf([ctx.settings.indexUrl ?? '', ctx.indexes.indexUrl ?? '', ...ctx.indexes.extraIndexUrls, ...ctx.settings.extraIndexUrls,
    ...spec.manifestIndexUrls, ...spec.manifestExtraIndexUrls ?? []].map(u => expandUrl(u)));
}

/** The hashed line of a step that pins `requirement`'s package. */
function pinNamed(step: InstallStep, requirement: string): string | undefined {
  const name = normalize(/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1] ?? '');
  if (!name) return undefined;
  return step.requirements.split('\n').find(l => normalize(/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(l)?.[1] ?? '') === name);
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Path, git and URL references must be built into wheels on this machine: refused with
 * SourceBuilds.NONE, built and checked to be pure Python with PURE_PYTHON. A reference to
 * a wheel file needs no build.
 */
function prebuildReferences(step: InstallStep, spec: DependencySpec, target: PythonTarget, ctx: InstallContext,
  buildCtx: Parameters<typeof buildWheel>[1], builtWheels: string[]): InstallStep {
  const keep: string[] = [];
  for (const line of step.requirements.split('\n').filter(l => l.trim())) {
    const location = / @ (\S+)/.exec(line)?.[1] ?? line.trim().split(/\s/)[0];
    if (/\.whl$/i.test(location.split('#')[0])) {
      keep.push(line);
      continue;
    }
    if (ctx.settings.sourceBuilds === 'NONE') {
      throw new Error(`${ctx.label}: ${line.trim()} (from ${spec.manifestFile}) is a source (a local folder, git checkout or sdist URL) that ` +
        'must be built on this machine, but bundling.sourceBuilds is SourceBuilds.NONE. Use SourceBuilds.PURE_PYTHON (the default) or ALL, ' +
        'or publish it as a wheel.');
    }
    builtWheels.push(buildPure(line.trim(), spec, target, ctx, buildCtx, 'is a source reference'));
  }
  return { ...step, requirements: keep.length ? keep.join('\n') + '\n' : '' };
}

/** The package has no source distribution to build either. */
class NoSourceError extends Error {
  constructor(public readonly requirement: string, public readonly output: string) {
    super(`${requirement} has no source distribution to build either.\npip said:\n${toolErrorLines(output, 8)}`);
  }
}

/** Builds one requirement into a wheel and insists that it is pure Python. */
function buildPure(requirement: string, spec: DependencySpec, target: PythonTarget, ctx: InstallContext,
  buildCtx: Parameters<typeof buildWheel>[1], why: string): string {
  const shown = shownPin(requirement);
  progress(`${ctx.label}: building ${shown} from source on this machine (it ${why})`);
  let built: { wheel: string; output: string };
  try {
    built = buildWheel(requirement, buildCtx);
  } catch (e: any) {
    const output = String(e.output ?? e.message);
    if (/No matching distribution found|Could not find a version that satisfies/.test(output)) throw new NoSourceError(shown, output);
    const classified = classifyPip(output);
    if (classified.cause === 'git') throw new Error(`${installFailureMessage(classified, spec, target, ctx)}\npip said:\n${toolErrorLines(output)}`);
    if (/DO NOT MATCH THE HASHES|Hash mismatch/i.test(output)) {
      throw new Error(`${ctx.label}: ${shown} from ${spec.manifestFile}: the file the index serves does not match the hashes the manifest ` +
        'gives, so it was not installed. If the manifest is right, the file was changed after it was hashed; if the version changed on ' +
        `purpose, update its hashes (pip-compile --generate-hashes, or lock again).\npip said:\n${toolErrorLines(output)}`);
    }
    throw sourceBuildFailed(new Error(`${ctx.label}: ${shown} from ${spec.manifestFile} ${why} for ${target.runtime} on ${target.architecture}, ` +
      'and building it from source on this machine failed. Pin a version that has a manylinux wheel for the target, or fix its build.\n' +
      `pip said:\n${toolErrorLines(output)}`));
  }
  const name = path.basename(built.wheel);
  if (!isPurePythonWheel(name)) {
    throw sourceBuildFailed(new Error(`${ctx.label}: ${shown} from ${spec.manifestFile} ${why} for ${target.runtime} on ${target.architecture}, ` +
      `and its source builds a platform-specific wheel here (${name}), which would not load on Lambda. Pin a version with a manylinux wheel ` +
      'for the target, or build on a machine that matches the runtime and architecture with bundling.sourceBuilds set to SourceBuilds.ALL.'));
  }
  return built.wheel;
}

/** Marks an error as a source build that failed or was refused: a binary-first resolution may avoid it. */
function sourceBuildFailed(e: Error): Error {
  return Object.assign(e, { sourceBuildFailed: true });
}

/** A pin line as people write it: `pandas==2.3.3`, without hashes. */
function shownPin(line: string): string {
  return line.replace(/\s+--hash=\S+/g, '').trim();
}

function describeStep(step: InstallStep): string {
  const lines = step.requirements.split('\n').filter(l => l.trim() && !l.trim().startsWith('#'));
  return `${lines.length} pinned requirement${lines.length === 1 ? '' : 's'}`;
}

/** What a failed run of pip or uv means, and any words a second opinion added. */
interface Diagnosis {
  readonly found: Classified;
  readonly extra: string;
}

/**
 * The cause of a failed run: the tool's words, and where they are ambiguous (pip's "no
 * matching distribution", "not found" from an index that refused the credentials), uv's
 * answer to the same question and the index's answer for the project's page.
 */
function diagnose(output: string, tool: 'pip' | 'uv', target: PythonTarget, ctx: InstallContext, uv: () => string,
  secrets: readonly string[]): Diagnosis {
  let found: Classified = tool === 'pip' ? classifyPip(output) : classifyUv(output);
  let extra = '';
  if (found.cause === 'not-found' && found.requirement) {
    const second = diagnoseWithUv(found.requirement, target, ctx, uv, secrets);
    if (second) {
      found = { ...second.classified, requirement: second.classified.requirement ?? found.requirement };
      extra = `\nuv, asked the same question, said:\n${toolErrorLines(second.output, 8)}`;
    }
  }
  if ((found.cause === 'not-found' || found.cause === 'no-such-package') && found.requirement) {
    const answer = probeProjectPage(ctx.indexes, found.requirement);
    if (answer) {
      found = { ...found, cause: answer };
      if (answer === 'auth') extra += '\nThe index answered HTTP 401/403 for the project\'s page.';
      if (answer === 'proxy') extra += '\nThe proxy answered HTTP 407 when asked for the project\'s page.';
    }
  }
  return { found, extra };
}

/**
 * The message for a failed install: the cause in words (network, credentials, no such
 * package or version, no wheel for the target, Requires-Python, hash), the construct, the
 * manifest, and the tool's own error lines.
 */
function explain(d: Diagnosis, output: string, tool: 'pip' | 'uv', spec: DependencySpec, target: PythonTarget, ctx: InstallContext,
  doing: 'resolving' | 'installing'): string {
  return `${installFailureMessage(d.found, spec, target, ctx, doing)}\n${tool} said:\n${toolErrorLines(output)}${d.extra}`;
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
  const args = ['pip', 'compile', '-', '--no-config', '--python', ctx.settings.python, '--no-deps', '--no-header', '--quiet', '--python-version', target.pythonVersion,
    '--python-platform', uvPlatform(target), '--index-strategy', 'unsafe-best-match'];
  // The question is whether the index has a wheel for the target.
  args.push('--only-binary', ':all:');
  for (const f of ctx.indexes.findLinks) args.push('--find-links', f);
  const r = spawnSync(binary, args, { input: `${requirement}\n`, env: uvEnvironment(ctx.indexes, ctx.cacheRoot), encoding: 'utf8' });
  if (r.error) return undefined;
  const output = scrub(`${r.stderr}\n${r.stdout}`, secrets);
  if (r.status === 0) return { classified: { cause: 'unknown' }, output };
  return { classified: classifyUv(output), output };
}

/**
 * Asks each index for the project's page (PEP 503) and says what the answers mean: a
 * 401/403 from any is `auth`; a refused connection from all is `network`; 404 from all is
 * `no-such-package`. Runs index-probe.ts in a child process (this code is synchronous) with
 * a short timeout. The child reaches the indexes as the installers do: through their
 * proxies, trusting what they trust (pip's cert, SSL_CERT_FILE) as well as Node.js's own
 * certificates; a certificate it still does not trust, or a proxy it cannot use, makes its
 * answer mean nothing, and the installer's words stand.
 */
function probeProjectPage(indexes: IndexSettings, requirement: string): 'proxy' | 'auth' | 'network' | 'no-such-package' | undefined {
  if (indexes.noIndex) return undefined;
  const project = (/^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(requirement)?.[1] ?? '').toLowerCase().replace(/[-_.]+/g, '-');
  if (!project) return undefined;
  const job: ProbeJob = {
    urls: [indexes.indexUrl ?? 'https://pypi.org/simple', ...indexes.extraIndexUrls].map(u => expandUrl(u)),
    project,
    authorities: [indexes.pipNetwork.PIP_CERT, process.env.SSL_CERT_FILE, process.env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f),
    proxy: indexes.pipNetwork.PIP_PROXY,
  };
  const r = spawnSync(process.execPath, [compiledScript(__dirname, 'index-probe.js', 'The package index check')], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    timeout: 20_000,
    // The environment the installers' own were made from (their proxies), named: a host that
    // runs this code in a sandbox of its own (jest's) has a process.env the default would miss.
    env: process.env,
  });
  let statuses: number[];
  try {
    statuses = JSON.parse(r.stdout).statuses;
    if (!Array.isArray(statuses)) return undefined;
  } catch {
    return undefined;
  }
  if (statuses.some(s => s === -2)) return 'proxy';
  if (statuses.some(s => s === 401 || s === 403)) return 'auth';
  if (statuses.every(s => s === 0)) return 'network';
  if (statuses.every(s => s === 404)) return 'no-such-package';
  return undefined;
}

/** The first sentence of an install error, by cause. */
export function installFailureMessage(c: Classified, spec: DependencySpec, target: PythonTarget, ctx: InstallContext,
  doing: 'resolving' | 'installing' = 'installing'): string {
  const { label, settings, indexes } = ctx;
  const manifest = spec.manifestFile ?? 'the function\'s folder';
  const index = describeIndex(indexes);
  const what = c.requirement ? ` ${c.requirement}` : '';
  switch (c.cause) {
    case 'disk-full':
      return `${label}: the disk ran out of space while ${doing} the dependencies of ${manifest} (into the build cache ${ctx.cacheRoot}, ` +
        `with downloads in ${os.tmpdir()}). Free space there, lower POSSUM_CACHE_MAX_BYTES, or point bundling.cacheDir (or POSSUM_CACHE_DIR) ` +
        'and TMPDIR at a larger disk.';
    case 'network':
      return `${label}: could not reach the package index ${index} to install the dependencies of ${manifest}. ` +
        'Check the network connection, a proxy (HTTPS_PROXY) and the index URL.';
    case 'proxy':
      return `${label}: the proxy refused the installer's credentials (HTTP 407 Proxy Authentication Required) on the way to the package ` +
        `index ${index} while ${doing} the dependencies of ${manifest}. ` +
        (indexes.pipNetwork.PIP_PROXY
          ? 'The proxy is pip\'s (PIP_PROXY or pip.conf\'s proxy, which takes the place of HTTPS_PROXY, HTTP_PROXY and NO_PROXY): ' +
            'check the user and password in it (http://user:password@host:port).'
          : 'Check the user and password in HTTPS_PROXY or HTTP_PROXY (http://user:password@host:port), or name the index\'s host ' +
            'in NO_PROXY to connect directly.');
    case 'tls':
      return `${label}: the package index ${index} presented a TLS certificate that is not trusted here (a private certificate ` +
        `authority, or a proxy that intercepts TLS) while ${doing} the dependencies of ${manifest}. Name the authority's CA bundle: ` +
        'SSL_CERT_FILE for uv (or UV_NATIVE_TLS=1 to use the system\'s certificate store), PIP_CERT or pip.conf\'s cert for pip; ' +
        'pip\'s setting reaches uv too when pip\'s configuration names the index.';
    case 'auth':
      return `${label}: the package index ${index} refused the credentials (HTTP 401/403) while installing the dependencies of ${manifest}. ` +
        `Fix or renew them where the index URL is set (${indexes.indexOrigin}); a CodeArtifact token expires after 12 hours ` +
        '("aws codeartifact login --tool pip" writes a new one).';
    case 'no-such-package':
      return `${label}: there is no package${what} on ${index}, yet ${manifest} requires it. ` +
        'Check the spelling of its name, or add the index that serves it (bundling.indexUrl or extraIndexUrls; possum\'s --index-url or ' +
        '--extra-index-url; PIP_INDEX_URL or pip.conf).';
    case 'no-such-version':
      return `${label}:${what} does not exist on ${index}, yet ${manifest} requires it. Require a version that the index has.`;
    case 'no-wheel':
      return `${label}: no wheel of${what || ' a package'} from ${manifest} is compatible with ${target.runtime} on ${target.architecture} ` +
        `(Python ${target.pythonVersion}, ABI ${target.abi}, platforms ${target.platformTags[0]} and older manylinux tags). ` +
        (settings.sourceBuilds === 'NONE'
          ? 'bundling.sourceBuilds is SourceBuilds.NONE, so nothing is built from source here. Pin a version that has a manylinux wheel, ' +
            'or set bundling.sourceBuilds to SourceBuilds.PURE_PYTHON (builds pure-Python sdists here) or ALL (builds anything; this machine ' +
            'must then match the runtime and architecture).'
          : 'It has no source distribution to build from either. Pin a version that has a manylinux wheel for the target.');
    case 'requires-python':
      return `${label}:${what || ' a package'} from ${manifest} requires Python ${c.requiresPython ?? '(another version)'}, ` +
        `but the function's runtime ${target.runtime} is Python ${target.pythonVersion}. ` +
        `Require a version that supports Python ${target.pythonVersion}, or choose a runtime it supports.`;
    case 'not-found':
      return `${label}:${what} from ${manifest} was not found on ${index} for ${target.runtime} on ${target.architecture}: ` +
        'the package or that version does not exist there, it has no wheel for the target, or the index could not be reached or ' +
        'refused the credentials (pip does not say which).';
    case 'git':
      return `${label}: git could not fetch${what} (a git source in ${manifest}). Check the URL and the commit or tag, that git on this ` +
        'machine reaches that host, and, for a private repository, its credentials (a git credential helper or an SSH key): ' +
        'package index settings do not apply to git sources.';
    case 'hash-mismatch':
      return `${label}: ${settings.tool} refused a package whose hash does not match the lock (${manifest})${c.requirement ? `: ${c.requirement}` : ''}; ` +
        'the lock is out of date or a download was tampered with. Regenerate the lock.';
    default:
      return `${label}: ${doing} the dependencies of ${manifest} for ${target.runtime} on ${target.architecture} from ${index} failed.`;
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

/** With SourceBuilds.ALL the host interpreter builds for itself, so it has to be the runtime's twin. */
function checkHostMatches(target: PythonTarget, settings: InstallerSettings) {
  const r = spawnSync(settings.python, ['-c', 'import platform, sys; print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], platform.machine()))'],
    { encoding: 'utf8', env: process.env });
  const [version, machine] = (r.stdout ?? '').trim().split(' ');
  if (version !== target.pythonVersion || machine !== target.machine || process.platform !== 'linux') {
    throw new Error(
      `bundling.sourceBuilds SourceBuilds.ALL builds sources with this machine's ${settings.python} (Python ${version ?? '?'} on ${process.platform} ${machine ?? '?'}), ` +
      `but the function runs ${target.runtime} on ${target.architecture}; the built code would not load there. ` +
      `Build on Linux ${target.machine} with Python ${target.pythonVersion}, or use SourceBuilds.PURE_PYTHON (the default) or NONE.`);
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
