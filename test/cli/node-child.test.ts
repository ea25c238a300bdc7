import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nodeChildEnvironment, restoreHeldEnvironment } from '../../src/private/node-child';
import { REPO_ROOT, tempDir, writeTree } from '../helpers/run';

describe("this library's Node.js children and NODE_EXTRA_CA_CERTS", () => {
  test('a child without TLS of its own starts without it, holding it for the processes it starts', () => {
    const env = { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/corp/ca.pem' };
    const child = nodeChildEnvironment(env, false);
    expect(child.NODE_EXTRA_CA_CERTS).toBeUndefined();
    expect(child.PATH).toBe('/bin');
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/etc/corp/ca.pem'); // the caller's own is untouched
    restoreHeldEnvironment(child);
    expect(child).toEqual(env);
  });

  test('a child that talks to S3 itself keeps it; without the variable nothing changes', () => {
    const env = { NODE_EXTRA_CA_CERTS: '/etc/corp/ca.pem' };
    expect(nodeChildEnvironment(env, true)).toEqual(env);
    expect(nodeChildEnvironment({ PATH: '/bin' }, false)).toEqual({ PATH: '/bin' });
    const plain = { PATH: '/bin' };
    restoreHeldEnvironment(plain);
    expect(plain).toEqual({ PATH: '/bin' });
  });

  test('the zip engine child starts without it (it connects to nothing and starts nothing)', () => {
    const dir = tempDir('node-child');
    writeTree(dir, { 'src/app.py': 'def handler(e, c):\n    return 1\n' });
    // The caller's Node.js, seen through a wrapper that notes what each start was given.
    const log = path.join(dir, 'starts.log');
    const node = path.join(dir, 'node');
    fs.writeFileSync(node, `#!/bin/bash\necho "\${NODE_EXTRA_CA_CERTS-unset}" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(process.execPath)} "$@"\n`, { mode: 0o755 });
    const script = `
      process.execPath = ${JSON.stringify(node)};
      const { buildZipSync } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib', 'private', 'zip', 'run-sync.js'))});
      const r = buildZipSync({ sources: [{ dir: ${JSON.stringify(path.join(dir, 'src'))} }], output: ${JSON.stringify(path.join(dir, 'out.zip'))} });
      process.stdout.write(String(r.files));`;
    const ca = path.join(dir, 'corporate-ca.pem');
    fs.copyFileSync(process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt', ca);
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1');
    expect(fs.existsSync(path.join(dir, 'out.zip'))).toBe(true);
    expect(fs.readFileSync(log, 'utf8')).toBe('unset\n');
  });
});
