"""Fakes for the app's ports: a settable clock, a locker whose doors the test moves,
a seeded code source, a staff card directory. No mocks, no sleeps."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from locker_host.app import PulseOutcome
from locker_host.domain import (
    BoardRead,
    ChannelReading,
    CompartmentId,
    DepartmentId,
    Layout,
    PulseLock,
    ReadBoard,
    StaffCredential,
    StaffId,
    StaffRole,
)

T0_WALL = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@dataclass
class FakeClock:
    mono_s: float = 1_000.0
    wall_s: float = T0_WALL
    trusted: bool = True

    def monotonic(self) -> float:
        return self.mono_s

    def wall(self) -> float:
        return self.wall_s

    def wall_trusted(self) -> bool:
        return self.trusted

    def advance(self, seconds: float) -> None:
        """Time passes: both clocks move."""
        self.mono_s += seconds
        self.wall_s += seconds

    def jump_wall(self, seconds: float) -> None:
        """The wall clock is set (NTP step, an operator): the monotonic clock does not move."""
        self.wall_s += seconds


@dataclass
class FakeLocker:
    """The boards as the driver sees them: the test opens doors and moves items.

    Every pulse is acknowledged unless its compartment is in ``unacknowledged``;
    a board in ``offline`` does not answer reads.
    """

    layout: Layout
    doors_open: dict[str, bool] = field(default_factory=dict)
    items: dict[str, bool] = field(default_factory=dict)
    pulses: list[PulseLock] = field(default_factory=list)
    reads: list[ReadBoard] = field(default_factory=list)
    unacknowledged: set[str] = field(default_factory=set)
    offline: set[str] = field(default_factory=set)

    async def pulse(self, effect: PulseLock) -> PulseOutcome:
        self.pulses.append(effect)
        if effect.compartment in self.unacknowledged:
            return PulseOutcome.NOT_ACKNOWLEDGED
        return PulseOutcome.ACKNOWLEDGED

    async def read_board(self, effect: ReadBoard) -> BoardRead | None:
        self.reads.append(effect)
        if effect.board.key in self.offline:
            return None
        readings = tuple(
            ChannelReading(
                spec.id,
                self.doors_open.get(spec.id, False) if spec.has_door_switch else None,
                self.items.get(spec.id, False) if spec.has_item_sensor else None,
            )
            for spec in self.layout.on_board(effect.board)
        )
        return BoardRead(effect.board, readings)

    def pulsed(self) -> list[str]:
        return [p.compartment for p in self.pulses]


@dataclass
class SeededCodes:
    seed: int = 7
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def digits(self, length: int) -> str:
        code = "".join(str(self._random.randrange(10)) for _ in range(length))
        self.issued.append(code)
        return code


@dataclass
class StaffCards:
    cards: dict[str, StaffCredential] = field(default_factory=dict)

    def staff_for_card(self, card_id: str) -> StaffCredential | None:
        return self.cards.get(card_id)


def staff(staff_id: str, department: str, role: StaffRole = StaffRole.CLERK) -> StaffCredential:
    return StaffCredential(StaffId(staff_id), DepartmentId(department), role)


def cid(value: str) -> CompartmentId:
    return CompartmentId(value)
