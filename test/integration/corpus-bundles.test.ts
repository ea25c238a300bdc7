/**
 * Our sets against the reference tools' on the manifest corpus (test/fixtures/manifest-corpus):
 * each case is locked by its real tool (pipenv, uv, poetry) in a temporary copy, the reference
 * tool computes what it installs for every Lambda target (python3.10..3.14 x x86_64/arm64),
 * and possum-cdk must agree:
 *
 *   - for every target: the pinned set possum-cdk installs (a lock read natively, or uv's
 *     resolution of an unlocked manifest for the target) has exactly the reference's names
 *     and versions, or both refuse;
 *   - for two targets per case: the bundle built from PyPI holds exactly those
 *     distributions (`*.dist-info` in the zip).
 *
 * Needs PyPI. Part of `npx projen test:integration`. POSSUM_REF_CASES=a,b limits the cases.
 */
import * as fs from 'fs';
import * as path from 'path';
import { bundleRequest } from '../../src/private/bundle-request';
import { ensureBundle, planBundle } from '../../src/private/bundler';
import { pinnedSteps } from '../../src/private/python/installer';
import { pythonTarget } from '../../src/private/python/target';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../src/private/zip/engine';
import {
  caseTargets, corpusCases, lockCase, prepareCase, readCase, referenceSets, Target, targetKey, TargetResult,
} from '../helpers/reference-tools';
import { tempDir } from '../helpers/run';
import { inspectZip } from '../helpers/zip-inspect';

const ONLY = (process.env.POSSUM_REF_CASES ?? '').split(',').map(s => s.trim()).filter(Boolean);
const CASES = corpusCases().filter(c => ONLY.length === 0 || ONLY.includes(c));
const CACHE = path.join(tempDir('corpus-cache'), 'c');

const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

/** `name==version`, or `name @ local` for path, workspace, git and URL entries. */
function referenceEntries(r: TargetResult): string[] {
  if (!r.ok) return [];
  return r.set.map(e => e.includes(' @ ') ? `${norm(e.split(' @ ')[0])} @ local` : e.includes('==') ? `${norm(e.split('==')[0])}==${e.split('==')[1]}` : norm(e)).sort();
}

/** The name of the project in a local folder (an editable line carries only its path). */
function projectName(location: string): string {
  const dir = decodeURIComponent(location.replace(/^file:\/\//, ''));
  for (const [file, pattern] of [['pyproject.toml', /^\s*name\s*=\s*"([^"]+)"/m], ['setup.py', /name\s*=\s*["']([^"']+)["']/], ['setup.cfg', /^name\s*=\s*(\S+)/m]] as const) {
    const f = path.join(dir, file);
    if (!fs.existsSync(f)) continue;
    const text = fs.readFileSync(f, 'utf8');
    const m = pattern.exec(file === 'pyproject.toml' ? (text.split(/^\[project\]/m)[1] ?? text) : text);
    if (m) return m[1];
  }
  return path.basename(dir);
}

function ourEntries(lines: string[], cwd: string): string[] {
  return lines.map(l => {
    const line = l.trim();
    const direct = / @ /.exec(line);
    if (direct) return `${norm(line.split(' @ ')[0].replace(/\[.*\]$/, ''))} @ local`;
    if (line.startsWith('/') || line.startsWith('file:')) return `${norm(projectName(line.split(/\s/)[0]))} @ local`;
    if (line.startsWith('.')) return `${norm(projectName(path.resolve(cwd, line.split(/\s/)[0])))} @ local`;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)/.exec(line);
    return m ? `${norm(m[1])}==${m[2]}` : line;
  }).sort();
}

interface Outcome {
  readonly entries?: string[];
  readonly error?: string;
}

function request(entry: string, t: Target, label: string) {
  return bundleRequest({
    label,
    entry,
    runtime: t.runtime,
    architectures: [t.architecture],
    options: { cacheDir: CACHE },
    includeCode: true,
    dependencyPrefix: '',
    loader: { kind: 'handler' },
    limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES,
  });
}

function planned(entry: string, t: Target): Outcome {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const plan = planBundle(request(entry, t, `corpus/${targetKey(t)}`));
    const r = plan.request;
    const steps = pinnedSteps(plan.dependencies, pythonTarget(t.runtime, t.architecture),
      { settings: r.installer, indexes: plan.indexes!, label: r.label, cacheRoot: r.cacheRoot });
    const cwd = plan.dependencies.manifestFile ? path.dirname(plan.dependencies.manifestFile) : entry;
    return { entries: ourEntries(steps.flatMap(s => s.requirements.split('\n').filter(x => x.trim())), cwd) };
  } catch (e: any) {
    return { error: e.message };
  } finally {
    spy.mockRestore();
  }
}

function bundled(entry: string, t: Target): Outcome {
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const bundle = ensureBundle(planBundle(request(entry, t, `corpus/${targetKey(t)}`)));
    const dists = new Set(inspectZip(bundle.zipFile).entries.map(e => /^([^/]+)-([^-/]+)\.dist-info\//.exec(e.name))
      .filter((m): m is RegExpExecArray => !!m).map(m => `${norm(m[1])}==${m[2]}`));
    return { entries: [...dists].sort() };
  } catch (e: any) {
    return { error: e.message };
  } finally {
    spy.mockRestore();
  }
}

/** Compares ours with the reference: same names and versions (local entries by name). */
function differences(reference: TargetResult, ours: Outcome, fromBundle: boolean): string[] {
  if (!reference.ok) {
    return ours.error ? [] : [`the reference refuses (${reference.error}: ${reference.message}) but possum-cdk gives ${ours.entries!.join(', ')}`];
  }
  if (ours.error) {
    // A reference tool lists what to install, not whether it installs: a pin with no wheel
    // for the target (PyYAML 6.0.2 on python3.14) is refused by possum-cdk, rightly, when its
    // sdist builds native code here. That refusal must name a package of the reference set.
    const noWheel = /^\S+: (\S+?)(==\S+)? from .* has no wheel for the target .* builds a platform-specific wheel/.exec(ours.error)
      ?? /no wheel of (\S+?)(==\S+)? from /.exec(ours.error);
    if (noWheel && referenceEntries(reference).some(e => e.startsWith(`${norm(noWheel[1])}==`))) return [];
    return [`possum-cdk refuses: ${ours.error.split('\n')[0]}`];
  }
  // Local entries, and packages the lock left unpinned (pipenv), compare by name.
  const want = referenceEntries(reference).map(e => e.includes('==') || e.endsWith(' @ local') ? e : `${e} @ local`);
  const localNames = new Set(want.filter(e => e.endsWith(' @ local')).map(e => e.split(' @ ')[0]));
  const got = ours.entries!.map(e => {
    const name = e.split(/==| @ /)[0];
    return localNames.has(name) ? `${name} @ local` : e;
  }).filter(e => !(fromBundle && e.endsWith(' @ local') && !localNames.has(e.split(' @ ')[0])));
  const missing = want.filter(e => !got.includes(e));
  const extra = got.filter(e => !want.includes(e));
  return [...missing.map(e => `missing ${e}`), ...extra.map(e => `extra ${e}`)];
}

describe('possum-cdk installs what the reference tools install, on every Lambda target', () => {
  test.each(CASES)('%s', async name => {
    const spec = readCase(name);
    const prepared = prepareCase(name, tempDir('corpus-bundles'));
    const lock = await lockCase(prepared);
    expect(lock.ok).toBe(true);
    const targets = caseTargets(spec);
    const reference = await referenceSets(prepared, { targets });
    const problems: string[] = [];
    for (const t of targets) {
      const diff = differences(reference.targets[targetKey(t)], planned(prepared.entry, t), false);
      problems.push(...diff.map(d => `${targetKey(t)} (planned): ${d}`));
    }
    // Two targets built for real: the newest runtime on arm64, the oldest the case allows on x86_64.
    const sample = [targets.find(t => t.architecture === 'arm64' && t.runtime === 'python3.14'), targets.find(t => t.architecture === 'x86_64')]
      .filter((t): t is Target => !!t);
    for (const t of sample) {
      const diff = differences(reference.targets[targetKey(t)], bundled(prepared.entry, t), true);
      problems.push(...diff.map(d => `${targetKey(t)} (bundled): ${d}`));
    }
    expect(problems).toEqual([]);
  }, 20 * 60_000);
});
