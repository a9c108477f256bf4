"""What the bus owner knows about one board, and which board to poll next.

`BoardState` keeps availability (`health`) apart from the last readings
(`channels`, `read_at`), and builds the `BoardSnapshot` a consumer sees:
readings as read while the board is online, carried over (latches dropped)
while it is suspect, unknown once it is offline.

`pick_due` is the round robin: among the boards whose poll (or, offline,
probe) is due, the first one after the board polled last, so a board with a
short interval cannot starve the others when the bus is saturated.

`next_on_grid` keeps routine polls on a grid, anchored when the owner
starts, rather than one interval after each board's last read: boards with
the same interval fall due together and are polled back to back, so the
owner wakes once per cycle instead of once per board (each wake-up of a
sleeping process costs more CPU than the transaction's own Python).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .drivers import BoardDriver
from .health import BoardHealth, HealthEvent, HealthPolicy, step
from .model import BoardId, BoardSnapshot, ChannelState, DoorState, Health, ItemState


def _never_read(channels: int) -> tuple[ChannelState, ...]:
    return tuple(
        ChannelState(n, DoorState.UNKNOWN, ItemState.UNKNOWN, None, None)
        for n in range(1, channels + 1)
    )


@dataclass(slots=True)
class BoardState:
    driver: BoardDriver[Any]
    poll_interval: float
    response_timeout: float | None  # None: computed per request
    health: BoardHealth = field(default_factory=BoardHealth)
    started: bool = False  # start-up done since the board was last offline
    outputs_off_done: bool = False  # only once per owner (field lessons 2)
    channels: tuple[ChannelState, ...] = ()
    read_at: float | None = None
    restarted: bool = False
    change_counter: int | None = None
    detail: str = ""
    next_poll_at: float = 0.0
    published: BoardSnapshot | None = None

    def __post_init__(self) -> None:
        if not self.channels:
            self.channels = _never_read(self.driver.channels)

    @property
    def board(self) -> BoardId:
        return self.driver.board

    def due_at(self) -> float:
        if self.health.probe_at is None:
            return self.next_poll_at
        return max(self.next_poll_at, self.health.probe_at)

    def record(
        self, event: HealthEvent, policy: HealthPolicy, now: float, detail: str = ""
    ) -> None:
        self.health = step(self.health, event, policy, now)
        if event is not HealthEvent.PORT_RETURNED:
            self.detail = detail
        if self.health.state is Health.OFFLINE:
            self.started = False  # a board that comes back is started again (configure)

    def snapshot(self) -> BoardSnapshot:
        state = self.health.state
        if state is Health.OFFLINE or self.read_at is None:
            channels = tuple(c.unknown() for c in self.channels)
        elif state is Health.SUSPECT:
            channels = tuple(c.carried_over() for c in self.channels)
        else:
            channels = self.channels
        return BoardSnapshot(
            self.board,
            channels,
            state,
            self.read_at,
            self.restarted,
            self.detail,
            self.change_counter if state is Health.ONLINE else None,
        )

    def news(self, snapshot: BoardSnapshot) -> bool:
        """Does this snapshot tell the consumer anything the last one did not?"""
        last = self.published
        return last is None or (
            snapshot.channels,
            snapshot.health,
            snapshot.restarted,
            snapshot.change_counter,
        ) != (last.channels, last.health, last.restarted, last.change_counter)


def next_on_grid(anchor: float, interval: float, now: float) -> float:
    """The first point of the grid `anchor + k x interval` after `now`
    (`now` itself for an interval of 0: always due)."""
    if interval <= 0:
        return now
    return anchor + (math.floor((now - anchor) / interval) + 1) * interval


def pick_due(boards: Sequence[BoardState], last: int, now: float) -> int | None:
    """Index of the next board to poll, round robin after index `last`."""
    count = len(boards)
    for offset in range(1, count + 1):
        index = (last + offset) % count
        if boards[index].due_at() <= now:
            return index
    return None
