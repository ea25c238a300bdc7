/**
 * SAM templates for every way packaging went wrong before (issue 11), written for this
 * project in the shapes real SAM apps have. Each case is a template plus the files it
 * names; the equivalence suite packages each with SamTemplatePackager and with possum and
 * has the real SAM translator and cfn-lint compare the results with the original.
 */
export interface SamCase {
  readonly template: string;
  readonly files: Record<string, string>;
  /** Values for the construct's `parameters`. */
  readonly parameters?: Record<string, string>;
  /** Needs a stack with an account and region (a literal S3 URI must be written). */
  readonly needsEnv?: boolean;
  /** Only the CLI packages it (nested templates). */
  readonly cliOnly?: boolean;
}

const APP = 'import json\n\n\ndef lambda_handler(event, context):\n    return {"statusCode": 200, "body": json.dumps({"message": "hello world"})}\n';

export const SAM_CASES: Record<string, SamCase> = {
  // The shape `sam init` writes for a Python hello world.
  'sam-init-hello-world': {
    template: `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  python3.12

  Sample SAM Template for an app

# More info about Globals: https://github.com/awslabs/serverless-application-model/blob/master/docs/globals.rst
Globals:
  Function:
    Timeout: 3
    MemorySize: 128

    # You can add LoggingConfig parameters such as the Logformat, Log Group, and SystemLogLevel or ApplicationLogLevel.
    LoggingConfig:
      LogFormat: JSON
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function # More info about Function Resource
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.12
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: Api # More info about API Event Source
          Properties:
            Path: /hello
            Method: get

Outputs:
  # ServerlessRestApi is an implicit API created from Events key under Serverless::Function
  HelloWorldApi:
    Description: API Gateway endpoint URL for Prod stage for Hello World function
    Value: !Sub "https://\${ServerlessRestApi}.execute-api.\${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Description: Hello World Lambda Function ARN
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Description: Implicit IAM Role created for Hello World function
    Value: !GetAtt HelloWorldFunctionRole.Arn
`,
    files: { 'hello_world/app.py': APP, 'hello_world/requirements.txt': '', 'hello_world/__init__.py': '' },
  },

  'generated-references-and-cycles': {
    template: `Transform: AWS::Serverless-2016-10-31
Resources:
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      DefinitionBody:
        openapi: 3.0.1
        info: {title: cycle, version: '1.0'}
        paths:
          /items:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${MyFunction.Arn}/invocations
  MyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.13
      AutoPublishAlias: live
      Events:
        Items: {Type: Api, Properties: {Path: /items, Method: get, RestApiId: !Ref MyApi}}
        CatchAll: {Type: HttpApi}
Outputs:
  Alias: {Value: !Ref MyFunction.Alias}
  Version: {Value: !Ref MyFunction.Version}
  Role: {Value: !Ref MyFunctionRole}
  HttpApi: {Value: !Ref ServerlessHttpApi}
  Stage: {Value: !Ref MyApi.Stage}
`,
    files: { 'fn/app.py': APP },
  },

  'values-cdk-typed-classes-lost': {
    template: `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.12
      FunctionUrlConfig:
        AuthType: NONE
        Cors:
          AllowOrigins: ['https://example.com']
      Policies:
        - ComprehendBasicAccessPolicy: {}
        - TextractDetectAnalyzePolicy: {}
        - CostExplorerReadOnlyPolicy: {}
        - AWSLambdaExecute
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      OpenApiVersion: 3.0
      Auth:
        DefaultAuthorizer: Token
        Authorizers:
          Token:
            FunctionArn: !GetAtt Fn.Arn
            Identity:
              Header: Authorization
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Lambda
        Authorizers:
          Lambda:
            FunctionArn: !GetAtt Fn.Arn
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
  Get:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.12
      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Rest
            Path: /get
            Method: get
            RequestParameters:
              - method.request.header.Authorization:
                  Required: true
                  Caching: false
`,
    files: { 'fn/app.py': APP },
  },

  'yaml-scalars-and-comments': {
    template: `AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: n, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: n, KeyType: RANGE}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Join [., [my, !Ref Stage, bucket]]
      VersioningConfiguration:
        Status: Enabled
  Schedule:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 hour)
      FlexibleTimeWindow:
        Mode: 'OFF'
      Target:
        Arn: !GetAtt Fn.Arn
        RoleArn: !GetAtt FnRole.Arn
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.lambda_handler
      Runtime: python3.11
      Environment:
        Variables:
          FLAG: 'yes'
          TABLE: !Ref Table
          PROD: !If [IsProd, 'true', 'false']
      Policies:
        - Version: 2012-10-17
          Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: !GetAtt Table.Arn
`,
    files: { 'app.py': APP },
  },

  'parameters-and-layers': {
    template: `Transform: AWS::Serverless-2016-10-31
Parameters:
  PythonRuntime:
    Type: String
    Default: python3.12
  CodeDir:
    Type: String
Globals:
  Function:
    Runtime: !Ref PythonRuntime
    Handler: app.lambda_handler
    Layers: [!Ref Common, !Ref Assets]
Resources:
  Common:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/common/
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: python3.12
  Assets:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/assets/
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Ref CodeDir
`,
    files: {
      'layers/common/shared.py': 'VALUE = 1\n',
      'layers/common/requirements.txt': '',
      'layers/assets/data/config.json': '{"a": 1}\n',
      'src/app.py': APP,
    },
    parameters: { CodeDir: 'src' },
  },

  'definitions': {
    template: `Transform: AWS::Serverless-2016-10-31
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: api/openapi.yaml
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: api/http.json
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/flow.asl.json
      Policies: [AWSXrayWriteOnlyAccess]
`,
    files: {
      'api/openapi.yaml': 'openapi: 3.0.1\ninfo: {title: api, version: "1"}\npaths: {}\n',
      'api/http.json': '{"openapi": "3.0.1", "info": {"title": "http", "version": "1"}, "paths": {}}\n',
      'statemachine/flow.asl.json': '{"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}\n',
    },
  },

  'json-template': {
    template: JSON.stringify({
      AWSTemplateFormatVersion: '2010-09-09',
      Transform: 'AWS::Serverless-2016-10-31',
      Resources: {
        Fn: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'fn', Handler: 'app.lambda_handler', Runtime: 'python3.12', Timeout: 3 } },
        Api: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'v1', OpenApiVersion: '3.0', Cors: "'*'" } },
      },
    }, undefined, 2).replace('"Timeout": 3', '"Timeout": 3.0'),
    files: { 'fn/app.py': APP },
  },

  'include-snippet': {
    template: `Transform: [AWS::Serverless-2016-10-31]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.12
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Fn::Transform:
        Name: AWS::Include
        Parameters:
          Location: snippets/queue.yaml
`,
    files: { 'fn/app.py': APP, 'snippets/queue.yaml': 'VisibilityTimeout: 60\n' },
    needsEnv: true,
  },

  'nested-application': {
    template: `Transform: AWS::Serverless-2016-10-31
Resources:
  Child:
    Type: AWS::Serverless::Application
    Properties:
      Location: child/template.yaml
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.12
`,
    files: {
      'fn/app.py': APP,
      'child/template.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  ChildFn:\n    Type: AWS::Serverless::Function\n' +
        '    Properties:\n      CodeUri: src/\n      Handler: app.lambda_handler\n      Runtime: python3.12\n',
      'child/src/app.py': APP,
    },
    needsEnv: true,
  },
};
