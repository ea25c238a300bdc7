/**
 * The Python and Java bindings, used the way a Python or Java CDK user would: the wheel
 * in a fresh virtual environment with aws-cdk-lib from PyPI, the jar installed into the
 * local Maven repository. Runs with `npx projen test:bindings`, which builds dist/ first
 * (`npx projen package-all`). Needs PyPI and Maven Central.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, RunOptions, sha256, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { inspectZip } from '../helpers/zip-inspect';

const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const DIST = path.join(REPO_ROOT, 'dist');
const EXAMPLES = path.join(REPO_ROOT, 'examples');
const WHEEL = path.join(DIST, 'python', 'possum_cdk-0.0.0-py3-none-any.whl');
const SDIST = path.join(DIST, 'python', 'possum_cdk-0.0.0.tar.gz');
const TARBALL = path.join(DIST, 'js', 'possum-cdk@0.0.0.jsii.tgz');
const MAVEN_DIR = path.join(DIST, 'java', 'dev', 'possum', 'possum-cdk', '0.0.0');
const JAR = path.join(MAVEN_DIR, 'possum-cdk-0.0.0.jar');
const POM = path.join(MAVEN_DIR, 'possum-cdk-0.0.0.pom');
const TEN_MINUTES = 600_000;

let work: string;
let venv: string;

/** The environment every language's run gets: its own build cache, quiet jsii, no telemetry. */
function envFor(cacheName: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    POSSUM_CACHE_DIR: path.join(work, cacheName),
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '1',
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
    ...extra,
  };
}

function mustRun(cmd: string, args: readonly string[], opts: RunOptions) {
  const r = run(cmd, args, { timeoutMs: TEN_MINUTES, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr.slice(-6000)}\n${r.stdout.slice(-3000)}`);
  }
  return r;
}

function venvEnv(cacheName: string): NodeJS.ProcessEnv {
  return envFor(cacheName, { VIRTUAL_ENV: venv, PATH: `${path.join(venv, 'bin')}:${process.env.PATH}` });
}

/** `cdk synth` of one example app into its own cloud assembly; returns the assembly folder. */
function synthExample(language: string, env: NodeJS.ProcessEnv): string {
  const outdir = path.join(work, `${language}.out`);
  mustRun(CDK, ['synth', '--output', outdir, '--no-notices', '--quiet'], { cwd: path.join(EXAMPLES, language), env });
  return outdir;
}

/** The one JSON line a checks program prints. */
function checksResult(stdout: string): any {
  // Maven may put a colour reset in front of the line.
  const found = /POSSUM-CHECKS (\{.*\})$/m.exec(stdout);
  if (!found) throw new Error(`no POSSUM-CHECKS line in:\n${stdout}`);
  return JSON.parse(found[1]);
}

beforeAll(() => {
  for (const artifact of [WHEEL, SDIST, TARBALL, JAR, POM]) {
    if (!fs.existsSync(artifact)) throw new Error(`${artifact} is missing: run \`npx projen package-all\` first (\`npx projen test:bindings\` does).`);
  }
  work = tempDir('bindings');
  // A function folder for the checks programs: a handler and a requirements.txt without
  // requirements, so the install step (and its command hooks) runs without an index.
  writeTree(path.join(work, 'fn'), {
    'index.py': 'def handler(event, context):\n    return {"ok": True}\n',
    'requirements.txt': '# no third-party packages yet\n',
  });
});

describe('npx projen package-all', () => {
  test('built the npm tarball, a wheel and sdist, and a jar with its pom; none carries tools, tests or caches', () => {
    const listing = mustRun('tar', ['tzf', TARBALL], {}).stdout.split('\n').filter(Boolean);
    expect(listing).toEqual(expect.arrayContaining(['package/.jsii', 'package/lib/index.js', 'package/lib/cli/possum.js', 'package/node_modules/smol-toml/package.json']));
    const tops = new Set(listing.map(l => l.split('/')[1]));
    expect([...tops].sort()).toEqual(['.jsii', 'API.md', 'LICENSE', 'README.md', 'lib', 'node_modules', 'package.json']);

    const metadata = mustRun('python3', ['-c', [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))',
      'print(z.read(name).decode())',
    ].join('\n'), WHEEL], {}).stdout;
    expect(metadata).toMatch(/^Name: possum-cdk$/m);
    expect(metadata).toMatch(/^Requires-Dist: aws-cdk-lib ?<3\.0\.0,>=2\.224\.0$/m);
    expect(fs.statSync(SDIST).size).toBeGreaterThan(100_000);

    const classes = mustRun('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', JAR], {}).stdout;
    expect(classes).toMatch(/^dev\/possum\/cdk\/PythonPipfileFunction\.class$/m);
    expect(classes).toMatch(/^dev\/possum\/cdk\/NestedZip\.class$/m);
    expect(classes).toMatch(/^dev\/possum\/cdk\/\$Module\.class$/m);
    const pom = fs.readFileSync(POM, 'utf8');
    expect(pom).toContain('<groupId>dev.possum</groupId>');
    expect(pom).toContain('<artifactId>possum-cdk</artifactId>');
  });
});

describe('the example app in three languages', () => {
  const outdirs: Record<string, string> = {};

  test('Python: a fresh virtual environment with our wheel and aws-cdk-lib from PyPI synthesizes examples/python', () => {
    venv = path.join(work, 'venv');
    mustRun('python3', ['-m', 'venv', venv], {});
    mustRun(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', WHEEL,
      '-r', path.join(EXAMPLES, 'python', 'requirements.txt')], {});
    outdirs.python = synthExample('python', venvEnv('python-cache'));
    expect(fs.existsSync(path.join(outdirs.python, 'PossumExample.template.json'))).toBe(true);
  }, TEN_MINUTES);

  test('Java: Maven, with our jar installed into the local repository, synthesizes examples/java', () => {
    mustRun('mvn', ['-q', '-B', 'install:install-file', `-Dfile=${JAR}`, `-DpomFile=${POM}`], {});
    outdirs.java = synthExample('java', envFor('java-cache'));
    expect(fs.existsSync(path.join(outdirs.java, 'PossumExample.template.json'))).toBe(true);
  }, TEN_MINUTES);

  test('TypeScript synthesizes examples/typescript', () => {
    outdirs.typescript = synthExample('typescript', envFor('typescript-cache'));
  }, TEN_MINUTES);

  test('the three templates agree resource for resource, and the staged zips are byte-identical', () => {
    const [ts, py, java] = ['typescript', 'python', 'java'].map(l => {
      if (!outdirs[l]) throw new Error(`the ${l} synth did not run`);
      return JSON.parse(fs.readFileSync(path.join(outdirs[l], 'PossumExample.template.json'), 'utf8'));
    });
    expect(Object.values(ts.Resources).map((r: any) => r.Type).sort()).toEqual([
      'AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::Lambda::LayerVersion', 'AWS::Serverless::Function', 'AWS::Serverless::Function',
    ]);
    expect(py.Resources).toEqual(ts.Resources);
    expect(java.Resources).toEqual(ts.Resources);
    for (const section of ['Parameters', 'Outputs', 'Globals', 'Transform', 'Rules']) {
      expect([section, py[section]]).toEqual([section, ts[section]]);
      expect([section, java[section]]).toEqual([section, ts[section]]);
    }

    // Four bundles (function, layer, two SAM functions), each built separately in each
    // language's own cache, staged as the same bytes under the same asset hash.
    const staged = (outdir: string) => fs.readdirSync(outdir).filter(f => /^asset\.[0-9a-f]{64}\.zip$/.test(f)).sort();
    expect(staged(outdirs.typescript)).toHaveLength(4);
    for (const l of ['python', 'java']) {
      expect(staged(outdirs[l])).toEqual(staged(outdirs.typescript));
      for (const zip of staged(outdirs.typescript)) {
        expect([zip, sha256(path.join(outdirs[l], zip))]).toEqual([zip, sha256(path.join(outdirs.typescript, zip))]);
      }
    }
    const sam = ts.Resources.OrdersFunction.Properties.CodeUri;
    expect(sam).toEqual({ Bucket: expect.anything(), Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
    // The template's own variables survive as written; the Stage the apps pass becomes the
    // parameter's default, which the SAM transform substitutes at deploy time.
    expect(ts.Resources.OrdersFunction.Properties.Environment.Variables).toEqual({ TABLE_NAME: { 'Fn::Sub': '${Stage}-orders' } });
    expect(ts.Parameters.Stage).toMatchObject({ Type: 'String', Default: 'prod' });
  });
});

describe('across the language boundary', () => {
  const expected = (language: string, errorType: string) => ({
    installers: ['pip', 'uv'],
    defaultExcludesHasVenv: true,
    nestedZipValues: ['AUTO', 'ALWAYS', 'NEVER'],
    fnNested: true,
    sizeReport: {
      nested: true,
      // The manifest is an install input, not part of the bundle (DefaultExcludes.BUILD_FILES).
      files: 2,
      unzippedBytes: 53 + `hooked from ${language}\n`.length,
      largestPackages: [
        { name: 'index', bytes: 53 },
        { name: 'hook_marker.txt', bytes: `hooked from ${language}\n`.length },
      ],
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    },
    badEntry: {
      type: errorType,
      message: `Checks/Missing: entry ${work}/fn/no-such-folder is not a folder (resolved to ${work}/fn/no-such-folder); point entry at the function's folder.`,
    },
    layerAlways: {
      type: errorType,
      message: 'bundling.nestedZip NestedZip.ALWAYS at Checks/Layer: a layer cannot be a nested zip (Lambda unpacks layers itself); remove nestedZip from the layer\'s bundling.',
    },
    badCompression: { type: errorType, message: 'bundling.compressionLevel 12 at Checks/Level must be a whole number from 0 to 9.' },
  });

  /** The staged zip the checks program's size report describes: nested, with the hook's file inside. */
  function expectHookInBundle(outdir: string, result: any, language: string) {
    const zip = fs.readdirSync(outdir).filter(f => f.endsWith('.zip')).map(f => path.join(outdir, f))
      .find(f => sha256(f) === result.sizeReport.sha256);
    expect(zip).toBeDefined();
    expect(inspectZip(zip!).entries.map(e => e.name)).toEqual(['_possum_bundle.zip', '_possum_loader.py']);
    const outer = path.join(work, `${language}-outer`);
    unzipWithPython(zip!, outer);
    const inner = path.join(work, `${language}-inner`);
    unzipWithPython(path.join(outer, '_possum_bundle.zip'), inner);
    expect(fs.readFileSync(path.join(inner, 'hook_marker.txt'), 'utf8')).toBe(`hooked from ${language}\n`);
  }

  test('Python: enums, static factories, an interface implemented in Python, the size report, and errors as RuntimeError with our message only', () => {
    if (!venv) throw new Error('the Python synth test did not run');
    const outdir = path.join(work, 'python-checks.out');
    const r = mustRun(path.join(venv, 'bin', 'python'), [path.join(__dirname, 'python', 'checks.py'), path.join(work, 'fn'), outdir],
      { env: venvEnv('python-checks-cache') });
    const result = checksResult(r.stdout);
    expect(result).toEqual(expected('python', 'RuntimeError'));
    expectHookInBundle(outdir, result, 'python');
  }, TEN_MINUTES);

  test('Java: enums, static factories, an interface implemented in Java, the size report, and errors as RuntimeException with our message only', () => {
    const outdir = path.join(work, 'java-checks.out');
    const r = mustRun('mvn', ['-q', '-B', 'compile', 'exec:java', `-Dexec.args=${path.join(work, 'fn')} ${outdir}`],
      { cwd: path.join(__dirname, 'java'), env: envFor('java-checks-cache') });
    const result = checksResult(r.stdout);
    expect(result).toEqual(expected('java', 'RuntimeException'));
    expectHookInBundle(outdir, result, 'java');
  }, TEN_MINUTES);
});
