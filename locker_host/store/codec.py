"""How values become column text: canonical JSON, UTC timestamps, ids.

Canonical JSON (sorted keys, no spaces, UTF-8, no NaN) is what the audit chain
hashes, so the same record always hashes the same on every box and in every
later version of this code. Timestamps are stored as fixed-width UTC text,
``2021-06-01T08:30:00.000000Z``, so that SQL compares them as strings.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import NewType, TypeAlias

from .errors import PersonalDataInDocument

JsonValue: TypeAlias = (
    bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)
JsonObject: TypeAlias = Mapping[str, JsonValue]

BootId = NewType("BootId", str)
EventId = NewType("EventId", str)
CommandId = NewType("CommandId", str)
PersonalRef = NewType("PersonalRef", str)

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Field names that mean personal data (DESIGN.md section 5). They may appear
# only in the personal_data table, never in a state document or an audit row:
# the first would escape the purge, the second cannot be purged at all.
PERSONAL_FIELD_NAMES = frozenset({"owner_key", "id_number", "pickup_code", "pickup_code_hash"})


def canonical_json(value: JsonValue) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_plain,
    )


def _plain(value: object) -> object:
    # json handles dict, list and tuple itself; frozen views from the domain
    # (MappingProxyType, custom Sequences) come here.
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def load_json_object(text: str) -> dict[str, JsonValue]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time would be read back as UTC and silently shift by the
        # box's offset (UTC+8 in China): refuse it, it is a caller bug.
        raise ValueError(f"naive datetime {moment!r}: pass an aware (UTC) time")
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def new_boot_id() -> BootId:
    return BootId(uuid.uuid4().hex)


def new_event_id() -> EventId:
    return EventId(str(uuid.uuid4()))


def new_personal_ref() -> PersonalRef:
    return PersonalRef(str(uuid.uuid4()))


def reject_personal_fields(value: JsonValue, where: str) -> None:
    """Raise :class:`PersonalDataInDocument` if a personal field name occurs anywhere."""
    _walk(value, where, "$")


def _walk(value: JsonValue, where: str, path: str) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key.lower() in PERSONAL_FIELD_NAMES:
                raise PersonalDataInDocument(where, f"{path}.{key}")
            _walk(child, where, f"{path}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, child in enumerate(value):
            _walk(child, where, f"{path}[{index}]")
