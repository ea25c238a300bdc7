import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { makeSdist, makeWheel, PYTHON, tempDir, writeLocalProject, writeTree } from './run';

/**
 * Wheels the tests build themselves, so the suite runs offline:
 * - greeting 1.0 and 2.0: pure Python;
 * - withdeps 1.0: pure, requires greeting;
 * - fastmath 1.0: fake platform wheels for cp311 manylinux2014 x86_64 and aarch64, and
 *   cp313 manylinux_2_28 x86_64 / manylinux2014 aarch64; each says which one it is;
 * - newlib 1.0: only a manylinux_2_28_x86_64 wheel (too new for python3.11's glibc);
 * - midlib 1.0: a manylinux_2_24_x86_64 wheel (fine for python3.11's glibc 2.26, but between
 *   the platforms uv can name) and an sdist that builds a native wheel (pandas 2.3.3 for
 *   python3.10 has this shape);
 * - boto3 / botocore 1.0: stand-ins for the packages the runtime provides;
 * - oldpy 1.0: pure, but Requires-Python <3.10 (no Lambda runtime has that);
 * - legacy 1.0: pure, Requires-Python <3.11 (fine for python3.10, not for the 3.11 running the tests);
 * - markerdep 1.0: pure, requires greeting only where python_version < "3.12";
 * - puresdist 1.0: only an sdist, which builds a pure-Python wheel;
 * - nativesdist 1.0: only an sdist, which builds a wheel for this machine's platform only;
 * - gluelib: 1.0 a pure wheel, 2.0 (newer) only an sdist that builds a platform wheel;
 * - common 9.9: a stand-in for an unrelated public package that a workspace member's
 *   sibling shares a name with.
 */
export interface Wheelhouse {
  readonly dir: string;
  /** sha256 of each wheel, by file name. */
  readonly hashes: Record<string, string>;
}

/** The ELF header of a 64-bit shared object for the machine (0x3e x86-64, 0xb7 aarch64). */
function fakeElf(machine: number): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(b, 0);
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(machine, 18);
  return b;
}

export function buildWheelhouse(root: string): Wheelhouse {
  const dir = path.join(root, 'wheels');
  const src = (name: string, files: Record<string, string | Buffer>) => {
    const d = path.join(root, 'src', name);
    writeTree(d, files);
    return d;
  };
  for (const version of ['1.0', '2.0']) {
    makeWheel({ name: 'greeting', version, out: dir, source: src(`greeting-${version}`, { 'greeting/__init__.py': `VERSION = "${version}"\n\ndef greet(name):\n    return "hello " + name\n` }) });
  }
  makeWheel({ name: 'withdeps', version: '1.0', out: dir, requires: ['greeting'], source: src('withdeps', { 'withdeps/__init__.py': 'import greeting\nWHO = greeting.greet("deps")\n' }) });
  const variants: Array<[string, string, number]> = [
    ['cp311-cp311-manylinux2014_x86_64', 'cp311 manylinux2014 x86_64', 0x3e],
    ['cp311-cp311-manylinux2014_aarch64', 'cp311 manylinux2014 aarch64', 0xb7],
    ['cp313-cp313-manylinux_2_28_x86_64', 'cp313 manylinux_2_28 x86_64', 0x3e],
    ['cp313-cp313-manylinux2014_aarch64', 'cp313 manylinux2014 aarch64', 0xb7],
  ];
  for (const [tag, variant, machine] of variants) {
    const [py, , platform] = tag.split('-');
    const arch = platform.endsWith('aarch64') ? 'aarch64' : 'x86_64';
    makeWheel({
      name: 'fastmath',
      version: '1.0',
      out: dir,
      tag,
      source: src(`fastmath-${tag}`, {
        'fastmath/__init__.py': `VARIANT = "${variant}"\n`,
        [`fastmath/_speedups.cpython-${py.slice(2)}-${arch}-linux-gnu.so`]: fakeElf(machine),
      }),
    });
  }
  makeWheel({ name: 'newlib', version: '1.0', out: dir, tag: 'py3-none-manylinux_2_28_x86_64', source: src('newlib', { 'newlib/__init__.py': 'NEW = True\n' }) });
  makeWheel({ name: 'midlib', version: '1.0', out: dir, tag: 'py3-none-manylinux_2_24_x86_64', source: src('midlib', { 'midlib/__init__.py': 'MID = True\n' }) });
  const midlibSdist = path.join(root, 'src', 'midlib-project');
  writeLocalProject(midlibSdist, { name: 'midlib', version: '1.0', tag: 'cp311-cp311-linux_x86_64' });
  makeSdist(midlibSdist, dir);
  makeWheel({ name: 'legacy', version: '1.0', out: dir, requiresPython: '<3.11', source: src('legacy', { 'legacy/__init__.py': 'LEGACY = True\n' }) });
  makeWheel({
    name: 'markerdep',
    version: '1.0',
    out: dir,
    requires: ['greeting ; python_version < "3.12"'],
    source: src('markerdep', { 'markerdep/__init__.py': 'MARKER = True\n' }),
  });
  makeWheel({ name: 'common', version: '9.9', out: dir, source: src('common-public', { 'common/__init__.py': 'NAME = "common"\nVERSION = "public 9.9"\n' }) });
  for (const [name, tag] of [['puresdist', 'py3-none-any'], ['nativesdist', 'cp311-cp311-linux_x86_64']]) {
    const project = path.join(root, 'src', `${name}-project`);
    writeLocalProject(project, { name, version: '1.0', tag });
    makeSdist(project, dir);
  }
  // gluelib: 1.0 has a pure wheel, the newer 2.0 only a native sdist (as numpy's newest for python3.11's glibc).
  makeWheel({ name: 'gluelib', version: '1.0', out: dir, source: src('gluelib', { 'gluelib/__init__.py': 'VERSION = "1.0"\n' }) });
  const glue2 = path.join(root, 'src', 'gluelib-2-project');
  writeLocalProject(glue2, { name: 'gluelib', version: '2.0', tag: 'cp311-cp311-linux_x86_64' });
  makeSdist(glue2, dir);
  makeWheel({ name: 'oldpy', version: '1.0', out: dir, requiresPython: '<3.10', source: src('oldpy', { 'oldpy/__init__.py': 'OLD = True\n' }) });
  makeWheel({ name: 'botocore', version: '1.0', out: dir, source: src('botocore', { 'botocore/__init__.py': 'FAKE = True\n' }) });
  makeWheel({ name: 'boto3', version: '1.0', out: dir, requires: ['botocore'], source: src('boto3', { 'boto3/__init__.py': 'import botocore\n' }) });

  const hashes: Record<string, string> = {};
  for (const f of fs.readdirSync(dir)) hashes[f] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
  return { dir, hashes };
}

/** `sha256:...` hashes of a package's wheels and sdist, as a lock file lists them. */
export function lockHashes(house: Wheelhouse, project: string, version: string): string[] {
  const prefix = `${project.replace(/-/g, '_')}-${version}`;
  return Object.entries(house.hashes).filter(([f]) => f.startsWith(`${prefix}-`) || f === `${prefix}.tar.gz`).map(([, h]) => `sha256:${h}`).sort();
}

/** A PEP 503 index over the wheelhouse on 127.0.0.1, optionally behind basic auth. */
export class LocalIndex {
  /** @param tls a certificate and key for 127.0.0.1: the index speaks https with them */
  public static async start(house: Wheelhouse, auth?: { user: string; password: string },
    tls?: { readonly cert: string; readonly key: string }): Promise<LocalIndex> {
    const args = [path.join(__dirname, '..', 'fixtures', 'index_server.py'), house.dir];
    if (auth) args.push('--user', auth.user, '--password', auth.password);
    if (tls) args.push('--cert', tls.cert, '--key', tls.key);
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', d => {
        out += d;
        if (out.includes('\n')) resolve(Number(out.split('\n')[0]));
      });
      child.on('exit', code => reject(new Error(`index server exited with ${code}`)));
    });
    return new LocalIndex(child, port, path.join(path.dirname(house.dir), 'requests.log'), tls ? 'https' : 'http');
  }

  private constructor(private readonly child: ChildProcess, public readonly port: number, private readonly log: string,
    private readonly scheme: string) {}

  /** The index URL, with credentials when given. */
  public url(credentials?: string): string {
    return `${this.scheme}://${credentials ? `${credentials}@` : ''}127.0.0.1:${this.port}/simple`;
  }

  /** Request paths served so far. */
  public requests(): string[] {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  public stop() {
    this.child.kill();
  }
}

/** The wheelhouse and its index for one test file: built before its tests, stopped after. */
export interface LocalIndexFixture {
  /** A temporary folder of the test file's own (holds the wheels). */
  readonly work: string;
  readonly house: Wheelhouse;
  readonly index: LocalIndex;
}

export function useLocalIndex(label: string): LocalIndexFixture {
  let state: LocalIndexFixture | undefined;
  beforeAll(async () => {
    const work = tempDir(label);
    const house = buildWheelhouse(work);
    state = { work, house, index: await LocalIndex.start(house) };
  });
  afterAll(() => state?.index.stop());
  const get = () => {
    if (!state) throw new Error('useLocalIndex: the fixture is only ready inside tests');
    return state;
  };
  return {
    get work() { return get().work; },
    get house() { return get().house; },
    get index() { return get().index; },
  };
}
