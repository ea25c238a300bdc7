/** Lambda's /tmp range, in MB. */
export const DEFAULT_EPHEMERAL_MB = 512;
export const MAX_EPHEMERAL_MB = 10_240;

/**
 * The /tmp size (MB) a nested bundle needs: the unpacked tree (a 4 KiB block per file
 * on top of the bytes, plus 16 MB for the loader's staging) beside the function's usual
 * 512 MB, never less than the user asked for, at most Lambda's 10,240 MB.
 *
 * @returns `tight` when the cap leaves the function less than its usual 512 MB
 * @throws Error naming the sizes when the tree alone cannot fit in 10,240 MB
 */
export function nestedEphemeralStorageMb(label: string, unzippedBytes: number, files: number, requestedMb: number | undefined,
  largest: string): { sizeMb: number; treeMb: number; tight: boolean } {
  const treeMb = Math.ceil((unzippedBytes + files * 4096) / (1024 * 1024)) + 16;
  if (treeMb > MAX_EPHEMERAL_MB) {
    throw new Error(
      `${label}: the bundle unpacks to ${treeMb} MB in /tmp, more than Lambda's largest ephemeral storage ` +
      `(${MAX_EPHEMERAL_MB} MB). Largest: ${largest}. Remove dependencies, or deploy this function as a container image.`);
  }
  const wanted = Math.max(requestedMb ?? 0, DEFAULT_EPHEMERAL_MB, treeMb + DEFAULT_EPHEMERAL_MB);
  if (wanted > MAX_EPHEMERAL_MB) return { sizeMb: MAX_EPHEMERAL_MB, treeMb, tight: true };
  return { sizeMb: wanted, treeMb, tight: false };
}
