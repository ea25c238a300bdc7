/**
 * Robustness: SAM templates in the many shapes real ones take, generated here (look-alikes
 * of the SAM translator's test inputs, written for this project) and included with
 * SamTemplatePackager. Each must synthesize, or fail with our own error that names the
 * template; never crash. These are all valid, so each must synthesize.
 */
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { SamTemplatePackager } from '../../src';
import { tempDir, writeTree } from '../helpers/run';

/** Resource snippets (YAML, two-space indented under Resources). `fn` folders hold Python code. */
const SNIPPETS: Record<string, string> = {
  apiEvent: `
  ApiFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Events:
        Get: {Type: Api, Properties: {Path: "/items/{id}", Method: get, RestApiId: !Ref Rest}}
        Any: {Type: HttpApi, Properties: {Path: /any, Method: ANY}}
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Cors: {AllowOrigin: "'*'", AllowHeaders: "'Content-Type'"}
      Auth:
        DefaultAuthorizer: Cognito
        Authorizers:
          Cognito: {UserPoolArn: !GetAtt Pool.Arn}
  Pool:
    Type: AWS::Cognito::UserPool`,
  streams: `
  StreamFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
        - SQSPollerPolicy: {QueueName: !GetAtt Queue.QueueName}
        - Statement: [{Effect: Allow, Action: ["s3:GetObject"], Resource: !Sub "arn:\${AWS::Partition}:s3:::b/*"}]
      Events:
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST, BatchSize: 10}}
        Messages: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 5}}
        Every: {Type: Schedule, Properties: {Schedule: rate(5 minutes), Input: '{"a": 1}'}}
        Topic: {Type: SNS, Properties: {Topic: !Ref Topic, FilterPolicy: {kind: [a, b]}}}
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: id, Type: String}
  Queue:
    Type: AWS::SQS::Queue
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
  Topic:
    Type: AWS::SNS::Topic`,
  deploy: `
  Deployed:
    Type: AWS::Serverless::Function
    Condition: IsProd
    DependsOn: [Topic2]
    Metadata: {Tool: generated}
    Properties:
      CodeUri: fn/
      Handler: app.handler
      AutoPublishAlias: live
      DeploymentPreference: {Type: Canary10Percent5Minutes, Alarms: [!Ref Alarm]}
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}
      MemorySize: !If [IsProd, 1024, 128]
      Tracing: Active
      Events:
        Rule: {Type: EventBridgeRule, Properties: {Pattern: {source: [aws.ec2]}}}
        Logs: {Type: CloudWatchLogs, Properties: {LogGroupName: !Ref Logs, FilterPattern: ERROR}}
  Topic2:
    Type: AWS::SNS::Topic
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: GreaterThanThreshold
      EvaluationPeriods: 1
      MetricName: Errors
      Namespace: AWS/Lambda
      Period: 60
      Statistic: Sum
      Threshold: 1
  Logs:
    Type: AWS::Logs::LogGroup`,
  remote: `
  FromS3Object:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {Bucket: my-bucket, Key: code.zip, Version: "3"}
      Handler: app.handler
  FromS3Uri:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://my-bucket/code.zip
      Runtime: java21
      Handler: a.B::handle
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            return {"statusCode": 200}
      Handler: index.handler
  Img:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: !Sub "\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.amazonaws.com/app:latest"
    Metadata: {DockerTag: v1, DockerContext: ./img, Dockerfile: Dockerfile}`,
  layers: `
  LocalLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub "\${AWS::StackName}-deps"
      ContentUri: layer/
      CompatibleRuntimes: [python3.12, python3.13]
      RetentionPolicy: Delete
    Metadata: {BuildMethod: python3.12}
  RemoteLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {Bucket: b, Key: layer.zip}
  UsesLayers:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Layers: [!Ref LocalLayer, !Ref RemoteLayer, arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:5]`,
  others: `
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: One
        States: {One: {Type: Pass, End: true}}
      Policies: [AWSXrayWriteOnlyAccess]
  Nested:
    Type: AWS::Serverless::Application
    Properties:
      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
      Parameters: {Name: !Ref Stage}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: $default
      CorsConfiguration: {AllowOrigins: ["*"]}
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Code: fn/
      Handler: app.handler
      Runtime: python3.12
      Role: !GetAtt Role.Arn
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]`,
  arm: `
  ArmFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Runtime: python3.11
      Architectures: [arm64]
      EphemeralStorage: {Size: 2048}
      FunctionUrlConfig: {AuthType: NONE}
      Environment:
        Variables:
          MAPPED: !FindInMap [Sizes, !Ref "AWS::Region", small]
          JOINED: !Join ["-", [!Ref Stage, !Select [0, !GetAZs ""]]]
          SPLIT: !Select [1, !Split [",", "a,b,c"]]
          B64: !Base64 "hello"`,
};

// Every variant gives functions a runtime; snippets that need another one set their own.
const GLOBALS_VARIANTS = [
  'Globals:\n  Function:\n    Runtime: python3.12\n    Handler: app.handler\n',
  'Globals:\n  Function:\n    Runtime: python3.12\n    Timeout: 10\n',
  [
    'Globals:',
    '  Function:',
    '    Runtime: python3.13',
    '    Architectures: [x86_64]',
    '    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:shared:1]',
    '    Environment: {Variables: {STAGE: !Ref Stage, FROM: globals}}',
    '    Tags: {team: platform}',
    '  Api:',
    '    OpenApiVersion: 3.0.1',
    '    TracingEnabled: true',
    '  HttpApi:',
    '    Auth: {EnableIamAuthorizer: true}',
    '  SimpleTable:',
    '    SSESpecification: {SSEEnabled: true}',
    '',
  ].join('\n'),
];

const HEADER = [
  "AWSTemplateFormatVersion: '2010-09-09'",
  'Transform: AWS::Serverless-2016-10-31',
  'Description: generated look-alike',
  'Parameters:',
  '  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}',
  '  Count: {Type: Number, Default: 1}',
  '  Subnets: {Type: "List<AWS::EC2::Subnet::Id>", Default: "subnet-1,subnet-2"}',
  'Conditions:',
  '  IsProd: !Equals [!Ref Stage, prod]',
  '  NotProd: !Not [!Condition IsProd]',
  '  Either: !Or [!Condition IsProd, !Equals [!Ref Count, 2]]',
  'Mappings:',
  '  Sizes:',
  '    us-east-1: {small: 128}',
  '    eu-west-1: {small: 256}',
  'Resources:',
].join('\n');

const OUTPUTS = [
  'Outputs:',
  '  StageName:',
  '    Value: !Sub "${Stage}-${AWS::Region}"',
  '    Export: {Name: !Sub "${AWS::StackName}-stage"}',
  '    Condition: NotProd',
].join('\n');

/** Every non-empty combination of up to three snippets with each Globals variant, in a fixed order. */
function corpus(): Array<{ name: string; text: string }> {
  const names = Object.keys(SNIPPETS);
  const out: Array<{ name: string; text: string }> = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i; j < names.length; j++) {
      const picked = [...new Set([names[i], names[j]])];
      const globals = GLOBALS_VARIANTS[(i + j) % GLOBALS_VARIANTS.length];
      const body = picked.map(n => SNIPPETS[n]).join('\n');
      out.push({ name: `${picked.join('+')}/g${(i + j) % GLOBALS_VARIANTS.length}`, text: `${globals}${HEADER}${body}\n${OUTPUTS}\n` });
    }
  }
  return out;
}

describe('a corpus of generated SAM look-alike templates', () => {
  const cases = corpus();
  const root = tempDir('sam-corpus');
  const cacheDir = path.join(root, 'cache');

  test('is large enough to mean something', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  test.each(cases.map(c => [c.name, c.text]))('%s includes and packages its local Python code', (name, text) => {
    const dir = path.join(root, name.replace(/[^a-z0-9]+/gi, '_'));
    writeTree(dir, {
      'template.yaml': text,
      'fn/app.py': 'def handler(event, context):\n    return 1\n',
      'layer/requirements.txt': '',
    });
    const file = path.join(dir, 'template.yaml');
    const stack = new cdk.Stack(new cdk.App({ outdir: path.join(dir, 'out') }), 'S');
    const packager = new SamTemplatePackager(stack, 'T', { templateFile: file, bundling: { cacheDir } });
    const template = cdk.assertions.Template.fromStack(stack).toJSON();
    const local = Object.entries<any>(template.Resources)
      .filter(([, r]) => ['fn/', 'layer/'].includes(r.Properties?.CodeUri ?? r.Properties?.ContentUri ?? r.Properties?.Code));
    expect(local).toEqual([]); // every local folder was replaced by the asset's S3 location
    // Every resource whose code is a local folder was packaged, and nothing else.
    expect(packager.packagedResources).toHaveLength((text.match(/(CodeUri|ContentUri|Code): (fn|layer)\//g) ?? []).length);
    for (const id of packager.packagedResources) {
      const props = template.Resources[id].Properties;
      const code = props.CodeUri ?? props.ContentUri ?? props.Code;
      expect({ id, bucket: code.Bucket ?? code.S3Bucket }).toEqual({ id, bucket: expect.anything() });
    }
  });

  test('values possum-cdk does not know (an intrinsic CloudFormation may add one day) pass through untouched', () => {
    const dir = path.join(root, 'new-intrinsic');
    writeTree(dir, { 'template.yaml': 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {"Fn::Future": [1]}\n' });
    const app = new cdk.App({ outdir: path.join(dir, 'out') });
    const stack = new cdk.Stack(app, 'S');
    new SamTemplatePackager(stack, 'T', { templateFile: path.join(dir, 'template.yaml') });
    expect(app.synth().getStackByName('S').template.Resources.Q.Properties).toEqual({ QueueName: { 'Fn::Future': [1] } });
  });
});
