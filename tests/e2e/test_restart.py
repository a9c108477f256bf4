"""Restart and power restore (DESIGN.md 4.8): nothing opens by itself, nothing is re-executed."""

from __future__ import annotations

import time

import pytest

from .conftest import HARDWARE, Locker
from .lockerd import run_cli
from .rig import wait_for
from .test_flows import load, opened, reserve

pytestmark = pytest.mark.parametrize("rig", ["sim", "micropython", HARDWARE], indirect=True)


def test_kill_9_in_the_middle_of_an_open_then_restart(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-K", "alice")
    load(locker, cid, "APP-K")
    unit, channel = locker.wiring(cid)
    rig.swipe(locker.card["alice"])
    open_id = lockerd.wait_event("open.opened", purpose="pickup", compartment=cid)["payload"][
        "open_id"
    ]
    # The door is open and the open is under way (neither closed nor timed out): kill -9.
    lockerd.kill9()
    killed_at = time.monotonic()
    lockerd.start()
    unknown = lockerd.wait_event("open.outcome_unknown", open_id=open_id)
    assert unknown["payload"]["compartment"] == cid
    boot = lockerd.wait_event("locker.restarted", unknown_outcomes=1)["boot_id"]  # this start's
    lockerd.wait_compartment(cid, door="open")  # reconciled with the sensors
    wait_for(
        lambda: set(lockerd.admin("state")["state"]["boards"].values()) == {"online"},
        timeout=10,
        what="every board read after the restart",
    )
    writes = rig.unlock_writes(unit, channel, killed_at)
    assert writes in (None, 0), f"the open was re-executed: {writes} unlock writes after the kill"
    assert not [e for e in lockerd.events("open.opened") if e["boot_id"] == boot]
    rig.take(cid)
    rig.close(cid)
    lockerd.wait_compartment(cid, door="closed")


def test_sigterm_and_restart_keep_what_was_loaded(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-R", "alice")
    load(locker, cid, "APP-R")
    assert lockerd.stop() == 0
    lockerd.start()
    assert len(lockerd.events("locker.restarted")) == 2
    lockerd.wait_compartment(cid, state="occupied", door="closed", item="present")
    rig.swipe(locker.card["alice"])
    opened(locker, "pickup", cid)
    rig.take(cid)
    rig.close(cid)
    lockerd.wait_event("certificate.collected", application="APP-R")


def test_a_second_daemon_on_the_same_database_refuses_to_start(locker: Locker) -> None:
    config = str(locker.lockerd.config_path)
    second = run_cli("run", "--config", config, timeout=30)
    assert second.returncode == 1, second.stderr
    assert "in use by another lockerd" in second.stderr
    walk = run_cli("commission", "walk", "--auto", "--config", config, timeout=30)
    assert walk.returncode == 1 and "in use by another lockerd" in walk.stderr
    # The running daemon saw nothing: no second restart ended its opens.
    assert len(locker.lockerd.events("locker.restarted")) == 1
    assert locker.lockerd.admin("ping")["ok"]


def test_a_board_power_cut_opens_nothing_and_the_board_is_configured_again(
    locker: Locker,
) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-P", "alice")
    load(locker, cid, "APP-P")
    unit, _ = locker.wiring(cid)
    on_board = [c for c in locker.compartments() if locker.wiring(c)[0] == unit]
    cut_at = time.monotonic()
    rig.power_cycle(unit)
    wait_for(
        lambda: rig.configured_since(unit, cut_at) is not False,
        timeout=10,
        what="lockerd configuring the restarted board again",
    )
    lockerd.wait_compartment(cid, state="occupied", door="closed", item="present")
    for other in on_board:
        channel = locker.wiring(other)[1]
        assert rig.unlock_writes(unit, channel, cut_at) in (None, 0), f"{other} was unlocked"
    assert not lockerd.events("door.forced")
    rig.swipe(locker.card["alice"])  # and the locker serves as before
    opened(locker, "pickup", cid)
    rig.take(cid)
    rig.close(cid)
    lockerd.wait_event("certificate.collected", application="APP-P")
