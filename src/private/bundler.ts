import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BuildCache, CACHE_FORMAT, cacheStorageError, sha256File, treeDigest, ZipReference } from './cache';
import { codeExcludes as codeExcludesOf, inspectCode } from './code-audit';
import { exclusionOf, findModule } from './handler-module';
import { progress } from './progress';
import { BytecodePython, bytecodePython, cachedPath, CompileJob, compileModules } from './python/bytecode';
import { redactUrl } from './python/credentials';
import { DependencySpec, hasDependencies, ManifestWarning } from './python/dependency-spec';
import { IndexConfig, machineHost, pipIndexConfig, uvIndexConfig } from './python/index-config';
import { effectiveIndexes, IndexSettings, indexIdentity, InstallerSettings, installDependencies, pipEnvironment, uvEnvironment } from './python/installer';
import { hostInterpreter, probeInstaller } from './python/installer-probe';
import { readDependencies } from './python/manifest';
import { PythonTarget } from './python/target';
import { learnInterpreter, UV_VERSION, uvExecutable } from './python/uv-tool';
import { describeRemote, fetchBundle, publishBundle, RemoteCache } from './remote/remote-cache';
import { collectFiles, SourceTree } from './zip/collect';
import { buildZipHere, ZipPlan, ZipReport } from './zip/engine';
import { LoaderPlacement, loaderPaths } from './zip/nested-loader';
import { ALWAYS_EXCLUDED } from './zip/path-rules';
import { buildZipSync, prepareZipThread } from './zip/run-sync';
import { DEFLATE_SCHEME } from './zip/zip-writer';

/** Bumped when the layout or meaning of a bundle changes, so old cache entries are not reused. */
const BUNDLE_FORMAT = 2;

/** Packages the Lambda Python runtimes already provide. */
export const RUNTIME_PROVIDED_EXCLUDES = [
  '/boto3/', '/botocore/', '/s3transfer/',
  '/boto3-*.dist-info/', '/botocore-*.dist-info/', '/s3transfer-*.dist-info/',
];

export interface CommandHookStrings {
  readonly beforeInstall: (inputDir: string, outputDir: string) => string[];
  readonly afterInstall: (inputDir: string, outputDir: string) => string[];
}

/** Everything that decides a bundle. */
export interface BundleRequest {
  /** Names the bundle in messages (the construct path). */
  readonly label: string;
  /** Absolute folder with the manifest (and the code, for a function). */
  readonly entry: string;
  readonly manifestFile?: string;
  /** One target, or several that must all install the same tree (a layer for several architectures). */
  readonly targets: PythonTarget[];
  readonly installer: InstallerSettings;
  readonly strictLock: boolean;
  /** Put the entry's own files in the bundle (functions) or only the dependencies (layers). */
  readonly includeCode: boolean;
  /** Install the entry's dependency manifest, or none (a folder zipped as it is). */
  readonly installDependencies: boolean;
  /** Where the entry's own files go in the zip. */
  readonly codePrefix: string;
  /** A function's handler module as its handler writes it (`src.app`, `src/app`): a warning if the excludes leave it out. */
  readonly handlerModule?: string;
  /** The default excludes of the entry's own files (none when the user turned them off). */
  readonly codeExcludes: string[];
  /** The user's exclude patterns, applied after the defaults and the manifests. */
  readonly userExcludes: string[];
  /** Where the dependencies go in the zip: '' for functions, 'python' for layers. */
  readonly dependencyPrefix: string;
  readonly excludeRuntimePackages: boolean;
  readonly hooks?: CommandHookStrings;
  readonly cacheRoot: string;
  /** The cache's size budget (0: unlimited), trimmed to after each build. */
  readonly cacheMaxBytes: number;
  /** The shared build cache in S3, if any. */
  readonly remoteCache?: RemoteCache;
  /** Compile checked-hash .pyc files into the bundle. */
  readonly bytecode?: boolean;
  /** Where Lambda puts the bundle's files: /var/task for a function, /opt for a layer. */
  readonly lambdaRoot?: string;
  readonly loader?: LoaderPlacement;
  readonly nestThresholdBytes?: number;
  readonly limitBytes: number;
  readonly level: number;
  readonly sourceDateEpoch?: string;
}

export interface BundlePlan {
  readonly request: BundleRequest;
  readonly dependencies: DependencySpec;
  /** Key of the installed dependency tree per target, or undefined when nothing is installed. */
  readonly dependencyKeys?: string[];
  /** Where packages come from (may hold credentials: never log or key it as it is). */
  readonly indexes?: IndexSettings;
  /** Key of everything that decides the finished zip: the cache's index of bundles. */
  readonly bundleKey: string;
  /** Every exclude pattern of the entry's own files, in order (defaults, manifests, the user's). */
  readonly codeExcludes: string[];
  /** Soft problems of the manifest and of the entry's own files, for the caller to show. */
  readonly warnings: ManifestWarning[];
  /** The interpreter that compiles .pyc files, when the request asks for them. */
  readonly bytecodePython?: BytecodePython;
  /** The size of the entry's own files in the bundle (none for a layer), in bytes. */
  readonly codeBytes: number;
}

const HOOK_INPUT = '/possum-cdk/input';
const HOOK_OUTPUT = '/possum-cdk/output';

/** Reads the manifest and computes the cache keys; installs nothing. */
export function planBundle(request: BundleRequest): BundlePlan {
  try {
    return planBundleOf(request);
  } catch (e) {
    throw labelled(e, request.label);
  }
}

/**
 * The one place the construct path (or the template resource, for possum) is attached to an
 * error raised while planning or building, for messages that do not name it already.
 */
function labelled(e: unknown, label: string): unknown {
  if (!(e instanceof Error) || e.message.includes(label)) return e;
  e.message = `${label}: ${e.message}`;
  return e;
}

function planBundleOf(request: BundleRequest): BundlePlan {
  const dependencies: DependencySpec = request.installDependencies
    ? readDependencies(request.entry, request.manifestFile, request.targets[0], { strictLock: request.strictLock })
    : { kind: 'none', inputFiles: [], steps: [], localSources: [], manifestIndexUrls: [], warnings: [] };
  let dependencyKeys: string[] | undefined;
  let indexes: IndexSettings | undefined;
  if (hasDependencies(dependencies)) {
    const settings = request.installer;
    const probe = probeInstaller(settings.tool, settings.python, path.join(request.cacheRoot, CACHE_FORMAT));
    const config = settings.tool === 'pip'
      ? pipIndexConfig(machineHost(), probe.sysPrefix)
      : withPipIndexes(uvIndexConfig(machineHost(), request.entry), () => pipIndexConfig(machineHost(), probe.sysPrefix));
    indexes = effectiveIndexes(settings, dependencies.manifestIndexUrls, config, dependencies.manifestExtraIndexUrls);
    const common = {
      format: BUNDLE_FORMAT,
      library: libraryVersion(),
      kind: dependencies.kind,
      inputs: dependencies.inputFiles.map(f => [path.relative(request.entry, f), sha256File(f)]),
      // Path, editable and workspace sources are built into the tree: their content counts.
      localSources: dependencies.localSources.map(l =>
        [path.relative(request.entry, l), localSourceDigest(l, request.label, dependencies.manifestFile)]),
      installer: {
        tool: settings.tool,
        indexStrategy: settings.indexStrategy,
        version: probe.version,
        sourceBuilds: settings.sourceBuilds,
        // uv resolves unlocked manifests for the target, whichever installer installs.
        resolver: dependencies.resolve ? `uv ${UV_VERSION}` : null,
        // Credentials never enter a key: the same index with a rotated token is the same index.
        indexes: indexIdentity(indexes, findLinksIdentity),
      },
      hooks: request.hooks && {
        before: request.hooks.beforeInstall(HOOK_INPUT, HOOK_OUTPUT),
        after: request.hooks.afterInstall(HOOK_INPUT, HOOK_OUTPUT),
      },
    };
    dependencyKeys = request.targets.map(t =>
      keyOf({ ...common, target: { runtime: t.runtime, architecture: t.architecture, tags: t.platformTags } }));
  }
  const codeExcludes = codeExcludesOf(request.entry, request.codeExcludes,
    request.installDependencies ? dependencies.inputFiles : undefined, request.userExcludes);
  const code = request.includeCode ? inspectCode(request.entry, codeExcludes, request.userExcludes) : undefined;
  const pyc = request.bytecode
    ? bytecodePython(Number(request.targets[0].pythonVersion.split('.')[1]), request.installer.python, () => {
      try {
        return uvExecutable(request.cacheRoot, request.installer.python, indexes ? pipEnvironment(indexes) : process.env);
      } catch {
        return undefined;
      }
    }, request.label)
    : undefined;
  const bundleKey = keyOf({
    format: BUNDLE_FORMAT,
    bytecode: pyc ? { version: pyc.version, root: request.lambdaRoot ?? '/var/task' } : null,
    dependencies: dependencyKeys ?? null,
    code: code?.fingerprint ?? null,
    codePrefix: request.codePrefix,
    dependencyPrefix: request.dependencyPrefix,
    excludeRuntimePackages: request.excludeRuntimePackages,
    engine: {
      level: request.level,
      deflate: DEFLATE_SCHEME,
      loader: request.loader ?? null,
      nestThresholdBytes: request.nestThresholdBytes ?? null,
      limitBytes: request.limitBytes,
      sourceDateEpoch: request.sourceDateEpoch ?? null,
    },
  });
  return {
    request,
    dependencies,
    dependencyKeys,
    indexes,
    bundleKey,
    codeExcludes,
    bytecodePython: pyc,
    codeBytes: code?.bytes ?? 0,
    warnings: [...dependencies.warnings, ...code?.warnings ?? [], ...request.includeCode ? excludedHandler(request, codeExcludes) : []],
  };
}

/**
 * A warning when the handler's module is in the function's folder but an exclude pattern
 * (the user's or a default, such as `/tests/`) leaves it out of the bundle: every
 * invocation would fail with "Unable to import module".
 */
function excludedHandler(request: BundleRequest, excludes: readonly string[]): ManifestWarning[] {
  const module = request.handlerModule;
  const found = module ? findModule(request.entry, module) : undefined;
  const exclusion = found && exclusionOf(found, excludes);
  if (!module || !found || !exclusion) return [];
  // Whose pattern it is decides the advice: the user's can go; a default or the engine's is
  // overridden with a `!` pattern after it.
  const users = request.userExcludes.includes(exclusion.pattern);
  const pattern = `'${exclusion.pattern}'`;
  const whose = users ? `the exclude pattern ${pattern}`
    : ALWAYS_EXCLUDED.includes(exclusion.pattern) ? `the pattern ${pattern}, which possum-cdk applies to every bundle,`
      : `the default exclude pattern ${pattern} (DefaultExcludes.FUNCTION_FILES)`;
  const keep = `'!${exclusion.path}'`;
  return [{
    id: 'possum-cdk:handlerExcluded',
    message: `the handler module ${module} is ${path.join(request.entry, found.rel)}, but ${whose} leaves ` +
      `${exclusion.path === found.rel ? 'it' : exclusion.path} out of the bundle: Lambda would fail every invocation with ` +
      `"Unable to import module '${module}'". ${users ? 'Remove the pattern, or keep' : 'Keep'} ` +
      `it with the exclude pattern ${keep} (bundling.exclude; possum: --exclude ${keep}).`,
  }];
}

/**
 * uv's index configuration, or, when it names no index at all, pip's: uv is the default
 * installer, and a machine set up for pip (PIP_INDEX_URL, the pip.conf that
 * `aws codeartifact login --tool pip` writes) must keep installing from that index.
 */
function withPipIndexes(uv: IndexConfig, pip: () => IndexConfig): IndexConfig {
  if (uv.indexUrl || uv.extraIndexUrls.length > 0 || uv.findLinks.length > 0 || uv.noIndex) return uv;
  const p = pip();
  if (!p.indexUrl && p.extraIndexUrls.length === 0 && p.findLinks.length === 0 && !p.noIndex) return uv;
  // pip's certificate, proxy and timeouts come with pip's index (uvEnvironment passes them on).
  return {
    ...uv,
    indexUrl: p.indexUrl,
    extraIndexUrls: p.extraIndexUrls,
    findLinks: p.findLinks,
    noIndex: p.noIndex,
    sources: p.sources,
    pipNetwork: p.pipNetwork,
  };
}

/** A bundle in the cache: its zip (named by its sha256) and report. */
export interface EnsuredBundle {
  readonly zipFile: string;
  readonly report: ZipReport;
  /** True when this call built it; false when the cache already had it. */
  readonly built: boolean;
  /** Problems with the remote cache (each reported once per process on stderr too). */
  readonly warnings?: string[];
}

/** The report of a bundle already in the cache, if it is there (the zip is not hashed). */
export function cachedReport(plan: BundlePlan): ZipReport | undefined {
  return new BuildCache(plan.request.cacheRoot).lookup<ZipReport>(plan.bundleKey)?.report;
}

/**
 * The bundle for the plan, in the cache: found there, or built (installing or reusing the
 * dependencies, then zipping). Nothing reaches the cache unless it is complete; after a
 * build the cache is trimmed to its size budget.
 */
export function ensureBundle(plan: BundlePlan, options: { readonly builtJustNow?: boolean } = {}): EnsuredBundle {
  try {
    return ensureBundleIn(new BuildCache(plan.request.cacheRoot), plan, options.builtJustNow ?? false);
  } catch (e: any) {
    throw labelled(cacheStorageError(e, plan.request.cacheRoot, plan.request.label) ?? e, plan.request.label);
  }
}

/** @param builtJustNow the bundle was built into the cache in this synth (its build said so): a hit is not news */
function ensureBundleIn(cache: BuildCache, plan: BundlePlan, builtJustNow: boolean): EnsuredBundle {
  const label = plan.request.label;
  const hit = cache.lookup<ZipReport>(plan.bundleKey);
  if (hit) {
    for (const key of plan.dependencyKeys ?? []) cache.touchDependencyTree(key);
    if (!builtJustNow) progress(`${label}: bundle unchanged, reused from the cache`);
    return { zipFile: cache.zipPath(hit.sha256), report: { ...hit.report, sha256: hit.sha256 }, built: false };
  }
  // A handler edit whose own files are few is zipped here (zipHere); any other zip runs in the
  // zip thread, which loads meanwhile.
  const treeKey = plan.dependencyKeys?.[0];
  if (!treeKey || !zipHere(plan) || !cache.zipReference(treeKey)) prepareZipThread();
  const warnings: string[] = [];
  const result = cache.withLock(plan.bundleKey, (): EnsuredBundle => {
    const raced = cache.lookup<ZipReport>(plan.bundleKey);
    if (raced) return { zipFile: cache.zipPath(raced.sha256), report: raced.report, built: false };
    const usable = plan.request.remoteCache && !REMOTE_WARNED.has(describeRemote(plan.request.remoteCache)) ? plan.request.remoteCache : undefined;
    const fetched = usable && fetchRemote(cache, plan, usable, warnings);
    if (fetched) return fetched;
    const tree = plan.dependencyKeys ? dependencyTree(plan, cache) : undefined;
    const request = plan.request;
    const sources = [];
    if (tree) {
      sources.push({
        dir: tree,
        prefix: request.dependencyPrefix,
        excludes: request.excludeRuntimePackages ? RUNTIME_PROVIDED_EXCLUDES : [],
        // The tree is checked unchanged above and never written into: its file list is kept beside it.
        listing: path.join(path.dirname(tree), 'listings'),
      });
    }
    if (request.includeCode) sources.push({ dir: request.entry, prefix: request.codePrefix, excludes: plan.codeExcludes });
    const bytecodeDirs = plan.bytecodePython ? compileBytecode(plan, plan.bytecodePython, cache, sources, tree) : [];
    sources.push(...bytecodeDirs.map(dir => ({ dir, bytecode: true })));
    // A handler edit: the dependency tree is unchanged, so its entries are copied compressed from
    // the last zip built over it (same level, zlib and layout), and only the function's files are compressed.
    const layout = { level: request.level, zlib: process.versions.zlib ?? '', deflate: DEFLATE_SCHEME, dependencyPrefix: request.dependencyPrefix, codePrefix: request.codePrefix };
    const earlier = tree && treeKey ? cache.zipReference(treeKey) : undefined;
    const reuse = earlier && tree && sameLayout(earlier.ref, layout)
      ? { zipFile: earlier.zipFile, innerZip: earlier.ref.innerZip, trees: [tree, ...bytecodeDirs.filter(d => d.startsWith(path.dirname(tree)))] }
      : undefined;
    const tmpZip = cache.newZipPath();
    let report: ZipReport;
    try {
      const zipPlan: ZipPlan = {
        sources,
        output: tmpZip,
        loader: request.loader,
        nestThresholdBytes: request.nestThresholdBytes,
        limitBytes: request.limitBytes,
        level: request.level,
        sourceDateEpoch: request.sourceDateEpoch,
        progress: true,
        reuse,
        // Every reader of the cache checks a zip's bytes (verifiedZip, the check below).
        durable: false,
      };
      report = reuse && zipHere(plan) ? buildZipHere(zipPlan) : buildZipSync(zipPlan);
      // The earlier zip may share its file with an asset in cdk.out (deliverBundle), which a tool
      // could have written into, and its entries were copied as they are: the sum of its bytes as
      // read while copying must be the one recorded when it was written.
      if (report.reusedEntries && report.reusedZipCrc32 !== earlier!.ref.crc32) {
        progress(`${label}: ${reuse!.zipFile} no longer has the bytes it was written with (damaged or written into); ` +
          'zipping again without copying from it');
        report = buildZipSync({ ...zipPlan, reuse: undefined });
      }
    } catch (e: any) {
      cache.abandon(tmpZip);
      throw new Error(`${label}: ${e.message}`);
    } finally {
      // The function's own .pyc were compiled for this build only.
      for (const d of bytecodeDirs) if (!tree || !d.startsWith(path.dirname(tree))) cache.abandon(d);
    }
    // The cached report must not name this build's temporary path.
    const { maxRssBytes: _rss, ...plain } = report as ZipReport & { maxRssBytes?: number };
    const { reusedEntries, reusedZipCrc32: _read, crc32, ...kept } = plain;
    const committed = cache.commitBundle(plan.bundleKey, tmpZip, { ...kept, output: '' }, report.sha256);
    if (tree && treeKey) {
      const innerZip = report.nested && request.loader ? loaderPaths(request.loader).innerZip : undefined;
      if (crc32 !== undefined) cache.recordZipReference(treeKey, { sha256: committed.sha256, crc32, innerZip, ...layout });
    }
    const copied = reusedEntries ? `; ${reusedEntries} entries copied compressed from the previous zip of these dependencies` : '';
    progress(`${label}: bundled ${report.files} files, ${report.unzippedBytes} bytes unzipped${report.nested ? ' (nested zip)' : ''}${copied}`);
    // A remote cache that failed once in this process is not asked again (each try could wait on a dead host).
    const remote = plan.request.remoteCache && !REMOTE_WARNED.has(describeRemote(plan.request.remoteCache)) ? plan.request.remoteCache : undefined;
    if (remote) {
      // A damaged object found on the way in is replaced, not kept because its name is taken.
      const replace = warnings.some(w => w.includes('damaged or altered'));
      const published = publishBundle(remote, plan.bundleKey, committed.zipFile, committed.sha256, committed.report, replace);
      if (!published.ok) remoteWarning(warnings, remote, `could not publish ${label}'s bundle (${published.reason})`);
      else progress(`${label}: published to the remote cache ${describeRemote(remote)}`);
    }
    return { zipFile: committed.zipFile, report: committed.report, built: true };
  });
  if (result.built) cache.evict(plan.request.cacheMaxBytes);
  return warnings.length > 0 ? { ...result, warnings } : result;
}

/**
 * The bundle from the remote cache, verified and stored in the local cache, or undefined
 * (not there, damaged, or the bucket unreachable: then a warning, and the caller builds).
 */
function fetchRemote(cache: BuildCache, plan: BundlePlan, remote: RemoteCache, warnings: string[]): EnsuredBundle | undefined {
  const label = plan.request.label;
  const tmpZip = cache.newZipPath();
  const got = fetchBundle<ZipReport>(remote, plan.bundleKey, tmpZip);
  if (got.kind !== 'hit') {
    cache.abandon(tmpZip);
    if (got.kind === 'unavailable') remoteWarning(warnings, remote, `could not be read (${got.reason})`);
    if (got.kind === 'corrupt') {
      const message = `the remote cache ${describeRemote(remote)} holds a damaged or altered bundle for ${label} (${got.reason}); it was ignored and the bundle is built here.`;
      warnings.push(message);
      progress(`warning: ${message}`);
    }
    return undefined;
  }
  const committed = cache.commitBundle(plan.bundleKey, tmpZip, { ...got.report, output: '' }, got.sha256);
  progress(`${label}: bundle fetched from the remote cache ${describeRemote(remote)}`);
  return { zipFile: committed.zipFile, report: { ...committed.report, sha256: committed.sha256 }, built: false };
}

/** Remote caches already reported as unusable in this process: one warning each. */
const REMOTE_WARNED = new Set<string>();

function remoteWarning(warnings: string[], remote: RemoteCache, what: string) {
  const where = describeRemote(remote);
  if (REMOTE_WARNED.has(where)) return;
  REMOTE_WARNED.add(where);
  const message = `the remote cache ${where} ${what}; bundles are built and kept locally. Check the bucket, its region and endpoint, ` +
    'and the credentials (s3:GetObject, s3:PutObject).';
  warnings.push(message);
  progress(`warning: ${message}`);
}

/**
 * The .pyc files of the bundle's modules, as folders that mirror the zip's layout: the
 * dependency tree's compiled once and kept beside it in the cache, the function's own
 * compiled for this build. Returns the folders to add to the zip.
 */
function compileBytecode(plan: BundlePlan, python: BytecodePython, cache: BuildCache, sources: SourceTree[], tree: string | undefined): string[] {
  const request = plan.request;
  const root = request.lambdaRoot ?? '/var/task';
  const jobsFor = (source: SourceTree, outDir: string): CompileJob[] => collectFiles([source], ALWAYS_EXCLUDED)
    .filter(f => f.zipPath.endsWith('.py'))
    .map(f => ({ source: f.sourcePath, output: path.join(outDir, ...cachedPath(f.zipPath, python.cacheTag).split('/')), lambdaPath: `${root}/${f.zipPath}` }));
  const dirs: string[] = [];
  const report = (skipped: string[]) => {
    if (skipped.length > 0) {
      progress(`${request.label}: ${skipped.length} module(s) Python ${python.cacheTag} cannot compile ship as source only ` +
        `(${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', ...' : ''})`);
    }
  };
  for (const source of sources) {
    if (tree && source.dir === tree) {
      // Kept beside the tree it was compiled from, and evicted with it.
      const key = crypto.createHash('sha256').update(JSON.stringify([python.version, root, source.prefix ?? '', source.excludes ?? []])).digest('hex').slice(0, 16);
      const target = path.join(path.dirname(tree), 'pyc', `${python.cacheTag}-${key}`);
      if (!fs.existsSync(target)) {
        cache.withLock(`pyc-${path.basename(path.dirname(tree))}-${key}`, () => {
          if (fs.existsSync(target)) return;
          const work = cache.scratch();
          try {
            progress(`${request.label}: compiling the dependencies' modules with Python ${python.cacheTag}`);
            report(compileModules(python, jobsFor(source, path.join(work, 'pyc'))));
            fs.mkdirSync(path.join(work, 'pyc'), { recursive: true });
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.renameSync(path.join(work, 'pyc'), target);
          } finally {
            fs.rmSync(work, { recursive: true, force: true });
          }
        });
      }
      dirs.push(target);
    } else {
      const out = path.join(cache.scratch(), 'pyc');
      report(compileModules(python, jobsFor(source, out)));
      fs.mkdirSync(out, { recursive: true });
      dirs.push(out);
    }
  }
  return dirs;
}

/**
 * The function's own files that a handler edit compresses on the calling thread, in bytes,
 * at most: below this, a zip thread's start (about 0.1 s of a 0.2 s edit of a 178 MB function,
 * bench/README) costs more than the second core saves.
 */
const ZIP_HERE_MAX_BYTES = 4 * 1024 * 1024;

/** Whether a zip that copies the dependencies' entries from an earlier zip is written on this thread. */
function zipHere(plan: BundlePlan): boolean {
  return plan.codeBytes <= ZIP_HERE_MAX_BYTES;
}

function sameLayout(a: ZipReference, b: Omit<ZipReference, 'sha256' | 'crc32' | 'innerZip'>): boolean {
  // A reference recorded before there was a CRC-32 cannot be checked: not copied from.
  return typeof a.crc32 === 'number' && a.level === b.level && a.zlib === b.zlib && a.deflate === b.deflate
    && a.dependencyPrefix === b.dependencyPrefix && a.codePrefix === b.codePrefix;
}

/**
 * Puts the cached bundle at `outputZip` after checking its bytes against its sha256: a hard
 * link where the file system allows one, else a copy. A zip that went missing or was damaged
 * since (evicted, tampered with) is built again, and must come out with the same bytes.
 */
export function deliverBundle(plan: BundlePlan, sha256: string, outputZip: string): ZipReport {
  const cache = new BuildCache(plan.request.cacheRoot);
  let zipFile = cache.verifiedZip(sha256);
  let report: ZipReport | undefined = cache.lookup<ZipReport>(plan.bundleKey)?.report;
  if (!zipFile || !report) {
    const again = ensureBundle(plan);
    if (again.report.sha256 !== sha256) {
      throw new Error(`${plan.request.label}: the bundle was built again and came out different (sha256 ${again.report.sha256}, ` +
        `expected ${sha256}), so the build is not reproducible; the function's folder or its dependencies changed during the synth.`);
    }
    zipFile = again.zipFile;
    report = again.report;
  }
  fs.mkdirSync(path.dirname(outputZip), { recursive: true });
  linkOrCopy(zipFile, outputZip);
  return { ...report, output: outputZip };
}

/**
 * A handler edit of a large function writes a new zip of tens of MB; a copy of it into
 * cdk.out writes it all again, which measured as much as the rest of the edit (bench/README).
 * A link shares the cache's file instead. The cache never writes into a zip it has stored;
 * whatever else writes into the shared file is caught where the bytes are next used: a
 * copy-out checks them against the sha256 (verifiedZip), and a handler edit that copies
 * entries from them checks the CRC-32 of what it read (ensureBundleIn), zipping again without
 * them when they changed.
 */
function linkOrCopy(from: string, to: string) {
  // Never write into an existing file: it may be a link to a cached zip.
  fs.rmSync(to, { force: true });
  try {
    fs.linkSync(from, to);
  } catch {
    // Another file system or device, links not allowed (a cache owned by another user), ...
    fs.copyFileSync(from, to);
  }
}

/** Produces the bundle at `outputZip` (the cache's copy, verified). */
export function buildBundle(plan: BundlePlan, outputZip: string): ZipReport {
  const bundle = ensureBundle(plan);
  return deliverBundle(plan, bundle.report.sha256, outputZip);
}

/** The installed dependency tree for the plan, from the cache or freshly installed. */
function dependencyTree(plan: BundlePlan, cache: BuildCache): string {
  const trees = plan.request.targets.map((target, i) => {
    const key = plan.dependencyKeys![i];
    const cached = cache.dependencyTree(key);
    if (cached) return cached;
    return cache.withLock(`deps-${key}`, () => cache.dependencyTree(key) ?? install(plan, target, key, cache));
  });
  if (trees.length > 1) {
    const digests = trees.map(t => treeDigest(t).digest);
    const differs = digests.findIndex(d => d !== digests[0]);
    if (differs > 0) {
      throw new Error(
        `${plan.request.label}: the dependencies install differently for ${plan.request.targets[0].architecture} and ` +
        `${plan.request.targets[differs].architecture} (some have binary wheels), so one layer cannot serve both. ` +
        'Create one layer per architecture.');
    }
  }
  return trees[0];
}

/**
 * The plan's installer settings with the host interpreter as the path it starts (see
 * hostInterpreter), as seen from the manifest's folder, where the installer runs.
 */
export function installerForHost(plan: BundlePlan): InstallerSettings {
  const request = plan.request;
  const cwd = plan.dependencies.manifestFile ? path.dirname(plan.dependencies.manifestFile) : request.entry;
  return { ...request.installer, python: hostInterpreter(request.installer.python, cwd) };
}

/**
 * Before several bundles install at once with uv: finds uv (installing it if need be) and
 * has it learn the host interpreter, so their uv runs do not each start the interpreter
 * to ask. Nothing to do for pip or for bundles without dependencies; never fails.
 */
export async function prepareUv(plan: BundlePlan): Promise<void> {
  if (!plan.dependencyKeys || plan.request.installer.tool !== 'uv' || !plan.indexes) return;
  let uv: string;
  let python: string;
  try {
    python = installerForHost(plan).python;
    uv = uvExecutable(plan.request.cacheRoot, python, pipEnvironment(plan.indexes));
  } catch {
    return; // each bundle meets the same error and reports it under its own name
  }
  await learnInterpreter(uv, python, uvEnvironment(plan.indexes, plan.request.cacheRoot));
}

function install(plan: BundlePlan, target: PythonTarget, key: string, cache: BuildCache): string {
  const request = plan.request;
  // Beside the cache's other scratch folders, so a killed install leaves nothing at the root.
  const work = cache.scratch();
  const tree = path.join(work, 'tree');
  try {
    runHooks(request.hooks?.beforeInstall(request.entry, tree) ?? [], request.entry, request.label, 'beforeInstall');
    try {
      installDependencies(plan.dependencies, target, tree,
        { settings: installerForHost(plan), indexes: plan.indexes!, label: request.label, cacheRoot: request.cacheRoot });
    } catch (e: any) {
      throw namedError(e, request.label, plan.dependencies.manifestFile);
    }
    runHooks(request.hooks?.afterInstall(request.entry, tree) ?? [], request.entry, request.label, 'afterInstall');
    return cache.commitDependencyTree(key, tree);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Every error from building names the construct and the manifest, whoever raised it. */
function namedError(e: any, label: string, manifest: string | undefined): Error {
  let message = String(e?.message ?? e);
  if (!message.startsWith(`${label}: `)) message = `${label}: ${message}`;
  if (manifest && !message.includes(manifest)) message = `${message}\n(while installing the dependencies of ${manifest})`;
  return new Error(message);
}

function runHooks(commands: readonly string[], cwd: string, label: string, which: string) {
  for (const command of commands) {
    const r = spawnSync('bash', ['-c', command], { cwd, env: process.env, stdio: ['ignore', process.stderr.fd, process.stderr.fd] });
    if (r.status !== 0) {
      throw new Error(`${label}: the ${which} command hook "${command}" failed with exit code ${r.status}; fix the command or remove the hook.`);
    }
  }
}

/** What a local dependency folder does not ship: VCS data, environments, caches, and what its own builds leave in it. */
const LOCAL_SOURCE_EXCLUDES = ['.git/', '.hg/', '.venv/', 'venv/', 'node_modules/', '__pycache__/', '.tox/', '.nox/', '.pytest_cache/',
  '.mypy_cache/', '.ruff_cache/', 'build/', 'dist/', '*.egg-info/', 'cdk.out/'];

/** The content of a local dependency (a folder's files, or a wheel or sdist file). */
function localSourceDigest(location: string, label: string, manifest: string | undefined): string {
  if (!fs.existsSync(location)) {
    throw new Error(`${label}: ${manifest ?? 'the manifest'} installs from ${location}, which does not exist; fix the path.`);
  }
  if (!fs.statSync(location).isDirectory()) return sha256File(location);
  return codeFingerprint(location, LOCAL_SOURCE_EXCLUDES);
}

/** The function's own files: paths, contents and exec bits (never mtimes or absolute paths). */
function codeFingerprint(entry: string, excludes: readonly string[]): string {
  const hash = crypto.createHash('sha256');
  for (const f of collectFiles([{ dir: entry, excludes: [...excludes] }], ALWAYS_EXCLUDED)) {
    hash.update(`${f.zipPath}\0${f.executable ? 'x' : '-'}\0${sha256File(f.sourcePath)}\n`);
  }
  return hash.digest('hex');
}

/** A find-links location by what it offers: a folder by its file names, a URL without credentials. */
function findLinksIdentity(location: string): string | string[] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file:')) return redactUrl(location);
  const dir = location.replace(/^file:\/\//, '');
  return fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).sort() : [path.basename(dir)];
}

function keyOf(value: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

let version: string | undefined;
/** This library's version, part of every key. */
export function libraryVersion(): string {
  if (!version) {
    version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  }
  return version;
}
