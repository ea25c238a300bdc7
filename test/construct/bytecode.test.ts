import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Bytecode, PythonPipfileBundlingOptions, PythonPipfileFunction, PythonPipfileLayerVersion } from '../../src';
import { run, tempDir, TOOLS_UV, unzipWithPython, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

/**
 * Checked-hash bytecode, compiled by this machine's Python 3.11 for python3.11 functions:
 * what is in the zip, that it is reproducible, and that the real interpreter loads it.
 */
const local = useLocalIndex('bytecode');

function fn(label: string): string {
  const dir = path.join(tempDir(label), 'fn');
  writeTree(dir, {
    'index.py': 'import greeting\n\ndef handler(e, c):\n    return greeting.greet("pyc")\n',
    'pkg/util.py': 'VALUES = {"a", "b", "c", "d"}\n',
    'py2_only.py': 'print "this is Python 2"\n',
    'requirements.txt': 'greeting==1.0\n',
  });
  return dir;
}

function synth(entry: string, bundling: PythonPipfileBundlingOptions, cacheDir = path.join(local.work, 'cache')) {
  const app = new cdk.App({ outdir: tempDir('pyc-out') });
  const stack = new cdk.Stack(app, 'S');
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((c: any) => { lines.push(String(c)); return true; });
  try {
    new PythonPipfileFunction(stack, 'Fn', { entry, runtime: lambda.Runtime.PYTHON_3_11, bundling: { indexUrl: local.index.url(), cacheDir, ...bundling } });
    const assembly = app.synth();
    const key = (Object.values(assembly.getStackByName('S').template.Resources) as any[]).find(r => r.Type === 'AWS::Lambda::Function').Properties.Code.S3Key;
    return { key, zip: path.join(assembly.directory, `asset.${key}`), log: lines.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** What Python says about each .pyc in the zip: flags, whether its source hash matches, the file name compiled in. */
function describePyc(zip: string): Record<string, { flags: number; hashMatches: boolean; filename: string }> {
  const script = `
import importlib.util, json, marshal, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
out = {}
for name in z.namelist():
    if not name.endswith(".pyc"):
        continue
    data = z.read(name)
    folder, base = name.rsplit("__pycache__/", 1)
    source = z.read(folder + base.split(".")[0] + ".py")
    out[name] = {"flags": int.from_bytes(data[4:8], "little"), "hashMatches": data[8:16] == importlib.util.source_hash(source),
                 "filename": marshal.loads(data[16:]).co_filename}
print(json.dumps(out))`;
  const r = run('python3', ['-c', script, zip]);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('Bytecode.CHECKED_HASH', () => {
  test('every module that compiles gets a checked-hash .pyc with its Lambda path; one that does not ships as source', () => {
    const built = synth(fn('pyc-a'), { bytecode: Bytecode.CHECKED_HASH });
    const names = inspectZip(built.zip).entries.map(e => e.name);
    expect(names).toEqual(expect.arrayContaining(['index.py', '__pycache__/index.cpython-311.pyc', 'pkg/__pycache__/util.cpython-311.pyc',
      'greeting/__init__.py', 'greeting/__pycache__/__init__.cpython-311.pyc', 'py2_only.py']));
    expect(names).not.toContain('__pycache__/py2_only.cpython-311.pyc');
    expect(built.log).toMatch(/1 module\(s\) Python cpython-311 cannot compile ship as source only \(\/var\/task\/py2_only\.py\)/);
    const pyc = describePyc(built.zip);
    expect(pyc['__pycache__/index.cpython-311.pyc']).toEqual({ flags: 3, hashMatches: true, filename: '/var/task/index.py' });
    expect(pyc['greeting/__pycache__/__init__.cpython-311.pyc']).toEqual({ flags: 3, hashMatches: true, filename: '/var/task/greeting/__init__.py' });
    // Without the option nothing changes: no .pyc at all.
    expect(inspectZip(synth(fn('pyc-none'), {}).zip).entries.filter(e => e.name.endsWith('.pyc'))).toEqual([]);
  });

  test('reproducible: another folder and another cache give the same zip; a handler edit compiles only the function\'s modules', () => {
    const a = synth(fn('pyc-r1'), { bytecode: Bytecode.CHECKED_HASH }, path.join(tempDir('pyc-c1'), 'c'));
    const entry = fn('pyc-r2');
    const b = synth(entry, { bytecode: Bytecode.CHECKED_HASH }, path.join(tempDir('pyc-c2'), 'c'));
    expect(b.key).toBe(a.key);
    expect(fs.readFileSync(b.zip).equals(fs.readFileSync(a.zip))).toBe(true);
    expect(b.log).toContain('compiling the dependencies\' modules');
    fs.appendFileSync(path.join(entry, 'index.py'), '# edited\n');
    const cache = path.join(tempDir('pyc-c3'), 'c');
    synth(entry, { bytecode: Bytecode.CHECKED_HASH }, cache);
    fs.appendFileSync(path.join(entry, 'index.py'), '# edited again\n');
    const edited = synth(entry, { bytecode: Bytecode.CHECKED_HASH }, cache);
    expect(edited.log).not.toContain('compiling the dependencies\' modules');
    expect(describePyc(edited.zip)['__pycache__/index.cpython-311.pyc'].hashMatches).toBe(true);
  });

  test('the real interpreter loads the .pyc from a read-only tree instead of compiling', () => {
    const built = synth(fn('pyc-load'), { bytecode: Bytecode.CHECKED_HASH });
    const dir = path.join(tempDir('pyc-unpacked'), 'task');
    unzipWithPython(built.zip, dir);
    const r = run('python3', ['-v', '-c', 'import index; print(index.handler(None, None))'],
      { cwd: dir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: dir } });
    expect(r.stdout.trim()).toBe('hello pyc');
    expect(r.stderr).toContain(`code object from '${dir}/__pycache__/index.cpython-311.pyc'`);
    expect(r.stderr).toContain(`code object from '${dir}/greeting/__pycache__/__init__.cpython-311.pyc'`);
  });

  test('a layer\'s modules are compiled with their /opt/python paths', () => {
    const dir = path.join(tempDir('pyc-layer'), 'layer');
    writeTree(dir, { 'requirements.txt': 'greeting==1.0\n' });
    const app = new cdk.App({ outdir: tempDir('pyc-layer-out') });
    const stack = new cdk.Stack(app, 'S');
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      new PythonPipfileLayerVersion(stack, 'L', {
        entry: dir,
        runtime: lambda.Runtime.PYTHON_3_11,
        bundling: { indexUrl: local.index.url(), cacheDir: path.join(local.work, 'cache'), bytecode: Bytecode.CHECKED_HASH },
      });
      const assembly = app.synth();
      const key = (Object.values(assembly.getStackByName('S').template.Resources) as any[]).find(r => r.Type === 'AWS::Lambda::LayerVersion').Properties.Content.S3Key;
      const pyc = describePyc(path.join(assembly.directory, `asset.${key}`));
      expect(pyc['python/greeting/__pycache__/__init__.cpython-311.pyc']).toEqual({ flags: 3, hashMatches: true, filename: '/opt/python/greeting/__init__.py' });
    } finally {
      spy.mockRestore();
    }
  });

  test('without a Python of the runtime\'s version the error says how to provide one', () => {
    const bin = tempDir('pyc-path');
    fs.symlinkSync(fs.realpathSync('/usr/bin/python3.11'), path.join(bin, 'python3'));
    const saved = { PATH: process.env.PATH, POSSUM_UV: process.env.POSSUM_UV };
    process.env.PATH = `${bin}:/usr/bin:/bin`;
    process.env.POSSUM_UV = TOOLS_UV;
    try {
      const app = new cdk.App({ outdir: tempDir('pyc-err-out') });
      const stack = new cdk.Stack(app, 'S');
      expect(() => new PythonPipfileFunction(stack, 'Fn', {
        entry: fn('pyc-err'),
        runtime: lambda.Runtime.PYTHON_3_13,
        bundling: { indexUrl: local.index.url(), cacheDir: path.join(local.work, 'cache'), bytecode: Bytecode.CHECKED_HASH },
      })).toThrow(/S\/Fn: bundling\.bytecode compiles the bundle with the runtime's Python, 3\.13, and none was found on this machine \(tried python3 \(Python 3\.11\), .*Install Python 3\.13 \(for example "uv python install 3\.13"/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.POSSUM_UV === undefined) delete process.env.POSSUM_UV;
      else process.env.POSSUM_UV = saved.POSSUM_UV;
    }
  });
});
