/**
 * Worker-thread entry of the zip engine, for a process that may block while it zips
 * (run-sync.ts, in-process mode): each request is a plan, each answer its report.
 */
import type { ZipPlan } from './engine';
import { serveSync } from '../sync-thread';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadEngine = () => require('./engine') as typeof import('./engine');

serveSync(async (plan: ZipPlan) => {
  // Required here, not imported above, so that a failure to load is an answer too.
  return { ok: true, report: await loadEngine().buildZip(plan) };
});

// Loaded ahead of the first request, which a thread started early (prepareZipThread) would
// otherwise wait for; a failure here is left for that request to report.
setImmediate(() => {
  try {
    loadEngine();
  } catch {
    // reported by the first request
  }
});
