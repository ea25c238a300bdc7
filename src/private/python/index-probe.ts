/**
 * Child-process entry that asks package indexes for one project's page (PEP 503), as the
 * installers would reach them: with the URL's credentials, through the proxies their
 * environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; pip's `proxy` in their place, as
 * for uv), trusting what they trust. installer.ts runs it with spawnSync (its callers are
 * synchronous) when an installer's words leave the cause of a failure open.
 *
 * The job (JSON on stdin): { urls, project, authorities, proxy? }. The answer (one JSON line
 * on stdout): { statuses }, one per URL: the HTTP status, 0 when the index could not be
 * reached, -1 when a certificate was not trusted or a proxy could not be used (which says
 * nothing about the project), -2 when the proxy refused its credentials (407).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as tls from 'tls';
import { answerJsonJob } from '../json-job';
import { proxyAgents, withPipProxy } from '../proxy';

export interface ProbeJob {
  readonly urls: readonly string[];
  /** The project's normalized name. */
  readonly project: string;
  /** CA bundles trusted as well as Node.js's roots. */
  readonly authorities: readonly string[];
  /** pip's `proxy`, for both schemes where the environment names none. */
  readonly proxy?: string;
}

/** The statuses, one per URL (see above). */
export async function probeIndexes(job: ProbeJob, env: NodeJS.ProcessEnv = process.env): Promise<number[]> {
  const ca = [...tls.rootCertificates];
  for (const file of job.authorities) {
    try {
      ca.push(fs.readFileSync(file, 'utf8'));
    } catch {
      // An unreadable bundle adds nothing; the installer reports it in its own words.
    }
  }
  const proxied = withPipProxy(env, job.proxy);
  let agents: { httpsAgent?: https.Agent; httpAgent?: http.Agent };
  try {
    agents = proxyAgents(ca, proxied);
  } catch {
    return job.urls.map(() => -1); // a proxy this cannot use (socks5://): the installer's words stand
  }
  const httpsAgent = agents.httpsAgent ?? new https.Agent({ ca });
  try {
    return await Promise.all(job.urls.map(url => ask(url, job.project, httpsAgent, agents.httpAgent)));
  } finally {
    // One question each: no connection is kept for another.
    httpsAgent.destroy();
    agents.httpAgent?.destroy();
  }
}

function ask(raw: string, project: string, httpsAgent: https.Agent, httpAgent: http.Agent | undefined): Promise<number> {
  return new Promise(resolve => {
    try {
      const url = new URL(`${raw.replace(/\/?$/, '/')}${project}/`);
      const headers: Record<string, string> = {};
      if (url.username || url.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      }
      const secure = url.protocol === 'https:';
      const request = (secure ? https : http).get({
        // http.get wants an IPv6 literal without its brackets.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: url.pathname + url.search,
        headers,
        timeout: 10_000,
        agent: secure ? httpsAgent : httpAgent,
      }, response => {
        response.resume();
        // A proxy's own refusal or failure is not the index's answer.
        if (response.statusCode === 407) resolve(-2);
        else resolve(httpAgent && !secure && response.statusCode === 502 ? -1 : response.statusCode ?? 0);
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (e: any) => {
        const code = String(e?.code ?? '');
        const message = String(e?.message ?? '');
        // A certificate not trusted here, or a proxy that would not open a tunnel, says nothing
        // about the project.
        if (message.startsWith('the proxy ') && / 407\b/.test(message)) resolve(-2);
        else resolve(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || message.startsWith('the proxy ') ? -1 : 0);
      });
    } catch {
      resolve(0);
    }
  });
}

if (require.main === module) {
  void answerJsonJob<ProbeJob, { statuses: number[] }>(async job => ({ statuses: await probeIndexes(job) }));
}
