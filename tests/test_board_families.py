"""Adding a board family is: one registry entry, its codec, its driver, its
simulator model (docs/boards.md). The toy family below is exactly that, and
nothing else of the project is told about it: lockerd's configuration takes
it, the simulator serves it, and the bus owner drives it over a pty."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from locker_host.bus import (
    BoardId,
    BusOwner,
    ChannelState,
    DoorState,
    Health,
    ItemState,
    ReferenceBoardConfig,
    UnlockOutcome,
)
from locker_host.bus.drivers import DRIVERS, Exchange, Reading, StartupKind, StartupStep
from locker_host.daemon import ConfigError, parse_config
from locker_host.domain import CompartmentId, Sensor
from protocol import BusFault, FaultKind
from protocol.families import FAMILIES, Bounds, Capability, Family, Framing
from protocol.modbus import (
    DecodedRequest,
    ExceptionCode,
    ExceptionReply,
    ReadInputRegisters,
    RegistersReply,
    Reply,
    WriteEcho,
    WriteSingleRegister,
    decode_request,
    encode_reply,
)
from protocol.timing import SerialFormat
from simulator.boards import MODELS, Board, Site, Wired
from simulator.dialects import DIALECTS
from simulator.layout import BoardSpec, parse_layout
from simulator.physics import Compartment
from tests.bus.helpers import Snapshots, control, run
from tests.daemon.conftest import VALID
from tests.simulator.conftest import SimFactory, make_sim

__all__ = ["make_sim"]

# -- the registry entry -------------------------------------------------------------------

TOY = Family(
    name="toy",
    title="a four-door toy board",
    framing=Framing.MODBUS,
    channels=Bounds(1, 4),
    default_channels=4,
    units=Bounds(1, 5),
    serial_format=SerialFormat(19200, "N", 1),
    capabilities=frozenset({Capability.DOOR_SWITCH}),
    pulse_ms=Bounds(100, 1000),
)

# -- its codec: one input register of door bits, one holding register per lock ----------

STATUS = ReadInputRegisters(0x0000, 1)  # bit n - 1: door n closed
UNLOCK_BASE = 0x0100  # + channel - 1: pulse that lock for this many ms


def unlock_request(channel: int, pulse_ms: int) -> WriteSingleRegister:
    return WriteSingleRegister(UNLOCK_BASE + channel - 1, pulse_ms)


# -- its driver ---------------------------------------------------------------------------


class ToyDriver:
    def __init__(self, bus: str, config: ReferenceBoardConfig) -> None:
        self._board = BoardId(bus, config.unit)
        self._config = config

    @property
    def board(self) -> BoardId:
        return self._board

    @property
    def channels(self) -> int:
        return self._config.channels

    @property
    def identity(self) -> str:
        return "toy"

    def startup(self) -> tuple[StartupStep, ...]:
        return (StartupStep(StartupKind.PROBE, Exchange(self._config.unit, STATUS)),)

    def check_startup(self, step: StartupStep, reply: Reply) -> BusFault | None:
        return None

    def poll(self) -> tuple[Exchange, ...]:
        return (Exchange(self._config.unit, STATUS),)

    def decode(self, replies: tuple[Reply, ...]) -> Reading | BusFault:
        (reply,) = replies
        if not isinstance(reply, RegistersReply):
            return BusFault(FaultKind.MISMATCH, f"got {reply}")
        (bits,) = reply.registers
        return Reading(
            tuple(
                ChannelState(
                    n,
                    DoorState.CLOSED if bits >> (n - 1) & 1 else DoorState.OPEN,
                    ItemState.NO_SENSOR,
                    None,
                    None,
                )
                for n in range(1, self.channels + 1)
            )
        )

    def unlock(self, channel: int, pulse_ms: int | None) -> Exchange:
        pulse = self._config.pulse_ms if pulse_ms is None else pulse_ms
        return Exchange(self._config.unit, unlock_request(channel, pulse))


# -- its simulator model ------------------------------------------------------------------


@dataclass
class ToyBoard:
    unit: int
    locks: list[Compartment | None]
    family: str = TOY.name

    def __post_init__(self) -> None:
        self.channels = len(self.locks)
        self.deadlines: list[float | None] = [None] * self.channels

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        decoded = decode_request(frame)
        if not isinstance(decoded, DecodedRequest) or decoded.unit != self.unit:
            return None
        request = decoded.request
        reply: Reply | ExceptionReply
        if request == STATUS:
            closed = [c is not None and c.door_closed_signal for c in self.locks]
            reply = RegistersReply(request.function, (sum(b << i for i, b in enumerate(closed)),))
        elif isinstance(request, WriteSingleRegister) and 0 <= request.address - UNLOCK_BASE < 4:
            self._drive(request.address - UNLOCK_BASE, now + request.value / 1000, now)
            reply = WriteEcho(request.function, request.address, request.value)
        else:
            reply = ExceptionReply(request.function, ExceptionCode.ILLEGAL_FUNCTION)
        return encode_reply(self.unit, reply)

    def tick(self, now: float) -> None:
        for ch, deadline in enumerate(self.deadlines):
            if deadline is not None and deadline <= now:
                self._drive(ch, None, deadline)

    def next_deadline(self) -> float | None:
        return min((d for d in self.deadlines if d is not None), default=None)

    def power_up(self, now: float) -> None:
        for ch in range(self.channels):
            self._drive(ch, None, now)

    def snapshot(self) -> dict[str, object]:
        return {"family": self.family, "unit": self.unit, "channels": self.channels}

    def _drive(self, ch: int, deadline: float | None, now: float) -> None:
        self.deadlines[ch] = deadline
        lock = self.locks[ch]
        if lock is not None:
            lock.drive(deadline is not None, now)


def toy_model(spec: BoardSpec, wired: Wired, site: Site) -> Board:
    return ToyBoard(spec.unit, wired.lock)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Family:
    """The four registrations, undone after the test."""
    monkeypatch.setitem(FAMILIES, TOY.name, TOY)
    monkeypatch.setitem(DRIVERS, TOY.name, ToyDriver)
    monkeypatch.setitem(MODELS, TOY.name, toy_model)
    return TOY


def with_toy_bus(board: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(VALID)
    config["buses"].append({"name": "toys", "port": "/dev/ttyUSB7", "boards": [board]})
    config["compartments"].append(
        {"id": "T01", "size": "M", "bus": "toys", "unit": board["unit"], "channel": 2}
    )
    return config


def test_every_family_has_a_driver_a_model_and_a_dialect() -> None:
    for family in FAMILIES.values():
        assert family.name in DRIVERS and family.name in MODELS, family.name
        assert family.framing in DIALECTS


def test_lockerd_configuration_takes_the_toy_family(toy: Family) -> None:
    config = parse_config(with_toy_bus({"family": "toy", "unit": 5, "channels": 4}), Path("/"))
    bus = config.buses[-1]
    assert bus.boards == (ReferenceBoardConfig(5, 4, 500, family="toy"),)
    assert (bus.line_protocol, bus.format) == (Framing.MODBUS, toy.serial_format)
    # The family senses doors only: that is all a compartment on it gets.
    assert config.locker.layout.by_id[CompartmentId("T01")].sensors == {Sensor.DOOR_SWITCH}


@pytest.mark.parametrize(
    ("board", "problem"),
    [
        ({"family": "toy", "unit": 6, "channels": 4}, "buses[1].boards[0].unit: 6 is outside 1..5"),
        ({"family": "toy", "unit": 1, "channels": 5}, "buses[1].boards[0].channels: 5 is outside"),
        (
            {"family": "toy", "unit": 1, "channels": 4, "pulse_ms": 2000},
            "buses[1].boards[0].pulse_ms: 2000 is outside 100..1000",
        ),
    ],
)
def test_the_registry_entry_bounds_the_toy_keys(
    toy: Family, board: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(with_toy_bus(board), Path("/"))
    assert str(caught.value).startswith(problem)


def test_an_unregistered_family_is_refused() -> None:
    with pytest.raises(ConfigError, match="'toy' is not one of reference, relay"):
        parse_config(with_toy_bus({"family": "toy", "unit": 1, "channels": 4}), Path("/"))


def test_the_simulator_serves_the_toy_family(toy: Family, make_sim: SimFactory) -> None:
    layout = parse_layout({"buses": [{"name": "bus0", "boards": [{"family": "toy", "unit": 3}]}]})
    assert layout.buses[0].format == toy.serial_format  # the family's, as the bus names none
    assert [c.lock.channel for c in layout.compartments] == [1, 2, 3, 4]
    sim = make_sim(layout)
    control(sim, "user", auto_open_after=0.05)  # a person pulls a released door
    parsed = parse_config(with_toy_bus({"family": "toy", "unit": 3, "channels": 4}), Path("/"))
    bus = parsed.buses[-1]
    config = type(bus)(
        "bus0",
        str(sim.fronts["bus0"].pty.link),
        bus.boards,
        bus.format,
        poll_interval=0.05,
    )
    snapshots = Snapshots()

    async def main() -> None:
        async with BusOwner(config, snapshots) as owner:
            first = await snapshots.wait_for(lambda s: s.health is Health.ONLINE)
            assert [c.door for c in first.channels] == [DoorState.CLOSED] * 4
            result = await owner.unlock(BoardId("bus0", 3), 2)
            assert result.outcome is UnlockOutcome.ACKNOWLEDGED
            await snapshots.wait_for(lambda s: s.channel(2).door is DoorState.OPEN)

    run(main())
