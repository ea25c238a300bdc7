import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { BundleInput, bundleRequest } from './bundle-request';
import { BundlePlan, cachedReport, deliverBundle, ensureBundle, planBundle } from './bundler';
import { buildBundlesSync } from './parallel-build';
import { BundleSizeReport } from '../size-report';
import { ManifestWarning } from './python/dependency-spec';
import { ZipReport } from './zip/engine';
import { zipInThisProcess } from './zip/run-sync';

// A CDK app zips in a thread of its own process: a Node.js start saved per bundle (see zipInThisProcess).
zipInThisProcess();

/** Problems with a remote cache that bundles built at once reported, each shown once per process. */
const REMOTE_SAID = new Set<string>();

/** A bundle's plan, made ahead of its `code` call (buildAtOnce). */
export interface PlannedBundle {
  readonly plan: BundlePlan;
  /** Built into the cache by buildAtOnce, in this synth. */
  readonly builtJustNow: boolean;
  /** That build's problems with the remote cache. */
  readonly remoteWarnings?: string[];
}

/** The asset code of a bundle, and what is known about the bundle in this synth. */
export interface BundledCode {
  readonly code: lambda.AssetCode;
  /** The bundle's report, when CDK asked for this stack to be bundled; else undefined. */
  readonly report?: ZipReport;
  /** Soft problems of the manifest (an out-of-date lock, ...) and the code (a file that looks like a secret), for the construct to show as warnings. */
  readonly warnings: readonly ManifestWarning[];
}

/**
 * CDK bundling for a Python function or layer: always local (no Docker), producing one
 * zip that CDK uploads as it is (`BundlingOutput.ARCHIVED`).
 *
 * Work happens only for stacks CDK asks to bundle (`Stack.bundlingRequired`: `cdk ls`,
 * `cdk destroy` and `cdk synth --exclusively` of another stack ask for none); for the
 * others no Python starts, no index is read and nothing is hashed or written, as with
 * CDK's own bundling when it skips.
 *
 * The asset is named by the zip's bytes: the bundle is found in (or built into) the build
 * cache, whose index is keyed by every input, and its sha256 becomes the asset hash. Two
 * machines that build the same zip get the same S3 key, whatever their pip version or
 * cache state; CDK skips the copy when cdk.out already has that asset.
 */
export class PythonPipfileBundling implements cdk.BundlingOptions {
  /**
   * @param planned the bundle's plan, when the caller made it (buildAtOnce) for this input
   */
  public static code(scope: Construct, input: BundleInput, planned?: PlannedBundle): BundledCode {
    // Validates the options: cheap, and done whether or not the stack is bundled.
    const request = bundleRequest(input);
    const runtime = new lambda.Runtime(input.runtime, lambda.RuntimeFamily.PYTHON);
    if (!cdk.Stack.of(scope).bundlingRequired) {
      // CDK will not call tryBundle: with OUTPUT hashing and no bundling it names the
      // asset after the construct and points it at the source folder, unread.
      const code = lambda.Code.fromAsset(input.entry, {
        assetHashType: cdk.AssetHashType.OUTPUT,
        bundling: new PythonPipfileBundling(runtime),
      });
      return { code, warnings: [] };
    }
    const plan = planned?.plan ?? planBundle(request);
    const bundle = ensureBundle(plan, { builtJustNow: planned?.builtJustNow });
    const bundling = new PythonPipfileBundling(runtime, plan, bundle.report.sha256);
    const code = lambda.Code.fromAsset(input.entry, {
      assetHashType: cdk.AssetHashType.CUSTOM,
      assetHash: bundle.report.sha256,
      bundling,
    });
    const remote = [...planned?.remoteWarnings ?? [], ...bundle.warnings ?? []].map(message => ({ id: 'possum-cdk:remoteCache', message }));
    return { code, report: bundle.report, warnings: [...plan.warnings, ...remote] };
  }

  /**
   * Builds the bundles of several inputs that are not in the cache yet at once, as the
   * possum CLI does (a pool of workers), rather than one after another as each construct
   * asks for its own; then each `code` call finds its bundle in the cache. For a construct
   * that knows all its bundles up front (SamTemplatePackager). Nothing happens for a stack
   * CDK does not bundle, with fewer than two bundles to build, or with command hooks (they
   * are functions, which the workers cannot receive): then `code` builds each as before.
   * @returns per input, its plan (for `code`), or undefined where none was made
   */
  public static buildAtOnce(scope: Construct, inputs: readonly BundleInput[]): Array<PlannedBundle | undefined> {
    if (!cdk.Stack.of(scope).bundlingRequired) return inputs.map(() => undefined);
    const requests = inputs.map(bundleRequest);
    if (requests.some(r => r.hooks)) return inputs.map(() => undefined);
    const plans = requests.map(planBundle);
    const missing = new Map(plans.filter(p => !cachedReport(p)).map(p => [p.bundleKey, p]));
    if (missing.size < 2) return plans.map(plan => ({ plan, builtJustNow: false }));
    const warnings = buildBundlesSync([...missing.values()]);
    // A build's warnings go with the first input of its bundle, as when the others found it
    // built; each worker says a remote cache is down once, and so does this process.
    const warningsOf = new Map([...missing.keys()].map((key, i) => [key, warnings[i].filter(w => !REMOTE_SAID.has(w) && REMOTE_SAID.add(w))]));
    return plans.map(plan => {
      const remoteWarnings = warningsOf.get(plan.bundleKey);
      warningsOf.delete(plan.bundleKey);
      return { plan, builtJustNow: missing.has(plan.bundleKey), remoteWarnings };
    });
  }

  /** The bundle's report, found in or built into the cache (for a layer sized on demand). */
  public static ensureReport(input: BundleInput): ZipReport {
    return ensureBundle(planBundle(bundleRequest(input))).report;
  }

  /** Adds the manifest's soft problems (an out-of-date lock, ...) as warnings on `scope`. */
  public static addWarnings(scope: Construct, code: BundledCode) {
    for (const w of code.warnings) cdk.Annotations.of(scope).addWarningV2(w.id, w.message);
  }

  /** The public form of a size report. */
  public static sizeReport(r: ZipReport): BundleSizeReport {
    return {
      files: r.files,
      unzippedBytes: r.unzippedBytes,
      zippedBytes: r.zippedBytes,
      deployedUnzippedBytes: r.deployedUnzippedBytes,
      nested: r.nested,
      sha256: r.sha256,
      largestPackages: r.largest.map(l => ({ name: l.name, bytes: l.bytes, files: l.files })),
    };
  }

  public readonly image: cdk.DockerImage;
  public readonly local: cdk.ILocalBundling;
  public readonly outputType = cdk.BundlingOutput.ARCHIVED;

  private constructor(runtime: lambda.Runtime, plan?: BundlePlan, sha256?: string) {
    // Never used: local bundling always runs, and it throws rather than fall back to Docker.
    this.image = runtime.bundlingImage;
    this.local = {
      tryBundle: (outputDir: string) => {
        if (!plan || !sha256) {
          throw new Error('possum-cdk: CDK asked to bundle an asset of a stack it had marked as not needing bundling.');
        }
        try {
          deliverBundle(plan, sha256, path.join(outputDir, 'bundle.zip'));
        } catch (e) {
          // Leave nothing behind: CDK would keep the empty output folder "for diagnosis".
          fs.rmSync(outputDir, { recursive: true, force: true });
          throw e;
        }
        return true;
      },
    };
  }

  /**
   * What CDK folds into the asset hash (it hashes JSON.stringify of the bundling options
   * after the custom hash, the zip's sha256): a constant, so the asset hash depends on the
   * zip's bytes only, never on paths or index URLs, which may hold credentials.
   */
  public toJSON(): { possum: string } {
    return { possum: 'asset named by the sha256 of its zip' };
  }
}
