/**
 * Child-process entry of the zip engine: reads a ZipPlan as JSON on stdin, writes one
 * JSON result line on stdout. Progress and diagnostics go to stderr.
 *
 * CDK's local bundling is synchronous while zip writing is asynchronous, so the
 * synchronous side (run-sync.ts) runs this file with spawnSync.
 */
import { buildZip, ZipPlan } from './engine';

export interface WorkerResult {
  readonly ok: boolean;
  readonly report?: import('./engine').ZipReport;
  readonly error?: string;
  /** Peak resident memory of this process. */
  readonly maxRssBytes: number;
}

async function main() {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let result: WorkerResult;
  try {
    const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ZipPlan;
    const report = await buildZip(plan);
    result = { ok: true, report, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  } catch (e: any) {
    result = { ok: false, error: e?.message ?? String(e), maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

void main();
