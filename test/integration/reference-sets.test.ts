/**
 * Reference sets of the manifest corpus (test/fixtures/manifest-corpus/): for every case, the
 * real lock tool makes its lock in a temporary copy and reference_sets.py computes, per
 * Lambda target, what the reference tool installs. Checked here: each tool succeeds, sets are
 * non-empty, the differences designed into each case (markers, forks, refusals) show up.
 * Needs PyPI (network) and `npx projen install-tools`; run with
 *   npx jest test/integration/reference-sets.test.ts --testPathIgnorePatterns=/node_modules/
 * (with a space instead of '=', --testPathIgnorePatterns takes the test path as a second
 * pattern and jest runs every other suite instead). Also part of `npx projen test:integration`.
 * About 2 minutes with warm caches (.tools/ref/cache), about 4 cold, on the 2-core machine.
 * POSSUM_REF_CASES=a,b limits the run to some cases; POSSUM_REF_CONCURRENCY (default 3) is how
 * many cases run at once. The last run's sets are written to .tools/ref/last-run.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  CaseSpec, Expectation, LockOutcome, PreparedCase, REF_ROOT, ReferenceSets, Target, TargetResult, TargetSet,
  caseTargets, corpusCases, lockCase, pipenvPython, poetryPython, prepareCase, readCase, referenceSets, targetKey, uvBinary,
} from '../helpers/reference-tools';
import { tempDir } from '../helpers/run';

const ONLY = (process.env.POSSUM_REF_CASES ?? '').split(',').map(s => s.trim()).filter(Boolean);
const CASES = corpusCases().filter(c => ONLY.length === 0 || ONLY.includes(c));
const CONCURRENCY = Number(process.env.POSSUM_REF_CONCURRENCY ?? 3);

interface CaseRun {
  readonly spec: CaseSpec;
  prepared?: PreparedCase;
  lock?: LockOutcome;
  sets?: ReferenceSets;
  cross?: ReferenceSets;
  failure?: string;
  ms: number;
}
const runs = new Map<string, CaseRun>();

async function runCase(name: string, parent: string): Promise<CaseRun> {
  const start = Date.now();
  const run: CaseRun = { spec: readCase(name), ms: 0 };
  try {
    run.prepared = prepareCase(name, parent);
    run.lock = await lockCase(run.prepared);
    if (run.lock.ok) {
      run.sets = await referenceSets(run.prepared);
      if (run.spec.crossCheck === 'uv-pip-compile') run.cross = await referenceSets(run.prepared, { mode: 'uv-pip-compile' });
    }
  } catch (e) {
    run.failure = String((e as Error).stack ?? e);
  }
  run.ms = Date.now() - start;
  return run;
}

async function inPool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.max(1, size) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

let totalMs = 0;
let toolsMs = 0;

beforeAll(async () => {
  const start = Date.now();
  uvBinary();
  pipenvPython();
  poetryPython();
  toolsMs = Date.now() - start;
  const parent = tempDir('reference-sets');
  await inPool(CASES, CONCURRENCY, async name => { runs.set(name, await runCase(name, parent)); });
  totalMs = Date.now() - start;

  const summary = CASES.map(name => {
    const r = runs.get(name)!;
    return {
      case: name,
      kind: r.spec.kind,
      lockTool: r.spec.lockTool,
      lockMs: r.lock?.ms,
      setsMs: r.sets?.ms,
      crossMs: r.cross?.ms,
      totalMs: r.ms,
      ok: !!r.sets && !r.failure,
    };
  });
  fs.mkdirSync(REF_ROOT, { recursive: true });
  fs.writeFileSync(path.join(REF_ROOT, 'last-run.json'), JSON.stringify({
    totalMs,
    toolsMs,
    concurrency: CONCURRENCY,
    summary,
    cases: Object.fromEntries(CASES.map(n => {
      const { lock, sets, cross, failure } = runs.get(n)!;
      return [n, { lock, sets, cross, failure }];
    })),
  }, null, 1));
  const ms = (n?: number) => String(n ?? '-').padStart(6);
  const lines = summary.map(s =>
    `${s.case.padEnd(38)} ${String(s.lockTool).padEnd(7)} lock ${ms(s.lockMs)} ms  sets ${ms(s.setsMs)} ms  cross ${ms(s.crossMs)} ms`);
  // eslint-disable-next-line no-console
  console.log(`reference sets: ${CASES.length} cases in ${(totalMs / 1000).toFixed(1)} s (tools ready in ${toolsMs} ms, ${CONCURRENCY} at once)\n${lines.join('\n')}`);
}, 30 * 60_000);

// ------------------------------------------------------------------------------------------

/** name -> its entry ('x==1', 'x @ path' or 'x') in a set. */
function byName(set: readonly string[]): Map<string, string> {
  return new Map(set.map(e => [e.split(/==| @ /)[0], e]));
}

function applies(x: Expectation, runtime: string, architecture: string) {
  return (!x.when?.runtimes || x.when.runtimes.includes(runtime)) && (!x.when?.architectures || x.when.architectures.includes(architecture as any));
}

/** Every way the case's results miss what its case.json expects, as readable lines. */
function problems(name: string, run: CaseRun): string[] {
  const out: string[] = [];
  if (run.failure) return [`${name}: ${run.failure}`];
  if (!run.lock?.ok) return [`${name}: ${run.lock?.tool} lock failed:\n${run.lock?.log}`];
  const sets = run.sets!;
  const targets = caseTargets(run.spec);
  const expectations = run.spec.expect ?? [];
  for (const t of targets) {
    const key = targetKey(t);
    const r: TargetResult | undefined = sets.targets[key];
    const mine = expectations.filter(x => applies(x, t.runtime, t.architecture));
    const refusal = mine.find(x => x.error);
    if (!r) {
      out.push(`${key}: no result`);
      continue;
    }
    if (refusal) {
      if (r.ok) {out.push(`${key}: expected the reference to refuse (${refusal.error}) but it gave ${r.set.length} entries`);} else {
        if (r.error !== refusal.error) out.push(`${key}: refused with ${r.error}, expected ${refusal.error}: ${r.message}`);
        if (refusal.message && !new RegExp(refusal.message).test(r.message)) out.push(`${key}: message ${JSON.stringify(r.message)} does not match /${refusal.message}/`);
      }
      continue;
    }
    if (!r.ok) {
      out.push(`${key}: the reference refused (${r.error}, ${r.tool}): ${r.message}`);
      continue;
    }
    if (r.set.length === 0) out.push(`${key}: empty set`);
    if (r.conflicts.length) out.push(`${key}: two entries for ${r.conflicts.join(', ')}`);
    const names = byName(r.set);
    const cross = run.cross?.targets[key];
    const crossNames = cross?.ok ? byName(cross.set) : undefined;
    for (const x of mine) {
      for (const n of x.present ?? []) if (!names.has(n)) out.push(`${key}: ${n} missing`);
      for (const n of x.absent ?? []) if (names.has(n)) out.push(`${key}: ${names.get(n)} should not be there`);
      for (const [n, re] of Object.entries(x.versions ?? {})) {
        const entry = names.get(n);
        const version = entry?.includes('==') ? entry.split('==')[1] : undefined;
        if (!version || !new RegExp(re).test(version)) out.push(`${key}: ${entry ?? n + ' (missing)'} does not match /${re}/`);
      }
      for (const [n, kind] of Object.entries(x.local ?? {})) {
        if (names.get(n) !== `${n} @ ${kind}`) out.push(`${key}: expected ${n} @ ${kind}, got ${names.get(n) ?? 'nothing'}`);
      }
      for (const n of x.unpinned ?? []) if (!r.unpinned.includes(n)) out.push(`${key}: ${names.get(n) ?? n} expected unpinned`);
      for (const n of x.crossCheckOnly ?? []) {
        if (!crossNames) out.push(`${key}: no cross-check set (${cross && !cross.ok ? cross.message : 'not run'})`);
        else if (!crossNames.has(n) || names.has(n)) out.push(`${key}: expected ${n} in the uv pip compile set only (reference: ${names.get(n) ?? '-'}, uv: ${crossNames.get(n) ?? '-'})`);
      }
      for (const n of x.referenceOnly ?? []) {
        if (!crossNames) out.push(`${key}: no cross-check set (${cross && !cross.ok ? cross.message : 'not run'})`);
        else if (crossNames.has(n) || !names.has(n)) out.push(`${key}: expected ${n} in the reference set only (reference: ${names.get(n) ?? '-'}, uv: ${crossNames.get(n) ?? '-'})`);
      }
    }
  }

  // How the sets relate across targets.
  const okSets = targets.map(t => ({ t, r: sets.targets[targetKey(t)] })).filter(x => x.r?.ok) as { t: Target; r: TargetSet }[];
  const text = (r: TargetSet) => r.set.join('\n');
  if (run.spec.uniform === 'all' && new Set(okSets.map(x => text(x.r))).size > 1) {
    out.push('expected the same set on every target, got ' + new Set(okSets.map(x => text(x.r))).size + ' different sets');
  }
  if (run.spec.uniform === 'per-python') {
    for (const runtime of run.spec.targets.runtimes) {
      const distinct = new Set(okSets.filter(x => x.t.runtime === runtime).map(x => text(x.r)));
      if (distinct.size > 1) out.push(`${runtime}: expected the same set on both architectures`);
    }
  }
  if (run.spec.uniform === 'none' && okSets.length > 1 && new Set(okSets.map(x => text(x.r))).size < 2) {
    out.push('expected the sets to differ between targets, all are the same');
  }
  return out.map(p => `${name}: ${p}`);
}

describe('reference sets of the manifest corpus', () => {
  test.each(CASES)('%s', name => {
    const run = runs.get(name);
    expect(run).toBeDefined();
    expect(problems(name, run!)).toEqual([]);
  });
});
