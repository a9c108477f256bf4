"""From an MQTT message on ``cmd/{name}`` to a command the bridge may hand on, or a refusal.

Pure: no I/O, no clock. The order of the checks is the order in which a
reply can still be addressed: first where the reply goes (a response topic
outside the locker's ``reply/`` is refused and answered on the fallback
topic), then the envelope (retained, size, JSON object), then the signature.
Whatever the message, the answer is a reply, never an exception.

Every refusal carries the ``command_id`` of a payload that could be read (a
UTF-8 JSON object within ``max_bytes`` whose ``command_id`` is a usable
string), even when it is refused for its response topic or for being
retained: an MQTT 3.1.1 consumer matches replies by ``command_id`` alone.
``null`` is left for payloads that could not be read (docs/asyncapi/schemas/reply.json).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .messages import refusal as error
from .port import JsonDict
from .signing import Verifier
from .topics import Topics


@dataclass(frozen=True)
class Inbound:
    """A message as paho's thread hands it over (copied out of paho's objects)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    mid: int
    response_topic: str | None
    correlation_data: bytes | None
    generation: int  # which connection it arrived on; a PUBACK is only sent on that one
    broker: str = ""  # host:port of the broker that delivered it


@dataclass(frozen=True)
class Route:
    topic: str
    correlation_data: bytes | None


@dataclass(frozen=True)
class Accepted:
    name: str
    command_id: str | None
    payload: dict[str, Any]  # the signature taken off


@dataclass(frozen=True)
class Refused:
    name: str
    command_id: str | None
    reply: JsonDict


def route(
    name: str, message: Inbound, topics: Topics, *, max_bytes: int
) -> tuple[Route, Refused | None]:
    """Where the reply goes: the MQTT 5 response topic, else ``reply`` (MQTT 3.1.1)."""
    fallback = Route(topics.reply, message.correlation_data)
    if message.response_topic is None:
        return fallback, None
    if not topics.accepts_response_topic(message.response_topic):
        refusal = error(
            "invalid",
            f"the response topic must lie under {topics.reply}/",
            field="response_topic",
        )
        payload = _read_object(message.payload, max_bytes)
        command_id = _command_id(payload) if isinstance(payload, dict) else None
        return fallback, Refused(name, command_id, refusal)
    return Route(message.response_topic, message.correlation_data), None


def read_command(
    name: str, message: Inbound, *, max_bytes: int, verifier: Verifier
) -> Accepted | Refused:
    payload = _read_object(message.payload, max_bytes)
    command_id = _command_id(payload) if isinstance(payload, dict) else None
    if message.retain:
        # A retained command would run again for every new session (waken.dev:
        # "retaining a command transforms an intent into state").
        refusal = error("invalid", "commands must not be retained", field="$")
        return Refused(name, command_id, refusal)
    if not isinstance(payload, dict):
        return Refused(name, None, error("invalid", payload, field="$"))
    refused = verifier.check(name, message.topic, payload)
    if refused is not None:
        return Refused(name, command_id, error(refused.code, refused.message, field="signature"))
    payload.pop("signature", None)
    return Accepted(name, command_id, payload)


def _read_object(payload: bytes, max_bytes: int) -> dict[str, Any] | str:
    """The payload as a JSON object, or why it cannot be read (a payload past the
    limit is not even parsed: that is what the limit is for)."""
    if len(payload) > max_bytes:
        return f"the payload exceeds {max_bytes} bytes"
    try:
        data = json.loads(payload.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[...]]]]
        return "the payload is not UTF-8 JSON"
    if not isinstance(data, dict):
        return "the payload must be a JSON object"
    return data


# common.json's `text`, which reply.json's command_id is: 1 to 128 characters, no control ones.
_COMMAND_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


def _command_id(payload: dict[str, Any]) -> str | None:
    """The id to echo in the reply envelope, if the contract allows it there (the app
    judges it again and refuses a bad one naming the field)."""
    value = payload.get("command_id")
    return value if isinstance(value, str) and _COMMAND_ID.fullmatch(value) else None
