import { probeIndexes } from '../../src/private/python/index-probe';
import { HttpProxy } from '../helpers/proxy';
import { privateAuthority, tempDir } from '../helpers/run';
import { buildWheelhouse, LocalIndex } from '../helpers/wheelhouse';

/**
 * The index check that tells wrong credentials and misspelt names apart, against real
 * servers: an https index signed by a private authority (with and without basic auth) and
 * proxy.py in front of it, reached as the installers reach it.
 */
let open: LocalIndex;
let locked: LocalIndex;
let proxy: HttpProxy;
let ca: string;

beforeAll(async () => {
  const work = tempDir('index-probe');
  const house = buildWheelhouse(work);
  const { ca: authority, ...server } = privateAuthority();
  ca = authority;
  open = await LocalIndex.start(house, undefined, server);
  locked = await LocalIndex.start(house, { user: 'corp', password: 'right' }, server);
  proxy = await HttpProxy.start(tempDir('index-probe-proxy'), 'me:pw');
});
afterAll(() => {
  open?.stop();
  locked?.stop();
  proxy?.stop();
});

const bare: NodeJS.ProcessEnv = {};

describe('the package index check', () => {
  test('directly: the project\'s page, with the URL\'s credentials, trusting the authorities given', async () => {
    const job = { urls: [open.url(), locked.url('corp:wrong'), locked.url('corp:right')], project: 'withdeps', authorities: [ca] };
    expect(await probeIndexes(job, bare)).toEqual([200, 401, 200]);
    expect(await probeIndexes({ ...job, project: 'withdepz' }, bare)).toEqual([404, 401, 404]);
    // Without the authority the answer is "cannot tell", not "unreachable".
    expect(await probeIndexes({ ...job, authorities: [] }, bare)).toEqual([-1, -1, -1]);
  });

  test('through HTTPS_PROXY, as uv and pip go: the same answers, and the proxy carried them', async () => {
    const job = { urls: [open.url(), locked.url('corp:wrong')], project: 'withdepz', authorities: [ca] };
    const tunnels = [`CONNECT 127.0.0.1:${open.port}`, `CONNECT 127.0.0.1:${locked.port}`];
    const both = (requests: string[]) => tunnels.every(t => requests.includes(t));
    const before = proxy.requests().length;
    expect(await probeIndexes(job, { HTTPS_PROXY: proxy.url })).toEqual([404, 401]);
    expect(await proxy.requestsOnceSeen(before, both)).toEqual(expect.arrayContaining(tunnels));
    // pip's `proxy` in place of the environment's proxies and NO_PROXY, as pip uses it.
    expect(await probeIndexes({ ...job, proxy: proxy.url }, bare)).toEqual([404, 401]);
    const refusing = proxy.url.replace(':pw@', ':nope@');
    const viaPip = proxy.requests().length;
    expect(await probeIndexes({ ...job, proxy: proxy.url }, { https_proxy: refusing, HTTPS_PROXY: refusing, NO_PROXY: '127.0.0.1' })).toEqual([404, 401]);
    expect(await proxy.requestsOnceSeen(viaPip, both)).toEqual(expect.arrayContaining(tunnels));
    // NO_PROXY: straight to the index.
    expect(await probeIndexes(job, { HTTPS_PROXY: refusing, NO_PROXY: '127.0.0.1' })).toEqual([404, 401]);
  });

  test('a proxy that refuses or cannot be used, and an index that does not answer', async () => {
    const job = { urls: [open.url()], project: 'withdeps', authorities: [ca] };
    // The proxy's refusal says nothing about the project.
    // A refusal of the proxy's credentials is its own answer (-2).
    expect(await probeIndexes(job, { HTTPS_PROXY: proxy.url.replace(':pw@', ':nope@') })).toEqual([-2]);
    expect(await probeIndexes(job, { HTTPS_PROXY: proxy.url.replace('me:pw@', '') })).toEqual([-2]);
    expect(await probeIndexes(job, { HTTPS_PROXY: 'socks5://127.0.0.1:1080' })).toEqual([-1]);
    const gone = await LocalIndex.start(buildWheelhouse(tempDir('index-probe-gone')));
    const url = gone.url();
    gone.stop();
    await new Promise(r => setTimeout(r, 200));
    expect(await probeIndexes({ urls: [url], project: 'withdeps', authorities: [] }, bare)).toEqual([0]);
  });
});
