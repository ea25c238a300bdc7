/** What to install for a function: the common result of every manifest reader. */

export type ManifestKind = 'Pipfile.lock' | 'Pipfile' | 'uv.lock' | 'poetry.lock' | 'requirements.txt' | 'pyproject.toml';

/** One run of the installer. */
export interface InstallStep {
  /** requirements.txt text handed to the installer. */
  readonly requirements: string;
  /** Every requirement is pinned (and hashed, where the manifest has hashes): install exactly these. */
  readonly noDeps: boolean;
}

export interface ManifestWarning {
  readonly id: string;
  readonly message: string;
}

export interface DependencySpec {
  readonly kind: ManifestKind | 'none';
  /** Absolute path of the manifest, if any. */
  readonly manifestFile?: string;
  /** Every file whose bytes decide what is installed (the manifest, -r includes, pyproject.toml for locks). */
  readonly inputFiles: string[];
  readonly steps: InstallStep[];
  /** Package indexes the manifest itself names (Pipfile sources). May hold credentials: never log them. */
  readonly manifestIndexUrls: string[];
  readonly warnings: ManifestWarning[];
}

/**
 * Install steps for a lock: pip checks hashes for all requirements of a run or for none,
 * so entries a lock cannot hash (VCS checkouts, local paths) go into a second run.
 */
export function lockedSteps(hashed: readonly string[], unhashed: readonly string[]): InstallStep[] {
  const steps: InstallStep[] = [];
  if (hashed.length) steps.push({ requirements: hashed.join('\n') + '\n', noDeps: true });
  if (unhashed.length) steps.push({ requirements: unhashed.join('\n') + '\n', noDeps: true });
  return steps;
}

/** The spec of a lock file read natively: its pinned requirements, no manifest-level indexes. */
export function lockFileSpec(kind: ManifestKind, file: string, inputFiles: string[],
  requirements: { hashed: readonly string[]; unhashed: readonly string[] }): DependencySpec {
  return {
    kind,
    manifestFile: file,
    inputFiles,
    steps: lockedSteps(requirements.hashed, requirements.unhashed),
    manifestIndexUrls: [],
    warnings: [],
  };
}
