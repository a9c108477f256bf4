"""The application command API: the MQTT contract's command set as typed requests.

``parse_command(name, payload)`` validates a JSON object into one of the
requests below (``InvalidPayload`` names the field; ``UnknownCommand`` for a
name not in ``COMMANDS``); the MQTT link and the HTTP API reuse it, then hand
the request to ``CommandApi`` (``api.py``). Every request carries:

* ``command_id``: redelivery of the same id gets the stored reply, never a
  second execution;
* ``expires_at`` (RFC 3339 with offset): after it, the command is answered
  ``expired`` and does nothing;
* ``operator`` (optional, default ``central``): who at the central side sent it.

Owners are ``owner_key`` + ``key_version``, never an ID number. A pickup code
in ``reserve`` travels raw (the central system sends the SMS) and is digested
on arrival; it is never stored or echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from locker_host.domain import Size

from .errors import UnknownCommand
from .payload import Payload


@dataclass(frozen=True, kw_only=True)
class CentralRequest:
    command_id: str
    expires_at_wall_s: float
    operator: str = "central"


@dataclass(frozen=True, kw_only=True)
class ReserveRequest(CentralRequest):
    application: str
    owner_key: str
    key_version: int
    size: Size
    department: str
    deadline_wall_s: float
    accessible: bool = False
    pickup_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class CancelRequest(CentralRequest):
    application: str


@dataclass(frozen=True, kw_only=True)
class ExpectDropoffRequest(CentralRequest):
    """The locker generates the drop-off code and returns it once, in the live reply."""

    application: str
    department: str
    size: Size
    valid_until_wall_s: float
    owner_key: str | None = None
    key_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class ExtendDeadlineRequest(CentralRequest):
    application: str
    deadline_wall_s: float


@dataclass(frozen=True, kw_only=True)
class RecallListRequest(CentralRequest):
    department: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemoteOpenRequest(CentralRequest):
    compartment: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetServiceRequest(CentralRequest):
    compartment: str
    in_service: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class InventoryRequest(CentralRequest):
    pass


Request = (
    ReserveRequest
    | CancelRequest
    | ExpectDropoffRequest
    | ExtendDeadlineRequest
    | RecallListRequest
    | RemoteOpenRequest
    | SetServiceRequest
    | InventoryRequest
)


class _Envelope(TypedDict):
    command_id: str
    expires_at_wall_s: float
    operator: str


def _envelope(p: Payload) -> _Envelope:
    return {
        "command_id": p.text("command_id"),
        "expires_at_wall_s": p.time("expires_at"),
        "operator": p.optional_text("operator") or "central",
    }


def _reserve(p: Payload) -> ReserveRequest:
    return ReserveRequest(
        **_envelope(p),
        application=p.text("application"),
        owner_key=p.owner_key("owner_key"),
        key_version=p.version("key_version"),
        size=p.size("size"),
        department=p.text("department"),
        deadline_wall_s=p.time("deadline"),
        accessible=p.boolean("accessible", default=False),
        pickup_code=p.code("pickup_code"),
    )


def _cancel(p: Payload) -> CancelRequest:
    return CancelRequest(**_envelope(p), application=p.text("application"))


def _expect_dropoff(p: Payload) -> ExpectDropoffRequest:
    envelope = _envelope(p)
    has_owner = p.has("owner_key") or p.has("key_version")
    return ExpectDropoffRequest(
        **envelope,
        application=p.text("application"),
        department=p.text("department"),
        size=p.size("size"),
        valid_until_wall_s=p.time("valid_until"),
        owner_key=p.owner_key("owner_key") if has_owner else None,
        key_version=p.version("key_version") if has_owner else None,
    )


def _extend_deadline(p: Payload) -> ExtendDeadlineRequest:
    return ExtendDeadlineRequest(
        **_envelope(p),
        application=p.text("application"),
        deadline_wall_s=p.time("deadline"),
    )


def _recall_list(p: Payload) -> RecallListRequest:
    return RecallListRequest(**_envelope(p), department=p.optional_text("department"))


def _open(p: Payload) -> RemoteOpenRequest:
    return RemoteOpenRequest(
        **_envelope(p),
        compartment=p.text("compartment"),
        reason=p.free_text("reason"),
    )


def _set_service(p: Payload) -> SetServiceRequest:
    return SetServiceRequest(
        **_envelope(p),
        compartment=p.text("compartment"),
        in_service=p.boolean("in_service"),
        reason=p.free_text("reason"),
    )


def _inventory(p: Payload) -> InventoryRequest:
    return InventoryRequest(**_envelope(p))


COMMANDS: dict[str, Callable[[Payload], Request]] = {
    "reserve": _reserve,
    "cancel": _cancel,
    "expect_dropoff": _expect_dropoff,
    "extend_deadline": _extend_deadline,
    "recall_list": _recall_list,
    "open": _open,
    "set_service": _set_service,
    "inventory": _inventory,
}


def parse_command(name: str, payload: object) -> Request:
    parser = COMMANDS.get(name)
    if parser is None:
        raise UnknownCommand(f"no command named {name[:40]!r}", known=tuple(COMMANDS))
    p = Payload(payload)
    request = parser(p)
    p.finish()
    return request


def parse_envelope(payload: object) -> CentralRequest:
    """The envelope alone: a command answered outside the app (the MQTT bridge's ping)."""
    p = Payload(payload)
    envelope = _envelope(p)
    p.finish()
    return CentralRequest(**envelope)
