"""Physical truth and bus faults end to end (DESIGN.md 4.7): alarms, jams, boards and adapters.

On every site (conftest.py): on `kerong` and `mixed` the last compartments
are a Kerong CU48's, whose door is its hook switch and which has no item
sensor (the item alarms then use a compartment that has one).
"""

from __future__ import annotations

import time

import pytest

from .conftest import ALL_SITES, Locker
from .rig import wait_for
from .test_flows import load, opened, reserve

pytestmark = pytest.mark.parametrize("rig", ALL_SITES, indirect=True)


def remote_open(locker: Locker, cid: str) -> None:
    code, reply = locker.lockerd.admin_cli("open", f"compartment={cid}", "reason=e2e test")
    assert code == 0 and reply["result"] == "opening", reply


def test_forced_door_raises_an_alarm(locker: Locker) -> None:
    cid = locker.compartments()[-1]
    locker.lockerd.wait_compartment(cid, door="closed")
    locker.rig.force(cid)
    locker.lockerd.wait_event("door.forced", compartment=cid)
    view = locker.lockerd.wait_compartment(cid, state="faulty")
    assert "forced" in view["faults"]


def test_jammed_lock_gets_one_retry_then_a_fault(locker: Locker) -> None:
    cid = locker.compartments()[-2]
    unit, channel = locker.wiring(cid)
    locker.rig.jam(cid)
    since = time.monotonic()
    remote_open(locker, cid)
    jammed = locker.lockerd.wait_event("open.jammed", timeout=15, compartment=cid)
    assert jammed["payload"]["purpose"] == "remote"
    assert "jammed" in locker.lockerd.wait_compartment(cid, state="faulty")["faults"]
    writes = locker.rig.unlock_writes(unit, channel, since)
    assert writes in (None, 2), f"expected the pulse and one retry, saw {writes} unlock writes"


@pytest.mark.locker_config({"timers": {"door_ajar_timeout_s": 1.0}})
def test_a_door_left_open_is_ajar(locker: Locker) -> None:
    cid = locker.compartments()[-3]
    remote_open(locker, cid)
    opened(locker, "remote", cid)
    locker.lockerd.wait_event("door.ajar", timeout=10, compartment=cid)
    locker.rig.close(cid)
    locker.lockerd.wait_compartment(cid, door="closed")


def test_an_item_in_a_free_compartment_is_unexpected(locker: Locker) -> None:
    cid = [c for c in locker.compartments() if locker.has_item_sensor(c)][-4]
    locker.lockerd.wait_compartment(cid, door="closed", item="absent")
    locker.rig.item_sensor_stuck(cid, present=True)
    locker.lockerd.wait_event("item.unexpected", compartment=cid)
    assert "unexpected_item" in locker.lockerd.wait_compartment(cid, state="faulty")["faults"]


def test_an_item_vanishing_from_a_closed_compartment_is_missing(locker: Locker) -> None:
    cid = reserve(locker, "APP-M", "alice")
    load(locker, cid, "APP-M")
    locker.rig.item_sensor_stuck(cid, present=False)
    missing = locker.lockerd.wait_event("item.missing", compartment=cid)
    assert missing["payload"]["items"] == ["APP-M"]
    assert "missing_item" in locker.lockerd.wait_compartment(cid, state="faulty")["faults"]


def test_board_offline_and_back(locker: Locker) -> None:
    lockerd = locker.lockerd
    unit = max(u for _, u in locker.on_bus(locker.bus))
    on_board = [cid for cid, u in locker.on_bus(locker.bus) if u == unit]
    lockerd.wait_compartment(on_board[0], door="closed")
    locker.rig.board_offline(unit)
    lockerd.wait_event("board.offline", board=f"{locker.bus}/{unit}")
    for cid in on_board:  # unknown, never "closed"
        assert lockerd.compartment(cid)["door"] == "unknown"
    assert lockerd.admin("state")["state"]["boards"][f"{locker.bus}/{unit}"] == "offline"
    locker.rig.board_online(unit)
    lockerd.wait_event("board.online", board=f"{locker.bus}/{unit}")
    lockerd.wait_compartment(on_board[0], door="closed")


def test_adapter_unplugged_and_back(locker: Locker) -> None:
    lockerd = locker.lockerd
    units = sorted({u for _, u in locker.on_bus(locker.bus)})
    locker.rig.unplug()
    for unit in units:
        lockerd.wait_event("board.offline", board=f"{locker.bus}/{unit}")
    cid = locker.compartments()[0]
    assert lockerd.compartment(cid)["door"] == "unknown"
    code, reply = lockerd.admin_cli("open", f"compartment={cid}", "reason=while unplugged")
    assert code == 1 and reply["error"]["code"] == "compartment_unavailable", reply
    locker.rig.replug()
    for unit in units:
        lockerd.wait_event("board.online", timeout=15, board=f"{locker.bus}/{unit}")
    remote_open(locker, cid)  # the bus works again
    opened(locker, "remote", cid)
    locker.rig.close(cid)


def test_card_reader_unplugged_and_back(locker: Locker) -> None:
    lockerd = locker.lockerd

    def idcard() -> dict[str, object]:
        readers: list[dict[str, object]] = lockerd.admin("health")["readers"]
        return next(r for r in readers if r["name"] == "idcard")

    wait_for(lambda: idcard()["available"] is True, timeout=10, what="the card reader ready")
    locker.rig.unplug_reader()
    wait_for(lambda: idcard()["available"] is False, timeout=10, what="the card reader lost")
    locker.rig.replug_reader()
    wait_for(lambda: idcard()["available"] is True, timeout=15, what="the card reader back")
    cid = reserve(locker, "APP-U", "alice")
    load(locker, cid, "APP-U")
    locker.rig.swipe(locker.card["alice"])  # the reader reads cards again
    opened(locker, "pickup", cid)
    locker.rig.take(cid)
    locker.rig.close(cid)
