"""The example app, in Python: the same app as examples/typescript/app.ts and examples/java.

The test suite installs the possum-cdk wheel into a fresh virtual environment, synthesizes
this app with the cdk CLI, and checks that its template matches the other two.
"""
import os

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from possum_cdk import (
    Installer,
    NestedZip,
    PythonPipfileBundlingOptions,
    PythonPipfileFunction,
    PythonPipfileLayerVersion,
    SamTemplatePackager,
)

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

app = cdk.App()
stack = cdk.Stack(app, "PossumExample")

# A layer of shared dependencies, installed from its requirements.txt.
shared = PythonPipfileLayerVersion(
    stack,
    "SharedDeps",
    entry=os.path.join(EXAMPLES, "layers", "shared"),
    runtime=lambda_.Runtime.PYTHON_3_12,
    compatible_architectures=[lambda_.Architecture.ARM_64],
)

# A function whose folder has a Pipfile and a Pipfile.lock.
hello = PythonPipfileFunction(
    stack,
    "Hello",
    entry=os.path.join(EXAMPLES, "functions", "hello"),
    runtime=lambda_.Runtime.PYTHON_3_12,
    architecture=lambda_.Architecture.ARM_64,
    layers=[shared],
    bundling=PythonPipfileBundlingOptions(
        installer=Installer.pip(),
        # The runtime ships boto3; leave it out of the bundle.
        exclude_runtime_packages=True,
        # Nested zip only if the bundle would pass Lambda's 250 MB limit.
        nested_zip=NestedZip.AUTO,
    ),
)

# An existing SAM application, included as it is: both of its Python functions are packaged.
sam_app = SamTemplatePackager(
    stack,
    "SamApp",
    template_file=os.path.join(EXAMPLES, "sam-app", "template.yaml"),
    parameters={"Stage": "prod"},
)

# The included resources are CDK objects: grow the app around them.
orders = sam_app.get_function("OrdersFunction")
hello.add_environment("ORDERS_FUNCTION", orders.ref)

# Known when this synth bundles the stack (not for `cdk ls`, for example).
if hello.size_report:
    cdk.CfnOutput(stack, "HelloBundleBytes", value=str(hello.size_report.unzipped_bytes))
    cdk.CfnOutput(stack, "HelloNested", value="true" if hello.size_report.nested else "false")

app.synth()
