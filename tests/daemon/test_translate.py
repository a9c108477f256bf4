"""Bus snapshots -> domain observations, and the LockDriver on the bus owners."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

import pytest

from firmware.core.board import DEBOUNCE_US
from locker_host.app import PulseOutcome
from locker_host.bus import (
    BoardId,
    BoardSnapshot,
    BusConfig,
    BusOwner,
    ChannelState,
    DoorState,
    Health,
    ItemState,
    ReferenceBoardConfig,
    UnlockOutcome,
    UnlockResult,
)
from locker_host.daemon import BusLockDriver, SnapshotTranslator
from locker_host.domain import (
    BoardAddress,
    BoardRead,
    BoardRef,
    BoardUnreachable,
    BusId,
    ChannelReading,
    CompartmentId,
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    Layout,
    OpenId,
    PowerSupplyId,
    PulseLock,
    ReadBoard,
    Sensor,
    Size,
    Wiring,
)
from protocol.timing import SerialFormat
from simulator.layout import simple_layout

from .conftest import SimFactory

BOARD = BoardId("bus0", 1)
REF = BoardRef(BusId("bus0"), BoardAddress(1))
BOTH = frozenset({Sensor.DOOR_SWITCH, Sensor.ITEM_SENSOR})


def spec(
    cid: str, channel: int, sensors: frozenset[Sensor] = BOTH, unit: int = 1
) -> CompartmentSpec:
    ref = BoardRef(BusId("bus0"), BoardAddress(unit))
    return CompartmentSpec(
        CompartmentId(cid), Size.S, Wiring(ref, channel, PowerSupplyId("p")), sensors, 1500
    )


LAYOUT = Layout((spec("A01", 1), spec("A02", 2), spec("A03", 3, frozenset({Sensor.ITEM_SENSOR}))))


def channel(
    n: int,
    door: DoorState = DoorState.CLOSED,
    item: ItemState = ItemState.ABSENT,
    latch: bool | None = False,
) -> ChannelState:
    return ChannelState(n, door, item, False, latch)


def snapshot(
    *channels: ChannelState, health: Health = Health.ONLINE, restarted: bool = False
) -> BoardSnapshot:
    full = {c.channel: c for c in channels}
    chans = tuple(full.get(n, channel(n)) for n in range(1, 5))
    return BoardSnapshot(BOARD, chans, health, 1.0, restarted)


def read(*readings: tuple[str, bool | None, bool | None]) -> BoardRead:
    return BoardRead(REF, tuple(ChannelReading(CompartmentId(c), d, i) for c, d, i in readings))


QUIET = read(("A01", False, False), ("A02", False, False), ("A03", None, False))


def test_the_first_read_only_reconciles_even_with_latches() -> None:
    translator = SnapshotTranslator(LAYOUT)
    assert translator.observations(snapshot(channel(1, latch=True))) == [QUIET]


def test_an_open_and_close_between_two_polls_is_a_door_opened_and_closed() -> None:
    translator = SnapshotTranslator(LAYOUT)
    translator.observations(snapshot())
    latched = snapshot(channel(1, item=ItemState.PRESENT, latch=True))
    assert translator.observations(latched) == [
        DoorOpened(CompartmentId("A01")),
        DoorClosed(CompartmentId("A01"), True),
        read(("A01", False, True), ("A02", False, False), ("A03", None, False)),
    ]
    # The same latch again (its acknowledgement was lost): already told.
    assert translator.observations(latched)[:-1] == []


def test_a_latch_on_an_open_door_adds_nothing_the_reading_does_not_say() -> None:
    translator = SnapshotTranslator(LAYOUT)
    translator.observations(snapshot())
    opened = translator.observations(snapshot(channel(2, door=DoorState.OPEN, latch=True)))
    assert opened == [read(("A01", False, False), ("A02", True, False), ("A03", None, False))]
    # It closes before the next poll, the latch still on: the close comes as a pair
    # (the domain ignores the repeated open).
    closed = translator.observations(snapshot(channel(2, latch=True)))
    assert closed[:2] == [DoorOpened(CompartmentId("A02")), DoorClosed(CompartmentId("A02"), False)]


def test_offline_is_unreachable_and_the_way_back_reconciles() -> None:
    translator = SnapshotTranslator(LAYOUT)
    translator.observations(snapshot())
    offline = snapshot(health=Health.OFFLINE)
    assert translator.observations(offline) == [BoardUnreachable(REF)]
    assert translator.observations(snapshot(channel(1, latch=True))) == [QUIET]


def test_suspect_unknown_and_restarted_boards() -> None:
    translator = SnapshotTranslator(LAYOUT)
    assert translator.observations(snapshot(health=Health.UNKNOWN)) == []
    translator.observations(snapshot())
    assert translator.observations(snapshot(channel(1, latch=True), health=Health.SUSPECT)) == []
    # A board that restarted lost its latches; the reading reconciles.
    assert translator.observations(snapshot(channel(1, latch=True), restarted=True)) == [QUIET]


def test_only_declared_sensors_are_reported_and_unknown_boards_ignored() -> None:
    translator = SnapshotTranslator(LAYOUT)
    (reading,) = translator.observations(snapshot(channel(3, door=DoorState.OPEN)))
    assert isinstance(reading, BoardRead)
    assert reading.readings[2] == ChannelReading(CompartmentId("A03"), None, False)
    other = BoardSnapshot(BoardId("bus0", 9), (channel(1),), Health.ONLINE, 1.0)
    assert translator.observations(other) == []


@dataclass
class FakeOwner:
    outcome: UnlockOutcome = UnlockOutcome.ACKNOWLEDGED
    unlocks: list[tuple[BoardId, int, int | None]] = field(default_factory=list)
    snapshot: BoardSnapshot = field(default_factory=snapshot)

    async def unlock(
        self, board: BoardId, channel: int, pulse_ms: int | None = None
    ) -> UnlockResult:
        self.unlocks.append((board, channel, pulse_ms))
        return UnlockResult(board, channel, self.outcome)

    async def read_now(self, board: BoardId) -> BoardSnapshot:
        return self.snapshot


PULSE = PulseLock(OpenId("O1"), CompartmentId("A02"), REF, 2, 300, 0)


async def test_the_lock_driver_maps_pulses_and_reads() -> None:
    translator = SnapshotTranslator(LAYOUT)
    driver = BusLockDriver(translator)
    assert await driver.pulse(PULSE) is PulseOutcome.NOT_ACKNOWLEDGED  # no bus yet
    assert await driver.read_board(ReadBoard(REF, None)) is None
    owner = FakeOwner()
    driver.attach({"bus0": owner})  # type: ignore[dict-item]
    assert await driver.pulse(PULSE) is PulseOutcome.ACKNOWLEDGED
    assert owner.unlocks == [(BOARD, 2, 300)]
    for outcome in (
        UnlockOutcome.UNACKNOWLEDGED,
        UnlockOutcome.REFUSED,
        UnlockOutcome.BOARD_OFFLINE,
    ):
        owner.outcome = outcome
        assert await driver.pulse(PULSE) is PulseOutcome.NOT_ACKNOWLEDGED
    assert await driver.read_board(ReadBoard(REF, None)) == QUIET
    owner.snapshot = snapshot(health=Health.SUSPECT)
    assert await driver.read_board(ReadBoard(REF, None)) is None
    driver.detach()
    assert await driver.pulse(PULSE) is PulseOutcome.NOT_ACKNOWLEDGED


async def test_a_staggered_pulse_waits_its_delay_first(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = FakeOwner()
    driver = BusLockDriver(SnapshotTranslator(LAYOUT))
    driver.attach({"bus0": owner})  # type: ignore[dict-item]
    waits: list[tuple[float, int]] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float) -> None:
        waits.append((delay, len(owner.unlocks)))
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    assert await driver.pulse(replace(PULSE, delay_ms=200)) is PulseOutcome.ACKNOWLEDGED
    assert waits == [(0.2, 0)]  # waited 200 ms before the unlock, not after
    assert len(owner.unlocks) == 1


HELD = 3 * DEBOUNCE_US / 1e6


async def test_a_hidden_open_and_close_reaches_the_domain_through_a_real_bus(
    make_sim: SimFactory,
) -> None:
    sim = make_sim(simple_layout(boards=1, channels=4, baud=115200, frame="8N1"))
    layout = Layout(tuple(spec(f"A0{n}", n) for n in range(1, 5)))
    translator = SnapshotTranslator(layout)
    seen: list[object] = []

    async def consume(snap: BoardSnapshot) -> None:
        seen.extend(translator.observations(snap))

    config = BusConfig(
        "bus0",
        str(sim.fronts["bus0"].pty.link),
        (ReferenceBoardConfig(1, 4),),
        SerialFormat(115200, "N", 1),
        poll_interval=3600,  # only the reads the test asks for
    )
    async with BusOwner(config, consume) as owner:
        await owner.read_now(BOARD)
        result = await owner.unlock(BOARD, 2, 100)
        assert result.outcome is UnlockOutcome.ACKNOWLEDGED
        # open and shut between two reads, each position held longer than the
        # firmware's debounce (firmware/core/board.py DEBOUNCE_US)
        with sim.lock:
            sim.world.compartments["A02"].open_door(sim.now())
        await asyncio.sleep(HELD)
        with sim.lock:
            sim.world.compartments["A02"].close_door(sim.now())
        await asyncio.sleep(HELD)
        await owner.read_now(BOARD)
    assert DoorOpened(CompartmentId("A02")) in seen
    assert seen.index(DoorClosed(CompartmentId("A02"), False)) > seen.index(
        DoorOpened(CompartmentId("A02"))
    )
