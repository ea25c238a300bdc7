import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { nestedEphemeralStorageMb } from './ephemeral-storage';
import { BundleSizeReport } from '../size-report';
import { describeLargest, formatBytes, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from './zip/engine';

/** A size from which the size report becomes a warning. */
const NEAR_LIMIT_RATIO = 0.8;

/** The /tmp size (MB) for a nested bundle; warns when the cap leaves the function little room. */
export function ephemeralStorageMb(scope: Construct, report: ZipReport, requestedMb: number | undefined): number {
  const { sizeMb, treeMb, tight } = nestedEphemeralStorageMb(scope.node.path, report.unzippedBytes, report.files,
    requestedMb, describeLargest(report.largest));
  if (tight) {
    cdk.Annotations.of(scope).addWarningV2('possum-cdk:ephemeralStorageTight',
      `The nested bundle needs ${treeMb} MB of /tmp; with ${sizeMb} MB the function has only ${sizeMb - treeMb} MB left for its own files.`);
  }
  return sizeMb;
}

/** Warns when a bundle is nested or near Lambda's limit, and writes the report file on request. */
export function reportSize(scope: Construct, report: ZipReport, sizeReport: BundleSizeReport, layerBytes: number, toFile: boolean) {
  const limit = LAMBDA_UNZIPPED_LIMIT_BYTES - layerBytes;
  const beside = layerBytes ? ` beside ${formatBytes(layerBytes)} of layers` : '';
  if (report.nested) {
    cdk.Annotations.of(scope).addWarningV2('possum-cdk:nestedBundle',
      `The bundle unzips to ${formatBytes(report.unzippedBytes)}, over the ${formatBytes(limit)} Lambda allows${beside}, ` +
      'so it is deployed as a nested zip that unpacks to /tmp on each cold start ' +
      `(about ${(report.unzippedBytes / 200e6).toFixed(1)} s at one vCPU). Largest: ${describeLargest(report.largest)}.`);
  } else if (report.deployedUnzippedBytes >= NEAR_LIMIT_RATIO * limit) {
    cdk.Annotations.of(scope).addWarningV2('possum-cdk:bundleNearLimit',
      `The bundle unzips to ${formatBytes(report.deployedUnzippedBytes)}, ${Math.round(100 * report.deployedUnzippedBytes / limit)}% of the ` +
      `${formatBytes(limit)} Lambda allows${beside}. Largest: ${describeLargest(report.largest)}.`);
  }
  if (toFile) {
    const outdir = cdk.Stage.of(scope)?.outdir;
    if (outdir) {
      fs.mkdirSync(outdir, { recursive: true });
      fs.writeFileSync(path.join(outdir, `possum-size-report.${scope.node.addr}.json`),
        JSON.stringify({ path: scope.node.path, layerBytes, ...sizeReport }, undefined, 2) + '\n');
    }
  }
}
