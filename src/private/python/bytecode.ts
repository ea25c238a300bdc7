import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Reproducible `.pyc` files for a bundle: `checked-hash` mode (PEP 552; valid while the
 * source's hash matches, whatever the mtimes), compiled by an interpreter of the runtime's
 * minor version (the bytecode format changes with it), with the file names Lambda will
 * see, and PYTHONHASHSEED fixed so that set and frozenset constants marshal in one order.
 */

export interface BytecodePython {
  readonly executable: string;
  /** e.g. `cpython-312`: the `__pycache__/<module>.<tag>.pyc` infix. */
  readonly cacheTag: string;
  /** `sys.version`, part of the cache key (the marshal output may differ between builds of CPython). */
  readonly version: string;
}

/** Interpreters found, by minor version and preferred executable (a miss is asked again). */
const found = new Map<string, BytecodePython>();

function probe(executable: string): { minor: number; cacheTag: string; version: string } | undefined {
  const r = spawnSync(executable, ['-c', 'import sys, json; print(json.dumps([sys.version_info[0], sys.version_info[1], sys.implementation.cache_tag, sys.version]))'],
    { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return undefined;
  try {
    const [major, minor, cacheTag, version] = JSON.parse(r.stdout.trim());
    return major === 3 && typeof cacheTag === 'string' ? { minor, cacheTag, version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Python 3.`minor` on this machine: `preferred` (bundling.pythonExecutable) when it is that
 * version, else `python3.minor` on PATH, else one uv manages (found, never downloaded).
 * @throws Error naming what was tried and how to provide one
 */
export function bytecodePython(minor: number, preferred: string, uv: () => string | undefined, label: string): BytecodePython {
  const key = `${minor} ${preferred}`;
  const hit = found.get(key);
  if (hit) return hit;
  const tried: string[] = [];
  const candidates: Array<() => string | undefined> = [
    () => preferred,
    () => `python3.${minor}`,
    () => {
      const binary = uv();
      if (!binary) return undefined;
      const r = spawnSync(binary, ['python', 'find', `3.${minor}`, '--no-config'], { encoding: 'utf8', env: { ...process.env, UV_PYTHON_DOWNLOADS: 'never' } });
      return r.status === 0 ? r.stdout.trim() || undefined : undefined;
    },
  ];
  for (const candidate of candidates) {
    const executable = candidate();
    if (!executable) continue;
    const p = probe(executable);
    tried.push(`${executable} (${p ? `Python 3.${p.minor}` : 'not found'})`);
    if (p && p.minor === minor) {
      const result = { executable, cacheTag: p.cacheTag, version: p.version };
      found.set(key, result);
      return result;
    }
  }
  throw new Error(`${label}: bundling.bytecode compiles the bundle with the runtime's Python, 3.${minor}, and none was found on this ` +
    `machine (tried ${tried.join(', ')}, and uv's installed Pythons). Install Python 3.${minor} (for example "uv python install 3.${minor}" ` +
    `or your system's python3.${minor} package), or point bundling.pythonExecutable at one; or leave bundling.bytecode at Bytecode.NONE.`);
}

/** One module to compile: its source, where the .pyc goes, and the file name Lambda will see. */
export interface CompileJob {
  readonly source: string;
  readonly output: string;
  readonly lambdaPath: string;
}

const COMPILER = `
import json, py_compile, sys
jobs = json.load(sys.stdin)
skipped = []
for job in jobs:
    try:
        py_compile.compile(job["source"], cfile=job["output"], dfile=job["lambdaPath"], doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError) as e:
        # A module this Python cannot compile (Python 2 code in a package's tests, say) would
        # fail to import on Lambda too; it keeps its source only, as compileall leaves it.
        skipped.append(job["lambdaPath"])
print(json.dumps({"skipped": skipped}))
`;

/**
 * Compiles the jobs with `python` (one process for all of them); returns the Lambda paths of
 * modules that could not be compiled (they ship as source only).
 * @throws Error when the interpreter cannot run
 */
export function compileModules(python: BytecodePython, jobs: readonly CompileJob[]): string[] {
  if (jobs.length === 0) return [];
  for (const dir of new Set(jobs.map(j => path.dirname(j.output)))) fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync(python.executable, ['-c', COMPILER], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1', SOURCE_DATE_EPOCH: '315532800' },
  });
  if (r.error || r.status !== 0) {
    throw new Error(`Compiling the bundle's modules with ${python.executable} failed: ${(r.error?.message ?? r.stderr).trim().split('\n').slice(-5).join('\n')}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!).skipped as string[];
}

/** The `__pycache__` path of a module, relative like the module's own (`a/b.py` -> `a/__pycache__/b.<tag>.pyc`). */
export function cachedPath(relative: string, cacheTag: string): string {
  const dir = path.posix.dirname(relative);
  const stem = path.posix.basename(relative, '.py');
  return `${dir === '.' ? '' : `${dir}/`}__pycache__/${stem}.${cacheTag}.pyc`;
}
