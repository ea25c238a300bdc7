import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { PythonPipfileBundling } from './private/asset-code';
import { ephemeralStorageMb, reportSize } from './private/bundle-wiring';
import { forCaller } from './private/caller-errors';
import { handlerModuleOf } from './private/handler-module';
import { layerUnzippedBytes } from './private/layer-sizes';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from './private/zip/engine';
import { HANDLER_LOADER_HANDLER, REAL_HANDLER_ENV } from './private/zip/nested-loader';
import { BundleSizeReport } from './size-report';


/**
 * Properties of a PythonPipfileFunction.
 */
export interface PythonPipfileFunctionProps extends lambda.FunctionOptions {
  /**
   * The function's folder: its handler module and its dependency manifest.
   */
  readonly entry: string;

  /**
   * The runtime.
   * @default lambda.Runtime.PYTHON_3_13
   */
  readonly runtime?: lambda.Runtime;

  /**
   * The handler module's file, relative to `entry`.
   * @default index.py
   */
  readonly index?: string;

  /**
   * The handler function's name in `index`.
   * @default handler
   */
  readonly handler?: string;

  /**
   * The dependency manifest, relative to `entry`: Pipfile.lock, Pipfile, uv.lock, poetry.lock,
   * a requirements file (*.txt) or pyproject.toml.
   * @default - the first of Pipfile.lock, Pipfile, uv.lock (with pyproject.toml), poetry.lock,
   * requirements.txt and pyproject.toml (with [project].dependencies) found in `entry`; none is fine
   */
  readonly manifest?: string;

  /**
   * How dependencies are installed and the bundle is built.
   * @default - pip, wheels only, the user build cache
   */
  readonly bundling?: PythonPipfileBundlingOptions;
}

/**
 * A Python Lambda function whose code is a folder with a handler and its own dependency
 * manifest, bundled on this machine without Docker into one byte-reproducible zip.
 *
 * Bundles larger than Lambda's unzipped limit are deployed as a nested zip that unpacks
 * to /tmp on the first cold start; the function's handler is pointed at the loader, its
 * real handler goes into the POSSUM_HANDLER variable, and /tmp is sized to fit.
 */
export class PythonPipfileFunction extends lambda.Function {
  /**
   * Unzipped bytes of the bundle (the function's code and dependencies).
   * @default - undefined when this synth does not bundle the function's stack (see `sizeReport`)
   */
  public readonly unzippedBytes?: number;

  /**
   * Whether the bundle is deployed as a nested zip.
   * @default - undefined when this synth does not bundle the function's stack (see `sizeReport`)
   */
  public readonly nested?: boolean;

  /**
   * The bundle's size report: files, sizes and the largest packages. Known only when CDK
   * bundles the function's stack in this synth; undefined for `cdk ls`, `cdk destroy`,
   * `cdk synth --exclusively` of another stack, or a test app whose context sets
   * `aws:cdk:bundling-stacks` to `[]` (then no dependency is installed and nothing is
   * zipped, and the template omits what only the bundle decides: the nested handler,
   * its environment variable and its ephemeral storage).
   * @default - undefined when this synth does not bundle the function's stack
   */
  public readonly sizeReport?: BundleSizeReport;

  constructor(scope: Construct, id: string, props: PythonPipfileFunctionProps) {
    try {
      const runtime = props.runtime ?? lambda.Runtime.PYTHON_3_13;
      if (runtime.family !== lambda.RuntimeFamily.PYTHON) {
        throw new Error(`${scope.node.path}/${id}: runtime ${runtime.name} is not a Python runtime; use lambda.Runtime.PYTHON_3_x.`);
      }
      const entry = path.resolve(props.entry);
      if (!fs.existsSync(entry) || !fs.statSync(entry).isDirectory()) {
        throw new Error(`${scope.node.path}/${id}: entry ${props.entry} is not a folder (resolved to ${entry}); point entry at the function's folder.`);
      }
      const index = props.index ?? 'index.py';
      if (!fs.existsSync(path.join(entry, index))) {
        throw new Error(`${scope.node.path}/${id}: index ${index} does not exist in ${entry}; set index to the handler module's file.`);
      }
      const handler = `${index.replace(/\.py$/, '')}.${props.handler ?? 'handler'}`;
      // Lambda's default; the template names an architecture only when the props do.
      const architecture = props.architecture ?? lambda.Architecture.X86_64;
      const bundlingRequired = cdk.Stack.of(scope).bundlingRequired;
      const layerBytes = bundlingRequired ? (props.layers ?? []).map(layerUnzippedBytes).reduce((a, b) => a + b, 0) : 0;

      const bundled = PythonPipfileBundling.code(scope, {
        label: `${scope.node.path}/${id}`,
        entry,
        manifest: props.manifest,
        runtime: runtime.name,
        architectures: [architecture.name],
        options: props.bundling ?? {},
        includeCode: true,
        dependencyPrefix: '',
        loader: { kind: 'handler' },
        handlerModule: handlerModuleOf(handler),
        limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - layerBytes,
      });

      super(scope, id, { ...props, runtime, handler, code: bundled.code });

      PythonPipfileBundling.addWarnings(this, bundled);
      const report = bundled.report;
      if (!report) return;
      this.unzippedBytes = report.unzippedBytes;
      this.nested = report.nested;
      this.sizeReport = PythonPipfileBundling.sizeReport(report);

      if (report.nested) {
        const cfn = this.node.defaultChild as lambda.CfnFunction;
        cfn.handler = HANDLER_LOADER_HANDLER;
        this.addEnvironment(REAL_HANDLER_ENV, handler);
        cfn.ephemeralStorage = { size: ephemeralStorageMb(this, report, props.ephemeralStorageSize?.toMebibytes()) };
      }
      reportSize(this, report, this.sizeReport, layerBytes, props.bundling?.sizeReportFile ?? false);
    } catch (e) {
      throw forCaller(e);
    }
  }
}
