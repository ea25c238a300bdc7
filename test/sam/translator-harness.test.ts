/**
 * The Python side of the packaging proof: test/fixtures/sam_check.py reads templates the way
 * SAM and CloudFormation do, runs the real SAM translator offline, compares an original and
 * a packaged template, and runs cfn-lint. These tests pin down that each check can both pass
 * and fail, then translate every SAM template of a third-party corpus (cfn-lint's fixtures,
 * fetched from PyPI at test time).
 */
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeTree } from '../helpers/run';
import { fetchCorpus, samCheck, samCheckBatch, samTemplates, surveyTranslation } from '../helpers/sam-corpora';

/** The shape of `sam init`'s hello-world app, written for these tests. */
const HELLO = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: greeter

Globals:
  Function:
    Timeout: 3
    MemorySize: 128

Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Architectures:
        - x86_64
      Policies:
        - ComprehendBasicAccessPolicy: {}
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get

Outputs:
  HelloWorldApi:
    Description: URL of the Prod stage
    Value: !Sub "https://\${ServerlessRestApi}.execute-api.\${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Value: !GetAtt HelloWorldFunctionRole.Arn
`;

const CODE_URI = ['Resources', 'HelloWorldFunction', 'Properties', 'CodeUri'];
const PACKAGED_URI = 's3://deploy-bucket/3f9a1c.zip';

function files(tree: Record<string, string>): string {
  const dir = tempDir('sam-check');
  writeTree(dir, tree);
  return dir;
}

function equivalent(dir: string, original: string, packaged: string, changed: unknown) {
  return samCheck(['equivalent', '--original', path.join(dir, original), '--packaged', path.join(dir, packaged),
    '--changed', JSON.stringify(changed)]);
}

describe('parse reads a template as SAM and CloudFormation do', () => {
  const dir = files({
    'template.yaml': `Transform: AWS::Serverless-2016-10-31
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: N
      PointInTimeRecoverySpecification:
        PointInTimeRecoveryEnabled: yes
  Schedule:
    Type: AWS::Scheduler::Schedule
    Properties:
      FlexibleTimeWindow:
        Mode: 'OFF'
      ScheduleExpression: rate(1 hour)
      Target: {Arn: !GetAtt Fn.Arn, RoleArn: !Sub '\${Role.Arn}', Input: !Ref AWS::NoValue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Runtime: python3.12
      Timeout: 010
      Policies:
        - Version: 2012-10-17
          Statement: [{Effect: Allow, Action: 's3:GetObject', Resource: '*'}]
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      OpenApiVersion: 3.0
`,
  });
  const r = samCheck(['parse', path.join(dir, 'template.yaml'), '--types']);

  test('exits 0 with the template and its non-string scalar types', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Object.keys(r.json)).toEqual(['template', 'types']);
  });

  test('dates, N, a quoted OFF and . stay strings; yes is a YAML 1.1 boolean; 010 is octal', () => {
    const res = r.json.template.Resources;
    expect(res.Fn.Properties.Policies[0].Version).toBe('2012-10-17');
    expect(res.Table.Properties.AttributeDefinitions[0].AttributeType).toBe('N');
    expect(res.Schedule.Properties.FlexibleTimeWindow.Mode).toBe('OFF');
    expect(res.Fn.Properties.CodeUri).toBe('.');
    expect(res.Table.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
    expect(res.Fn.Properties.Timeout).toBe(8);
  });

  test('OpenApiVersion: 3.0 stays the float 3.0 (neither the string "3.0" nor the integer 3)', () => {
    expect(r.json.types['/Resources/Api/Properties/OpenApiVersion']).toBe('float');
    expect(r.stdout).toMatch(/"OpenApiVersion": 3\.0\b/);
    expect(r.json.types['/Resources/Fn/Properties/Timeout']).toBe('int');
  });

  test('short-form tags become the long form', () => {
    const target = r.json.template.Resources.Schedule.Properties.Target;
    expect(target).toEqual({ Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, RoleArn: { 'Fn::Sub': '${Role.Arn}' }, Input: { Ref: 'AWS::NoValue' } });
  });

  test('a file that is not a template fails', () => {
    const bad = files({ 'list.yaml': '- just\n- a list\n', 'broken.yaml': 'a: [unclosed\n' });
    for (const f of ['list.yaml', 'broken.yaml']) {
      const b = samCheck(['parse', path.join(bad, f)]);
      expect(b.status).toBe(1);
      expect(b.json.error).toBeTruthy();
    }
  });
});

describe('translate runs the real SAM transform offline', () => {
  const dir = files({ 'template.yaml': HELLO, 'hello_world/app.py': 'def lambda_handler(e, c):\n    return {}\n' });
  const r = samCheck(['translate', path.join(dir, 'template.yaml')]);

  test('the hello-world shape becomes plain CloudFormation', () => {
    expect(r.status).toBe(0);
    const resources = r.json.Resources;
    const types = Object.fromEntries(Object.entries<any>(resources).map(([id, res]) => [id, res.Type]));
    expect(types).toMatchObject({
      HelloWorldFunction: 'AWS::Lambda::Function',
      HelloWorldFunctionRole: 'AWS::IAM::Role',
      ServerlessRestApi: 'AWS::ApiGateway::RestApi',
      ServerlessRestApiProdStage: 'AWS::ApiGateway::Stage',
      HelloWorldFunctionHelloWorldPermissionProd: 'AWS::Lambda::Permission',
    });
    expect(Object.keys(types).filter(id => /^ServerlessRestApiDeployment[0-9a-f]{10}$/.test(id))).toHaveLength(1);
    expect(Object.values(types).filter(t => t.startsWith('AWS::Serverless::'))).toEqual([]);
    expect(r.json.Transform).toBeUndefined();
  });

  test('Globals are merged, the policy template expanded, the local CodeUri given a placeholder S3 location', () => {
    const fn = r.json.Resources.HelloWorldFunction.Properties;
    expect(fn.Timeout).toBe(3);
    expect(fn.MemorySize).toBe(128);
    expect(fn.Code).toEqual({ S3Bucket: 'possum-local-placeholder', S3Key: 'hello_world/' });
    const statements = r.json.Resources.HelloWorldFunctionRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements[0].Action).toContain('comprehend:DetectSentiment');
  });

  test('every resource the Outputs name exists after the transform', () => {
    const named = new Set<string>();
    JSON.stringify(r.json.Outputs, (key, value) => {
      if (key === 'Fn::GetAtt') named.add(value[0]);
      if (key === 'Fn::Sub') for (const m of String(value).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) named.add(m[1]);
      return value;
    });
    expect([...named].sort()).toEqual(['HelloWorldFunction', 'HelloWorldFunctionRole', 'ServerlessRestApi']);
    for (const id of named) expect(r.json.Resources[id]).toBeDefined();
  });

  test('an invalid template fails with the translator\'s messages', () => {
    const bad = files({ 'template.yaml': HELLO.replace('Path: /hello', 'Path: /hello\n            RestApiId: !Ref NoSuchApi') });
    const b = samCheck(['translate', path.join(bad, 'template.yaml')]);
    expect(b.status).toBe(1);
    expect(b.json.errors.join('\n')).toMatch(/RestApiId must be a valid reference/);
  });

  test('generated lists what a template may reference without declaring it', () => {
    const g = samCheck(['generated', path.join(dir, 'template.yaml')]);
    expect(g.status).toBe(0);
    expect(g.json.generated).toMatchObject({ ServerlessRestApi: 'AWS::ApiGateway::RestApi', HelloWorldFunctionRole: 'AWS::IAM::Role' });
    expect(g.json.generated.HelloWorldFunction).toBeUndefined();
  });
});

describe('equivalent: packaging may change only the declared paths', () => {
  const packaged = HELLO.replace('CodeUri: hello_world/', `CodeUri: ${PACKAGED_URI}`);
  const dir = files({
    'template.yaml': HELLO,
    'packaged.yaml': packaged,
    'timeout.yaml': packaged.replace('Timeout: 3', 'Timeout: 4'),
    'no-policy.yaml': packaged.replace('      Policies:\n        - ComprehendBasicAccessPolicy: {}\n', ''),
    'nested.yaml': packaged.replace('Handler: app.lambda_handler', 'Handler: possum_loader.handler\n      EphemeralStorage:\n        Size: 2048\n'
      + '      Environment:\n        Variables:\n          POSSUM_HANDLER: app.lambda_handler'),
  });

  test('a template against itself with its CodeUri packaged passes', () => {
    const r = equivalent(dir, 'template.yaml', 'packaged.yaml', [CODE_URI]);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      structural: { equal: true, count: 0 },
      translated: { equal: true, count: 0, errors: { original: null, packaged: null } },
      undeclared_changes: [],
      declared_unchanged: [],
    });
  });

  test('the same CodeUri change, undeclared, is reported', () => {
    const r = equivalent(dir, 'template.yaml', 'packaged.yaml', []);
    expect(r.status).toBe(1);
    expect(r.json.undeclared_changes).toEqual([CODE_URI]);
    expect(r.json.structural.differences).toEqual([{ path: CODE_URI, original: 'hello_world/', packaged: PACKAGED_URI }]);
  });

  test('a declared path that did not change is listed', () => {
    const r = equivalent(dir, 'template.yaml', 'packaged.yaml', [CODE_URI, ['Resources', 'HelloWorldFunction', 'Properties', 'Handler']]);
    expect(r.status).toBe(0);
    expect(r.json.declared_unchanged).toEqual([['Resources', 'HelloWorldFunction', 'Properties', 'Handler']]);
  });

  test('a changed Timeout fails, in the template and in its translation', () => {
    const r = equivalent(dir, 'template.yaml', 'timeout.yaml', [CODE_URI]);
    expect(r.status).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.json.undeclared_changes).toEqual([['Globals', 'Function', 'Timeout']]);
    expect(r.json.structural.differences).toEqual([{ path: ['Globals', 'Function', 'Timeout'], original: 3, packaged: 4 }]);
    expect(r.json.translated.differences).toEqual([
      { path: ['Resources', 'HelloWorldFunction', 'Properties', 'Timeout'], original: 3, packaged: 4 },
    ]);
  });

  test('a parameter-less policy template that disappears fails', () => {
    const r = equivalent(dir, 'template.yaml', 'no-policy.yaml', [CODE_URI]);
    expect(r.status).toBe(1);
    expect(r.json.structural.differences[0].path).toEqual(['Resources', 'HelloWorldFunction', 'Properties', 'Policies']);
    expect(r.json.translated.equal).toBe(false);
    expect(r.json.translated.differences.map((d: any) => d.path)).toContainEqual(['Resources', 'HelloWorldFunctionRole', 'Properties', 'Policies']);
  });

  test('a nested bundle passes with Handler, POSSUM_HANDLER and EphemeralStorage declared, and fails without', () => {
    const props = ['Resources', 'HelloWorldFunction', 'Properties'];
    const nested = [CODE_URI, [...props, 'Handler'], [...props, 'EphemeralStorage'], [...props, 'Environment', 'Variables', 'POSSUM_HANDLER']];
    const ok = equivalent(dir, 'template.yaml', 'nested.yaml', nested);
    expect(ok.status).toBe(0);
    expect(ok.json.ok).toBe(true);
    const missing = equivalent(dir, 'template.yaml', 'nested.yaml', nested.slice(0, 3));
    expect(missing.status).toBe(1);
    expect(missing.json.undeclared_changes).toEqual([[...props, 'Environment']]);
    expect(missing.json.translated.differences[0].path).toEqual(['Resources', 'HelloWorldFunction', 'Properties', 'Environment']);
  });

  test('bad --changed is a usage error, not a verdict', () => {
    const r = equivalent(dir, 'template.yaml', 'packaged.yaml', { not: 'a list' });
    expect(r.status).toBe(1);
    expect(r.json.error).toMatch(/--changed/);
  });
});

describe('equivalent on a CDK-synthesized template', () => {
  const original = `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get: {Type: HttpApi, Properties: {Path: /items, Method: get, ApiId: !Ref Api}}
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Token:
            FunctionArn: !GetAtt Fn.Arn
            AuthorizerPayloadFormatVersion: 2.0
        DefaultAuthorizer: Token
  Docs:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      OpenApiVersion: 3.0
`;
  /** What `cdk synth` makes of it: CfnInclude's resources with CDK's additions (hand-written). */
  function synthesized(edit: (t: any) => void = () => {}): string {
    const assets = { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' };
    const t: any = {
      Transform: 'AWS::Serverless-2016-10-31',
      Resources: {
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            CodeUri: { Bucket: assets, Key: '5d0c1fe8a4b7.zip' },
            Handler: 'app.handler',
            Runtime: 'python3.12',
            Events: { Get: { Type: 'HttpApi', Properties: { Path: '/items', Method: 'get', ApiId: { Ref: 'Api' } } } },
          },
          Metadata: {
            'aws:cdk:path': 'Stack/Sam/Template/Fn',
            'aws:asset:path': 'asset.5d0c1fe8a4b7',
            'aws:asset:is-bundled': true,
            'aws:asset:property': 'CodeUri',
          },
        },
        Api: {
          Type: 'AWS::Serverless::HttpApi',
          Properties: {
            Auth: {
              Authorizers: { Token: { FunctionArn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, AuthorizerPayloadFormatVersion: 2.0 } },
              DefaultAuthorizer: 'Token',
            },
          },
          Metadata: { 'aws:cdk:path': 'Stack/Sam/Template/Api' },
        },
        Docs: {
          Type: 'AWS::Serverless::Api',
          Properties: { StageName: 'v1', OpenApiVersion: 3.0 },
          Metadata: { 'aws:cdk:path': 'Stack/Sam/Template/Docs' },
        },
        CDKMetadata: {
          Type: 'AWS::CDK::Metadata',
          Properties: { Analytics: 'v2:deflate64:H4sIAAAAAAAA/zPSMzQw' },
          Metadata: { 'aws:cdk:path': 'Stack/CDKMetadata/Default' },
          Condition: 'CDKMetadataAvailable',
        },
      },
      Conditions: {
        CDKMetadataAvailable: { 'Fn::Or': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] }] },
      },
      Parameters: {
        BootstrapVersion: {
          Type: 'AWS::SSM::Parameter::Value<String>',
          Default: '/cdk-bootstrap/hnb659fds/version',
          Description: 'Version of the CDK Bootstrap resources in this environment',
        },
      },
      Rules: {
        CheckBootstrapVersion: {
          Assertions: [{
            Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '3', '4', '5'], { Ref: 'BootstrapVersion' }] }] },
            AssertDescription: 'CDK bootstrap stack version 6 required.',
          }],
        },
      },
    };
    edit(t);
    // JSON.stringify writes 2.0 and 3.0 as 2 and 3, as every JavaScript serializer would:
    // the floats are spelled back in by hand where a test wants them kept.
    return JSON.stringify(t, null, 1).replace(/"AuthorizerPayloadFormatVersion": 2/, '"AuthorizerPayloadFormatVersion": 2.0')
      .replace(/"OpenApiVersion": 3(?=\D)/, '"OpenApiVersion": 3.0');
  }
  const codeUri = ['Resources', 'Fn', 'Properties', 'CodeUri'];

  test('CDK\'s additions are stripped, and the packaged CodeUri is the only change', () => {
    const dir = files({ 'template.yaml': original, 'synth.json': synthesized() });
    const r = equivalent(dir, 'template.yaml', 'synth.json', [codeUri]);
    expect(r.stderr).not.toMatch(/DIFFERENT/);
    expect(r.status).toBe(0);
    expect(r.json.cdk.detected).toBe(true);
    expect(r.json.cdk.stripped).toEqual(expect.arrayContaining([
      'Resources/CDKMetadata', 'Conditions/CDKMetadataAvailable', 'Parameters/BootstrapVersion',
      'Rules/CheckBootstrapVersion', 'Resources/Fn/Metadata/aws:cdk:path', 'Resources/Fn/Metadata/aws:asset:path',
    ]));
    expect(r.json.undeclared_changes).toEqual([]);
  });

  test('a float that a JavaScript writer turned into an integer is caught', () => {
    // JSON.stringify(3.0) is "3": the translator then rejects OpenApiVersion, and an
    // AuthorizerPayloadFormatVersion of 2 would reach API Gateway as 2, not 2.0.
    const dir = files({
      'template.yaml': original,
      'synth.json': synthesized().replace('"OpenApiVersion": 3.0', '"OpenApiVersion": 3'),
    });
    const r = equivalent(dir, 'template.yaml', 'synth.json', [codeUri]);
    expect(r.status).toBe(1);
    expect(r.json.structural.differences).toEqual([{ path: ['Resources', 'Docs', 'Properties', 'OpenApiVersion'], original: 3.0, packaged: 3 }]);
    expect(r.json.translated.errors.packaged.join('\n')).toMatch(/OpenApiVersion/);
  });

  test('a CDK resource Metadata that is not CDK\'s own is kept, and compared', () => {
    const dir = files({
      'template.yaml': original,
      'synth.json': synthesized(t => { t.Resources.Api.Metadata.Owner = 'team-a'; }),
    });
    const r = equivalent(dir, 'template.yaml', 'synth.json', [codeUri]);
    expect(r.status).toBe(1);
    expect(r.json.undeclared_changes).toEqual([['Resources', 'Api', 'Metadata']]);
  });
});

describe('lint runs cfn-lint', () => {
  const dir = files({
    'template.yaml': HELLO,
    'packaged.yaml': HELLO.replace('CodeUri: hello_world/', `CodeUri: ${PACKAGED_URI}`),
    'worse.yaml': HELLO.replace('CodeUri: hello_world/', `CodeUri: ${PACKAGED_URI}`).replace('Timeout: 3', 'Timeout: 9999'),
  });

  test('no new finding for a template packaged without other changes', () => {
    const r = samCheck(['lint', path.join(dir, 'template.yaml'), path.join(dir, 'packaged.yaml')]);
    expect(r.status).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.new).toEqual([]);
  });

  test('a finding the original did not have is reported with its rule and path', () => {
    const r = samCheck(['lint', path.join(dir, 'template.yaml'), path.join(dir, 'worse.yaml')]);
    expect(r.status).toBe(1);
    expect(r.json.new).toEqual([expect.objectContaining({
      rule: 'E3034', path: ['Resources', 'HelloWorldFunction', 'Properties', 'Timeout'],
    })]);
  });

  test('one template: its findings', () => {
    const r = samCheck(['lint', path.join(dir, 'worse.yaml')]);
    expect(r.status).toBe(1);
    expect(r.json.findings.map((f: any) => f.rule)).toEqual(['E3034']);
  });
});

describe('third-party corpora, fetched from PyPI', () => {
  test('cfn-lint\'s fixture templates: every SAM template is found, and the valid ones translate', () => {
    const corpus = fetchCorpus('cfn-lint');
    expect(corpus.available).toBe(true);
    const sam = samTemplates(corpus);
    const survey = surveyTranslation(corpus);
    const rel = (f: string) => path.relative(corpus.templateDir, f);
    console.log(`cfn-lint ${corpus.version}: ${sam.length} SAM templates, ${survey.translated.length} translate cleanly; `
      + `failing:\n${survey.failed.map(f => `  ${rel(f.file)}: ${f.errors.slice(1, 2).join(' ') || f.errors[0]}`).join('\n')}`);
    expect(sam.length).toBeGreaterThanOrEqual(20);
    // A list-valued Transform counts too.
    expect(sam.some(f => Array.isArray(JSON.parse(samCheck(['parse', f]).stdout).Transform))).toBe(true);
    expect(survey.translated.length + survey.failed.length).toBe(sam.length);
    expect(survey.translated.length).toBeGreaterThan(sam.length / 2);
    // Every failure is the translator's own verdict on the template, not a harness crash.
    for (const f of survey.failed) expect(f.errors[0]).toMatch(/^Invalid Serverless Application Specification document/);

    // And the translation is deterministic: each template is equivalent to itself.
    const outcomes = samCheckBatch(survey.translated.map(f => ({ command: 'equivalent', original: f, packaged: f, changed: [] })));
    expect(outcomes.map((o, i) => o.ok ? '' : `${rel(survey.translated[i])}: ${o.error ?? JSON.stringify(o.result)}`).filter(Boolean)).toEqual([]);
  });

  test('aws-sam-translator\'s sdist: its own test inputs are pruned, so that corpus reports itself unavailable', () => {
    const corpus = fetchCorpus('aws-sam-translator');
    expect(fs.existsSync(path.join(corpus.root, 'samtranslator', 'translator', 'translator.py'))).toBe(true);
    if (corpus.available) {
      // A later sdist that ships them: then its valid inputs must translate and its error_ ones fail.
      const survey = surveyTranslation(corpus);
      expect(survey.translated.length).toBeGreaterThan(0);
      expect(survey.expectedFailures).toBeGreaterThan(0);
    } else {
      expect(corpus.reason).toMatch(/does not ship tests\/translator\/input/);
      expect(samTemplates(corpus)).toEqual([]);
    }
  });
});
