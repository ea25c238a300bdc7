import { spawnSync } from 'child_process';
import { compiledScript } from '../compiled-script';
import { nodeChildEnvironment } from '../node-child';
import { SyncThread } from '../sync-thread';
import type { ZipPlan, ZipReport } from './engine';
import type { WorkerResult } from './worker';

/**
 * Runs the zip engine synchronously, for callers that cannot await (CDK's construction and
 * `ILocalBundling.tryBundle`): in a thread of this process where zipInThisProcess was called,
 * else in a child Node.js process. The child's stdout carries only the result; its stderr is
 * passed through so progress reaches the user without touching the template `cdk synth`
 * prints on stdout.
 */
export function buildZipSync(plan: ZipPlan): ZipReport & { readonly maxRssBytes: number } {
  return inThisProcess ? buildZipInThread(plan) : buildZipInChild(plan);
}

function buildZipInChild(plan: ZipPlan): ZipReport & { readonly maxRssBytes: number } {
  // Peak memory (bench/README.md, package-python-function): a 1 MB young generation, as the
  // worker's own objects are few and short-lived (entry bytes live outside V8's heap) and
  // V8's default lets the young generation alone grow by tens of MB; and glibc's malloc
  // told to map every block of 1 MiB or more on its own, so the MBs of entry buffers go
  // back to the system when freed instead of staying in the heap (a fixed threshold also
  // stops glibc from raising it after the first large free).
  const child = spawnSync(process.execPath, ['--max-semi-space-size=1', workerScript()], {
    // It opens no connection and starts nothing: no extra CA certificates to parse.
    env: nodeChildEnvironment({ ...process.env, MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '1048576' }, false),
    input: JSON.stringify(plan),
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.error) {
    throw new Error(`Could not start the zip engine (${process.execPath}): ${child.error.message}`);
  }
  const lastLine = child.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  let result: WorkerResult;
  try {
    result = JSON.parse(lastLine);
  } catch {
    const how = child.signal ? `was killed by ${child.signal}` : `exited with code ${child.status}`;
    throw new Error(`The zip engine ${how} without a result; its messages are above on stderr. Nothing was written to ${plan.output}.`);
  }
  if (!result.ok || !result.report) {
    throw new Error(result.error ?? 'The zip engine failed without a message.');
  }
  return { ...result.report, maxRssBytes: result.maxRssBytes };
}

function workerScript(): string {
  return compiledScript(__dirname, 'worker.js', 'The zip engine worker');
}

let inThisProcess = false;

/**
 * From now on this process zips in a worker thread of its own (one, kept for the process)
 * instead of a child process per zip: a Node.js start per zip, most of the cost of a small
 * bundle's zip and of a handler edit's, is saved. For possum's bundle workers and CDK apps
 * (the constructs). package-python-function keeps the child process, so that the zip's
 * memory is its own (its peak is measured).
 */
export function zipInThisProcess() {
  inThisProcess = true;
}

/**
 * Starts the zip thread now, if this process zips in one, so that it loads while the caller
 * still prepares the zip's inputs (a handler edit's dependency tree is checked meanwhile).
 */
export function prepareZipThread() {
  if (inThisProcess) zipThread.prepare();
}

/** The zip engine's thread in this process (in-process mode only). */
const zipThread = new SyncThread(() => compiledScript(__dirname, 'thread.js', 'The zip engine thread'), 'The zip engine thread');

function buildZipInThread(plan: ZipPlan): ZipReport & { readonly maxRssBytes: number } {
  let answer: any;
  try {
    answer = zipThread.call(plan);
  } catch (e: any) {
    throw new Error(`${e.message}. Nothing was written to ${plan.output}.`);
  }
  if (!answer?.ok || !answer.report) throw new Error(answer?.error ?? 'The zip engine failed without a message.');
  return { ...answer.report, maxRssBytes: 0 };
}
