/** What the command-line tools share: usage errors, help, exit codes, the stderr prefix. */
import { nameProgress, progress } from '../private/progress';

/** A mistake in how a command was called: exit code 2 and the usage. */
export class UsageError extends Error {}

/**
 * Parses the arguments; prints the usage for `--help` (exit 0) or after a usage error
 * (exit 2). Returns the parsed arguments, or the exit code when there is nothing to run.
 */
export function parseOrExit<T>(name: string, usage: string, parse: () => T | 'help'): T | number {
  let parsed: T | 'help';
  try {
    parsed = parse();
  } catch (e: any) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${name}: error: ${e.message}\n\n${usage}\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(usage + '\n');
    return 0;
  }
  return parsed;
}

/**
 * Runs a tool's main when its file is executed: its exit code, or 1 for an unexpected error.
 * Every stderr line of the run, the engine's included, starts with the tool's name.
 */
export function runCli(name: string, main: (argv: readonly string[]) => Promise<number>) {
  nameProgress(name);
  main(process.argv.slice(2)).then(code => { process.exitCode = code; }, e => {
    progress(`internal error: ${e?.stack ?? e}`);
    process.exitCode = 1;
  });
}
