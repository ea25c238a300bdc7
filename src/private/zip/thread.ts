/**
 * Worker-thread entry of the zip engine, for a process that may block while it zips
 * (run-sync.ts, in-process mode): builds the plan, posts the result on the port it was
 * given, then wakes the blocked thread through the shared flags. Whatever happens, the
 * flag is set; and a heartbeat tells the waiting thread that this one is still alive.
 */
import { MessagePort, workerData } from 'worker_threads';
import type { ZipPlan } from './engine';

const { plan, port, flags } = workerData as { plan: ZipPlan; port: MessagePort; flags: Int32Array };

const beat = () => Atomics.store(flags, 1, Math.floor(Date.now() / 1000));
beat();
const heartbeat = setInterval(beat, 1000);

function answer(message: object) {
  clearInterval(heartbeat);
  port.postMessage(message);
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
}

try {
  // Loaded here, not imported above, so that a failure to load is an answer too.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildZip } = require('./engine') as typeof import('./engine');
  buildZip(plan).then(report => answer({ ok: true, report }), (e: any) => answer({ ok: false, error: e?.message ?? String(e) }));
} catch (e: any) {
  answer({ ok: false, error: e?.message ?? String(e) });
}
