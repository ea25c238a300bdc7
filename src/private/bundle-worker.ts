/**
 * Child-process entry that builds one bundle: reads {request, output} as JSON on stdin,
 * writes {ok, report} or {ok: false, error} as one JSON line on stdout. Lets the possum
 * CLI build several bundles at once (installs wait on the network more than the CPU).
 */
import { BundleRequest, buildBundle, planBundle } from './bundler';
import { ZipReport } from './zip/engine';

export interface BundleJob {
  /** A request without command hooks (they are functions and cannot cross processes). */
  readonly request: BundleRequest;
  readonly output: string;
}

export interface BundleJobResult {
  readonly ok: boolean;
  readonly report?: ZipReport;
  readonly error?: string;
}

async function main() {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let result: BundleJobResult;
  try {
    const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BundleJob;
    result = { ok: true, report: buildBundle(planBundle(job.request), job.output) };
  } catch (e: any) {
    result = { ok: false, error: e?.message ?? String(e) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

void main();
