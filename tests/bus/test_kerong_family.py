"""Kerong CU16 / CU48 boards through the same owner, against the simulator over a pty:
probe (and firmware variant), poll, unlock (confirmed by a status read, a reply
accepted if one comes), a slow board, hook and item polarity, and the faults the
Modbus boards are tested with."""

from __future__ import annotations

from typing import Any

import pytest

from locker_host.bus import (
    BusConfig,
    BusConfigError,
    BusOwner,
    DoorState,
    Health,
    ItemState,
    KerongBoardConfig,
    ReferenceBoardConfig,
    SensorPolarity,
    UnlockOutcome,
)
from locker_host.bus.drivers import Cu16Driver, Cu48Driver
from protocol.kerong import cu16, cu48
from simulator.layout import parse_layout

from .conftest import SimFactory
from .helpers import Snapshots, board, control, eventually, line_records, run, sim_config


def layout(*boards: dict[str, Any], turnaround_ms: float = 1.0) -> Any:
    """One Kerong bus at the boards' factory format, one compartment per wired lock;
    every board answers `turnaround_ms` after the request ends."""
    comps = []
    for b in boards:
        for n in range(1, b["channels"] + 1):
            comps.append(
                {"id": f"{'AB'[b['unit']]}{n:02d}", "lock": {"unit": b["unit"], "channel": n}}
            )
    return parse_layout(
        {
            "buses": [
                {
                    "name": "bus0",
                    "baud": 19200,
                    "format": "8N1",
                    "turnaround_ms": turnaround_ms,
                    "boards": list(boards),
                }
            ],
            "compartments": comps,
            "user": {"auto_open_after": 0.05},
        }
    )


CU16 = {"family": "kerong_cu16", "unit": 0, "channels": 4, "unlock_ms": 300}
CU48 = {"family": "kerong_cu48", "unit": 1, "channels": 4, "unlock_ms": 300}


def kerong(family: str, unit: int, **options: Any) -> KerongBoardConfig:
    options.setdefault("poll_interval", 0.03)
    return KerongBoardConfig(family, unit, channels=4, unlock_ms=300, **options)  # type: ignore[arg-type]


def test_cu16_and_cu48_start_poll_and_unlock(make_sim: SimFactory) -> None:
    sim = make_sim(layout(CU16, CU48))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu16", 0), kerong("kerong_cu48", 1)))

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            for unit in (0, 1):
                seen = await snapshots.wait_for(
                    lambda s, u=unit: s.board.unit == u and s.health is Health.ONLINE
                )
                assert [c.door for c in seen.channels] == [DoorState.CLOSED] * 4
                assert all(c.opened_since_last_poll is None for c in seen.channels)
                assert all(c.lock_fault is None for c in seen.channels)
            items = {u: [c.item for c in owner.snapshot(board(u)).channels] for u in (0, 1)}
            assert items == {0: [ItemState.ABSENT] * 4, 1: [ItemState.NO_SENSOR] * 4}
            identity = {b.board.unit: b.identity for b in owner.statistics().boards}
            assert identity[0].startswith("Kerong CU16 board 0 (status 0x30): 4 locks, hook and")
            assert identity[1].startswith("Kerong CU48 board 1 (firmware v2.1)")

            cu16_unlock = await owner.unlock(board(0), 3)
            assert cu16_unlock.outcome is UnlockOutcome.ACKNOWLEDGED, cu16_unlock
            assert cu16_unlock.detail == "confirmed by a status read (no reply)"
            cu48_unlock = await owner.unlock(board(1), 2)
            assert cu48_unlock.outcome is UnlockOutcome.ACKNOWLEDGED, cu48_unlock
            assert cu48_unlock.detail == "confirmed by a status read (no reply)"
            await snapshots.wait_for(
                lambda s: s.board.unit == 0 and s.channel(3).door is DoorState.OPEN
            )
            await snapshots.wait_for(
                lambda s: s.board.unit == 1 and s.channel(2).door is DoorState.OPEN
            )
            control(sim, "put", compartment="A03")
            await snapshots.wait_for(
                lambda s: s.board.unit == 0 and s.channel(3).item is ItemState.PRESENT
            )

    run(main())
    assert sim.world.compartments["A03"].opens == 1
    assert sim.world.compartments["B02"].opens == 1
    records = line_records(sim)
    unlocks = [(t["unit"], t["outcome"]) for t in records if t["function"] in (0x31, 0x51)]
    # neither board answers an unlock (the CU16's default firmware, as kerong-lib says)
    assert unlocks == [(0, "no_reply"), (1, "no_reply")]
    for unit, unlock, status in ((0, cu16.Command.UNLOCK, cu16.Command.STATUS), (1, 0x51, 0x50)):
        after = [t["function"] for t in records if t["unit"] == unit]
        assert after[after.index(unlock) + 1] == status  # the confirmation


def test_unanswered_cu16_unlocks_never_take_the_board_offline(make_sim: SimFactory) -> None:
    """kerong-lib's CU16 sends nothing back to an unlock: every unlock is
    confirmed by a status read, and unlocks in a row (more than
    `failures_until_offline`) leave the board online."""
    sim = make_sim(layout({**CU16, "firmware": "unlock-silent"}))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu16", 0),), failures_until_offline=3)

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            for channel in (1, 2, 3, 4):
                result = await owner.unlock(board(0), channel)
                assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
                assert result.detail == "confirmed by a status read (no reply)"
                assert owner.snapshot(board(0)).health is Health.ONLINE
            assert owner.statistics().timeouts == 0

    run(main())
    assert [sim.world.compartments[f"A0{n}"].opens for n in (1, 2, 3, 4)] == [1, 1, 1, 1]


def test_a_cu16_unlock_reply_is_accepted_when_it_comes(make_sim: SimFactory) -> None:
    sim = make_sim(layout({**CU16, "firmware": "unlock-answered"}))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu16", 0),))

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            result = await owner.unlock(board(0), 2)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
            assert result.detail == "confirmed by a status read (the board answered)"
            assert owner.statistics().timeouts == 0

    run(main())
    records = line_records(sim)
    assert [t["outcome"] for t in records if t["function"] == cu16.Command.UNLOCK] == ["reply"]


def test_a_slow_kerong_bus_stays_online_with_the_default_timeouts(make_sim: SimFactory) -> None:
    """Boards that answer 400 ms after each request (no source measures one; the
    vendor sheet says under 1 s): online, polled, unlocks confirmed, with the
    defaults; the same bus with a Modbus-like allowance times out."""
    cu16_spec = {**CU16, "firmware": "unlock-answered"}
    cu48_spec = {**CU48, "firmware": "alt-0x60"}
    sim = make_sim(layout(cu16_spec, cu48_spec, turnaround_ms=400))
    boards = (kerong("kerong_cu16", 0, poll_interval=0.2), kerong("kerong_cu48", 1))

    async def main(config: BusConfig, units_online: int) -> int:
        snapshots = Snapshots()
        async with BusOwner(config, snapshots) as owner:
            if units_online == 0:
                await eventually(lambda: owner.statistics().timeouts >= 4, timeout=10)
                assert all(b.health is not Health.ONLINE for b in owner.statistics().boards)
                return 0
            for unit in (0, 1):
                await snapshots.wait_for(
                    lambda s, u=unit: s.board.unit == u and s.health is Health.ONLINE
                )
            for unit in (0, 1):
                result = await owner.unlock(board(unit), 2)
                assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
                await snapshots.wait_for(
                    lambda s, u=unit: s.board.unit == u and s.channel(2).door is DoorState.OPEN
                )
            await eventually(lambda: owner.statistics().transactions >= 12, timeout=15)
            assert all(b.health is Health.ONLINE for b in owner.statistics().boards)
            return owner.statistics().timeouts

    # One timeout only: the CU48's V2.1 probe, which this board does not answer.
    assert run(main(sim_config(sim, boards), 2), timeout=40) == 1
    run(main(sim_config(sim, boards, slave_allowance=0.030), 0), timeout=20)


def test_a_cu48_of_the_0x60_variant_is_told_apart_by_its_probe(make_sim: SimFactory) -> None:
    sim = make_sim(layout({**CU48, "firmware": "alt-0x60"}))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu48", 1),))

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            result = await owner.unlock(board(1), 4)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
            await snapshots.wait_for(lambda s: s.channel(4).door is DoorState.OPEN)
            statistics = owner.statistics()
            assert "firmware alt-0x60" in statistics.boards[0].identity
            assert statistics.timeouts == 1  # the V2.1 probe, once, never again

    run(main())
    functions = [t["function"] for t in line_records(sim)]
    assert functions[:2] == [cu48.Command.STATUS, cu48.Command.ALT_STATUS]
    assert cu48.Command.STATUS not in functions[2:]
    assert cu48.Command.ALT_UNLOCK in functions


def test_hook_and_item_polarity_are_the_hosts(make_sim: SimFactory) -> None:
    """NC hook switches and inverted infrared sensors: wrong without the
    polarity setting, right with it."""
    sim = make_sim(layout(CU16))
    for n in range(1, 5):
        control(sim, "sensor", compartment=f"A0{n}", sensor="door", mode="inverted")
        control(sim, "sensor", compartment=f"A0{n}", sensor="item", mode="inverted")
    control(sim, "force", compartment="A01")

    def channels(polarity: SensorPolarity) -> list[tuple[DoorState, ItemState]]:
        snapshots = Snapshots()
        config = sim_config(sim, (kerong("kerong_cu16", 0, polarity=polarity),))

        async def main() -> list[tuple[DoorState, ItemState]]:
            async with BusOwner(config, snapshots):
                seen = await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
                return [(c.door, c.item) for c in seen.channels]

        return run(main())

    o, c, present, absent = DoorState.OPEN, DoorState.CLOSED, ItemState.PRESENT, ItemState.ABSENT
    assert channels(SensorPolarity()) == [(c, present)] + [(o, present)] * 3
    inverted = SensorPolarity(door_inverted=True, item_inverted=True)
    assert channels(inverted) == [(o, absent)] + [(c, absent)] * 3


@pytest.mark.parametrize("family", ["kerong_cu16", "kerong_cu48"])
def test_faults_are_survived_and_counted(make_sim: SimFactory, family: str) -> None:
    """Noise, bad sums, replies from another address and late replies, at a
    seeded rate: the board stays online (one retry per read) and every fault
    shows in the statistics by kind."""
    spec = CU16 if family == "kerong_cu16" else CU48
    sim = make_sim(layout(spec))
    unit = spec["unit"]
    rates = {"noise": 0.2, "bad_crc": 0.1, "wrong_unit": 0.1, "late": 0.05, "late_delay": 0.05}
    control(sim, "fault", unit=unit, seed=7, **rates)
    snapshots = Snapshots()
    config = sim_config(sim, (kerong(family, unit, poll_interval=0.01),))

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            await eventually(lambda: owner.statistics().transactions >= 120, timeout=30)
            statistics = owner.statistics()
            assert owner.snapshot(board(unit)).health is not Health.OFFLINE
            for kind in ("bad_crc", "wrong_unit"):
                assert statistics.faults.get(kind, 0) >= 1, statistics.faults
            assert statistics.noise_bytes + statistics.stray_bytes > 0

    run(main(), timeout=40)


def test_an_offline_board_goes_offline_and_comes_back(make_sim: SimFactory) -> None:
    sim = make_sim(layout(CU16, CU48))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu16", 0), kerong("kerong_cu48", 1)))

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.board.unit == 1 and s.health is Health.ONLINE)
            control(sim, "offline", unit=1)
            gone = await snapshots.wait_for(
                lambda s: s.board.unit == 1 and s.health is Health.OFFLINE
            )
            assert [c.door for c in gone.channels] == [DoorState.UNKNOWN] * 4
            result = await owner.unlock(board(1), 1)
            assert result.outcome is UnlockOutcome.BOARD_OFFLINE
            assert owner.snapshot(board(0)).health is Health.ONLINE  # its neighbour is fine
            control(sim, "online", unit=1)
            await snapshots.wait_for(lambda s: s.board.unit == 1 and s.health is Health.ONLINE)

    run(main())


def test_an_unanswered_cu48_unlock_is_unacknowledged(make_sim: SimFactory) -> None:
    """The CU48 never answers an unlock; if the status read after it fails
    too, the unlock is `unacknowledged` (it may have fired: never re-sent)."""
    sim = make_sim(layout(CU48))
    snapshots = Snapshots()
    config = sim_config(sim, (kerong("kerong_cu48", 1),), read_retries=0, failures_until_offline=10)

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            control(sim, "fault", unit=1, no_reply=1.0)
            result = await owner.unlock(board(1), 3)
            assert result.outcome is UnlockOutcome.UNACKNOWLEDGED, result
            assert result.detail.startswith("sent; no confirmation")
            await eventually(lambda: sim.world.compartments["B03"].opens == 1)  # it did fire

    run(main())


def test_board_addresses_and_channels_are_checked() -> None:
    with pytest.raises(BusConfigError, match=r"outside 0\.\.9"):
        BusConfig("bus0", "/dev/null", (KerongBoardConfig("kerong_cu48", 10),))
    with pytest.raises(BusConfigError, match=r"outside 0\.\.15"):
        BusConfig("bus0", "/dev/null", (KerongBoardConfig("kerong_cu16", 16),))
    with pytest.raises(BusConfigError, match="cannot share a bus"):
        BusConfig(
            "bus0", "/dev/null", (KerongBoardConfig("kerong_cu16", 0), ReferenceBoardConfig(1, 8))
        )
    with pytest.raises(BusConfigError, match="no item sensor"):
        BusConfig(
            "bus0",
            "/dev/null",
            (KerongBoardConfig("kerong_cu48", 0, polarity=SensorPolarity(item_inverted=True)),),
        )
    assert KerongBoardConfig("kerong_cu48", 0).locks == cu48.LOCKS
    assert KerongBoardConfig("kerong_cu16", 0).locks == cu16.LOCKS


def test_a_cu16_is_probed_by_0x30_then_0x32_and_polled_by_what_answered() -> None:
    """Drivers read a CU16's status with 0x30 (kerong-lib, jin0949) or 0x32
    (lkaas-kerong): both are probes, in that order; the one that answered is
    the poll from then on (pure: the driver's exchanges, no line)."""
    driver = Cu16Driver("bus0", KerongBoardConfig("kerong_cu16", 3))
    probes = driver.startup()
    assert [p.exchange.encode()[2] for p in probes] == [0x30, 0x32]
    assert driver.poll()[0].encode() == cu16.status_request(3)
    reply = cu16.Status(3, (True,) * 16, (False,) * 16)
    assert driver.check_startup(probes[1], reply) is None
    assert driver.poll()[0].encode() == cu16.status_request(3, cu16.Command.STATUS_ALL)
    assert [p.exchange.encode()[2] for p in driver.startup()] == [0x32]


def test_no_kerong_unlock_depends_on_a_reply() -> None:
    cu16_unlock = Cu16Driver("bus0", KerongBoardConfig("kerong_cu16", 0)).unlock(1, None)
    assert cu16_unlock.expects_reply and cu16_unlock.reply_optional
    alt = Cu48Driver("bus0", KerongBoardConfig("kerong_cu48", 1))
    alt.variant = cu48.Variant.ALT_60
    alt_unlock = alt.unlock(1, None)
    assert alt_unlock.encode() == cu48.unlock_request(1, 1, cu48.Variant.ALT_60)
    assert alt_unlock.expects_reply and alt_unlock.reply_optional
    v21_unlock = Cu48Driver("bus0", KerongBoardConfig("kerong_cu48", 1)).unlock(1, None)
    assert not v21_unlock.expects_reply
