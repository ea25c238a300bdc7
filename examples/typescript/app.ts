// The example app, in TypeScript. examples/python/app.py and examples/java are the same
// app in Python and Java; the test suite synthesizes all three and compares them.
// `npx projen synth-example` synthesizes this one.
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
// In your own app: import { ... } from 'possum-cdk';
import { Installer, NestedZip, PythonPipfileFunction, PythonPipfileLayerVersion, SamTemplatePackager } from '../../lib';

const app = new cdk.App();
const stack = new cdk.Stack(app, 'PossumExample');

// A layer of shared dependencies, installed from its requirements.txt.
const shared = new PythonPipfileLayerVersion(stack, 'SharedDeps', {
  entry: path.join(__dirname, '..', 'layers', 'shared'),
  runtime: lambda.Runtime.PYTHON_3_12,
  compatibleArchitectures: [lambda.Architecture.ARM_64],
});

// A function whose folder has a Pipfile and a Pipfile.lock.
const hello = new PythonPipfileFunction(stack, 'Hello', {
  entry: path.join(__dirname, '..', 'functions', 'hello'),
  runtime: lambda.Runtime.PYTHON_3_12,
  architecture: lambda.Architecture.ARM_64,
  layers: [shared],
  bundling: {
    installer: Installer.pip(),
    // The runtime ships boto3; leave it out of the bundle.
    excludeRuntimePackages: true,
    // Nested zip only if the bundle would pass Lambda's 250 MB limit.
    nestedZip: NestedZip.AUTO,
  },
});

// An existing SAM application, included as it is: both of its Python functions are packaged.
const samApp = new SamTemplatePackager(stack, 'SamApp', {
  templateFile: path.join(__dirname, '..', 'sam-app', 'template.yaml'),
  parameters: { Stage: 'prod' },
});

// The included resources are CDK objects: grow the app around them.
const orders = samApp.getFunction('OrdersFunction');
hello.addEnvironment('ORDERS_FUNCTION', orders.ref);

// Known when this synth bundles the stack (not for `cdk ls`, for example).
if (hello.sizeReport) {
  new cdk.CfnOutput(stack, 'HelloBundleBytes', { value: `${hello.sizeReport.unzippedBytes}` });
  new cdk.CfnOutput(stack, 'HelloNested', { value: `${hello.sizeReport.nested}` });
}

app.synth();
