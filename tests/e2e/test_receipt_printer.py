"""`[kiosk] receipt_printer`: lockerd prints the drop-off receipt (here into a plain file)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from locker_host.printer import Receipt, encode_receipt

from .conftest import Locker
from .lockerd import MARKET_CLERK
from .rig import wait_for
from .test_flows import opened


@pytest.fixture
def printer_file(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Requested before `locker`: the printer's device is a file in this test's directory."""
    path = tmp_path / "lp0"
    request.node.add_marker(pytest.mark.locker_config({"kiosk": {"receipt_printer": str(path)}}))
    return path


def test_a_deposit_prints_its_receipt_once(printer_file: Path, locker: Locker) -> None:
    lockerd, rig = locker.lockerd, locker.rig
    assert lockerd.admin("arm_dropoff", {"service": "business_licence"})["ok"]
    rig.swipe(locker.card["alice"])
    cid = opened(locker, "deposit")
    rig.put(cid)
    rig.close(cid)
    receipt = lockerd.wait_event("dossier.deposited", compartment=cid)["payload"]["receipt"]

    printed = wait_for(
        lambda: printer_file.exists() and printer_file.read_bytes(),
        timeout=10,
        what="the receipt in the printer's file",
    )
    sample = Receipt(receipt, cid, "市场监督管理局", "e2e", "L01", datetime(2000, 1, 1))
    head = encode_receipt(sample).split("时间".encode("gb18030"))[0]
    assert printed.startswith(head), "the receipt's number, compartment and department"
    # Other commits (the staff collection below) print nothing more.
    rig.staff_card(MARKET_CLERK)
    opened(locker, "collect", cid)
    rig.take(cid)
    rig.close(cid)
    lockerd.wait_compartment(cid, state="free")
    assert printer_file.read_bytes() == printed

