"""The HTTP API's bodies as pydantic models: they *are* the OpenAPI contract.

Handlers build plain dicts (the app's reply dicts, mostly) and return them as
JSON; the models describe them for the OpenAPI document, and the tests check
every answer against that document (schemathesis, ``test_openapi.py``).
Nothing here carries an ID number: items are known by application or receipt
number, people by their role (``citizen``) or staff id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# -- errors ---------------------------------------------------------------------------


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="stable machine code, e.g. unauthenticated, nothing_for_you")
    message: str
    field: str | None = Field(None, description="the request field at fault")
    details: dict[str, Any] | None = None


class ErrorReply(BaseModel):
    ok: Literal[False]
    error: ErrorBody


# -- requests ---------------------------------------------------------------------------

_COMPARTMENT = Field(min_length=1, max_length=16, examples=["A01"])
_REASON = Field(min_length=1, max_length=200, description="why: kept in the audit log")


class StaffOpenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compartment: str = _COMPARTMENT
    reason: str = _REASON


class ServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compartment: str = _COMPARTMENT
    in_service: bool
    reason: str = _REASON


class RecallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str | None = Field(None, min_length=1, max_length=64)


class SwipeRequest(BaseModel):
    """A reading forwarded by a kiosk app with its own reader (readers/http_swipe.py).

    Exactly one of ``id_number``, ``code``, ``staff_card``. ``kiosk_token``
    defaults to the caller's bearer token.
    """

    model_config = ConfigDict(extra="forbid")

    reader: Literal["sam", "scanner", "keyboard"]
    id_number: str | None = Field(None, min_length=1, max_length=64)
    code: str | None = Field(None, min_length=1, max_length=64)
    staff_card: str | None = Field(None, min_length=1, max_length=64)
    purpose: Literal["pickup", "dropoff"] | None = None
    kiosk_token: str | None = Field(None, min_length=1, max_length=256)


class DropoffRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=64)
    size: Literal["S", "M", "L"] | None = None
    accessible: bool = False


class DropoffCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    accessible: bool = False


class PickupCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)


# -- the locker -------------------------------------------------------------------------


class ItemModel(BaseModel):
    item: str = Field(description="application number (certificate) or receipt number (dossier)")
    kind: str = Field(examples=["certificate", "dossier"])
    stage: str
    department: str
    deadline_wall_s: float | None


class CompartmentModel(BaseModel):
    compartment: str
    size: str
    sensors: list[str]
    state: str = Field(
        description="free, dropoff, reserved, occupied, out_of_service, faulty, ... "
        "(show an unknown one by its name)"
    )
    door: str = Field(description="open, closed, unknown")
    item: str = Field(description="present, absent, unknown")
    faults: list[str]
    items: list[ItemModel]
    open_id: str | None
    pulse_count: int


class AuditHead(BaseModel):
    seq: int
    hash: str


class Snapshot(BaseModel):
    site: str
    locker: str
    boot_id: str
    clock_trusted: bool
    audit_head: AuditHead
    compartments: list[CompartmentModel]
    boards: dict[str, str] = Field(description="board key -> unknown, online, offline")


class StateReply(BaseModel):
    ok: Literal[True]
    state: Snapshot


class DepartmentModel(BaseModel):
    id: str = Field(examples=["market"])
    labels: dict[str, str] = Field(description="the name by language: zh, en")


class DepartmentsReply(BaseModel):
    ok: Literal[True]
    departments: list[DepartmentModel]


class CompartmentsReply(BaseModel):
    ok: Literal[True]
    compartments: list[CompartmentModel]


class ItemLine(ItemModel):
    compartment: str
    deadline: datetime | None = Field(description="deadline_wall_s as RFC 3339, UTC")
    overdue: bool


class ItemsReply(BaseModel):
    ok: Literal[True]
    items: list[ItemLine]


class AlarmAckModel(BaseModel):
    by: str
    at: datetime


class AlarmModel(BaseModel):
    alarm_id: str = Field(examples=["door.forced@A03", "board.offline@bus0:1"])
    kind: str = Field(description="the event that raised it: door.forced, door.ajar, ...")
    compartment: str | None
    board: str | None
    active: bool = Field(description="false only in a stream event: the alarm has cleared")
    acknowledged: AlarmAckModel | None


class AlarmsReply(BaseModel):
    ok: Literal[True]
    alarms: list[AlarmModel]


class AuditLineModel(BaseModel):
    seq: int
    recorded_at: datetime
    actor: str = Field(examples=["citizen", "staff:S001", "central:http:ops-desk"])
    action: str
    outcome: Literal["ok", "denied", "failed"]
    compartment: str | None
    details: dict[str, Any]
    hash: str


class AuditReply(BaseModel):
    ok: Literal[True]
    entries: list[AuditLineModel]


# -- buses, readers, health -----------------------------------------------------------


class PortModel(BaseModel):
    path: str
    state: str = Field(description="closed, open, down")
    losses: int
    last_error: str


class BoardModel(BaseModel):
    board: str
    health: str = Field(description="unknown, online, suspect, offline")
    identity: str
    transactions: int
    replies: int
    faults: dict[str, int]
    round_trip_mean_s: float | None
    round_trip_max_s: float | None


class BusModel(BaseModel):
    bus: str
    port: PortModel
    transactions: int
    replies: int
    faults: dict[str, int]
    unlocks: dict[str, int]
    cycle_time_last_s: float | None
    cycle_time_max_s: float | None
    boards: list[BoardModel]


class ReaderModel(BaseModel):
    name: str
    available: bool
    readings: int
    faults: int
    last_fault: str | None
    faults_by_code: dict[str, int] = Field(
        description="faults by code: read_failed (the card must be placed again), "
        "card_not_valid, reader_silent, ..."
    )
    line: dict[str, int] = Field(
        description="what the reader's line did that is no presentation's fault (a SAM "
        "reader: garbled_replies, odd_data_sizes, skipped_bytes, repaired_lengths, "
        "repeats_dropped, read_retries, timeouts, noise); see docs/id-card-reader.md"
    )
    details: dict[str, str] = Field(
        description="what the reader told of itself: a SAM reader's sam_id as the label on "
        "the reader shows it (05.01-20101224-0000123456-1234567890)"
    )


class MqttModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    connected: bool


class HealthReply(BaseModel):
    ok: Literal[True]
    status: Literal["ok", "degraded"]
    buses: list[BusModel]
    readers: list[ReaderModel]
    mqtt: MqttModel | None
    commissioned: bool


class BoardsReply(BaseModel):
    ok: Literal[True]
    buses: list[BusModel]
    boards: dict[str, str] = Field(description="the locker's view: board key -> status")


# -- actions ----------------------------------------------------------------------------


class OpenStartedModel(BaseModel):
    open_id: str
    compartment: str


class OpeningReply(BaseModel):
    model_config = ConfigDict(extra="allow")

    ok: Literal[True]
    result: Literal["opening"]
    opens: list[OpenStartedModel]
    unavailable: list[str] = Field(description="theirs, but cannot open now: see staff")


class AcceptedReply(BaseModel):
    ok: Literal[True]
    result: Literal["accepted"]
    detail: str


class RecallEntryModel(BaseModel):
    item: str
    kind: str
    stage: str
    compartment: str
    department: str
    deadline_wall_s: float | None


class RecallReply(BaseModel):
    ok: Literal[True]
    result: Literal["recall_entries"]
    entries: list[RecallEntryModel]


class StaffCardReply(BaseModel):
    """A staff card: each purpose with something to do, and what it opened."""

    ok: bool = Field(description="true when the swipe opened something")
    staff_open: dict[str, OpeningReply] = Field(
        description="by purpose (collect, load, recall); empty when there was nothing to do"
    )
    error: ErrorBody | None = Field(
        None, description="why nothing opened, when it was not simply nothing to do"
    )


# -- kiosk ------------------------------------------------------------------------------


class ServiceModel(BaseModel):
    name: str
    title_zh: str
    title_en: str
    department: str
    size: Literal["S", "M", "L"]


class ArmedModel(BaseModel):
    service: str
    department: str
    size: Literal["S", "M", "L"]
    accessible: bool
    expires_in_s: float


class ServicesReply(BaseModel):
    ok: Literal[True]
    services: list[ServiceModel]
    sizes: list[Literal["S", "M", "L"]]
    armed: ArmedModel | None


class ArmReply(BaseModel):
    ok: Literal[True]
    armed: ArmedModel | None


# -- live events (documented for the pages; the stream itself is text/event-stream) -------


class KioskEvent(BaseModel):
    source: Literal["reader", "http", "admin"]
    action: str = Field(description="pickup, dropoff, staff, code, arm, disarm")
    reply: dict[str, Any] = Field(
        description="the presentation's reply; a card or token the reader could not use "
        "is a refusal with the reader's code (read_failed, card_not_valid, "
        "invalid_id_number, invalid_code, unrecognised, token_too_long) and nothing of "
        "what was read"
    )
    at: datetime
