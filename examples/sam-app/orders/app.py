"""Orders: parses an ISO date from the event with python-dateutil (from requirements.txt)."""
import os

from dateutil import parser


def handler(event, context):
    when = parser.isoparse(event.get("date", "2026-01-01T00:00:00Z"))
    return {"table": os.environ.get("TABLE_NAME"), "weekday": when.strftime("%A")}
