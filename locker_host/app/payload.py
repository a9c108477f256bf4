"""Reading a JSON payload field by field, with ``InvalidPayload`` naming the field.

``Payload`` reads what a command expects and then ``finish()`` refuses
whatever is left over, so a misspelt field (``deadine``) is an error instead of
a silently missing value. An ``id_number`` anywhere in a central payload is
refused outright: the central system sends owner keys, never ID numbers
(DESIGN.md section 5). Messages name the field and what it should be, never
its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from locker_host.domain import Size

from .errors import InvalidPayload

MAX_TEXT = 128
# Times outside this range are typing errors, and would overflow date arithmetic
# further on (a reply is kept until expires_at plus a grace period).
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CODE_MIN_DIGITS, CODE_MAX_DIGITS = 4, 16


class Payload:
    def __init__(self, data: object) -> None:
        if not isinstance(data, Mapping):
            raise InvalidPayload("the payload must be a JSON object")
        if any(not isinstance(key, str) for key in data):
            raise InvalidPayload("field names are strings")
        if "id_number" in data:
            raise InvalidPayload(
                "never send an ID number; send owner_key and key_version", field="id_number"
            )
        self._data: Mapping[str, Any] = data
        self._read: set[str] = set()

    def finish(self) -> None:
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise InvalidPayload("unknown field", field=unknown[0])

    def _get(self, name: str) -> Any:
        self._read.add(name)
        return self._data.get(name)

    def text(self, name: str, *, max_length: int = MAX_TEXT) -> str:
        value = self.optional_text(name, max_length=max_length)
        if value is None:
            raise InvalidPayload("required", field=name)
        return value

    def optional_text(self, name: str, *, max_length: int = MAX_TEXT) -> str | None:
        value = self._get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidPayload("must be a string", field=name)
        if not value or len(value) > max_length or _CONTROL.search(value):
            raise InvalidPayload(f"must be 1 to {max_length} printable characters", field=name)
        return value

    def free_text(self, name: str, *, max_length: int = 500) -> str:
        """A reason: may be blank here (the domain says whether blank is acceptable)."""
        value = self._get(name)
        if not isinstance(value, str):
            raise InvalidPayload("required, a string", field=name)
        if len(value) > max_length:
            raise InvalidPayload(f"at most {max_length} characters", field=name)
        return value

    def boolean(self, name: str, *, default: bool | None = None) -> bool:
        value = self._get(name)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool):
            raise InvalidPayload("must be true or false", field=name)
        return value

    def version(self, name: str) -> int:
        value = self._get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidPayload("must be a key version number (0 or more)", field=name)
        return value

    def time(self, name: str) -> float:
        """RFC 3339 with an offset (``2021-06-01T08:30:00+08:00`` or ``…Z``): epoch seconds."""
        value = self._get(name)
        if not isinstance(value, str):
            raise InvalidPayload("required, an RFC 3339 time with offset", field=name)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidPayload("must be an RFC 3339 time with offset", field=name) from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            # A time without offset would be read in the box's zone and shift by hours.
            raise InvalidPayload("needs a UTC offset (Z or +08:00)", field=name)
        if not _EARLIEST <= moment < _LATEST:
            raise InvalidPayload("must be in the years 2000 to 2099", field=name)
        return moment.timestamp()

    def size(self, name: str) -> Size:
        value = self._get(name)
        try:
            return Size(value)
        except ValueError:
            raise InvalidPayload("must be one of S, M, L", field=name) from None

    def owner_key(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise InvalidPayload("must be 64 hex digits (HMAC-SHA256)", field=name)
        return value.lower()

    def code(self, name: str) -> str | None:
        value = self._get(name)
        if value is None:
            return None
        if (
            not isinstance(value, str)
            or not (value.isascii() and value.isdigit())
            or not CODE_MIN_DIGITS <= len(value) <= CODE_MAX_DIGITS
        ):
            raise InvalidPayload(
                f"must be {CODE_MIN_DIGITS} to {CODE_MAX_DIGITS} digits, as a string", field=name
            )
        return value

    def has(self, name: str) -> bool:
        return self._data.get(name) is not None
