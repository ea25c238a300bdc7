import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Installer, PythonPipfileFunction, PythonPipfileBundlingOptions } from '../../src';
import { parseIni } from '../../src/private/ini';
import { ConfigHost, pipIndexConfig, uvIndexConfig } from '../../src/private/python/index-config';
import { effectiveIndexes, InstallerSettings, pipEnvironment, trustBundle, uvEnvironment, withDnsRetry } from '../../src/private/python/installer';
import { readDependencies } from '../../src/private/python/manifest';
import { pythonTarget } from '../../src/private/python/target';
import { HttpProxy } from '../helpers/proxy';
import { tempDir, TOOLS_UV, writeTree } from '../helpers/run';
import { LocalIndex, lockHashes, useLocalIndex } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

/** A machine with these files and this environment. */
function host(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): ConfigHost {
  return { env, home: '/home/u', readFile: f => files[f] };
}

describe('pip\'s configuration, read as pip reads it', () => {
  test('files in pip\'s order, [install] over [global], PIP_* over files', () => {
    const files = {
      '/etc/pip.conf': '[global]\nindex-url = https://global.example/simple\ntimeout = 30\n',
      '/home/u/.config/pip/pip.conf': '[global]\nextra-index-url =\n    https://extra1.example/simple\n    https://extra2.example/simple\n' +
        '[install]\nindex-url = https://user-install.example/simple\nrequire-virtualenv = true\nuser = true\n',
    };
    const c = pipIndexConfig(host(files));
    expect(c.indexUrl).toBe('https://user-install.example/simple');
    expect(c.sources['index-url']).toBe('/home/u/.config/pip/pip.conf [install]');
    expect(c.extraIndexUrls).toEqual(['https://extra1.example/simple', 'https://extra2.example/simple']);
    // Only the settings on where the index is and how to reach it are taken.
    expect(c.pipNetwork).toEqual({ PIP_TIMEOUT: '30' });
    const env = pipIndexConfig(host(files, { PIP_INDEX_URL: 'https://env.example/simple', PIP_FIND_LINKS: '/w1 /w2', PIP_NO_INDEX: '1' }));
    expect([env.indexUrl, env.sources['index-url'], env.findLinks, env.noIndex]).toEqual(['https://env.example/simple', 'PIP_INDEX_URL', ['/w1', '/w2'], true]);
  });

  test('PIP_CONFIG_FILE comes last and hides the user\'s files; the interpreter\'s site pip.conf counts', () => {
    const files = {
      '/home/u/.config/pip/pip.conf': '[global]\nindex-url = https://user.example/simple\nextra-index-url = https://user-extra.example/simple\n',
      '/venv/pip.conf': '[global]\nindex-url = https://site.example/simple\n',
      '/ci/pip.conf': '[global]\ntrusted-host = ci.example\n',
    };
    expect(pipIndexConfig(host(files), '/venv').indexUrl).toBe('https://site.example/simple');
    const c = pipIndexConfig(host(files, { PIP_CONFIG_FILE: '/ci/pip.conf' }), '/nowhere');
    expect([c.indexUrl, c.extraIndexUrls, c.pipNetwork]).toEqual([undefined, [], { PIP_TRUSTED_HOST: 'ci.example' }]);
  });

  test('configparser syntax: ":" separators, comments, continuation lines, case of keys', () => {
    expect(parseIni('# c\n[global]\nIndex-URL: https://a\n; c\nextra-index-url = x\n  y\n[install]\nk=v\n'))
      .toEqual({ global: { 'index-url': 'https://a', 'extra-index-url': 'x\ny' }, install: { k: 'v' } });
  });
});

describe('uv\'s configuration, read as uv reads it', () => {
  test('UV_* over the project\'s [tool.uv] over the user\'s uv.toml; [[index]] default and extra indexes', () => {
    const files = {
      '/home/u/.config/uv/uv.toml': 'index-url = "https://user.example/simple"\nfind-links = ["/wheels"]\n',
      '/proj/pyproject.toml': '[project]\nname = "p"\n[[tool.uv.index]]\nurl = "https://proj.example/simple"\ndefault = true\n' +
        '[[tool.uv.index]]\nname = "extra"\nurl = "https://proj-extra.example/simple"\n[[tool.uv.index]]\nname = "pinned-only"\nurl = "https://x.example"\nexplicit = true\n',
    };
    const c = uvIndexConfig(host(files), '/proj/fn');
    expect([c.indexUrl, c.extraIndexUrls, c.findLinks]).toEqual(['https://proj.example/simple', ['https://proj-extra.example/simple'], ['/wheels']]);
    const env = uvIndexConfig(host(files, { UV_INDEX_URL: 'https://env.example/simple', UV_INDEX: 'corp=https://corp.example/simple' }), '/proj/fn');
    expect([env.indexUrl, env.extraIndexUrls]).toEqual(['https://env.example/simple', ['https://corp.example/simple']]);
    expect(() => uvIndexConfig(host({ '/p/uv.toml': 'index-url = ' }), '/p')).toThrow('/p/uv.toml is not valid TOML');
  });
});

describe('precedence: construct options, then the manifest\'s sources, then the user\'s configuration', () => {
  const settings = (o: Partial<InstallerSettings> = {}): InstallerSettings => ({ tool: 'pip', indexStrategy: 'every-index', sourceBuilds: 'PURE_PYTHON', extraIndexUrls: [], findLinks: [], python: 'python3', ...o });
  const config = pipIndexConfig(host({}, { PIP_INDEX_URL: 'https://mirror.example/simple', PIP_EXTRA_INDEX_URL: 'https://more.example/simple' }));

  test('the construct\'s indexUrl wins; a manifest source of PyPI itself gives way to the configured mirror', () => {
    expect(effectiveIndexes(settings({ indexUrl: 'https://option.example/simple' }), [], config))
      .toMatchObject({ indexUrl: 'https://option.example/simple', indexOrigin: 'bundling.indexUrl', extraIndexUrls: ['https://more.example/simple'] });
    expect(effectiveIndexes(settings(), ['https://pypi.org/simple'], config))
      .toMatchObject({ indexUrl: 'https://mirror.example/simple', indexOrigin: 'PIP_INDEX_URL' });
    expect(effectiveIndexes(settings(), ['https://private.example/simple', 'https://pypi.org/simple'], config))
      .toMatchObject({ indexUrl: 'https://private.example/simple', indexOrigin: 'the manifest\'s package sources' });
    expect(effectiveIndexes(settings(), [], pipIndexConfig(host({})))).toMatchObject({ indexUrl: undefined, indexOrigin: 'the default, PyPI' });
  });

  test('a requirements file\'s --extra-index-url adds an index beside the main one; its -i replaces it', () => {
    const dir = tempDir('extra-index');
    writeTree(dir, { 'requirements.txt': '--extra-index-url https://extra.example/simple\ngreeting==1.0\n' });
    const spec = readDependencies(dir, undefined, pythonTarget('python3.12', 'x86_64'));
    expect(spec.manifestIndexUrls).toEqual([]);
    expect(effectiveIndexes(settings(), spec.manifestIndexUrls, config, spec.manifestExtraIndexUrls)).toMatchObject({
      indexUrl: 'https://mirror.example/simple', indexOrigin: 'PIP_INDEX_URL', extraIndexUrls: ['https://more.example/simple', 'https://extra.example/simple'],
    });
    expect(effectiveIndexes(settings(), [], pipIndexConfig(host({})), spec.manifestExtraIndexUrls))
      .toMatchObject({ indexUrl: undefined, indexOrigin: 'the default, PyPI', extraIndexUrls: ['https://extra.example/simple'] });
    fs.writeFileSync(path.join(dir, 'requirements.txt'), '-i https://private.example/simple\ngreeting==1.0\n');
    const own = readDependencies(dir, undefined, pythonTarget('python3.12', 'x86_64'));
    expect(effectiveIndexes(settings(), own.manifestIndexUrls, config, own.manifestExtraIndexUrls))
      .toMatchObject({ indexUrl: 'https://private.example/simple', indexOrigin: 'the manifest\'s package sources' });
  });
});

describe('the user\'s index settings reach the real installers (local index)', () => {
  const local = useLocalIndex('index-settings');
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  beforeAll(() => { process.env.POSSUM_UV = TOOLS_UV; });

  function synth(files: Record<string, string>, bundling: PythonPipfileBundlingOptions = {}) {
    const dir = path.join(tempDir('idx-fn'), 'fn');
    writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', ...files });
    const cacheDir = path.join(tempDir('idx-cache'), 'c');
    const app = new cdk.App({ outdir: tempDir('idx-out') });
    const stack = new cdk.Stack(app, 'S');
    const lines: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((c: any) => { lines.push(String(c)); return true; });
    try {
      const fn = new PythonPipfileFunction(stack, 'Fn', { entry: dir, bundling: { cacheDir, ...bundling } });
      app.synth();
      const key = (stack as any).resolve((fn.node.defaultChild as any).code).s3Key as string;
      return { names: inspectZip(path.join(app.outdir, `asset.${key}`)).entries.map(e => e.name), cacheDir, log: lines.join(''), key };
    } finally {
      spy.mockRestore();
    }
  }

  test('PIP_INDEX_URL, and pip.conf through PIP_CONFIG_FILE, are used by pip', () => {
    process.env.PIP_INDEX_URL = local.index.url();
    const before = local.index.requests().length;
    expect(synth({ 'requirements.txt': 'greeting==1.0\n' }, { installer: Installer.pip() }).names).toContain('greeting/__init__.py');
    expect(local.index.requests().length).toBeGreaterThan(before);
    delete process.env.PIP_INDEX_URL;
    const conf = path.join(tempDir('pipconf'), 'pip.conf');
    // Settings that would break or change an install are ignored; the index is used.
    fs.writeFileSync(conf, `[global]\nindex-url = ${local.index.url()}\nrequire-virtualenv = true\n[install]\nuser = true\nno-binary = :all:\n`);
    process.env.PIP_CONFIG_FILE = conf;
    expect(synth({ 'requirements.txt': 'withdeps==1.0\n' }, { installer: Installer.pip() }).names)
      .toEqual(expect.arrayContaining(['withdeps/__init__.py', 'greeting/__init__.py']));
    // uv, the default installer, has no index configured here, so it takes pip's (what
    // `aws codeartifact login --tool pip` writes keeps working).
    const viaUv = local.index.requests().length;
    const uv = synth({ 'requirements.txt': 'withdeps==1.0\n' });
    expect(uv.log).toContain('with uv');
    expect(uv.names).toEqual(expect.arrayContaining(['withdeps/__init__.py', 'greeting/__init__.py']));
    expect(local.index.requests().length).toBeGreaterThan(viaUv);
  });

  test('a Pipfile.lock whose source is PyPI installs from the configured mirror, hash-checked', () => {
    process.env.PIP_INDEX_URL = local.index.url();
    const lock = JSON.stringify({
      _meta: { sources: [{ name: 'pypi', url: 'https://pypi.org/simple', verify_ssl: true }] },
      default: { greeting: { version: '==2.0', hashes: lockHashes(local.house, 'greeting', '2.0') } },
      develop: {},
    });
    const before = local.index.requests().length;
    expect(synth({ 'Pipfile.lock': lock }, { installer: Installer.pip() }).names).toContain('greeting/__init__.py');
    expect(local.index.requests().slice(before)).toEqual(expect.arrayContaining([expect.stringContaining('/simple/greeting/')]));
  });

  test('uv reads UV_INDEX_URL and not pip\'s settings; a construct option beats both', () => {
    process.env.PIP_INDEX_URL = 'http://127.0.0.1:9/simple';
    process.env.UV_INDEX_URL = local.index.url();
    expect(synth({ 'requirements.txt': 'greeting==1.0\n' }, { installer: Installer.uv() }).names).toContain('greeting/__init__.py');
    process.env.UV_INDEX_URL = 'http://127.0.0.1:9/simple';
    expect(synth({ 'requirements.txt': 'greeting==2.0\n' }, { installer: Installer.uv(), indexUrl: local.index.url() }).names)
      .toContain('greeting/__init__.py');
    expect(synth({ 'requirements.txt': 'withdeps==1.0\n' }, { indexUrl: local.index.url() }).names).toContain('withdeps/__init__.py');
  });

  test('credentials in PIP_INDEX_URL stay out of logs and the cache; the same files from another index are the same asset', async () => {
    const secret = await LocalIndex.start(local.house, { user: 'ci', password: 'EnvT0kenS3cret' });
    try {
      process.env.PIP_INDEX_URL = secret.url('ci:EnvT0kenS3cret');
      const a = synth({ 'requirements.txt': 'greeting==1.0\n' }, { installer: Installer.pip() });
      const cacheText = walk(a.cacheDir).filter(f => f.endsWith('.json')).map(f => fs.readFileSync(f, 'utf8')).join('\n');
      expect(a.log + cacheText).not.toContain('EnvT0kenS3cret');
      // Same files from another index: the bytes (and asset) are the same, the cache key is not.
      process.env.PIP_INDEX_URL = local.index.url();
      const b = synth({ 'requirements.txt': 'greeting==1.0\n' }, { installer: Installer.pip() });
      expect(b.key).toBe(a.key);
    } finally {
      secret.stop();
    }
  });

  test("pip's proxy takes the place of the environment's proxies and NO_PROXY, for pip and for uv", async () => {
    const proxy = await HttpProxy.start(tempDir('idx-proxy'), 'me:pw');
    try {
      const conf = path.join(tempDir('pipconf-proxy'), 'pip.conf');
      fs.writeFileSync(conf, `[global]\nindex-url = ${local.index.url()}\nproxy = ${proxy.url}\n`);
      process.env.PIP_CONFIG_FILE = conf;
      // pip sends its requests through its `proxy` whatever the environment says (the
      // reference here is pip itself); uv, resolving for pip or with pip's index, goes the same
      // way. A proxy in either spelling that refuses, and a NO_PROXY that names the index.
      const refusing = proxy.url.replace(':pw@', ':nope@');
      Object.assign(process.env, { http_proxy: refusing, HTTP_PROXY: refusing, NO_PROXY: '127.0.0.1' });
      const toIndex = (requests: string[]) => requests.filter(r => r.startsWith(`GET 127.0.0.1:${local.index.port}/`));
      for (const installer of [Installer.pip(), Installer.uv()]) {
        const before = proxy.requests().length;
        expect(synth({ 'requirements.txt': 'withdeps==1.0\n' }, { installer }).names).toContain('withdeps/__init__.py');
        expect(toIndex(await proxy.requestsOnceSeen(before, r => toIndex(r).length > 0)).length).toBeGreaterThan(0);
      }
      // pip's proxy refusing its credentials is named as such: the fix is in pip's setting.
      fs.writeFileSync(conf, `[global]\nindex-url = ${local.index.url()}\nproxy = ${refusing}\n`);
      expect(() => synth({ 'requirements.txt': 'greeting==1.0\n' }, { installer: Installer.pip() }))
        .toThrow(/the proxy refused the installer's credentials \(HTTP 407[^]*The proxy is pip's \(PIP_PROXY or pip.conf's proxy/);
    } finally {
      proxy.stop();
    }
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}

describe("pip's network settings for uv", () => {
  const base = { extraIndexUrls: [], findLinks: [], noIndex: false, indexOrigin: 'PIP_INDEX_URL' };

  test("pip's cert is trusted along with SSL_CERT_FILE; proxy replaces the environment's; trusted-host, timeout and retries fill in what is unset", () => {
    const dir = tempDir('trust');
    const corp = path.join(dir, 'corp.pem');
    const system = path.join(dir, 'system.pem');
    fs.writeFileSync(corp, 'CORP\n');
    fs.writeFileSync(system, 'SYSTEM');
    const saved = { ...process.env };
    try {
      process.env.SSL_CERT_FILE = system;
      process.env.HTTPS_PROXY = 'http://other:1';
      process.env.no_proxy = 'pypi.corp';
      delete process.env.UV_HTTP_TIMEOUT;
      process.env.FORCE_COLOR = '1';
      const env = uvEnvironment({
        ...base,
        pipNetwork: {
          PIP_CERT: corp,
          PIP_PROXY: 'http://proxy:3128',
          PIP_TRUSTED_HOST: 'pypi.corp',
          PIP_DEFAULT_TIMEOUT: '60',
          PIP_RETRIES: '2',
        },
      }, dir);
      expect(fs.readFileSync(env.SSL_CERT_FILE!, 'utf8')).toBe('CORP\nSYSTEM\n');
      expect(trustBundle([corp, system])).toBe(env.SSL_CERT_FILE); // named by content: the same file each time
      expect([env.HTTPS_PROXY, env.HTTP_PROXY, env.UV_INSECURE_HOST, env.UV_HTTP_TIMEOUT, env.UV_HTTP_RETRIES])
        .toEqual(['http://proxy:3128', 'http://proxy:3128', 'pypi.corp', '60', '2']);
      // pip's proxy takes the place of the user's (as it does for pip), in both spellings.
      expect([env.https_proxy, env.http_proxy, env.no_proxy, env.NO_PROXY]).toEqual(['http://proxy:3128', 'http://proxy:3128', undefined, undefined]);
      // Installer output is quoted in messages: no colour, whatever the caller asked for.
      expect([env.FORCE_COLOR, env.NO_COLOR]).toEqual([undefined, '1']);
      // pip itself: requests would let CURL_CA_BUNDLE replace pip's cert.
      process.env.CURL_CA_BUNDLE = system;
      const pip = pipEnvironment({ ...base, pipNetwork: { PIP_CERT: corp } });
      expect([pip.PIP_CERT, pip.CURL_CA_BUNDLE, pip.NO_COLOR]).toEqual([env.SSL_CERT_FILE, undefined, '1']);
      // Without pip's settings, uv keeps the user's own.
      expect(uvEnvironment({ ...base, pipNetwork: {} }, dir).SSL_CERT_FILE).toBe(system);
      expect(trustBundle([corp, path.join(dir, 'missing.pem')])).toBe(corp);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe("PyPI's cache policy for uv", () => {
  const base = { extraIndexUrls: [], findLinks: [], noIndex: false, pipNetwork: {}, indexOrigin: 'the default, PyPI' };

  test('PyPI as the main index comes with its max-age from a file in the cache; another index, or none, keeps its own', () => {
    const cacheRoot = path.join(tempDir('pypi-policy'), 'c');
    const file = uvEnvironment(base, cacheRoot).UV_CONFIG_FILE!;
    expect(path.relative(cacheRoot, file)).toBe(path.join('v2', 'tools', 'uv-pypi-index.toml'));
    const config = fs.readFileSync(file, 'utf8');
    expect(config).toMatch(/^url = "https:\/\/pypi\.org\/simple"$/m);
    expect(config).toMatch(/^default = true$/m);
    expect(config).toMatch(/^cache-control = \{ api = "max-age=600, public" \}$/m);
    // Extra indexes sit beside PyPI (in the environment) without changing that.
    expect(uvEnvironment({ ...base, extraIndexUrls: ['https://extra.example/simple'] }, cacheRoot).UV_CONFIG_FILE).toBe(file);
    // PyPI named as the index (PIP_INDEX_URL=https://pypi.org/simple/, say) is PyPI too.
    const named = uvEnvironment({ ...base, indexUrl: 'https://pypi.org/simple/' }, cacheRoot);
    expect([named.UV_CONFIG_FILE, named.UV_INDEX_URL]).toEqual([file, undefined]);
    // Another index keeps its own policy, and no index at all needs none: no file.
    const others = [{ ...base, indexUrl: 'https://mirror.example/simple' }, { ...base, indexUrl: 'https://user:pw@pypi.org/simple' }, { ...base, noIndex: true }];
    for (const indexes of others) expect(uvEnvironment(indexes, cacheRoot).UV_CONFIG_FILE).toBeUndefined();
    expect(uvEnvironment({ ...base, indexUrl: 'https://mirror.example/simple' }, cacheRoot).UV_INDEX_URL).toBe('https://mirror.example/simple');
    // The user's own UV_CONFIG_FILE never reaches uv.
    const saved = process.env.UV_CONFIG_FILE;
    try {
      process.env.UV_CONFIG_FILE = '/elsewhere/uv.toml';
      expect(uvEnvironment({ ...base, noIndex: true }, cacheRoot).UV_CONFIG_FILE).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.UV_CONFIG_FILE;
      else process.env.UV_CONFIG_FILE = saved;
    }
  });

  test('a file that differs (edited, or from another version) is written again', () => {
    const cacheRoot = path.join(tempDir('pypi-policy-edit'), 'c');
    const file = path.join(cacheRoot, 'v2', 'tools', 'uv-pypi-index.toml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '[[index]]\nurl = "https://evil.example/simple"\ndefault = true\n');
    expect(uvEnvironment(base, cacheRoot).UV_CONFIG_FILE).toBe(file);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^url = "https:\/\/pypi\.org\/simple"$/m);
    // A cache deleted in the middle of a process (a clean between two synths) gets it back.
    fs.rmSync(cacheRoot, { recursive: true, force: true });
    expect(fs.existsSync(uvEnvironment(base, cacheRoot).UV_CONFIG_FILE!)).toBe(true);
  });
});

describe('DNS retry for the installers', () => {
  test('a lost DNS reply costs a second, not five, unless the user or resolv.conf says otherwise', () => {
    expect(withDnsRetry({ PATH: '/bin' }, 'nameserver 10.0.0.2\n').RES_OPTIONS).toBe('timeout:1 attempts:5');
    // The user's own setting wins, even an empty one.
    expect(withDnsRetry({ RES_OPTIONS: 'rotate' }, 'nameserver 10.0.0.2\n').RES_OPTIONS).toBe('rotate');
    expect(withDnsRetry({ RES_OPTIONS: '' }, '').RES_OPTIONS).toBe('');
    // So does an administrator's timeout or attempts in resolv.conf; other options do not count.
    expect(withDnsRetry({}, 'nameserver 10.0.0.2\noptions timeout:3\n').RES_OPTIONS).toBeUndefined();
    expect(withDnsRetry({}, 'options rotate attempts:4\n').RES_OPTIONS).toBeUndefined();
    expect(withDnsRetry({}, 'options ndots:5\n').RES_OPTIONS).toBe('timeout:1 attempts:5');
    // Both installers get it (when this machine's resolv.conf leaves it to us).
    const indexes = { extraIndexUrls: [], findLinks: [], noIndex: false, pipNetwork: {}, indexOrigin: 'the default, PyPI' };
    const expected = withDnsRetry({ ...process.env }).RES_OPTIONS;
    expect([pipEnvironment(indexes).RES_OPTIONS, uvEnvironment(indexes, tempDir('dns-cache')).RES_OPTIONS]).toEqual([expected, expected]);
  });
});
