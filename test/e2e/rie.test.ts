import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Bytecode, NestedZip, PythonPipfileBundlingOptions, PythonPipfileFunction } from '../../src';
import type { SourceTree } from '../../src/private/zip/collect';
import type { ZipPlan } from '../../src/private/zip/engine';
import { RieFunction, TOOLS_PYTHON, rieBinary } from '../helpers/rie';
import { PYTHON, REPO_ROOT, makeWheel, run, runWorker, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

/**
 * Bundles built by the engine, unpacked with Python's zipfile as Lambda unpacks them,
 * and run in the AWS Lambda Runtime Interface Emulator with the real awslambdaric: the
 * emulator drives init and invocations, the helper lays out /var/task, /opt and /tmp
 * stand-ins and the python3.x runtime's sys.path.
 */

/** `python3.X` of the tools venv, for the layer folder Lambda puts on sys.path. */
const PYTHON_X_Y = run(TOOLS_PYTHON, ['-c', 'import sys; print("python%d.%d" % sys.version_info[:2])']).stdout.trim();

/** A pure-Python distribution made into a real wheel and installed with pip into a new folder. */
function pipInstall(label: string, name: string, version: string, files: Record<string, string>): string {
  const dir = tempDir(label);
  writeTree(path.join(dir, 'src'), files);
  const wheel = makeWheel({ name, version, source: path.join(dir, 'src'), out: path.join(dir, 'dist') });
  const target = path.join(dir, 'site-packages');
  const r = run(PYTHON, ['-m', 'pip', 'install', '--no-index', '--no-deps', '--no-compile', '--disable-pip-version-check',
    '--quiet', '--target', target, wheel]);
  if (r.status !== 0) throw new Error(`pip install failed:\n${r.stderr}`);
  return target;
}

const GREETER = {
  'possum_greeter/__init__.py': 'def greet(name):\n    return "hello, " + name\n',
};

/** Zips the sources with the engine's worker and unpacks the zip into a new folder. */
function bundle(label: string, sources: SourceTree[], extra: Partial<ZipPlan> = {}) {
  const dir = tempDir(label);
  const zip = path.join(dir, `${label}.zip`);
  const result = runWorker({ sources, output: zip, ...extra });
  if (!result.ok || !result.report) throw new Error(`the engine failed: ${result.error}`);
  const unpacked = path.join(dir, 'unpacked');
  unzipWithPython(zip, unpacked);
  return { report: result.report, dir: unpacked };
}

/** The function's code folder. */
function code(label: string, files: Record<string, string>): string {
  const dir = path.join(tempDir(label), 'code');
  writeTree(dir, files);
  return dir;
}

const running: RieFunction[] = [];
async function start(...args: Parameters<typeof RieFunction.start>): Promise<RieFunction> {
  const fn = await RieFunction.start(...args);
  running.push(fn);
  return fn;
}
afterEach(async () => {
  for (const fn of running.splice(0)) await fn.stop();
});

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

beforeAll(() => {
  // Builds the emulator if this machine has none yet (about a minute, once).
  expect(fs.existsSync(rieBinary())).toBe(true);
});

describe('bundles run in the AWS Lambda Runtime Interface Emulator', () => {
  test('a plain bundle: its dependency comes from the bundle, the venv is invisible, the second invocation is warm', async () => {
    const deps = pipInstall('rie-plain-deps', 'possum-greeter', '1.2.3', GREETER);
    const fnCode = code('rie-plain', {
      'index.py': [
        'import importlib.metadata, importlib.util, os',
        'import possum_greeter',
        'CALLS = 0',
        'def handler(event, context):',
        '    global CALLS',
        '    CALLS += 1',
        '    return {"greeting": possum_greeter.greet(event["name"]), "greeter_file": possum_greeter.__file__,',
        '            "greeter_version": importlib.metadata.version("possum-greeter"),',
        '            "yaml_visible": importlib.util.find_spec("yaml") is not None,',
        '            "calls": CALLS, "pid": os.getpid(), "request_id": context.aws_request_id}',
        '',
      ].join('\n'),
    });
    const { dir: task } = bundle('rie-plain', [{ dir: deps }, { dir: fnCode }]);
    // The tools venv has PyYAML: the function must not see it.
    expect(run(TOOLS_PYTHON, ['-c', 'import yaml']).status).toBe(0);

    const fn = await start({ codeDir: task, handler: 'index.handler' });
    const first = await fn.invoke({ name: 'possum' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ greeting: 'hello, possum', greeter_version: '1.2.3', yaml_visible: false, calls: 1 });
    expect(first.body.greeter_file).toBe(path.join(task, 'possum_greeter', '__init__.py'));

    const second = await fn.invoke({ name: 'again' });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ greeting: 'hello, again', calls: 2, pid: first.body.pid });
    expect(second.body.request_id).not.toBe(first.body.request_id);

    const inits = fn.inits();
    expect(inits).toHaveLength(1);
    expect(inits[0].pid).toBe(first.body.pid);
    expect(inits[0].sysPath[0]).toBe(task);
    expect(inits[0].sysPath.filter(p => p.startsWith(path.join(REPO_ROOT, '.tools')))).toEqual([]);
    expect(inits[0].masked).toEqual([]);
    expect(count(fn.stdout, /^REPORT RequestId: /gm)).toBe(2);
    expect(count(fn.stdout, /Init Duration: /g)).toBe(1);
    // No bytecode written into the task folder (read-only /var/task on Lambda).
    expect(fs.existsSync(path.join(task, '__pycache__'))).toBe(false);
  });

  test('a function with layers: both layer folder layouts are on sys.path after the task root, as on Lambda', async () => {
    const layerA = pipInstall('rie-layer-a', 'possum-layer-a', '2.0', {
      'possum_layer_a/__init__.py': 'WHERE = "layer a"\n',
      'possum_shadowed.py': 'WHERE = "layer"\n',
    });
    const layerB = path.join(tempDir('rie-layer-b'), 'tree');
    writeTree(layerB, { 'possum_layer_b.py': 'WHERE = "layer b"\n' });
    const zipA = bundle('rie-layer-a', [{ dir: layerA, prefix: 'python' }]);
    const zipB = bundle('rie-layer-b', [{ dir: layerB, prefix: `python/lib/${PYTHON_X_Y}/site-packages` }]);
    // Lambda unpacks every layer into /opt, one after the other.
    const opt = path.join(tempDir('rie-opt'), 'opt');
    fs.cpSync(zipA.dir, opt, { recursive: true });
    fs.cpSync(zipB.dir, opt, { recursive: true });

    const fnCode = code('rie-layer-fn', {
      'index.py': [
        'import os, possum_layer_a, possum_layer_b, possum_shadowed',
        'def handler(event, context):',
        '    return {"a": [possum_layer_a.WHERE, possum_layer_a.__file__], "b": [possum_layer_b.WHERE, possum_layer_b.__file__],',
        '            "shadowed": possum_shadowed.WHERE, "pythonpath": os.environ.get("PYTHONPATH")}',
        '',
      ].join('\n'),
      'possum_shadowed.py': 'WHERE = "function"\n',
    });
    const { dir: task } = bundle('rie-layer-fn', [{ dir: fnCode }]);
    expect(fs.readdirSync(task).sort()).toEqual(['index.py', 'possum_shadowed.py']);

    const fn = await start({ codeDir: task, layersDir: opt, handler: 'index.handler' });
    const r = await fn.invoke({});
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      a: ['layer a', path.join(opt, 'python', 'possum_layer_a', '__init__.py')],
      b: ['layer b', path.join(opt, 'python', 'lib', PYTHON_X_Y, 'site-packages', 'possum_layer_b.py')],
      shadowed: 'function', // /var/task comes before /opt
      pythonpath: fn.runtimeDir, // Lambda sets PYTHONPATH to LAMBDA_RUNTIME_DIR
    });
    const [init] = fn.inits();
    expect(init.sysPath.slice(0, 4)).toEqual([task, path.join(opt, 'python', 'lib', PYTHON_X_Y, 'site-packages'), path.join(opt, 'python'), fn.runtimeDir]);
    expect(init.masked).toEqual([]);
  });

  test('a nested bundle: the first invocation unpacks once into /tmp, warm ones and a restarted runtime reuse it', async () => {
    const deps = pipInstall('rie-nested-deps', 'possum-greeter', '1.2.3', GREETER);
    const fnCode = code('rie-nested', {
      'index.py': [
        'import os, possum_greeter',
        'CALLS = 0',
        'def handler(event, context):',
        '    global CALLS',
        '    CALLS += 1',
        '    if event.get("exit"):',
        '        os._exit(3)  # the runtime dies mid-invocation; the emulator starts a new one for the next',
        '    return {"greeting": possum_greeter.greet(event["name"]), "greeter_file": possum_greeter.__file__,',
        '            "calls": CALLS, "pid": os.getpid()}',
        '',
      ].join('\n'),
    });
    const { dir: task, report } = bundle('rie-nested', [{ dir: deps }, { dir: fnCode }], { loader: { kind: 'handler' }, nestThresholdBytes: 1 });
    expect(report.nested).toBe(true);
    expect(fs.readdirSync(task).sort()).toEqual(['_possum_bundle.zip', '_possum_loader.py']);

    const tmp = tempDir('rie-nested-tmp');
    const fn = await start({
      codeDir: task,
      handler: '_possum_loader.handler',
      tmpDir: tmp,
      env: { POSSUM_HANDLER: 'index.handler', POSSUM_EXTRACT_ROOT: tmp },
    });
    // The emulator inits on the first invocation, as Lambda's on-demand init does.
    expect(fs.readdirSync(tmp)).toEqual([]);

    const first = await fn.invoke({ name: 'nested' });
    expect(first.status).toBe(200);
    const unpacked = [...fn.logs.matchAll(/possum-cdk loader: unpacked (\d+) files \((\d+) bytes\) to (\S+) in /g)];
    expect(unpacked).toHaveLength(1);
    const target = unpacked[0][3];
    expect(path.dirname(target)).toBe(tmp);
    expect(path.basename(target)).toMatch(/^possum-[0-9a-f]{32}$/);
    expect(Number(unpacked[0][1])).toBe(report.files);
    expect(Number(unpacked[0][2])).toBe(report.unzippedBytes);
    expect(fs.readdirSync(tmp).sort()).toEqual([`.${path.basename(target)}.lock`, path.basename(target)]);
    expect(first.body).toEqual({
      greeting: 'hello, nested',
      greeter_file: path.join(target, 'possum_greeter', '__init__.py'),
      calls: 1,
      pid: fn.inits()[0].pid,
    });
    const inode = () => fs.statSync(path.join(target, 'possum_greeter', '__init__.py')).ino;
    const inodeAtFirst = inode();

    // Warm: the same process answers, nothing is unpacked again.
    const second = await fn.invoke({ name: 'nested' });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, calls: 2 });
    expect(fn.inits()).toHaveLength(1);
    expect(count(fn.logs, /possum-cdk loader: unpacked/g)).toBe(1);
    expect(inode()).toBe(inodeAtFirst);

    // The runtime dies; the emulator inits a new one in the same sandbox (same /tmp), whose
    // loader must find the finished tree by name instead of unpacking it again.
    const crashed = await fn.invoke({ name: 'nested', exit: true });
    expect(crashed).toMatchObject({ status: 502, body: { errorType: 'Runtime.ExitError' } });
    const afterRestart = await fn.invoke({ name: 'restarted' });
    expect(afterRestart.status).toBe(200);
    expect(fn.inits()).toHaveLength(2);
    expect(afterRestart.body).toEqual({ ...first.body, greeting: 'hello, restarted', pid: fn.inits()[1].pid });
    expect(afterRestart.body.pid).not.toBe(first.body.pid);
    expect(count(fn.logs, /possum-cdk loader: unpacked/g)).toBe(1);
    expect(inode()).toBe(inodeAtFirst);
  });

  test('an init error (the handler module raises at import) is the emulator\'s error response, for every invocation', async () => {
    const deps = pipInstall('rie-init-error-deps', 'possum-greeter', '1.2.3', GREETER);
    const fnCode = code('rie-init-error', {
      'index.py': [
        'import possum_greeter',
        'raise RuntimeError("possum: cannot start, " + possum_greeter.greet("init"))',
        'def handler(event, context):',
        '    return "unreachable"',
        '',
      ].join('\n'),
    });
    const { dir: task } = bundle('rie-init-error', [{ dir: deps }, { dir: fnCode }]);
    const fn = await start({ codeDir: task, handler: 'index.handler' });

    for (const attempt of [1, 2]) {
      const r = await fn.invoke({ attempt });
      expect(r.status).toBe(502);
      expect(Object.keys(r.body).sort()).toEqual(['errorMessage', 'errorType', 'requestId', 'stackTrace']);
      expect(r.body).toMatchObject({ errorType: 'RuntimeError', errorMessage: 'possum: cannot start, hello, init', requestId: '' });
      expect(r.body.stackTrace[r.body.stackTrace.length - 1]).toContain(`File "${path.join(task, 'index.py')}", line 2, in <module>`);
      // Lambda runs init again for each invocation while init keeps failing.
      expect(fn.inits()).toHaveLength(attempt);
    }
    expect(count(fn.logs, /\[ERROR\] RuntimeError: possum: cannot start, hello, init/g)).toBe(2);
    expect(count(fn.logs, /INIT RTDONE\(status: error\)/g)).toBe(2);
  });

  test('a bundled copy of a module the runtime client already loaded is reported as masked', async () => {
    const fnCode = code('rie-masked', {
      'index.py': 'import simplejson\ndef handler(event, context):\n    return {"simplejson": simplejson.__file__}\n',
      'simplejson/__init__.py': 'FROM_BUNDLE = True\n',
    });
    const { dir: task } = bundle('rie-masked', [{ dir: fnCode }]);
    const fn = await start({ codeDir: task, handler: 'index.handler' });
    const r = await fn.invoke({});
    expect(r.status).toBe(200);
    const [init] = fn.inits();
    expect(init.masked).toEqual(['simplejson']);
    expect(r.body.simplejson).toBe(init.preloaded.simplejson);
    expect(r.body.simplejson.startsWith(task)).toBe(false);
  });

  describe('functions synthesized by PythonPipfileFunction (local index, binary wheels for python3.11 x86_64)', () => {
    const local = useLocalIndex('rie-construct');

    /** Synthesizes the function and lays its staged asset out as Lambda does in /var/task. */
    function deploy(label: string, bundling: PythonPipfileBundlingOptions = {}) {
      const entry = path.join(tempDir(label), 'fn');
      writeTree(entry, {
        'my_app/__init__.py': '',
        'my_app/handler.py': [
          'import importlib.resources, os, greeting, fastmath',
          'COLD = {"greeting_from": greeting.__file__}',
          'def handler(event, context):',
          '    return {"greet": greeting.greet(event["name"]), "variant": fastmath.VARIANT,',
          '            "data": importlib.resources.files("my_app").joinpath("data.txt").read_text().strip(),',
          '            "request_id": context.aws_request_id, "cold": COLD}',
          '',
        ].join('\n'),
        'my_app/data.txt': 'package data\n',
        'requirements.txt': 'greeting==1.0\nfastmath==1.0\n',
      });
      const app = new cdk.App({ outdir: tempDir(`${label}-out`) });
      const stack = new cdk.Stack(app, 'S');
      new PythonPipfileFunction(stack, 'Fn', {
        entry,
        index: 'my_app/handler.py',
        runtime: lambda.Runtime.PYTHON_3_11,
        bundling: { indexUrl: local.index.url(), cacheDir: path.join(local.work, 'cache'), ...bundling },
      });
      const assembly = app.synth();
      const props = (Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as any).Properties;
      const task = path.join(tempDir(`${label}-task`), 'var-task');
      unzipWithPython(path.join(assembly.directory, `asset.${props.Code.S3Key}`), task);
      return { task, handler: props.Handler as string, env: (props.Environment?.Variables ?? {}) as Record<string, string> };
    }

    test.each([
      ['plain', {}],
      ['nested', { nestedZip: NestedZip.ALWAYS }],
      ['bytecode', { bytecode: Bytecode.CHECKED_HASH }],
      ['nested-bytecode', { nestedZip: NestedZip.ALWAYS, bytecode: Bytecode.CHECKED_HASH }],
    ] as Array<[string, PythonPipfileBundlingOptions]>)('%s: the cp311 x86_64 wheel loads, package data is found, invocations return results', async (label, bundling) => {
      const fn = deploy(`rie-construct-${label}`, bundling);
      const tmp = tempDir('rie-construct-tmp');
      const verbose = label.includes('bytecode') ? { PYTHONVERBOSE: '1', PYTHONDONTWRITEBYTECODE: '1' } : {};
      const rie = await start({ codeDir: fn.task, handler: fn.handler, tmpDir: tmp, env: { ...fn.env, POSSUM_EXTRACT_ROOT: tmp, ...verbose } });
      const first = await rie.invoke({ name: 'possum' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ greet: 'hello possum', variant: 'cp311 manylinux2014 x86_64', data: 'package data' });
      const second = await rie.invoke({ name: 'again' });
      expect(second.body.greet).toBe('hello again');
      expect(second.body.request_id).not.toBe(first.body.request_id);
      expect(rie.inits()).toHaveLength(1);
      if (label.includes('bytecode')) {
        // The runtime imported the handler's module from its checked-hash .pyc, next to the source.
        const pyc = label === 'nested' || label === 'nested-bytecode'
          ? path.join(path.dirname(first.body.cold.greeting_from), '__pycache__', '__init__.cpython-311.pyc')
          : path.join(fn.task, 'greeting', '__pycache__', '__init__.cpython-311.pyc');
        expect(fs.existsSync(pyc)).toBe(true);
        // PYTHONVERBOSE makes the runtime say where each module's code object came from.
        expect(rie.logs).toContain(`code object from '${pyc}'`);
      }
      if (label.startsWith('nested')) {
        expect(fn.handler).toBe('_possum_loader.handler');
        expect(fn.env.POSSUM_HANDLER).toBe('my_app/handler.handler');
        expect(first.body.cold.greeting_from.startsWith(path.join(tmp, 'possum-'))).toBe(true);
        expect(count(rie.logs, /possum-cdk loader: unpacked/g)).toBe(1); // once, at init
      } else {
        expect(fn.handler).toBe('my_app/handler.handler');
        expect(first.body.cold.greeting_from.startsWith(fn.task)).toBe(true);
      }
    });
  });
});
