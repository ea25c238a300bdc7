import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PythonPipfileBundling } from './bundling';
import { PythonPipfileBundlingOptions } from './bundling-options';
import { nestedEphemeralStorageMb } from './private/ephemeral-storage';
import { describeLargest, formatBytes, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from './private/zip/engine';
import { HANDLER_LOADER_HANDLER, REAL_HANDLER_ENV } from './private/zip/nested-loader';
import { PythonPipfileLayerVersion } from './python-pipfile-layer';
import { BundleSizeReport } from './size-report';

/** A size from which the size report becomes a warning. */
const NEAR_LIMIT_RATIO = 0.8;

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
  /** Unzipped bytes of the bundle (the function's code and dependencies). */
  public readonly unzippedBytes: number;

  /** Whether the bundle is deployed as a nested zip. */
  public readonly nested: boolean;

  /** The bundle's size report: files, sizes and the largest packages. */
  public readonly sizeReport: BundleSizeReport;

  constructor(scope: Construct, id: string, props: PythonPipfileFunctionProps) {
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
    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const layerBytes = (props.layers ?? [])
      .map(l => l instanceof PythonPipfileLayerVersion ? l.unzippedBytes : 0)
      .reduce((a, b) => a + b, 0);

    const { code, bundling } = PythonPipfileBundling.code(`${scope.node.path}/${id}`, {
      entry,
      manifest: props.manifest,
      runtime,
      architectures: [architecture],
      options: props.bundling ?? {},
      includeCode: true,
      dependencyPrefix: '',
      loader: { kind: 'handler' },
      limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - layerBytes,
    });

    super(scope, id, { ...props, runtime, architecture, handler, code });

    bundling.addWarnings(this);
    const report = bundling.report();
    this.unzippedBytes = report.unzippedBytes;
    this.nested = report.nested;
    this.sizeReport = bundling.sizeReport();

    if (report.nested) {
      const cfn = this.node.defaultChild as lambda.CfnFunction;
      cfn.handler = HANDLER_LOADER_HANDLER;
      this.addEnvironment(REAL_HANDLER_ENV, handler);
      cfn.ephemeralStorage = { size: ephemeralStorageMb(this, report, props.ephemeralStorageSize) };
    }
    reportSize(this, report, layerBytes, props.bundling?.sizeReportFile ?? false);
  }
}

function ephemeralStorageMb(scope: Construct, report: ZipReport, requested: cdk.Size | undefined): number {
  const { sizeMb, treeMb, tight } = nestedEphemeralStorageMb(scope.node.path, report.unzippedBytes, report.files,
    requested?.toMebibytes(), describeLargest(report.largest));
  if (tight) {
    cdk.Annotations.of(scope).addWarningV2('possum-cdk:ephemeralStorageTight',
      `The nested bundle needs ${treeMb} MB of /tmp; with ${sizeMb} MB the function has only ${sizeMb - treeMb} MB left for its own files.`);
  }
  return sizeMb;
}

function reportSize(fn: PythonPipfileFunction, report: ZipReport, layerBytes: number, toFile: boolean) {
  const limit = LAMBDA_UNZIPPED_LIMIT_BYTES - layerBytes;
  if (report.nested) {
    cdk.Annotations.of(fn).addWarningV2('possum-cdk:nestedBundle',
      `The bundle unzips to ${formatBytes(report.unzippedBytes)}, over the ${formatBytes(limit)} Lambda allows` +
      `${layerBytes ? ` beside ${formatBytes(layerBytes)} of layers` : ''}, so it is deployed as a nested zip that unpacks to /tmp on ` +
      `each cold start (about ${(report.unzippedBytes / 200e6).toFixed(1)} s at one vCPU). Largest: ${describeLargest(report.largest)}.`);
  } else if (report.deployedUnzippedBytes >= NEAR_LIMIT_RATIO * limit) {
    cdk.Annotations.of(fn).addWarningV2('possum-cdk:bundleNearLimit',
      `The bundle unzips to ${formatBytes(report.deployedUnzippedBytes)}, ${Math.round(100 * report.deployedUnzippedBytes / limit)}% of the ` +
      `${formatBytes(limit)} Lambda allows${layerBytes ? ` beside ${formatBytes(layerBytes)} of layers` : ''}. Largest: ${describeLargest(report.largest)}.`);
  }
  if (toFile) {
    const outdir = cdk.Stage.of(fn)?.outdir;
    if (outdir) {
      fs.mkdirSync(outdir, { recursive: true });
      fs.writeFileSync(path.join(outdir, `possum-size-report.${fn.node.addr}.json`),
        JSON.stringify({ path: fn.node.path, layerBytes, ...fn.sizeReport }, undefined, 2) + '\n');
    }
  }
}
