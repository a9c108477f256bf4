"""Pickup by card with readers as they are in the field (issue 17), end to end:
lockerd with its default SAM timing against the simulated reader over a pty.

A slow reader (reads of 1.2-2.4 s, past the 1.31 s lockerd used to wait) and
a read that fails once (41, then "no card" until the card is placed again,
as Huashi's readers do) both end in the pickup.
"""

from __future__ import annotations

import pytest

from .conftest import Locker
from .rig import wait_for
from .test_flows import load, opened, reserve

pytestmark = pytest.mark.parametrize("rig", ["sim"], indirect=True)


def reader_health(locker: Locker) -> dict[str, object]:
    health = locker.lockerd.admin("health")
    (reader,) = [r for r in health["readers"] if r["name"] == "idcard"]
    return dict(reader)


def pickup(locker: Locker, cid: str, application: str) -> None:
    opened(locker, "pickup", cid)
    locker.rig.take(cid)
    locker.rig.close(cid)
    locker.lockerd.wait_event("certificate.collected", application=application)


def test_a_pickup_by_card_at_a_slow_reader(locker: Locker) -> None:
    cid = reserve(locker, "APP-SLOW", "alice")
    load(locker, cid, "APP-SLOW")
    locker.rig.command("reader_model", model="slow")
    locker.rig.command("swipe", id_number=locker.card["alice"], hold=4)
    pickup(locker, cid, "APP-SLOW")
    reader = reader_health(locker)
    assert reader["available"] is True
    assert reader["faults_by_code"] == {}
    # The module's identity as the simulated reader's label would show it.
    assert reader["details"] == {"sam_id": "05.01-20101224-0000123456-1234567890"}


def test_a_pickup_by_card_after_a_read_that_failed_once(locker: Locker) -> None:
    cid = reserve(locker, "APP-AGAIN", "alice")
    load(locker, cid, "APP-AGAIN")
    locker.rig.command("reader_fault", fault="read_failure_once")
    locker.rig.command("swipe", id_number=locker.card["alice"], hold=0)
    # 41, then 80 while the card lies there: lockerd says it once, and waits.
    wait_for(
        lambda: reader_health(locker)["faults_by_code"] == {"read_failed": 1},
        timeout=10,
        what="the failed read in the reader's health",
    )
    assert not [
        e for e in locker.lockerd.events("open.opened") if e["payload"]["purpose"] == "pickup"
    ]
    # The citizen lifts the card and places it again.
    locker.rig.command("remove_card")
    locker.rig.command("swipe", id_number=locker.card["alice"], hold=2)
    pickup(locker, cid, "APP-AGAIN")
    reader = reader_health(locker)
    assert reader["faults_by_code"] == {"read_failed": 1}
    assert reader["available"] is True


def test_a_card_resting_on_a_reader_answering_80_and_9f_by_turns_opens_once(
    locker: Locker,
) -> None:
    cid = reserve(locker, "APP-TURNS", "alice")
    load(locker, cid, "APP-TURNS")
    locker.rig.command("reader_model", model="alternating")
    locker.rig.command("swipe", id_number=locker.card["alice"], hold=0)  # it stays there
    pickup(locker, cid, "APP-TURNS")
    # Still lying there while the reader answers 80, 9F, 80 ...: read again, never
    # presented again (a second pickup would be refused as nothing_for_you at best).
    wait_for(
        lambda: reader_health(locker)["line"].get("repeats_dropped", 0) >= 2,  # type: ignore[union-attr]
        timeout=20,
        what="the card re-read and dropped as the same placement",
    )
    pickups = [
        e for e in locker.lockerd.events("open.opened") if e["payload"]["purpose"] == "pickup"
    ]
    assert len(pickups) == 1
    assert reader_health(locker)["faults_by_code"] == {}
