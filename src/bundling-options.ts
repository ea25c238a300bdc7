import { Installer } from './installer';

/**
 * Commands run around the dependency install, on this machine, with bash.
 */
export interface ICommandHooks {
  /**
   * Commands to run before dependencies are installed, in the function's folder.
   * @param inputDir the function's folder
   * @param outputDir the folder dependencies are installed into
   */
  beforeInstall(inputDir: string, outputDir: string): string[];

  /**
   * Commands to run after dependencies are installed, in the function's folder.
   * @param inputDir the function's folder
   * @param outputDir the folder dependencies were installed into
   */
  afterInstall(inputDir: string, outputDir: string): string[];
}

/**
 * Default exclude patterns for a function's own files. Your `exclude` patterns are added
 * after them, so a pattern starting with `!` can keep a file they leave out
 * (`'!certs/global-bundle.pem'`); `useDefaultExcludes: false` starts from none.
 */
export class DefaultExcludes {
  /**
   * Files that hold credentials or keys: environment files, SSH and cloud CLI folders,
   * private keys and keystores, package-manager credentials, Terraform state.
   */
  public static readonly SECRETS: string[] = [
    '.env', '.env.*', '.envrc', '.ssh/', '.aws/', '.azure/', '.gnupg/', '.docker/', '.kube/', '.config/gcloud/',
    'id_rsa', 'id_rsa.*', 'id_dsa', 'id_dsa.*', 'id_ecdsa', 'id_ecdsa.*', 'id_ed25519', 'id_ed25519.*',
    '*.pem', '*.key', '*.ppk', '*.p12', '*.pfx', '*.jks', '*.keystore', '*.kdbx',
    '.npmrc', '.pypirc', '.netrc', '_netrc', '.git-credentials', '.dockercfg', '.boto', '.s3cfg', 'pip.conf', 'pip.ini',
    '*.tfstate', '*.tfstate.*', '*.tfvars', '.terraform/',
  ];

  /**
   * Build and editor debris: version control, virtual environments, caches, CDK and SAM
   * output, the function's tests.
   */
  public static readonly BUILD_FILES: string[] = [
    '.git', '.hg', '.svn/', '.venv/', 'venv/', 'cdk.out/', '.aws-sam/', '.serverless/', 'node_modules/', '__pycache__/',
    '.pytest_cache/', '.mypy_cache/', '.ruff_cache/', '.tox/', '.nox/', '.coverage', '.coverage.*', 'htmlcov/',
    '.idea/', '.vscode/', '.DS_Store', 'Thumbs.db', '*.swp', '/tests/', '/test/',
  ];

  /** Every default: SECRETS and BUILD_FILES. */
  public static readonly FUNCTION_FILES: string[] = [...DefaultExcludes.SECRETS, ...DefaultExcludes.BUILD_FILES];

  private constructor() {}
}

/**
 * Whether the bundle carries compiled bytecode. Lambda's code folder is read-only, so
 * without it every cold start compiles every module it imports.
 */
export enum Bytecode {
  /** Sources only (the default): Python compiles on each cold start. */
  NONE = 'NONE',
  /**
   * `.pyc` files in `checked-hash` mode next to every module (dependencies and your code),
   * compiled by a Python of the runtime's version with the paths Lambda sees
   * (`/var/task/...`, `/opt/python/...`): the same bytes on every machine, and valid as long
   * as the source beside them is unchanged (Python checks its hash, not its mtime). They
   * count against the 250 MB limit (about a quarter more unzipped for a typical tree).
   */
  CHECKED_HASH = 'CHECKED_HASH',
}

/**
 * When a function's bundle is deployed as a nested zip (a zip inside the zip, unpacked to
 * /tmp on the first cold start).
 */
export enum NestedZip {
  /** Nested only when the unzipped bundle would reach Lambda's limit (or `nestedThresholdBytes`). */
  AUTO = 'AUTO',
  /** Always nested, whatever the size: to try the cold-start path on a small function. */
  ALWAYS = 'ALWAYS',
  /** Never nested: a bundle over Lambda's limit is a synth error instead. */
  NEVER = 'NEVER',
}

/**
 * What may be built from source on the machine that synthesizes, when a dependency has no
 * wheel for the function's runtime and architecture: an sdist from the index (old pins
 * such as beautifulsoup4 4.6.3 or future 0.18.2 have only that), a local path or uv
 * workspace package, a git checkout. Building runs the package's build code (setup.py or
 * its build backend) on this machine.
 */
export enum SourceBuilds {
  /**
   * Nothing: wheels only (`--only-binary=:all:`). A dependency that has no wheel for the
   * target, or that is a local path or git source, is an error naming it.
   */
  NONE = 'NONE',
  /**
   * Build an sdist, local path or git source on this machine only when the result is a
   * pure-Python wheel (`py3-none-any`), which runs on any Lambda runtime and architecture;
   * a source that builds a platform-specific wheel is an error naming it. Built wheels of
   * index packages are cached by their sdist's hashes, which are still checked.
   */
  PURE_PYTHON = 'PURE_PYTHON',
  /**
   * Build anything from source, native code included. The machine's Python version and
   * architecture must then match the runtime's (checked), or the built code would not load.
   */
  ALL = 'ALL',
}

/**
 * How a Python function's dependencies are installed and its bundle is built.
 */
export interface PythonPipfileBundlingOptions {
  /**
   * The installer: uv (the version possum-cdk pins and provisions) or pip.
   * @default - uv, looking packages up on every index as pip does (see Installer.uv())
   */
  readonly installer?: Installer;

  /**
   * Compile the bundle's modules to bytecode for faster cold starts. Needs a Python of the
   * runtime's version on this machine: `pythonExecutable` when it is that version, else
   * `python3.X` on PATH, else a uv-managed Python (`uv python install 3.X`).
   * @default Bytecode.NONE
   */
  readonly bytecode?: Bytecode;

  /**
   * What may be built from source on this machine when there is no wheel for the target
   * (sdists, local path, workspace and git sources).
   * @default SourceBuilds.PURE_PYTHON
   */
  readonly sourceBuilds?: SourceBuilds;

  /**
   * The package index. May contain credentials (`https://user:token@host/simple`), which never
   * appear in logs, errors, the asset hash or the cache key. `${VAR}` is expanded from the environment.
   * @default - the first source of the Pipfile/Pipfile.lock, else PyPI
   */
  readonly indexUrl?: string;

  /**
   * More package indexes, searched after `indexUrl`. Credentials are handled as for `indexUrl`.
   * @default - none
   */
  readonly extraIndexUrls?: string[];

  /**
   * Folders or URLs of wheels to install from (pip's `--find-links`).
   * @default - none
   */
  readonly findLinks?: string[];

  /**
   * Leave out boto3, botocore and s3transfer, which the Lambda runtime provides.
   * @default false - bundle them, so the function runs with the versions it was tested with
   */
  readonly excludeRuntimePackages?: boolean;

  /**
   * Patterns of the function's own files to leave out, added after the default excludes
   * (.gitignore-like: `*`, `**`, a trailing `/` for folders, a leading `/` to anchor at the
   * function's folder, a leading `!` to keep what an earlier pattern left out; the last
   * matching pattern decides). The dependency manifests (requirements.txt, Pipfile,
   * Pipfile.lock, pyproject.toml, uv.lock, poetry.lock and the files they include) are build
   * inputs and left out too; keep one with `'!requirements.txt'`.
   * @default - none beyond DefaultExcludes.FUNCTION_FILES
   */
  readonly exclude?: string[];

  /**
   * Apply DefaultExcludes.FUNCTION_FILES before `exclude`. With `false` only your
   * `exclude` patterns (and the manifests) are left out; files that look like secrets are
   * still reported in a warning.
   * @default true
   */
  readonly useDefaultExcludes?: boolean;

  /**
   * Commands to run before and after the dependency install.
   * @default - none
   */
  readonly commandHooks?: ICommandHooks;

  /**
   * The build cache folder, shared by every app on this machine.
   * @default - $POSSUM_CACHE_DIR if set, else $XDG_CACHE_HOME/possum-cdk, else ~/.cache/possum-cdk
   */
  readonly cacheDir?: string;

  /**
   * A build cache in S3 shared by CI runners, as `s3://BUCKET` or `s3://BUCKET/PREFIX`:
   * a bundle is looked up there (by the same key as in the local cache) before it is built,
   * and published there after a build. A download is used only when its bytes match the
   * sha256 it is stored under; an unreachable or unreadable bucket is a warning and a local
   * build. Credentials come from the standard AWS chain; the region, a CA bundle and
   * proxies as the AWS CLI finds them (AWS_REGION, AWS_DEFAULT_REGION, the profile's
   * `region`; AWS_CA_BUNDLE, the profile's `ca_bundle`; HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
   * Anyone who can write to the bucket can change your bundles: give write access to
   * trusted CI only.
   * @default - $POSSUM_REMOTE_CACHE if set, else none
   */
  readonly remoteCache?: string;

  /**
   * Fail when Pipfile.lock is out of date with Pipfile, instead of warning.
   * @default false
   */
  readonly strictLock?: boolean;

  /**
   * The Python interpreter on this machine that runs pip and builds sdists (any Python 3;
   * it does not need to match the runtime unless `sourceBuilds` is `SourceBuilds.ALL`).
   * @default python3
   */
  readonly pythonExecutable?: string;

  /**
   * Unzipped size in bytes from which the bundle is deployed as a nested zip that unpacks
   * to /tmp at cold start.
   * @default - Lambda's 262,144,000-byte limit less the size of the layers possum-cdk built
   */
  readonly nestedThresholdBytes?: number;

  /**
   * Whether the bundle may, must or must not be a nested zip. Layers are never nested:
   * `NestedZip.ALWAYS` on a layer is an error.
   * @default NestedZip.AUTO
   */
  readonly nestedZip?: NestedZip;

  /**
   * zlib compression level of the bundle, 0 (store) to 9.
   * @default 6
   */
  readonly compressionLevel?: number;

  /**
   * Write the bundle's size report to `possum-size-report.<construct address>.json` in the
   * cloud assembly folder (cdk.out).
   * @default false
   */
  readonly sizeReportFile?: boolean;
}
