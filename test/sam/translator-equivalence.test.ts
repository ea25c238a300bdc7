import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { SAM_CASES } from './sam-cases';
import { SamTemplatePackager } from '../../src';
import { knownParameters, planSamPackaging } from '../../src/private/sam/plan';
import { readTemplate } from '../../src/private/sam/template';
import { REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { MotoS3 } from '../helpers/s3';
import { fetchCorpus, samCheckBatch, samTemplates } from '../helpers/sam-corpora';

/**
 * Packaging changes where code lives, nothing else. For every template, with both paths
 * (SamTemplatePackager synthesized by CDK, and the possum CLI against moto's S3), the real
 * SAM translator must give the same output for the packaged template as for the original
 * with each code location replaced by the one packaging chose, the templates themselves
 * must agree everywhere else, and cfn-lint must find nothing new.
 *
 * Corpora: the cases of test/sam/sam-cases.ts (every cause of issue 11), and the SAM
 * templates in the cfn-lint sdist fetched from PyPI at test time (used in place in a
 * temporary copy; each local folder or file they name is created empty, with a handler).
 */
const POSSUM = path.join(REPO_ROOT, 'lib', 'cli', 'possum.js');
let moto: MotoS3;
beforeAll(async () => { moto = await MotoS3.start('deploy-bucket'); });
afterAll(() => moto?.stop());

interface Outcome {
  readonly name: string;
  readonly original: string;
  /** The packaged template and the paths packaging changed, or why it refused. */
  readonly construct: { file?: string; changed: string[][]; error?: string };
  readonly cli: { file?: string; changed: string[][]; error?: string };
}

/** The paths packaging may change: the artifacts' locations (for a nested function, its handler, variable and /tmp) and given defaults. */
function changedPaths(templateFile: string, parameters: Record<string, string>): string[][] {
  const template = readTemplate(templateFile).value;
  const paths: string[][] = planSamPackaging(template, templateFile, knownParameters(template, parameters))
    .filter(a => a.kind !== 'image').map(a => [...a.path]);
  for (const name of Object.keys(parameters)) paths.push(['Parameters', name, 'Default']);
  return paths;
}

function packageWithConstruct(templateFile: string, parameters: Record<string, string>, env?: cdk.Environment): Outcome['construct'] {
  const outdir = tempDir('eq-out');
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const app = new cdk.App({ outdir });
    const stack = new cdk.Stack(app, 'S', { env });
    new SamTemplatePackager(stack, 'App', { templateFile, parameters, bundling: { cacheDir: path.join(REPO_ROOT, '.possum-cache', 'equivalence') } });
    app.synth();
    return { file: path.join(outdir, 'S.template.json'), changed: changedPaths(templateFile, parameters) };
  } catch (e: any) {
    return { changed: [], error: String(e.message) };
  } finally {
    spy.mockRestore();
  }
}

function packageWithCli(templateFile: string, parameters: Record<string, string>): Outcome['cli'] {
  const output = path.join(tempDir('eq-cli'), path.basename(templateFile));
  const args = [POSSUM, 'deploy-bucket/equivalence', '-t', templateFile, '-o', output, '--endpoint-url', moto.endpoint];
  if (Object.keys(parameters).length) args.push('--parameter-overrides', Object.entries(parameters).map(([k, v]) => `${k}=${v}`).join(' '));
  const r = run(process.execPath, args, {
    env: { ...process.env, ...MotoS3.ENV, POSSUM_CACHE_DIR: path.join(REPO_ROOT, '.possum-cache', 'equivalence') },
    timeoutMs: 300_000,
  });
  if (r.status !== 0) return { changed: [], error: r.stderr.split('\n').filter(l => l.startsWith('possum: error')).join('\n') || r.stderr };
  const changed = changedPaths(templateFile, parameters).filter(p => p[0] !== 'Parameters');
  return { file: output, changed };
}

/** Checks outcomes with the translator and cfn-lint in one batch; returns readable problems. */
function problems(outcomes: Outcome[]): string[] {
  const jobs: any[] = [];
  const index: Array<[string, string]> = [];
  for (const o of outcomes) {
    for (const side of ['construct', 'cli'] as const) {
      const r = o[side];
      if (!r.file) continue;
      jobs.push({ command: 'equivalent', original: o.original, packaged: r.file, changed: JSON.stringify(r.changed) });
      index.push([o.name, `${side} equivalence`]);
      jobs.push({ command: 'lint', templates: [o.original, r.file] });
      index.push([o.name, `${side} cfn-lint`]);
    }
  }
  const results = samCheckBatch(jobs);
  const out: string[] = [];
  results.forEach((r, i) => {
    const [name, what] = index[i];
    if (what.endsWith('equivalence')) {
      if (!r.ok) {
        const v = r.result;
        const first = [...(v?.structural?.differences ?? []), ...(v?.translated?.differences ?? [])][0];
        out.push(`${name} ${what}: ${r.error ?? `structural ${v.structural.equal}, translated ${v.translated.equal}` +
          `${first ? `; first difference at ${JSON.stringify(first.path)}: ${JSON.stringify(first.original)} vs ${JSON.stringify(first.packaged)}` : ''}` +
          `${v?.translated?.errors?.packaged ? `; packaged does not translate: ${v.translated.errors.packaged}` : ''}`}`);
      }
    } else {
      const fresh = (r.result?.new ?? []).filter((f: any) => !f.code_path);
      if (r.error || fresh.length) out.push(`${name} ${what}: ${r.error ?? fresh.map((f: any) => `${f.rule} ${f.path.join('/')}: ${f.message}`).join('; ')}`);
    }
  });
  return out;
}

describe('the SAM translator sees the same template after packaging', () => {
  test('every cause of issue 11, both paths', () => {
    const outcomes: Outcome[] = [];
    for (const [name, c] of Object.entries(SAM_CASES)) {
      const dir = path.join(tempDir(`eq-${name}`), name);
      const file = path.join(dir, c.template.trimStart().startsWith('{') ? 'template.json' : 'template.yaml');
      writeTree(dir, { [path.basename(file)]: c.template, ...c.files });
      const construct = c.cliOnly
        ? { changed: [] }
        : packageWithConstruct(file, c.parameters ?? {}, c.needsEnv ? { account: '123456789012', region: 'us-east-1' } : undefined);
      outcomes.push({ name, original: file, construct, cli: packageWithCli(file, c.parameters ?? {}) });
    }
    const refused = outcomes.flatMap(o => [o.construct.error && `${o.name} construct: ${o.construct.error}`, o.cli.error && `${o.name} cli: ${o.cli.error}`])
      .filter(Boolean);
    expect(refused).toEqual([]);
    expect(problems(outcomes)).toEqual([]);
  }, 20 * 60_000);

  test('the SAM templates of cfn-lint\'s sdist (fetched from PyPI), both paths', () => {
    const corpus = fetchCorpus('cfn-lint');
    const outcomes: Outcome[] = [];
    const skipped: string[] = [];
    for (const source of samTemplates(corpus)) {
      const rel = path.relative(corpus.templateDir, source);
      const dir = path.join(tempDir('eq-cfnlint'), 'app');
      const file = path.join(dir, path.basename(source));
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(source, file);
      let template: any;
      try {
        template = readTemplate(file).value;
      } catch {
        skipped.push(`${rel}: not readable`);
        continue;
      }
      makeLocalArtifacts(template, dir);
      const construct = packageWithConstruct(file, {}, { account: '123456789012', region: 'us-east-1' });
      const cli = packageWithCli(file, {});
      // Both paths agree on what they refuse (a runtime name Lambda does not have, say), except an
      // image function without ImageUri: possum refuses the template, the construct warns (the app can set it).
      const imageOnly = !construct.error && !!cli.error?.includes('(PackageType: Image) with no ImageUri');
      if (imageOnly) skipped.push(`${rel}: possum refuses an image function without ImageUri (the construct warns and is checked)`);
      else expect(`${rel}: ${!!construct.error}`).toBe(`${rel}: ${!!cli.error}`);
      if (construct.error) {
        skipped.push(`${rel}: ${construct.error.split('\n')[0]}`);
        continue;
      }
      outcomes.push({ name: rel, original: file, construct, cli });
    }
    // eslint-disable-next-line no-console
    console.log(`cfn-lint corpus: ${outcomes.length} packaged by both paths, ${skipped.length} refused alike:\n${skipped.join('\n')}`);
    expect(outcomes.length).toBeGreaterThan(15);
    expect(problems(outcomes)).toEqual([]);
  }, 30 * 60_000);
});

/**
 * Creates what a third-party template's local code locations name: a folder with the
 * handler's module (or an empty file for definitions), so the template can be packaged.
 */
function makeLocalArtifacts(template: any, dir: string) {
  const local = (v: unknown) => typeof v === 'string' && !/^(s3|https?):\/\//.test(v) && !v.includes('..');
  const globals = template.Globals?.Function ?? {};
  for (const r of Object.values<any>(template.Resources ?? {})) {
    const p = r?.Properties ?? {};
    if (r?.Type === 'AWS::Serverless::Function' && p.InlineCode === undefined && p.PackageType !== 'Image') {
      const uri = p.CodeUri ?? globals.CodeUri ?? '.';
      const handler = p.Handler ?? globals.Handler;
      if (local(uri) && typeof handler === 'string' && handler.includes('.')) {
        const module = handler.slice(0, handler.lastIndexOf('.')).replace(/\./g, '/');
        writeTree(path.join(dir, uri), { [`${module}.py`]: `def ${handler.slice(handler.lastIndexOf('.') + 1)}(event, context):\n    return 1\n` });
      }
    }
    if (r?.Type === 'AWS::Serverless::LayerVersion' && local(p.ContentUri)) writeTree(path.join(dir, p.ContentUri), { README: 'layer\n' });
    for (const key of ['DefinitionUri', 'Location']) {
      if (local(p[key]) && /\.(json|ya?ml)$/.test(p[key])) writeTree(dir, { [p[key]]: '{}\n' });
    }
  }
}
