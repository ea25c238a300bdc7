/** What to install for a function: the common result of every manifest reader. */

export type ManifestKind = 'Pipfile.lock' | 'Pipfile' | 'uv.lock' | 'poetry.lock' | 'requirements.txt' | 'pyproject.toml';

/** One run of the installer over requirements already pinned for the target. */
export interface InstallStep {
  /** requirements.txt text. */
  readonly requirements: string;
  /** Whether every line carries hashes (pip checks hashes for all requirements of a run or none). */
  readonly hashed: boolean;
}

/**
 * An unlocked manifest (requirements.txt, Pipfile, pyproject.toml), which uv resolves for
 * the function's runtime and architecture before anything is installed.
 */
export interface ResolveInput {
  /** A requirements file or pyproject.toml that uv reads itself ... */
  readonly file?: string;
  /** ... or requirement lines (a Pipfile's packages, a Poetry project's dependencies). */
  readonly text?: string;
  /** The folder relative paths in the manifest are resolved against: the manifest's own. */
  readonly cwd: string;
  /** Pins the resolution must keep (a lock's other packages, when only some of its entries are unpinned). */
  readonly constraints?: string;
  /**
   * Hashes the manifest itself gives (`name==1.0 --hash=sha256:...` in a requirements file),
   * by normalized package name: they replace the index's hashes for that package, so the
   * file the user vouched for is the one installed.
   */
  readonly hashes?: Readonly<Record<string, readonly string[]>>;
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
  /** Requirements pinned for the target (lock files), installed without resolving. */
  readonly steps: InstallStep[];
  /** Set for unlocked manifests: resolved for the target first, then installed pinned. */
  readonly resolve?: ResolveInput;
  /**
   * Local folders and files that dependencies are built from (path, editable and
   * workspace sources): their content is part of the cache key.
   */
  readonly localSources: string[];
  /** Package indexes the manifest itself names (Pipfile sources). May hold credentials: never log them. */
  readonly manifestIndexUrls: string[];
  /** Indexes the manifest adds beside the main one (a requirements file's --extra-index-url). May hold credentials. */
  readonly manifestExtraIndexUrls?: string[];
  readonly warnings: ManifestWarning[];
}

/** Whether the spec installs anything. */
export function hasDependencies(spec: DependencySpec): boolean {
  return spec.steps.length > 0 || spec.resolve !== undefined;
}

/**
 * Install steps for pinned requirements: pip checks hashes for all requirements of a run
 * or for none, so entries without hashes (VCS checkouts, local paths) go into a second run.
 */
export function lockedSteps(hashed: readonly string[], unhashed: readonly string[]): InstallStep[] {
  const steps: InstallStep[] = [];
  if (hashed.length) steps.push({ requirements: hashed.join('\n') + '\n', hashed: true });
  if (unhashed.length) steps.push({ requirements: unhashed.join('\n') + '\n', hashed: false });
  return steps;
}

/** The spec of a lock file read natively: its pinned requirements, no manifest-level indexes. */
export function lockFileSpec(kind: ManifestKind, file: string, inputFiles: string[],
  requirements: { hashed: readonly string[]; unhashed: readonly string[] }, localSources: string[] = [],
  warnings: ManifestWarning[] = []): DependencySpec {
  return {
    kind,
    manifestFile: file,
    inputFiles,
    steps: lockedSteps(requirements.hashed, requirements.unhashed),
    localSources,
    manifestIndexUrls: [],
    warnings,
  };
}
