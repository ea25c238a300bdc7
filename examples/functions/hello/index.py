"""Example handler: reports the versions of its dependencies (from the function and the layer)."""
import attrs
import requests


def handler(event, context):
    return {
        "message": "hello from possum-cdk",
        "requests": requests.__version__,
        "attrs": attrs.__version__,
    }
