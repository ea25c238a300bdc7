import { ChildProcess, spawn } from 'child_process';
import type { BundleJob, BundleJobResult } from './bundle-worker';
import { compiledScript } from './compiled-script';
import { nodeChildEnvironment } from './node-child';
import type { ZipReport } from './zip/engine';

/** A bundle a worker built (or found): its report, and its problems with the remote cache. */
export interface PooledBundle {
  readonly report: ZipReport;
  readonly warnings: string[];
}

/**
 * Long-lived bundle workers (child processes), each building one bundle at a time: a job
 * goes to an idle worker, or to a new one. Each worker is a Node.js start and the loading of
 * every module saved per bundle after its first.
 */
export class BundlePool {
  private readonly idle: BundleWorker[] = [];
  private readonly all: BundleWorker[] = [];

  /**
   * Starts `count` workers ahead of their first jobs.
   * @param tls whether their jobs use the remote cache (see BundleWorker)
   */
  public prestart(count: number, tls: boolean) {
    while (this.all.length < count) {
      const worker = new BundleWorker(tls);
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  public run(job: BundleJob): Promise<PooledBundle> {
    const tls = job.request.remoteCache !== undefined;
    const at = this.idle.findIndex(w => w.tls || !tls);
    let worker = at >= 0 ? this.idle.splice(at, 1)[0] : undefined;
    if (!worker) {
      worker = new BundleWorker(tls);
      this.all.push(worker);
    }
    const chosen = worker;
    return chosen.run(job).finally(() => {
      if (chosen.alive) this.idle.push(chosen);
    });
  }

  /** Closes every worker's stdin: each ends after the job it is on, if any. */
  public close() {
    for (const w of this.all.splice(0)) w.end();
    this.idle.splice(0);
  }
}

class BundleWorker {
  public alive = true;
  private readonly child: ChildProcess;
  private pending = '';
  private current?: { label: string; resolve: (r: PooledBundle) => void; reject: (e: Error) => void };

  /**
   * @param tls whether the worker talks to S3 itself (the remote cache); otherwise it starts
   *            without the user's extra CA certificates to parse (see node-child.ts)
   */
  constructor(public readonly tls: boolean) {
    this.child = spawn(process.execPath, [compiledScript(__dirname, 'bundle-worker.js', 'The bundle worker')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: nodeChildEnvironment(process.env, tls),
    });
    this.child.stdout!.on('data', d => this.read(String(d)));
    this.child.on('error', e => this.fail(e));
    this.child.on('close', code => this.fail(new Error(`the bundler exited with code ${code} without a result.`)));
  }

  public run(job: BundleJob): Promise<PooledBundle> {
    return new Promise((resolve, reject) => {
      this.current = { label: job.request.label, resolve, reject };
      this.child.stdin!.write(JSON.stringify(job) + '\n');
    });
  }

  public end() {
    this.child.stdin!.end();
  }

  private read(text: string) {
    this.pending += text;
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const job = this.current;
      if (!line.trim() || !job) continue;
      this.current = undefined;
      let result: BundleJobResult;
      try {
        result = JSON.parse(line);
      } catch {
        job.reject(new Error(`${job.label}: the bundler answered something that is not a result: ${line.slice(0, 200)}`));
        continue;
      }
      if (result.ok && result.report) job.resolve({ report: result.report, warnings: result.warnings ?? [] });
      else job.reject(new Error(result.error ?? `${job.label}: the bundler failed.`));
    }
  }

  private fail(e: Error) {
    this.alive = false;
    const job = this.current;
    this.current = undefined;
    job?.reject(new Error(`${job.label}: ${e.message}`));
  }
}
