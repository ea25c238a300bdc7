import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { buildWheelhouse, LocalIndex, lockHashes, Wheelhouse } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const CFN_LINT = path.join(REPO_ROOT, '.tools', 'bin', 'cfn-lint');
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'showcase-app.js');

let house: Wheelhouse;
let index: LocalIndex;
let work: string;

beforeAll(async () => {
  work = tempDir('e2e');
  house = buildWheelhouse(work);
  index = await LocalIndex.start(house);
  const handler = (imports: string[]) =>
    `${imports.map(i => `import ${i}`).join('\n')}\n\ndef handler(event, context):\n    return "ok"\n`;
  writeTree(path.join(work, 'fns'), {
    'layer/requirements.txt': 'withdeps==1.0\n',
    'locked/index.py': handler(['greeting', 'withdeps']),
    'locked/Pipfile.lock': JSON.stringify({
      _meta: { sources: [{ name: 'local', url: index.url(), verify_ssl: false }] },
      default: { greeting: { version: '==2.0', hashes: lockHashes(house, 'greeting', '2.0') } },
      develop: {},
    }),
    'arm/index.py': handler(['fastmath']),
    'arm/requirements.txt': 'fastmath==1.0\n',
    'nested/index.py': handler(['greeting']),
    'nested/pyproject.toml': '[project]\nname = "nested"\nversion = "1"\ndependencies = ["greeting==1.0"]\n',
  });
});
afterAll(() => index?.stop());

function cdkSynth(outdir: string) {
  return run(CDK, ['synth', '--app', `node ${APP}`, '--output', outdir, '--no-notices', '--quiet'], {
    cwd: work,
    env: {
      ...process.env,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      SHOWCASE_DIR: path.join(work, 'fns'),
      SHOWCASE_CACHE: path.join(work, 'cache'),
      SHOWCASE_INDEX_URL: index.url(),
    },
    timeoutMs: 600_000,
  });
}

describe('the real aws-cdk CLI', () => {
  test('cdk synth bundles every function and layer without Docker; cfn-lint accepts the template', () => {
    const outdir = path.join(work, 'cdk.out');
    const r = cdkSynth(outdir);
    expect(r.stderr).not.toMatch(/docker/i);
    expect(r.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'Showcase.template.json'), 'utf8'));
    const resources = Object.values(template.Resources) as any[];
    const functions = resources.filter(res => res.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(3);
    expect(functions.map(f => f.Properties.Handler).sort()).toEqual(['_possum_loader.handler', 'index.handler', 'index.handler']);
    const nested = functions.find(f => f.Properties.Handler === '_possum_loader.handler')!.Properties;
    expect(nested.Environment.Variables.POSSUM_HANDLER).toBe('index.handler');
    expect(nested.EphemeralStorage.Size).toBeGreaterThan(512);
    expect(functions.find(f => f.Properties.Runtime === 'python3.11')!.Properties.Architectures).toEqual(['arm64']);

    // Every asset is one zip in cdk.out, as the template names it.
    const assets = JSON.parse(fs.readFileSync(path.join(outdir, 'Showcase.assets.json'), 'utf8')).files;
    const zips = Object.values(assets).map((a: any) => a.source).filter((s: any) => s.path.startsWith('asset.'));
    expect(zips).toHaveLength(4); // three functions and the layer
    expect(zips.every((s: any) => s.packaging === 'file' && s.path.endsWith('.zip'))).toBe(true);
    for (const s of zips as any[]) expect(inspectZip(path.join(outdir, s.path)).entries.length).toBeGreaterThan(0);
    // The size report the nested function asked for.
    expect(fs.readdirSync(outdir).filter(f => f.startsWith('possum-size-report.'))).toHaveLength(1);

    const lint = run(CFN_LINT, ['--ignore-checks', 'W3005', '--', path.join(outdir, 'Showcase.template.json')]);
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  test('a second cdk synth into the same cdk.out bundles nothing and gives the same template', () => {
    const outdir = path.join(work, 'cdk.out.2');
    const first = cdkSynth(outdir);
    expect(first.status).toBe(0);
    const before = fs.readFileSync(path.join(outdir, 'Showcase.template.json'), 'utf8');
    const second = cdkSynth(outdir);
    expect(second.status).toBe(0);
    expect(second.stderr).not.toContain('Bundling asset');
    expect(fs.readFileSync(path.join(outdir, 'Showcase.template.json'), 'utf8')).toBe(before);
  });
});
