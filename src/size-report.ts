/**
 * Unzipped bytes under one top-level package (its dist-info and .libs folded in).
 */
export interface PackageSize {
  /** Import name, e.g. `numpy`. */
  readonly name: string;
  /** Unzipped bytes. */
  readonly bytes: number;
  /** Number of files. */
  readonly files: number;
}

/**
 * What a bundle holds, against Lambda's limits.
 */
export interface BundleSizeReport {
  /** Number of files of the function's tree. */
  readonly files: number;
  /** Unzipped bytes of the function's tree (what /tmp holds when nested). */
  readonly unzippedBytes: number;
  /** Bytes of the zip uploaded to S3. */
  readonly zippedBytes: number;
  /** Unzipped bytes Lambda counts against its 262,144,000-byte limit. */
  readonly deployedUnzippedBytes: number;
  /** Whether the bundle is a nested zip. */
  readonly nested: boolean;
  /** sha256 of the zip. */
  readonly sha256: string;
  /** The largest top-level packages, biggest first. */
  readonly largestPackages: PackageSize[];
}
