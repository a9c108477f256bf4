"""Replies as plain JSON-able dicts, the same for MQTT, HTTP and the kiosk.

::

    {"ok": true, "result": "reserved", "application": "…", "compartment": "A03", …}
    {"ok": false, "error": {"code": "invalid", "message": "…", "field": "deadline"}}

``result`` names the domain reply (``accepted``, ``reserved``, ``opening``,
``recall_entries``, ``inventory_report``) and its fields follow flat. An error
has a stable ``code``; ``field`` names the payload field at fault, ``details``
carries the machine-readable rest. Nothing here ever holds an ID number or a
code: replies are stored for de-duplication.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from locker_host.domain import LockerError, Reply, to_plain
from locker_host.store import StoreError

from .errors import AppError

JsonDict = dict[str, Any]


def ok(reply: Reply | None) -> JsonDict:
    if reply is None:
        return {"ok": True}
    body = to_plain(type(reply), reply)
    assert isinstance(body, dict)
    return {"ok": True, "result": _snake(type(reply).__name__), **body}


def error(
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> JsonDict:
    body: JsonDict = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    if details:
        body["details"] = {k: list(v) if isinstance(v, tuple) else v for k, v in details.items()}
    return {"ok": False, "error": body}


def refused(problem: LockerError | AppError | StoreError) -> JsonDict:
    match problem:
        case LockerError():
            return error(problem.code, problem.message, details=problem.fields)
        case AppError():
            field, details = problem.field, problem.details
            return error(problem.code, problem.message, field=field, details=details)
        case StoreError():
            return error(problem.code, "the locker cannot save right now; nothing was done")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
