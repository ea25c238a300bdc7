import * as path from 'path';
import { parseTemplate } from '../../src/private/sam/template';
import { privateAuthority, REPO_ROOT, run, tempDir, writeTree } from '../helpers/run';
import { MotoS3 } from '../helpers/s3';
import { buildWheelhouse, LocalIndex } from '../helpers/wheelhouse';

/**
 * A company's package index over https, signed by a private authority, with the index and
 * its certificate named the ways pip users name them. Real processes throughout: possum,
 * uv or pip, an https index server (test/fixtures/index_server.py), moto.
 */
const POSSUM = path.join(REPO_ROOT, 'lib', 'cli', 'possum.js');
let work: string;
/** The private authority's certificate, what users name in PIP_CERT, SSL_CERT_FILE, ... */
let cert: string;
let index: LocalIndex;
let locked: LocalIndex;
let moto: MotoS3;

beforeAll(async () => {
  work = tempDir('private-index');
  const house = buildWheelhouse(work);
  const { ca, ...server } = privateAuthority();
  cert = ca;
  index = await LocalIndex.start(house, undefined, server);
  locked = await LocalIndex.start(house, { user: 'corp', password: 'right' }, server);
  moto = await MotoS3.start('corp-deploy');
});
afterAll(() => {
  index?.stop();
  locked?.stop();
  moto?.stop();
});

function app(requirement: string): string {
  const dir = path.join(tempDir('private-index-app'), 'app');
  writeTree(dir, {
    'template.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n' +
      '      CodeUri: fn/\n      Runtime: python3.12\n      Handler: app.handler\n',
    'fn/app.py': 'def handler(e, c):\n    return 1\n',
    'fn/requirements.txt': `${requirement}\n`,
  });
  return path.join(dir, 'template.yaml');
}

/** possum with the machine's pip and uv settings replaced by `env` (HOME too, so no user pip.conf). */
function possum(template: string, args: string[], env: NodeJS.ProcessEnv) {
  const home = tempDir('private-index-home');
  return run(process.execPath, [POSSUM, 'corp-deploy/app', '-t', template, '--endpoint-url', moto.endpoint, ...args], {
    env: {
      ...process.env,
      ...MotoS3.ENV,
      HOME: home,
      POSSUM_CACHE_DIR: path.join(home, 'cache'),
      UV_CACHE_DIR: path.join(home, 'uv'),
      PIP_CONFIG_FILE: undefined,
      PIP_INDEX_URL: undefined,
      PIP_CERT: undefined,
      PIP_FIND_LINKS: undefined,
      UV_INDEX_URL: undefined,
      SSL_CERT_FILE: undefined,
      NODE_EXTRA_CA_CERTS: undefined,
      REQUESTS_CA_BUNDLE: undefined,
      ...env,
    },
    timeoutMs: 300_000,
  });
}

describe('a private https index: pip\'s certificate setting reaches uv', () => {
  const system = '/etc/ssl/certs/ca-certificates.crt';
  test.each([
    ['uv (the default), PIP_INDEX_URL and PIP_CERT', 'variables', [], {}],
    ['uv, a pip.conf with index-url and cert', 'pip.conf', [], {}],
    // SSL_CERT_FILE set for everything else (this machine's own setting): pip's cert is trusted along with it.
    ['pip, PIP_CERT, SSL_CERT_FILE naming the system bundle', 'variables', ['--installer', 'pip'], { SSL_CERT_FILE: system }],
    ['uv, PIP_CERT, SSL_CERT_FILE naming the system bundle', 'variables', [], { SSL_CERT_FILE: system }],
  ])('%s: installed from the index', (_name, how, args, extra) => {
    const template = app('withdeps==1.0');
    const conf = path.join(path.dirname(template), 'pip.conf');
    writeTree(path.dirname(conf), { 'pip.conf': `[global]\nindex-url = ${index.url()}\ncert = ${cert}\n` });
    const named = how === 'pip.conf' ? { PIP_CONFIG_FILE: conf } : { PIP_INDEX_URL: index.url(), PIP_CERT: cert };
    const r = possum(template, args as string[], { ...named, ...extra });
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stderr).toMatch(/installing 2 pinned requirements/);
    expect(parseTemplate(r.stdout, 'stdout').value.Resources.Fn.Properties.CodeUri).toMatch(/^s3:\/\/corp-deploy\/app\/[0-9a-f]{64}\.zip$/);
  });

  test('without the authority: the error says the certificate is not trusted and names the settings (uv\'s words quoted without colour)', () => {
    // A CDK app's environment may ask for colour; the quoted installer lines stay plain.
    const r = possum(app('withdeps==1.0'), [], { PIP_INDEX_URL: index.url(), FORCE_COLOR: '1', CLICOLOR_FORCE: '1' });
    expect(r.stderr).toContain('possum: error: Failed to fetch');
    expect(r.stderr).not.toContain('\u001b[');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('presented a TLS certificate that is not trusted here');
    expect(r.stderr).toContain('SSL_CERT_FILE for uv');
    expect(r.stderr).not.toContain('could not reach');
  });

  test('the authority given to the installer only: wrong credentials and a misspelt name are still told apart', () => {
    const wrong = possum(app('withdeps==1.0'), [], { PIP_INDEX_URL: locked.url('corp:wrong'), SSL_CERT_FILE: cert });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('refused the credentials (HTTP 401/403)');
    expect(wrong.stderr).not.toContain('corp:wrong');
    const typo = possum(app('withdepz==1.0'), [], { PIP_INDEX_URL: index.url(), SSL_CERT_FILE: cert });
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain('there is no package withdepz');
  });
});
