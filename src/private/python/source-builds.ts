import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { BuildCache } from '../cache';

/**
 * Wheels built on this machine from an sdist, a local folder or a git checkout, for
 * dependencies that have no wheel for the Lambda target. Building runs the package's build
 * code here; possum-cdk allows it by default only when the result is pure Python
 * (`py3-none-any`), which runs on every Lambda runtime and architecture.
 */

export type SourceBuildPolicy = 'NONE' | 'PURE_PYTHON' | 'ALL';

/** Whether a wheel's file name says it is pure Python for any Python 3 (`py3-none-any`, `py2.py3-none-any`). */
export function isPurePythonWheel(fileName: string): boolean {
  const m = /-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(fileName);
  if (!m) return false;
  const [, pythons, abi, platform] = m;
  return abi === 'none' && platform === 'any' && pythons.split('.').includes('py3');
}

/**
 * A requirement line as pip reads it: pip's requirement parser refuses a named reference
 * to a local git repository (`name @ git+file:///repo@sha`), so that one is given as the
 * bare URL, which pip accepts and which names the same package.
 */
export function pipRequirement(line: string): string {
  const m = /^\s*[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*@\s*((?:git|hg|svn|bzr)\+file:\S+)(.*)$/.exec(line);
  return m ? `${m[1]}${m[2]}` : line;
}

export interface BuildContext {
  readonly python: string;
  /** The pip environment (the user's index settings, isolated). */
  readonly pipEnv: NodeJS.ProcessEnv;
  readonly cacheRoot: string;
  /** Where relative paths resolve (the manifest's folder). */
  readonly cwd: string;
  /** A folder of the caller's, removed by it, for wheels that are not cached. */
  readonly workDir: string;
}

/**
 * Builds one requirement (a hashed pin, whose sdist's hash pip checks, or a path, git or
 * URL reference) into a wheel and returns the wheel's path. Wheels of hashed pins are
 * kept in the cache under a key of the requirement and hashes, so an old pin is built once.
 *
 * @throws Error with the build's output when pip cannot build it
 */
export function buildWheel(requirement: string, ctx: BuildContext): { wheel: string; output: string } {
  const hashed = / --hash=/.test(requirement);
  const cache = new BuildCache(ctx.cacheRoot);
  const cacheDir = hashed
    ? path.join(cache.root, 'v2', 'wheels', crypto.createHash('sha256').update(requirement.replace(/\s+/g, ' ')).digest('hex'))
    : undefined;
  const cached = cacheDir && fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).find(f => f.endsWith('.whl')) : undefined;
  if (cacheDir && cached) return { wheel: path.join(cacheDir, cached), output: '' };

  const scratch = cache.scratch();
  try {
    const out = path.join(scratch, 'wheel');
    const requirements = path.join(scratch, 'requirements.txt');
    fs.writeFileSync(requirements, `${pipRequirement(outOfTree(requirement, ctx.cwd, scratch))}\n`);
    const args = ['-m', 'pip', 'wheel', '--no-deps', '--no-cache-dir', '--progress-bar', 'off', '-w', out, '-r', requirements];
    const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*==/.exec(requirement)?.[1];
    // A package may have a wheel for this machine but not for Lambda: build its sdist.
    if (hashed && name) args.push('--require-hashes', '--no-binary', name);
    const r = spawnSync(ctx.python, args, { cwd: ctx.cwd, env: ctx.pipEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const output = `${r.stderr ?? ''}\n${r.stdout ?? ''}`;
    const built = fs.existsSync(out) ? fs.readdirSync(out).filter(f => f.endsWith('.whl')) : [];
    if (r.error || r.status !== 0 || built.length !== 1) {
      throw Object.assign(new Error(r.error?.message ?? `pip wheel exited with ${r.status}`), { output });
    }
    if (!cacheDir) {
      const keep = path.join(fs.mkdtempSync(path.join(ctx.workDir, 'built-')), built[0]);
      fs.renameSync(path.join(out, built[0]), keep);
      return { wheel: keep, output };
    }
    fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
    try {
      fs.renameSync(out, cacheDir);
    } catch (e: any) {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e; // built by another synth meanwhile
    }
    const wheel = fs.readdirSync(cacheDir).find(f => f.endsWith('.whl'))!;
    return { wheel: path.join(cacheDir, wheel), output };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Folders never needed to build a package, and often large. */
const NOT_BUILD_INPUTS = new Set(['.git', '.hg', '.svn', '.venv', 'venv', 'node_modules', '__pycache__', '.mypy_cache', '.pytest_cache', '.tox']);

/**
 * A requirement on a local folder, pointed at a copy of it in `scratch`: pip builds in the
 * source tree, and setuptools leaves build/ and *.egg-info there, so building from the user's
 * own folder would write into it (and into the next bundle's inputs).
 */
export function outOfTree(requirement: string, cwd: string, scratch: string): string {
  const direct = / @ (\S+)/.exec(requirement);
  const location = direct ? direct[1] : requirement.trim().split(/\s/)[0];
  const bare = location.replace(/#.*$/, '');
  let folder: string | undefined;
  if (/^file:/i.test(bare)) folder = decodeURIComponent(bare.replace(/^file:(\/\/)?/i, ''));
  else if (!/^[a-z][a-z0-9+.-]*:/i.test(bare) && (bare.startsWith('.') || bare.startsWith('/'))) folder = path.resolve(cwd, bare);
  if (!folder || !fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) return requirement;
  const copy = path.join(scratch, 'source', path.basename(folder));
  fs.cpSync(folder, copy, { recursive: true, filter: src => !NOT_BUILD_INPUTS.has(path.basename(src)) || src === folder });
  const url = `file://${copy.split(path.sep).map(encodeURIComponent).join('/')}`;
  return direct ? requirement.replace(direct[1], url + location.slice(bare.length)) : requirement.replace(location, copy);
}
