"""Plain-JSON form of every domain value, driven by the type annotations.

The store persists the state as one JSON document, the outbox persists events,
the audit log persists records; all go through ``to_plain(type, value)`` and
``from_plain(type, data)``:

* frozen dataclasses become objects of their fields; a member of a union of
  dataclasses (``Actor``, ``Event``, ...) gets a ``"type"`` tag (the class name);
* ``StrEnum`` becomes its value, ``NewType``s their base type, ``tuple`` and
  ``frozenset`` lists (a frozenset sorted, so the document is stable),
  ``Mapping`` objects with string keys.

``state_to_dict`` wraps the state with a schema number so that a later version
can migrate old documents.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from .events import EVENT_TYPES, Event
from .state import LockerState

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
T = TypeVar("T")

STATE_SCHEMA = 1


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_newtype(tp: Any) -> Any:
    while hasattr(tp, "__supertype__"):
        tp = tp.__supertype__
    return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def to_plain(tp: Any, value: Any) -> JSON:
    tp = _unwrap_newtype(tp)
    if _is_union(tp):
        if value is None:
            return None
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return to_plain(members[0], value)
        cls = type(value)
        if cls not in members:
            raise TypeError(f"{cls.__name__} is not one of {members}")
        encoded = to_plain(cls, value)
        if isinstance(encoded, dict):
            return {"type": cls.__name__, **encoded}
        return encoded  # a union of scalars (``str | int``) needs no tag
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)  # type: ignore[arg-type]
        return {
            f.name: to_plain(hints[f.name], getattr(value, f.name)) for f in dataclasses.fields(tp)
        }
    if isinstance(tp, type) and issubclass(tp, Enum):
        return typing.cast(JSON, value.value)
    if tp in (bool, int, str):
        return typing.cast(JSON, value)
    if tp is float:
        return float(value)
    origin, args = get_origin(tp), get_args(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return [to_plain(args[0], v) for v in value]
        return [to_plain(a, v) for a, v in zip(args, value, strict=True)]
    if origin is frozenset:
        return sorted((to_plain(args[0], v) for v in value), key=repr)
    if origin in (Mapping, dict):
        return {str(to_plain(args[0], k)): to_plain(args[1], v) for k, v in value.items()}
    raise TypeError(f"no plain form for {tp!r}")


def from_plain(tp: Any, data: Any) -> Any:
    base = _unwrap_newtype(tp)
    if _is_union(base):
        if data is None:
            return None
        members = [a for a in get_args(base) if a is not type(None)]
        if len(members) == 1:
            return from_plain(members[0], data)
        if isinstance(data, dict) and "type" in data:
            by_name = {m.__name__: m for m in members}
            fields = {k: v for k, v in data.items() if k != "type"}
            return from_plain(by_name[data["type"]], fields)
        for member in members:
            if isinstance(data, _unwrap_newtype(member)):
                return data
        raise TypeError(f"cannot tell which of {members} {data!r} is")
    if dataclasses.is_dataclass(base):
        hints = _hints(base)  # type: ignore[arg-type]
        kwargs = {
            f.name: from_plain(hints[f.name], data[f.name])
            for f in dataclasses.fields(base)
            if f.name in data
        }
        constructor: Any = base
        return constructor(**kwargs)
    if isinstance(base, type) and issubclass(base, Enum):
        return base(data)
    if base is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError(f"expected a number, got {data!r}")
        return float(data)
    if base in (bool, int, str):
        if not isinstance(data, base) or (base is int and isinstance(data, bool)):
            raise TypeError(f"expected {base.__name__}, got {data!r}")
        return data
    origin, args = get_origin(base), get_args(base)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v) for v in data)
        return tuple(from_plain(a, v) for a, v in zip(args, data, strict=True))
    if origin is frozenset:
        return frozenset(from_plain(args[0], v) for v in data)
    if origin in (Mapping, dict):
        key_type = _unwrap_newtype(args[0])
        return {key_type(k): from_plain(args[1], v) for k, v in data.items()}
    raise TypeError(f"no plain form for {tp!r}")


def state_to_dict(state: LockerState) -> dict[str, JSON]:
    return {"schema": STATE_SCHEMA, "state": to_plain(LockerState, state)}


def state_from_dict(data: Mapping[str, Any]) -> LockerState:
    if data.get("schema") != STATE_SCHEMA:
        raise ValueError(f"unknown state schema {data.get('schema')!r}")
    return typing.cast(LockerState, from_plain(LockerState, data["state"]))


def event_to_dict(event: Event) -> dict[str, JSON]:
    encoded = to_plain(type(event), event)
    assert isinstance(encoded, dict)
    return {"event": event.name, **encoded}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    cls = EVENT_TYPES[data["event"]]
    fields = {k: v for k, v in data.items() if k != "event"}
    return typing.cast(Event, from_plain(cls, fields))


def value_from_plain(tp: type[T], data: Any) -> T:
    """Typed front for ``from_plain`` when ``tp`` is a class."""
    return typing.cast(T, from_plain(tp, data))
