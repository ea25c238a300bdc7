/**
 * Integration suite against real PyPI packages (network). Run with `npx projen test:integration`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PythonPipfileFunction, PythonPipfileFunctionProps } from '../../src';
import { installCommand, InstallerSettings, uvEnvironment } from '../../src/private/python/installer';
import { resolveCommand } from '../../src/private/python/resolver';
import { pythonTarget } from '../../src/private/python/target';
import { RieFunction } from '../helpers/rie';
import { PYTHON, python, REPO_ROOT, run, tempDir, TOOLS_UV, unzipWithPython, writeTree } from '../helpers/run';

const EXAMPLE_HELLO = path.join(REPO_ROOT, 'examples', 'functions', 'hello');
let cache: string;

beforeAll(() => {
  cache = path.join(tempDir('pypi-cache'), 'c');
});

function synth(props: PythonPipfileFunctionProps) {
  const app = new cdk.App({ outdir: tempDir('pypi-out') });
  const stack = new cdk.Stack(app, 'S');
  const fn = new PythonPipfileFunction(stack, 'Fn', { ...props, bundling: { cacheDir: cache, ...props.bundling } });
  const assembly = app.synth();
  const fnProps = (Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as any).Properties;
  const task = path.join(tempDir('pypi-task'), 'var-task');
  unzipWithPython(path.join(assembly.directory, `asset.${fnProps.Code.S3Key}`), task);
  return { fn, task, props: fnProps };
}

/** ELF e_machine of every .so under a folder: 0x3e x86-64, 0xb7 aarch64. */
function elfMachines(dir: string): Set<number> {
  const machines = new Set<number>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.so(\.|$)/.test(e.name)) machines.add(fs.readFileSync(p).readUInt16LE(18));
    }
  };
  walk(dir);
  return machines;
}

/** Runs the unpacked bundle in the Lambda Runtime Interface Emulator (awslambdaric, Python 3.11) and invokes it once. */
async function invokeInEmulator(task: string, handler: string, env: Record<string, string>, event: unknown) {
  const tmp = tempDir('pypi-tmp');
  const fn = await RieFunction.start({ codeDir: task, handler, tmpDir: tmp, timeoutSeconds: 300, env: { ...env, POSSUM_EXTRACT_ROOT: tmp } });
  try {
    const r = await fn.invoke(event, { timeoutMs: 300_000 });
    return { status: r.status, body: r.body, log: fn.logs };
  } finally {
    await fn.stop();
  }
}

describe('real PyPI packages', () => {
  test('requests from a Pipfile.lock (the example function), run in the Lambda emulator', async () => {
    const entry = path.join(tempDir('requests'), 'fn');
    fs.cpSync(EXAMPLE_HELLO, entry, { recursive: true });
    fs.writeFileSync(path.join(entry, 'index.py'),
      'import requests, charset_normalizer\n\ndef handler(event, context):\n    return {"requests": requests.__version__, "md": charset_normalizer.md.__file__}\n');
    const { task, props } = synth({ entry, runtime: lambda.Runtime.PYTHON_3_11 });
    expect(elfMachines(task)).toEqual(new Set([0x3e]));
    const r = await invokeInEmulator(task, props.Handler, {}, {});
    expect(r).toMatchObject({ status: 200, body: { requests: '2.32.3' } });
    expect(r.body.md).toMatch(/\.cpython-311-x86_64-linux-gnu\.so$/); // the compiled module loaded
  });

  test('numpy from requirements.txt: x86_64 and arm64 get their own binaries', () => {
    const entry = path.join(tempDir('numpy'), 'fn');
    writeTree(entry, {
      'index.py': 'import numpy\n\ndef handler(event, context):\n    return {"sum": int(numpy.arange(10).sum())}\n',
      'requirements.txt': 'numpy==2.2.6\n',
    });
    const x86 = synth({ entry, runtime: lambda.Runtime.PYTHON_3_11 });
    const arm = synth({ entry, runtime: lambda.Runtime.PYTHON_3_11, architecture: lambda.Architecture.ARM_64 });
    expect(elfMachines(x86.task)).toEqual(new Set([0x3e]));
    expect(elfMachines(arm.task)).toEqual(new Set([0xb7]));
    expect(python('import json, index; print(json.dumps(index.handler({}, None)))', { cwd: x86.task }).trim()).toBe('{"sum": 45}');
  });

  test('pandas + pyarrow + scipy pass 250 MB: nested automatically, /tmp sized, and it runs', async () => {
    const entry = path.join(tempDir('big'), 'fn');
    writeTree(entry, {
      'index.py': [
        'import numpy, pandas, pyarrow, scipy.linalg',
        'def handler(event, context):',
        '    frame = pandas.DataFrame({"x": [1.0, 2.0, 3.0]})',
        '    table = pyarrow.Table.from_pandas(frame)',
        '    return {"rows": table.num_rows, "det": float(scipy.linalg.det(numpy.eye(3) * 2)), "pandas": pandas.__version__}',
        '',
      ].join('\n'),
      'requirements.txt': 'pandas==2.2.3\npyarrow==20.0.0\nscipy==1.15.3\nnumpy==2.2.6\n',
    });
    const { fn, task, props } = synth({ entry, runtime: lambda.Runtime.PYTHON_3_11 });
    expect(fn.nested).toBe(true);
    expect(fn.unzippedBytes!).toBeGreaterThan(262_144_000);
    expect(fn.sizeReport!.deployedUnzippedBytes).toBeLessThan(262_144_000);
    expect(fn.sizeReport!.largestPackages.map(p => p.name)).toEqual(expect.arrayContaining(['pyarrow', 'scipy', 'pandas']));
    expect(props.Handler).toBe('_possum_loader.handler');
    expect(props.EphemeralStorage.Size).toBeGreaterThanOrEqual(Math.ceil(fn.unzippedBytes! / 1048576) + 512);
    const r = await invokeInEmulator(task, props.Handler, props.Environment.Variables, {});
    expect(r).toMatchObject({ status: 200, body: { rows: 3, det: 8, pandas: '2.2.3' } });
    expect(r.log).toMatch(/possum-cdk loader: unpacked \d+ files/);
  });
});

describe("PyPI's cache policy for uv", () => {
  test('the install step reads the pages its resolution just fetched, asking PyPI for none of them again', () => {
    // possum's own command lines for both uv runs of a bundle, with uv's debug log instead of
    // --quiet. PyPI's pages say max-age=600; possum's configuration says the same to uv, so
    // that a proxy that drops the header (this project's CI has one) costs no second round.
    const target = pythonTarget('python3.11', 'x86_64');
    const cacheRoot = path.join(tempDir('policy-cache'), 'c');
    const indexes = { extraIndexUrls: [], findLinks: [], noIndex: false, pipNetwork: {}, indexOrigin: 'the default, PyPI' };
    const env = { ...uvEnvironment(indexes, cacheRoot), UV_CACHE_DIR: path.join(tempDir('policy-uv'), 'uv') };
    const verbose = (args: string[]) => [...args.filter(a => a !== '--quiet'), '-v'];
    const dir = tempDir('policy-fn');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'requests==2.32.3\n');
    const resolve = resolveCommand(TOOLS_UV, { file: 'requirements.txt', cwd: dir }, target,
      { python: PYTHON, uvPlatform: 'x86_64-manylinux_2_17', findLinks: [], noBuilds: true, pipSemantics: false });
    const compiled = run(resolve.command, verbose(resolve.args), { cwd: dir, env });
    expect(compiled.status).toBe(0);
    expect(compiled.stderr).toMatch(/Sending fresh GET request for: https:\/\/pypi\.org\/simple\/requests\//);
    fs.writeFileSync(path.join(dir, 'pinned.txt'), compiled.stdout);
    const settings: InstallerSettings = { tool: 'uv', indexStrategy: 'first-index', sourceBuilds: 'PURE_PYTHON', extraIndexUrls: [], findLinks: [], python: PYTHON };
    const install = installCommand(path.join(dir, 'pinned.txt'), path.join(dir, 'tree'), target, settings, indexes, () => TOOLS_UV, cacheRoot);
    const installed = run(install.command, verbose(install.args), { cwd: dir, env: { ...install.env, UV_CACHE_DIR: env.UV_CACHE_DIR } });
    expect(installed.status).toBe(0);
    for (const name of ['requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer']) {
      expect(installed.stderr).toContain(`Found fresh response for: https://pypi.org/simple/${name}/`);
    }
    expect(installed.stderr).not.toMatch(/(revalidation|fresh GET) request for: https:\/\/pypi\.org\//);
    expect(fs.existsSync(path.join(dir, 'tree', 'requests', '__init__.py'))).toBe(true);
  });
});
