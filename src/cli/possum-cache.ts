#!/usr/bin/env node
/**
 * possum-cache: shows, trims or clears the build cache that possum-cdk and possum share.
 *
 *   possum-cache [info|prune|clear] [--cache-dir DIR] [--max-bytes N]
 */
import { parseOrExit, runCli, UsageError } from './cli-runner';
import { BuildCache, cacheMaxBytes, cacheRoot } from '../private/cache';
import { formatBytes } from '../private/zip/engine';

const USAGE = `usage: possum-cache [info|prune|clear] [--cache-dir DIR] [--max-bytes N]

Shows, trims or clears possum-cdk's build cache (installed dependency trees and finished
zips, shared by every app on this machine and by the possum CLI).

  info                 (the default) where the cache is, what it holds and its budget
  prune                remove least recently used entries until the cache fits its budget;
                       nothing used in the last 15 minutes is removed (a synth may be using it)
  clear                remove every entry (builds running now keep their locks)
  --cache-dir DIR      the cache folder (default: $POSSUM_CACHE_DIR, else $XDG_CACHE_HOME/possum-cdk,
                       else ~/.cache/possum-cdk)
  --max-bytes N        the budget for prune (default: $POSSUM_CACHE_MAX_BYTES, else 5000000000)
  -h, --help           show this help

Every synth that builds something also prunes the cache to $POSSUM_CACHE_MAX_BYTES (0: never).`;

interface Args {
  readonly command: 'info' | 'prune' | 'clear';
  readonly cacheDir?: string;
  readonly maxBytes?: number;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  let command: Args['command'] | undefined;
  let cacheDir: string | undefined;
  let maxBytes: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--cache-dir' || flag === '--max-bytes') {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value.`);
      if (flag === '--cache-dir') {
        cacheDir = value;
      } else {
        if (!/^[0-9]+$/.test(value)) throw new UsageError(`--max-bytes ${value} is not a whole number of bytes.`);
        maxBytes = Number(value);
      }
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}.`);
    } else if (command) {
      throw new UsageError(`expected one command, got ${command} and ${arg}.`);
    } else if (arg === 'info' || arg === 'prune' || arg === 'clear') {
      command = arg;
    } else {
      throw new UsageError(`unknown command ${arg}; use info, prune or clear.`);
    }
  }
  return { command: command ?? 'info', cacheDir, maxBytes };
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseOrExit('possum-cache', USAGE, () => parseArgs(argv));
  if (typeof args === 'number') return args;
  try {
    const root = cacheRoot(args.cacheDir);
    const cache = new BuildCache(root);
    const budget = args.maxBytes ?? cacheMaxBytes();
    if (args.command === 'prune') {
      const removed = cache.evict(budget);
      process.stdout.write(`removed ${removed.length} entries (${formatBytes(removed.reduce((s, e) => s + e.bytes, 0))}) from ${root}\n`);
    } else if (args.command === 'clear') {
      process.stdout.write(`removed ${formatBytes(cache.clear())} from ${root}\n`);
    }
    const entries = cache.entries();
    const total = entries.reduce((s, e) => s + e.bytes, 0);
    const of = (kind: string) => entries.filter(e => e.kind === kind);
    const sum = (list: typeof entries) => formatBytes(list.reduce((s, e) => s + e.bytes, 0));
    const oldest = entries.length ? new Date(Math.min(...entries.map(e => e.lastUsedMs))).toISOString() : '-';
    process.stdout.write([
      `cache:        ${root}`,
      `size:         ${formatBytes(total)} (${total} bytes) of a ${budget === 0 ? 'unlimited' : `${formatBytes(budget)}`} budget`,
      `dependencies: ${of('deps').length} installed trees, ${sum(of('deps'))}`,
      `bundles:      ${of('zip').length} zips, ${sum(of('zip'))}`,
      `least recently used: ${oldest}`,
      '',
    ].join('\n'));
    return 0;
  } catch (e: any) {
    process.stderr.write(`possum-cache: error: ${e?.message ?? e}\n`);
    return 1;
  }
}

if (require.main === module) runCli('possum-cache', main);
