"""Commissioning end to end: citizen flows wait for a walk of the configured map."""

from __future__ import annotations

import pytest

from .conftest import Locker
from .lockerd import run_cli
from .rig import SimRig, wait_for
from .test_faults import remote_open
from .test_flows import opened


def _dropoff_refused(locker: Locker) -> bool:
    return any(
        line.get("message") == "drop-off by card" and line.get("error") == "not_commissioned"
        for line in locker.lockerd.log_lines()
    )


@pytest.mark.uncommissioned
def test_citizen_flows_wait_for_a_walk_of_the_map(locker: Locker) -> None:
    if not isinstance(locker.rig, SimRig):
        pytest.skip("the automatic walk needs doors that open and close by themselves")
    lockerd, rig = locker.lockerd, locker.rig
    status = lockerd.admin("commissioning")
    assert status["ok"] and not status["commissioned"]
    assert len(status["not_walked"]) == len(locker.compartments())

    assert lockerd.admin("arm_dropoff", {"service": "business_licence"})["ok"]
    rig.swipe(locker.card["alice"])
    wait_for(lambda: _dropoff_refused(locker), timeout=10, what="a not_commissioned refusal")
    assert not lockerd.events("open.opened")
    cid = locker.compartments()[0]
    remote_open(locker, cid)  # staff and remote opens still work
    opened(locker, "remote", cid)
    rig.close(cid)
    lockerd.wait_compartment(cid, door="closed")

    assert lockerd.stop() == 0  # the walk needs the bus to itself
    rig.doors_open_by_themselves(None, close_after=0.1)
    config = str(lockerd.config_path)
    walked = run_cli("commission", "walk", "--auto", "--config", config, "--timeout", "5")
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert "locker commissioned" in walked.stdout
    assert run_cli("commission", "status", "--config", config).returncode == 0
    rig.doors_open_by_themselves(None, close_after=None)

    lockerd.start()
    assert lockerd.admin("commissioning")["commissioned"]
    assert lockerd.admin("arm_dropoff", {"service": "business_licence"})["ok"]
    rig.swipe(locker.card["alice"])
    dropoff = opened(locker, "deposit")
    rig.close(dropoff)
    lockerd.wait_event("dropoff.abandoned", compartment=dropoff)


def test_a_changed_wiring_map_must_be_walked_again(locker: Locker) -> None:
    lockerd = locker.lockerd
    assert lockerd.admin("commissioning")["commissioned"]
    assert lockerd.stop() == 0
    first = dict(locker.config["compartments"][0], sensors=["door_switch"])
    locker.reconfigure({"compartments": [first, *locker.config["compartments"][1:]]})
    lockerd.start()
    status = lockerd.admin("commissioning")
    assert not status["commissioned"] and status["recorded_hash"] != status["wiring_hash"]
    status_cli = run_cli("commission", "status", "--config", str(lockerd.config_path))
    assert status_cli.returncode == 1 and "the map changed" in status_cli.stdout
