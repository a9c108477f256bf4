"""The flows of DESIGN.md section 4, end to end: card readers, scanner, admin socket, boards.

Staff cards come through the simulated staff-card reader (`staff_card`: key
strokes, read by lockerd's keyboard reader); pickup codes through the line
scanner (a pty the test types into: the simulator has no code scanner); ID
cards through the simulated SAM reader (`swipe`); central commands through
`lockerd admin`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import ALL_SITES, Locker
from .lockerd import MARKET_CLERK, owner_key
from .rig import wait_for

pytestmark = pytest.mark.parametrize("rig", ALL_SITES, indirect=True)


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


def reserve(locker: Locker, application: str, who: str, **extra: str) -> str:
    """`lockerd admin reserve ...` (the command line): the compartment it names."""
    fields = [
        f"application={application}",
        f"owner_key={owner_key(locker.card[who])}",
        "key_version:=1",
        f"size={extra.pop('size', 'S')}",
        "department=market",
        f"deadline={extra.pop('deadline', iso(timedelta(days=3)))}",
        *(f"{k}={v}" for k, v in extra.items()),
    ]
    code, reply = locker.lockerd.admin_cli("reserve", *fields)
    assert code == 0 and reply["result"] == "reserved", reply
    compartment: str = reply["compartment"]
    return compartment


def opened(locker: Locker, purpose: str, compartment: str | None = None) -> str:
    """Wait for an open with `purpose` to report the door open (in `compartment`, if given)."""
    if compartment is None:
        event = locker.lockerd.wait_event("open.opened", purpose=purpose)
    else:
        event = locker.lockerd.wait_event("open.opened", purpose=purpose, compartment=compartment)
    cid: str = event["payload"]["compartment"]
    return cid


def load(locker: Locker, compartment: str, application: str) -> None:
    locker.rig.staff_card(MARKET_CLERK)
    opened(locker, "load", compartment)
    locker.rig.put(compartment)
    locker.rig.close(compartment)
    locker.lockerd.wait_event(
        "certificate.loaded", application=application, compartment=compartment
    )


def test_dropoff_by_card_then_staff_collection(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    armed = lockerd.admin("arm_dropoff", {"service": "business_licence"})
    assert armed["ok"] and armed["size"] == "M", armed
    rig.swipe(locker.card["alice"])
    cid = opened(locker, "deposit")
    assert cid in locker.compartments("M")
    rig.put(cid)
    rig.close(cid)
    deposited = lockerd.wait_event("dossier.deposited", compartment=cid)
    assert deposited["payload"]["department"] == "market"
    assert lockerd.wait_compartment(cid, state="occupied")["items"][0]["kind"] == "dossier"

    rig.staff_card(MARKET_CLERK)  # the market clerk's staff card
    opened(locker, "collect", cid)
    rig.take(cid)
    rig.close(cid)
    collected = lockerd.wait_event("dossier.collected", compartment=cid)
    assert collected["payload"]["staff_id"] == "M-001"
    lockerd.wait_compartment(cid, state="free")
    if "runtime" not in locker.config:
        assert _running_on(locker) == "uvloop"  # the default


def _running_on(locker: Locker) -> str:
    running = [line for line in locker.lockerd.log_lines() if line.get("message") == "running"]
    assert running, locker.lockerd.log_tail()
    loop: str = running[-1]["event_loop"]
    return loop


@pytest.mark.locker_config({"runtime": {"event_loop": "asyncio"}})
def test_the_same_flow_on_pythons_own_event_loop(locker: Locker) -> None:
    """lockerd runs on uvloop unless [runtime] event_loop says "asyncio", the
    fallback: a drop-off and its collection behave the same on it."""
    test_dropoff_by_card_then_staff_collection(locker)
    assert _running_on(locker) == "asyncio"


def test_certificate_reserve_load_and_pickup_by_card(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-1", "alice")
    lockerd.wait_event("certificate.reserved", application="APP-1")
    load(locker, cid, "APP-1")

    rig.swipe(locker.card["alice"])
    opened(locker, "pickup", cid)
    rig.take(cid)
    rig.close(cid)
    collected = lockerd.wait_event("certificate.collected", application="APP-1")
    assert collected["payload"]["with_code"] is False
    lockerd.wait_compartment(cid, state="free")


def test_pickup_by_code_for_a_proxy(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-2", "bob", pickup_code="48291637")
    load(locker, cid, "APP-2")
    rig.scanner.type("P48291637")  # typed at the scanner's keypad / scanned from the SMS
    opened(locker, "pickup", cid)
    rig.take(cid)
    rig.close(cid)
    collected = lockerd.wait_event("certificate.collected", application="APP-2")
    assert collected["payload"]["with_code"] is True


def test_an_unknown_card_opens_nothing(locker: Locker) -> None:
    locker.rig.swipe(locker.card["carol"])

    def refused() -> bool:
        return any(
            line.get("message") == "pickup by card" and line.get("error") == "nothing_for_you"
            for line in locker.lockerd.log_lines()
        )

    wait_for(refused, timeout=10, what="a 'nothing for you' pickup in the log")
    assert not locker.lockerd.events("open.opened")


def test_overdue_then_recall_by_staff_card(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-3", "alice", deadline=iso(timedelta(seconds=8)))
    load(locker, cid, "APP-3")
    lockerd.wait_event("certificate.overdue", timeout=25, application="APP-3")
    assert lockerd.wait_compartment(cid, state="occupied")["items"][0]["stage"] == "overdue"
    listed = lockerd.admin_cli("recall_list", "department=market")[1]
    assert [e["item"] for e in listed["entries"]] == ["APP-3"], listed

    rig.staff_card(MARKET_CLERK)  # nothing to collect or load: the card recalls
    opened(locker, "recall", cid)
    rig.take(cid)
    rig.close(cid)
    recalled = lockerd.wait_event("certificate.recalled", application="APP-3")
    assert recalled["payload"]["staff_id"] == "M-001"
    lockerd.wait_compartment(cid, state="free")
