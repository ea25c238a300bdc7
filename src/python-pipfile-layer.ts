import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { PythonPipfileBundling } from './private/asset-code';
import { forCaller } from './private/caller-errors';
import { registerLayerSize } from './private/layer-sizes';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from './private/zip/engine';
import { BundleSizeReport } from './size-report';

/**
 * Properties of a PythonPipfileLayerVersion.
 */
export interface PythonPipfileLayerVersionProps extends lambda.LayerVersionOptions {
  /**
   * The folder with the layer's dependency manifest.
   */
  readonly entry: string;

  /**
   * The dependency manifest, relative to `entry`.
   * @default - detected in `entry` as for PythonPipfileFunction
   */
  readonly manifest?: string;

  /**
   * The runtime the dependencies are installed for (wheels are chosen for its Python
   * version and glibc); it is the layer's compatible runtime.
   * @default lambda.Runtime.PYTHON_3_13
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Architectures the layer serves. With more than one, the dependencies are installed for
   * each and must come out identical (pure-Python); otherwise synth fails and asks for one
   * layer per architecture.
   * @default [lambda.Architecture.X86_64]
   */
  readonly compatibleArchitectures?: lambda.Architecture[];

  /**
   * How dependencies are installed and the bundle is built.
   * @default - pip, wheels only, the user build cache
   */
  readonly bundling?: PythonPipfileBundlingOptions;
}

/**
 * A Lambda layer of a manifest's Python dependencies, under `python/`, bundled on this
 * machine without Docker into one byte-reproducible zip.
 */
export class PythonPipfileLayerVersion extends lambda.LayerVersion {
  /**
   * Unzipped bytes of the layer: PythonPipfileFunction counts them against Lambda's limit.
   * @default - undefined when this synth does not bundle the layer's stack (see `sizeReport`)
   */
  public readonly unzippedBytes?: number;

  /**
   * The layer's size report. Known only when CDK bundles the layer's stack in this synth
   * (undefined for `cdk ls`, `cdk synth --exclusively` of another stack, or a context
   * with `aws:cdk:bundling-stacks` set to `[]`).
   * @default - undefined when this synth does not bundle the layer's stack
   */
  public readonly sizeReport?: BundleSizeReport;

  constructor(scope: Construct, id: string, props: PythonPipfileLayerVersionProps) {
    try {
      const runtime = props.runtime ?? lambda.Runtime.PYTHON_3_13;
      const architectures = props.compatibleArchitectures ?? [lambda.Architecture.X86_64];
      if (architectures.length === 0) {
        throw new Error(`${scope.node.path}/${id}: compatibleArchitectures is empty; list at least one architecture.`);
      }
      const label = `${scope.node.path}/${id}`;
      const input = {
        label,
        entry: path.resolve(props.entry),
        manifest: props.manifest,
        runtime: runtime.name,
        architectures: architectures.map(a => a.name),
        options: props.bundling ?? {},
        includeCode: false,
        dependencyPrefix: 'python',
        limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES,
      };
      const bundled = PythonPipfileBundling.code(scope, input);
      super(scope, id, {
        ...props,
        code: bundled.code,
        compatibleRuntimes: [runtime],
        compatibleArchitectures: architectures,
      });
      PythonPipfileBundling.addWarnings(this, bundled);
      const report = bundled.report;
      this.sizeReport = report && PythonPipfileBundling.sizeReport(report);
      this.unzippedBytes = report?.unzippedBytes;
      // A function in a stack CDK bundles needs this layer's size even when the layer's
      // own stack is not bundled in this synth: then it is found (or built) in the cache.
      registerLayerSize(this, () => report?.unzippedBytes ?? PythonPipfileBundling.ensureReport(input).unzippedBytes);
    } catch (e) {
      throw forCaller(e);
    }
  }
}
