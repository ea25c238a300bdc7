import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PythonPipfileFunction } from '../../src';
import { REPO_ROOT, tempDir, unzipWithPython, writeTree } from '../helpers/run';
import { RuntimeApi } from '../helpers/runtime-api';
import { useLocalIndex } from '../helpers/wheelhouse';

/** The tools venv's Python: 3.11 with awslambdaric from PyPI, matching the python3.11 runtime. */
const TOOLS_PYTHON = path.join(REPO_ROOT, '.tools', 'bin', 'python');

const local = useLocalIndex('lambda-rt');

/** Synthesizes a python3.11 x86_64 function and lays its bundle out as Lambda does in /var/task. */
function deploy(label: string, nestedThresholdBytes?: number) {
  const entry = path.join(tempDir(label), 'fn');
  writeTree(entry, {
    'index.py': [
      'import os, greeting, fastmath',
      'COLD = {"greeting_from": greeting.__file__}',
      'def handler(event, context):',
      '    return {"greet": greeting.greet(event["name"]), "variant": fastmath.VARIANT,',
      '            "request_id": context.aws_request_id, "cold": COLD}',
      '',
    ].join('\n'),
    'requirements.txt': 'greeting==1.0\nfastmath==1.0\n',
  });
  const app = new cdk.App({ outdir: tempDir(`${label}-out`) });
  const stack = new cdk.Stack(app, 'S');
  new PythonPipfileFunction(stack, 'Fn', {
    entry,
    runtime: lambda.Runtime.PYTHON_3_11,
    bundling: { indexUrl: local.index.url(), cacheDir: path.join(local.work, 'cache'), nestedThresholdBytes },
  });
  const assembly = app.synth();
  const props = (Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as any).Properties;
  const task = path.join(tempDir(`${label}-task`), 'var-task');
  unzipWithPython(path.join(assembly.directory, `asset.${props.Code.S3Key}`), task);
  return { task, handler: props.Handler as string, env: (props.Environment?.Variables ?? {}) as Record<string, string> };
}

describe('bundles run under the real Lambda runtime client (awslambdaric) over the Runtime API', () => {
  test.each([
    ['a plain bundle', undefined],
    ['a nested bundle', 100],
  ])('%s: init imports the handler, invocations return its results', async (label, threshold) => {
    const fn = deploy(label.replace(/ /g, '-'), threshold);
    const tmp = tempDir('lambda-tmp');
    const api = await RuntimeApi.start();
    try {
      api.startRuntime(TOOLS_PYTHON, fn.task, fn.handler, { ...fn.env, POSSUM_EXTRACT_ROOT: tmp });
      const first = await api.invoke({ name: 'possum' });
      expect(first).toMatchObject({ ok: true, body: { greet: 'hello possum', variant: 'cp311 manylinux2014 x86_64' } });
      expect(api.initErrors).toEqual([]);
      const second = await api.invoke({ name: 'again' });
      expect(second.body.greet).toBe('hello again');
      expect(second.body.request_id).not.toBe(first.body.request_id);
      if (threshold) {
        expect(fn.handler).toBe('_possum_loader.handler');
        expect(first.body.cold.greeting_from.startsWith(path.join(tmp, 'possum-'))).toBe(true);
        expect(api.log.match(/possum-cdk loader: unpacked/g)).toHaveLength(1); // once, at init
      } else {
        expect(fn.handler).toBe('index.handler');
        expect(first.body.cold.greeting_from.startsWith(fn.task)).toBe(true);
      }
    } finally {
      await api.stop();
    }
  });
});
