import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { buildZipSync } from '../../src/private/zip/run-sync';
import { PYTHON, python, run, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { inspectZip } from '../helpers/zip-inspect';

/**
 * A site-packages-like tree: the project's package `my_app` (with a real __init__.py),
 * a dependency `dep` with an executable script and some incompressible bytes.
 */
function makeSitePackages(root: string) {
  writeTree(root, {
    'my_app/__init__.py': 'INIT_RAN = True\n',
    'my_app/data/config.json': '{"from": "package data"}\n',
    'my_app/handler.py': [
      'import os, dep, my_app',
      'def handler(event, context):',
      '    return {"dep": dep.VALUE, "init": my_app.INIT_RAN, "event": event,',
      '            "dep_file": dep.__file__, "tool_exec": os.access(os.path.join(os.path.dirname(dep.__file__), "tool.sh"), os.X_OK)}',
      '',
    ].join('\n'),
    'dep/__init__.py': 'VALUE = "from-dep"\n',
    'dep/tool.sh': '#!/bin/sh\n',
    'dep/noise.bin': crypto.randomBytes(50_000),
    'dep-2.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: dep\nVersion: 2.0\n',
  });
  fs.chmodSync(path.join(root, 'dep/tool.sh'), 0o755);
}

interface Nested {
  readonly dir: string;
  /** The unpacked outer zip, as Lambda lays it out in /var/task. */
  readonly task: string;
  /** What stands in for /tmp. */
  readonly extractRoot: string;
}

function buildNested(kind: 'package' | 'handler', label: string): Nested {
  const dir = tempDir(label);
  makeSitePackages(path.join(dir, 'site-packages'));
  const report = buildZipSync({
    sources: [{ dir: path.join(dir, 'site-packages') }],
    output: path.join(dir, 'fn.zip'),
    nestThresholdBytes: 10_000,
    loader: kind === 'package' ? { kind: 'package', packageName: 'my_app' } : { kind: 'handler' },
  });
  expect(report.nested).toBe(true);
  const task = path.join(dir, 'task');
  unzipWithPython(path.join(dir, 'fn.zip'), task);
  return { dir, task, extractRoot: path.join(dir, 'tmp') };
}

const INVOKE_PACKAGE = 'import json, my_app.handler as h; print(json.dumps(h.handler({"n": 1}, None)))';

function invoke(n: Nested, code = INVOKE_PACKAGE, extraEnv: NodeJS.ProcessEnv = {}) {
  return run(PYTHON, ['-c', code], {
    cwd: n.task,
    env: { ...process.env, POSSUM_EXTRACT_ROOT: n.extractRoot, PYTHONDONTWRITEBYTECODE: '1', ...extraEnv },
  });
}

/** Python's repr of a str, as the loader's %r prints it (for the ASCII names used here). */
function pyRepr(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A sitecustomize module on PYTHONPATH, to put a fault into the real loader's process. */
function faultInjection(dir: string, code: string): NodeJS.ProcessEnv {
  const hooks = path.join(dir, 'hooks');
  writeTree(hooks, { 'sitecustomize.py': code });
  return { PYTHONPATH: hooks };
}

describe('nested zip', () => {
  test('over the threshold the outer zip holds only the loader and the STORED inner zip', () => {
    const dir = tempDir('nested-shape');
    makeSitePackages(path.join(dir, 'sp'));
    const flat = buildZipSync({ sources: [{ dir: path.join(dir, 'sp') }], output: path.join(dir, 'flat.zip'), nestThresholdBytes: 10_000_000, loader: { kind: 'handler' } });
    expect(flat.nested).toBe(false);
    const nested = buildZipSync({ sources: [{ dir: path.join(dir, 'sp') }], output: path.join(dir, 'nested.zip'), nestThresholdBytes: 10_000, loader: { kind: 'package', packageName: 'my_app' } });
    expect(nested.nested).toBe(true);
    expect(nested.files).toBe(flat.files);
    expect(nested.unzippedBytes).toBe(flat.unzippedBytes);
    const outer = inspectZip(path.join(dir, 'nested.zip')).entries;
    expect(outer.map(e => [e.name, e.method])).toEqual([['my_app/__init__.py', 8], ['my_app/_possum_bundle.zip', 0]]);
    // The inner zip is the flat zip's bytes exactly: the same engine, the same inputs.
    expect(outer[1].size).toBe(flat.zippedBytes);
    expect(nested.deployedUnzippedBytes).toBe(outer[0].size + outer[1].size);
    // Nested builds are reproducible too.
    const again = buildZipSync({ sources: [{ dir: path.join(dir, 'sp') }], output: path.join(dir, 'again.zip'), nestThresholdBytes: 10_000, loader: { kind: 'package', packageName: 'my_app' } });
    expect(again.sha256).toBe(nested.sha256);
  });

  test('package placement: the unchanged handler string works; the tree is unpacked once, then reused', () => {
    const n = buildNested('package', 'nested-pkg');
    const first = invoke(n);
    expect(first.status).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ dep: 'from-dep', init: true, event: { n: 1 }, tool_exec: true });
    expect(result.dep_file.startsWith(path.join(n.extractRoot, 'possum-'))).toBe(true);
    expect(first.stderr).toMatch(/possum-cdk loader: unpacked 7 files \(\d+ bytes\) to .*possum-[0-9a-f]{32}/);
    // importlib.metadata sees the dependency's dist-info from the unpacked tree.
    expect(invoke(n, 'import my_app, importlib.metadata as m; print(m.version("dep"))').stdout.trim()).toBe('2.0');

    const [target] = fs.readdirSync(n.extractRoot).filter(f => f.startsWith('possum-'));
    const inodeBefore = fs.statSync(path.join(n.extractRoot, target, 'dep', '__init__.py')).ino;
    const second = invoke(n);
    expect(second.status).toBe(0);
    expect(second.stderr).not.toContain('unpacked');
    expect(fs.statSync(path.join(n.extractRoot, target, 'dep', '__init__.py')).ino).toBe(inodeBefore);
    expect(fs.readdirSync(n.extractRoot).sort()).toEqual([`.${target}.lock`, target]);
  });

  test('package placement: the package is the unpacked one for importlib.resources, pkgutil and its spec', () => {
    const n = buildNested('package', 'nested-resources');
    const r = invoke(n, [
      'import json, pkgutil, importlib.resources as res, my_app',
      'print(json.dumps({"files": res.files(my_app).joinpath("data/config.json").read_text(),',
      '                  "files_by_name": res.files("my_app").joinpath("data", "config.json").read_text(),',
      '                  "get_data": pkgutil.get_data("my_app", "data/config.json").decode(),',
      '                  "origin": my_app.__spec__.origin, "file": my_app.__file__, "path": list(my_app.__path__),',
      '                  "init": my_app.INIT_RAN}))',
    ].join('\n'));
    expect(r.stderr).not.toContain('Traceback');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const [target] = fs.readdirSync(n.extractRoot).filter(f => f.startsWith('possum-'));
    const unpacked = path.join(n.extractRoot, target, 'my_app');
    expect(out).toEqual({
      files: '{"from": "package data"}\n',
      files_by_name: '{"from": "package data"}\n',
      get_data: '{"from": "package data"}\n',
      origin: path.join(unpacked, '__init__.py'),
      file: path.join(unpacked, '__init__.py'),
      path: [unpacked],
      init: true,
    });
  });

  test('handler placement: _possum_loader.handler runs the handler named by POSSUM_HANDLER', () => {
    const n = buildNested('handler', 'nested-handler');
    const code = 'import json, _possum_loader as l; print(json.dumps(l.handler({"n": 2}, None)))';
    const ok = invoke(n, code, { POSSUM_HANDLER: 'my_app/handler.handler' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ dep: 'from-dep', init: true, event: { n: 2 } });
    const missing = invoke(n, code, { POSSUM_HANDLER: '' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("environment variable POSSUM_HANDLER='' must name the real handler as module.function");
  });

  test('concurrent cold starts: every process succeeds and exactly one unpacks', async () => {
    const n = buildNested('package', 'nested-race');
    const starts = await Promise.all(Array.from({ length: 6 }, () => new Promise<{ code: number | null; out: string; err: string }>(resolve => {
      const child = spawn(PYTHON, ['-c', INVOKE_PACKAGE], {
        cwd: n.task,
        env: { ...process.env, POSSUM_EXTRACT_ROOT: n.extractRoot, PYTHONDONTWRITEBYTECODE: '1' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', d => { out += d; });
      child.stderr.on('data', d => { err += d; });
      child.on('close', code => resolve({ code, out, err }));
    })));
    for (const s of starts) {
      expect({ code: s.code, err: s.err.replace(/possum-cdk loader: unpacked.*\n/, '') }).toEqual({ code: 0, err: '' });
      expect(JSON.parse(s.out).dep).toBe('from-dep');
    }
    expect(starts.filter(s => s.err.includes('unpacked'))).toHaveLength(1);
  });

  test('a kill during extraction leaves a tree the next start can use', async () => {
    const n = buildNested('package', 'nested-kill');
    // Slow the real extraction down so the kill lands in the middle of it.
    const env = faultInjection(n.dir, [
      'import time, zipfile',
      '_extract = zipfile.ZipFile.extract',
      'def slow_extract(self, member, path=None, pwd=None):',
      '    out = _extract(self, member, path, pwd)',
      '    time.sleep(0.5)',
      '    return out',
      'zipfile.ZipFile.extract = slow_extract',
    ].join('\n'));
    const child = spawn(PYTHON, ['-c', INVOKE_PACKAGE], { cwd: n.task, env: { ...process.env, ...env, POSSUM_EXTRACT_ROOT: n.extractRoot } });
    const staging = await waitFor(() => fs.existsSync(n.extractRoot) && fs.readdirSync(n.extractRoot).find(f => f.includes('.staging-')
      && fs.readdirSync(path.join(n.extractRoot, f)).length > 0));
    child.kill('SIGKILL');
    await new Promise(resolve => child.on('close', resolve));
    expect(fs.existsSync(path.join(n.extractRoot, staging as string))).toBe(true); // half a tree was left behind

    const next = invoke(n);
    expect(next.status).toBe(0);
    expect(JSON.parse(next.stdout).dep).toBe('from-dep');
    expect(fs.readdirSync(n.extractRoot).filter(f => f.includes('.staging-'))).toEqual([]);
  });

  test('an inner zip with a ../ entry is refused and nothing is unpacked', () => {
    const n = buildNested('package', 'nested-slip');
    const inner = path.join(n.task, 'my_app', '_possum_bundle.zip');
    python([
      'import sys, zipfile',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("dep/__init__.py", "VALUE = 1\\n")',
      '    z.writestr("../../escaped.py", "pwned = True\\n")',
    ].join('\n').replace('sys.argv[1]', JSON.stringify(inner)));
    const r = invoke(n);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('possum-cdk loader: refusing to unpack');
    expect(r.stderr).toContain("entry '../../escaped.py' would be written outside");
    expect(fs.existsSync(path.join(n.dir, 'escaped.py'))).toBe(false);
    expect(fs.readdirSync(n.extractRoot).filter(f => !f.endsWith('.lock'))).toEqual([]);
  });

  test.each([
    ['a backslash', '..\\\\evil.py'],
    ['an absolute path', '/abs.py'],
    ['an empty part', 'dep//x.py'],
    ['a dot part', 'dep/./x.py'],
  ])('an inner zip entry with %s is refused by name, and nothing is unpacked', (_, name) => {
    const n = buildNested('package', 'nested-names');
    const inner = path.join(n.task, 'my_app', '_possum_bundle.zip');
    python(['import zipfile', `with zipfile.ZipFile(${JSON.stringify(inner)}, "w") as z:`,
      '    z.writestr("dep/__init__.py", "VALUE = 1\\n")', `    z.writestr(${JSON.stringify(name)}, "x = 1\\n")`].join('\n'));
    const r = invoke(n);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`entry ${pyRepr(name)} would be written outside`);
    expect(fs.readdirSync(n.extractRoot).filter(f => !f.endsWith('.lock'))).toEqual([]);
  });

  const canMount = run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt']).status === 0;
  (canMount ? test : test.skip).each([
    ['read-only', 'ro,size=1m', 'the folder is on a read-only file system ([Errno 30] Read-only file system'],
    ['out of inodes', 'nr_inodes=6,size=64m', 'no space or no free inodes left (the bundle has 7 files); raise the function\'s ephemeral storage size (EphemeralStorage)'],
  ])('an extract root that is %s: a clear RuntimeError naming the folder, the cause and the fix', (_, options, cause) => {
    const n = buildNested('package', 'nested-fs');
    fs.mkdirSync(n.extractRoot, { recursive: true });
    const r = run('unshare', ['-m', 'bash', '-c', `mount -t tmpfs -o ${options} tmpfs "$ROOT" && cd "$TASK" && "$PY" -c "$CODE"`], {
      env: { ...process.env, ROOT: n.extractRoot, TASK: n.task, PY: PYTHON, CODE: INVOKE_PACKAGE, POSSUM_EXTRACT_ROOT: n.extractRoot, PYTHONDONTWRITEBYTECODE: '1' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`RuntimeError: possum-cdk loader: cannot unpack ${path.join(n.task, 'my_app', '_possum_bundle.zip')} into ${n.extractRoot}: ${cause}`);
    expect(r.stderr).toContain('POSSUM_EXTRACT_ROOT, when set, must name a writable folder; on Lambda leave it unset to use /tmp.');
    expect(r.stderr).not.toMatch(/^OSError/m);
  });

  test('a /tmp without room gives a clear message naming the needed and free bytes', () => {
    const n = buildNested('package', 'nested-full');
    const env = faultInjection(n.dir, [
      'import collections, shutil',
      'shutil.disk_usage = lambda path: collections.namedtuple("usage", "total used free")(10_000_000, 9_990_000, 10_000)',
    ].join('\n'));
    const r = invoke(n, INVOKE_PACKAGE, env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/possum-cdk loader: not enough space in .*tmp to unpack this function: it needs \d+ bytes \(\d+ MB\) and 10000 bytes \(0 MB\) are free\. Raise the function's ephemeral storage size/);
    expect(fs.readdirSync(n.extractRoot).filter(f => !f.endsWith('.lock'))).toEqual([]);
  });

  test('a bundle too big even when nested fails naming the sizes, and writes nothing', () => {
    const dir = tempDir('nested-too-big');
    writeTree(path.join(dir, 'sp'), { 'my_app/__init__.py': '', 'my_app/blob.bin': crypto.randomBytes(200_000) });
    expect(() => buildZipSync({
      sources: [{ dir: path.join(dir, 'sp') }],
      output: path.join(dir, 'fn.zip'),
      nestThresholdBytes: 50_000,
      limitBytes: 150_000,
      loader: { kind: 'package', packageName: 'my_app' },
    })).toThrow(/too large even as a nested zip: the tree unzips to 200000 bytes, its zip is \d+ bytes, and with the \d+-byte loader that is \d+ bytes, not below Lambda's limit of 150000 bytes\. Largest: my_app 200\.0 kB/);
    expect(fs.readdirSync(dir)).toEqual(['sp']);
  });

  test('over the limit with nesting off is an error naming the size and the largest packages', () => {
    const dir = tempDir('flat-too-big');
    writeTree(path.join(dir, 'sp'), { 'big/x.bin': Buffer.alloc(5000) });
    expect(() => buildZipSync({ sources: [{ dir: path.join(dir, 'sp') }], output: path.join(dir, 'fn.zip'), limitBytes: 4000 }))
      .toThrow(/unzips to 5000 bytes, not below Lambda's limit of 4000 bytes, and nesting is off\. Largest: big 5\.0 kB/);
  });
});

async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = probe();
    if (value) return value;
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  throw new Error('timed out waiting');
}
