"""Crosses the language boundary from Python: enums, static factories, an interface
implemented in Python and called back from the library, the size report, and errors.

Usage: python checks.py FUNCTION_FOLDER OUTDIR. Prints one line "POSSUM-CHECKS {json}";
test/bindings/bindings.test.ts runs it and test/bindings/java does the same from Java.
"""
import json
import sys

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from possum_cdk import (
    DefaultExcludes,
    ICommandHooks,
    Installer,
    NestedZip,
    PythonPipfileBundlingOptions,
    PythonPipfileFunction,
    PythonPipfileLayerVersion,
)

function_folder, outdir = sys.argv[1], sys.argv[2]


@jsii.implements(ICommandHooks)
class MarkerHooks:
    """Writes a file into the dependency tree, so the bundle shows the hook ran."""

    def before_install(self, input_dir, output_dir):
        return []

    def after_install(self, input_dir, output_dir):
        return [f'echo "hooked from python" > "{output_dir}/hook_marker.txt"']


def error_of(build):
    try:
        build()
    except Exception as e:  # noqa: BLE001 - the type is what this check reports
        return {"type": type(e).__name__, "message": str(e)}
    return None


app = cdk.App(outdir=outdir)
stack = cdk.Stack(app, "Checks")

fn = PythonPipfileFunction(
    stack,
    "Always",
    entry=function_folder,
    runtime=lambda_.Runtime.PYTHON_3_12,
    bundling=PythonPipfileBundlingOptions(
        installer=Installer.pip(),
        nested_zip=NestedZip.ALWAYS,
        command_hooks=MarkerHooks(),
    ),
)
report = fn.size_report

result = {
    "installers": [Installer.pip().name, Installer.uv().name],
    "defaultExcludesHasVenv": ".venv/" in DefaultExcludes.FUNCTION_FILES,
    "nestedZipValues": [NestedZip.AUTO.value, NestedZip.ALWAYS.value, NestedZip.NEVER.value],
    "sizeReport": {
        "nested": report.nested,
        "files": report.files,
        "unzippedBytes": report.unzipped_bytes,
        "largestPackages": [{"name": p.name, "bytes": p.bytes} for p in report.largest_packages],
        "sha256": report.sha256,
    },
    "fnNested": fn.nested,
    "badEntry": error_of(lambda: PythonPipfileFunction(stack, "Missing", entry=function_folder + "/no-such-folder")),
    "layerAlways": error_of(lambda: PythonPipfileLayerVersion(
        stack, "Layer", entry=function_folder,
        bundling=PythonPipfileBundlingOptions(nested_zip=NestedZip.ALWAYS))),
    "badCompression": error_of(lambda: PythonPipfileFunction(
        stack, "Level", entry=function_folder,
        bundling=PythonPipfileBundlingOptions(compression_level=12))),
}
print("POSSUM-CHECKS " + json.dumps(result, sort_keys=True), flush=True)
