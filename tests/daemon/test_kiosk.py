"""The kiosk's wiring (daemon/kiosk.py): the app's Presentations on the configuration's
services, sizes and staff cards, the reader pump, the kiosk app's swipe parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from locker_host.app import Category, Keys, KioskOutcome, Refusal
from locker_host.daemon.kiosk import pump, swipe_parser
from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    CardPresented,
    CodeEntered,
    FaultCode,
    ReaderFault,
    ReaderReady,
    Reading,
    present_code,
    present_id_number,
    present_staff_card,
    staff_card_digests,
)
from locker_host.store import AuditEntry

from .parts import ALICE, KEYS, STAFF_KEYS, Parts, iso

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


async def test_staff_cards_are_the_configured_digests(
    tmp_path: Path, staff_config: dict[str, object]
) -> None:
    parts = await Parts.open(tmp_path, changes=staff_config)
    presentations = parts.presentations
    try:
        clerk = present_staff_card(STAFF_KEYS, CLERK_CARD, source="scanner")
        before = len(await audit(parts))
        assert (await presentations.present(clerk)).to_json() == {"ok": False, "staff_open": {}}
        (denial,) = (await audit(parts))[before:]
        assert denial.actor == "staff:M-1" and denial.details["refusal_code"] == "nothing_for_you"
        technician = present_staff_card(STAFF_KEYS, TECH_CARD, source="scanner")
        assert error((await presentations.present(technician)).to_json()) == "not_authorised"
        stranger = present_staff_card(STAFF_KEYS, "0099999999", source="scanner")
        assert error((await presentations.present(stranger)).to_json()) == "unknown_card"
        denial = (await audit(parts))[-1]
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
        assert error((await presentations.present(card(ALICE))).to_json()) == "not_commissioned"
        service = parts.config.service("licence")
        assert service is not None
        presentations.arm_dropoff(service)
        assert error((await presentations.present(card(ALICE))).to_json()) == "not_commissioned"
        assert error(
            (await presentations.present(code("123456", CodePurpose.PICKUP))).to_json()
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
        assert ((await presentations.present(clerk)).to_json()) == {"ok": False, "staff_open": {}}
    finally:
        await parts.close()


async def test_the_pump_presents_cards_and_only_logs_faults_and_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parts = await Parts.open(tmp_path)
    seen: list[KioskOutcome] = []
    parts.presentations.add_listener(seen.append)

    async def readings() -> AsyncIterator[Reading]:
        yield ReaderReady("idcard")
        yield ReaderFault(FaultCode.DEVICE_LOST, "unplugged", "idcard")
        yield card(ALICE)

    try:
        await pump(readings(), parts.presentations)
    finally:
        await parts.close()
    assert [(o.source, o.action, error(o.reply.to_json())) for o in seen] == [
        ("reader", "pickup", "nothing_for_you")
    ]
    logged = [(r.getMessage(), getattr(r, "reader", None)) for r in caplog.records]
    assert ("reader ready", "idcard") in logged and ("reader fault", "idcard") in logged
    assert any(getattr(r, "fault", None) == "device_lost" for r in caplog.records)


async def test_the_presentations_offer_the_configured_services_and_sizes(tmp_path: Path) -> None:
    parts = await Parts.open(tmp_path)
    try:
        assert parts.presentations.services() == parts.config.services
        present = {spec.size for spec in parts.config.locker.layout}
        assert set(parts.presentations.sizes()) == present
        assert parts.presentations.arm_timeout_s == 30.0  # [kiosk] dropoff_arm_timeout_s
    finally:
        await parts.close()


def test_without_http_no_kiosk_app_can_swipe() -> None:
    parse = swipe_parser(KEYS, None)
    refused = parse({"kiosk_token": "any", "reader": "sam", "id_number": ALICE})
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.category, refused.field) == (
        "unknown_kiosk",
        Category.DENIED,
        "kiosk_token",
    )


def test_without_staff_keys_a_staff_card_swipe_is_invalid() -> None:
    parse = swipe_parser(Keys(KEYS.owner, KEYS.codes), None)
    refused = parse({"kiosk_token": "any", "reader": "scanner", "staff_card": "0012345678"})
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.field) == ("invalid_field", "staff_card")
