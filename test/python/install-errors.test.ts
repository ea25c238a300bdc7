import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Installer, PythonPipfileFunction, PythonPipfileBundlingOptions, SourceBuilds } from '../../src';
import { classifyPip, classifyUv, toolErrorLines } from '../../src/private/python/install-errors';
import { HttpProxy } from '../helpers/proxy';
import { tempDir, TOOLS_UV, writeTree } from '../helpers/run';
import { LocalIndex, lockHashes, useLocalIndex } from '../helpers/wheelhouse';

/**
 * Install errors must name what failed: the network, the credentials, a package or version
 * that does not exist, a package with no wheel for the target, Requires-Python, a hash.
 * Each case runs the real pip and the real uv against an index on 127.0.0.1.
 */
const local = useLocalIndex('install-errors');
const DEAD = 'http://127.0.0.1:9/simple';
let authIndex: LocalIndex;
let proxy: HttpProxy;
const saved = { ...process.env };

beforeAll(async () => {
  authIndex = await LocalIndex.start(local.house, { user: 'ci', password: 'N0tGivenT0ken' });
  proxy = await HttpProxy.start(tempDir('err-proxy'), 'me:Pr0xyPassw0rd');
  process.env.POSSUM_UV = TOOLS_UV;
  // Fail fast on the dead index: no retries.
  process.env.PIP_RETRIES = '0';
  process.env.UV_HTTP_RETRIES = '0';
});
afterAll(() => {
  authIndex?.stop();
  proxy?.stop();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

interface Failure {
  readonly message: string;
  readonly manifest: string;
}

function failure(files: Record<string, string>, bundling: PythonPipfileBundlingOptions, runtime = lambda.Runtime.PYTHON_3_12): Failure {
  const dir = path.join(tempDir('err-fn'), 'fn');
  writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', ...files });
  const app = new cdk.App({ outdir: tempDir('err-out') });
  const stack = new cdk.Stack(app, 'S');
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    new PythonPipfileFunction(stack, 'Fn', { entry: dir, runtime, bundling: { cacheDir: path.join(tempDir('err-cache'), 'c'), ...bundling } });
  } catch (e: any) {
    return { message: e.message as string, manifest: path.join(dir, Object.keys(files)[0]) };
  } finally {
    spy.mockRestore();
  }
  throw new Error('the synth did not fail');
}

/** A Pipfile.lock pinning one package (with the wheelhouse's hashes, or a made-up one). */
function lockOf(name: string, version: string, hashes?: string[]): Record<string, string> {
  const known = lockHashes(local.house, name, version);
  return {
    'Pipfile.lock': JSON.stringify({
      _meta: { sources: [] },
      default: { [name]: { version: `==${version}`, hashes: hashes ?? (known.length ? known : [`sha256:${'1'.repeat(64)}`]) } },
      develop: {},
    }),
  };
}

/**
 * Three paths reach an index: uv resolving an unlocked manifest (requirements.txt, for
 * either installer), pip installing a lock, uv installing a lock.
 */
const PATHS: Array<[string, 'uv' | 'pip', PythonPipfileBundlingOptions, (name: string, version: string) => Record<string, string>]> = [
  ['resolving requirements.txt', 'uv', { installer: Installer.pip() }, (n, v) => ({ 'requirements.txt': `${n}==${v}\n` })],
  ['pip installing a Pipfile.lock', 'pip', { installer: Installer.pip() }, lockOf],
  ['uv installing a Pipfile.lock', 'uv', { installer: Installer.uv() }, lockOf],
];

describe.each(PATHS)('%s: errors name the real cause', (_label, tool, bundling, manifest) => {
  const expectNamed = (f: Failure) => {
    expect(f.message).toMatch(/^S\/Fn: /);
    expect(f.message).toContain(f.manifest);
    expect(f.message).toContain(`\n${tool} said:\n`);
  };

  test('a refused connection', () => {
    const f = failure(manifest('greeting', '1.0'), { ...bundling, indexUrl: DEAD });
    expectNamed(f);
    expect(f.message).toContain(`could not reach the package index ${DEAD} (from bundling.indexUrl)`);
  });

  test('credentials the index refuses (401)', () => {
    const f = failure(manifest('greeting', '1.0'), { ...bundling, indexUrl: authIndex.url('ci:Wr0ngT0ken') });
    expectNamed(f);
    expect(f.message).toContain('refused the credentials (HTTP 401/403)');
    expect(f.message).not.toContain('Wr0ngT0ken');
  });

  test('a proxy that refuses the credentials (407); pip says nothing of it, and uv for pip calls the package not found', () => {
    const wrong = proxy.url.replace(':Pr0xyPassw0rd@', ':Wr0ngPr0xy@');
    process.env.HTTP_PROXY = wrong;
    try {
      const f = failure(manifest('greeting', '1.0'), { ...bundling, indexUrl: local.index.url() });
      expectNamed(f);
      expect(f.message).toContain('the proxy refused the installer\'s credentials (HTTP 407 Proxy Authentication Required) on the way to the package index');
      expect(f.message).toContain('Check the user and password in HTTPS_PROXY or HTTP_PROXY');
      expect(f.message).not.toContain('there is no package');
      expect(f.message).not.toContain('Wr0ngPr0xy');
    } finally {
      delete process.env.HTTP_PROXY;
    }
  });

  test('a package that does not exist (a typo in the name)', () => {
    const f = failure(manifest('greetnig', '1.0'), { ...bundling, indexUrl: local.index.url() });
    expectNamed(f);
    expect(f.message).toMatch(/there is no package greetnig(==1\.0)? on http:\/\/127\.0\.0\.1:\d+\/simple/);
    // Where to add an index, for the construct and for the possum CLI.
    expect(f.message).toContain('(bundling.indexUrl or extraIndexUrls; possum\'s --index-url or --extra-index-url; PIP_INDEX_URL or pip.conf)');
  });

  test('a version that does not exist', () => {
    const f = failure(manifest('greeting', '99.0'), { ...bundling, indexUrl: local.index.url() });
    expectNamed(f);
    expect(f.message).toMatch(/greeting==99\.0 does not exist on http:\/\/127\.0\.0\.1/);
  });

  test('no wheel for the target (and no sdist to build)', () => {
    const f = failure(manifest('fastmath', '1.0'), { ...bundling, indexUrl: local.index.url() });
    expectNamed(f);
    expect(f.message).toMatch(/no wheel of fastmath(==1\.0)? from .* is compatible with python3\.12 on x86_64 .*no source distribution/s);
    const none = failure(manifest('fastmath', '1.0'), { ...bundling, indexUrl: local.index.url(), sourceBuilds: SourceBuilds.NONE });
    expect(none.message).toContain('set bundling.sourceBuilds to SourceBuilds.PURE_PYTHON');
  });

  test('Requires-Python that excludes the runtime', () => {
    const f = failure(manifest('oldpy', '1.0'), { ...bundling, indexUrl: local.index.url() });
    expect(f.message).toContain(f.manifest);
    expect(f.message).toMatch(/^S\/Fn: .*oldpy.* requires Python <3\.10, but the function's runtime python3\.12 is Python 3\.12/s);
  });
});

describe('a hash that does not match the lock', () => {
  test.each([['pip', Installer.pip()], ['uv', Installer.uv()]])('%s', (tool, installer) => {
    const f = failure(lockOf('greeting', '1.0', [`sha256:${'0'.repeat(64)}`]), { installer, indexUrl: local.index.url() });
    expect(f.message).toMatch(/^S\/Fn: .*refused a package whose hash does not match the lock/);
    expect(f.message).toContain(`\n${tool} said:\n`);
  });
});

describe('a git source that cannot be fetched', () => {
  const missing = 'git+file:///nonexistent/possum-repo.git@0123456789abcdef0123456789abcdef01234567';
  test.each([
    ['uv resolving requirements.txt', { 'requirements.txt': `mylib @ ${missing}\n` }, Installer.pip()],
    ['pip installing a Pipfile.lock', {
      'Pipfile.lock': JSON.stringify({ _meta: { sources: [] }, default: { mylib: { git: 'file:///nonexistent/possum-repo.git', ref: '0123456789abcdef0123456789abcdef01234567' } }, develop: {} }),
    }, Installer.pip()],
  ])('%s: named as git, not as the package index', (_label, files, installer) => {
    const f = failure(files, { installer, indexUrl: local.index.url() });
    expect(f.message).toMatch(/^S\/Fn: git could not fetch (git\+)?file:\/\/\/nonexistent\/possum-repo\.git/);
    expect(f.message).toContain('package index settings do not apply to git sources');
    expect(f.message).not.toContain('could not reach the package index');
  });
});

describe('the tools\' own words', () => {
  test('are kept in full past the download chatter, and retries collapse to one line', () => {
    const chatter = Array.from({ length: 60 }, (_, i) => `Downloading http://x/pkg${i}.whl (1 kB)`).join('\n');
    const retries = Array.from({ length: 5 }, () => 'WARNING: Retrying (Retry(total=4)) after connection broken by NewConnectionError').join('\n');
    const out = `Looking in indexes: http://x\n${retries}\n${chatter}\nERROR: Could not find a version that satisfies the requirement a==1 (from versions: none)\nERROR: No matching distribution found for a==1\n`;
    const lines = toolErrorLines(out);
    expect(lines.split('\n')).toEqual([
      'WARNING: Retrying (Retry(total=4)) after connection broken by NewConnectionError',
      'ERROR: Could not find a version that satisfies the requirement a==1 (from versions: none)',
      'ERROR: No matching distribution found for a==1',
    ]);
    expect(classifyPip(out)).toEqual({ cause: 'network', requirement: 'a==1' });
  });

  test('a huge line is cut, and a flood of lines is bounded', () => {
    const out = `error: ${'x'.repeat(100_000)}\n` + Array.from({ length: 500 }, (_, i) => `  cause: c${i}`).join('\n');
    const lines = toolErrorLines(out);
    expect(lines.length).toBeLessThan(20_000);
    expect(lines).toContain('(100007 characters)');
    expect(lines).toContain('more lines');
  });

  test('uv\'s causes', () => {
    expect(classifyUv('error: No solution found\n  cause: Because there is no version of requests==99.0.0 and you require requests==99.0.0'))
      .toEqual({ cause: 'no-such-version', requirement: 'requests==99.0.0' });
    expect(classifyUv('  cause: Because nosuch was not found in the package registry and you require nosuch')).toEqual({ cause: 'no-such-package', requirement: 'nosuch' });
  });

  test('a certificate not trusted here is its own cause, not the network (uv\'s rustls, pip\'s ssl)', () => {
    expect(classifyUv('error: Failed to fetch: `https://127.0.0.1:8443/simple/requests/`\n  Caused by: error sending request for url\n' +
      '  Caused by: invalid peer certificate: UnknownIssuer').cause).toBe('tls');
    expect(classifyPip("WARNING: Retrying (Retry(total=4)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: " +
      "CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'))': /simple/x/\n" +
      'ERROR: No matching distribution found for x==1.0')).toEqual({ cause: 'tls', requirement: 'x==1.0' });
    expect(classifyUv('error: Failed to fetch\n  Caused by: tcp connect error: Connection refused (os error 111)').cause).toBe('network');
  });

  test('a proxy that refuses the credentials is its own cause, not the network (uv 0.13, http and https indexes; pip, https)', () => {
    expect(classifyUv('error: Failed to fetch: http://127.0.0.1:8765/simple/greeting/\n  cause: HTTP status client error ' +
      '(407 Proxy Authentication Required) for url (http://127.0.0.1:8765/simple/greeting/)').cause).toBe('proxy');
    expect(classifyUv('error: Request failed after 3 retries in 5.2s\n  cause: Failed to fetch: https://pypi.org/simple/greeting/\n' +
      '  cause: error sending request for url (https://pypi.org/simple/greeting/)\n  cause: client error (Connect)\n' +
      '  cause: tunnel error: proxy authorization required').cause).toBe('proxy');
    // pip 23.2 through a proxy refusing the tunnel to an https index, retries on.
    expect(classifyPip('WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by ' +
      "'ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 407 Proxy Authentication Required'))': /simple/six/\n" +
      'ERROR: Could not find a version that satisfies the requirement six (from versions: none)\nERROR: No matching distribution found for six'))
      .toEqual({ cause: 'proxy', requirement: 'six' });
  });
});
