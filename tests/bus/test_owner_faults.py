"""The bus owner when things go wrong: a board drops off, replies are
mangled, the USB adapter is pulled. Against the simulator over a real pty."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from locker_host.bus import (
    BoardSnapshot,
    BusOwner,
    DoorState,
    Health,
    ItemState,
    PortState,
    UnlockOutcome,
)
from locker_host.bus.fine_timer import FineTimer
from protocol.modbus import FunctionCode
from simulator.runtime import Simulator

from .conftest import SimFactory
from .helpers import (
    Snapshots,
    board,
    control,
    eventually,
    health_is,
    line_counters,
    line_records,
    run,
    settled,
    sim_config,
)

FC_WRITE = int(FunctionCode.WRITE_SINGLE_REGISTER)


def door_open(unit: int, channel: int) -> Callable[[BoardSnapshot], bool]:
    return lambda s: s.board.unit == unit and s.channel(channel).door is DoorState.OPEN


def test_an_offline_board_goes_suspect_then_offline_then_back(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()

    async def main() -> None:
        async with BusOwner(sim_config(sim), snapshots) as owner:
            await snapshots.wait_for(settled(2))
            mark = len(snapshots.seen)
            control(sim, "offline", unit=2)
            offline = await snapshots.wait_for(health_is(2, Health.OFFLINE), after=mark)
            dropped = [s for s in snapshots.seen[mark:] if s.board.unit == 2]
            healths = [s.health for s in dropped]
            assert healths[: healths.index(Health.OFFLINE) + 1] == [Health.SUSPECT, Health.OFFLINE]
            # suspect: the last readings are kept; offline: unknown, never closed
            assert all(c.door is DoorState.CLOSED for c in dropped[0].channels)
            assert all(c.door is DoorState.UNKNOWN for c in offline.channels)
            assert all(c.item is ItemState.UNKNOWN for c in offline.channels)
            assert "timeout" in offline.detail
            refused = await owner.unlock(board(2), 1)
            assert refused.outcome is UnlockOutcome.BOARD_OFFLINE
            # the other board is still being read
            before = owner.snapshot(board(1)).read_at_monotonic
            await eventually(lambda: owner.snapshot(board(1)).read_at_monotonic != before)
            assert owner.snapshot(board(1)).health is Health.ONLINE
            control(sim, "online", unit=2)
            back = await snapshots.wait_for(health_is(2, Health.ONLINE), after=mark)
            assert all(c.door is DoorState.CLOSED for c in back.channels)
            stats = owner.statistics()
            assert stats.boards[1].faults["timeout"] >= 3
            assert stats.timeouts == stats.boards[1].faults["timeout"]

    run(main())


def test_injected_faults_are_counted_and_survived(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()
    config = sim_config(sim, poll_interval=0.0)

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(health_is(1, Health.ONLINE))
            await snapshots.wait_for(health_is(2, Health.ONLINE))
            control(sim, "fault", unit=1, bad_crc=0.15, noise=0.3, wrong_unit=0.1, seed=7)
            control(sim, "fault", unit=2, late=0.1, late_delay=0.12, seed=8)
            await asyncio.sleep(2.0)
            control(sim, "clear_faults")
            stats = owner.statistics()
            assert stats.crc_errors >= 1
            assert stats.faults.get("wrong_unit", 0) >= 1
            assert stats.noise_bytes + stats.stray_bytes >= 1
            assert stats.boards[1].faults.get("timeout", 0) >= 1  # the late replies
            assert stats.read_retries >= 1
            # and the owner carries on: both boards back to online, still polled
            mark = len(snapshots.seen)
            control(sim, "force", compartment="A01")
            await snapshots.wait_for(door_open(1, 1), after=mark)
            await eventually(lambda: owner.snapshot(board(2)).health is Health.ONLINE)

    run(main())
    faults = line_counters(sim)["faults"]
    assert faults["bad_crc"] >= 1 and faults["noise"] >= 1 and faults["late"] >= 1


def test_the_inter_frame_gap_is_never_undercut(make_sim: SimFactory) -> None:
    _poll_hard_and_check_the_gaps(make_sim())


def test_without_a_timerfd_the_asyncio_sleep_fallback_keeps_the_silence(
    make_sim: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no timerfd can be had (not Linux, no C library), the transport
    waits with asyncio.sleep: coarser, but never shorter than asked."""
    asked: list[None] = []

    def no_timerfd() -> None:
        asked.append(None)

    monkeypatch.setattr(FineTimer, "open", no_timerfd)
    _poll_hard_and_check_the_gaps(make_sim())
    assert asked, "the transport asked for a timer and got none"


def _poll_hard_and_check_the_gaps(sim: Simulator) -> None:
    """Polls as fast as the bus allows, with unlocks and their confirmation
    reads mixed in: the simulated line never sees a request start less than
    t3.5 after the previous frame.

    The owner leaves the silence on its own clock after the reply it read, or
    after a response timeout. The simulator stamps a request when its thread
    reads it, so a simulator held off the CPU for longer than a response
    timeout (a busy machine: it shares the process with the owner) reads the
    request the owner timed out on and the one after it together, and sees
    them glued or overlapping. That is the simulator's late view, not a short
    gap, and only a timeout the owner saw can cause it: so each such timeout
    excuses at most one anomaly, and with none every frame must be clean."""
    control(sim, "user", auto_open_after=0.02, auto_close_after=0.05)
    snapshots = Snapshots()

    async def main() -> tuple[int, int]:
        async with BusOwner(sim_config(sim, poll_interval=0.0), snapshots) as owner:
            for n in range(20):
                await asyncio.sleep(0.1)
                await owner.unlock(board(1 + n % 2), 1 + n % 24, pulse_ms=100)
            stats = owner.statistics()
            assert stats.shortest_gap is not None
            assert stats.shortest_gap >= sim.world.lines["bus0"].format.t35
            timeouts = sum(b.faults.get("timeout", 0) for b in stats.boards)
            return stats.transactions, timeouts

    transactions, timeouts = run(main())
    counters = line_counters(sim)
    assert transactions >= 50
    assert timeouts <= transactions // 10, "the simulator kept up with most of them"
    assert counters["frames"] >= transactions - timeouts
    assert counters["silence_violations"] <= timeouts
    assert counters["collisions"] <= timeouts


def test_the_adapter_is_pulled_and_comes_back(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()

    async def main() -> None:
        async with BusOwner(sim_config(sim), snapshots) as owner:
            await snapshots.wait_for(health_is(1, Health.ONLINE))
            await snapshots.wait_for(health_is(2, Health.ONLINE))
            mark = len(snapshots.seen)
            control(sim, "unplug")
            await eventually(lambda: owner.statistics().port.state is PortState.DOWN)
            lost = owner.statistics().port
            assert lost.losses == 1 and lost.last_error.startswith("port_lost")
            assert lost.last_error_cause in ("hangup", "io_error")
            # while it is out: no unlock is queued for later, boards go offline
            result = await owner.unlock(board(1), 1)
            assert result.outcome is UnlockOutcome.BOARD_OFFLINE
            assert "port" in result.detail
            for unit in (1, 2):
                await snapshots.wait_for(health_is(unit, Health.OFFLINE), after=mark)
            await eventually(lambda: owner.statistics().port.failed_opens >= 2)
            assert owner.statistics().port.last_error_cause == "absent"  # the path is gone
            mark = len(snapshots.seen)
            control(sim, "replug")
            for unit in (1, 2):
                await snapshots.wait_for(health_is(unit, Health.ONLINE), after=mark)
            assert owner.statistics().port.state is PortState.OPEN
            assert owner.statistics().port.opens == 2
            control(sim, "force", compartment="D01")
            await snapshots.wait_for(door_open(2, 1))

    run(main())


def test_a_lost_unlock_reply_is_unacknowledged_and_never_resent(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()

    async def main() -> float:
        async with BusOwner(sim_config(sim, poll_interval=0.2), snapshots) as owner:
            await snapshots.wait_for(settled(1))
            control(sim, "fault", unit=1, no_reply=1.0)  # the board acts, its replies are lost
            called = sim.now()
            result = await owner.unlock(board(1), 4, pulse_ms=2000)
            assert result.outcome is UnlockOutcome.UNACKNOWLEDGED
            assert "timeout" in result.detail
            control(sim, "clear_faults")
            await asyncio.sleep(0.3)
        return called

    called = run(main())
    writes = [
        t for t in line_records(sim) if t["received_at"] >= called and t["function"] == FC_WRITE
    ]
    assert len(writes) == 1  # written once: the board did pulse (A04 released)
    assert sim.world.compartments["A04"].energised
