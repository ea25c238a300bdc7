import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SamTemplatePackager, SamTemplatePackagerProps } from '../../src';
import { tempDir, writeTree } from '../helpers/run';
import { useLocalIndex } from '../helpers/wheelhouse';
import { inspectZip } from '../helpers/zip-inspect';

const local = useLocalIndex('sam');

const APP_TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Runtime: python3.12
    CodeUri: shared/
    Handler: app.handler
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: python3.12
  First:
    Type: AWS::Serverless::Function
  Second:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.other
      Environment:
        Variables:
          OWN: "yes"
  ArmFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: arm/
      Runtime: python3.11
      Architectures: [arm64]
  FromS3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://my-bucket/code.zip
      Runtime: nodejs20.x
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: "def handler(e, c): return 1"
  Image:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Code: plain/
      Runtime: python3.13
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/plain
  Queue:
    Type: AWS::SQS::Queue
`;

function samApp(label: string, template: string, files: Record<string, string> = {}): string {
  const dir = tempDir(label);
  writeTree(dir, {
    'template.yaml': template,
    'shared/app.py': 'import greeting\ndef handler(e, c):\n    return greeting.greet("a")\ndef other(e, c):\n    return 2\n',
    'shared/requirements.txt': 'greeting==1.0\n',
    'layer/requirements.txt': 'withdeps==1.0\n',
    'arm/app.py': 'import fastmath\ndef handler(e, c):\n    return fastmath.VARIANT\n',
    'arm/requirements.txt': 'fastmath==1.0\n',
    'plain/index.py': 'def handler(e, c):\n    return 3\n',
    ...files,
  });
  return path.join(dir, 'template.yaml');
}

function synth(props: Omit<SamTemplatePackagerProps, 'bundling'> & { nestedThresholdBytes?: number; context?: Record<string, unknown> }) {
  const { context, ...rest } = props;
  props = rest;
  const app = new cdk.App({ outdir: tempDir('sam-out'), context });
  const stack = new cdk.Stack(app, 'S');
  const packager = new SamTemplatePackager(stack, 'App', {
    ...props,
    bundling: { indexUrl: local.index.url(), cacheDir: path.join(local.work, 'cache'), nestedThresholdBytes: props.nestedThresholdBytes },
  });
  const assembly = app.synth();
  // SAM resolves API/function reference cycles itself; CDK's assertions would flag them.
  const template = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true });
  const resources = template.toJSON().Resources;
  const zip = (key: string) => inspectZip(path.join(assembly.directory, `asset.${key}`)).entries.map(e => e.name);
  const warnings = assembly.getStackByName('S').messages.filter(m => m.level === 'warning').map(m => String(m.entry.data));
  return { packager, template, resources, zip, warnings, json: template.toJSON() };
}

describe('SamTemplatePackager', () => {
  test('packages every local Python function and layer with Globals applied; the rest passes through', () => {
    const { packager, resources, zip, json } = synth({ templateFile: samApp('sam-app', APP_TEMPLATE), parameters: { Stage: 'prod' } });
    expect(packager.packagedResources.sort()).toEqual(['ArmFn', 'First', 'Plain', 'Second', 'SharedLayer']);

    const first = resources.First.Properties;
    const second = resources.Second.Properties;
    expect(first.CodeUri).toEqual({ Bucket: expect.anything(), Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
    // Two functions in one folder with one runtime and the same layers share one bundle.
    expect(second.CodeUri.Key).toBe(first.CodeUri.Key);
    expect(zip(first.CodeUri.Key)).toEqual(expect.arrayContaining(['app.py', 'greeting/__init__.py']));
    // Globals stay for SAM to apply; a given parameter value becomes the parameter's default.
    expect(json.Globals.Function).toMatchObject({ Runtime: 'python3.12', Handler: 'app.handler', Environment: { Variables: { STAGE: { Ref: 'Stage' } } } });
    expect(json.Parameters.Stage).toEqual({ Type: 'String', Default: 'prod' });
    expect(second.Environment.Variables).toEqual({ OWN: 'yes' });

    const layerKey = resources.SharedLayer.Properties.ContentUri.Key;
    expect(zip(layerKey)).toEqual(expect.arrayContaining(['python/withdeps/__init__.py', 'python/greeting/__init__.py']));
    expect(zip(resources.ArmFn.Properties.CodeUri.Key)).toContain('fastmath/_speedups.cpython-311-aarch64-linux-gnu.so');
    expect(resources.Plain.Properties.Code).toEqual({ S3Bucket: expect.anything(), S3Key: expect.stringMatching(/\.zip$/) });

    expect(resources.FromS3.Properties.CodeUri).toBe('s3://my-bucket/code.zip');
    expect(resources.Inline.Properties.InlineCode).toBe('def handler(e, c): return 1');
    expect(resources.Image.Properties.PackageType).toBe('Image');
    expect(resources.Queue.Type).toBe('AWS::SQS::Queue');
    expect(packager.getFunction('First')).toBeInstanceOf(cdk.CfnResource);
    expect(packager.getFunction('First').cfnResourceType).toBe('AWS::Serverless::Function');
    expect(() => packager.getFunction('Queue')).toThrow('S/App: resource Queue is a AWS::SQS::Queue, not an AWS::Serverless::Function.');
  });

  test('packaged resources carry CDK\'s asset metadata, so sam local invoke finds their code in cdk.out', () => {
    const { resources } = synth({ templateFile: samApp('sam-meta', APP_TEMPLATE), context: { 'aws:cdk:enable-asset-metadata': true } });
    const expected: Record<string, [string, string]> = {
      First: ['CodeUri', resources.First.Properties.CodeUri.Key],
      SharedLayer: ['ContentUri', resources.SharedLayer.Properties.ContentUri.Key],
      Plain: ['Code', resources.Plain.Properties.Code.S3Key],
    };
    for (const [id, [property, key]] of Object.entries(expected)) {
      expect(resources[id].Metadata).toMatchObject({
        'aws:asset:path': `asset.${key}`,
        'aws:asset:property': property,
        'aws:asset:is-bundled': true,
      });
    }
    expect(resources.FromS3.Metadata?.['aws:asset:path']).toBeUndefined();
  });

  test('a stack CDK does not bundle: the template synthesizes and nothing is installed', () => {
    const before = local.index.requests().length;
    const { resources } = synth({ templateFile: samApp('sam-skip', APP_TEMPLATE), context: { 'aws:cdk:bundling-stacks': [] } });
    expect(local.index.requests().length).toBe(before);
    expect(resources.First.Properties.CodeUri).toEqual({ Bucket: expect.anything(), Key: expect.stringMatching(/\.zip$/) });
  });

  test('a nested bundle gets the loader handler, POSSUM_HANDLER beside the template\'s variables, and /tmp', () => {
    const { resources } = synth({ templateFile: samApp('sam-nested', APP_TEMPLATE), nestedThresholdBytes: 100 });
    const second = resources.Second.Properties;
    expect(second.Handler).toBe('_possum_loader.handler');
    expect(second.Environment.Variables).toEqual({ OWN: 'yes', POSSUM_HANDLER: 'app.other' });
    expect(second.EphemeralStorage.Size).toBeGreaterThan(512);
    expect(resources.First.Properties.Environment.Variables).toEqual({ POSSUM_HANDLER: 'app.handler' });
  });

  test.each([
    ['a local CodeUri with a runtime Lambda does not have', { 'node/index.js': 'x' },
      'Resources:\n  NodeFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: node/\n      Runtime: node20\n      Handler: index.handler\n',
      /resource NodeFn \(AWS::Serverless::Function\): its code is a local folder but its Runtime is node20, which is not a Lambda runtime possum-cdk knows/],
    ['a CodeUri outside the template folder that does not exist', {},
      'Resources:\n  Out:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../elsewhere/\n      Runtime: python3.12\n      Handler: a.b\n',
      /resource Out \(AWS::Serverless::Function\): CodeUri \.\.\/elsewhere\/ does not exist \(looked for .*\/elsewhere\)/],
    ['a function sam build would build with a makefile', {},
      'Resources:\n  Mk:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n      Runtime: python3.12\n      Handler: app.handler\n' +
      '    Metadata:\n      BuildMethod: makefile\n',
      /resource Mk \(AWS::Serverless::Function\): Metadata\.BuildMethod is "makefile", a build possum-cdk does not run/],
    ['a runtime Lambda does not run yet', {},
      'Resources:\n  New:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n      Runtime: python3.99\n      Handler: app.handler\n',
      /resource New \(AWS::Serverless::Function\): its Runtime is python3\.99, which is not a runtime AWS Lambda runs \(possum-cdk knows python3\.10 to python3\.14\)/],
    ['a runtime name in the wrong case', {},
      'Resources:\n  Cap:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n      Runtime: Python3.12\n      Handler: app.handler\n',
      /resource Cap \(AWS::Serverless::Function\): its Runtime is Python3\.12, which is not a Python runtime \(runtime names are lower case: python3\.12\)/],
    ['a CodeUri naming a file that is not a .zip', {},
      'Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/app.py\n      Runtime: python3.12\n      Handler: app.handler\n',
      /resource F \(AWS::Serverless::Function\): CodeUri shared\/app\.py is a file but not a \.zip/],
    ['a nested template whose function cannot be packaged (reported before anything is built)', {
      'child.yaml': 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Deep:\n    Type: AWS::Serverless::Function\n' +
        '    Properties:\n      CodeUri: shared/\n      Runtime: python3.8\n      Handler: app.handler\n',
    },
    'Transform: AWS::Serverless-2016-10-31\nResources:\n  Top:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n' +
      '      Runtime: python3.12\n      Handler: app.handler\n  Child:\n    Type: AWS::Serverless::Application\n    Properties:\n      Location: child.yaml\n',
    /child\.yaml: resource Deep \(AWS::Serverless::Function\): its Runtime is python3\.8, which AWS Lambda has deprecated/],
    ['a missing folder', {},
      'Resources:\n  Gone:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: gone/\n      Runtime: python3.12\n      Handler: a.b\n',
      /resource Gone \(AWS::Serverless::Function\): CodeUri gone\/ does not exist/],
    ['a CodeUri whose value is only known at deploy time', {},
      'Resources:\n  Sub:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: !Sub "${AWS::Region}/x"\n      Runtime: python3.12\n      Handler: a.b\n',
      /resource Sub \(AWS::Serverless::Function\): its CodeUri \(\$\{AWS::Region\}\/x\) uses \$\{AWS::Region\}, whose value is not known when packaging/],
    ['a layer with a BuildMethod possum-cdk does not build', {},
      'Resources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layer/\n    Metadata:\n      BuildMethod: makefile\n',
      /resource L \(AWS::Serverless::LayerVersion\): Metadata\.BuildMethod is "makefile"; possum-cdk builds python3\.x layers/],
    ['a python3.9 function', {},
      'Resources:\n  Old:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n      Runtime: python3.9\n      Handler: app.handler\n',
      /resource Old \(AWS::Serverless::Function\): its Runtime is python3\.9, which AWS Lambda has deprecated \(functions on it can no longer be created or updated\); use python3\.10 or later/],
    ['a Runtime from a parameter without a value', {},
      'Parameters:\n  Py:\n    Type: String\nResources:\n  P:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: shared/\n      Runtime: !Ref Py\n      Handler: app.handler\n',
      /resource P \(AWS::Serverless::Function\): its Runtime is !Ref Py, which is not a parameter with a value or Default/],
  ])('%s is an error naming the template and the resource', (_label, files, template, message) => {
    const file = samApp('sam-bad', template, files);
    const before = local.index.requests().length;
    expect(() => synth({ templateFile: file })).toThrow(message);
    expect(() => synth({ templateFile: file })).toThrow(path.dirname(file));
    // Every refusal comes before anything is installed.
    expect(local.index.requests().length).toBe(before);
  });

  test('SAM\'s build semantics for layers and prebuilt code: BuildArchitecture, BuildMethod on AWS::Lambda::LayerVersion, a .zip as it is, code outside the template folder', () => {
    const template = [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  ArmLayer:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: ../arm/', '      CompatibleArchitectures: [arm64]',
      '    Metadata:', '      BuildMethod: python3.11', '      BuildArchitecture: arm64',
      '  PlainLayer:', '    Type: AWS::Lambda::LayerVersion', '    Properties:', '      Content: ../layer/', '    Metadata:', '      BuildMethod: python3.12',
      '  Outside:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: ../outside/', '      Runtime: python3.12', '      Handler: app.handler',
      '  Zipped:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: ../prebuilt/fn.zip', '      Runtime: python3.12', '      Handler: app.handler',
      '  ZippedPlain:', '    Type: AWS::Lambda::Function', '    Properties:', '      Code: ../prebuilt/fn.zip', '      Runtime: python3.12',
      '      Handler: app.handler', '      Role: arn:aws:iam::123456789012:role/x',
    ].join('\n') + '\n';
    // The template sits in app/, its code beside it: sam build and sam package read paths relative to the template, even upwards.
    const root = path.dirname(samApp('sam-semantics', 'Resources: {}\n', {
      'app/template.yaml': template,
      'outside/app.py': 'def handler(e, c):\n    return 1\n',
      'outside/requirements.txt': 'greeting==1.0\n',
      // sam build installs requirements.txt only: a lock beside it (even a broken one) is not read.
      'outside/Pipfile.lock': '{ not json',
      'prebuilt/fn.zip': 'PK-not-really-a-zip-but-uploaded-as-it-is',
    }));
    const file = path.join(root, 'app', 'template.yaml');
    const { resources, zip, packager } = synth({ templateFile: file, context: { 'aws:cdk:enable-asset-metadata': true } });
    // sam build builds a layer for Metadata.BuildArchitecture (x86_64 when absent), whatever CompatibleArchitectures says.
    expect(zip(resources.ArmLayer.Properties.ContentUri.Key)).toContain('python/fastmath/_speedups.cpython-311-aarch64-linux-gnu.so');
    // BuildMethod python3.x on AWS::Lambda::LayerVersion: dependencies under python/, as sam build does.
    expect(zip(resources.PlainLayer.Properties.Content.S3Key)).toEqual(expect.arrayContaining(['python/withdeps/__init__.py']));
    expect(zip(resources.Outside.Properties.CodeUri.Key)).toEqual(expect.arrayContaining(['app.py', 'greeting/__init__.py']));
    // A .zip is uploaded as it is, to the same object for both resource types.
    expect(resources.Zipped.Properties.CodeUri).toEqual({ Bucket: expect.anything(), Key: expect.stringMatching(/\.zip$/) });
    expect(resources.ZippedPlain.Properties.Code).toEqual({ S3Bucket: expect.anything(), S3Key: resources.Zipped.Properties.CodeUri.Key });
    expect(packager.packagedResources.sort()).toEqual(['ArmLayer', 'Outside', 'PlainLayer']);
    // sam local finds a prebuilt .zip through the same asset metadata as a built folder.
    expect(resources.Zipped.Metadata).toMatchObject({ 'aws:asset:path': expect.stringMatching(/^asset\.[0-9a-f]{64}\.zip$/), 'aws:asset:property': 'CodeUri' });
    expect(resources.ZippedPlain.Metadata).toMatchObject({ 'aws:asset:property': 'Code' });
  });

  test('soft problems SAM would not report are warnings: a layer built for another architecture, a layer folder with its own python/; the template stays out of a bundle of its folder', () => {
    const file = samApp('sam-warn', [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  ArmDeps:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: arm/', '    Metadata:', '      BuildMethod: python3.11',
      '      BuildArchitecture: arm64',
      '  Doubled:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: doubled/', '    Metadata:', '      BuildMethod: python3.12',
      '  Root:', '    Type: AWS::Serverless::Function', '    Properties:', '      Runtime: python3.11', '      Handler: root.handler',
      '      Layers: [!Ref ArmDeps, !Ref Doubled]',
      // An image function sam build would build: the app may still give it an ImageUri, so a warning here (possum refuses it).
      '  ImageFn:', '    Type: AWS::Serverless::Function', '    Properties:', '      PackageType: Image',
      '    Metadata:', '      Dockerfile: Dockerfile', '      DockerContext: ./img',
    ].join('\n') + '\n', { 'root.py': 'def handler(e, c):\n    return 1\n', 'doubled/python/shared.py': 'S = 1\n' });
    const { resources, zip, warnings } = synth({ templateFile: file });
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/template\.yaml: Root: its layer ArmDeps is built for arm64 but the function runs on x86_64: the layer's native code would not load/),
      expect.stringMatching(/template\.yaml: Doubled: ContentUri .*doubled has a python\/ folder, .* lands at python\/python\//),
      expect.stringMatching(/template\.yaml: resource ImageFn: it is a container image function \(PackageType: Image\) with no ImageUri, .*\(Metadata\.DockerContext \.\/img\)\. .* In this app: getFunction\('ImageFn'\)\.addPropertyOverride\('ImageUri', \.\.\.\)\./),
    ]));
    const names = zip(resources.Root.Properties.CodeUri.Key);
    expect(names).toContain('root.py');
    expect(names).not.toContain('template.yaml');
  });

  test('another language\'s function, and a layer without a BuildMethod, are zipped as they are (node_modules kept, secrets left out), with a warning', () => {
    const file = samApp('sam-mixed', [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  NodeFn:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: node/', '      Runtime: nodejs20.x', '      Handler: index.handler',
      '      Layers: [!Ref NodeLayer]',
      '  NodeLayer:', '    Type: AWS::Serverless::LayerVersion', '    Properties:', '      ContentUri: nodelayer/', '      CompatibleRuntimes: [nodejs20.x]',
      '  GoFn:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: go/', '      Runtime: provided.al2023', '      Handler: bootstrap',
    ].join('\n') + '\n', {
      'node/index.js': 'exports.handler = async () => require("dep").value;\n',
      'node/node_modules/dep/index.js': 'exports.value = 1;\n',
      'node/tests/index.test.js': 'test("x", () => {});\n',
      'node/.env': 'TOKEN=not-for-lambda\n',
      'nodelayer/nodejs/node_modules/shared/index.js': 'exports.shared = 1;\n',
      'go/bootstrap': 'not really a binary\n',
    });
    const { packager, resources, zip, warnings } = synth({ templateFile: file });
    expect(packager.packagedResources.sort()).toEqual(['GoFn', 'NodeFn', 'NodeLayer']);
    const names = (key: string) => zip(key).sort();
    expect(names(resources.NodeFn.Properties.CodeUri.Key)).toEqual(['index.js', 'node_modules/dep/index.js', 'tests/index.test.js']);
    expect(names(resources.NodeLayer.Properties.ContentUri.Key)).toEqual(['nodejs/node_modules/shared/index.js']);
    expect(names(resources.GoFn.Properties.CodeUri.Key)).toEqual(['bootstrap']);
    expect(resources.NodeFn.Properties.Handler).toBe('index.handler');
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/template\.yaml: NodeFn: its Runtime is nodejs20\.x, and possum-cdk builds Python only, so CodeUri .*node is zipped as it is, as sam package does/),
      expect.stringMatching(/template\.yaml: GoFn: its Runtime is provided\.al2023, and possum-cdk builds Python only/),
    ]));
  });

  test('a nested application\'s Location is a literal https URL in the stack\'s partition, as SAM requires', () => {
    const file = samApp('sam-nested-app', 'Transform: AWS::Serverless-2016-10-31\nResources:\n  Child:\n    Type: AWS::Serverless::Application\n' +
      '    Properties:\n      Location: child.yaml\n', { 'child.yaml': 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n' });
    for (const [region, suffix] of [['eu-west-1', 'amazonaws.com'], ['cn-north-1', 'amazonaws.com.cn']]) {
      const app = new cdk.App({ outdir: tempDir('sam-nested-out') });
      const stack = new cdk.Stack(app, 'S', { env: { account: '123456789012', region } });
      new SamTemplatePackager(stack, 'App', { templateFile: file });
      const location = Template.fromStack(stack).toJSON().Resources.Child.Properties.Location;
      expect(location).toMatch(new RegExp(`^https://s3\\.${region}\\.${suffix.replace(/\./g, '\\.')}/cdk-[a-z0-9]+-assets-123456789012-${region}/[0-9a-f]{64}\\.json$`));
    }
  });

  test('two templates in one stack that share a logical ID are a clear error naming both', () => {
    const a = samApp('sam-two-a', 'Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n  A:\n    Type: AWS::SNS::Topic\n');
    const b = samApp('sam-two-b', 'Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n');
    const c = samApp('sam-two-c', 'Resources:\n  Other:\n    Type: AWS::SQS::Queue\n');
    const stack = new cdk.Stack(new cdk.App({ outdir: tempDir('sam-two-out') }), 'S');
    new SamTemplatePackager(stack, 'A', { templateFile: a });
    new SamTemplatePackager(stack, 'C', { templateFile: c }); // no clash: fine
    expect(() => new SamTemplatePackager(stack, 'B', { templateFile: b }))
      .toThrow(`${b} (at S/B) and ${a} (at S/A) both define Resources entry Queue`);
    // In another stack the same template is fine.
    new SamTemplatePackager(new cdk.Stack(stack.node.root as cdk.App, 'T'), 'B', { templateFile: b });
  });

  test('references and cycles that SAM resolves itself synthesize untouched', () => {
    const file = samApp('sam-cycle', [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Api:', '    Type: AWS::Serverless::Api', '    Properties:', '      StageName: prod',
      '      DefinitionBody: {paths: {/: {get: {x-amazon-apigateway-integration: {uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/${Fn.Arn}/invocations"}}}}}',
      '  Fn:', '    Type: AWS::Serverless::Function', '    Properties:', '      CodeUri: shared/', '      Runtime: python3.12', '      Handler: app.handler',
      '      Events: {Get: {Type: Api, Properties: {Path: /, Method: get, RestApiId: !Ref Api}}, Any: {Type: HttpApi}}',
      'Outputs:',
      '  Url: {Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"}',
      '  Role: {Value: !GetAtt FnRole.Arn}',
      '  Alias: {Value: !Ref Fn.Alias}',
    ].join('\n') + '\n');
    const { json } = synth({ templateFile: file });
    expect(json.Outputs.Url.Value).toEqual({ 'Fn::Sub': 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/' });
    expect(json.Outputs.Alias.Value).toEqual({ Ref: 'Fn.Alias' });
    expect(json.Resources.Fn.Properties.Events.Any).toEqual({ Type: 'HttpApi' });
  });
});
