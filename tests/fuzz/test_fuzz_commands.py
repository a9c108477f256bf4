"""Fuzz the central system's commands: the MQTT bridge's reading of a message
(`mqtt_bridge.inbound`: size, UTF-8 JSON, retained, signature), the control commands
(`ping`, `republish`, `replay`), the application's parser (`parse_command`) and the
whole `CommandApi.handle` on a real service and SQLite file.

Inputs: valid payloads of every command with fields dropped, retyped, replaced by
odd values or added; raw bytes; and JSON of any shape.

Contract: the bridge returns `Accepted` or `Refused` (an error reply with a code);
the parsers return a request or raise `InvalidPayload` / `UnknownCommand` (nothing
else); `handle` always answers a JSON object, `ok` true or an error whose code is one
of the typed errors' codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker_host.app import COMMANDS, AppError
from locker_host.app.commands import parse_command
from locker_host.app.errors import InvalidPayload, UnknownCommand
from locker_host.daemon.mqtt_link import ServicePort
from locker_host.domain.errors import LockerError
from locker_host.store.errors import StoreError
from mqtt_bridge import Topics
from mqtt_bridge.control import CONTROL_COMMANDS, ControlRequest, parse_control
from mqtt_bridge.inbound import Accepted, Inbound, Refused, read_command, route
from mqtt_bridge.signing import Verifier, sign
from tests.app.harness import Locker, owner_key
from tests.domain.helpers import ALICE_ID

from .budget import fuzz

TOPICS = Topics("hall1", "L1")
KEY = b"k" * 32
VERIFIER = Verifier({"k1": KEY}, frozenset({"open"}))
EXPIRES = "2099-01-01T00:00:00+00:00"
TEMPLATES: dict[str, dict[str, Any]] = {
    "reserve": {
        "application": "APP-1",
        "owner_key": owner_key(ALICE_ID),
        "key_version": 1,
        "size": "S",
        "department": "tax",
        "deadline": "2099-01-01T00:00:00Z",
        "pickup_code": "48291637",
    },
    "cancel": {"application": "APP-1"},
    "expect_dropoff": {"application": "APP-2", "department": "tax"},
    "extend_deadline": {"application": "APP-1", "deadline": "2099-02-01T00:00:00Z"},
    "recall_list": {"department": "tax"},
    "open": {"compartment": "A01", "reason": "inspection"},
    "set_service": {"compartment": "A02", "in_service": False, "reason": "broken hinge"},
    "inventory": {},
    "ping": {},
    "republish": {},
    "replay": {"from_seq": 1},
}

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=80),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "",
            " ",
            "A99",
            "a01",
            "../x",
            "\x00",
            "9" * 400,
            "2099-13-45T99:99:99Z",
            "NaN",
            "-1",
            "1e999",
            "Z01",
            "📦",
            "null",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, object]:
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    body: dict[str, Any] = {
        "command_id": f"c-{draw(st.integers(0, 10**6))}",
        "expires_at": EXPIRES,
        **TEMPLATES[name],
    }
    for _ in range(draw(st.integers(0, 3))):
        match draw(st.sampled_from(["drop", "retype", "add", "whole"])):
            case "drop" if body:
                body.pop(draw(st.sampled_from(sorted(body))))
            case "retype" if body:
                body[draw(st.sampled_from(sorted(body)))] = draw(odd_values)
            case "add":
                body[draw(st.text(max_size=12))] = draw(odd_values)
            case "whole":
                return name, draw(json_values)
    return name, body


def expected_codes() -> set[str]:
    codes: set[str] = set()
    for base in (AppError, LockerError, StoreError):
        stack: list[type] = [base]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            code = getattr(cls, "code", None)
            if isinstance(code, str):
                codes.add(code)
    return codes


CODES = expected_codes()


def message(name: str, raw: bytes, *, retain: bool = False, response: str | None = None):
    return Inbound(TOPICS.command(name), raw, 1, retain, False, 1, response, b"c", 1)


def encode(body: object) -> bytes:
    try:
        return json.dumps(body, allow_nan=True).encode()
    except (TypeError, ValueError):
        return b"{"


@fuzz
@given(payloads(), st.booleans(), st.booleans())
def test_the_bridge_reads_any_command_message_into_accepted_or_refused(pair, signed, retain):
    name, body = pair
    if signed and isinstance(body, dict):
        with contextlib.suppress(ValueError, TypeError, RecursionError):  # not canonical: unsigned
            body = sign(body, topic=TOPICS.command(name), key_id="k1", key=KEY)
    result = read_command(
        name, message(name, encode(body), retain=retain), max_bytes=16_384, verifier=VERIFIER
    )
    assert isinstance(result, Accepted | Refused)
    if isinstance(result, Refused):
        assert result.reply["ok"] is False and isinstance(result.reply["error"]["code"], str)
    else:
        assert "signature" not in result.payload
        assert name != "open" or signed  # an unsigned open never gets through


@fuzz
@given(
    st.sampled_from(sorted(TEMPLATES)), st.binary(max_size=400), st.none() | st.text(max_size=60)
)
def test_the_bridge_refuses_byte_soup_and_foreign_response_topics(name, raw, response) -> None:
    result = read_command(name, message(name, raw), max_bytes=256, verifier=VERIFIER)
    assert isinstance(result, Accepted | Refused)
    where, refusal = route(name, message(name, raw, response=response), TOPICS, max_bytes=256)
    assert where.topic == TOPICS.reply or where.topic.startswith(TOPICS.reply + "/")
    assert refusal is None or refusal.reply["error"]["field"] == "response_topic"


@fuzz
@given(payloads())
def test_parsers_return_a_request_or_raise_a_typed_error(pair) -> None:
    name, body = pair
    try:
        if name in CONTROL_COMMANDS:
            # The bridge hands on JSON objects only (inbound.py); the port's envelope
            # reader is the app's, answering a refusal, never raising.
            if isinstance(body, dict):
                read = parse_control(name, body, ServicePort)
                assert isinstance(read, ControlRequest) or read["error"]["code"] in CODES
        else:
            parse_command(name, body)
    except (InvalidPayload, UnknownCommand) as problem:
        assert problem.code in CODES


def test_the_command_api_answers_every_payload_with_ok_or_a_typed_error(tmp_path: Path) -> None:
    async def start() -> Locker:
        return await Locker.start(tmp_path / "locker.db")

    loop = asyncio.new_event_loop()
    locker = loop.run_until_complete(start())
    seen: dict[str, int] = {}

    @fuzz
    @given(payloads())
    def handle(pair: tuple[str, object]) -> None:
        name, body = pair
        if name in CONTROL_COMMANDS:
            name = "inventory"  # answered by the bridge, not the app
        reply = loop.run_until_complete(locker.api.handle(name, body)).to_json()
        assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), reply
        json.dumps(reply, allow_nan=False)  # the reply is publishable JSON
        key = "ok" if reply["ok"] else reply["error"]["code"]
        seen[key] = seen.get(key, 0) + 1
        if not reply["ok"]:
            assert reply["error"]["code"] in CODES, reply

    try:
        handle()
        for name in COMMANDS:  # and a name that is not a command
            unknown = loop.run_until_complete(locker.api.handle(f"x{name}", {})).to_json()
            assert unknown["error"]["code"] == "unknown_command"
    finally:
        loop.run_until_complete(locker.close())
        loop.close()
    assert "invalid" in seen, seen  # the fuzzer did reach the refusals
    print("command api replies:", seen)


def test_a_key_version_that_is_not_a_whole_number_is_refused() -> None:
    for value in (math.nan, math.inf, -1, True, 1.0):
        with pytest.raises(InvalidPayload):
            parse_command(
                "reserve",
                {
                    **TEMPLATES["reserve"],
                    "command_id": "x",
                    "expires_at": EXPIRES,
                    "key_version": value,
                },
            )
