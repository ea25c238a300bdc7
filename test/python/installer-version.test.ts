import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, tempDir } from '../helpers/run';

const INSTALLER_JS = path.join(REPO_ROOT, 'lib', 'private', 'python', 'installer-probe.js');

describe('the installer version (part of every cache key)', () => {
  // A stand-in interpreter: logs each call and answers the version probe like Python would.
  const dir = tempDir('installer-version');
  const sitePackages = path.join(dir, 'site-packages');
  const pipDir = path.join(sitePackages, 'pip');
  fs.mkdirSync(pipDir, { recursive: true });
  const log = path.join(dir, 'calls.log');
  const fakePython = path.join(dir, 'python3');
  fs.writeFileSync(fakePython, `#!/bin/sh\necho called >> ${log}\nprintf '98.7.6\\n${dir}\\n${fakePython}\\n${pipDir}\\n${sitePackages}\\n'\n`);
  fs.chmodSync(fakePython, 0o755);
  const memo = path.join(dir, 'memo');

  /** Asks for the version in a fresh process, as each synth does. */
  const ask = () => {
    const r = run(process.execPath, ['-e',
      `process.stdout.write(require(${JSON.stringify(INSTALLER_JS)}).probeInstaller('pip', ${JSON.stringify(fakePython)}, ${JSON.stringify(memo)}).version)`]);
    if (r.status !== 0) throw new Error(r.stderr);
    return { version: r.stdout, calls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0 };
  };

  test('is asked once, remembered across processes, and asked again when pip or site-packages change', () => {
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 1 });
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 1 }); // remembered: the interpreter did not run
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(sitePackages, later, later); // what installing or upgrading pip does
    expect(ask()).toEqual({ version: 'pip 98.7.6', calls: 2 });
    expect(ask().calls).toBe(2);
  });
});
