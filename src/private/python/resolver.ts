import { spawnSync } from 'child_process';
import * as path from 'path';
import { ResolveInput } from './dependency-spec';
import { logicalLines } from './requirements-file';
import { PythonTarget } from './target';

/**
 * Resolution of an unlocked manifest for the Lambda target, by uv: markers (of the
 * manifest and of every dependency's metadata), Requires-Python and wheel tags are all
 * decided for the function's runtime and architecture, never for this machine. The result
 * is a pinned, hashed set that the installer then installs without resolving again.
 */

/** The pinned set: registry packages with hashes, direct references (paths, git, URLs) without. */
export interface ResolvedSet {
  readonly hashed: string[];
  readonly unhashed: string[];
}

export interface ResolveCommand {
  readonly command: string;
  readonly args: string[];
  readonly cwd: string;
  readonly input?: string;
}

/**
 * The `uv pip compile` command line for the target. `pipSemantics` makes uv consider every
 * index for every package, as pip does, when it answers for a pip configuration.
 */
export function resolveCommand(uv: string, input: ResolveInput, target: PythonTarget, opts: {
  readonly python: string;
  readonly uvPlatform: string;
  readonly findLinks: readonly string[];
  readonly noBuilds: boolean;
  /**
   * Wheels only, except for these packages (`--only-binary :all: --no-binary ...`): the
   * binary-first pass, which settles on the newest version with a wheel for the target.
   */
  readonly sdistsFor?: readonly string[];
  readonly pipSemantics: boolean;
  /** A file holding `input.constraints`. */
  readonly constraintsFile?: string;
}): ResolveCommand {
  const args = ['pip', 'compile', input.file ? path.resolve(input.cwd, input.file) : '-', '--no-config', '--python', opts.python,
    '--python-version', target.pythonVersion, '--python-platform', opts.uvPlatform,
    '--generate-hashes', '--no-header', '--no-annotate', '--quiet'];
  if (opts.pipSemantics) args.push('--index-strategy', 'unsafe-best-match');
  if (opts.noBuilds) {
    args.push('--only-binary', ':all:');
  } else if (opts.sdistsFor) {
    args.push('--only-binary', ':all:');
    for (const name of opts.sdistsFor) args.push('--no-binary', name);
  }
  if (opts.constraintsFile) args.push('--constraint', opts.constraintsFile);
  for (const f of opts.findLinks) args.push('--find-links', f);
  return { command: uv, args, cwd: input.cwd, input: input.file ? undefined : input.text };
}

/** Runs the resolution; throws the tool's output (for the caller to explain) when it fails. */
export function runResolve(cmd: ResolveCommand, env: NodeJS.ProcessEnv): { ok: true; set: ResolvedSet } | { ok: false; output: string } {
  const r = spawnSync(cmd.command, cmd.args, { cwd: cmd.cwd, input: cmd.input, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) return { ok: false, output: r.error?.message ?? `${r.stderr}\n${r.stdout}` };
  return { ok: true, set: parseCompiled(r.stdout) };
}

/**
 * Splits `uv pip compile` output into hashed pins and direct references. An editable
 * line (`-e file:///...`) becomes a plain path: Lambda gets the built package, never a
 * link back to a folder on this machine.
 */
export function parseCompiled(output: string): ResolvedSet {
  const hashed: string[] = [];
  const unhashed: string[] = [];
  for (const line of logicalLines(output)) {
    if (/^--(index-url|extra-index-url|find-links|no-index)/.test(line)) continue;
    const editable = /^(?:-e|--editable)\s+(\S+)/.exec(line);
    if (editable) {
      unhashed.push(editable[1].startsWith('file:') ? decodeURIComponent(editable[1].replace(/^file:\/\//, '')) : editable[1]);
      continue;
    }
    const normalized = line.replace(/\s+/g, ' ');
    (/ --hash=/.test(normalized) ? hashed : unhashed).push(normalized);
  }
  return { hashed, unhashed };
}

/**
 * The packages a wheels-only resolution failed on for want of a wheel, from uv's own words
 * (`Because future==0.18.2 has no usable wheels ...`, ``Wheels are required for `future` ``).
 * Empty when the failure is something else.
 */
export function packagesWithoutWheels(output: string): string[] {
  const names = new Set<string>();
  for (const m of output.matchAll(/Wheels are required for `([A-Za-z0-9][A-Za-z0-9._-]*)`/g)) names.add(m[1].toLowerCase());
  for (const m of output.matchAll(/\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?(?:==|>=|<=|>|<|!=)[^\s,]* has no usable wheels/g)) names.add(m[1].toLowerCase());
  return [...names].sort();
}
