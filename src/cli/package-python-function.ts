#!/usr/bin/env node
/**
 * package-python-function: a virtual environment in, a reproducible Lambda zip out.
 *
 *   package-python-function VENV_DIR [--project pyproject.toml] (--output-dir DIR | --output FILE)
 *                           [--report FILE] [--exclude PATTERN]... [--nest-threshold-bytes N]
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseOrExit, runCli, UsageError } from './cli-runner';
import { outputTarget, writeFileAtomic } from '../private/atomic-file';
import { progress } from '../private/progress';
import { importNameOf, readProjectName } from '../private/pyproject';
import { describeLargest, LAMBDA_UNZIPPED_LIMIT_BYTES, ZipReport } from '../private/zip/engine';
import { buildZipSync } from '../private/zip/run-sync';

const USAGE = `usage: package-python-function VENV_DIR [--project FILE] (--output-dir DIR | --output FILE)
                               [--report FILE] [--exclude PATTERN]... [--nest-threshold-bytes N]

Zips the site-packages of the virtual environment VENV_DIR into a byte-reproducible
AWS Lambda package named after the project (dashes become underscores).

  --project FILE             the project's pyproject.toml (default: ./pyproject.toml)
  --output-dir DIR           write DIR/<project_name>.zip
  --output FILE              write exactly FILE
  --report FILE              also write the size report as JSON
  --exclude PATTERN          leave out matching files (repeatable; .gitignore-like)
  --nest-threshold-bytes N   unzipped size from which the zip is nested
                             (default ${LAMBDA_UNZIPPED_LIMIT_BYTES}, Lambda's limit)
  -h, --help                 show this help

SOURCE_DATE_EPOCH, when set, is the timestamp of every entry (default 1980-01-01).
When the package would unzip past the threshold, the zip holds a loader in the project's
top-level package and the real tree as an inner zip that is unpacked to /tmp on the
first cold start, so the handler string stays the same.`;


interface Args {
  readonly venv: string;
  readonly project: string;
  readonly outputDir?: string;
  readonly output?: string;
  readonly report?: string;
  readonly excludes: string[];
  readonly nestThresholdBytes?: number;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const positional: string[] = [];
  const excludes: string[] = [];
  const values: Record<string, string> = {};
  const valued = ['--project', '--output-dir', '--output', '--report', '--exclude', '--nest-threshold-bytes'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (valued.includes(flag)) {
      const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value.`);
      if (flag === '--exclude') {
        excludes.push(value);
      } else if (flag in values) {
        throw new UsageError(`${flag} was given twice.`);
      } else {
        values[flag] = value;
      }
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}.`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'VENV_DIR is required.' : `expected one VENV_DIR, got ${positional.join(' ')}.`);
  }
  if (values['--output-dir'] && values['--output']) {
    throw new UsageError('give either --output-dir or --output, not both.');
  }
  if (!values['--output-dir'] && !values['--output']) {
    throw new UsageError('one of --output-dir DIR or --output FILE is required.');
  }
  let nestThresholdBytes: number | undefined;
  if (values['--nest-threshold-bytes'] !== undefined) {
    const raw = values['--nest-threshold-bytes'];
    if (!/^[0-9]+$/.test(raw) || Number(raw) < 1) {
      throw new UsageError(`--nest-threshold-bytes ${raw} is not a positive whole number of bytes.`);
    }
    nestThresholdBytes = Number(raw);
  }
  return {
    venv: positional[0],
    project: values['--project'] ?? 'pyproject.toml',
    outputDir: values['--output-dir'],
    output: values['--output'],
    report: values['--report'],
    excludes,
    nestThresholdBytes,
  };
}

/** The single `lib/python3.X/site-packages` folder of a virtual environment. */
export function findSitePackages(venv: string): string {
  if (!fs.existsSync(venv) || !fs.statSync(venv).isDirectory()) {
    throw new Error(`Virtual environment ${venv} does not exist or is not a folder.`);
  }
  const found: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    const libDir = path.join(venv, lib);
    if (!fs.existsSync(libDir)) continue;
    for (const name of fs.readdirSync(libDir).sort()) {
      const candidate = path.join(libDir, name, 'site-packages');
      if (/^python3\.\d+$/.test(name) && fs.existsSync(candidate)) {
        found.push(fs.realpathSync(candidate));
      }
    }
  }
  const unique = [...new Set(found)];
  if (unique.length === 0) {
    throw new Error(
      `No site-packages in ${venv} (looked for ${path.join(venv, 'lib', 'python3.*', 'site-packages')}). ` +
      'Pass the folder of a virtual environment made with "python3 -m venv" and install the project into it.');
  }
  if (unique.length > 1) {
    throw new Error(`${venv} has more than one site-packages (${unique.join(', ')}); pass a virtual environment with a single Python version.`);
  }
  return unique[0];
}

/**
 * The top-level package in site-packages named after the project (matched without regard
 * to case), where a nested zip's loader goes. The engine checks that it exists when it nests.
 */
function projectPackage(sitePackages: string, projectName: string): string {
  const wanted = importNameOf(projectName);
  const match = fs.readdirSync(sitePackages)
    .filter(n => n.toLowerCase() === wanted.toLowerCase() && fs.statSync(path.join(sitePackages, n)).isDirectory())
    .sort()[0];
  return match ?? wanted;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseOrExit('package-python-function', USAGE, () => parseArgs(argv));
  if (typeof args === 'number') return args;
  try {
    const projectName = readProjectName(args.project);
    const sitePackages = findSitePackages(args.venv);
    const output = args.output ?? path.join(args.outputDir!, `${projectName.replace(/-/g, '_')}.zip`);
    progress(`zipping ${sitePackages} into ${output}`);
    // The engine renames its zip into place: a link's file, or a file first when the output
    // is /dev/stdout, a FIFO or the like (a rename would replace it).
    const target = outputTarget(output);
    // In the engine's worker process, as bundling runs it: its memory settings keep the
    // peak below 100 MB on a 400 MB venv (bench/README.md).
    let zipped: ReturnType<typeof buildZipSync>;
    try {
      zipped = buildZipSync({
        sources: [{ dir: sitePackages }],
        output: target.path,
        excludes: args.excludes,
        sourceDateEpoch: process.env.SOURCE_DATE_EPOCH,
        nestThresholdBytes: args.nestThresholdBytes,
        loader: { kind: 'package', packageName: projectPackage(sitePackages, projectName) },
        progress: true,
      });
    } catch (e) {
      target.discard?.();
      throw e;
    }
    target.deliver?.();
    const { maxRssBytes: _rss, ...built } = zipped;
    const report = { ...built, output };
    if (args.report) writeReport(args.report, report);
    summary(report).forEach(progress);
    return 0;
  } catch (e: any) {
    progress(`error: ${e?.message ?? e}`);
    return 1;
  }
}

function writeReport(file: string, report: ZipReport) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, JSON.stringify(report, undefined, 2) + '\n');
}

function summary(r: ZipReport): string[] {
  return [
    `wrote ${r.output} (${r.files} files, ${r.unzippedBytes} bytes unzipped, ` +
      `${r.zippedBytes} bytes zipped${r.nested ? ', nested' : ''}; sha256 ${r.sha256})`,
    `largest: ${describeLargest(r.largest)}`,
  ];
}

if (require.main === module) runCli('package-python-function', main);
