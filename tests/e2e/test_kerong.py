"""A Kerong CU48's compartments end to end: hook switch, no item sensor.

On both Kerong sites (rig.py: `kerong`, the boards' default firmware;
`kerong-alt`, a CU16 that answers unlocks and a CU48 of the 0x60 variant).
Each puts the L compartments on the CU48, so an L
drop-off or an L certificate lands there. Nothing sees the item, so the
close is confirmed by hand at the kiosk, or, when nobody answers within
`hand_confirm_timeout_s`, the default rules apply (locker_host/domain/
closing.py): a drop-off is recorded as deposited but unconfirmed (a dossier
that exists but was not recorded would be lost), a load is not recorded
(`certificate.load_failed`, `not_confirmed`) and staff collection leaves the
records as they were (`dossier.not_collected`). The doors themselves are
seen through the hook switch as on any board: opened, closed, forced,
jammed (test_faults.py runs on this site too).
"""

from __future__ import annotations

import pytest

from .conftest import Locker
from .lockerd import MARKET_CLERK
from .test_flows import opened, reserve

ARCHIVE = {
    "name": "archive_box",
    "department": "market",
    "size": "L",
    "labels": {"zh": "档案盒", "en": "Archive box"},
}

pytestmark = [
    pytest.mark.parametrize("rig", ["kerong", "kerong-alt"], indirect=True),
    pytest.mark.locker_config({"timers": {"hand_confirm_timeout_s": 1.0}, "services": [ARCHIVE]}),
]


def test_a_cu48_dropoff_is_deposited_unconfirmed_and_stays_until_confirmed(
    locker: Locker,
) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    assert lockerd.admin("arm_dropoff", {"service": "archive_box"})["ok"]
    rig.swipe(locker.card["alice"])
    cid = opened(locker, "deposit")
    assert cid in locker.compartments("L") and not locker.has_item_sensor(cid)
    rig.put(cid)
    rig.close(cid)
    deposited = lockerd.wait_event("dossier.deposited", compartment=cid)
    assert deposited["payload"]["confirmed"] is False  # nobody confirmed: the default rule
    lockerd.wait_compartment(cid, state="occupied", door="closed")

    rig.staff_card(MARKET_CLERK)  # the clerk collects; nothing confirms it was emptied
    opened(locker, "collect", cid)
    rig.take(cid)
    rig.close(cid)
    lockerd.wait_event("dossier.not_collected", compartment=cid)
    lockerd.wait_compartment(cid, state="occupied")  # the records stay: never lose a dossier


def test_a_cu48_load_without_confirmation_is_not_recorded(locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    cid = reserve(locker, "APP-L", "alice", size="L")
    assert not locker.has_item_sensor(cid)
    rig.staff_card(MARKET_CLERK)
    opened(locker, "load", cid)
    rig.put(cid)
    rig.close(cid)
    failed = lockerd.wait_event("certificate.load_failed", compartment=cid)
    assert failed["payload"]["reason"] == "not_confirmed"
    lockerd.wait_compartment(cid, state="reserved")  # still waiting for its certificate
