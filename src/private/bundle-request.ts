import * as path from 'path';
import { Bytecode, DefaultExcludes, NestedZip, PythonPipfileBundlingOptions, SourceBuilds } from '../bundling-options';
import { BundleRequest } from './bundler';
import { cacheMaxBytes, cacheRoot } from './cache';
import { pythonTarget } from './python/target';
import { remoteCacheOf } from './remote/remote-cache';
import { LoaderPlacement } from './zip/nested-loader';
import { PathRules } from './zip/path-rules';

/** What a construct or the possum CLI asks of the bundler (no CDK types, so the CLI needs no CDK). */
export interface BundleInput {
  readonly label: string;
  readonly entry: string;
  readonly manifest?: string;
  /** Lambda runtime name, e.g. python3.12. */
  readonly runtime: string;
  /** Lambda architecture names: x86_64, arm64. */
  readonly architectures: string[];
  readonly options: PythonPipfileBundlingOptions;
  readonly includeCode: boolean;
  /** Install the folder's dependency manifest (default), or zip the folder as it is. */
  readonly installDependencies?: boolean;
  /** Where the folder's own files go in the zip ('' for functions; 'python' for a SAM python3.x layer). */
  readonly codePrefix?: string;
  readonly dependencyPrefix: string;
  readonly loader?: LoaderPlacement;
  /** A function's handler module as its handler writes it (`src.app`, `src/app`), checked against the excludes; none for layers. */
  readonly handlerModule?: string;
  /** Unzipped bytes this bundle may use (Lambda's limit less known layers). */
  readonly limitBytes: number;
}

/** Validates the options and turns them into the bundler's request. */
export function bundleRequest(input: BundleInput): BundleRequest {
  const o = input.options;
  const label = input.label;
  const entry = path.resolve(input.entry);
  // uv by default (possum-cdk provisions the one version it pins, so every machine installs
  // alike), looking packages up on every index as pip does; Installer.uv() chosen by name
  // keeps uv's own first-index rule.
  const installer = o.installer?.name ?? 'uv';
  if (installer !== 'pip' && installer !== 'uv') throw new Error(`Unknown installer ${installer}; use Installer.pip() or Installer.uv().`);
  const level = o.compressionLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new Error(`bundling.compressionLevel ${level} at ${label} must be a whole number from 0 to 9.`);
  }
  if (o.nestedThresholdBytes !== undefined && (!Number.isInteger(o.nestedThresholdBytes) || o.nestedThresholdBytes <= 0)) {
    throw new Error(`bundling.nestedThresholdBytes ${o.nestedThresholdBytes} at ${label} must be a positive whole number of bytes.`);
  }
  const nesting = nestingOf(input, o);
  return {
    label,
    entry,
    manifestFile: input.manifest ? path.resolve(entry, input.manifest) : undefined,
    targets: input.architectures.map(a => pythonTarget(input.runtime, a)),
    installer: {
      tool: installer,
      indexStrategy: installer === 'uv' && o.installer ? 'first-index' : 'every-index',
      sourceBuilds: sourceBuildsOf(o.sourceBuilds, label),
      indexUrl: o.indexUrl,
      extraIndexUrls: o.extraIndexUrls ?? [],
      findLinks: (o.findLinks ?? []).map(f => /^[a-z][a-z0-9+.-]*:\/\//i.test(f) ? f : path.resolve(f)),
      python: o.pythonExecutable ?? 'python3',
    },
    strictLock: o.strictLock ?? false,
    includeCode: input.includeCode,
    installDependencies: input.installDependencies ?? true,
    codePrefix: input.codePrefix ?? '',
    handlerModule: input.handlerModule,
    codeExcludes: o.useDefaultExcludes === false ? [] : DefaultExcludes.FUNCTION_FILES,
    userExcludes: userExcludes(o.exclude, label),
    dependencyPrefix: input.dependencyPrefix,
    excludeRuntimePackages: o.excludeRuntimePackages ?? false,
    hooks: o.commandHooks && {
      beforeInstall: (i, out) => o.commandHooks!.beforeInstall(i, out),
      afterInstall: (i, out) => o.commandHooks!.afterInstall(i, out),
    },
    cacheRoot: cacheRoot(o.cacheDir),
    cacheMaxBytes: cacheMaxBytes(),
    remoteCache: remoteCacheOf(o.remoteCache),
    bytecode: bytecodeOf(o.bytecode, label),
    // A layer's files are unpacked under /opt (its python/ folder is /opt/python).
    lambdaRoot: input.dependencyPrefix === 'python' ? '/opt' : '/var/task',
    loader: nesting.loader,
    nestThresholdBytes: nesting.thresholdBytes,
    limitBytes: input.limitBytes,
    level,
    sourceDateEpoch: process.env.SOURCE_DATE_EPOCH,
  };
}

/** The user's exclude patterns, checked now so a bad one fails before any work. */
function userExcludes(patterns: string[] | undefined, label: string): string[] {
  try {
    new PathRules(patterns ?? []);
  } catch (e: any) {
    throw new Error(`bundling.exclude at ${label}: ${e.message}`);
  }
  return [...(patterns ?? [])];
}

function sourceBuildsOf(value: SourceBuilds | undefined, label: string): 'NONE' | 'PURE_PYTHON' | 'ALL' {
  if (value === undefined) return 'PURE_PYTHON';
  if (value !== SourceBuilds.NONE && value !== SourceBuilds.PURE_PYTHON && value !== SourceBuilds.ALL) {
    throw new Error(`bundling.sourceBuilds ${String(value)} at ${label} is not a SourceBuilds; use SourceBuilds.NONE, PURE_PYTHON or ALL.`);
  }
  return value;
}

/** The loader and threshold that `nestedZip` and `nestedThresholdBytes` ask for. */
function nestingOf(input: BundleInput, o: PythonPipfileBundlingOptions): { loader?: LoaderPlacement; thresholdBytes?: number } {
  const mode = o.nestedZip ?? NestedZip.AUTO;
  if (mode === NestedZip.AUTO) {
    return { loader: input.loader, thresholdBytes: o.nestedThresholdBytes ?? (input.loader ? input.limitBytes : undefined) };
  }
  if (mode !== NestedZip.ALWAYS && mode !== NestedZip.NEVER) {
    throw new Error(`bundling.nestedZip ${String(mode)} at ${input.label} is not a NestedZip; use NestedZip.AUTO, ALWAYS or NEVER.`);
  }
  const where = `bundling.nestedZip NestedZip.${mode} at ${input.label}`;
  if (mode === NestedZip.ALWAYS && !input.loader) {
    throw new Error(`${where}: a layer cannot be a nested zip (Lambda unpacks layers itself); remove nestedZip from the layer's bundling.`);
  }
  if (o.nestedThresholdBytes !== undefined) {
    throw new Error(`${where} contradicts bundling.nestedThresholdBytes ${o.nestedThresholdBytes}; set one or the other.`);
  }
  // NEVER: no loader, so the engine never nests. ALWAYS: any size reaches a threshold of 0.
  return mode === NestedZip.NEVER ? {} : { loader: input.loader, thresholdBytes: 0 };
}

function bytecodeOf(value: Bytecode | undefined, label: string): boolean {
  if (value === undefined || value === Bytecode.NONE) return false;
  if (value === Bytecode.CHECKED_HASH) return true;
  throw new Error(`bundling.bytecode ${String(value)} at ${label} is not a Bytecode value; use Bytecode.NONE or Bytecode.CHECKED_HASH.`);
}
