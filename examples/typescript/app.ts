// The example app of the README's quick start: one function with a Pipfile.lock and a
// dependency layer, bundled without Docker. `npx projen synth-example` synthesizes it.
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
// In your own app: import { PythonPipfileFunction, PythonPipfileLayerVersion } from 'possum-cdk';
import { PythonPipfileFunction, PythonPipfileLayerVersion } from '../../lib';

const app = new cdk.App();
const stack = new cdk.Stack(app, 'PossumExample');

const shared = new PythonPipfileLayerVersion(stack, 'SharedDeps', {
  entry: path.join(__dirname, 'layers', 'shared'),
  runtime: lambda.Runtime.PYTHON_3_12,
  compatibleArchitectures: [lambda.Architecture.ARM_64],
});

const hello = new PythonPipfileFunction(stack, 'Hello', {
  entry: path.join(__dirname, 'functions', 'hello'),
  runtime: lambda.Runtime.PYTHON_3_12,
  architecture: lambda.Architecture.ARM_64,
  layers: [shared],
  bundling: {
    // The runtime ships boto3; leave it out of the bundle.
    excludeRuntimePackages: true,
  },
});

new cdk.CfnOutput(stack, 'BundleSize', { value: `${hello.sizeReport.unzippedBytes} bytes unzipped` });
