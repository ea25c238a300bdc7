import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PythonPipfileFunction, SourceBuilds } from '../../src';
import { nestedEphemeralStorageMb } from '../../src/private/ephemeral-storage';
import { tempDir, writeTree } from '../helpers/run';

describe('/tmp sizing for nested bundles', () => {
  const MiB = 1024 * 1024;
  test('the tree beside the usual 512 MB', () => {
    expect(nestedEphemeralStorageMb('F', 300 * MiB, 1000, undefined, '')).toEqual({ sizeMb: 300 + 4 + 16 + 512, treeMb: 320, tight: false });
  });

  test('never less than the user asked for', () => {
    expect(nestedEphemeralStorageMb('F', 300 * MiB, 1000, 4096, '').sizeMb).toBe(4096);
  });

  test('capped at 10,240 MB when the tree fits but the usual headroom does not', () => {
    expect(nestedEphemeralStorageMb('F', 10_000 * MiB, 0, undefined, '')).toEqual({ sizeMb: 10_240, treeMb: 10_016, tight: true });
  });

  test('a tree that cannot fit in 10,240 MB is an error naming the sizes', () => {
    expect(() => nestedEphemeralStorageMb('S/Fn', 10_300 * MiB, 10, undefined, 'torch 9.0 GB'))
      .toThrow("S/Fn: the bundle unpacks to 10317 MB in /tmp, more than Lambda's largest ephemeral storage (10240 MB). Largest: torch 9.0 GB.");
  });
});

describe('SourceBuilds.ALL', () => {
  test('refuses to build for a runtime or architecture this machine does not match', () => {
    const dir = path.join(tempDir('bfs'), 'fn');
    writeTree(dir, { 'index.py': 'def handler(e, c):\n    return 1\n', 'requirements.txt': 'somepkg==1.0\n' });
    const stack = new cdk.Stack(new cdk.App({ outdir: tempDir('bfs-out') }), 'S');
    expect(() => new PythonPipfileFunction(stack, 'Fn', {
      entry: dir,
      runtime: lambda.Runtime.PYTHON_3_13,
      architecture: lambda.Architecture.ARM_64,
      bundling: { sourceBuilds: SourceBuilds.ALL, cacheDir: path.join(tempDir('bfs-cache'), 'c') },
    })).toThrow(/bundling\.sourceBuilds SourceBuilds\.ALL builds sources with this machine's \S*python3 \(Python 3\.\d+ on linux x86_64\), but the function runs python3\.13 on arm64/);
  });
});
