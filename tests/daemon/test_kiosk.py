"""What a card, a staff card or a code at a reader does (presentations.py), on a real service."""

from __future__ import annotations

from pathlib import Path

import pytest

from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    CardPresented,
    CodeEntered,
    FaultCode,
    ReaderFault,
    ReaderReady,
    present_code,
    present_id_number,
    present_staff_card,
    staff_card_digests,
)
from locker_host.store import AuditEntry

from .parts import ALICE, BOB, KEYS, STAFF_KEYS, Parts, iso

CLERK_CARD = "0012345678"
TECH_CARD = "0087654321"


def card(number: str) -> CardPresented:
    reading = present_id_number(KEYS.owner, number, assurance=Assurance.STRONG, source="idcard")
    assert isinstance(reading, CardPresented)
    return reading


def code(value: str, purpose: CodePurpose) -> CodeEntered | ReaderFault:
    return present_code(KEYS.codes, value, purpose, source="scanner")


def error(reply: dict[str, object] | None) -> object:
    assert reply is not None
    return reply["error"]["code"] if not reply["ok"] else None  # type: ignore[index]


async def audit(parts: Parts) -> list[AuditEntry]:
    return await parts.service.runner.run(lambda store: store.audit_entries(limit=1000))


@pytest.fixture
def staff_config() -> dict[str, object]:
    """The market clerk's card as the configuration stores it: a digest."""

    def digest(card: str) -> str:
        return staff_card_digests(STAFF_KEYS, card)[0].digest

    return {
        "staff": [
            {
                "card_digest": digest(CLERK_CARD),
                "staff_id": "M-1",
                "department": "market",
                "role": "clerk",
            },
            {
                "card_digest": digest(TECH_CARD),
                "staff_id": "X-1",
                "department": "market",
                "role": "technician",
            },
        ]
    }


async def test_a_card_is_a_pickup_unless_a_dropoff_was_armed(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    presentations = parts.presentations
    try:
        assert error((await presentations.handle(card(ALICE))).to_json()) == "nothing_for_you"
        service = parts.config.service("licence")
        assert service is not None
        presentations.arm_dropoff(service)
        reply = (await presentations.handle(card(ALICE))).to_json()
        assert reply is not None and reply["result"] == "opening"
        assert reply["opens"][0]["compartment"] == "A02"  # the service's size, M
        assert presentations.armed() is None  # used up
        assert error((await presentations.handle(card(BOB))).to_json()) == "nothing_for_you"
        presentations.arm_dropoff(service)
        parts.clock.advance(31)  # the arming waits 30 s
        assert error((await presentations.handle(card(BOB))).to_json()) == "nothing_for_you"
    finally:
        await parts.close()


async def test_codes_pick_up_or_drop_off_by_their_purpose(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    try:
        wrong = (await parts.presentations.handle(code("123456", CodePurpose.PICKUP))).to_json()
        assert error(wrong) == "wrong_code"
        expected = (
            await parts.api.handle(
                "expect_dropoff",
                {
                    "command_id": "c1",
                    "expires_at": iso(parts.clock.wall_s + 3600),
                    "application": "D-1",
                    "department": "tax",
                    "size": "S",
                    "valid_until": iso(parts.clock.wall_s + 3600),
                },
            )
        ).to_json()
        reply = (
            await parts.presentations.handle(code(expected["code"], CodePurpose.DROPOFF))
        ).to_json()
        assert reply is not None and reply["result"] == "opening", reply
    finally:
        await parts.close()


async def test_staff_cards_open_their_departments_work(
    tmp_path: Path, staff_config: dict[str, object]
) -> None:
    parts = await Parts.open(tmp_path, changes=staff_config)
    presentations = parts.presentations
    try:
        clerk = present_staff_card(STAFF_KEYS, CLERK_CARD, source="scanner")
        before = len(await audit(parts))
        nothing = (await presentations.handle(clerk)).to_json()
        assert nothing == {"ok": False, "staff_open": {}}
        # One swipe, one row: a denial that says why, not one per purpose tried.
        (denial,) = (await audit(parts))[before:]
        assert (denial.action, denial.outcome) == ("staff_swipe", "denied")
        assert denial.details["refusal_code"] == "nothing_for_you"
        assert "collect, load or recall" in str(denial.details["detail"])
        reserved = (
            await parts.api.handle(
                "reserve",
                {
                    "command_id": "r1",
                    "expires_at": iso(parts.clock.wall_s + 3600),
                    "application": "APP-1",
                    "owner_key": "ab" * 32,
                    "key_version": 2,
                    "size": "S",
                    "department": "market",
                    "deadline": iso(parts.clock.wall_s + 86400),
                },
            )
        ).to_json()
        assert reserved["ok"], reserved
        before = len(await audit(parts))
        load = (await presentations.handle(clerk)).to_json()
        assert load is not None and load["ok"]
        assert list(load["staff_open"]) == ["load"]  # nothing to collect or recall: skipped
        [opened] = load["staff_open"]["load"]["opens"]
        # Granted, with what it opened; no denial for the purposes with nothing to do.
        (row,) = (await audit(parts))[before:]
        assert (row.action, row.outcome, row.compartment) == (
            "staff_open",
            "ok",
            reserved["compartment"],
        )
        assert row.details["open_id"] == opened["open_id"] and row.details["detail"] == "load"
        technician = present_staff_card(STAFF_KEYS, TECH_CARD, source="scanner")
        before = len(await audit(parts))
        refused = (await presentations.handle(technician)).to_json()
        assert refused is not None and refused["staff_open"] == {}
        assert error(refused) == "not_authorised"
        (denial,) = (await audit(parts))[before:]
        assert denial.details["refusal_code"] == "not_authorised"
        stranger = present_staff_card(STAFF_KEYS, "0099999999", source="scanner")
        assert error((await presentations.handle(stranger)).to_json()) == "unknown_card"
        (denial,) = [
            e for e in await audit(parts) if e.details.get("refusal_code") == "unknown_card"
        ]
        assert denial.details["card"] == "******9999"  # the mask, never the number
        assert "0099999999" not in repr(denial)
    finally:
        await parts.close()


async def test_not_commissioned_refuses_citizens_but_not_staff(
    tmp_path: Path, staff_config: dict[str, object]
) -> None:
    parts = await Parts.open(tmp_path, commissioned=False, changes=staff_config)
    presentations = parts.presentations
    try:
        assert error((await presentations.handle(card(ALICE))).to_json()) == "not_commissioned"
        service = parts.config.service("licence")
        assert service is not None
        presentations.arm_dropoff(service)
        assert error((await presentations.handle(card(ALICE))).to_json()) == "not_commissioned"
        assert error(
            (await presentations.handle(code("123456", CodePurpose.PICKUP))).to_json()
        ) == ("not_commissioned")
        denials = [
            e for e in await audit(parts) if e.details.get("refusal_code") == "not_commissioned"
        ]
        assert [d.action for d in denials] == ["pickup", "start_dropoff", "pickup"]
        assert parts.driver.pulses == []
        # A remote open (staff, maintenance, the central system) still works.
        opened = (
            await parts.handler(
                "open",
                {
                    "command_id": "o1",
                    "expires_at": iso(parts.clock.wall_s + 3600),
                    "compartment": "A01",
                    "reason": "check",
                },
            )
        ).to_json()
        assert opened["result"] == "opening"
        clerk = present_staff_card(STAFF_KEYS, CLERK_CARD, source="scanner")
        assert ((await presentations.handle(clerk)).to_json()) == {"ok": False, "staff_open": {}}
    finally:
        await parts.close()


async def test_faults_and_ready_are_only_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parts = await Parts.open(tmp_path)
    try:
        fault = ReaderFault(FaultCode.DEVICE_LOST, "unplugged", "idcard")
        assert await parts.presentations.handle(fault) is None
        assert await parts.presentations.handle(ReaderReady("idcard")) is None
    finally:
        await parts.close()
    assert any(getattr(r, "fault", None) == "device_lost" for r in caplog.records)
