/**
 * Third-party SAM templates for tests, fetched from PyPI at test time (never kept in the
 * repository) and cached under .tools/corpora/, plus a typed way to run the
 * test/fixtures/sam_check.py harness (the real SAM translator and cfn-lint, offline).
 *
 * Corpora: the sdists of the pinned cfn-lint (its test/fixtures/templates/ holds many SAM
 * templates from real projects and bug reports) and of the pinned aws-sam-translator
 * (whose own test inputs, tests/translator/input/, are pruned from its sdist: its
 * MANIFEST.in says `prune tests`, so that corpus reports itself unavailable).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT, run } from './run';

export const TOOLS_PYTHON = path.join(REPO_ROOT, '.tools', 'bin', 'python');
export const SAM_CHECK = path.join(REPO_ROOT, 'test', 'fixtures', 'sam_check.py');
export const CORPORA_DIR = path.join(REPO_ROOT, '.tools', 'corpora');
const PINS_FILE = path.join(REPO_ROOT, '.ci', 'python-tools.txt');

export type CorpusName = 'cfn-lint' | 'aws-sam-translator';

/** Where each sdist keeps its templates, and how its deliberately invalid ones are named. */
const LAYOUT: Record<CorpusName, { templateDir: string; invalid?: RegExp }> = {
  'cfn-lint': { templateDir: 'test/fixtures/templates' },
  // The translator's suite names inputs that must fail `error_*` (tests/translator/input/error_*.yaml).
  'aws-sam-translator': { templateDir: 'tests/translator/input', invalid: /(^|\/)error_[^/]*$/ },
};

export interface SamCorpus {
  readonly name: CorpusName;
  /** The version pinned in .ci/python-tools.txt. */
  readonly version: string;
  /** The extracted sdist. */
  readonly root: string;
  /** The folder holding the templates (may not exist: see `available`). */
  readonly templateDir: string;
  /** Whether the sdist ships the templates at all. */
  readonly available: boolean;
  /** Why not, when it does not. */
  readonly reason?: string;
}

/** The version of a Python tool pinned (`name==version`) in .ci/python-tools.txt. */
export function pinnedVersion(name: string): string {
  for (const line of fs.readFileSync(PINS_FILE, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*([^\s#;]+)/.exec(line);
    if (m && m[1].toLowerCase().replace(/_/g, '-') === name.toLowerCase()) return m[3];
  }
  throw new Error(`${name} is not pinned in ${PINS_FILE}`);
}

/**
 * Downloads (once) and extracts the pinned sdist of `name` under .tools/corpora/ with the
 * tools venv's pip and tarfile. Safe for several jest workers at once: each extracts into
 * its own folder and renames it into place; the first rename wins.
 */
export function fetchCorpus(name: CorpusName): SamCorpus {
  const version = pinnedVersion(name);
  const root = path.join(CORPORA_DIR, `${name}-${version}`);
  const done = path.join(root, '.possum-complete');
  if (!fs.existsSync(done)) {
    if (!fs.existsSync(TOOLS_PYTHON)) throw new Error(`${TOOLS_PYTHON} is missing: run \`npx projen install-tools\``);
    fs.mkdirSync(CORPORA_DIR, { recursive: true });
    const work = fs.mkdtempSync(path.join(CORPORA_DIR, `.${name}-`));
    try {
      const dl = run(TOOLS_PYTHON, ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check',
        '--no-binary', ':all:', '--no-deps', '--dest', path.join(work, 'dl'), `${name}==${version}`], { timeoutMs: 600_000 });
      if (dl.status !== 0) throw new Error(`pip download ${name}==${version} failed (${dl.status}):\n${dl.stderr}`);
      const extract = run(TOOLS_PYTHON, ['-c', EXTRACT_PY, path.join(work, 'dl'), path.join(work, 'src')]);
      if (extract.status !== 0) throw new Error(`extracting the ${name} sdist failed:\n${extract.stderr}`);
      fs.writeFileSync(path.join(work, 'src', '.possum-complete'), `${name}==${version}\n`);
      try {
        fs.renameSync(path.join(work, 'src'), root);
      } catch (e: any) {
        if (!fs.existsSync(done)) throw e; // another worker got there first otherwise
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const templateDir = path.join(root, LAYOUT[name].templateDir);
  const available = fs.existsSync(templateDir);
  return {
    name,
    version,
    root,
    templateDir,
    available,
    reason: available ? undefined : `the ${name} ${version} sdist does not ship ${LAYOUT[name].templateDir}/`,
  };
}

// The one sdist in the download folder, unpacked without its top folder (name-version/).
const EXTRACT_PY = `
import os, sys, tarfile
src, dest = sys.argv[1], sys.argv[2]
(archive,) = [f for f in os.listdir(src) if f.endswith(('.tar.gz', '.tgz'))]
with tarfile.open(os.path.join(src, archive)) as tar:
    members = []
    for m in tar.getmembers():
        parts = m.name.split('/', 1)
        if len(parts) == 2 and parts[1] and (m.isfile() or m.isdir()):
            m.name = parts[1]
            members.append(m)
    tar.extractall(dest, members=members, filter='data')
`;

/** Every file under dir (recursively) with a template-like extension, sorted. */
function candidateFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ya?ml|json|template)$/i.test(e.name)) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

export interface SamCheckOutcome {
  readonly ok: boolean;
  readonly result?: any;
  readonly error?: string;
}

export interface SamCheckJob {
  readonly command: 'parse' | 'translate' | 'equivalent' | 'lint' | 'generated';
  readonly [option: string]: unknown;
}

/** Runs many sam_check.py jobs in one Python process (the translator imports once). */
export function samCheckBatch(jobs: readonly SamCheckJob[]): SamCheckOutcome[] {
  if (jobs.length === 0) return [];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'possum-sam-check-')), 'jobs.json');
  try {
    fs.writeFileSync(file, JSON.stringify(jobs));
    const r = run(TOOLS_PYTHON, [SAM_CHECK, '--batch', file], { timeoutMs: 600_000 });
    let outcomes: SamCheckOutcome[] | undefined;
    try {
      outcomes = JSON.parse(r.stdout);
    } catch {
      outcomes = undefined;
    }
    if ((r.status !== 0 && r.status !== 1) || !Array.isArray(outcomes) || outcomes.length !== jobs.length) {
      throw new Error(`sam_check.py --batch failed (${r.status}):\n${r.stderr}`);
    }
    return outcomes;
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

export interface SamCheckResult {
  readonly status: number | null;
  /** stdout parsed as JSON (undefined when it is not JSON). */
  readonly json: any;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one sam_check.py subcommand, e.g. `samCheck(['translate', file])`. */
export function samCheck(args: readonly string[]): SamCheckResult {
  const r = run(TOOLS_PYTHON, [SAM_CHECK, ...args], { timeoutMs: 300_000 });
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';

/** Whether a parsed template declares the SAM transform (alone or in a list). */
export function declaresSam(template: any): boolean {
  const t = template?.Transform;
  return Array.isArray(t) ? t.includes(SAM_TRANSFORM) : t === SAM_TRANSFORM;
}

const samTemplatesCache = new Map<string, string[]>();

/**
 * The corpus's SAM templates (absolute paths, sorted): the files that parse, as SAM reads
 * them, to a template whose Transform is or lists AWS::Serverless-2016-10-31.
 */
export function samTemplates(corpus: SamCorpus): string[] {
  const cached = samTemplatesCache.get(corpus.root);
  if (cached) return cached;
  const files = candidateFiles(corpus.templateDir);
  const parsed = samCheckBatch(files.map(template => ({ command: 'parse', template })));
  const found = files.filter((_, i) => parsed[i].ok && declaresSam(parsed[i].result));
  samTemplatesCache.set(corpus.root, found);
  return found;
}

export interface TranslationSurvey {
  /** Templates the translator turns into CloudFormation without error. */
  readonly translated: string[];
  /** The others, with the translator's messages. */
  readonly failed: { readonly file: string; readonly errors: string[] }[];
  /** Failures of templates the corpus itself marks as invalid (`error_*` inputs). */
  readonly expectedFailures: number;
}

const surveyCache = new Map<string, TranslationSurvey>();

/** Translates every SAM template of the corpus with the harness (one process). */
export function surveyTranslation(corpus: SamCorpus): TranslationSurvey {
  const cached = surveyCache.get(corpus.root);
  if (cached) return cached;
  const files = samTemplates(corpus);
  const outcomes = samCheckBatch(files.map(template => ({ command: 'translate', template })));
  const translated: string[] = [];
  const failed: { file: string; errors: string[] }[] = [];
  outcomes.forEach((o, i) => {
    if (o.ok) translated.push(files[i]);
    else failed.push({ file: files[i], errors: o.result?.errors ?? [o.error ?? 'unknown error'] });
  });
  const invalid = LAYOUT[corpus.name].invalid;
  const expectedFailures = invalid
    ? failed.filter(f => invalid.test(path.relative(corpus.templateDir, f.file))).length
    : 0;
  const survey = { translated, failed, expectedFailures };
  surveyCache.set(corpus.root, survey);
  return survey;
}

/** The corpus's valid translator inputs: its SAM templates that translate without error. */
export function translatableTemplates(corpus: SamCorpus): string[] {
  return surveyTranslation(corpus).translated;
}
