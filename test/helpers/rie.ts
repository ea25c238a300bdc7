import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * Runs unpacked bundles in the AWS Lambda Runtime Interface Emulator (RIE), the Go
 * program AWS ships in its Lambda base images: it serves the Runtime API to a runtime
 * client (here the real `awslambdaric`) and takes invocations on
 * POST /2015-03-31/functions/function/invocations.
 *
 * Everything here works without Jest, so `ts-node test/helpers/rie.ts` can build the
 * emulator and print what it built (CI does).
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The emulator's Go source, beside the repository (read-only; a build writes nothing there). */
export const RIE_SOURCE = path.resolve(REPO_ROOT, '..', 'shared', 'vendor', 'aws-lambda-runtime-interface-emulator');
/** Where a built emulator is kept between runs. */
export const RIE_CACHE_DIR = path.join(REPO_ROOT, '.tools', 'rie');
/** The tools venv's Python (`npx projen install-tools`), which has awslambdaric. */
export const TOOLS_PYTHON = path.join(REPO_ROOT, '.tools', 'bin', 'python');

const BINARY_NAME = 'aws-lambda-rie';
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/** Which emulator binary is used and where it came from. */
export interface RieBinaryInfo {
  readonly path: string;
  /** `AWS_LAMBDA_RIE`, `PATH`, `cache` (built by an earlier run) or `built` (by this process). */
  readonly origin: 'AWS_LAMBDA_RIE' | 'PATH' | 'cache' | 'built';
  /** One line for people: the binary, and for one built from source, the source's hash and the Go that built it. */
  readonly description: string;
  /** Seconds the build took, when this process built it. */
  readonly buildSeconds?: number;
}

/** What is recorded beside a binary built from source. */
interface BuildRecord {
  readonly source: string;
  readonly sourceSha256: string;
  readonly go: string;
  readonly buildSeconds: number;
}

let resolved: RieBinaryInfo | undefined;

/**
 * The `aws-lambda-rie` to run: `$AWS_LAMBDA_RIE`, else one on PATH, else the one built
 * from RIE_SOURCE into RIE_CACHE_DIR (built now if missing or if the source changed since).
 */
export function rieBinary(): string {
  return rieBinaryInfo().path;
}

/** Like rieBinary(), with where the binary came from. */
export function rieBinaryInfo(): RieBinaryInfo {
  resolved ??= resolveBinary();
  return resolved;
}

function resolveBinary(): RieBinaryInfo {
  const fromEnv = process.env.AWS_LAMBDA_RIE;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new Error(`AWS_LAMBDA_RIE=${fromEnv} is not an executable file; unset it to build the emulator from ${RIE_SOURCE}.`);
    }
    return { path: path.resolve(fromEnv), origin: 'AWS_LAMBDA_RIE', description: `${path.resolve(fromEnv)} (from $AWS_LAMBDA_RIE)` };
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = dir && path.join(dir, BINARY_NAME);
    if (candidate && isExecutable(candidate)) {
      return { path: candidate, origin: 'PATH', description: `${candidate} (found on PATH)` };
    }
  }
  return cachedOrBuilt();
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function describeBuild(binary: string, record: BuildRecord): string {
  return `${binary} (built from ${record.source}, source sha256 ${record.sourceSha256.slice(0, 16)}, ${record.go})`;
}

function cachedOrBuilt(): RieBinaryInfo {
  const binary = path.join(RIE_CACHE_DIR, BINARY_NAME);
  const recordFile = `${binary}.json`;
  const record = readRecord(recordFile);
  const sourcePresent = fs.existsSync(path.join(RIE_SOURCE, 'go.mod'));
  if (!sourcePresent) {
    if (record && isExecutable(binary)) {
      return { path: binary, origin: 'cache', description: `${describeBuild(binary, record)}; the source is gone, so it was not checked` };
    }
    throw new Error(
      `Cannot build the AWS Lambda Runtime Interface Emulator: its source is not at ${RIE_SOURCE} (expected go.mod there). ` +
      'Set AWS_LAMBDA_RIE to an aws-lambda-rie binary or put one on PATH.');
  }
  const sourceSha256 = hashTree(RIE_SOURCE);
  if (record && record.sourceSha256 === sourceSha256 && isExecutable(binary)) {
    return { path: binary, origin: 'cache', description: describeBuild(binary, record) };
  }

  const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (goVersion.error || goVersion.status !== 0) {
    throw new Error(
      `Cannot build the AWS Lambda Runtime Interface Emulator from ${RIE_SOURCE}: Go is not available ` +
      `(${goVersion.error?.message ?? goVersion.stderr.trim()}). Install Go (the source asks for the version in its go.mod), ` +
      'or set AWS_LAMBDA_RIE to an aws-lambda-rie binary.');
  }
  fs.mkdirSync(RIE_CACHE_DIR, { recursive: true });
  removeAbandonedTemps();
  // Built under a temporary name and renamed into place: a build that is killed leaves
  // at most a stray temp file (removed by the next build), never a half-written binary.
  const tmpBinary = path.join(RIE_CACHE_DIR, `.${BINARY_NAME}.${process.pid}.tmp`);
  const tmpRecord = `${tmpBinary}.json`;
  const started = Date.now();
  const build = spawnSync('go', ['build', '-buildvcs=false', '-o', tmpBinary, `.${path.sep}cmd${path.sep}${BINARY_NAME}`], {
    cwd: RIE_SOURCE,
    env: { ...process.env, CGO_ENABLED: '0' },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (build.error || build.status !== 0) {
    fs.rmSync(tmpBinary, { force: true });
    throw new Error(`Building the AWS Lambda Runtime Interface Emulator failed (go build in ${RIE_SOURCE}, ` +
      `${build.error?.message ?? `exit ${build.status}`}):\n${build.stderr}`);
  }
  const newRecord: BuildRecord = {
    source: RIE_SOURCE,
    sourceSha256,
    go: goVersion.stdout.trim(),
    buildSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  fs.writeFileSync(tmpRecord, JSON.stringify(newRecord, undefined, 2) + '\n');
  // The binary first: if the process dies between the renames, the old (or missing)
  // record does not match the source, and the next run builds again.
  fs.renameSync(tmpBinary, binary);
  fs.renameSync(tmpRecord, recordFile);
  return { path: binary, origin: 'built', description: describeBuild(binary, newRecord), buildSeconds: newRecord.buildSeconds };
}

function readRecord(file: string): BuildRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Temp files of builds whose process is gone (killed mid-build). */
function removeAbandonedTemps() {
  for (const name of fs.readdirSync(RIE_CACHE_DIR)) {
    const m = /^\.aws-lambda-rie\.(\d+)\.tmp(\.json)?$/.exec(name);
    if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(RIE_CACHE_DIR, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}

/** sha256 over every file's relative path and bytes, in a fixed order. */
function hashTree(root: string): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.isFile()) {
        hash.update(path.relative(root, full).split(path.sep).join('/')).update('\0').update(fs.readFileSync(full)).update('\0');
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------

/** How to start one function. */
export interface RieFunctionOptions {
  /** The unpacked function bundle: the stand-in for /var/task (LAMBDA_TASK_ROOT). */
  readonly codeDir: string;
  /** The function's handler, `module.function`. */
  readonly handler: string;
  /** The function's layers unpacked into one folder: the stand-in for /opt. */
  readonly layersDir?: string;
  /** The function's environment variables (on top of the ones Lambda defines). */
  readonly env?: Record<string, string>;
  /** The stand-in for /tmp; also TMPDIR. @default a new folder, removed by stop() */
  readonly tmpDir?: string;
  /** The function's timeout, for init and for each invocation (AWS_LAMBDA_FUNCTION_TIMEOUT). @default 60 */
  readonly timeoutSeconds?: number;
  /** Reported to the function as its memory size; nothing is limited. @default 512 */
  readonly memoryMb?: number;
  /** The Python that runs awslambdaric. @default TOOLS_PYTHON */
  readonly python?: string;
}

/** The emulator's answer to one invocation. */
export interface RieResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or the text when it is not JSON. */
  readonly body: any;
  /** The body as received. */
  readonly text: string;
}

/** What the bootstrap stand-in recorded at one init, before it handed over to awslambdaric. */
export interface InitReport {
  readonly pid: number;
  /** sys.path the function's code is imported with. */
  readonly sysPath: string[];
  /** PYTHONPATH as the function sees it (Lambda sets it to LAMBDA_RUNTIME_DIR). */
  readonly pythonpath: string | null;
  /** Top-level modules the runtime client had loaded from the venv before the function's code ran, with their files. */
  readonly preloaded: Record<string, string>;
  /**
   * Names among `preloaded` that the bundle or a layer also ships: the function gets the
   * runtime client's copy, because it is already in sys.modules (as on Lambda, whose
   * runtime loads its own copies first too).
   */
  readonly masked: string[];
}

/** The bootstrap stand-in is written with these paths filled in. */
function bootstrapSource(optDir: string, reportsDir: string): string {
  return `# Written by possum-cdk's test/helpers/rie.ts for one emulated function: it stands in
# for the Python runtime's bootstrap in /var/runtime, which the emulator starts as the
# runtime process. Like Lambda's, it loads the runtime client first, then puts the task
# root and the layer folders in front of sys.path, processes their .pth files, sets
# PYTHONPATH to the runtime folder and hands over to awslambdaric.
#
# Unlike Lambda, the interpreter is the test tools' venv, whose site-packages holds
# awslambdaric and much else. That folder is taken off sys.path before the function's
# code is imported, so the function finds only its bundle, its layers and the standard
# library, and a dependency missing from the bundle fails as it would on Lambda.
import json
import os
import site
import sys

sys.dont_write_bytecode = True  # /var/task is read-only on Lambda: no __pycache__ there

import awslambdaric.__main__ as ric_main  # noqa: E402  (the runtime client and its dependencies)
import awslambdaric.bootstrap  # noqa: E402,F401
import importlib.machinery  # noqa: E402

OPT = ${JSON.stringify(optDir)}
REPORTS = ${JSON.stringify(reportsDir)}
RUNTIME_DIR = os.path.dirname(os.path.realpath(__file__))
TASK_ROOT = os.environ["LAMBDA_TASK_ROOT"]
PYTHONPATH_SET = "PYTHONPATH" in os.environ
PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def under(p, roots):
    real = os.path.realpath(p)
    return any(real == r or real.startswith(r + os.sep) for r in roots)


BASES = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}


def standard_library(p):
    parts = os.path.realpath(p).split(os.sep)
    return under(p, BASES) and "site-packages" not in parts and "dist-packages" not in parts


function_dirs = [TASK_ROOT]
if not PYTHONPATH_SET:
    # Lambda adds the layer folders only when the function does not set PYTHONPATH.
    function_dirs += [
        os.path.join(OPT, "python", "lib", "python%d.%d" % sys.version_info[:2], "site-packages"),
        os.path.join(OPT, "python"),
    ]
startup_path = [p for p in sys.path if p and os.path.realpath(p) != RUNTIME_DIR]
kept = [p for p in startup_path if p in PYTHONPATH or standard_library(p)]
removed = [os.path.realpath(p) for p in startup_path if p not in kept]
sys.path[:] = function_dirs + [RUNTIME_DIR] + kept
for d in function_dirs:
    # Runs the folder's .pth files. A folder that does not exist (no layer) is not known
    # to site, so it is appended to sys.path a second time, as Lambda's sys.path shows too.
    site.addsitedir(d)
if not PYTHONPATH_SET:
    os.environ["PYTHONPATH"] = RUNTIME_DIR
os.environ.setdefault("AWS_EXECUTION_ENV", "AWS_Lambda_python%d.%d" % sys.version_info[:2])

preloaded = {}
for name, module in list(sys.modules.items()):
    file = getattr(module, "__file__", None)
    if "." not in name and file and under(file, removed):
        preloaded[name] = file
masked = sorted(n for n in preloaded if importlib.machinery.PathFinder.find_spec(n, function_dirs) is not None)
report = {"pid": os.getpid(), "sysPath": list(sys.path), "pythonpath": os.environ.get("PYTHONPATH"),
          "preloaded": preloaded, "masked": masked}
with open(os.path.join(REPORTS, "%d.json.tmp" % os.getpid()), "w") as f:
    json.dump(report, f)
os.rename(os.path.join(REPORTS, "%d.json.tmp" % os.getpid()), os.path.join(REPORTS, "%d.json" % os.getpid()))

ric_main.main([TASK_ROOT, os.environ["_HANDLER"]])
`;
}

const RUNNING = new Set<RieFunction>();
process.on('exit', () => {
  for (const fn of RUNNING) fn.killNow();
});

/**
 * One function in its own emulator on 127.0.0.1. The emulator starts the runtime (the
 * bootstrap stand-in, then awslambdaric) at the first invocation, as Lambda's on-demand
 * init does, and again after the runtime failed or exited. It takes one invocation at a time.
 */
export class RieFunction {
  public static async start(options: RieFunctionOptions): Promise<RieFunction> {
    const python = options.python ?? TOOLS_PYTHON;
    if (!isExecutable(python)) {
      throw new Error(`${python} is not there; run \`npx projen install-tools\` to create the tools venv with awslambdaric.`);
    }
    for (const [label, dir] of [['codeDir', options.codeDir], ['layersDir', options.layersDir]] as const) {
      if (dir !== undefined && !fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new Error(`${label} ${dir} is not a folder.`);
      }
    }
    const binary = rieBinary();
    let lastError: Error | undefined;
    // Free ports are found by binding port 0 and letting go; another process can take one
    // in between, so a start that loses its port is retried on new ones.
    for (let attempt = 0; attempt < 3; attempt++) {
      const fn = new RieFunction(options, binary, python, await freePort(), await freePort());
      try {
        await fn.waitReady();
        return fn;
      } catch (e: any) {
        lastError = e;
        await fn.stop();
        if (!/address already in use/i.test(fn.logs)) break;
      }
    }
    throw lastError!;
  }

  /** The emulator's address, host:port. */
  public readonly address: string;
  /** The Runtime API address the emulator serves to the runtime, host:port. */
  public readonly runtimeApiAddress: string;
  /** The stand-in for /tmp. */
  public readonly tmpDir: string;
  /** The stand-in for /var/runtime (LAMBDA_RUNTIME_DIR), holding the bootstrap stand-in. */
  public readonly runtimeDir: string;
  private readonly scratch: string;
  private readonly reportsDir: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitInfo?: string;
  private out = '';
  private err = '';
  private all = '';

  private constructor(private readonly options: RieFunctionOptions, binary: string, python: string, port: number, apiPort: number) {
    this.address = `127.0.0.1:${port}`;
    this.runtimeApiAddress = `127.0.0.1:${apiPort}`;
    this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'possum-rie-'));
    this.runtimeDir = path.join(this.scratch, 'runtime');
    this.reportsDir = path.join(this.scratch, 'reports');
    this.tmpDir = options.tmpDir ?? path.join(this.scratch, 'tmp');
    for (const d of [this.runtimeDir, this.reportsDir, this.tmpDir]) fs.mkdirSync(d, { recursive: true });
    const codeDir = path.resolve(options.codeDir);
    // Without layers the /opt stand-in is an empty folder, as /opt is on Lambda.
    const optDir = path.resolve(options.layersDir ?? path.join(this.scratch, 'opt'));
    fs.mkdirSync(optDir, { recursive: true });
    const bootstrap = path.join(this.runtimeDir, 'bootstrap.py');
    fs.writeFileSync(bootstrap, bootstrapSource(optDir, this.reportsDir));

    // Built from nothing rather than from this process's environment, so that neither the
    // developer's PYTHONPATH or virtualenv nor real AWS credentials reach the function.
    // The emulator passes its whole environment on to the runtime.
    const timeout = options.timeoutSeconds ?? 60;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      TMPDIR: this.tmpDir,
      LD_LIBRARY_PATH: [codeDir, path.join(codeDir, 'lib'), path.join(optDir, 'lib'), process.env.LD_LIBRARY_PATH]
        .filter(Boolean).join(':'),
      LAMBDA_TASK_ROOT: codeDir,
      LAMBDA_RUNTIME_DIR: this.runtimeDir,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'possum-rie-test',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 512),
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(timeout),
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/possum-rie-test',
      AWS_LAMBDA_LOG_STREAM_NAME: 'possum-rie-test',
      LOG_LEVEL: 'info',
      ...options.env,
    };
    this.child = spawn(binary, [
      '--runtime-interface-emulator-address', this.address,
      '--runtime-api-address', this.runtimeApiAddress,
      // The emulator runs everything after its own options as the runtime; the last
      // argument is the handler (it becomes _HANDLER).
      python, bootstrap, options.handler,
    ], { cwd: codeDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', d => { this.out += d; this.all += d; });
    this.child.stderr!.on('data', d => { this.err += d; this.all += d; });
    this.exited = new Promise(resolve => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        RUNNING.delete(this);
        resolve();
      });
      this.child.on('error', e => {
        this.exitInfo = `could not start: ${e.message}`;
        RUNNING.delete(this);
        resolve();
      });
    });
    RUNNING.add(this);
  }

  /** Everything the emulator and the runtime wrote (the function's log), in arrival order. */
  public get logs(): string {
    return this.all;
  }

  /** What was written to stdout: the emulator's START/END/REPORT lines and the function's prints. */
  public get stdout(): string {
    return this.out;
  }

  /** What was written to stderr: the emulator's own log and the runtime client's. */
  public get stderr(): string {
    return this.err;
  }

  /** One entry per runtime start (init) so far, oldest first. */
  public inits(): InitReport[] {
    return fs.readdirSync(this.reportsDir)
      .filter(f => f.endsWith('.json'))
      .map(f => ({ file: path.join(this.reportsDir, f), mtime: fs.statSync(path.join(this.reportsDir, f)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime)
      .map(r => JSON.parse(fs.readFileSync(r.file, 'utf8')) as InitReport);
  }

  /** Sends one invocation (the event as JSON) and returns the emulator's answer. */
  public invoke(event: unknown, opts: { timeoutMs?: number } = {}): Promise<RieResponse> {
    const payload = Buffer.from(JSON.stringify(event) ?? 'null');
    const timeoutMs = opts.timeoutMs ?? ((this.options.timeoutSeconds ?? 60) * 2 + 10) * 1000;
    const [host, port] = this.address.split(':');
    return new Promise((resolve, reject) => {
      const req = http.request({
        host,
        port: Number(port),
        method: 'POST',
        path: INVOKE_PATH,
        headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length },
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch { /* not JSON: the text */ }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from the emulator within ${timeoutMs} ms; its log:\n${this.all}`)));
      req.on('error', e => reject(new Error(`invoking ${this.address} failed: ${e.message}; the emulator's log:\n${this.all}`)));
      req.end(payload);
    });
  }

  /**
   * Stops the emulator: SIGTERM (it kills the runtime with SIGKILL and exits), then
   * SIGKILL after a few seconds. Runtime processes still alive after that (the runtime
   * runs in its own process group) are killed by the pids they recorded. Removes the
   * helper's folders, and the /tmp stand-in unless it was given.
   */
  public async stop(): Promise<void> {
    if (this.exitInfo === undefined) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    for (const r of this.safeInits()) {
      if (processAlive(r.pid)) {
        try {
          process.kill(r.pid, 'SIGKILL');
        } catch { /* gone meanwhile */ }
      }
    }
    if (!process.env.POSSUM_KEEP_TEST_DIRS) {
      fs.rmSync(this.scratch, { recursive: true, force: true });
    }
  }

  /** For the process 'exit' hook: synchronous, so only signals. */
  public killNow() {
    this.signal('SIGKILL');
    for (const r of this.safeInits()) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }

  private safeInits(): InitReport[] {
    try {
      return this.inits();
    } catch {
      return [];
    }
  }

  private signal(sig: NodeJS.Signals) {
    if (this.exitInfo !== undefined || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, sig); // the emulator's own process group (detached)
    } catch {
      try {
        this.child.kill(sig);
      } catch { /* already gone */ }
    }
  }

  /**
   * Ready once the emulator answers HTTP on its port. The probe asks for a path the
   * emulator does not serve, because any request to the invocations path (whatever its
   * method) is an invocation and would start the function.
   */
  private async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitInfo !== undefined) {
        throw new Error(`the emulator ${this.exitInfo} before it was ready; its log:\n${this.all}`);
      }
      if (await this.probe()) return;
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error(`the emulator did not answer on ${this.address} within ${timeoutMs} ms; its log:\n${this.all}`);
  }

  private probe(): Promise<boolean> {
    const [host, port] = this.address.split(':');
    return new Promise(resolve => {
      const req = http.get({ host, port: Number(port), path: '/possum-rie-ready', timeout: 1_000 }, res => {
        res.resume();
        // Go's default mux answers an unknown path with 404: it is this emulator (a
        // stranger on the port would also have made ours exit, which waitReady sees).
        res.on('end', () => resolve(res.statusCode === 404 && this.exitInfo === undefined));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

if (require.main === module) {
  // `ts-node test/helpers/rie.ts`: build (or find) the emulator and say which one it is.
  try {
    const info = rieBinaryInfo();
    const took = info.buildSeconds !== undefined ? `, built in ${info.buildSeconds} s` : '';
    process.stdout.write(`aws-lambda-rie: ${info.description}${took}\n`);
  } catch (e: any) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  }
}
