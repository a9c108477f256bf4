"""Driver for the reference lock board (protocol/reference_board.py is the contract).

Start-up: read the identity block (magic, channel count, capabilities), all
outputs off, then write the default pulse and the polarity, which the board
applies to its inputs itself. A board reporting another channel count than
configured is refused: the status block's layout depends on it, and guessing
it from a reply's length is how Open-Locker ADR-0061 went wrong.

Poll: one FC04 read of the status block. Acknowledgement: write back the
change counter just read; the board clears its latches only if the counter
has not moved since, so a change between the read and the write survives to
the next poll. The acknowledgement is only asked for when it carries news: a
`reset` flag, or a latch on a door that is closed now. A latch on a door that
is open now says nothing the door state does not say, and acknowledging it
would only re-latch it (the board latches a door still open after an ack), so
an open door costs no extra write per poll.

Decoding is on the hot path (every board, several times a second), so it
works on the registers as integers: the four bit fields become one int each,
and each channel's four bits index a table of the 16 `ChannelState`s that
channel can be in, built once per capabilities with `channel_state`. A
status block identical to the last one (the usual case: nothing moved) gives
back the last `Reading`, which is a pure function of the registers and the
capabilities.

What the board says of itself goes into `identity`, which the health and
board views show a technician: the firmware's last reset when it was its
watchdog's (its main loop stalled), and a board running on factory settings
(no valid settings in its flash), both from the status flags.
"""

from __future__ import annotations

from protocol import BusFault, FaultKind
from protocol import reference_board as rb
from protocol.modbus import RegistersReply, Reply, WriteEcho

from ..config import ReferenceBoardConfig, SensorPolarity
from ..model import BoardId, ChannelState, DoorState, ItemState
from .port import Exchange, Reading, StartupKind, StartupStep


def board_polarity(polarity: SensorPolarity) -> rb.Polarity:
    flags = rb.Polarity(0)
    if polarity.door_inverted:
        flags |= rb.Polarity.DOOR_INVERTED
    if polarity.item_inverted:
        flags |= rb.Polarity.ITEM_INVERTED
    if polarity.lock_feedback_inverted:
        flags |= rb.Polarity.LOCK_FEEDBACK_INVERTED
    return flags


def channel_state(
    number: int, status: rb.ChannelStatus, capabilities: rb.Capabilities
) -> ChannelState:
    door = DoorState.NO_SENSOR
    if capabilities & rb.Capabilities.DOOR_SWITCH:
        door = DoorState.CLOSED if status.door_closed else DoorState.OPEN
    item = ItemState.NO_SENSOR
    if capabilities & rb.Capabilities.ITEM_SENSOR:
        item = ItemState.PRESENT if status.item_present else ItemState.ABSENT
    fault = status.lock_fault if capabilities & rb.Capabilities.LOCK_FEEDBACK else None
    return ChannelState(number, door, item, fault, status.opened_since_ack)


# Index of a channel's state in its table: one bit per status field.
_DOOR_CLOSED, _ITEM_PRESENT, _LOCK_FAULT, _OPENED = 1, 2, 4, 8
_RESET = int(rb.StatusFlags.RESET)
_WATCHDOG = int(rb.StatusFlags.WATCHDOG)
_FACTORY_DEFAULTS = int(rb.StatusFlags.FACTORY_DEFAULTS)


def state_table(
    channels: int, capabilities: rb.Capabilities
) -> tuple[tuple[ChannelState, ...], ...]:
    """table[channel - 1][bits]: the state a channel's four status bits mean."""
    return tuple(
        tuple(
            channel_state(
                number,
                rb.ChannelStatus(
                    bool(bits & _DOOR_CLOSED),
                    bool(bits & _ITEM_PRESENT),
                    bool(bits & _LOCK_FAULT),
                    bool(bits & _OPENED),
                ),
                capabilities,
            )
            for bits in range(16)
        )
        for number in range(1, channels + 1)
    )


def _field(registers: tuple[int, ...], start: int, width: int) -> int:
    """`width` registers from `start` as one int: channel 1 is bit 0."""
    value = 0
    for i in range(width):
        value |= registers[start + i] << (16 * i)
    return value


class ReferenceDriver:
    def __init__(self, bus: str, config: ReferenceBoardConfig) -> None:
        self._board = BoardId(bus, config.unit)
        self._config = config
        # Until the identity says otherwise, assume everything is wired.
        self._capabilities = (
            rb.Capabilities.DOOR_SWITCH
            | rb.Capabilities.ITEM_SENSOR
            | rb.Capabilities.LOCK_FEEDBACK
        )
        self._identity = ""
        self._watchdog_reset = False  # the last reset seen was the watchdog's
        self._factory_defaults = False
        self._register_count = rb.status_register_count(config.channels)
        self._width = rb.field_width(config.channels)
        self._mask = (1 << config.channels) - 1  # bits past the last channel mean nothing
        self._table = state_table(config.channels, self._capabilities)
        self._last: tuple[tuple[int, ...], Reading] | None = None
        self._poll = (Exchange(config.unit, rb.status_request(config.channels)),)

    @property
    def board(self) -> BoardId:
        return self._board

    @property
    def channels(self) -> int:
        return self._config.channels

    @property
    def identity(self) -> str:
        notes = []
        if self._watchdog_reset:
            notes.append("last reset by its watchdog")
        if self._factory_defaults:
            notes.append("running on factory settings")
        return "; ".join([self._identity, *notes]) if notes else self._identity

    def startup(self) -> tuple[StartupStep, ...]:
        unit = self._config.unit
        configure = rb.configure_request(
            self._config.pulse_ms, board_polarity(self._config.polarity)
        )
        return (
            StartupStep(StartupKind.PROBE, Exchange(unit, rb.identity_request())),
            StartupStep(StartupKind.OUTPUTS_OFF, Exchange(unit, rb.all_outputs_off_request())),
            StartupStep(StartupKind.CONFIGURE, Exchange(unit, configure)),
        )

    def check_startup(self, step: StartupStep, reply: Reply) -> BusFault | None:
        if step.kind is not StartupKind.PROBE:
            # The reply reader has already matched the echo with the request.
            if isinstance(reply, WriteEcho):
                return None
            return BusFault(FaultKind.MISMATCH, f"{step.kind} got {reply}")
        identity = rb.parse_identity(reply)
        if isinstance(identity, BusFault):
            return identity
        if identity.channels != self._config.channels:
            return BusFault(
                FaultKind.MISMATCH,
                f"the board reports {identity.channels} channels, "
                f"the configuration says {self._config.channels}",
            )
        if identity.capabilities != self._capabilities:
            self._capabilities = identity.capabilities
            self._table = state_table(self._config.channels, self._capabilities)
            self._last = None
        major, minor = identity.firmware
        self._identity = (
            f"reference board model 0x{identity.model:04X} firmware {major}.{minor} "
            f"serial {identity.serial:08X}, {identity.channels} channels"
        )
        return None

    def poll(self) -> tuple[Exchange, ...]:
        return self._poll

    def decode(self, replies: tuple[Reply, ...]) -> Reading | BusFault:
        (reply,) = replies
        registers = self._status_registers(reply)
        if isinstance(registers, BusFault):
            return registers
        last = self._last
        if last is not None and last[0] == registers:
            return last[1]
        w = self._width
        door = _field(registers, 2, w)
        item = _field(registers, 2 + w, w)
        fault = _field(registers, 2 + 2 * w, w)
        opened = _field(registers, 2 + 3 * w, w)
        channels = tuple(
            table[
                (door >> k & 1)
                | (item >> k & 1) << 1
                | (fault >> k & 1) << 2
                | (opened >> k & 1) << 3
            ]
            for k, table in enumerate(self._table)
        )
        flags, counter = registers[0], registers[1]
        restarted = bool(flags & _RESET)
        if restarted:
            self._watchdog_reset = bool(flags & _WATCHDOG)
        self._factory_defaults = bool(flags & _FACTORY_DEFAULTS)
        ack = None
        # news: a restart, or a latch on a door that is closed now
        if restarted or opened & door & self._mask:
            ack = Exchange(self._config.unit, rb.ack_request(counter))
        reading = Reading(channels, restarted, counter, ack)
        self._last = (registers, reading)
        return reading

    def _status_registers(self, reply: Reply) -> tuple[int, ...] | BusFault:
        if isinstance(reply, RegistersReply) and len(reply.registers) == self._register_count:
            return reply.registers
        # anything else is a reply parse_status refuses: let it name the fault
        status = rb.parse_status(reply, self._config.channels)
        return status if isinstance(status, BusFault) else rb.encode_status(status)

    def unlock(self, channel: int, pulse_ms: int | None) -> Exchange:
        # 0 asks for the board's default pulse, which start-up configured.
        request = rb.unlock_request(channel, self._config.channels, pulse_ms or 0)
        return Exchange(self._config.unit, request)
