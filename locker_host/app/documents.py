"""The locker state as store documents, without personal data.

Kinds (``store/state.py`` leaves them to us):

* ``compartment/<id>``: a ``Compartment`` with its claim and items;
* ``open/<id>``: an ``Open`` under way;
* ``locker/state``: everything else (boards, sequence numbers, drop-off
  expectations, the code guard) and the document ``format``.

Everything is the domain's own plain JSON (``to_plain``) except the personal
values, which ``personal.py`` swaps for refs; an item's ``pickup_code`` is
saved as ``code`` because the store refuses that field name anywhere.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from locker_host.domain import (
    Actor,
    CitizenActor,
    Claim,
    Compartment,
    DropoffExpectation,
    Item,
    LockerState,
    Open,
    OwnerKey,
    from_plain,
    to_plain,
)

from .personal import Joiner, Splitter

T = TypeVar("T")

COMPARTMENT = "compartment"
OPEN = "open"
LOCKER = "locker"
LOCKER_ID = "state"
FORMAT = 1
_GUARD_FAILURES = "guard.failures"
_GUARD_LOCKED = "guard.locked"


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


# The app imports the domain's public names only; the code guard's class is
# reached through the state's annotation instead of a private module.
CodeGuard: type = _hints(LockerState)["code_guard"]


def _fields(cls: type, value: object, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The domain's plain form of ``value``'s fields, except ``skip`` (encoded by the caller)."""
    hints = _hints(cls)
    return {
        f.name: to_plain(hints[f.name], getattr(value, f.name))
        for f in dataclasses.fields(cls)
        if f.name not in skip
    }


def _build(cls: type[T], body: Mapping[str, Any], **given: Any) -> T:
    """``cls`` from its plain fields in ``body``, with the ``given`` (personal) fields as is."""
    hints = _hints(typing.cast(type, cls))
    kwargs = {
        f.name: from_plain(hints[f.name], body[f.name])
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in body and f.name not in given
    }
    return cls(**kwargs, **given)


# -- compartments ----------------------------------------------------------------


def compartment_document(compartment: Compartment, split: Splitter) -> dict[str, Any]:
    claim = compartment.claim
    return {
        **_fields(Compartment, compartment, skip=frozenset({"claim", "items"})),
        "claim": None if claim is None else _claim(claim, split, f"claim:{compartment.id}"),
        "items": [_item(item, split) for item in compartment.items],
    }


def compartment_from_document(body: Mapping[str, Any], join: Joiner) -> Compartment:
    claim = body["claim"]
    return _build(
        Compartment,
        body,
        claim=None if claim is None else _claim_from(claim, join, f"claim:{body['id']}"),
        items=tuple(_item_from(item, join) for item in body["items"]),
    )


def _claim(claim: Claim, split: Splitter, scope: str) -> dict[str, Any]:
    owner = None if claim.owner is None else split.owner(scope, claim.owner)
    return {**_fields(Claim, claim, skip=frozenset({"owner"})), "owner": owner}


def _claim_from(body: Mapping[str, Any], join: Joiner, scope: str) -> Claim:
    return _build(Claim, body, owner=join.owner(scope, body["owner"]))


def _item(item: Item, split: Splitter) -> dict[str, Any]:
    scope = f"item:{item.item_id}"
    code = item.pickup_code
    return {
        **_fields(Item, item, skip=frozenset({"claim", "pickup_code"})),
        "claim": _claim(item.claim, split, scope),
        "code": None if code is None else split.code(scope, code),
    }


def _item_from(body: Mapping[str, Any], join: Joiner) -> Item:
    scope = f"item:{body['item_id']}"
    return _build(
        Item,
        body,
        claim=_claim_from(body["claim"], join, scope),
        pickup_code=join.code(scope, body["code"]),
    )


# -- opens -------------------------------------------------------------------------


def open_document(open_: Open, split: Splitter) -> dict[str, Any]:
    actor: Any = to_plain(Actor, open_.actor)
    if isinstance(open_.actor, CitizenActor) and open_.actor.owner is not None:
        actor["owner"] = split.owner(f"open:{open_.open_id}", open_.actor.owner)
    return {**_fields(Open, open_, skip=frozenset({"actor"})), "actor": actor}


def open_from_document(body: Mapping[str, Any], join: Joiner) -> Open:
    actor = dict(body["actor"])
    decoded: Actor
    if actor.get("type") == CitizenActor.__name__:
        owner = join.owner(f"open:{body['open_id']}", actor["owner"])
        decoded = _build(CitizenActor, actor, owner=owner)
    else:
        decoded = from_plain(Actor, actor)
    return _build(Open, body, actor=decoded)


# -- the rest of the locker ---------------------------------------------------------


def locker_document(state: LockerState, split: Splitter) -> dict[str, Any]:
    personal = frozenset({"compartments", "opens", "dropoffs", "code_guard"})
    return {
        "format": FORMAT,
        **_fields(LockerState, state, skip=personal),
        "dropoffs": [_dropoff(d, split) for d in state.dropoffs],
        "code_guard": _guard(state.code_guard, split),
    }


def locker_from_documents(
    body: Mapping[str, Any],
    compartments: Mapping[str, Compartment],
    opens: Mapping[str, Open],
    join: Joiner,
) -> LockerState:
    if body.get("format") != FORMAT:
        raise ValueError(f"unknown locker document format {body.get('format')!r}")
    return _build(
        LockerState,
        body,
        compartments=compartments,
        opens=opens,
        dropoffs=tuple(d for d in (_dropoff_from(b, join) for b in body["dropoffs"]) if d),
        code_guard=_guard_from(body["code_guard"], join),
    )


def _dropoff(expectation: DropoffExpectation, split: Splitter) -> dict[str, Any]:
    scope = f"dropoff:{expectation.application}"
    owner = expectation.owner
    return {
        **_fields(DropoffExpectation, expectation, skip=frozenset({"owner", "code"})),
        "owner": None if owner is None else split.owner(scope, owner),
        "code": split.code(scope, expectation.code),
    }


def _dropoff_from(body: Mapping[str, Any], join: Joiner) -> DropoffExpectation | None:
    scope = f"dropoff:{body['application']}"
    code = join.code(scope, body["code"])
    if code is None:
        return None  # its row is gone: nobody could ever enter that code
    return _build(DropoffExpectation, body, owner=join.owner(scope, body["owner"]), code=code)


def _guard(guard: Any, split: Splitter) -> dict[str, Any]:
    owner_maps = frozenset({"owner_failures", "owner_locked_until_mono_s"})
    return {
        **_fields(CodeGuard, guard, skip=owner_maps),
        "owner_failures": [
            {
                "personal_ref": split.bare_owner_key(_GUARD_FAILURES, key),
                "times_mono_s": list(times),
            }
            for key, times in sorted(guard.owner_failures.items())
        ],
        "owner_locked_until_mono_s": [
            {"personal_ref": split.bare_owner_key(_GUARD_LOCKED, key), "until_mono_s": until}
            for key, until in sorted(guard.owner_locked_until_mono_s.items())
        ],
    }


def _guard_from(body: Mapping[str, Any], join: Joiner) -> Any:
    failures: dict[OwnerKey, tuple[float, ...]] = {}
    for entry in body["owner_failures"]:
        key = join.bare_owner_key(_GUARD_FAILURES, entry["personal_ref"])
        if key is not None:
            failures[key] = tuple(float(t) for t in entry["times_mono_s"])
    locked = {}
    for entry in body["owner_locked_until_mono_s"]:
        key = join.bare_owner_key(_GUARD_LOCKED, entry["personal_ref"])
        if key is not None:
            locked[key] = float(entry["until_mono_s"])
    return _build(CodeGuard, body, owner_failures=failures, owner_locked_until_mono_s=locked)
