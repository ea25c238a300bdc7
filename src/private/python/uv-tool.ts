import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BuildCache } from '../cache';
import { onPath } from '../on-path';
import { progress } from '../progress';

/**
 * The uv that possum-cdk resolves dependency sets with (and installs with, for
 * `Installer.uv()`): one pinned version, so every machine resolves a manifest to the
 * same set. It is taken from `POSSUM_UV` or PATH when that is this version, else
 * installed once into the build cache with pip from the user's configured index, checked
 * against the wheel hashes below.
 */
export const UV_VERSION = '0.13.9';

/** sha256 of every uv 0.13.9 wheel on PyPI: pip picks the one for this machine. */
const UV_WHEEL_HASHES = [
  '56ec37616c00220032fc7b8c9d0ef51367fd0d70d9cd6ddd841660f949f84fed',
  'c16ed11e013557536b3e60065f1b912f6407bd6518e041b961e23ef9e6b4fbf5',
  '66c512266d633bef48384a1f53003f41f2a8e7b36fe6e7fbfd3e0fd52d96fa63',
  '5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe',
  '7ec1e1dd9b6cb335c301afdf877989df384227313981850755a59561f75e4ab8',
  '16963d19594e18d746a70c7fce82237bde4f2cac4cfcf0ca2b84796fe9d0c6e9',
  'db5c8df7145c21ffea9c0f74e38823bac3af60cbadf0e26b8633f08627b17bab',
  'c5dbdb7c8737cd183a9dce95b39cfd1f3d54ec2a27a1bb58f160293f9ba2c805',
  'a6e845f387e4ed55bb59342957a9179e24a631fcc7668bda3426ae1cef8ed4b9',
  'd7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19',
  'ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375',
  '6d5114bba238adddacb32fb11904f2b3ff4e988f8e9ff0d8d3b5e9822cf836b8',
  '6b0c7b9f47a5d011939d61e324d3fe18a8bc155d8dd53add738709a92f290a7c',
  'a2ee66fe8b6608e1482ab1bde5799da04705c1cb40324c7f66054ecf46ae6e40',
  '2c45530751517d6c3bbc69a19473f6effe47cce047bede01ffd8af7ea7b36b25',
  '3eeeb51a267a2144640fcd8f38d4a2f63439b39bc47445fd84727c3fc462c843',
  '6a44b2ed8111d2f60d2b92627c5dccda3f7ed7570b18ce115e569cd68c28246b',
  'eeb92051c2123b9730c46b04cc843cfa4bc7d7b0aec56df431a2215ef4cb0273',
];

const found = new Map<string, string>();

/**
 * The path of uv UV_VERSION.
 * @param python the interpreter that installs it when it is missing
 * @param pipEnv the environment for that pip run (the user's index settings, isolated)
 * @throws Error saying how to provide uv when it cannot be found or installed
 */
export function uvExecutable(cacheRoot: string, python: string, pipEnv: NodeJS.ProcessEnv): string {
  const memoKey = JSON.stringify([cacheRoot, process.env.POSSUM_UV, process.env.PATH]);
  const memo = found.get(memoKey);
  if (memo) return memo;
  const explicit = process.env.POSSUM_UV;
  if (explicit) {
    const version = uvVersionOf(explicit);
    if (version !== UV_VERSION) {
      throw new Error(`POSSUM_UV=${explicit} is ${version ? `uv ${version}` : 'not a working uv'}; possum-cdk needs uv ${UV_VERSION}. ` +
        `Point POSSUM_UV at uv ${UV_VERSION}, or unset it to let possum-cdk install that version into its cache.`);
    }
    found.set(memoKey, explicit);
    return explicit;
  }
  const uvOnPath = onPath('uv');
  if (uvOnPath && uvVersionOf(uvOnPath) === UV_VERSION) {
    found.set(memoKey, uvOnPath);
    return uvOnPath;
  }
  const cache = new BuildCache(cacheRoot);
  const home = cache.toolPath(`uv-${UV_VERSION}`);
  const binary = path.join(home, 'bin', process.platform === 'win32' ? 'uv.exe' : 'uv');
  const ready = () => fs.existsSync(binary) && uvVersionOf(binary) === UV_VERSION;
  if (!ready()) {
    cache.withLock(`uv-${UV_VERSION}`, () => {
      if (ready()) return;
      progress(`installing uv ${UV_VERSION} (it resolves dependencies for the Lambda target) into ${home}`);
      const scratch = cache.scratch();
      try {
        const requirements = path.join(scratch, 'uv-requirements.txt');
        fs.writeFileSync(requirements, `uv==${UV_VERSION} ${UV_WHEEL_HASHES.map(h => `--hash=sha256:${h}`).join(' ')}\n`);
        const target = path.join(scratch, 'uv');
        const r = spawnSync(python, ['-m', 'pip', 'install', '--target', target, '--only-binary=:all:', '--no-deps', '--no-compile',
          '--require-hashes', '--progress-bar', 'off', '-r', requirements], { env: pipEnv, encoding: 'utf8' });
        if (r.error || r.status !== 0) {
          const said = (r.error?.message ?? `${r.stderr}\n${r.stdout}`).split('\n').filter(l => /ERROR|error/.test(l)).slice(-5).join('\n');
          throw new Error(`possum-cdk needs uv ${UV_VERSION} and could not install it with ${python} -m pip from your package index ` +
            `(${said.trim() || `exit code ${r.status}`}). Install uv ${UV_VERSION} (pip install uv==${UV_VERSION}) and put it on PATH, ` +
            'or point POSSUM_UV at it.');
        }
        fs.rmSync(home, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(home), { recursive: true });
        fs.renameSync(target, home);
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    }, undefined, `another process installing uv ${UV_VERSION}`);
  }
  if (!ready()) throw new Error(`uv ${UV_VERSION} was installed into ${home} but ${binary} does not run; remove ${home} and try again.`);
  found.set(memoKey, binary);
  return binary;
}

/**
 * Has uv look at the interpreter once, ahead of several uv runs that start together. uv
 * keeps what it learns about an interpreter in its cache, but runs that start before it is
 * there each start the interpreter to ask (about a tenth of a second of CPU apiece). A
 * failure is left for the real run to report.
 */
export function learnInterpreter(uv: string, python: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise(resolve => {
    const child = spawn(uv, ['python', 'find', '--no-config', python], { env, stdio: 'ignore' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

function uvVersionOf(binary: string): string | undefined {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /uv (\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
}
