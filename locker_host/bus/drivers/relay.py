"""Driver for Waveshare-style relay + digital-input modules (protocol/relay_module.py).

A compartment is relay n of this module (its lock) plus up to two digital
inputs, the door switch and the item sensor, on this module or on another
module of the same bus (`RelayChannelConfig`). A poll reads the inputs of
every module this board's channels use, one FC02 per module, stopping at the
first fault; a module shared by two relay boards is read once for each.

What the family lacks, and what follows:
- No latches and no change counter: an input is a level, so a door opened
  and closed between two polls is missed. `opened_since_last_poll` is None
  to say so; configure a shorter `poll_interval` for these boards.
- No polarity register: inversion is applied here, on the host.
- No lock feedback: `lock_fault` is None.
- The pulse is the module's own "flash on" timer (FC05 to 0x0200 + channel,
  100 ms steps), so a host crash mid-pulse cannot leave a relay energised
  (Open-Locker ADR-0004). All relays are switched off at the owner's first
  start.
"""

from __future__ import annotations

from protocol import BusFault, FaultKind
from protocol import relay_module as rm
from protocol.modbus import RegistersReply, Reply, WriteEcho

from ..config import InputRef, RelayBoardConfig, SensorPolarity
from ..model import BoardId, ChannelState, DoorState, ItemState
from .port import Exchange, Reading, StartupKind, StartupStep


def channel_state(
    number: int,
    door: InputRef | None,
    item: InputRef | None,
    inputs: dict[int, rm.InputStates],
    polarity: SensorPolarity,
) -> ChannelState:
    """Input level 1 = door closed / item present, unless the polarity inverts it."""
    door_state = DoorState.NO_SENSOR
    if door is not None:
        closed = inputs[door.unit].channel(door.input) != polarity.door_inverted
        door_state = DoorState.CLOSED if closed else DoorState.OPEN
    item_state = ItemState.NO_SENSOR
    if item is not None:
        present = inputs[item.unit].channel(item.input) != polarity.item_inverted
        item_state = ItemState.PRESENT if present else ItemState.ABSENT
    return ChannelState(number, door_state, item_state, None, None)


class RelayDriver:
    def __init__(self, bus: str, config: RelayBoardConfig) -> None:
        self._board = BoardId(bus, config.unit)
        self._config = config
        self._input_units = config.input_units()
        self._identity = ""

    @property
    def board(self) -> BoardId:
        return self._board

    @property
    def channels(self) -> int:
        return len(self._config.channels)

    @property
    def identity(self) -> str:
        return self._identity

    def startup(self) -> tuple[StartupStep, ...]:
        unit = self._config.unit
        return (
            StartupStep(StartupKind.PROBE, Exchange(unit, rm.firmware_request())),
            StartupStep(StartupKind.OUTPUTS_OFF, Exchange(unit, rm.all_relays_off_request())),
        )

    def check_startup(self, step: StartupStep, reply: Reply) -> BusFault | None:
        if step.kind is StartupKind.PROBE:
            if not isinstance(reply, RegistersReply) or len(reply.registers) != 1:
                return BusFault(FaultKind.MISMATCH, f"firmware read got {reply}")
            version = reply.registers[0]
            self._identity = (
                f"relay module firmware V{version // 100}.{version % 100:02d}, "
                f"{self.channels} relays"
            )
            return None
        if isinstance(reply, WriteEcho):
            return None
        return BusFault(FaultKind.MISMATCH, f"{step.kind} got {reply}")

    def poll(self) -> tuple[Exchange, ...]:
        if not self._input_units:
            # No sensors wired: read the relays, to know the module is there.
            return (Exchange(self._config.unit, rm.relays_request(self.channels)),)
        return tuple(
            Exchange(unit, rm.inputs_request(count)) for unit, count in self._input_units.items()
        )

    def decode(self, replies: tuple[Reply, ...]) -> Reading | BusFault:
        inputs: dict[int, rm.InputStates] = {}
        if self._input_units:
            for (unit, count), reply in zip(self._input_units.items(), replies, strict=True):
                states = rm.parse_bits(reply, count)
                if isinstance(states, BusFault):
                    return states
                inputs[unit] = states
        polarity = self._config.polarity
        channels = tuple(
            channel_state(n, ch.door, ch.item, inputs, polarity)
            for n, ch in enumerate(self._config.channels, 1)
        )
        return Reading(channels)

    def unlock(self, channel: int, pulse_ms: int | None) -> Exchange:
        request = rm.pulse_request(channel, self.channels, pulse_ms or self._config.pulse_ms)
        return Exchange(self._config.unit, request)
