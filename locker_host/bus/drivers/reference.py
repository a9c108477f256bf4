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
"""

from __future__ import annotations

from protocol import BusFault, FaultKind
from protocol import reference_board as rb
from protocol.modbus import Reply, WriteEcho

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


def needs_acknowledgement(status: rb.BoardStatus) -> bool:
    if status.flags & rb.StatusFlags.RESET:
        return True
    return any(ch.opened_since_ack and ch.door_closed for ch in status.channels)


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

    @property
    def board(self) -> BoardId:
        return self._board

    @property
    def channels(self) -> int:
        return self._config.channels

    @property
    def identity(self) -> str:
        return self._identity

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
        self._capabilities = identity.capabilities
        major, minor = identity.firmware
        self._identity = (
            f"reference board model 0x{identity.model:04X} firmware {major}.{minor} "
            f"serial {identity.serial:08X}, {identity.channels} channels"
        )
        return None

    def poll(self) -> tuple[Exchange, ...]:
        return (Exchange(self._config.unit, rb.status_request(self._config.channels)),)

    def decode(self, replies: tuple[Reply, ...]) -> Reading | BusFault:
        (reply,) = replies
        status = rb.parse_status(reply, self._config.channels)
        if isinstance(status, BusFault):
            return status
        channels = tuple(
            channel_state(n, ch, self._capabilities) for n, ch in enumerate(status.channels, 1)
        )
        ack = None
        if needs_acknowledgement(status):
            ack = Exchange(self._config.unit, rb.ack_request(status.change_counter))
        return Reading(
            channels, bool(status.flags & rb.StatusFlags.RESET), status.change_counter, ack
        )

    def unlock(self, channel: int, pulse_ms: int | None) -> Exchange:
        # 0 asks for the board's default pulse, which start-up configured.
        request = rb.unlock_request(channel, self._config.channels, pulse_ms or 0)
        return Exchange(self._config.unit, request)
