"""What a card, a staff card or a code presented at the locker does (app/presentations.py),
on a real service: the readers' values and the kiosk screen's buttons meet in one object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from locker_host.app import (
    CardPresented,
    Category,
    CodeEntered,
    DropoffService,
    InvalidPayload,
    Kiosk,
    KioskOutcome,
    NotCommissioned,
    Presentation,
    Presentations,
    Refusal,
    StaffCardDigest,
    StaffCardPresented,
    refusal,
)
from locker_host.domain import (
    Assurance,
    CodePurpose,
    CompartmentId,
    DepartmentId,
    IdCredential,
    Size,
    StaffCredential,
    StaffRole,
    dropoff_code,
    mask_id_number,
    owner_refs,
    pickup_code,
    validate_id_number,
)
from tests.domain.helpers import CODE_KEYS, OWNER_KEYS

from .fakes import StaffCards, staff
from .harness import CARDS, Locker

ALICE = "11010519491231002X"  # test numbers from tests/readers/numbers.py (leak-checked)
BOB = "130981199003071232"
LICENCE = DropoffService(
    "licence", DepartmentId("tax"), Size.M, {"zh": "营业执照", "en": "Licence"}
)


def card(number: str, *, source: str = "idcard") -> CardPresented:
    valid = validate_id_number(number)
    credential = IdCredential(owner_refs(OWNER_KEYS, valid), Assurance.STRONG)
    return CardPresented(credential, valid.kind, mask_id_number(valid.normalised), source)


def code(value: str, purpose: CodePurpose) -> CodeEntered:
    build = pickup_code if purpose is CodePurpose.PICKUP else dropoff_code
    return CodeEntered(build(CODE_KEYS, value), "scanner")


def staff_card(name: str) -> StaffCardPresented:
    # Two key versions, the current one first: the older one matches.
    digests = (StaffCardDigest(f"v2-{name}", 2), StaffCardDigest(f"v1-{name}", 1))
    return StaffCardPresented(digests, "******" + name[-4:], "scanner")


class StaffIndex:
    """The staff cards by digest (the daemon's, from its configuration)."""

    def __init__(self, cards: Mapping[str, StaffCredential]) -> None:
        self._cards = {(1, f"v1-{name}"): who for name, who in cards.items()}

    def staff_for_digests(self, digests: Iterable[StaffCardDigest]) -> StaffCredential | None:
        for digest in digests:
            found = self._cards.get((digest.key_version, digest.digest))
            if found is not None:
                return found
        return None


STAFF = StaffIndex(
    {
        "clerk-0001": staff("S-tax", "tax"),
        "tech-0002": staff("S-tech", "tax", StaffRole.TECHNICIAN),
    }
)


def no_swipes(payload: Mapping[str, Any]) -> Presentation | Refusal:
    raise AssertionError(f"no swipe expected: {payload}")


def presentations(
    locker: Locker,
    *,
    kiosk: Kiosk | None = None,
    parse_swipe: Any = no_swipes,
) -> Presentations:
    return Presentations(
        kiosk or locker.kiosk,
        locker.service,
        STAFF,
        services=(LICENCE,),
        sizes=[Size.L, Size.S, Size.M, Size.S],
        parse_swipe=parse_swipe,
        arm_timeout_s=30.0,
        clock=lambda: locker.clock.mono_s,
        wall=lambda: locker.clock.wall_s,
    )


def error(reply: dict[str, Any]) -> object:
    return reply["error"]["code"] if not reply["ok"] else None


async def test_a_card_is_a_pickup_unless_a_dropoff_was_armed(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    desk = presentations(locker)
    try:
        assert error((await desk.present(card(ALICE))).to_json()) == "nothing_for_you"
        desk.arm_dropoff(LICENCE)
        reply = (await desk.present(card(ALICE))).to_json()
        assert reply["result"] == "opening", reply
        [opened] = reply["opens"]
        spec = locker.locker_config.layout.spec(CompartmentId(opened["compartment"]))
        assert spec.size is Size.M  # the service's size
        assert desk.armed() is None  # used up
        assert error((await desk.present(card(BOB))).to_json()) == "nothing_for_you"
        desk.arm_dropoff(LICENCE, size=Size.L, accessible=True)
        assert desk.armed_view() == {
            "service": "licence",
            "department": "tax",
            "size": "L",
            "accessible": True,
            "expires_in_s": 30.0,
        }
        locker.clock.advance(31)  # the arming waits 30 s
        assert desk.armed_view() is None
        assert error((await desk.present(card(BOB))).to_json()) == "nothing_for_you"
    finally:
        await locker.close()


async def test_codes_pick_up_or_drop_off_by_their_purpose(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    desk = presentations(locker)
    try:
        wrong = (await desk.present(code("123456", CodePurpose.PICKUP))).to_json()
        assert error(wrong) == "wrong_code"
        expected = await locker.ok(
            "expect_dropoff",
            application="D-1",
            department="tax",
            size="S",
            valid_until=locker.payload()["expires_at"],
        )
        reply = (await desk.present(code(expected["code"], CodePurpose.DROPOFF))).to_json()
        assert reply["result"] == "opening", reply
    finally:
        await locker.close()


async def test_staff_cards_open_their_departments_work(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    desk = presentations(locker)
    try:
        clerk = staff_card("clerk-0001")
        before = len(await locker.audit())
        assert (await desk.present(clerk)).to_json() == {"ok": False, "staff_open": {}}
        # One swipe, one row: a denial that says why, not one per purpose tried.
        (denial,) = (await locker.audit())[before:]
        assert (denial.action, denial.outcome) == ("staff_swipe", "denied")
        assert denial.details["refusal_code"] == "nothing_for_you"
        compartment = await locker.reserve("APP-1", ALICE)
        before = len(await locker.audit())
        load = (await desk.present(clerk)).to_json()
        assert load["ok"] and list(load["staff_open"]) == ["load"]  # nothing else to do
        [opened] = load["staff_open"]["load"]["opens"]
        assert opened["compartment"] == compartment
        (row,) = (await locker.audit())[before:]
        assert (row.action, row.outcome, row.compartment) == ("staff_open", "ok", compartment)
        before = len(await locker.audit())
        refused = (await desk.present(staff_card("tech-0002"))).to_json()
        assert error(refused) == "not_authorised" and refused["staff_open"] == {}
        (denial,) = (await locker.audit())[before:]
        assert denial.details["refusal_code"] == "not_authorised"
        stranger = (await desk.present(staff_card("stranger-9999"))).to_json()
        assert error(stranger) == "unknown_card"
        (denial,) = [
            e for e in await locker.audit() if e.details.get("refusal_code") == "unknown_card"
        ]
        assert (denial.actor, denial.action) == ("staff:unknown", "staff_open")
        assert denial.details["card"] == "******9999"  # the mask, never the number
    finally:
        await locker.close()


async def test_a_citizen_gate_refuses_citizens_but_not_staff(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    gated = Kiosk(
        locker.service,
        StaffCards(dict(CARDS)),
        citizen_gate=lambda: NotCommissioned("the wiring map is not proven"),
    )
    desk = presentations(locker, kiosk=gated)
    try:
        assert error((await desk.present(card(ALICE))).to_json()) == "not_commissioned"
        desk.arm_dropoff(LICENCE)
        assert error((await desk.present(card(ALICE))).to_json()) == "not_commissioned"
        pickup = code("123456", CodePurpose.PICKUP)
        assert error((await desk.present(pickup)).to_json()) == "not_commissioned"
        denials = [
            e for e in await locker.audit() if e.details.get("refusal_code") == "not_commissioned"
        ]
        assert [d.action for d in denials] == ["pickup", "start_dropoff", "pickup"]
        assert locker.driver.pulses == []
        clerk = staff_card("clerk-0001")
        assert (await desk.present(clerk)).to_json() == {"ok": False, "staff_open": {}}
    finally:
        await locker.close()


async def test_the_kiosk_screen_offers_the_services_and_sizes(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    desk = presentations(locker)
    try:
        assert desk.services() == (LICENCE,)
        assert desk.sizes() == (Size.S, Size.M, Size.L)  # smallest first, once each
        assert desk.find_service("licence") is LICENCE
        unknown = desk.choose_dropoff("passport", None, False, source="http")
        expected = "one of the configured services (licence)"
        assert unknown == refusal(InvalidPayload(expected, field="service"))
        assert desk.armed() is None
        armed = desk.choose_dropoff("licence", Size.S, False, source="http").to_json()
        assert armed == {"ok": True, "armed": desk.armed_view()}
        assert armed["armed"]["size"] == "S"
        assert desk.disarm(source="http").to_json() == {"ok": True, "armed": None}
        assert desk.armed() is None
    finally:
        await locker.close()


async def test_every_outcome_reaches_the_listeners_with_its_source(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    swiped: list[Mapping[str, Any]] = []
    refused = Refusal("unknown_kiosk", "no kiosk", Category.DENIED, "kiosk_token")

    def parse(payload: Mapping[str, Any]) -> Presentation | Refusal:
        swiped.append(payload)
        return card(BOB, source="kiosk:hall/sam") if payload.get("kiosk_token") else refused

    desk = presentations(locker, parse_swipe=parse)
    seen: list[KioskOutcome] = []

    def broken(outcome: KioskOutcome) -> None:
        raise RuntimeError("a broken page")

    desk.add_listener(broken)  # must not stop the others, nor the locker
    remove = desk.add_listener(seen.append)
    try:
        await desk.present(card(ALICE))
        desk.arm_dropoff(LICENCE, source="admin")
        desk.disarm(source="admin")
        assert await desk.swipe({"id_number": "x"}) is refused  # not a presentation: no outcome
        assert error((await desk.swipe({"kiosk_token": "t"})).to_json()) == "nothing_for_you"
        wrong = await desk.enter_code("123456", CodePurpose.PICKUP)
        assert error(wrong.to_json()) == "wrong_code"
        remove()
        await desk.present(card(ALICE))
    finally:
        await locker.close()
    assert [(o.source, o.action) for o in seen] == [
        ("reader", "pickup"),
        ("admin", "arm"),
        ("admin", "disarm"),
        ("http", "pickup"),
        ("http", "code"),
    ]
    assert seen[-1].reply == wrong and seen[0].at_wall_s == locker.clock.wall_s
    assert swiped == [{"id_number": "x"}, {"kiosk_token": "t"}]


def test_raw_numbers_never_reach_a_presentation() -> None:
    # str() and repr() are what the logs see.
    shown = str(card(ALICE)) + repr(card(ALICE)) + str(staff_card("clerk-0001"))
    assert ALICE not in shown and "0105194912" not in shown
