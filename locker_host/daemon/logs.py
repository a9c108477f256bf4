"""Structured logs: one JSON object per line on stderr (journald keeps them).

Every record passes through a redaction filter as a last line of defence:
anything shaped like a resident ID number or permit (17 digits and a check
character, or the 15-character foreign card form) is masked before it is
written, even if a caller forgot to mask it. The right place to mask is the
caller; this filter only makes a slip harmless.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

_ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_FOREIGN_15 = re.compile(r"(?<![0-9A-Za-z])([A-Z]{3})(\d{12})(?![0-9A-Za-z])")

_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def redact(text: str) -> str:
    text = _ID_SHAPED.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)
    return _FOREIGN_15.sub(lambda m: m.group(1) + "*" * 8 + m.group(2)[-4:], text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                # str() of a list or an object was never seen by the filter: redact it here.
                plain = isinstance(value, int | float | bool | None)
                entry[key] = value if plain else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "info", stream: TextIO | None = None) -> logging.Handler:
    """Route the root logger to JSON lines on `stream` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
