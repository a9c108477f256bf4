"""Restart and power restore (DESIGN.md 4.8), and layout changes across a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from locker_host.app import LayoutOrphansItems, StoredStateInvalid
from locker_host.domain import DoorOpened, Layout, LockerConfig, Size
from tests.domain.helpers import ALICE_ID, BOARD3, BOB_ID, CAROL_ID, config, spec

from .fakes import cid
from .harness import Locker


def documents(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        sql = "SELECT kind, id, body FROM state_documents ORDER BY kind, id"
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def layout_config(layout: Layout) -> LockerConfig:
    return config(layout=layout)


def without(*ids: str) -> LockerConfig:
    return layout_config(Layout(tuple(s for s in config().layout if s.id not in ids)))


async def test_restart_opens_nothing_and_reconciles_with_the_sensors(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    certificate = await locker.reserve("APP-1", BOB_ID)
    await locker.load(certificate)
    dropoff = ((await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")).to_json())["opens"][0]
    remote = (await locker.ok("open", compartment="B01", reason="inspection"))["opens"][0]
    locker.driver.doors_open["B01"] = True
    await locker.service.observe(DoorOpened(cid("B01")))
    # While the daemon is down: the certificate vanishes, B01's door stays open.
    locker.driver.items[certificate] = False
    pulses_before = len(locker.driver.pulses)

    await locker.restart()
    assert len(locker.driver.pulses) == pulses_before  # nothing opens by itself
    assert {r.board.key for r in locker.driver.reads[-3:]} == {"bus0/1", "bus0/2", "bus1/1"}
    unknown = await locker.events("open.outcome_unknown")
    assert {u["open_id"] for u in unknown} == {dropoff["open_id"], remote["open_id"]}
    assert (await locker.events("locker.restarted"))[-1]["unknown_outcomes"] == 2
    assert [a["reason"] for a in await locker.events("dropoff.abandoned")] == ["outcome_unknown"]
    [missing] = await locker.events("item.missing")
    assert missing["compartment"] == certificate and missing["items"] == ["APP-1"]
    # A door found open after a restart is not a break-in: nobody saw it open.
    assert await locker.events("door.forced") == []
    for compartment, fault in (
        ("A01", "outcome_unknown"),
        ("B01", "outcome_unknown"),
        (certificate, "missing_item"),
    ):
        c = locker.state.compartments[cid(compartment)]
        assert c.state.value == "faulty" and fault in [f.value for f in c.faults]
    assert all(status.value == "online" for status in locker.state.boards.values())
    restarted = [e for e in await locker.audit() if e.action == "restarted"]
    assert len(restarted) == 2 and restarted[-1].details["detail"] == "2 opens"
    await locker.close()


async def test_what_was_promised_still_holds_after_a_restart(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    by_card = await locker.reserve("APP-1", BOB_ID)
    by_code = await locker.reserve("APP-2", CAROL_ID, pickup_code="48151623")
    await locker.load(by_card, by_code)
    for _ in range(3):  # a typed number with wrong codes: this owner is locked out
        reply = (await locker.kiosk.pickup_by_typed_id(ALICE_ID, "00000000")).to_json()
    assert reply["error"]["code"] == "wrong_code"
    locked = (await locker.kiosk.pickup_by_typed_id(ALICE_ID, "00000000")).to_json()
    assert locked["error"]["code"] == "code_locked_out"

    await locker.restart()
    assert ((await locker.kiosk.pickup_by_typed_id(ALICE_ID, "00000000")).to_json())["error"][
        "code"
    ] == ("code_locked_out")
    card = (await locker.kiosk.pickup_by_card(BOB_ID)).to_json()
    assert card["ok"] and card["opens"][0]["compartment"] == by_card
    code = (await locker.kiosk.pickup_by_code("48151623")).to_json()
    assert code["ok"] and code["opens"][0]["compartment"] == by_code
    await locker.close()


async def test_a_board_silent_at_start_stays_unknown_never_closed(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    locker.driver.offline.add(BOARD3.key)
    await locker.restart()
    assert locker.state.boards[BOARD3.key].value == "unknown"
    c01 = locker.state.compartments[cid("C01")]
    assert c01.physical.door.value == "unknown"
    reply = await locker.central("open", compartment="C01", reason="check")
    assert reply["error"]["code"] == "compartment_unavailable"
    await locker.close()


async def test_a_new_compartment_is_added_free(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    await locker.reserve("APP-1", BOB_ID)
    bigger = layout_config(Layout((*config().layout, spec("D01", Size.L, BOARD3, 3, "psu2"))))
    await locker.restart(locker_config=bigger)
    assert locker.compartment_state("D01") == "free"
    assert locker.compartment_state("A03") == "reserved"
    [entry] = [e for e in await locker.audit() if e.action == "layout_changed"]
    assert entry.details == {"added": ["D01"], "removed": []}
    assert ("compartment", "D01") in [(k, i) for k, i, _ in documents(db_path)]
    await locker.close()


async def test_an_empty_compartment_can_be_removed(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    await locker.restart(locker_config=without("B04"))
    assert cid("B04") not in locker.state.compartments
    assert ("compartment", "B04") not in [(k, i) for k, i, _ in documents(db_path)]
    [entry] = [e for e in await locker.audit() if e.action == "layout_changed"]
    assert entry.details == {"added": [], "removed": ["B04"]}
    await locker.close()


async def test_removing_a_compartment_in_use_is_refused_and_changes_nothing(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    certificate = await locker.reserve("APP-1", BOB_ID)  # A03, expected
    (
        await locker.kiosk.dropoff_by_card(ALICE_ID, "tax", "S")
    ).to_json()  # A01, a drop-off under way
    await locker.service.aclose()
    before = documents(db_path)

    for ids in ((certificate,), ("A01",), ("A01", certificate, "B04")):
        with pytest.raises(LayoutOrphansItems) as refused:
            await locker.restart(locker_config=without(*ids))
        assert refused.value.code == "layout_orphans_items"
        assert refused.value.compartments == tuple(sorted(set(ids) - {"B04"}))
        assert documents(db_path) == before

    await locker.restart(locker_config=config())
    assert locker.compartment_state(certificate) == "reserved"
    await locker.load(certificate)
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["ok"]
    await locker.close()


async def test_a_rewired_compartment_keeps_its_item(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    certificate = await locker.reserve("APP-1", BOB_ID)
    await locker.load(certificate)
    rewired = tuple(
        spec("A03", Size.M, BOARD3, 7, "psu2") if s.id == certificate else s
        for s in config().layout
    )
    await locker.restart(locker_config=layout_config(Layout(rewired)))
    assert locker.compartment_state(certificate) == "occupied"
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["ok"]
    pulse = locker.driver.pulses[-1]
    assert (pulse.compartment, pulse.board, pulse.channel) == (certificate, BOARD3, 7)
    await locker.close()


async def test_a_lost_personal_row_degrades_the_item_and_is_audited(db_path: Path) -> None:
    locker = await Locker.start(db_path)
    certificate = await locker.reserve("APP-1", BOB_ID)
    await locker.load(certificate)
    await locker.service.aclose()
    conn = sqlite3.connect(db_path)
    try:  # a damaged database: the owner's row of the item is gone
        conn.execute(
            "DELETE FROM personal_data WHERE item_id LIKE 'item:APP-1#%' AND owner_key IS NOT NULL"
        )
        conn.commit()
    finally:
        conn.close()

    await locker.restart()
    assert locker.service.statistics().missing_personal_refs == 1
    [entry] = [e for e in await locker.audit() if e.action == "personal_data_missing"]
    assert entry.outcome == "failed" and entry.details == {"refs": 1}
    # The item is still there for staff; nobody can claim it as its owner any more.
    [item] = locker.state.compartments[cid(certificate)].items
    assert item.item_id == "APP-1" and item.claim.owner is None
    assert ((await locker.kiosk.pickup_by_card(BOB_ID)).to_json())["error"][
        "code"
    ] == "nothing_for_you"
    await locker.close()


async def test_an_unreadable_state_document_stops_the_start_with_a_typed_error(
    db_path: Path,
) -> None:
    locker = await Locker.start(db_path)
    await locker.service.aclose()
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("UPDATE state_documents SET body = '{\"id\": \"A01\"}' WHERE id = 'A01'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(StoredStateInvalid) as invalid:
        await locker.restart()
    assert invalid.value.code == "stored_state_invalid" and "compartment/A01" in str(invalid.value)
