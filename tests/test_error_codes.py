"""Every error code that exists reaches every edge with the same meaning.

The codes are enumerated from the three exception trees (the domain's, the
app's, the store's: ``locker_host.app.CODES``) and from the kiosk swipe's
codes; for each, the HTTP status follows from its category, the MQTT reply
and the admin socket's line are the app's JSON form, and a stored reply read
back (a redelivered central command) keeps its category.
"""

from __future__ import annotations

import inspect

import pytest

from locker_host.api.errors import STATUS, status_of
from locker_host.app import CODES, Category, Done, Refusal, replies
from locker_host.app.errors import AppError
from locker_host.daemon.kiosk import swipe_refusal
from locker_host.domain import LockerError
from locker_host.readers import SwipeError, SwipeErrorCode
from locker_host.store import StoreError
from mqtt_bridge import messages
from mqtt_bridge.topics import Topics

TOPICS = Topics("hh", "L1")
EXPECTED_STATUS = {
    Category.INVALID: 422,
    Category.UNAUTHENTICATED: 401,
    Category.DENIED: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.UNAVAILABLE: 503,
    Category.INTERNAL: 500,
    Category.TOO_LARGE: 413,
    Category.HEADERS_TOO_LARGE: 431,
}


ARGUMENTS: dict[str, object] = {
    "compartments": ("A01",),
    "found": 9,
    "supported": 8,
    "application_id": 1,
    "seq": 2,
    "head_seq": 1,
}
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _tree(root: type) -> list[type]:
    found, stack = [], [root]
    while stack:
        kind = stack.pop()
        found.append(kind)
        stack.extend(kind.__subclasses__())
    return found


def problems() -> list[Exception]:
    """One instance of every error class there is."""
    made: list[Exception] = []
    for root in (LockerError, AppError, StoreError):
        for kind in _tree(root):
            # Each with what its constructor requires (LayoutOrphansItems: compartments).
            try:
                parameters = inspect.signature(kind).parameters.values()
            except ValueError:  # Exception's own __init__ (the store's): a message
                made.append(kind("m"))
                continue
            required = [p.name for p in parameters if p.default is p.empty and p.kind in POSITIONAL]
            made.append(kind(*(ARGUMENTS.get(name, "m") for name in required)))
    return made


def test_the_registry_holds_every_code_of_every_tree() -> None:
    codes = {type(p).code for p in problems()}  # type: ignore[attr-defined]
    assert codes == set(CODES)
    # The two that used to fall through to 409, and the one CommandExpired.
    assert CODES["unknown_command"] is Category.INVALID
    assert CODES["layout_orphans_items"] is Category.CONFLICT
    assert CODES["expired"] is Category.DENIED and "command_expired" not in CODES


def test_every_category_has_a_status_and_a_category_decides_it_alone() -> None:
    assert STATUS == EXPECTED_STATUS
    assert status_of(Done()) == 200 and status_of(Done({"staff_open": {}}, ok=False)) == 200


@pytest.mark.parametrize("problem", problems(), ids=lambda p: type(p).__name__)
def test_every_code_is_mapped_at_every_edge(problem: Exception) -> None:
    refusal = replies.refusal(problem)  # type: ignore[arg-type]
    code = type(problem).code  # type: ignore[attr-defined]
    assert refusal.code == code and refusal.category is CODES[code]
    # HTTP: the status of the category.
    assert status_of(refusal) == EXPECTED_STATUS[refusal.category]
    # Admin socket and the kiosk's events: the app's JSON form.
    line = refusal.to_json()
    assert line["ok"] is False and line["error"]["code"] == code
    assert isinstance(line["error"]["message"], str) and line["error"]["message"]
    # MQTT: the reply envelope carries that same body.
    reply = messages.reply(TOPICS, "reserve", "c1", line, at=0.0)
    assert reply["command_id"] == "c1" and reply["reply"] == line
    # A stored reply read back keeps its code and its category.
    again = replies.from_json(line)
    assert isinstance(again, Refusal) and again == refusal


def test_the_swipe_codes_map_to_their_categories() -> None:
    for code in SwipeErrorCode:
        refusal = swipe_refusal(SwipeError(code, "field", "m"))
        denied = code is SwipeErrorCode.UNKNOWN_KIOSK
        assert status_of(refusal) == (403 if denied else 422), code
