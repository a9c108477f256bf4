"""Between the bus adapter and the app: snapshots in, observations out; pulses out.

`SnapshotTranslator.observations(snapshot)` turns what a `BusOwner` reports
into the domain's facts:

* an `online` snapshot is a `BoardRead` of every compartment on that board
  (the domain compares it with what it last knew and sees doors open and
  close, items come and go);
* before that, a door whose latch says it was open at some moment since the
  last poll, and which reads closed now, becomes `DoorOpened` then
  `DoorClosed`: an open-and-close between two polls is never missed
  (DESIGN.md section 5). A latch means nothing while the domain's readings
  are unknown (the first read after start-up or after the board was
  offline, or a board that restarted): that read only reconciles, it
  raises no forced-door alarm for a past nobody saw;
* `offline` is `BoardUnreachable` (compartments `unknown`, never `closed`);
* `suspect` and `unknown` say nothing new (a suspect board's last readings
  are carried over by the adapter; the domain keeps them too).

Only the sensors a compartment declares are reported: a door switch the
layout does not declare reads `None`, so the domain runs the degraded flow
the layout asked for.

`BusLockDriver` is the app's `LockDriver` port on the bus owners: a
`PulseLock` waits its `delay_ms` (the stagger) and becomes one `unlock`,
never repeated; anything but an acknowledgement is `NOT_ACKNOWLEDGED`, which
the domain ends as `outcome_unknown` (a lost reply may hide a pulse that
happened). A `ReadBoard` is a `read_now`; a board that does not answer gives
`None` and the open's own timer covers it. Until `attach` (the daemon opens
the service before it starts the buses) there is nothing to pulse and
nothing to read: the first snapshots reconcile instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from locker_host.app import PulseOutcome
from locker_host.bus import (
    BoardId,
    BoardSnapshot,
    BusOwner,
    ChannelState,
    DoorState,
    Health,
    ItemState,
    UnlockOutcome,
)
from locker_host.domain import (
    BoardAddress,
    BoardRead,
    BoardRef,
    BoardUnreachable,
    BusId,
    ChannelReading,
    CompartmentSpec,
    DoorClosed,
    DoorOpened,
    Layout,
    Observation,
    PulseLock,
    ReadBoard,
)

logger = logging.getLogger(__name__)


def board_ref(board: BoardId) -> BoardRef:
    return BoardRef(BusId(board.bus), BoardAddress(board.unit))


def board_id(board: BoardRef) -> BoardId:
    return BoardId(board.bus, board.address)


class SnapshotTranslator:
    def __init__(self, layout: Layout) -> None:
        self._specs: dict[BoardId, dict[int, CompartmentSpec]] = {}
        for spec in layout:
            self._specs.setdefault(board_id(spec.wiring.board), {})[spec.wiring.channel] = spec
        # The last online snapshot delivered per board, while the domain's readings
        # of that board are known (dropped when it goes offline).
        self._last: dict[BoardId, BoardSnapshot] = {}

    def observations(self, snapshot: BoardSnapshot) -> list[Observation]:
        board = snapshot.board
        if board not in self._specs:
            return []  # a board that drives no compartment
        if snapshot.health is Health.OFFLINE:
            self._last.pop(board, None)
            return [BoardUnreachable(board_ref(board))]
        read = self.board_read(snapshot)
        if read is None:
            return []
        previous = self._last.get(board)
        self._last[board] = snapshot
        hidden: list[Observation] = []
        if previous is not None and not snapshot.restarted:
            for channel, spec in self._specs[board].items():
                now, before = snapshot.channel(channel), previous.channel(channel)
                if spec.has_door_switch and _closed_since_latch(now, before, snapshot, previous):
                    hidden += [DoorOpened(spec.id), DoorClosed(spec.id, _item(now, spec))]
        return [*hidden, read]

    def board_read(self, snapshot: BoardSnapshot) -> BoardRead | None:
        """The snapshot as a whole-board reading; None unless the board answered."""
        specs = self._specs.get(snapshot.board)
        if specs is None or snapshot.health is not Health.ONLINE:
            return None
        if snapshot.read_at_monotonic is None:
            return None
        readings = tuple(
            ChannelReading(
                spec.id, _door(snapshot.channel(n), spec), _item(snapshot.channel(n), spec)
            )
            for n, spec in sorted(specs.items())
        )
        return BoardRead(board_ref(snapshot.board), readings)


def _closed_since_latch(
    now: ChannelState, before: ChannelState, snapshot: BoardSnapshot, previous: BoardSnapshot
) -> bool:
    """Open and closed again between two reads, and not the latch already reported."""
    if not (now.opened_since_last_poll and now.door is DoorState.CLOSED):
        return False
    if not (before.opened_since_last_poll and before.door is DoorState.CLOSED):
        return True
    # The latch looked the same last time: the same cycle whose acknowledgement
    # failed (same change counter), or a new cycle after a successful one (the
    # board counted new edges). Without a counter we cannot tell: already told.
    counters = (snapshot.change_counter, previous.change_counter)
    return None not in counters and counters[0] != counters[1]


def _door(channel: ChannelState, spec: CompartmentSpec) -> bool | None:
    if not spec.has_door_switch or channel.door not in (DoorState.OPEN, DoorState.CLOSED):
        return None
    return channel.door is DoorState.OPEN


def _item(channel: ChannelState, spec: CompartmentSpec) -> bool | None:
    if not spec.has_item_sensor or channel.item not in (ItemState.PRESENT, ItemState.ABSENT):
        return None
    return channel.item is ItemState.PRESENT


class BusLockDriver:
    def __init__(self, translator: SnapshotTranslator) -> None:
        self._translator = translator
        self._owners: Mapping[str, BusOwner] = {}

    def attach(self, owners: Mapping[str, BusOwner]) -> None:
        self._owners = dict(owners)

    def detach(self) -> None:
        self._owners = {}

    async def pulse(self, effect: PulseLock) -> PulseOutcome:
        owner = self._owners.get(effect.board.bus)
        if owner is None:
            logger.warning(
                "pulse not sent: bus not running",
                extra={"compartment": effect.compartment, "open_id": effect.open_id},
            )
            return PulseOutcome.NOT_ACKNOWLEDGED
        if effect.delay_ms > 0:
            await asyncio.sleep(effect.delay_ms / 1000)
        result = await owner.unlock(board_id(effect.board), effect.channel, effect.duration_ms)
        acknowledged = result.outcome is UnlockOutcome.ACKNOWLEDGED
        logger.log(
            logging.INFO if acknowledged else logging.WARNING,
            "pulse %s",
            result.outcome.value,
            extra={
                "compartment": effect.compartment,
                "open_id": effect.open_id,
                "board": str(result.board),
                "channel": result.channel,
                "pulse_ms": effect.duration_ms,
                "detail": result.detail,
            },
        )
        return PulseOutcome.ACKNOWLEDGED if acknowledged else PulseOutcome.NOT_ACKNOWLEDGED

    async def read_board(self, effect: ReadBoard) -> BoardRead | None:
        owner = self._owners.get(effect.board.bus)
        if owner is None:
            return None
        snapshot = await owner.read_now(board_id(effect.board))
        return self._translator.board_read(snapshot)
