/**
 * Child-process entry that builds bundles: reads one {request, output?} JSON line per job on
 * stdin, writes {ok, report} or {ok: false, error} as one JSON line per job on stdout. Lets
 * the possum CLI and SamTemplatePackager build several bundles at once (installs wait on the
 * network more than the CPU) with a few long-lived workers.
 */
import { BundleRequest, buildBundle, ensureBundle, planBundle } from './bundler';
import { answerJsonJobs } from './json-job';
import { restoreHeldEnvironment } from './node-child';
import { ZipReport } from './zip/engine';
import { zipInThisProcess } from './zip/run-sync';

export interface BundleJob {
  /** A request without command hooks (they are functions and cannot cross processes). */
  readonly request: BundleRequest;
  /** Where the zip goes; none: the bundle is only built into the cache. */
  readonly output?: string;
}

export interface BundleJobResult {
  readonly ok: boolean;
  readonly report?: ZipReport;
  /** Problems with the remote cache (said on stderr too), for a construct to show as warnings. */
  readonly warnings?: string[];
  readonly error?: string;
}

// What this worker starts (uv, pip, the index probe) gets the user's environment.
restoreHeldEnvironment();

// This process is a worker already: it zips in a thread of its own, not in yet another process.
zipInThisProcess();

void answerJsonJobs((job: BundleJob) => {
  const plan = planBundle(job.request);
  if (job.output) return { report: buildBundle(plan, job.output) };
  const bundle = ensureBundle(plan);
  return { report: bundle.report, warnings: bundle.warnings };
});
