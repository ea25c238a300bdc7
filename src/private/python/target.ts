/**
 * What a Lambda Python runtime accepts: interpreter version, ABI and the manylinux
 * platform tags its glibc can load (see FIELD-NOTES: python3.10/3.11 run on Amazon
 * Linux 2, glibc 2.26; python3.12+ on Amazon Linux 2023, glibc 2.34).
 */
export interface PythonTarget {
  /** e.g. `python3.12` */
  readonly runtime: string;
  /** e.g. `3.12` */
  readonly pythonVersion: string;
  /** e.g. `cp312` */
  readonly abi: string;
  /** `x86_64` or `aarch64` (the wheel tag suffix) */
  readonly machine: 'x86_64' | 'aarch64';
  /** Lambda's name for the architecture: `x86_64` or `arm64`. */
  readonly architecture: 'x86_64' | 'arm64';
  readonly glibc: string;
  /** Every platform tag the runtime can load, most specific first. */
  readonly platformTags: string[];
}

/** Python runtimes AWS Lambda runs (FIELD-NOTES): python3.10 to python3.14. */
export const OLDEST_PYTHON_MINOR = 10;
export const NEWEST_PYTHON_MINOR = 14;

/**
 * What is wrong with a Lambda runtime name, as a phrase that follows it (`python3.9, which ...`),
 * or undefined for one Lambda runs. The construct and SAM templates share it, so both accept the
 * same runtimes with the same words.
 */
export function pythonRuntimeProblem(runtime: string): string | undefined {
  const m = /^python3\.(\d+)$/.exec(runtime);
  const range = `python3.${OLDEST_PYTHON_MINOR} to python3.${NEWEST_PYTHON_MINOR}`;
  if (!m) {
    const hint = /^python\s*3\.\d+$/i.test(runtime.trim()) ? ` (runtime names are lower case: ${runtime.trim().toLowerCase().replace(/\s+/g, '')})` : '';
    return `${runtime}, which is not a Python runtime${hint}; use one of ${range}.`;
  }
  const minor = Number(m[1]);
  if (minor < OLDEST_PYTHON_MINOR) {
    return `${runtime}, which AWS Lambda has deprecated (functions on it can no longer be created or updated); use python3.${OLDEST_PYTHON_MINOR} or later.`;
  }
  if (minor > NEWEST_PYTHON_MINOR) return `${runtime}, which is not a runtime AWS Lambda runs (possum-cdk knows ${range}); check the name.`;
  return undefined;
}

/**
 * The target for a Lambda runtime name (`python3.X`) and architecture name (`x86_64` or `arm64`).
 * @throws Error naming the runtime when it is not a Python 3 runtime this library knows.
 */
export function pythonTarget(runtime: string, architecture: string): PythonTarget {
  const problem = pythonRuntimeProblem(runtime);
  if (problem) throw new Error(`Runtime ${problem}`);
  const minor = Number(runtime.slice('python3.'.length));
  if (architecture !== 'x86_64' && architecture !== 'arm64') {
    throw new Error(`Architecture ${architecture} is not one Lambda runs Python on; use x86_64 or arm64.`);
  }
  const machine = architecture === 'arm64' ? 'aarch64' : 'x86_64';
  const glibcMinor = minor >= 12 ? 34 : 26;
  return {
    runtime,
    pythonVersion: `3.${minor}`,
    abi: `cp3${minor}`,
    machine,
    architecture,
    glibc: `2.${glibcMinor}`,
    platformTags: manylinuxTags(glibcMinor, machine),
  };
}

/**
 * manylinux tags for a glibc 2.N and machine, newest first, with the legacy aliases.
 * pip does not reliably expand a new tag to the older ones, so all are passed.
 */
export function manylinuxTags(glibcMinor: number, machine: 'x86_64' | 'aarch64'): string[] {
  const tags: string[] = [];
  // aarch64 wheels start at manylinux2014 (glibc 2.17); x86_64 goes back to manylinux1 (2.5).
  const oldest = machine === 'aarch64' ? 17 : 5;
  for (let n = glibcMinor; n >= oldest; n--) {
    tags.push(`manylinux_2_${n}_${machine}`);
    if (n === 17) tags.push(`manylinux2014_${machine}`);
    if (n === 12) tags.push(`manylinux2010_${machine}`);
    if (n === 5) tags.push(`manylinux1_${machine}`);
  }
  return tags;
}

/**
 * Values of the PEP 508 environment markers on the target, so lock files can be
 * filtered for Lambda rather than for the build machine.
 */
export function markerEnvironment(target: PythonTarget): Record<string, string> {
  return {
    os_name: 'posix',
    sys_platform: 'linux',
    platform_system: 'Linux',
    platform_machine: target.machine,
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    python_version: target.pythonVersion,
    // Lambda patches micro versions without notice; .0 keeps "< 3.X.Y" checks conservative.
    python_full_version: `${target.pythonVersion}.0`,
    implementation_version: `${target.pythonVersion}.0`,
    platform_release: '',
    platform_version: '',
  };
}
