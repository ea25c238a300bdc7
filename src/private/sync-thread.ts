import { MessageChannel, MessagePort, receiveMessageOnPort, SHARE_ENV, Worker, workerData } from 'worker_threads';

/**
 * A worker thread that synchronous code calls and waits for: the bundler is synchronous
 * (CDK's local bundling is), but the zip engine and the AWS SDK are asynchronous. The thread
 * is started on the first call and kept for the process (unreferenced, so it never keeps the
 * process alive), so whatever it loads is loaded once. A call posts the request on a port and
 * blocks on a shared flag until the thread answers on that port.
 *
 * The calling thread's event loop is blocked meanwhile, so a thread that died (out of memory,
 * say) or never started can only be noticed by its silence: the thread beats a heartbeat into
 * the shared memory every second, and a heartbeat a minute old ends the wait.
 */
export class SyncThread {
  private thread?: { readonly worker: Worker; readonly port: MessagePort; readonly flags: Int32Array };

  /**
   * @param script the thread's compiled script (see compiledScript), which calls serveSync
   * @param what the thread, for errors ("The zip engine thread")
   * @param limitSeconds the longest one call may take, if any
   * @param ownEnvironment give the thread a copy of the environment rather than the process's
   *        own (SHARE_ENV), for a thread that is handed its caller's environment with each call
   */
  constructor(private readonly script: () => string, private readonly what: string, private readonly limitSeconds?: number,
    private readonly ownEnvironment = false) {}

  /** Starts the thread, if it is not running, without waiting for it. */
  public prepare() {
    this.thread ??= this.start();
  }

  /**
   * The thread's answer to `request`.
   * @throws Error when the thread cannot be started, stops answering, or answers nothing
   */
  public call(request: unknown): any {
    const t = this.thread ??= this.start();
    // [0]: set to 1 when the answer is on the port; [1]: the thread's last heartbeat, in seconds.
    Atomics.store(t.flags, 0, 0);
    const started = Date.now() / 1000;
    Atomics.store(t.flags, 1, Math.floor(started));
    t.port.postMessage(request);
    while (Atomics.wait(t.flags, 0, 0, 1000) === 'timed-out') {
      const now = Date.now() / 1000;
      if (now - Atomics.load(t.flags, 1) > 60 || (this.limitSeconds !== undefined && now - started > this.limitSeconds)) {
        this.stop();
        throw new Error(`${this.what} stopped answering`);
      }
    }
    const answer = receiveMessageOnPort(t.port);
    if (!answer) {
      this.stop();
      throw new Error(`${this.what} answered nothing`);
    }
    return answer.message;
  }

  private start() {
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    // Unless the thread has its own, the process's environment is shared: a variable set later is seen by the thread too.
    const env = this.ownEnvironment ? { ...process.env } : SHARE_ENV;
    const worker = new Worker(this.script(), { workerData: { port: port2, flags }, transferList: [port2], env });
    worker.unref();
    port1.unref();
    return { worker, port: port1, flags };
  }

  private stop() {
    if (this.thread) void this.thread.worker.terminate();
    this.thread = undefined;
  }
}

/**
 * The thread side of a SyncThread: answers each request with `handle`'s result, or with
 * `{ ok: false, error }` when it throws, then wakes the caller; beats the heartbeat meanwhile.
 */
export function serveSync(handle: (request: any) => Promise<object>) {
  const { port, flags } = workerData as { port: MessagePort; flags: Int32Array };
  const beat = () => Atomics.store(flags, 1, Math.floor(Date.now() / 1000));
  setInterval(beat, 1000).unref();
  const answer = (message: object) => {
    port.postMessage(message);
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
  };
  port.on('message', (request: unknown) => {
    beat();
    let pending: Promise<object>;
    try {
      pending = handle(request);
    } catch (e: any) {
      pending = Promise.reject(e);
    }
    pending.then(answer, (e: any) => answer({ ok: false, error: e?.message ?? String(e) }));
  });
}
