/**
 * Progress lines and soft warnings go to stderr: `cdk synth` and `possum` print a template
 * on stdout. Each line starts with the name of what the user ran, `possum-cdk` for the
 * library and `possum` for the CLI, which names itself once for all its processes: the
 * name travels in the environment to its bundle workers and their zip threads.
 */
import * as fs from 'fs';
import { isMainThread } from 'worker_threads';

const NAME_VARIABLE = 'POSSUM_PROGRESS_NAME';

/** Names the lines of this process and of the processes and threads it starts from now on. */
export function nameProgress(name: string): void {
  process.env[NAME_VARIABLE] = name;
}

/** What each line starts with. */
export function progressPrefix(): string {
  return `${process.env[NAME_VARIABLE] || 'possum-cdk'}: `;
}

/**
 * Writes to stderr, each line (of a message that quotes an installer, say) with the prefix.
 * A worker thread writes straight to the file descriptor: its process.stderr goes through
 * the main thread, which may be blocked waiting for this very thread (a construct waiting
 * for its bundles), and would show the line only when all is done.
 */
export function progress(text: string): void {
  const prefix = progressPrefix();
  const lines = text.split('\n').map(line => `${prefix}${line}`).join('\n') + '\n';
  if (isMainThread) process.stderr.write(lines);
  else fs.writeSync(2, lines);
}
