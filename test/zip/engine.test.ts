import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { buildZipHere } from '../../src/private/zip/engine';
import { dosDateTime } from '../../src/private/zip/entry-time';
import { INNER_ZIP_NAME } from '../../src/private/zip/nested-loader';
import { buildZipSync } from '../../src/private/zip/run-sync';
import { PYTHON, python, run, runWorker, sha256, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { inspectZip } from '../helpers/zip-inspect';

/** A small site-packages-like tree with text, binary, executable and leaky files. */
function makeTree(root: string, opts: { reverseOrder?: boolean; mtimeSeed?: number } = {}) {
  const files: Array<[string, string | Buffer]> = [
    ['handler.py', 'import mylib\n\ndef handler(event, context):\n    return {"answer": mylib.answer(), "event": event}\n'],
    ['mylib/__init__.py', 'from .core import answer\n'],
    ['mylib/core.py', 'def answer():\n    return 42\n'],
    ['mylib/data/blob.bin', crypto.createHash('sha512').update('seed').digest()],
    ['mylib/big.txt', 'lorem ipsum dolor sit amet\n'.repeat(20_000)],
    ['mylib-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: mylib\nVersion: 1.0\n'],
    ['mylib-1.0.dist-info/RECORD', `mylib/__init__.py,,\n${root}\n`],
    ['mylib-1.0.dist-info/direct_url.json', JSON.stringify({ url: `file://${root}` })],
    ['mylib-1.0.dist-info/uv_cache.json', JSON.stringify({ timestamp: { secs_since_epoch: 1_795_000_000 } })],
    ['mylib/__pycache__/core.cpython-311.pyc', 'bytecode with a timestamp'],
    ['stale.pyc', 'x'],
    ['bin/tool', '#!/bin/sh\necho tool\n'],
    ['Zeta.py', 'Z = 1\n'],
    ['émoji/ünïcode.py', 'U = 1\n'],
  ];
  if (opts.reverseOrder) files.reverse();
  for (const [rel, content] of files) writeTree(root, { [rel]: content });
  fs.chmodSync(path.join(root, 'bin/tool'), 0o755);
  let t = opts.mtimeSeed ?? 1_000_000_000;
  for (const [rel] of files) {
    t = (t * 7919 + 13) % 2_000_000_000;
    fs.utimesSync(path.join(root, rel), t, t);
  }
}

/** The last bytes of a sync flush: an empty stored block's length and its complement. */
const SYNC_MARK = Buffer.from([0x00, 0x00, 0xff, 0xff]);

const EXPECTED_NAMES = [
  'Zeta.py',
  'bin/tool',
  'handler.py',
  'mylib-1.0.dist-info/METADATA',
  'mylib/__init__.py',
  'mylib/big.txt',
  'mylib/core.py',
  'mylib/data/blob.bin',
  'émoji/ünïcode.py',
];

describe('zip engine (real child process)', () => {
  test('same inputs give the same sha256 whatever the build dir, TZ, umask, locale, mtimes and creation order', () => {
    const a = tempDir('det-a');
    const b = tempDir('det-b');
    makeTree(path.join(a, 'src'));
    makeTree(path.join(b, 'deeper', 'other-name'), { reverseOrder: true, mtimeSeed: 123_456_789 });

    const ra = runWorker({ sources: [{ dir: path.join(a, 'src') }], output: path.join(a, 'out.zip') },
      { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, umask: '022', cwd: a });
    const rb = runWorker({ sources: [{ dir: path.join(b, 'deeper', 'other-name') }], output: path.join(b, 'x', 'y.zip') },
      { env: { ...process.env, TZ: 'Pacific/Kiritimati', LC_ALL: 'tr_TR.UTF-8', LANG: 'tr_TR.UTF-8' }, umask: '077', cwd: b });

    expect(ra.ok).toBe(true);
    expect(rb.ok).toBe(true);
    expect(sha256(path.join(a, 'out.zip'))).toBe(sha256(path.join(b, 'x', 'y.zip')));
    expect(ra.report!.sha256).toBe(sha256(path.join(a, 'out.zip')));
    expect(rb.report!.sha256).toBe(ra.report!.sha256);
  });

  test('entries: sorted by UTF-8 bytes, one timestamp, 0644/0755, no extra fields, no comments, deflate', () => {
    const dir = tempDir('inspect');
    makeTree(path.join(dir, 'src'));
    const report = buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'out.zip') });
    const zip = inspectZip(path.join(dir, 'out.zip'));

    expect(zip.entries.map(e => e.name)).toEqual(EXPECTED_NAMES);
    expect(zip.commentLength).toBe(0);
    expect(zip.zip64).toBe(false);
    const { date, time } = dosDateTime(315532800);
    for (const e of zip.entries) {
      expect({ name: e.name, date: e.dosDate, time: e.dosTime }).toEqual({ name: e.name, date, time });
      expect(e.centralExtraLength).toBe(0);
      expect(e.localExtraLength).toBe(0);
      expect(e.commentLength).toBe(0);
      expect(e.versionMadeBy >> 8).toBe(3); // Unix, so the modes are honoured
      expect(e.mode).toBe(e.name === 'bin/tool' ? 0o755 : 0o644);
    }
    // Compressible text is deflated; 64 random-looking bytes are stored.
    expect(zip.entries.find(e => e.name === 'mylib/big.txt')!.method).toBe(8);
    expect(zip.entries.find(e => e.name === 'mylib/data/blob.bin')!.method).toBe(0);

    expect(report.files).toBe(EXPECTED_NAMES.length);
    expect(report.nested).toBe(false);
    expect(report.unzippedBytes).toBe(zip.entries.reduce((s, e) => s + e.size, 0));
    expect(report.zippedBytes).toBe(fs.statSync(path.join(dir, 'out.zip')).size);
    expect(report.largest[0]).toEqual({ name: 'mylib', bytes: expect.any(Number), files: 5 }); // dist-info folded in, __pycache__ gone
  });

  test('SOURCE_DATE_EPOCH sets every timestamp (in UTC), and changes the hash', () => {
    const dir = tempDir('sde');
    makeTree(path.join(dir, 'src'));
    const plain = runWorker({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    const dated = runWorker({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'b.zip'), sourceDateEpoch: '1700000001' },
      { env: { ...process.env, TZ: 'America/St_Johns' } });
    expect(dated.report!.sha256).not.toBe(plain.report!.sha256);
    const listing = python(`import zipfile; print(set(i.date_time for i in zipfile.ZipFile(${JSON.stringify(path.join(dir, 'b.zip'))}).infolist()))`);
    expect(listing.trim()).toBe('{(2023, 11, 14, 22, 13, 20)}');
  });

  test.each([['abc', 'is not a non-negative integer'], ['100', 'is before 1980-01-01T00:00:00Z']])(
    'SOURCE_DATE_EPOCH=%p is an error and nothing is written', (value, message) => {
      const dir = tempDir('sde-bad');
      makeTree(path.join(dir, 'src'));
      const result = runWorker({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'out', 'a.zip'), sourceDateEpoch: value });
      expect(result.ok).toBe(false);
      expect(result.error).toContain(`SOURCE_DATE_EPOCH=${value === 'abc' ? '"abc"' : value} ${message}`);
      expect(fs.existsSync(path.join(dir, 'out', 'a.zip'))).toBe(false);
      expect(fs.readdirSync(dir)).not.toContain('out');
    });

  test('Python reads the zip, and a handler importing a package from it runs', () => {
    const dir = tempDir('py');
    makeTree(path.join(dir, 'src'));
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'fn.zip') });

    const check = run(PYTHON, ['-m', 'zipfile', '-t', path.join(dir, 'fn.zip')]);
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('Done testing');

    unzipWithPython(path.join(dir, 'fn.zip'), path.join(dir, 'task'));
    const out = python('import json, handler; print(json.dumps(handler.handler({"k": 1}, None)))', { cwd: path.join(dir, 'task') });
    expect(JSON.parse(out)).toEqual({ answer: 42, event: { k: 1 } });
    // importlib.metadata still finds the distribution: dist-info is kept, RECORD is not.
    expect(python('import importlib.metadata as m; print(m.version("mylib"))', { cwd: path.join(dir, 'task') }).trim()).toBe('1.0');
  });

  test('binaries are stored byte for byte', () => {
    const dir = tempDir('bin');
    const blob = crypto.randomBytes(300_000);
    writeTree(path.join(dir, 'src'), { 'lib/_native.cpython-311-x86_64-linux-gnu.so': blob });
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    unzipWithPython(path.join(dir, 'a.zip'), path.join(dir, 'x'));
    expect(fs.readFileSync(path.join(dir, 'x', 'lib/_native.cpython-311-x86_64-linux-gnu.so')).equals(blob)).toBe(true);
  });

  test('many small files, compressible and not, mixed with larger ones, read back byte for byte', () => {
    // Small files share one read buffer; a stored (incompressible) one must be copied out
    // before the next small file is read, even while larger ones compress in the pool.
    const dir = tempDir('small-mix');
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 120; i++) {
      const size = (i * 7919) % 65_000 + 1;
      files[`pkg/f${String(i).padStart(3, '0')}.${i % 3 === 0 ? 'txt' : 'bin'}`] = i % 3 === 0 ? Buffer.from('abc\n'.repeat(size / 4 + 1)) : crypto.randomBytes(size);
      if (i % 20 === 0) files[`pkg/big${i}.bin`] = crypto.randomBytes(200_000 + i * 1000);
    }
    writeTree(path.join(dir, 'src'), files);
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    unzipWithPython(path.join(dir, 'a.zip'), path.join(dir, 'x'));
    for (const [name, bytes] of Object.entries(files)) {
      expect(`${name}: ${fs.readFileSync(path.join(dir, 'x', name)).equals(bytes)}`).toBe(`${name}: true`);
    }
  });

  test('large files are streamed and read back intact (deflated and stored)', () => {
    const dir = tempDir('large');
    const text = Buffer.from('0123456789abcdef\n'.repeat(1_200_000)); // ~20 MB, over the streaming threshold
    const noise = crypto.randomBytes(17 * 1024 * 1024);
    writeTree(path.join(dir, 'src'), { 'a/text.txt': text, 'b/noise.bin': noise });
    const r1 = buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    const r2 = buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'b.zip'), level: 0 });
    expect(r1.sha256).not.toBe(r2.sha256);
    for (const z of ['a.zip', 'b.zip']) {
      expect(run(PYTHON, ['-m', 'zipfile', '-t', path.join(dir, z)]).status).toBe(0);
    }
    const entries = inspectZip(path.join(dir, 'a.zip')).entries;
    expect(entries.map(e => [e.name, e.method])).toEqual([['a/text.txt', 8], ['b/noise.bin', 8]]);
    expect(entries[0].compressedSize).toBeLessThan(text.length / 10);
    unzipWithPython(path.join(dir, 'a.zip'), path.join(dir, 'x'));
    expect(fs.readFileSync(path.join(dir, 'x/a/text.txt')).equals(text)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'x/b/noise.bin')).equals(noise)).toBe(true);
  });

  test('a large file is deflated in 256 KiB pieces that join into one stream: read back by Python, the same in every build, as small as one pass', () => {
    const dir = tempDir('chunked');
    const piece = 256 * 1024;
    // Shared-library-like bytes: repeats within and across the cuts, so the dictionary matters.
    const unit = Buffer.concat([crypto.randomBytes(3000), Buffer.from('PyObject_GetAttrString\0'.repeat(40))]);
    const library = (size: number) => Buffer.concat(Array.from({ length: Math.ceil(size / unit.length) }, () => unit)).subarray(0, size);
    const files: Record<string, Buffer> = {
      'exact.so': library(12 * piece), // ends exactly at a cut
      'one-more.so': library(12 * piece + 1), // a last piece of one byte
      'odd.so': library(9 * piece + 12_345),
    };
    writeTree(path.join(dir, 'src'), files);
    const a = buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    const b = buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'b.zip') });
    expect(b.sha256).toBe(a.sha256);
    expect(run(PYTHON, ['-m', 'zipfile', '-t', a.output]).status).toBe(0);
    unzipWithPython(a.output, path.join(dir, 'x'));
    const zip = fs.readFileSync(a.output);
    for (const e of inspectZip(a.output).entries) {
      expect(fs.readFileSync(path.join(dir, 'x', e.name)).equals(files[e.name])).toBe(true);
      expect(e.method).toBe(8);
      const start = e.localHeaderOffset + 30 + Buffer.byteLength(e.name);
      const data = zip.subarray(start, start + e.compressedSize);
      // One pass over the whole file, for comparison: the pieces cost almost nothing.
      const onePass = zlib.deflateRawSync(files[e.name], { level: 6 });
      expect((data.length - onePass.length) / onePass.length).toBeLessThan(0.005);
      expect(zlib.inflateRawSync(data).equals(files[e.name])).toBe(true);
      // Every piece but the last ends with a sync flush's empty stored block.
      let flushes = 0;
      for (let at = data.indexOf(SYNC_MARK); at >= 0; at = data.indexOf(SYNC_MARK, at + 1)) flushes++;
      expect(flushes).toBeGreaterThanOrEqual(Math.ceil(files[e.name].length / piece) - 1);
    }
  });

  test('reuse: a zip that copies the dependency tree\'s compressed entries from an earlier zip is byte-identical to one built from scratch', () => {
    const dir = tempDir('reuse');
    const deps = path.join(dir, 'deps');
    makeTree(deps);
    writeTree(deps, {
      'numpy/core.so': crypto.randomBytes(3 * 1024 * 1024), // streamed, incompressible
      'numpy/big.py': Buffer.from('x = 1\n'.repeat(600_000)), // streamed, deflated
      'numpy/small.bin': crypto.randomBytes(1000), // stored: deflate would grow it
    });
    const code = path.join(dir, 'code');
    writeTree(code, { 'app.py': 'def handler(e, c):\n    return 1\n', 'lib/util.py': 'U = 1\n' });
    const sources = [{ dir: deps }, { dir: code, prefix: 'fn' }];
    const nested = { loader: { kind: 'handler' as const }, nestThresholdBytes: 1000 };
    for (const [label, shape] of [['plain', {}], ['nested', nested]] as const) {
      const before = buildZipSync({ sources, output: path.join(dir, `${label}-before.zip`), ...shape });
      // The handler changes; the dependencies do not.
      fs.writeFileSync(path.join(code, 'app.py'), `def handler(e, c):\n    return "${label}"\n`);
      const scratch = buildZipSync({ sources, output: path.join(dir, `${label}-scratch.zip`), ...shape });
      const innerZip = label === 'nested' ? INNER_ZIP_NAME : undefined;
      const reused = buildZipSync({ sources, output: path.join(dir, `${label}-reused.zip`), ...shape, reuse: { zipFile: before.output, innerZip, trees: [deps] } });
      // Every file of the dependency tree is copied; the function's two files are compressed.
      expect(reused.reusedEntries).toBe(inspectZip(path.join(dir, 'plain-scratch.zip')).entries.filter(e => !e.name.startsWith('fn/')).length);
      expect(reused.sha256).toBe(scratch.sha256);
      expect(fs.readFileSync(reused.output).equals(fs.readFileSync(scratch.output))).toBe(true);
      // The earlier zip's bytes, read while copying, sum to what its own report recorded: the whole file's CRC-32.
      expect(before.crc32).toBe(zlib.crc32(fs.readFileSync(before.output)));
      expect(reused.reusedZipCrc32).toBe(before.crc32);
      // From a flat zip into a nested one, and the reverse: entries are found by name.
      const other = label === 'nested' ? path.join(dir, 'plain-before.zip') : undefined;
      if (other) {
        const cross = buildZipSync({ sources, output: path.join(dir, 'cross.zip'), ...shape, reuse: { zipFile: other, trees: [deps] } });
        expect(cross.sha256).toBe(scratch.sha256);
        expect(cross.reusedEntries).toBeGreaterThan(0);
      }
    }
    // A dependency file whose size no longer matches, a zip that is not ours, a missing zip: compressed afresh.
    writeTree(deps, { 'mylib/core.py': 'def answer():\n    return 4300\n' });
    const changed = buildZipSync({ sources, output: path.join(dir, 'changed.zip'), reuse: { zipFile: path.join(dir, 'plain-before.zip'), trees: [deps] } });
    const fresh = buildZipSync({ sources, output: path.join(dir, 'fresh.zip') });
    expect(changed.sha256).toBe(fresh.sha256);
    fs.writeFileSync(path.join(dir, 'junk.zip'), 'not a zip');
    expect(buildZipSync({ sources, output: path.join(dir, 'j.zip'), reuse: { zipFile: path.join(dir, 'junk.zip'), trees: [deps] } }).sha256).toBe(fresh.sha256);
    expect(buildZipSync({ sources, output: path.join(dir, 'm.zip'), reuse: { zipFile: path.join(dir, 'missing.zip'), trees: [deps] } }).reusedEntries).toBe(0);
  });

  test('reuse copies an earlier zip\'s compressed bytes as they are, and reports the CRC-32 of what it read for the caller to check (the bundler does)', () => {
    const dir = tempDir('reuse-damaged');
    const deps = path.join(dir, 'deps');
    writeTree(deps, { 'numpy/big.py': Buffer.from('x = 1\n'.repeat(200_000)), 'numpy/__init__.py': 'N = 1\n' });
    const code = path.join(dir, 'code');
    writeTree(code, { 'app.py': 'def handler(e, c):\n    return 1\n' });
    const sources = [{ dir: deps }, { dir: code, prefix: 'fn' }];
    const before = buildZipSync({ sources, output: path.join(dir, 'before.zip') });
    fs.writeFileSync(path.join(code, 'app.py'), 'def handler(e, c):\n    return 2\n');
    const scratch = buildZipSync({ sources, output: path.join(dir, 'scratch.zip') });
    // What a tool writing into the file in place would leave: same size, one byte of
    // numpy/big.py's compressed data changed (its CRC in the headers still claims the old bytes).
    const entry = inspectZip(before.output).entries.find(e => e.name === 'numpy/big.py')!;
    const at = entry.localHeaderOffset + 30 + Buffer.byteLength(entry.name) + Math.floor(entry.compressedSize / 2);
    const fd = fs.openSync(before.output, 'r+');
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    byte[0] ^= 0xff;
    fs.writeSync(fd, byte, 0, 1, at);
    fs.closeSync(fd);
    const after = buildZipSync({ sources, output: path.join(dir, 'after.zip'), reuse: { zipFile: before.output, trees: [deps] } });
    expect(after.reusedEntries).toBe(2);
    expect(after.sha256).not.toBe(scratch.sha256);
    expect(after.reusedZipCrc32).toBe(zlib.crc32(fs.readFileSync(before.output)));
    expect(after.reusedZipCrc32).not.toBe(before.crc32);
    // On the calling thread, the same.
    expect(buildZipHere({ sources, output: path.join(dir, 'here.zip'), reuse: { zipFile: before.output, trees: [deps] } }).reusedZipCrc32).toBe(after.reusedZipCrc32);
  });

  test('always strips __pycache__, .pyc/.pyo, RECORD, direct_url.json and uv\'s uv_cache.json; callers add patterns', () => {
    const dir = tempDir('strip');
    makeTree(path.join(dir, 'src'));
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip'), excludes: ['bin/', '*.txt'] });
    expect(inspectZip(path.join(dir, 'a.zip')).entries.map(e => e.name))
      .toEqual(EXPECTED_NAMES.filter(n => n !== 'bin/tool' && n !== 'mylib/big.txt'));
  });

  test('several sources merge under prefixes; a path given twice is an error', () => {
    const dir = tempDir('merge');
    writeTree(path.join(dir, 'deps'), { 'requests/__init__.py': 'R = 1\n' });
    writeTree(path.join(dir, 'code'), { 'index.py': 'I = 1\n', 'requests/__init__.py': 'shadow\n' });
    buildZipSync({ sources: [{ dir: path.join(dir, 'deps'), prefix: 'python' }, { dir: path.join(dir, 'code') }], output: path.join(dir, 'a.zip') });
    expect(inspectZip(path.join(dir, 'a.zip')).entries.map(e => e.name)).toEqual(['index.py', 'python/requests/__init__.py', 'requests/__init__.py']);
    expect(() => buildZipSync({ sources: [{ dir: path.join(dir, 'deps') }, { dir: path.join(dir, 'code') }], output: path.join(dir, 'b.zip') }))
      .toThrow(/Both .*deps and .*code provide requests\/__init__.py/);
    expect(fs.existsSync(path.join(dir, 'b.zip'))).toBe(false);
  });

  test('a file name that is not UTF-8 or holds a backslash is an error naming it (escaped), unless excluded', () => {
    const dir = tempDir('names');
    const src = path.join(dir, 'src');
    writeTree(src, { 'index.py': 'I = 1\n', 'pkg/ok.py': 'O = 1\n' });
    const latin1 = Buffer.concat([Buffer.from(path.join(src, 'pkg') + '/'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.py')]);
    fs.writeFileSync(latin1, 'x = 1\n');
    expect(() => buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'a.zip') }))
      .toThrow(`${src}/pkg/caf\\xe9.py: the file name is not valid UTF-8. A zip entry name must be UTF-8`);
    expect(fs.existsSync(path.join(dir, 'a.zip'))).toBe(false);
    // Excluded (matched with the undecodable bytes read as U+FFFD), it is no obstacle.
    buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'a.zip'), excludes: ['caf*.py'] });
    expect(inspectZip(path.join(dir, 'a.zip')).entries.map(e => e.name)).toEqual(['index.py', 'pkg/ok.py']);

    fs.rmSync(latin1);
    fs.writeFileSync(path.join(src, 'pkg', '..\\..\\evil.py'), 'x = 1\n');
    expect(() => buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'b.zip') }))
      .toThrow(`${src}/pkg/..\\x5c..\\x5cevil.py: the file name holds a backslash. Zip tools and our nested-bundle loader read a backslash as a folder separator`);
    expect(fs.existsSync(path.join(dir, 'b.zip'))).toBe(false);
  });

  test('more than 65,535 entries use zip64 end records that Python reads', () => {
    const dir = tempDir('zip64');
    const src = path.join(dir, 'src');
    for (let d = 0; d < 70; d++) {
      fs.mkdirSync(path.join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 1000; f++) fs.writeFileSync(path.join(src, `d${d}`, `f${f}.py`), `${d}-${f}\n`);
    }
    const report = buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'a.zip') });
    expect(report.files).toBe(70_000);
    const zip = inspectZip(path.join(dir, 'a.zip'));
    expect(zip.zip64).toBe(true);
    expect(zip.entries).toHaveLength(70_000);
    const out = python(`import zipfile; z = zipfile.ZipFile(${JSON.stringify(path.join(dir, 'a.zip'))}); print(len(z.infolist()), z.read("d69/f999.py").decode().strip(), z.testzip())`);
    expect(out.trim()).toBe('70000 69-999 None');
  });
});

describe('zipping on the calling thread (a handler edit\'s zip)', () => {
  test('gives the bytes of the engine in its own process, plain, nested, stored and at level 9, with and without reuse', () => {
    const dir = tempDir('here');
    const deps = path.join(dir, 'deps');
    makeTree(deps);
    const unit = Buffer.concat([crypto.randomBytes(3000), Buffer.from('PyObject_GetAttrString\0'.repeat(40))]);
    writeTree(deps, {
      'numpy/core.so': Buffer.concat(Array.from({ length: 1200 }, () => unit)).subarray(0, 3 * 1024 * 1024 + 17), // deflated in pieces
      'numpy/rand.so': crypto.randomBytes(3 * 1024 * 1024), // streamed, stored
      'numpy/mid.py': Buffer.from('y = 2\n'.repeat(30_000)), // deflated in the pool, in the other mode
      'numpy/small.bin': crypto.randomBytes(1000),
    });
    const code = path.join(dir, 'code');
    writeTree(code, { 'app.py': 'def handler(e, c):\n    return 1\n' });
    const sources = [{ dir: deps }, { dir: code, prefix: 'fn' }];
    const shapes = {
      plain: {},
      nested: { loader: { kind: 'handler' as const }, nestThresholdBytes: 1000 },
      stored: { level: 0 },
      level9: { level: 9 },
    };
    for (const [label, shape] of Object.entries(shapes)) {
      const before = buildZipSync({ sources, output: path.join(dir, `${label}-child.zip`), ...shape });
      const here = buildZipHere({ sources, output: path.join(dir, `${label}-here.zip`), ...shape });
      expect([label, here.sha256]).toEqual([label, before.sha256]);
      expect(sha256(here.output)).toBe(before.sha256);
      fs.writeFileSync(path.join(code, 'app.py'), `def handler(e, c):\n    return "${label}"\n`);
      const innerZip = label === 'nested' ? INNER_ZIP_NAME : undefined;
      const reuse = { zipFile: before.output, innerZip, trees: [deps] };
      const child = buildZipSync({ sources, output: path.join(dir, `${label}-edit-child.zip`), ...shape, reuse });
      const edit = buildZipHere({ sources, output: path.join(dir, `${label}-edit-here.zip`), ...shape, reuse });
      expect(edit.reusedEntries).toBeGreaterThan(10);
      expect([label, edit.sha256]).toEqual([label, child.sha256]);
      expect(sha256(edit.output)).toBe(child.sha256);
    }
    expect(run(PYTHON, ['-m', 'zipfile', '-t', path.join(dir, 'plain-edit-here.zip')]).status).toBe(0);
  });

  test('an error is thrown as it is, and nothing is written', () => {
    const dir = tempDir('here-error');
    writeTree(path.join(dir, 'src'), { 'big.bin': crypto.randomBytes(2048) });
    const output = path.join(dir, 'out', 'a.zip');
    expect(() => buildZipHere({ sources: [{ dir: path.join(dir, 'src') }], output, limitBytes: 1000 })).toThrow(/not below Lambda's limit of 1000 bytes/);
    fs.symlinkSync('/etc/passwd', path.join(dir, 'src', 'evil'));
    expect(() => buildZipHere({ sources: [{ dir: path.join(dir, 'src') }], output })).toThrow(/outside the folder/);
    expect(fs.existsSync(output)).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'out'))).toEqual([]);
  });
});

describe('a tree\'s file list kept for the next zip (SourceTree.listing)', () => {
  function listed(label: string) {
    const dir = tempDir(label);
    const tree = path.join(dir, 'tree');
    makeTree(tree);
    writeTree(tree, { 'real/data.txt': 'payload\n' });
    fs.symlinkSync('real/data.txt', path.join(tree, 'alias.txt'));
    fs.symlinkSync('real', path.join(tree, 'linked-dir'));
    const listing = path.join(dir, 'listings');
    const sources = [{ dir: tree, prefix: 'python', excludes: ['/bin/'], listing }];
    return { dir, tree, listing, sources };
  }

  test('the first zip writes it, the next reads it instead of walking the tree, and both give the walk\'s bytes', () => {
    const { dir, tree, listing, sources } = listed('listing');
    const walked = buildZipSync({ sources: sources.map(({ listing: _, ...s }) => s), output: path.join(dir, 'walked.zip') });
    const first = buildZipSync({ sources, output: path.join(dir, 'first.zip') });
    expect(first.sha256).toBe(walked.sha256);
    expect(fs.readdirSync(listing)).toHaveLength(1);
    // Paths are kept relative to the tree (a moved cache keeps its listings).
    expect(fs.readFileSync(path.join(listing, fs.readdirSync(listing)[0]), 'utf8')).not.toContain(dir);
    // The tree is promised not to change; a file added anyway shows that the list was read, not walked.
    writeTree(tree, { 'added.py': 'A = 1\n' });
    const second = buildZipHere({ sources, output: path.join(dir, 'second.zip') });
    expect(second.sha256).toBe(walked.sha256);
    expect(inspectZip(second.output).entries.map(e => e.name)).not.toContain('python/added.py');
    // Other rules, another list: walked, so it sees the added file.
    const other = buildZipSync({ sources: [{ ...sources[0], excludes: [] }], output: path.join(dir, 'other.zip') });
    expect(inspectZip(other.output).entries.map(e => e.name)).toEqual(expect.arrayContaining(['python/added.py', 'python/bin/tool']));
    expect(fs.readdirSync(listing)).toHaveLength(2);
  });

  test.each([
    ['not JSON', () => 'not json'],
    ['a path leaving the tree', (text: string) => text.replace('"real/data.txt"', '"../../outside.txt"')],
    ['an absolute path', (text: string) => text.replace('"real/data.txt"', '"/etc/passwd"')],
    ['a wrong size', (text: string) => text.replace(/("real\/data\.txt",null,)8/, '$1-1')],
  ])('a listing that is %s is ignored: the tree is walked, and the listing written again', (_label, damage) => {
    const { dir, listing, sources } = listed('listing-bad');
    const first = buildZipSync({ sources, output: path.join(dir, 'first.zip') });
    const file = path.join(listing, fs.readdirSync(listing)[0]);
    const text = fs.readFileSync(file, 'utf8');
    const damaged = damage(text);
    expect(damaged).not.toBe(text);
    fs.writeFileSync(file, damaged);
    const again = buildZipHere({ sources, output: path.join(dir, 'again.zip') });
    expect(again.sha256).toBe(first.sha256);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('symlinks', () => {
  test('a link to a file inside the tree is stored as that file', () => {
    const dir = tempDir('link-in');
    const src = path.join(dir, 'src');
    writeTree(src, { 'real/data.txt': 'payload\n', 'real/run.sh': '#!/bin/sh\n' });
    fs.chmodSync(path.join(src, 'real/run.sh'), 0o755);
    fs.symlinkSync('real/data.txt', path.join(src, 'alias.txt'));
    fs.symlinkSync('real', path.join(src, 'linked-dir'));
    fs.symlinkSync('real/run.sh', path.join(src, 'run-link'));
    buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'a.zip') });
    const entries = inspectZip(path.join(dir, 'a.zip')).entries;
    expect(entries.map(e => [e.name, e.mode])).toEqual([
      ['alias.txt', 0o644],
      ['linked-dir/data.txt', 0o644],
      ['linked-dir/run.sh', 0o755],
      ['real/data.txt', 0o644],
      ['real/run.sh', 0o755],
      ['run-link', 0o755],
    ]);
    unzipWithPython(path.join(dir, 'a.zip'), path.join(dir, 'x'));
    expect(fs.readFileSync(path.join(dir, 'x', 'alias.txt'), 'utf8')).toBe('payload\n');
    expect(fs.lstatSync(path.join(dir, 'x', 'alias.txt')).isSymbolicLink()).toBe(false);
  });

  test.each([
    ['outside the tree', (src: string, dir: string) => { writeTree(dir, { 'secret.txt': 's' }); fs.symlinkSync('../secret.txt', path.join(src, 'leak')); }, /Symlink .*leak \(leak\) points to \.\.\/secret\.txt .*outside the folder being zipped/],
    ['to a sibling folder with the same prefix (src2 beside src)', (src: string, dir: string) => { writeTree(dir, { 'src2/x.txt': 'x' }); fs.symlinkSync(path.join(dir, 'src2', 'x.txt'), path.join(src, 'sib')); }, /Symlink .*sib \(sib\) points to .*src2\/x\.txt.*outside the folder being zipped/],
    ['in a loop', (src: string) => { fs.symlinkSync('b', path.join(src, 'a')); fs.symlinkSync('a', path.join(src, 'b')); }, /Symlink .*\/a \(a\) points to b, which loops back on itself/],
    ['to an ancestor folder', (src: string) => { fs.mkdirSync(path.join(src, 'pkg')); fs.symlinkSync('..', path.join(src, 'pkg', 'up')); }, /Symlink .*pkg\/up points to \.\., a folder that contains it/],
    ['dangling', (src: string) => { fs.symlinkSync('nowhere.txt', path.join(src, 'gone')); }, /Symlink .*gone \(gone\) points to nowhere\.txt, which does not exist/],
  ])('a link %s is an error naming the link and target, and nothing is written', (_label, setup, message) => {
    const dir = tempDir('link-bad');
    const src = path.join(dir, 'src');
    writeTree(src, { 'ok.py': 'x = 1\n' });
    setup(src, dir);
    expect(() => buildZipSync({ sources: [{ dir: src }], output: path.join(dir, 'out', 'a.zip') })).toThrow(message);
    // The tree is checked before anything is created: not even the output folder exists.
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

describe('atomic output', () => {
  test('a failure replaces nothing: an existing zip at the target stays as it was', () => {
    const dir = tempDir('atomic');
    writeTree(path.join(dir, 'src'), { 'a.py': 'a\n' });
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') });
    const before = sha256(path.join(dir, 'a.zip'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'src', 'evil'));
    expect(() => buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'a.zip') })).toThrow(/outside the folder/);
    expect(sha256(path.join(dir, 'a.zip'))).toBe(before);
    expect(fs.readdirSync(dir).sort()).toEqual(['a.zip', 'src']);
  });

  test('a worker killed mid-write leaves no file at the target', () => {
    const dir = tempDir('killed');
    const src = path.join(dir, 'src');
    for (let i = 0; i < 40; i++) writeTree(src, { [`f${i}.bin`]: crypto.randomBytes(2 * 1024 * 1024) });
    const r = run(process.execPath, ['-e', `
      const { spawn } = require('child_process');
      const child = spawn(process.execPath, [${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'private', 'zip', 'worker.js'))}], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end(JSON.stringify({ sources: [{ dir: ${JSON.stringify(src)} }], output: ${JSON.stringify(path.join(dir, 'out.zip'))} }));
      setTimeout(() => child.kill('SIGKILL'), 150);
      child.on('exit', (code, signal) => console.log(signal));
    `]);
    expect(r.stdout.trim()).toBe('SIGKILL');
    expect(fs.existsSync(path.join(dir, 'out.zip'))).toBe(false);
  });
});

describe('zipping in a thread of this process (possum\'s bundle workers)', () => {
  const RUN_SYNC_JS = path.join(__dirname, '..', '..', 'lib', 'private', 'zip', 'run-sync.js');
  /** Runs buildZipSync in a fresh Node.js process that zips in a thread, as a bundle worker does. */
  const inThread = (plan: object) => run(process.execPath, ['-e', `const r = require(${JSON.stringify(RUN_SYNC_JS)}); r.zipInThisProcess();
    try { process.stdout.write(JSON.stringify(r.buildZipSync(${JSON.stringify(plan)}))); } catch (e) { process.stdout.write(JSON.stringify({ error: e.message })); }`]);

  test('gives the same bytes as the child process', () => {
    const dir = tempDir('thread-zip');
    makeTree(path.join(dir, 'src'));
    writeTree(path.join(dir, 'src'), Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`many/m${i}.py`, crypto.randomBytes(2000).toString('base64')])));
    buildZipSync({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'child.zip') });
    const r = inThread({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'thread.zip'), progress: true, level: 9 });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.files).toBe(EXPECTED_NAMES.length + 3000);
    const again = inThread({ sources: [{ dir: path.join(dir, 'src') }], output: path.join(dir, 'thread6.zip') });
    expect(again.status).toBe(0);
    expect(sha256(path.join(dir, 'thread6.zip'))).toBe(sha256(path.join(dir, 'child.zip')));
    expect(JSON.parse(again.stdout).sha256).toBe(sha256(path.join(dir, 'child.zip')));
  });

  test('one thread serves several zips in a row, each as the child process would write it', () => {
    const dir = tempDir('thread-zips');
    makeTree(path.join(dir, 'a'));
    writeTree(path.join(dir, 'b'), { 'only.py': 'X = 1\n', 'pkg/data.bin': crypto.randomBytes(5000) });
    for (const n of ['a', 'b']) buildZipSync({ sources: [{ dir: path.join(dir, n) }], output: path.join(dir, `child-${n}.zip`) });
    const plans = ['a', 'b', 'a'].map((n, i) => ({ sources: [{ dir: path.join(dir, n) }], output: path.join(dir, `thread-${i}.zip`) }));
    const r = run(process.execPath, ['-e', `const r = require(${JSON.stringify(RUN_SYNC_JS)}); r.zipInThisProcess();
      process.stdout.write(JSON.stringify(${JSON.stringify(plans)}.map(p => r.buildZipSync(p).sha256)))`]);
    expect(r.status).toBe(0);
    const child = (n: string) => sha256(path.join(dir, `child-${n}.zip`));
    expect(JSON.parse(r.stdout)).toEqual([child('a'), child('b'), child('a')]);
    expect([0, 1, 2].map(i => sha256(path.join(dir, `thread-${i}.zip`)))).toEqual([child('a'), child('b'), child('a')]);
  });

  test('an engine error comes back as the error, and nothing is written', () => {
    const dir = tempDir('thread-zip-error');
    writeTree(path.join(dir, 'src'), { 'big.bin': crypto.randomBytes(2048) });
    const output = path.join(dir, 'out.zip');
    const r = inThread({ sources: [{ dir: path.join(dir, 'src') }], output, limitBytes: 1000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).error).toMatch(/unzips to 2048 bytes, not below Lambda's limit of 1000 bytes/);
    expect(fs.existsSync(output)).toBe(false);
  });
});
