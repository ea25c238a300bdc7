import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { bundleRequest } from './private/bundle-request';
import { BundlePlan, buildBundle, cachedReport, planBundle } from './private/bundler';
import { ZipReport } from './private/zip/engine';
import { LoaderPlacement } from './private/zip/nested-loader';
import { BundleSizeReport } from './size-report';

/** What the function and layer constructs ask of the bundling. */
export interface BundledCodeProps {
  readonly entry: string;
  readonly manifest?: string;
  readonly runtime: lambda.Runtime;
  readonly architectures: lambda.Architecture[];
  readonly options: PythonPipfileBundlingOptions;
  readonly includeCode: boolean;
  readonly dependencyPrefix: string;
  readonly loader?: LoaderPlacement;
  /** Unzipped bytes this bundle may use (Lambda's limit less known layers). */
  readonly limitBytes: number;
}

/**
 * CDK bundling for a Python function or layer: always local (no Docker), producing one
 * zip that CDK uploads as it is (`BundlingOutput.ARCHIVED`).
 */
export class PythonPipfileBundling implements cdk.BundlingOptions {
  /**
   * Asset code for the props. The asset hash is the bundle's cache key, so an unchanged
   * function keeps its S3 key and CDK skips bundling when cdk.out already has it.
   */
  public static code(label: string, props: BundledCodeProps): { code: lambda.AssetCode; bundling: PythonPipfileBundling } {
    const plan = planBundle(bundleRequest({
      ...props,
      label,
      runtime: props.runtime.name,
      architectures: props.architectures.map(a => a.name),
    }));
    const bundling = new PythonPipfileBundling(plan, props.runtime);
    const code = lambda.Code.fromAsset(props.entry, {
      assetHashType: cdk.AssetHashType.CUSTOM,
      assetHash: plan.bundleKey,
      bundling,
    });
    return { code, bundling };
  }

  public readonly image: cdk.DockerImage;
  public readonly local: cdk.ILocalBundling;
  public readonly outputType = cdk.BundlingOutput.ARCHIVED;
  private built?: ZipReport;

  private constructor(private readonly plan: BundlePlan, runtime: lambda.Runtime) {
    // Never used: local bundling always runs, and it throws rather than fall back to Docker.
    this.image = runtime.bundlingImage;
    this.local = {
      tryBundle: (outputDir: string) => {
        try {
          this.built = buildBundle(this.plan, path.join(outputDir, 'bundle.zip'));
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
   * What CDK folds into the asset hash (it hashes JSON.stringify of the bundling options):
   * only the bundle key, never paths or index URLs, which may hold credentials.
   */
  public toJSON(): { bundleKey: string } {
    return { bundleKey: this.plan.bundleKey };
  }

  /** Adds the manifest's soft problems (an out-of-date lock, ...) as warnings on `scope`. */
  public addWarnings(scope: Construct) {
    for (const w of this.plan.dependencies.warnings) cdk.Annotations.of(scope).addWarningV2(w.id, w.message);
  }

  /** The public form of the size report. */
  public sizeReport(): BundleSizeReport {
    const r = this.report();
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

  /**
   * The size report of the bundle: from this synth's bundling, else from the cache (CDK skips
   * bundling when cdk.out already has the asset), else rebuilt into the cache.
   */
  public report(): ZipReport {
    if (this.built) return this.built;
    this.built = cachedReport(this.plan);
    if (this.built) return this.built;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-report-'));
    try {
      this.built = buildBundle(this.plan, path.join(scratch, 'bundle.zip'));
      return this.built;
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
}
