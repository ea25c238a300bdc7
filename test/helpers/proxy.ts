import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * proxy.py (from .tools/, pinned in .ci/python-tools.txt) on 127.0.0.1: a real HTTP proxy
 * that opens CONNECT tunnels and forwards absolute-form requests, asks for basic auth when
 * given credentials, and logs every request it passes on.
 */
export class HttpProxy {
  /**
   * @param credentials `user:password` the proxy requires
   * @param tls a certificate and key: the proxy itself is reached over https
   * @param refuseHosts hosts (comma-separated) the proxy refuses to reach, answering 418 as a policy would
   */
  public static async start(dir: string, credentials?: string, tls?: { readonly cert: string; readonly key: string },
    refuseHosts?: string): Promise<HttpProxy> {
    fs.mkdirSync(dir, { recursive: true });
    const portFile = path.join(dir, 'port');
    const log = path.join(dir, 'access.log');
    const server = spawn(path.join(__dirname, '..', '..', '.tools', 'bin', 'proxy'), [
      '--hostname', '127.0.0.1', '--port', '0', '--port-file', portFile, '--num-workers', '1', '--num-acceptors', '1',
      '--log-file', log, '--log-level', 'INFO',
      ...credentials ? ['--basic-auth', credentials] : [],
      ...tls ? ['--cert-file', tls.cert, '--key-file', tls.key] : [],
      ...refuseHosts ? ['--plugins', 'proxy.plugin.FilterByUpstreamHostPlugin', '--filtered-upstream-hosts', refuseHosts] : [],
    ], { stdio: 'ignore' });
    for (let i = 0; !fs.existsSync(portFile) || !fs.readFileSync(portFile, 'utf8').trim(); i++) {
      if (i > 150 || server.exitCode !== null) {
        server.kill();
        throw new Error(`proxy.py did not start (see ${log})`);
      }
      await new Promise(r => setTimeout(r, 100));
    }
    const port = Number(fs.readFileSync(portFile, 'utf8').trim());
    return new HttpProxy(server, `${tls ? 'https' : 'http'}://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}`, log);
  }

  private constructor(private readonly server: ChildProcess, public readonly url: string, private readonly log: string) {}

  /**
   * What it passed on so far, as `CONNECT host:port` or `METHOD host:port/path`, in order.
   * proxy.py logs a request when its connection ends, which can be after the client already
   * has its answer: to check that a request went through, wait for it (`requestsOnceSeen`).
   */
  public requests(): string[] {
    const text = fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : '';
    return [...text.matchAll(/access_log:\d+ - \S+ - ([A-Z]+ \S+) - /g)].map(m => m[1]);
  }

  /**
   * The requests after the first `since`, once `seen` holds for them, or after 10 seconds
   * (then as they are, for the caller's assertion to show).
   */
  public async requestsOnceSeen(since: number, seen: (requests: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const requests = this.requests().slice(since);
      if (seen(requests) || Date.now() > deadline) return requests;
      await new Promise(r => setTimeout(r, 50));
    }
  }

  public stop() {
    this.server.kill();
  }
}
