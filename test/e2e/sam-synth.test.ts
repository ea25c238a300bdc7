import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, run, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';

const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const CFN_LINT = path.join(REPO_ROOT, '.tools', 'bin', 'cfn-lint');
const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'sam-app.js');

const local = useLocalIndex('sam-e2e');

test('cdk synth of a SAM app through SamTemplatePackager; cfn-lint (with the SAM transform) accepts it', () => {
  const dir = path.join(local.work, 'sam');
  writeTree(dir, {
    'template.yaml': [
      "AWSTemplateFormatVersion: '2010-09-09'",
      'Transform: AWS::Serverless-2016-10-31',
      'Parameters:', '  Stage:', '    Type: String', '    Default: dev',
      'Globals:', '  Function:', '    Runtime: python3.12', '    CodeUri: src/', '    Handler: app.handler', '    Timeout: 10',
      '    Environment:', '      Variables:', '        STAGE: !Ref Stage',
      'Resources:',
      '  Deps:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: layer/',
      '      CompatibleRuntimes: [python3.12]', '    Metadata:', '      BuildMethod: python3.12',
      '  Api:', '    Type: AWS::Serverless::Function', '    Properties:', '      Layers: [!Ref Deps]',
      '      Events:', '        Get:', '          Type: HttpApi', '          Properties:', '            Path: /', '            Method: get',
      '  Worker:', '    Type: AWS::Serverless::Function', '    Properties:', '      Handler: app.other', '      Architectures: [arm64]',
    ].join('\n') + '\n',
    'src/app.py': 'import greeting\n\ndef handler(event, context):\n    return greeting.greet("api")\n\ndef other(event, context):\n    return 1\n',
    'src/requirements.txt': 'greeting==1.0\n',
    'layer/requirements.txt': 'withdeps==1.0\n',
  });
  const outdir = path.join(local.work, 'cdk.out');
  const r = run(CDK, ['synth', '--app', `node ${APP}`, '--output', outdir, '--no-notices', '--quiet'], {
    cwd: local.work,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', SAM_TEMPLATE: path.join(dir, 'template.yaml'), SAM_CACHE: path.join(local.work, 'cache'), SAM_INDEX_URL: local.index.url() },
    timeoutMs: 600_000,
  });
  expect(r.stderr).not.toMatch(/docker/i);
  expect(r.status).toBe(0);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'SamApp.template.json'), 'utf8'));
  expect(template.Transform).toBe('AWS::Serverless-2016-10-31');
  expect(template.Resources.Api.Properties.CodeUri).toEqual({ Bucket: expect.anything(), Key: expect.stringMatching(/\.zip$/) });
  expect(template.Resources.Deps.Properties.ContentUri.Key).toMatch(/\.zip$/);
  const lint = run(CFN_LINT, ['--ignore-checks', 'W3005', '--', path.join(outdir, 'SamApp.template.json')]);
  expect(lint.stdout + lint.stderr).toBe('');
  expect(lint.status).toBe(0);
});
