"""The MQTT contract's event schema, generated from the domain's events.

An event goes on the wire as ``records.outgoing_event`` makes it: its type is
the class's ``name``, its payload the class's fields in their plain form
(``serde.to_plain``). So the part of ``docs/asyncapi/schemas/event.json`` that
describes them (the list of types, one ``if``/``then`` per type, the payloads
and the closed sets of words) follows from the classes:

* a ``NewType`` of ``str`` is a string, ``float`` a number, ``int`` an integer;
* ``tuple[X, ...]`` an array of X; ``X | None`` X or null;
* ``OwnerRef`` the shared ``owner_ref`` of ``common.json``;
* a ``StrEnum`` a reference to ``#/definitions/<its name in snake case>``, which
  lists every value and carries the class's docstring.

``scripts/update_docs.py`` writes it (the rest of the file, the envelope, is
written by hand and kept); ``tests/test_docs.py`` fails when file and code
differ.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

from locker_host.domain import EVENT_TYPES, OwnerRef

JsonSchema = dict[str, Any]

_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_OWNER_REF: JsonSchema = {"$ref": "common.json#/definitions/owner_ref"}


def render_event_schema(published: JsonSchema) -> JsonSchema:
    """``published`` (the schema as it stands) with its generated parts made from the code."""
    schema = copy.deepcopy(published)
    names = sorted(EVENT_TYPES)
    schema["properties"]["type"] = {"enum": names}
    schema["allOf"] = [
        {
            "if": {"properties": {"type": {"const": name}}},
            "then": {"properties": {"payload": {"$ref": f"#/definitions/payloads/{name}"}}},
        }
        for name in names
    ]
    enums: dict[str, type[StrEnum]] = {}
    payloads = {name: object_schema(EVENT_TYPES[name], enums) for name in names}
    schema["definitions"] = {
        "payloads": payloads,
        **{key: value_schema(enums[key]) for key in sorted(enums)},
    }
    return schema


def object_schema(
    cls: type, enums: dict[str, type[StrEnum]], refs: Mapping[object, JsonSchema] | None = None
) -> JsonSchema:
    """A dataclass as a closed JSON object; its ``StrEnum``s are collected in ``enums``.
    ``refs``: the schema of a type (a ``NewType``, a class) where it is not the plain one."""
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    return {
        "type": "object",
        "required": fields,
        "additionalProperties": False,
        "properties": {name: _field(hints[name], enums, refs or {}) for name in fields},
    }


def _field(
    tp: Any, enums: dict[str, type[StrEnum]], refs: Mapping[object, JsonSchema]
) -> JsonSchema:
    if tp in refs:
        return dict(refs[tp])
    while hasattr(tp, "__supertype__"):  # a NewType
        tp = tp.__supertype__
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) != 1 or len(members) == len(get_args(tp)):
            raise TypeError(f"no schema for the union {tp!r}: only X | None")
        inner = _field(members[0], enums, refs)
        if isinstance(inner.get("type"), str) and len(inner) == 1:
            return {"type": [inner["type"], "null"]}
        return {"oneOf": [inner, {"type": "null"}]}
    if tp is OwnerRef:
        return dict(_OWNER_REF)
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        key = _snake(tp.__name__)
        if enums.setdefault(key, tp) is not tp:
            raise TypeError(f"two value sets are called {key}")
        return {"$ref": f"#/definitions/{key}"}
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    args = get_args(tp)
    if get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _field(args[0], enums, refs)}
    raise TypeError(f"no schema for {tp!r}")


def value_schema(enum: type[StrEnum]) -> JsonSchema:
    if not enum.__doc__:
        raise TypeError(f"{enum.__name__} needs a docstring: it is the schema's description")
    return {
        "type": "string",
        "enum": [member.value for member in enum],
        "description": inspect.cleandoc(enum.__doc__).replace("\n", " "),
    }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
