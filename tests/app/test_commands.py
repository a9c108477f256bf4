"""The application command API: every central command, its success and every
refusal it can produce; duplicates, expiry, invalid payloads, unknown names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from locker_host.app import COMMANDS, InvalidPayload, UnknownCommand, parse_command
from locker_host.domain import BoardAddress, BoardRef, BoardUnreachable, BusId
from tests.domain.helpers import ALICE_ID, BOB_ID

from .harness import DAY, HOUR, Locker, iso, owner_key

Step = Callable[[Locker], Awaitable[None]]
Fields = Callable[[Locker], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    command: str
    code: str | None  # None: the command succeeds
    steps: tuple[Step, ...]
    fields: Fields

    @property
    def id(self) -> str:
        return f"{self.command}/{self.code or 'ok'}"


def reserve_fields(locker: Locker, application: str = "APP-1", **more: Any) -> dict[str, Any]:
    return {
        "application": application,
        "owner_key": owner_key(BOB_ID),
        "key_version": 2,
        "size": "M",
        "department": "tax",
        "deadline": iso(locker.clock.wall_s + 3 * DAY),
        **more,
    }


def dropoff_fields(locker: Locker, application: str = "APP-D", **more: Any) -> dict[str, Any]:
    return {
        "application": application,
        "department": "tax",
        "size": "S",
        "valid_until": iso(locker.clock.wall_s + DAY),
        **more,
    }


def const(**payload: Any) -> Fields:
    return lambda _: payload


def later(days: float, application: str = "APP-1") -> Fields:
    def fields(locker: Locker) -> dict[str, Any]:
        return {"application": application, "deadline": iso(locker.clock.wall_s + days * DAY)}

    return fields


async def reserved(locker: Locker) -> None:
    await locker.reserve("APP-1", BOB_ID)  # goes to A03


async def loading(locker: Locker) -> None:
    await reserved(locker)
    assert ((await locker.kiosk.staff_card("card-tax", "load")).to_json())[
        "ok"
    ]  # door not opened yet


async def cancelled_after_loading(locker: Locker) -> None:
    await reserved(locker)
    await locker.load("A03")
    await locker.ok("cancel", application="APP-1")


async def opening(locker: Locker) -> None:
    await locker.ok("open", compartment="A01", reason="first")


async def board_offline(locker: Locker) -> None:
    await locker.service.observe(BoardUnreachable(BoardRef(BusId("bus0"), BoardAddress(1))))


async def untrusted(locker: Locker) -> None:
    locker.clock.trusted = False


async def low_l_taken(locker: Locker) -> None:
    await locker.reserve("APP-L", ALICE_ID, size="L", accessible=True)  # A04, the only low L


CASES = [
    Case("reserve", None, (), reserve_fields),
    Case("reserve", "duplicate_application", (reserved,), reserve_fields),
    Case(
        "reserve",
        "invalid_deadline",
        (),
        lambda lk: reserve_fields(lk, deadline=iso(lk.clock.wall_s - HOUR)),
    ),
    Case("reserve", "pickup_code_too_short", (), lambda lk: reserve_fields(lk, pickup_code="1234")),
    Case(
        "reserve",
        "no_compartment_available",
        (low_l_taken,),
        lambda lk: reserve_fields(lk, size="L", accessible=True),
    ),
    Case("reserve", "invalid", (), lambda lk: reserve_fields(lk, key_version=9)),
    Case("cancel", None, (reserved,), const(application="APP-1")),
    Case("cancel", "unknown_application", (), const(application="NOPE")),
    Case("cancel", "compartment_busy", (loading,), const(application="APP-1")),
    Case("expect_dropoff", None, (), dropoff_fields),
    Case(
        "expect_dropoff",
        "duplicate_application",
        (reserved,),
        lambda lk: dropoff_fields(lk, "APP-1"),
    ),
    Case(
        "expect_dropoff",
        "invalid_deadline",
        (),
        lambda lk: dropoff_fields(lk, valid_until=iso(lk.clock.wall_s - HOUR)),
    ),
    Case(
        "expect_dropoff",
        "invalid",
        (),
        lambda lk: dropoff_fields(lk, owner_key=owner_key(ALICE_ID), key_version=7),
    ),
    Case("extend_deadline", None, (reserved,), later(5)),
    Case("extend_deadline", "unknown_application", (), later(5, "NOPE")),
    Case("extend_deadline", "invalid_deadline", (reserved,), later(1)),
    Case("extend_deadline", "invalid_transition", (cancelled_after_loading,), later(5)),
    Case("recall_list", None, (), const()),
    Case("open", None, (), const(compartment="B01", reason="inspection")),
    Case("open", "reason_required", (), const(compartment="B01", reason="  ")),
    Case("open", "unknown_compartment", (), const(compartment="Z99", reason="inspection")),
    Case("open", "compartment_busy", (opening,), const(compartment="A01", reason="again")),
    Case("open", "compartment_unavailable", (board_offline,), const(compartment="A01", reason="x")),
    Case("open", "clock_untrusted", (untrusted,), const(compartment="B01", reason="x")),
    Case("set_service", None, (), const(compartment="B01", in_service=False, reason="repair")),
    Case(
        "set_service",
        "reason_required",
        (),
        const(compartment="B01", in_service=False, reason=""),
    ),
    Case(
        "set_service",
        "unknown_compartment",
        (),
        const(compartment="Z99", in_service=False, reason="repair"),
    ),
    Case(
        "set_service",
        "compartment_busy",
        (opening,),
        const(compartment="A01", in_service=False, reason="repair"),
    ),
    Case(
        "set_service",
        "compartment_not_empty",
        (reserved,),
        const(compartment="A03", in_service=False, reason="repair"),
    ),
    Case("inventory", None, (), const()),
]
SUCCESSES = [c for c in CASES if c.code is None]
ACTIONS = {"open": "remote_open"}  # the audit names the domain's command


def test_the_table_covers_every_command() -> None:
    assert {c.command for c in SUCCESSES} == set(COMMANDS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_every_command_and_every_refusal(db_path: Path, case: Case) -> None:
    locker = await Locker.start(db_path)
    for step in case.steps:
        await step(locker)
    audit_before, outbox_before, pulses_before = await locker.counts()
    payload = locker.payload(**case.fields(locker))
    reply = (await locker.api.handle(case.command, payload)).to_json()
    audit, outbox, pulses = await locker.counts()
    stored = await locker.service.runner.run(lambda s: s.command_reply(payload["command_id"]))
    if case.code is None:
        assert reply["ok"] is True, reply
        assert reply["result"] in {
            "accepted",
            "reserved",
            "opening",
            "recall_entries",
            "inventory_report",
        }
        assert stored is not None
    else:
        assert reply["ok"] is False and reply["error"]["code"] == case.code, reply
        assert pulses == pulses_before and outbox == outbox_before
        if case.code == "invalid":
            # Refused before the domain: nothing recorded, nothing to de-duplicate.
            assert reply["error"]["field"] == "key_version"
            assert audit == audit_before and stored is None
        else:
            last = (await locker.audit())[-1]
            assert last.outcome == "denied" and last.details["refusal_code"] == case.code
            assert last.actor == "central:central"
            assert last.action == ACTIONS.get(case.command, case.command)
            assert stored is not None and stored.reply == reply
    await locker.close()


async def test_replies_name_what_happened(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    reserved_reply = await locker.ok("reserve", **reserve_fields(locker))
    assert reserved_reply == {
        "ok": True,
        "result": "reserved",
        "application": "APP-1",
        "compartment": "A03",
        "shared": False,
    }
    inventory = await locker.ok("inventory")
    a03 = next(c for c in inventory["compartments"] if c["compartment"] == "A03")
    assert a03["state"] == "reserved" and a03["items"][0]["item"] == "APP-1"
    assert "owner" not in str(inventory)  # no owner keys in an inventory
    refused = await locker.central("cancel", application="NOPE")
    assert refused == {
        "ok": False,
        "error": {
            "code": "unknown_application",
            "message": "no such application here",
            "details": {"application": "NOPE"},
        },
    }
    await locker.close()


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.id)
async def test_a_duplicate_gets_the_stored_reply_and_nothing_happens_again(
    db_path: Path, case: Case
) -> None:
    locker = await Locker.start(db_path)
    for step in case.steps:
        await step(locker)
    payload = locker.payload(**case.fields(locker))
    first = (await locker.api.handle(case.command, payload)).to_json()
    assert first["ok"], first
    counts, state = await locker.counts(), locker.state
    again = (await locker.api.handle(case.command, payload)).to_json()
    if case.command == "expect_dropoff":
        # The raw code is shown once and never stored; the replay says everything else.
        assert "code" in first and "code" not in again
        first = {k: v for k, v in first.items() if k != "code"}
    assert again == first
    assert await locker.counts() == counts and locker.state == state
    await locker.restart()  # the dedup table is on disk, not in memory
    restarted_counts = await locker.counts()
    assert (await locker.api.handle(case.command, payload)).to_json() == again
    assert await locker.counts() == restarted_counts
    await locker.close()


async def test_a_refusal_is_stored_and_replayed_too(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    payload = locker.payload(**reserve_fields(locker, deadline=iso(locker.clock.wall_s - HOUR)))
    first = (await locker.api.handle("reserve", payload)).to_json()
    assert first["error"]["code"] == "invalid_deadline"
    counts = await locker.counts()
    assert (await locker.api.handle("reserve", payload)).to_json() == first
    assert await locker.counts() == counts
    await locker.close()


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.id)
async def test_an_expired_command_does_nothing(db_path: Path, case: Case) -> None:
    locker = await Locker.start(db_path)
    for step in case.steps:
        await step(locker)
    state, (audit, outbox, pulses) = locker.state, await locker.counts()
    payload = locker.payload(expires_at=iso(locker.clock.wall_s - 1), **case.fields(locker))
    reply = (await locker.api.handle(case.command, payload)).to_json()
    assert reply["ok"] is False and reply["error"]["code"] == "expired"
    assert locker.state == state
    assert await locker.counts() == (audit + 1, outbox, pulses)
    [entry] = (await locker.audit())[audit:]
    assert entry.outcome == "denied" and entry.details["refusal_code"] == "expired"
    assert entry.action == ACTIONS.get(case.command, case.command)
    # Answered the same if it comes again, even once the clock no longer says so.
    locker.clock.jump_wall(-2 * HOUR)
    assert (await locker.api.handle(case.command, payload)).to_json() == reply
    assert locker.state == state
    await locker.close()


def base(**fields: Any) -> dict[str, Any]:
    return {"command_id": "c-1", "expires_at": "2031-06-01T08:30:00+08:00", **fields}


RESERVE = base(
    application="APP-1",
    owner_key="ab" * 32,
    key_version=2,
    size="M",
    department="tax",
    deadline="2031-06-03T08:30:00Z",
)


def without(payload: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != name}


INVALID = [
    ("reserve", without(RESERVE, "command_id"), "command_id"),
    ("reserve", {**RESERVE, "command_id": ""}, "command_id"),
    ("reserve", {**RESERVE, "expires_at": "2031-06-01T08:30:00"}, "expires_at"),
    ("reserve", {**RESERVE, "expires_at": "tomorrow"}, "expires_at"),
    ("reserve", {**RESERVE, "expires_at": 1_900_000_000}, "expires_at"),
    ("reserve", {**RESERVE, "expires_at": "9999-12-31T23:59:59Z"}, "expires_at"),
    ("reserve", {**RESERVE, "deadline": "1970-01-02T00:00:00Z"}, "deadline"),
    ("reserve", {**RESERVE, "size": "XL"}, "size"),
    ("reserve", {**RESERVE, "owner_key": "not-a-key"}, "owner_key"),
    ("reserve", {**RESERVE, "key_version": True}, "key_version"),
    ("reserve", {**RESERVE, "key_version": -1}, "key_version"),
    ("reserve", {**RESERVE, "pickup_code": "12ab56"}, "pickup_code"),
    ("reserve", {**RESERVE, "pickup_code": 123456}, "pickup_code"),
    ("reserve", {**RESERVE, "accessible": "yes"}, "accessible"),
    ("reserve", without(RESERVE, "deadline"), "deadline"),
    ("reserve", {**RESERVE, "deadine": "2031-06-03T08:30:00Z"}, "deadine"),
    ("reserve", {**RESERVE, "id_number": "11010519491231002X"}, "id_number"),
    ("reserve", {**RESERVE, "department": "tax\n"}, "department"),
    ("cancel", base(application=""), "application"),
    ("cancel", base(application="x" * 129), "application"),
    (
        "expect_dropoff",
        base(
            application="A",
            department="tax",
            size="S",
            valid_until="2031-06-02T00:00:00Z",
            owner_key="ab" * 32,
        ),
        "key_version",
    ),
    ("extend_deadline", base(application="A", deadline=None), "deadline"),
    ("recall_list", base(department=7), "department"),
    ("open", base(compartment="A01"), "reason"),
    ("open", base(compartment="A01", reason=5), "reason"),
    ("set_service", base(compartment="A01", in_service="false", reason="r"), "in_service"),
    ("inventory", base(operator=""), "operator"),
    ("inventory", base(extra=1), "extra"),
]


@pytest.mark.parametrize(("name", "payload", "field"), INVALID, ids=lambda v: str(v)[:30])
def test_invalid_payloads_name_the_field(name: str, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_command(name, payload)
    assert caught.value.field == field
    assert caught.value.code == "invalid"
    # The value itself is never quoted back (it may be an ID number or a code).
    assert "11010519491231002X" not in caught.value.message


def test_a_payload_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_command("inventory", ["c-1"])
    assert caught.value.field is None


def test_a_valid_payload_parses_into_the_typed_request() -> None:
    request = parse_command("reserve", {**RESERVE, "pickup_code": "48151623"})
    assert request.command_id == "c-1" and request.operator == "central"
    assert request.expires_at_wall_s == datetime(2031, 6, 1, 0, 30, tzinfo=UTC).timestamp()
    assert "48151623" not in repr(request)


async def test_unknown_and_invalid_commands_through_the_api(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    counts = await locker.counts()
    unknown = (await locker.api.handle("self_destruct", locker.payload())).to_json()
    assert unknown["error"]["code"] == "unknown_command"
    assert "reserve" in unknown["error"]["details"]["known"]
    with pytest.raises(UnknownCommand):
        parse_command("self_destruct", {})
    invalid = (await locker.api.handle("open", locker.payload(compartment="A01"))).to_json()
    assert invalid == {
        "ok": False,
        "error": {"code": "invalid", "message": "required, a string", "field": "reason"},
    }
    assert await locker.counts() == counts
    await locker.close()
