"""Relay + digital-input modules through the same owner: the lock on one
module, the door and item inputs on another, host-side polarity."""

from __future__ import annotations

from typing import Any

from locker_host.bus import (
    BusOwner,
    DoorState,
    Health,
    InputRef,
    ItemState,
    RelayBoardConfig,
    RelayChannelConfig,
    SensorPolarity,
    UnlockOutcome,
)
from protocol.modbus import FunctionCode
from simulator.layout import parse_layout

from .conftest import SimFactory
from .helpers import Snapshots, board, control, line_records, run, sim_config

# Unit 3 drives four locks; unit 4's inputs 1-4 read their doors, 5-8 their
# item sensors. 8N1: the simulator's pty is opened by two owners in turn
# (this kernel's ptys refuse PARENB on a second configuration at one speed).
LAYOUT: dict[str, Any] = {
    "buses": [
        {
            "name": "bus0",
            "format": "8N1",
            "boards": [
                {"family": "relay", "unit": 3, "channels": 4},
                {"family": "relay", "unit": 4, "channels": 8},
            ],
        }
    ],
    "compartments": [
        {
            "id": f"A0{n}",
            "lock": {"unit": 3, "channel": n},
            "door": {"unit": 4, "channel": n},
            "item": {"unit": 4, "channel": n + 4},
        }
        for n in range(1, 5)
    ],
}


AS_WIRED = SensorPolarity()


def relay_board(polarity: SensorPolarity = AS_WIRED) -> RelayBoardConfig:
    wiring = tuple(
        RelayChannelConfig(door=InputRef(4, n), item=InputRef(4, n + 4)) for n in range(1, 5)
    )
    # no latches on these modules: poll them faster than the bus default
    return RelayBoardConfig(3, wiring, pulse_ms=300, polarity=polarity, poll_interval=0.03)


def test_relay_modules_start_poll_and_pulse(make_sim: SimFactory) -> None:
    sim = make_sim(parse_layout(LAYOUT))
    control(sim, "user", auto_open_after=0.05)
    snapshots = Snapshots()
    config = sim_config(sim, (relay_board(),), poll_interval=1.0)

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            first = await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            assert [c.door for c in first.channels] == [DoorState.CLOSED] * 4
            assert [c.item for c in first.channels] == [ItemState.ABSENT] * 4
            assert all(c.opened_since_last_poll is None for c in first.channels)
            assert owner.statistics().boards[0].identity.startswith("relay module firmware V1.00")
            result = await owner.unlock(board(3), 2)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED
            await snapshots.wait_for(lambda s: s.channel(2).door is DoorState.OPEN)
            control(sim, "put", compartment="A02")
            await snapshots.wait_for(lambda s: s.channel(2).item is ItemState.PRESENT)

    run(main())
    assert sim.world.compartments["A02"].opens == 1
    records = line_records(sim)
    fc = [(t["unit"], t["function"]) for t in records]
    # probe (firmware), all relays off, then inputs read from the other module
    assert fc[:3] == [
        (3, FunctionCode.READ_HOLDING_REGISTERS),
        (3, FunctionCode.WRITE_SINGLE_COIL),
        (4, FunctionCode.READ_DISCRETE_INPUTS),
    ]
    assert (3, FunctionCode.WRITE_SINGLE_COIL) in fc[3:]  # the flash pulse


def test_host_side_polarity_inverts_the_inputs(make_sim: SimFactory) -> None:
    """Normally-open door switches (closed door = input low): read without the
    polarity setting every door looks open; with it, closed."""
    sim = make_sim(parse_layout(LAYOUT))
    for n in range(1, 5):
        control(sim, "sensor", compartment=f"A0{n}", sensor="door", mode="inverted")
    control(sim, "force", compartment="A01")  # one really open

    def doors(polarity: SensorPolarity) -> list[DoorState]:
        snapshots = Snapshots()
        config = sim_config(sim, (relay_board(polarity),))

        async def main() -> list[DoorState]:
            async with BusOwner(config, snapshots):
                seen = await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
                return [c.door for c in seen.channels]

        return run(main())

    closed, opened = DoorState.CLOSED, DoorState.OPEN
    assert doors(AS_WIRED) == [closed, opened, opened, opened]
    assert doors(SensorPolarity(door_inverted=True)) == [opened, closed, closed, closed]
