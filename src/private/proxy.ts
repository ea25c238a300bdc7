/**
 * HTTP(S) proxies for possum-cdk's own S3 traffic, found as the AWS CLI (botocore, through
 * Python's urllib) finds them: `https_proxy`/`HTTPS_PROXY` for https endpoints (a CONNECT
 * tunnel), `http_proxy`/`HTTP_PROXY` for http ones (requests in absolute form), and
 * `no_proxy`/`NO_PROXY` for hosts that are reached directly. The AWS SDK for JavaScript
 * reads none of these, so without this a network that only lets traffic out through its
 * proxy would let the installers (which read them) through, and not the uploads.
 */
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import { Duplex } from 'stream';
import * as tls from 'tls';

/** A proxy, and the variable that named it (for messages). */
export interface ProxySetting {
  readonly url: URL;
  readonly from: string;
}

/**
 * The environment's proxy variables as Python's urllib reads them for botocore: any
 * `<scheme>_proxy` whatever its case; where two spell the same scheme, the one in lowercase
 * letters wins, and a lowercase one that is empty switches that scheme's proxy off.
 * @returns scheme (`http`, `https`, `no`, ...) to its value and the variable it came from
 */
export function environmentProxies(env: NodeJS.ProcessEnv = process.env): Map<string, { readonly value: string; readonly from: string }> {
  const found = new Map<string, { value: string; from: string }>();
  for (const [name, value] of Object.entries(env)) {
    if (value && name.toLowerCase().endsWith('_proxy')) found.set(name.toLowerCase().slice(0, -6), { value, from: name });
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_proxy')) continue;
    const scheme = name.toLowerCase().slice(0, -6);
    if (value) found.set(scheme, { value, from: name });
    else found.delete(scheme);
  }
  return found;
}

/**
 * The environment as pip's `proxy` setting makes it, for a client that reads the environment
 * (uv, index-probe.ts) and is to reach pip's index as pip does. pip passes its proxy with
 * every request, and requests lets that win over the environment: HTTP(S)_PROXY and NO_PROXY
 * no longer count (checked with pip 23.2). Both spellings are set, because readers
 * differ on which wins when both are there (urllib and environmentProxies take the lowercase
 * one, uv the uppercase one).
 */
export function withPipProxy(env: NodeJS.ProcessEnv, proxy: string | undefined): NodeJS.ProcessEnv {
  if (!proxy) return env;
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!/^(https?|no)_proxy$/i.test(name)) out[name] = value;
  }
  for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) out[name] = proxy;
  return out;
}

/**
 * The proxy for one scheme (see environmentProxies). A value without a scheme is an http://
 * proxy, as botocore takes it.
 * @throws Error naming the variable when its value is not an http:// or https:// proxy URL
 */
export function proxyFor(scheme: 'http' | 'https', env: NodeJS.ProcessEnv = process.env): ProxySetting | undefined {
  const named = environmentProxies(env).get(scheme);
  if (!named) return undefined;
  const value = named.value.trim();
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new Error(`${named.from}=${redactValue(value)} is not a proxy possum-cdk can use for S3: give an http:// or https:// URL ` +
      '(http://[user:password@]host:port), or unset it.');
  }
  return { url, from: named.from };
}

/**
 * Whether a host is reached without the proxy: `no_proxy`/`NO_PROXY` is `*`, or one of its
 * comma-separated names is the host (with or without `:port`) or a domain the host is in
 * (`example.com` and `.example.com` both cover `s3.example.com`), as urllib decides.
 */
export function bypassesProxy(host: string, port: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const list = environmentProxies(env).get('no')?.value ?? '';
  if (list === '*') return true;
  const hostOnly = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const hostPort = `${hostOnly}:${port}`;
  for (const entry of list.split(',')) {
    const name = entry.trim().replace(/^\.+/, '').toLowerCase();
    if (!name) continue;
    if (hostOnly === name || hostPort === name) return true;
    if (hostOnly.endsWith(`.${name}`) || hostPort.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * Agents for an S3 client that go through the proxies the environment names: an https agent
 * that tunnels (CONNECT) and an http agent that forwards, each connecting directly to hosts
 * NO_PROXY names. Neither is made when its variable is unset.
 * @param ca the certificates to trust for the S3 endpoint and an https:// proxy (default: Node.js's)
 */
export function proxyAgents(ca?: string[], env: NodeJS.ProcessEnv = process.env): { httpsAgent?: https.Agent; httpAgent?: http.Agent } {
  const secure = proxyFor('https', env);
  const plain = proxyFor('http', env);
  return {
    httpsAgent: secure && new TunnellingAgent(secure, env, { ca, keepAlive: true, maxSockets: 50 }),
    httpAgent: plain && new ForwardingAgent(plain, env, ca, { keepAlive: true, maxSockets: 50 }),
  };
}

/** How long a proxy may take to connect and answer CONNECT. */
const CONNECT_TIMEOUT_MS = 30_000;

/** An https agent whose connections are TLS inside a CONNECT tunnel through the proxy. */
class TunnellingAgent extends https.Agent {
  constructor(private readonly proxy: ProxySetting, private readonly env: NodeJS.ProcessEnv, private readonly tlsOptions: https.AgentOptions) {
    super(tlsOptions);
  }

  // Node.js's Agent calls this with the request's options and a callback; a socket returned
  // is used at once, and undefined means the callback will be called.
  public createConnection(options: any, callback?: (error: Error | null, stream: Duplex) => void): Duplex | undefined {
    const host = String(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port) || 443;
    if (bypassesProxy(host, port, this.env)) return (https.Agent.prototype as any).createConnection.call(this, options, callback);
    const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
    const raw = connectToProxy(this.proxy, this.tlsOptions.ca);
    let done = false;
    const finish = (error: Error | null, socket?: Duplex) => {
      if (done) return;
      done = true;
      callback?.(error, socket!);
    };
    raw.once('error', e => finish(new Error(`${describeProxy(this.proxy)} could not be reached to open a tunnel to ${target}: ${e.message}. ` +
      `Check ${this.proxy.from}, ${connectDirectly(host)}`)));
    // A proxy that hangs up, or never answers, would otherwise leave the request waiting: the
    // request has no socket of its own to time out until the tunnel is open.
    raw.setTimeout(CONNECT_TIMEOUT_MS, () => raw.destroy(new Error(`no answer to CONNECT in ${CONNECT_TIMEOUT_MS / 1000} s`)));
    raw.once('close', () => finish(new Error(`${describeProxy(this.proxy)} closed the connection instead of opening a tunnel to ${target}. ` +
      `Check ${this.proxy.from}, ${connectDirectly(host)}`)));
    raw.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorizationHeader(this.proxy)}\r\n`);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 65536) raw.destroy(new Error('the proxy\'s answer to CONNECT has no end'));
        return;
      }
      raw.removeListener('data', onData);
      raw.setTimeout(0);
      raw.pause();
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!/^HTTP\/1\.[01] 2\d\d\b/.test(status)) {
        raw.destroy();
        finish(new Error(`${describeProxy(this.proxy)} refused to open a tunnel to ${target}: ${status.replace(/^HTTP\/1\.[01] /, '')}. ` +
          `${/ 407\b/.test(status) ? `Check the user and password in ${this.proxy.from} (http://user:password@host:port)` : `Check ${this.proxy.from}`}, ` +
          connectDirectly(host)));
        return;
      }
      // Nothing follows a proxy's 200 until the TLS hello is sent; the TLS socket takes over
      // the connection from here. (`path` is the request's, not a socket's.)
      const { path: _path, ...rest } = options;
      const secure = tls.connect({ ...rest, socket: raw, servername: options.servername ?? (net.isIP(host) ? undefined : host) });
      finish(null, secure);
    };
    raw.on('data', onData);
    return undefined;
  }
}

/** An http agent that sends each request, in absolute form, to the proxy. */
class ForwardingAgent extends http.Agent {
  constructor(private readonly proxy: ProxySetting, private readonly env: NodeJS.ProcessEnv, private readonly ca: string[] | undefined,
    agentOptions: http.AgentOptions) {
    super(agentOptions);
  }

  // The request's first line is written after this, so its path can still become a URL.
  public addRequest(request: http.ClientRequest, options: any): void {
    const host = String(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port) || 80;
    if (!bypassesProxy(host, port, this.env)) {
      request.path = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}${request.path}`;
      const authorization = proxyAuthorization(this.proxy);
      if (authorization) request.setHeader('Proxy-Authorization', authorization);
      options = { ...options, host: this.proxy.url.hostname.replace(/^\[(.*)\]$/, '$1'), port: proxyPort(this.proxy), viaProxyTo: host };
    }
    (http.Agent.prototype as any).addRequest.call(this, request, options);
  }

  public createConnection(options: any, callback?: (error: Error | null, stream: Duplex) => void): Duplex | undefined {
    if (!options.viaProxyTo) return (http.Agent.prototype as any).createConnection.call(this, options, callback);
    const socket = connectToProxy(this.proxy, this.ca);
    // The request reports its socket's error as it is: said here, it names the proxy, not
    // just an address and a code. (This listener comes first, so the request sees the words.)
    socket.once('error', (e: any) => {
      e.message = `${describeProxy(this.proxy)} could not be reached: ${e.message}. ` +
        `Check ${this.proxy.from}, ${connectDirectly(options.viaProxyTo)}`;
    });
    return socket;
  }
}

function connectToProxy(proxy: ProxySetting, ca: unknown): net.Socket {
  const host = proxy.url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = proxyPort(proxy);
  return proxy.url.protocol === 'https:'
    ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: ca as string[] | undefined })
    : net.connect({ host, port });
}

function proxyPort(proxy: ProxySetting): number {
  return Number(proxy.url.port) || (proxy.url.protocol === 'https:' ? 443 : 80);
}

function proxyAuthorization(proxy: ProxySetting): string | undefined {
  if (!proxy.url.username && !proxy.url.password) return undefined;
  const credentials = `${decodeURIComponent(proxy.url.username)}:${decodeURIComponent(proxy.url.password)}`;
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

function authorizationHeader(proxy: ProxySetting): string {
  const authorization = proxyAuthorization(proxy);
  return authorization ? `Proxy-Authorization: ${authorization}\r\n` : '';
}

/** The last words of a proxy's error: the way round it. */
export function connectDirectly(host: string): string {
  return `or name ${host} in NO_PROXY to connect directly`;
}

/** The proxy as messages name it: its URL without the password, and where it came from. */
export function describeProxy(proxy: ProxySetting): string {
  return `the proxy ${redactValue(proxy.url.href.replace(/\/$/, ''))} (from ${proxy.from})`;
}

/**
 * The credentials of a proxy URL hidden: a password (everything up to the last `@`, which
 * an unencoded `/` or `@` in it does not end), and a user given without one (a token, as
 * pip takes it).
 */
function redactValue(value: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/|\/\/)?(.*)@([^@]*)$/i.exec(value);
  if (!m) return value;
  const [, start = '', userinfo, rest] = m;
  const colon = userinfo.indexOf(':');
  return `${start}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@${rest}`;
}
