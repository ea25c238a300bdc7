import * as https from 'https';
import * as net from 'net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { proxyFailureText, s3Connection } from '../../src/private/aws-config';
import { bypassesProxy, describeProxy, environmentProxies, proxyFor } from '../../src/private/proxy';
import { python } from '../helpers/run';

describe('proxies for S3 as the AWS CLI finds them', () => {
  test('the scheme\'s variable, lowercase first; a value without a scheme is an http:// proxy', () => {
    expect(proxyFor('https', { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' })).toEqual({ url: new URL('http://lower:3128'), from: 'https_proxy' });
    expect(proxyFor('https', { HTTPS_PROXY: 'proxy.corp:8080' })).toEqual({ url: new URL('http://proxy.corp:8080'), from: 'HTTPS_PROXY' });
    expect(proxyFor('https', { HTTP_PROXY: 'http://plain:3128' })).toBeUndefined();
    expect(proxyFor('http', { HTTP_PROXY: 'https://user:p%40ss@secure:443' })?.url.password).toBe('p%40ss');
    expect(proxyFor('http', { http_proxy: '' })).toBeUndefined();
  });

  test.each([
    ['socks5://user:secret@127.0.0.1:1080', 'socks5://user:***@127.0.0.1:1080'],
    ['http://', 'http://'],
    ['socks5://a-token@127.0.0.1:1080', 'socks5://***@127.0.0.1:1080'],
    ['http://u:pa/ss@127.0.0.1:1', 'http://u:***@127.0.0.1:1'],
    ['socks5://u:p@ss@127.0.0.1:1', 'socks5://u:***@127.0.0.1:1'],
    ['http://u:pa@ss@127.0.0.1:99999', 'http://u:***@127.0.0.1:99999'],
  ])('%s is an error naming the variable, without a password', (value, shown) => {
    expect(() => proxyFor('https', { HTTPS_PROXY: value })).toThrow(`HTTPS_PROXY=${shown} is not a proxy possum-cdk can use for S3`);
  });

  test('messages name the proxy without its password, and without a user given alone (a token, as pip takes it)', () => {
    const shown = (value: string) => describeProxy(proxyFor('https', { HTTPS_PROXY: value })!);
    expect(shown('http://me:p%40ss@proxy.corp:3128')).toBe('the proxy http://me:***@proxy.corp:3128 (from HTTPS_PROXY)');
    expect(shown('http://a-token@proxy.corp:3128/')).toBe('the proxy http://***@proxy.corp:3128 (from HTTPS_PROXY)');
    expect(shown('proxy.corp:3128')).toBe('the proxy http://proxy.corp:3128 (from HTTPS_PROXY)');
  });

  test('an S3 client gets agents only when a proxy or CA bundle asks for them', () => {
    const none = { AWS_REGION: 'eu-west-1' };
    expect(s3Connection(undefined, none)).toEqual({ region: 'eu-west-1', requestHandler: { connectionTimeout: 60_000, socketTimeout: 60_000 } });
    const tunnel = s3Connection(undefined, { ...none, HTTPS_PROXY: 'http://p:3128' });
    expect(tunnel.requestHandler?.httpsAgent.constructor.name).toBe('TunnellingAgent');
    expect(tunnel.requestHandler?.httpAgent).toBeUndefined();
    const forward = s3Connection(undefined, { ...none, HTTP_PROXY: 'http://p:3128' });
    expect(forward.requestHandler?.httpAgent?.constructor.name).toBe('ForwardingAgent');
    expect(forward.requestHandler?.httpsAgent.constructor.name).toBe('Agent');
  });

  test('a proxy that hangs up without answering CONNECT is an error naming it, not a request left waiting', async () => {
    const server = net.createServer(socket => socket.once('data', () => socket.destroy()));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { httpsAgent } = s3Connection(undefined, { HTTPS_PROXY: `http://user:secret@127.0.0.1:${port}` }).requestHandler as { httpsAgent: https.Agent };
      const error = await new Promise<Error>((resolve, reject) => {
        const request = https.get({ host: 's3.eu-west-1.amazonaws.com', port: 443, path: '/', agent: httpsAgent }, () => reject(new Error('answered')));
        // Without the check this test is about, the request would wait for ever: it has no
        // socket to time out, and destroying it would say nothing either.
        const timer = setTimeout(() => resolve(new Error('no answer within 5 s')), 5000);
        request.on('error', e => {
          clearTimeout(timer);
          resolve(e);
        });
      });
      expect(error.message).toBe(`the proxy http://user:***@127.0.0.1:${port} (from HTTPS_PROXY) closed the connection instead of opening a tunnel ` +
        'to s3.eu-west-1.amazonaws.com:443. Check HTTPS_PROXY, or name s3.eu-west-1.amazonaws.com in NO_PROXY to connect directly');
      httpsAgent.destroy();
    } finally {
      server.close();
    }
  });

  test('a server or http proxy that accepts and never answers fails the request when the connection stays silent', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer(socket => held.push(socket));
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
    silent.unref();
    const port = (silent.address() as net.AddressInfo).port;
    try {
      for (const env of [{}, { HTTP_PROXY: `http://127.0.0.1:${port}` }]) {
        const endpoint = 'HTTP_PROXY' in env ? 'http://127.0.0.1:9' : `http://127.0.0.1:${port}`;
        const s3 = new S3Client({
          ...s3Connection(undefined, { AWS_REGION: 'us-east-1', ...env }, { connectMs: 1000, silentMs: 1000 }),
          endpoint,
          forcePathStyle: true,
          maxAttempts: 1,
          credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        });
        const started = Date.now();
        // Without the limit the request would wait for ever: the test gives up after 10 s.
        const outcome = await Promise.race([
          s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' })).then(() => 'answered', (e: Error) => e.name),
          new Promise(resolve => setTimeout(resolve, 10_000, 'still waiting')),
        ]);
        expect({ env, outcome }).toEqual({ env, outcome: 'TimeoutError' });
        expect(Date.now() - started).toBeLessThan(5000);
        s3.destroy();
      }
    } finally {
      held.forEach(socket => socket.destroy());
      silent.close();
    }
  });

  test('a failure is put on the proxy only when the proxy caused it', () => {
    const env = { HTTP_PROXY: 'http://me:pw@proxy.corp:3128' };
    const fromProxy = { name: 'UnknownError', message: 'UnknownError', $metadata: { httpStatusCode: 403 } };
    const fromS3 = { name: 'SlowDown', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503, requestId: 'R1' } };
    expect(proxyFailureText(fromProxy, 'http://minio.corp:9000', env)).toBe('the proxy http://me:***@proxy.corp:3128 (from HTTP_PROXY) ' +
      'answered 403 itself (it refused the request or could not pass it on). Check HTTP_PROXY and what the proxy allows, or name minio.corp in NO_PROXY to connect directly');
    expect(proxyFailureText({ ...fromProxy, $metadata: { httpStatusCode: 407 } }, 'http://minio.corp:9000', env)).toContain('refused the request: 407');
    // S3 said who it is; the endpoint is reached directly; an https endpoint goes through a tunnel; no proxy at all.
    expect(proxyFailureText(fromS3, 'http://minio.corp:9000', env)).toBeUndefined();
    expect(proxyFailureText(fromProxy, 'http://minio.corp:9000', { ...env, NO_PROXY: '.corp' })).toBeUndefined();
    expect(proxyFailureText(fromProxy, 'https://minio.corp:9000', env)).toBeUndefined();
    expect(proxyFailureText(fromProxy, undefined, env)).toBeUndefined();
    expect(proxyFailureText(fromProxy, 'http://minio.corp:9000', {})).toBeUndefined();
    // The agents' own words are kept.
    expect(proxyFailureText(new Error('the proxy http://p:1 (from HTTPS_PROXY) refused to open a tunnel to x:443: 403 Forbidden'), undefined, {}))
      .toBe('the proxy http://p:1 (from HTTPS_PROXY) refused to open a tunnel to x:443: 403 Forbidden');
  });

  // Python's urllib decides for botocore, and so for the AWS CLI and `sam package`: each case
  // is checked against it, so the table cannot drift from the reference.
  const cases: Array<[string, string, number]> = [
    ['', 's3.amazonaws.com', 443],
    ['*', 's3.amazonaws.com', 443],
    ['amazonaws.com', 's3.amazonaws.com', 443],
    ['.amazonaws.com', 's3.eu-west-1.amazonaws.com', 443],
    ['..amazonaws.com', 's3.amazonaws.com', 443],
    ['AmazonAWS.com', 's3.amazonaws.com', 443],
    ['azonaws.com', 's3.amazonaws.com', 443],
    ['s3.amazonaws.com', 's3.amazonaws.com', 443],
    ['localhost, 127.0.0.1 ,.corp', '127.0.0.1', 9000],
    ['127.0.0.1:9000', '127.0.0.1', 9000],
    ['127.0.0.1:9001', '127.0.0.1', 9000],
    ['10.0.0.0/8', '10.1.2.3', 443],
    ['minio', 'minio.local', 9000],
    [' , ,', 'minio', 9000],
    ['*.corp.example', 's3.corp.example', 443],
    [' *', 's3.amazonaws.com', 443],
  ];
  test('NO_PROXY: the same answer as Python\'s urllib for each case', () => {
    const reference = JSON.parse(python([
      'import json, sys, urllib.request',
      `cases = json.loads(${JSON.stringify(JSON.stringify(cases))})`,
      'print(json.dumps([bool(urllib.request.proxy_bypass_environment(f"{h}:{p}", {"no": n})) for n, h, p in cases]))',
    ].join('\n')));
    const ours = cases.map(([list, host, port]) => bypassesProxy(host, port, { NO_PROXY: list }));
    expect(ours).toEqual(reference);
    // The table has both answers, so it can tell a wrong rule from a right one.
    expect(new Set(reference)).toEqual(new Set([true, false]));
  });

  test('the variables: the same proxies as Python\'s urllib finds in each environment', () => {
    const environments: NodeJS.ProcessEnv[] = [
      { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' },
      { https_proxy: '', HTTPS_PROXY: 'http://upper:1', http_proxy: '', HTTP_PROXY: 'http://upper:2' },
      { Https_Proxy: 'http://mixed:1', NO_PROXY: ' *' },
      { no_proxy: '', NO_PROXY: '127.0.0.1', HTTP_PROXY: 'proxy.corp:3128' },
      { HTTPS_proxy: 'http://odd:1', HTTPS_PROXY: 'http://upper:1' },
    ];
    // The machine's own proxy variables stay out of both sides.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().endsWith('_proxy')));
    for (const env of environments) {
      const reference = JSON.parse(python('import json, urllib.request\nprint(json.dumps(urllib.request.getproxies_environment()))', { env: { ...base, ...env } }));
      const ours = Object.fromEntries([...environmentProxies({ ...base, ...env })].map(([scheme, { value }]) => [scheme, value]));
      expect({ env, proxies: ours }).toEqual({ env, proxies: reference });
    }
    expect(proxyFor('https', { https_proxy: '', HTTPS_PROXY: 'http://upper:1' })).toBeUndefined();
    expect(proxyFor('https', { Https_Proxy: 'http://mixed:1' })?.from).toBe('Https_Proxy');
  });

  test('no_proxy (lowercase) wins over NO_PROXY', () => {
    expect(bypassesProxy('s3.amazonaws.com', 443, { no_proxy: 'amazonaws.com', NO_PROXY: 'other' })).toBe(true);
    expect(bypassesProxy('s3.amazonaws.com', 443, { no_proxy: 'other', NO_PROXY: 'amazonaws.com' })).toBe(false);
  });
});
