"""End-to-end flows through the service: kiosk and central front doors, a real
SQLite file, a fake locker whose doors the test moves."""

from __future__ import annotations

from pathlib import Path

from locker_host.domain import BoardAddress, BoardRef, BoardUnreachable, BusId
from locker_host.store import ChainIntact
from tests.domain.helpers import ALICE_ID, BOB_ID, CAROL_ID

from .harness import DAY, Locker, iso, owner_key


async def test_dropoff_by_card_then_staff_collection(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    reply = (await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json()
    assert reply["ok"] and reply["result"] == "opening"
    [opened] = reply["opens"]
    assert locker.driver.pulsed() == [opened["compartment"]] == ["A01"]
    await locker.use("A01", item_after=True)
    [deposited] = await locker.events("dossier.deposited")
    assert deposited["receipt"] == "hh-L1-R0000001"
    assert deposited["owner"]["key"] == owner_key(ALICE_ID)
    assert locker.compartment_state("A01") == "occupied"

    reply = (await locker.kiosk.staff_card("card-tax", "collect")).to_json()
    assert reply["ok"] and [o["compartment"] for o in reply["opens"]] == ["A01"]
    await locker.use("A01", item_after=False)
    [collected] = await locker.events("dossier.collected")
    assert collected["receipt"] == "hh-L1-R0000001" and collected["staff_id"] == "S-tax"
    assert locker.compartment_state("A01") == "free"
    await locker.close()


async def test_reserve_load_and_pickup_by_card(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    compartment = await locker.reserve("APP-1", BOB_ID)
    assert compartment == "A03"
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["error"][
        "code"
    ] == "nothing_for_you"
    await locker.load(compartment)
    [loaded] = await locker.events("certificate.loaded")
    assert loaded["application"] == "APP-1" and loaded["confirmed"] is True

    assert ((await locker.kiosk.pickup_by_card(ALICE_ID)).to_json())["error"][
        "code"
    ] == "nothing_for_you"
    reply = (await locker.kiosk.pickup_by_card(BOB_ID)).to_json()
    assert reply["ok"] and [o["compartment"] for o in reply["opens"]] == ["A03"]
    await locker.use("A03", item_after=False)
    [collected] = await locker.events("certificate.collected")
    assert collected["application"] == "APP-1" and collected["with_code"] is False
    assert locker.compartment_state("A03") == "free"
    await locker.close()


async def test_pickup_by_code_and_wrong_codes(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    compartment = await locker.reserve("APP-2", CAROL_ID, pickup_code="48151623")
    await locker.load(compartment)
    assert ((await locker.kiosk.pickup_by_code("99999999")).to_json())["error"][
        "code"
    ] == "wrong_code"
    assert ((await locker.kiosk.pickup_by_code("12ab")).to_json())["error"][
        "code"
    ] == "invalid_pickup_code"
    typed = (await locker.kiosk.pickup_by_typed_id(CAROL_ID, None)).to_json()
    assert typed["error"]["code"] == "pickup_code_required"
    reply = (await locker.kiosk.pickup_by_code("48151623")).to_json()
    assert reply["ok"] and reply["opens"][0]["compartment"] == compartment
    await locker.use(compartment, item_after=False)
    [collected] = await locker.events("certificate.collected")
    assert collected["with_code"] is True and collected["owner"]["key"] == owner_key(CAROL_ID)
    await locker.close()


async def test_overdue_then_recall(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    compartment = await locker.reserve("APP-3", BOB_ID, deadline=iso(locker.clock.wall_s + DAY))
    await locker.load(compartment)
    assert ((await locker.kiosk.staff_card("card-tax", "recall")).to_json())["error"]["code"] == (
        "nothing_for_you"
    )
    await locker.run_timers()
    types = await locker.event_types()
    assert types.count("certificate.reminder") == 1  # 12 h before (the 2-day one had passed)
    assert types.count("certificate.overdue") == 1
    listing = await locker.ok("recall_list", department="tax")
    assert [(e["item"], e["stage"]) for e in listing["entries"]] == [("APP-3", "overdue")]

    reply = (await locker.kiosk.staff_card("card-tax", "recall")).to_json()
    assert reply["ok"] and reply["opens"][0]["compartment"] == compartment
    await locker.use(compartment, item_after=False)
    [recalled] = await locker.events("certificate.recalled")
    assert recalled["application"] == "APP-3" and recalled["staff_id"] == "S-tax"
    assert (await locker.ok("recall_list"))["entries"] == []
    await locker.close()


async def test_remote_open_is_pulsed_after_it_is_saved_and_closes_normally(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    reply = await locker.ok("open", compartment="B01", reason="inspection after a complaint")
    [opened] = reply["opens"]
    assert locker.driver.pulsed() == ["B01"]
    await locker.use("B01", item_after=False)
    [event] = await locker.events("open.opened")
    assert event["open_id"] == opened["open_id"] and event["purpose"] == "remote"
    assert not locker.state.opens
    [row] = [a for a in await locker.audit() if a.action == "remote_open"]
    assert row.details["open_id"] == opened["open_id"]
    assert row.details["detail"] == "remote: inspection after a complaint"
    assert isinstance(
        await locker.service.runner.run(lambda s: s.verify_audit_chain()), ChainIntact
    )
    await locker.close()


async def test_dropoff_by_code_issued_centrally(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    reply = await locker.ok(
        "expect_dropoff",
        application="APP-9",
        department="permits",
        size="M",
        valid_until=iso(locker.clock.wall_s + DAY),
        owner_key=owner_key(ALICE_ID),
        key_version=2,
    )
    code = reply["code"]
    assert code == locker.codes.issued[-1] and len(code) == 6
    assert ((await locker.kiosk.dropoff_by_code("000000")).to_json())["error"][
        "code"
    ] == "wrong_code"
    assert ((await locker.kiosk.pickup_by_code(code)).to_json())["error"]["code"] == "wrong_code"
    started = (await locker.kiosk.dropoff_by_code(code)).to_json()
    compartment = started["opens"][0]["compartment"]
    await locker.use(compartment, item_after=True)
    [deposited] = await locker.events("dossier.deposited")
    assert deposited["application"] == "APP-9" and deposited["department"] == "permits"
    assert not locker.state.dropoffs
    await locker.close()


async def test_a_pulse_the_board_did_not_acknowledge_ends_outcome_unknown(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    locker.driver.unacknowledged.add("A01")
    reply = (await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json()
    assert reply["ok"]
    [unknown] = await locker.events("open.outcome_unknown")
    assert unknown["compartment"] == "A01" and unknown["purpose"] == "deposit"
    [abandoned] = await locker.events("dropoff.abandoned")
    assert abandoned["reason"] == "outcome_unknown"
    assert locker.compartment_state("A01") == "faulty"
    assert locker.driver.pulsed() == ["A01"]  # once: never re-executed
    await locker.close()


async def test_an_unconfirmed_open_reads_the_board_then_pulses_once_more(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    await locker.ok("open", compartment="B01", reason="check")
    reads_before = len(locker.driver.reads)
    await locker.run_timers()
    # Confirm timeout -> read (door still shut) -> one more pulse -> timeout -> jammed.
    assert len(locker.driver.reads) == reads_before + 1
    assert locker.driver.pulsed() == ["B01", "B01"]
    assert await locker.events("open.jammed")
    assert locker.compartment_state("B01") == "faulty"
    await locker.close()


async def test_degraded_compartment_confirmed_by_hand(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    # C01 has a door switch but no item sensor: after A03 and B02 it is the next high M.
    for application, person in (("A-1", ALICE_ID), ("A-2", BOB_ID)):
        await locker.reserve(application, person)
    compartment = await locker.reserve("A-3", CAROL_ID, department="permits")
    assert compartment == "C01"
    reply = (await locker.kiosk.staff_card("card-permits", "load")).to_json()
    open_id = reply["opens"][0]["open_id"]
    await locker.use("C01", item_after=True)
    wrong = (await locker.kiosk.confirm_by_hand(open_id, True, card_id="card-tax")).to_json()
    assert wrong["error"]["code"] == "not_authorised"
    confirmed = (
        await locker.kiosk.confirm_by_hand(open_id, True, card_id="card-permits")
    ).to_json()
    assert confirmed["ok"] and confirmed["detail"] == "present"
    [loaded] = await locker.events("certificate.loaded")
    assert loaded["compartment"] == "C01"
    await locker.close()


async def test_unknown_staff_card_is_refused_and_audited(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    reply = (await locker.kiosk.staff_card("card-stolen", "collect")).to_json()
    assert reply["error"]["code"] == "unknown_card"
    [entry] = [e for e in await locker.audit() if e.actor == "staff:unknown"]
    assert entry.outcome == "denied" and entry.details["refusal_code"] == "unknown_card"
    # The card number itself is never written down: only its last four characters.
    assert entry.details["card"] == "*******olen"
    assert "card-stolen" not in repr(entry.details)
    bad_purpose = (await locker.kiosk.staff_card("card-tax", "maintenance")).to_json()
    assert bad_purpose["error"] == {
        "code": "invalid",
        "message": "one of collect, load, recall",
        "field": "purpose",
    }
    assert locker.driver.pulses == []
    await locker.close()


async def test_kiosk_refusals_carry_the_domain_codes(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    kiosk = locker.kiosk
    assert ((await kiosk.pickup_by_card("110105194912310021")).to_json())["error"]["code"] == (
        "invalid_id_number"
    )
    assert ((await kiosk.dropoff_by_card(ALICE_ID, None, None)).to_json())["error"][
        "code"
    ] == "missing_choice"
    assert ((await kiosk.dropoff_by_card(ALICE_ID, "tax", "XL")).to_json())["error"][
        "field"
    ] == "size"
    maintenance = (await kiosk.maintenance_open("card-tax", "A01", "broken hinge")).to_json()
    assert maintenance["error"]["code"] == "not_authorised"
    assert ((await kiosk.maintenance_open("card-tech", "A01", " ")).to_json())["error"]["code"] == (
        "reason_required"
    )
    assert ((await kiosk.maintenance_open("card-tech", "A01", "hinge")).to_json())["ok"]
    service = (await kiosk.set_service("card-tax", "A02", False, "broken")).to_json()
    assert service["error"]["code"] == "not_authorised"
    assert ((await kiosk.set_service("card-super", "A02", False, "broken")).to_json())["ok"]
    assert locker.compartment_state("A02") == "out_of_service"
    await locker.service.observe(BoardUnreachable(BoardRef(BusId("bus0"), BoardAddress(1))))
    assert ((await kiosk.dropoff_by_card(ALICE_ID, "tax", "L", accessible=True)).to_json())[
        "error"
    ]["code"] == "no_compartment_available"
    await locker.close()


async def test_listeners_hear_each_commit_and_a_failing_one_is_kept(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    heard: list[int] = []

    def broken() -> None:
        raise RuntimeError("a page that broke")

    remove = locker.service.add_listener(lambda: heard.append(locker.service.statistics().commits))
    locker.service.add_listener(broken)
    await locker.reserve("APP-L", BOB_ID)
    assert heard and heard[-1] == locker.service.statistics().commits  # called after the commit
    count = len(heard)
    await locker.reserve("APP-M", CAROL_ID)  # the broken listener did not stop the service
    assert len(heard) > count
    remove()
    count = len(heard)
    await locker.reserve("APP-N", ALICE_ID)
    assert len(heard) == count
    await locker.close()
