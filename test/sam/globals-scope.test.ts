import * as fs from 'fs';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as sam from 'aws-cdk-lib/aws-sam';
import { SamTemplatePackager } from '../../src';
import { globalsReaching } from '../../src/private/sam/globals';
import { tempDir, writeTree } from '../helpers/run';
import { samCheckBatch } from '../helpers/sam-corpora';

/**
 * A stack is one template to SAM, so the Globals of a template included with
 * SamTemplatePackager would also apply to every SAM resource something else put in the
 * stack. Which resources a Globals section reaches is checked here against the real SAM
 * translator, and the fix the error names (a nested stack) is synthesized and translated.
 * The functions have inline code: nothing here installs anything.
 */

function inlineFunction(name: string, extra: string[] = []) {
  return [`  ${name}:`, '    Type: AWS::Serverless::Function', '    Properties:', '      Runtime: python3.12', '      Handler: index.handler',
    '      InlineCode: "def handler(e, c): return 1"', ...extra.map(l => `      ${l}`)];
}

function template(dir: string, name: string, lines: string[]): string {
  writeTree(dir, { [name]: ['AWSTemplateFormatVersion: "2010-09-09"', 'Transform: AWS::Serverless-2016-10-31', ...lines, ''].join('\n') });
  return path.join(dir, name);
}

const WITH_GLOBALS = ['Globals:', '  Function:', '    Timeout: 30', 'Resources:', ...inlineFunction('FnA')];

function synthError(build: (stack: cdk.Stack, dir: string) => void): string | undefined {
  const dir = tempDir('sam-globals');
  const app = new cdk.App({ outdir: path.join(dir, 'out') });
  const stack = new cdk.Stack(app, 'S');
  build(stack, dir);
  try {
    app.synth();
    return undefined;
  } catch (e: any) {
    return String(e.message);
  }
}

describe('the Globals of an included template', () => {
  test('reaching another template\'s functions in the stack is an error naming both, the section and the fix', () => {
    const message = synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', WITH_GLOBALS) });
      new SamTemplatePackager(stack, 'B', { templateFile: template(dir, 'b.yaml', ['Resources:', ...inlineFunction('FnB'), ...inlineFunction('FnC')]) });
    });
    expect(message).toContain('[S/A]');
    expect(message).toMatch(/a\.yaml has Globals, and SAM applies a stack's Globals to every SAM resource in the stack, so they would also change S\/B\/Resources\/FnB \(AWS::Serverless::Function, by Globals\.Function\); S\/B\/Resources\/FnC \(AWS::Serverless::Function, by Globals\.Function\), which are not from this template/);
    expect(message).toContain('cdk.NestedStack');
    expect(message).not.toContain('FnA');
  });

  test('reaching an aws-sam CfnFunction of the app is an error too; resources it does not reach are fine', () => {
    const message = synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', WITH_GLOBALS) });
      new sam.CfnFunction(stack, 'Own', { runtime: 'python3.12', handler: 'index.handler', inlineCode: 'def handler(e, c): return 1' });
    });
    expect(message).toMatch(/would also change S\/Own \(AWS::Serverless::Function, by Globals\.Function\), which is not from this template/);

    expect(synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', WITH_GLOBALS) });
      new SamTemplatePackager(stack, 'B', { templateFile: template(dir, 'b.yaml', ['Resources:', '  T:', '    Type: AWS::Serverless::SimpleTable']) });
      new cdk.CfnResource(stack, 'Q', { type: 'AWS::SQS::Queue' });
    })).toBeUndefined();
  });

  test('Globals.Api reaches the API SAM makes for another template\'s event, and not an HttpApi event', () => {
    const apiGlobals = ['Globals:', '  Api:', '    TracingEnabled: true', 'Resources:', '  Q:', '    Type: AWS::SQS::Queue'];
    expect(synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', apiGlobals) });
      new SamTemplatePackager(stack, 'B', { templateFile: template(dir, 'b.yaml', ['Resources:', ...inlineFunction('FnB', ['Events: {Get: {Type: Api, Properties: {Path: /, Method: get}}}'])]) });
    })).toMatch(/S\/B\/Resources\/FnB \(AWS::Serverless::Function, by Globals\.Api\)/);
    expect(synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', apiGlobals) });
      new SamTemplatePackager(stack, 'B', { templateFile: template(dir, 'b.yaml', ['Resources:', ...inlineFunction('FnB', ['Events: {Get: {Type: HttpApi}}'])]) });
    })).toBeUndefined();
  });

  test('two templates with the same Globals section: said once, by the later', () => {
    const message = synthError((stack, dir) => {
      new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', WITH_GLOBALS) });
      new SamTemplatePackager(stack, 'B', { templateFile: template(dir, 'b.yaml', ['Globals:', '  Function:', '    MemorySize: 512', 'Resources:', '  Q:', '    Type: AWS::SQS::Queue']) });
    })!;
    expect(message).toMatch(/\[S\/B\] .*b\.yaml and .*a\.yaml \(at S\/A\) both have Globals\.Function, and one stack has one Globals section/);
    expect(message.match(/both have/g)).toHaveLength(1);
  });

  test('the fix the error names works: the other template in a nested stack, checked with the real SAM translator', () => {
    const dir = tempDir('sam-globals-nested');
    const app = new cdk.App({ outdir: path.join(dir, 'out') });
    const stack = new cdk.Stack(app, 'S');
    new SamTemplatePackager(stack, 'A', { templateFile: template(dir, 'a.yaml', WITH_GLOBALS) });
    new SamTemplatePackager(new cdk.NestedStack(stack, 'N'), 'B', { templateFile: template(dir, 'b.yaml', ['Resources:', ...inlineFunction('FnB')]) });
    app.synth();
    const out = path.join(dir, 'out');
    const nested = fs.readdirSync(out).filter(f => f.endsWith('.nested.template.json'));
    expect(nested).toHaveLength(1);
    const [top, inner] = samCheckBatch([path.join(out, 'S.template.json'), path.join(out, nested[0])].map(t => ({ command: 'translate', template: t })));
    expect(top.ok).toBe(true);
    expect(inner.ok).toBe(true);
    const lambdas = (t: any) => Object.values<any>(t.Resources).filter(r => r.Type === 'AWS::Lambda::Function');
    expect(lambdas(top.result).map(r => r.Properties.Timeout)).toEqual([30]);
    expect(lambdas(inner.result).map(r => r.Properties.Timeout)).toEqual([undefined]);
  });
});

/**
 * globalsReaching against the translator: for each resource, the translation with one
 * Globals section differs from the translation without it exactly when globalsReaching
 * says the section reaches the resource.
 */
test('which resources a Globals section reaches agrees with the real SAM translator', () => {
  const sections: Record<string, any> = {
    Function: { Timeout: 30 },
    Api: { TracingEnabled: true },
    HttpApi: { FailOnWarnings: true },
    SimpleTable: { SSESpecification: { SSEEnabled: true } },
    StateMachine: { PropagateTags: true },
  };
  const code = { Runtime: 'python3.12', Handler: 'index.handler', InlineCode: 'def handler(e, c): return 1' };
  const resources: Record<string, any> = {
    plainFunction: { Type: 'AWS::Serverless::Function', Properties: code },
    apiEvent: { Type: 'AWS::Serverless::Function', Properties: { ...code, Events: { Get: { Type: 'Api', Properties: { Path: '/', Method: 'get' } } } } },
    httpApiEvent: { Type: 'AWS::Serverless::Function', Properties: { ...code, Events: { Get: { Type: 'HttpApi' } } } },
    sqsEvent: { Type: 'AWS::Serverless::Function', Properties: { ...code, Events: { Q: { Type: 'SQS', Properties: { Queue: 'arn:aws:sqs:us-east-1:123456789012:q' } } } } },
    api: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'prod', DefinitionBody: { openapi: '3.0.1', info: { title: 't', version: '1' }, paths: {} } } },
    httpApi: { Type: 'AWS::Serverless::HttpApi' },
    table: { Type: 'AWS::Serverless::SimpleTable' },
    stateMachine: { Type: 'AWS::Serverless::StateMachine', Properties: { Definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, Policies: [], Tags: { team: 'x' } } },
    queue: { Type: 'AWS::SQS::Queue' },
  };
  const dir = tempDir('sam-globals-reach');
  const cases: Array<{ resource: string; section?: string; file: string }> = [];
  for (const resource of Object.keys(resources)) {
    for (const section of [undefined, ...Object.keys(sections)]) {
      const file = path.join(dir, `${resource}-${section ?? 'none'}.json`);
      fs.writeFileSync(file, JSON.stringify({
        Transform: 'AWS::Serverless-2016-10-31',
        ...(section ? { Globals: { [section]: sections[section] } } : {}),
        Resources: { R: resources[resource] },
      }));
      cases.push({ resource, section, file });
    }
  }
  const translated = samCheckBatch(cases.map(c => ({ command: 'translate', template: c.file })));
  const failed = translated.map((t, i) => ({ t, c: cases[i] })).filter(({ t }) => !t.ok);
  expect(failed.map(({ c, t }) => `${path.basename(c.file)}: ${JSON.stringify(t.result ?? t.error)}`)).toEqual([]);
  const output = new Map(cases.map((c, i) => [`${c.resource}/${c.section ?? ''}`, JSON.stringify(translated[i].result)]));
  const seen: string[] = [];
  const predicted: string[] = [];
  for (const resource of Object.keys(resources)) {
    for (const section of Object.keys(sections)) {
      if (output.get(`${resource}/${section}`) !== output.get(`${resource}/`)) seen.push(`${resource} by ${section}`);
      const r = resources[resource];
      if (globalsReaching({ [section]: sections[section] }, r.Type, r.Properties).length > 0) predicted.push(`${resource} by ${section}`);
    }
  }
  expect(predicted).toEqual(seen);
  // The cases mean something: every section reaches something, and some resources nothing.
  expect(seen).toEqual(expect.arrayContaining(['plainFunction by Function', 'apiEvent by Api', 'httpApiEvent by HttpApi', 'api by Api',
    'httpApi by HttpApi', 'table by SimpleTable', 'stateMachine by StateMachine']));
  expect(seen.filter(s => s.startsWith('queue') || s.startsWith('sqsEvent by Api'))).toEqual([]);
});
