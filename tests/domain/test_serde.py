"""Every persisted value round-trips through plain JSON."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locker_host.domain import (
    AuditRecord,
    CentralActor,
    Effect,
    Event,
    Item,
    LockerConfig,
    LockerState,
    event_from_dict,
    event_to_dict,
    from_plain,
    state_from_dict,
    state_to_dict,
    to_plain,
)
from locker_host.domain.events import EVENT_TYPES

from .helpers import EXAMPLES, PROPERTY, config


def values_of(tp: Any) -> st.SearchStrategy[Any]:
    """Any value of a domain type, built from its annotations (no global registration)."""
    while hasattr(tp, "__supertype__"):
        tp = tp.__supertype__
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return st.one_of([values_of(a) for a in args])
    if tp is type(None):
        return st.none()
    if dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        fields = {f.name: values_of(hints[f.name]) for f in dataclasses.fields(tp)}
        return st.builds(tp, **fields)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(values_of(args[0]), max_size=3).map(tuple)
        return st.tuples(*(values_of(a) for a in args))
    if origin is frozenset:
        return st.frozensets(values_of(args[0]), max_size=3)
    if origin in (Mapping, dict):
        return st.dictionaries(values_of(args[0]), values_of(args[1]), max_size=3)
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(),
        # NaN is not equal to itself and JSON has no infinity: neither is ever a time here.
        float: st.floats(allow_nan=False, allow_infinity=False),
        str: st.text(max_size=8),
        bytes: st.binary(min_size=16, max_size=16),
    }
    return scalars[tp]


def _round_trip(tp: Any, value: Any) -> Any:
    return from_plain(tp, json.loads(json.dumps(to_plain(tp, value))))


@settings(PROPERTY, max_examples=min(EXAMPLES, 40))  # whole lockers; the machine adds more
@given(values_of(LockerState))
def test_any_state_round_trips(state: LockerState) -> None:
    document = json.loads(json.dumps(state_to_dict(state)))
    assert document["schema"] == 1
    assert state_from_dict(document) == state


@PROPERTY
@given(st.one_of([values_of(cls) for cls in EVENT_TYPES.values()]))
def test_any_event_round_trips_with_its_wire_name(event: Event) -> None:
    encoded = json.loads(json.dumps(event_to_dict(event)))
    assert encoded["event"] == event.name
    assert event_from_dict(encoded) == event


@PROPERTY
@given(values_of(AuditRecord))
def test_any_audit_record_round_trips(record: AuditRecord) -> None:
    assert _round_trip(AuditRecord, record) == record


@PROPERTY
@given(values_of(Effect))
def test_any_effect_round_trips(effect: Effect) -> None:
    assert _round_trip(Effect, effect) == effect


def test_the_configuration_round_trips_too() -> None:
    assert _round_trip(LockerConfig, config()) == config()


def test_unions_are_tagged_and_scalars_are_plain() -> None:
    plain = to_plain(AuditRecord, AuditRecord(1.0, True, CentralActor("ops"), "x", True))
    assert isinstance(plain, dict)
    assert plain["actor"] == {"type": "CentralActor", "operator": "ops", "command_id": None}
    assert plain["at_wall_s"] == 1.0


def test_an_unknown_schema_is_refused() -> None:
    with pytest.raises(ValueError):
        state_from_dict({"schema": 99, "state": {}})


def test_a_malformed_document_is_refused() -> None:
    with pytest.raises(TypeError):
        from_plain(Item, {"item_id": 7})
