/**
 * Worker-thread entry of the zip engine, for a process that may block while it zips
 * (run-sync.ts, in-process mode): each request is a plan, each answer its report.
 */
import type { ZipPlan } from './engine';
import { serveSync } from '../sync-thread';

serveSync(async (plan: ZipPlan) => {
  // Loaded on the first request, not imported above, so that a failure to load is an answer too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildZip } = require('./engine') as typeof import('./engine');
  return { ok: true, report: await buildZip(plan) };
});
