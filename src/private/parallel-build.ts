import * as os from 'os';
import { BundlePool, PooledBundle } from './bundle-pool';
import { BundlePlan, installerForHost, prepareUv } from './bundler';
import { compiledScript } from './compiled-script';
import { SyncThread } from './sync-thread';
import type { ZipReport } from './zip/engine';

/**
 * Bundles built at once: enough to overlap downloads, few enough for a small machine. Three
 * a core, up to six: on two cores, six beat four in ten of eleven alternating cold runs of the
 * 10-function benchmark (bench/README.md), and eight lost to both (each worker is a Node.js start).
 */
export const CONCURRENCY = Math.max(3, Math.min(6, os.cpus().length * 3));

/** A bundle to build: its plan, and where its zip goes (only into the cache when none). */
export interface ParallelJob {
  readonly plan: BundlePlan;
  readonly output?: string;
}

/**
 * Builds bundles that are not in the cache, CONCURRENCY at once in the pool's workers (each
 * a child process building one bundle at a time); `onBuilt` hears of each as it is done.
 * The possum CLI and SamTemplatePackager (through buildBundlesSync) both build this way.
 */
export async function buildInParallel(pool: BundlePool, jobs: readonly ParallelJob[],
  onBuilt: (job: ParallelJob, report: ZipReport) => unknown = () => undefined): Promise<PooledBundle[]> {
  // Workers start loading now, while this process finds the interpreter and has uv learn it once for all of them.
  pool.prestart(Math.min(CONCURRENCY, jobs.length), jobs.some(j => j.plan.request.remoteCache !== undefined));
  const installing = jobs.filter(j => j.plan.dependencyKeys);
  if (installing.length > 1) await prepareUv(installing[0].plan);
  return inParallel([...jobs], CONCURRENCY, async job => {
    // The host interpreter is found here once, not by each child (a pyenv shim costs a shell per call).
    const request = job.plan.dependencyKeys ? { ...job.plan.request, installer: installerForHost(job.plan) } : job.plan.request;
    const built = await pool.run({ request, output: job.output });
    onBuilt(job, built.report);
    return built;
  });
}

/** Maps with at most `limit` calls in flight, keeping the input order in the result; stops starting calls after one fails. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    // After a failure nothing new starts; what is under way finishes, then the first error is thrown.
    while (next < items.length && !failed) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const rejected = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

/**
 * Builds the planned bundles into the cache at once, for a caller that cannot await (a
 * construct): in a thread of this process, which runs buildInParallel and is waited for.
 * Plans must carry no command hooks (functions do not cross to the workers).
 * @returns per plan, its problems with the remote cache
 * @throws Error the first failed bundle's error, as its worker gave it
 */
export function buildBundlesSync(plans: readonly BundlePlan[]): string[][] {
  // JSON, as the workers receive requests: a plan is data, and nothing else may slip through.
  // The environment as the caller sees it (a test framework may give it a copy of its own):
  // the builds read it (the index's credentials, POSSUM_UV, PATH) as they would in the caller.
  const answer = buildThread.call({ plans: JSON.stringify(plans), env: { ...process.env } });
  if (!answer?.ok) throw new Error(answer?.error ?? 'The bundle build thread failed without a message.');
  return answer.warnings;
}

const buildThread = new SyncThread(() => compiledScript(__dirname, 'parallel-build-thread.js', 'The bundle build thread'), 'The bundle build thread',
  undefined, true);
