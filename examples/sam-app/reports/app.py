"""Reports: standard library only, so its folder has no dependency manifest."""
import json
import os


def handler(event, context):
    return {"stage": os.environ.get("STAGE"), "report": json.dumps(event, sort_keys=True)}
