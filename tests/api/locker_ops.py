"""Things that happen at the locker during an API test: reservations, doors, items."""

from __future__ import annotations

from typing import Any

from locker_host.domain import (
    CompartmentId,
    DepartmentId,
    DoorClosed,
    DoorOpened,
    ItemSensed,
    Purpose,
    StaffCredential,
    StaffId,
    StaffRole,
)
from tests.daemon.parts import Parts, iso, owner_key

CLERK = StaffCredential(StaffId("M-1"), DepartmentId("market"), StaffRole.CLERK)
PICKUP_CODE = "48213957"


async def door(parts: Parts, compartment: str, *, opened: bool, item: bool | None = None) -> None:
    cid = CompartmentId(compartment)
    parts.driver.doors_open[compartment] = opened
    if opened:
        await parts.service.observe(DoorOpened(cid))
        return
    if item is not None:
        parts.driver.items[compartment] = item
        await parts.service.observe(ItemSensed(cid, item))
    await parts.service.observe(DoorClosed(cid, item))


async def certificate(parts: Parts, application: str, id_number: str, **fields: Any) -> str:
    """Reserved by the central system, loaded by the market clerk: waiting for its owner."""
    reply = (
        await parts.api.handle(
            "reserve",
            {
                "command_id": f"reserve-{application}",
                "expires_at": iso(parts.clock.wall_s + 3600),
                "application": application,
                "owner_key": owner_key(id_number),
                "key_version": 2,
                "size": "S",
                "department": "market",
                "deadline": iso(parts.clock.wall_s + 3 * 86_400),
                **fields,
            },
        )
    ).to_json()
    assert reply["ok"], reply
    compartment = str(reply["compartment"])
    loading = (await parts.kiosk.staff_open(CLERK, Purpose.LOAD)).to_json()
    assert loading["ok"], loading
    await door(parts, compartment, opened=True)
    await door(parts, compartment, opened=False, item=True)
    return compartment
