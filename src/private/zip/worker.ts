/**
 * Child-process entry of the zip engine: reads a ZipPlan as JSON on stdin, writes one
 * JSON result line on stdout. Progress and diagnostics go to stderr.
 *
 * CDK's local bundling is synchronous while zip writing is asynchronous, so the
 * synchronous side (run-sync.ts) runs this file with spawnSync.
 */
import * as fs from 'fs';
import { buildZip, ZipPlan } from './engine';
import { answerJsonJob } from '../json-job';

export interface WorkerResult {
  readonly ok: boolean;
  readonly report?: import('./engine').ZipReport;
  readonly error?: string;
  /** Peak resident memory of this process. */
  readonly maxRssBytes: number;
}

/**
 * This process's own peak RSS. getrusage's maxRSS is no good here: Linux carries the
 * parent's high-water mark over fork and exec, so a child started by a big parent
 * would report the parent's peak. VmHWM belongs to this address space alone.
 */
function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}

void answerJsonJob((plan: ZipPlan) => buildZip(plan).then(report => ({ report })), () => ({ maxRssBytes: peakRssBytes() }));
