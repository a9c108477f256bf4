"""The bus owner against the simulator over a real pty: start-up, polls,
latches, unlocks and their priority."""

from __future__ import annotations

import asyncio

import serial

from firmware.core.board import DEBOUNCE_US
from locker_host.bus import (
    BoardSnapshot,
    BusOwner,
    BusUsageError,
    DoorState,
    Health,
    ReferenceBoardConfig,
    UnlockOutcome,
)
from protocol import reference_board as rb
from protocol.modbus import FunctionCode, encode_request
from simulator.layout import simple_layout

from .conftest import SimFactory
from .helpers import (
    Snapshots,
    board,
    control,
    eventually,
    health_is,
    line_records,
    run,
    settled,
    sim_config,
    until_read,
)

FC_STATUS = int(FunctionCode.READ_INPUT_REGISTERS)
FC_WRITE = int(FunctionCode.WRITE_SINGLE_REGISTER)
FC_CONFIGURE = int(FunctionCode.WRITE_MULTIPLE_REGISTERS)


def test_startup_identifies_boards_and_turns_outputs_off(make_sim: SimFactory) -> None:
    sim = make_sim()
    # A coil left energised by a previous run of the daemon: a 10 s pulse.
    # (Opened without parity: this kernel's ptys refuse PARENB with EINVAL
    # when a second open sets it at the same speed, and a pty cannot tell
    # even parity from none anyway. At another speed the simulator, like a
    # board's UART, would hear garbage.)
    link = str(sim.fronts["bus0"].pty.link)
    with serial.Serial(link, 19200, parity=serial.PARITY_NONE, timeout=0.5) as port:
        port.write(encode_request(1, rb.unlock_request(3, 24, 10_000)))
        assert len(port.read(8)) == 8
    assert sim.world.compartments["A03"].energised
    before = len(line_records(sim))
    snapshots = Snapshots()

    async def main() -> None:
        async with BusOwner(sim_config(sim), snapshots) as owner:
            first = await snapshots.wait_for(lambda s: s.board.unit == 1)
            assert first.health is Health.ONLINE and first.restarted  # power-up flag seen
            await snapshots.wait_for(settled(1))
            await snapshots.wait_for(settled(2))
            stats = owner.statistics()
            for b in stats.boards:
                assert b.identity.startswith("reference board model 0x5301 firmware 1.0")
                assert b.identity.endswith("24 channels")
            assert stats.port.state == "open" and stats.port.low_latency is False

    run(main())
    assert not sim.world.compartments["A03"].energised
    for unit in (1, 2):
        functions = [t["function"] for t in line_records(sim)[before:] if t["unit"] == unit]
        # identity, all outputs off, configure, then the first poll
        assert functions[:4] == [FC_STATUS, FC_WRITE, FC_CONFIGURE, FC_STATUS]


# How long a door stays open or shut before the next change: longer than the
# firmware's debounce (firmware/core/board.py), or the board rightly sees nothing.
HELD = 3 * DEBOUNCE_US / 1e6


def test_a_forced_door_is_seen_and_never_missed_between_polls(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()
    config = sim_config(sim, poll_interval=0.3)
    one = board(1)

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            await snapshots.wait_for(settled(1))

            def read_at() -> float | None:
                return owner.snapshot(one).read_at_monotonic

            def latched_closed(s: BoardSnapshot) -> bool:
                return s.board == one and bool(s.channel(3).opened_since_last_poll)

            def latch_cleared(s: BoardSnapshot) -> bool:
                return s.board == one and s.channel(3).opened_since_last_poll is False

            # open and shut again well inside one poll interval, three times
            for _ in range(3):
                await until_read(read_at)
                mark = len(snapshots.seen)
                control(sim, "force", compartment="A03")
                await asyncio.sleep(HELD)
                control(sim, "close", compartment="A03")
                latched = await snapshots.wait_for(latched_closed, after=mark)
                assert latched.channel(3).door is DoorState.CLOSED
                # acknowledged after the consumer had it: the latch clears
                await snapshots.wait_for(latch_cleared, after=snapshots.seen.index(latched) + 1)
            # a door left open is reported open
            control(sim, "force", compartment="A04")
            seen = await snapshots.wait_for(
                lambda s: s.board == one and s.channel(4).door is DoorState.OPEN
            )
            assert seen.channel(4).opened_since_last_poll

    run(main())
    assert sim.world.compartments["A03"].forced_opens == 3


def test_back_to_back_open_and_close_cycles_each_reach_the_consumer(
    make_sim: SimFactory,
) -> None:
    # No poll between the cycles: after the acknowledgement, the next read
    # shows the same latch bits again, and only the board's change counter
    # tells that this is a new open-and-close.
    sim = make_sim()
    snapshots = Snapshots()
    config = sim_config(sim, poll_interval=3600.0)
    one = board(1)

    async def main() -> list[int | None]:
        counters: list[int | None] = []
        async with BusOwner(config, snapshots) as owner:
            for _ in range(50):  # no polls of our own: read until the reset is acknowledged
                if settled(1)(await owner.read_now(one)):
                    break
            for _ in range(4):
                mark = len(snapshots.seen)
                control(sim, "force", compartment="A03")
                await asyncio.sleep(HELD)
                control(sim, "close", compartment="A03")
                await owner.read_now(one)
                latched = await snapshots.wait_for(
                    lambda s: s.board == one and bool(s.channel(3).opened_since_last_poll),
                    after=mark,
                )
                counters.append(latched.change_counter)
                # the acknowledgement lands before the next cycle starts
                for _ in range(50):
                    if (await owner.read_now(one)).channel(3).opened_since_last_poll is False:
                        break
                else:
                    raise AssertionError("the latch was never acknowledged")
        return counters

    counters = run(main())
    assert len(counters) == 4
    assert len(set(counters)) == 4, counters  # four different cycles, four counters


def test_unlock_pulses_and_the_next_poll_sees_the_door_open(make_sim: SimFactory) -> None:
    sim = make_sim()
    control(sim, "user", auto_open_after=0.05)
    snapshots = Snapshots()
    two = board(2)

    async def main() -> float:
        async with BusOwner(sim_config(sim, poll_interval=0.2), snapshots) as owner:
            await snapshots.wait_for(settled(2))
            called = sim.now()
            result = await owner.unlock(two, 5, pulse_ms=300)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
            opened = await snapshots.wait_for(
                lambda s: s.board == two and s.channel(5).door is DoorState.OPEN
            )
            assert opened.channel(5).opened_since_last_poll
            assert owner.statistics().unlocks == {"acknowledged": 1}
        return called

    called = run(main())
    assert sim.world.compartments["D05"].opens == 1  # unit 2 channel 5
    after = [t for t in line_records(sim) if t["received_at"] >= called]
    unlock = next(i for i, t in enumerate(after) if t["function"] == FC_WRITE)
    assert after[unlock]["unit"] == 2
    # the confirmation read of that board follows right away
    assert (after[unlock + 1]["unit"], after[unlock + 1]["function"]) == (2, FC_STATUS)


def test_lock_fault_is_what_the_lock_does_now(make_sim: SimFactory) -> None:
    """Issue 14.3: a jammed channel's failed pulse raises lock_fault while the coil
    is on; once the pulse is over (and the jam cleared or not) the host reads it
    cleared again, it does not stay set until the next good pulse."""
    sim = make_sim()
    control(sim, "jam", compartment="A07")  # unit 1 channel 7
    snapshots = Snapshots()
    one = board(1)

    async def main() -> None:
        async with BusOwner(sim_config(sim, poll_interval=0.05), snapshots) as owner:
            await snapshots.wait_for(settled(1))
            assert snapshots.of(1)[-1].channel(7).lock_fault is False
            result = await owner.unlock(one, 7, pulse_ms=300)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED, result
            faulty = await snapshots.wait_for(lambda s: s.board == one and s.channel(7).lock_fault)
            assert faulty.channel(7).door is DoorState.CLOSED
            await eventually(lambda: not sim.world.compartments["A07"].energised)
            control(sim, "unjam", compartment="A07")  # the jam is cleared after the pulse
            after = len(snapshots.seen)
            cleared = await snapshots.wait_for(
                lambda s: s.board == one and s.channel(7).lock_fault is False, after=after
            )
            assert cleared.health is Health.ONLINE

    run(main())


def test_unlock_jumps_ahead_of_the_polls(make_sim: SimFactory) -> None:
    sim = make_sim(simple_layout(boards=6, channels=8))
    snapshots = Snapshots()
    boards = tuple(ReferenceBoardConfig(unit, 8) for unit in range(1, 7))
    config = sim_config(sim, boards, poll_interval=0.0)  # the bus is never idle

    async def main() -> list[float]:
        called = []
        async with BusOwner(config, snapshots) as owner:
            for unit in range(1, 7):
                await snapshots.wait_for(settled(unit))
            await asyncio.sleep(0.1)
            for unit in (6, 3, 5):
                await asyncio.sleep(0.05)
                called.append(sim.now())
                result = await owner.unlock(board(unit), 2)
                assert result.outcome is UnlockOutcome.ACKNOWLEDGED
            await asyncio.sleep(0.05)
        return called

    called = run(main())
    records = line_records(sim)
    for at, unit in zip(called, (6, 3, 5), strict=True):
        after = [t for t in records if t["received_at"] >= at]
        index = next(i for i, t in enumerate(after) if t["function"] == FC_WRITE)
        assert after[index]["unit"] == unit
        assert index <= 1  # at most the poll that was in flight went first
        assert (after[index + 1]["unit"], after[index + 1]["function"]) == (unit, FC_STATUS)


def test_read_now_and_misuse(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()

    async def main() -> None:
        owner = BusOwner(sim_config(sim, poll_interval=5.0), snapshots)
        try:
            await owner.unlock(board(1), 1)
        except BusUsageError as exc:
            assert "not running" in str(exc)
        else:
            raise AssertionError("an owner that is not running took an unlock")
        async with owner:
            await snapshots.wait_for(health_is(1, Health.ONLINE))
            control(sim, "force", compartment="A02")
            snapshot: BoardSnapshot = await owner.read_now(board(1))  # long before the next poll
            assert snapshot.channel(2).door is DoorState.OPEN
            for bad in ((board(9), 1), (board(1), 25)):
                try:
                    await owner.unlock(*bad)
                except BusUsageError:
                    pass
                else:
                    raise AssertionError(f"unlock{bad} was accepted")
            try:
                await owner.unlock(board(1), 1, pulse_ms=20)
            except BusUsageError as exc:
                assert "pulse 20 ms" in str(exc)

    run(main())


def test_a_board_that_restarts_is_reported_and_configured_again(make_sim: SimFactory) -> None:
    sim = make_sim()
    snapshots = Snapshots()

    async def main() -> float:
        async with BusOwner(sim_config(sim), snapshots):
            await snapshots.wait_for(settled(2))
            mark = len(snapshots.seen)
            at = sim.now()
            control(sim, "power_cycle", unit=2)
            restarted = await snapshots.wait_for(
                lambda s: s.board.unit == 2 and s.restarted, after=mark
            )
            assert restarted.health is Health.ONLINE
            await snapshots.wait_for(settled(2), after=snapshots.seen.index(restarted))
        return at

    at = run(main())
    after = [t["function"] for t in line_records(sim) if t["received_at"] >= at and t["unit"] == 2]
    assert FC_CONFIGURE in after  # pulse length and polarity written again


def test_a_consumer_that_fails_stops_the_owner(make_sim: SimFactory) -> None:
    sim = make_sim()

    class Broken(Exception):
        pass

    async def consume(snapshot: BoardSnapshot) -> None:
        raise Broken(snapshot.board)

    async def main() -> None:
        owner = BusOwner(sim_config(sim), consume)
        try:
            async with owner:
                await asyncio.sleep(1.0)
        except Broken:
            pass
        else:
            raise AssertionError("the consumer's exception was swallowed")
        try:
            await owner.unlock(board(1), 1)
        except BusUsageError as exc:
            assert isinstance(exc.__cause__, Broken)
        else:
            raise AssertionError("a stopped owner took an unlock")

    run(main())
