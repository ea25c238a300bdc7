import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * The Lambda Runtime API (2018-06-01), the interface a Lambda runtime client polls for
 * invocations, served on 127.0.0.1. With it the real `awslambdaric` from PyPI runs a
 * bundle the way Lambda's Python runtime does: it imports the handler from the task
 * folder during init, then takes invocations one at a time.
 */
interface Pending {
  readonly id: string;
  readonly event: unknown;
  readonly resolve: (value: { ok: boolean; body: any }) => void;
}

export class RuntimeApi {
  public static async start(): Promise<RuntimeApi> {
    const api = new RuntimeApi();
    await new Promise<void>(resolve => api.server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** Init failures reported by the runtime client. */
  public readonly initErrors: any[] = [];
  private readonly server: http.Server;
  private readonly queue: Pending[] = [];
  private readonly waiting: http.ServerResponse[] = [];
  private readonly inFlight = new Map<string, Pending>();
  private runtime?: ChildProcess;
  private runtimeLog = '';

  private constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  public get address(): string {
    const a = this.server.address() as AddressInfo;
    return `127.0.0.1:${a.port}`;
  }

  /** Starts `python -m awslambdaric HANDLER` in the task folder, as Lambda's bootstrap does. */
  public startRuntime(python: string, taskRoot: string, handler: string, env: NodeJS.ProcessEnv) {
    this.runtime = spawn(python, ['-m', 'awslambdaric', handler], {
      cwd: taskRoot,
      env: {
        ...process.env,
        ...env,
        AWS_LAMBDA_RUNTIME_API: this.address,
        LAMBDA_TASK_ROOT: taskRoot,
        _HANDLER: handler,
        AWS_LAMBDA_FUNCTION_NAME: 'possum-test',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.runtime.stdout!.on('data', d => { this.runtimeLog += d; });
    this.runtime.stderr!.on('data', d => { this.runtimeLog += d; });
  }

  /** What the runtime printed (its CloudWatch log, in Lambda). */
  public get log(): string {
    return this.runtimeLog;
  }

  /** Sends one invocation and waits for the runtime's response or error. */
  public invoke(event: unknown, timeoutMs = 60_000): Promise<{ ok: boolean; body: any }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms; runtime log:\n${this.runtimeLog}`)), timeoutMs);
      const pending: Pending = {
        id: crypto.randomUUID(),
        event,
        resolve: v => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      this.queue.push(pending);
      this.dispatch();
    });
  }

  public async stop() {
    this.runtime?.kill('SIGKILL');
    for (const res of this.waiting.splice(0)) res.destroy();
    this.server.closeAllConnections?.();
    await new Promise(resolve => this.server.close(resolve));
  }

  private dispatch() {
    while (this.queue.length && this.waiting.length) {
      const next = this.queue.shift()!;
      const res = this.waiting.shift()!;
      this.inFlight.set(next.id, next);
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Aws-Request-Id': next.id,
        'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:possum-test',
        'Lambda-Runtime-Trace-Id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
      });
      res.end(JSON.stringify(next.event));
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    let body = '';
    req.on('data', d => { body += d; });
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
        this.waiting.push(res);
        this.dispatch();
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && m) {
        const pending = this.inFlight.get(m[1]);
        this.inFlight.delete(m[1]);
        res.writeHead(202).end('{"status":"OK"}');
        pending?.resolve({ ok: m[2] === 'response', body: body ? JSON.parse(body) : undefined });
        return;
      }
      if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
        this.initErrors.push(body ? JSON.parse(body) : {});
        res.writeHead(202).end('{"status":"OK"}');
        for (const p of this.queue.splice(0)) p.resolve({ ok: false, body: { initError: JSON.parse(body || '{}') } });
        return;
      }
      res.writeHead(404).end();
    });
  }
}
