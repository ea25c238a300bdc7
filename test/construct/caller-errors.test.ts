import * as cdk from 'aws-cdk-lib';
import { PythonPipfileFunction, SamTemplatePackager } from '../../src';
import { forCaller } from '../../src/private/caller-errors';

const saved = { agent: process.env.JSII_AGENT, debug: process.env.JSII_DEBUG };
afterEach(() => {
  for (const [key, value] of [['JSII_AGENT', saved.agent], ['JSII_DEBUG', saved.debug]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function thrown(build: () => unknown): Error {
  try {
    build();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('errors for callers in other languages', () => {
  test('TypeScript callers get the error untouched, stack and all', () => {
    delete process.env.JSII_AGENT;
    const e = thrown(() => new PythonPipfileFunction(new cdk.Stack(), 'Fn', { entry: '/no/such/folder' }));
    expect(e.name).toBe('Error');
    expect(e.message).toBe('Default/Fn: entry /no/such/folder is not a folder (resolved to /no/such/folder); point entry at the function\'s folder.');
    expect(e.stack).toMatch(/\n\s+at /);
  });

  test('under jsii a constructor error is a library error with our message and an empty stack', () => {
    process.env.JSII_AGENT = 'Python/3.11.7';
    delete process.env.JSII_DEBUG;
    const e = thrown(() => new PythonPipfileFunction(new cdk.Stack(), 'Fn', { entry: '/no/such/folder' }));
    expect(e.name).toBe('@jsii/kernel.RuntimeError');
    expect(e.message).toMatch(/^Default\/Fn: entry \/no\/such\/folder is not a folder/);
    expect(e.stack).toBe('');
    // The kernel serializes the error with JSON: the stack field is there, and empty.
    expect(JSON.parse(JSON.stringify({ error: e.message, name: e.name, stack: e.stack })).stack).toBe('');

    const missing = thrown(() => new SamTemplatePackager(new cdk.Stack(), 'Sam', { templateFile: '/no/template.yaml' }));
    expect([missing.name, missing.stack]).toEqual(['@jsii/kernel.RuntimeError', '']);
  });

  test('for Java the stack is left out altogether (its runtime appends any stack to the message)', () => {
    process.env.JSII_AGENT = 'Java/17.0.15';
    delete process.env.JSII_DEBUG;
    const e = thrown(() => new PythonPipfileFunction(new cdk.Stack(), 'Fn', { entry: '/no/such/folder' }));
    expect(e.name).toBe('@jsii/kernel.RuntimeError');
    expect(e.stack).toBeUndefined();
    expect(JSON.parse(JSON.stringify({ error: e.message, name: e.name, stack: e.stack }))).not.toHaveProperty('stack');
  });

  test('JSII_DEBUG keeps the stack; values that are not Errors pass through', () => {
    process.env.JSII_AGENT = 'Python/3.11.2';
    process.env.JSII_DEBUG = '1';
    const e = new Error('kept');
    expect(forCaller(e)).toBe(e);
    expect(e.stack).toMatch(/^Error: kept\n\s+at /);
    delete process.env.JSII_DEBUG;
    expect(forCaller('a string')).toBe('a string');
  });
});
