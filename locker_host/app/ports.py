"""The app's ports: what it needs from the outside, as small ``typing.Protocol``s.

The real adapters live elsewhere (the RS-485 bus owner, the time-sync watcher,
the staff card directory, the kiosk app's swipe parser); tests pass fakes.
``system.py`` holds the two that are one line each on a real box (the clock
and the code source).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from locker_host.domain import BoardRead, PulseLock, ReadBoard, StaffCredential

from .inputs import Presentation, StaffCardDigest
from .replies import Refusal


class PulseOutcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # the board took the pulse; not "door opened" (ADR-0040)
    NOT_ACKNOWLEDGED = "not_acknowledged"  # no answer or an error reply: outcome unknown


class LockDriver(Protocol):
    """The bus owner. Bus faults are results, never exceptions; an exception is a bug.

    ``pulse`` starts the board-timed pulse ``effect.delay_ms`` after the call
    (the service issues the pulses of one decision together) and returns once
    the board answered. ``read_board`` returns a whole-board snapshot, or
    ``None`` when the board did not answer (the open's own timer covers that).
    """

    async def pulse(self, effect: PulseLock) -> PulseOutcome: ...

    async def read_board(self, effect: ReadBoard) -> BoardRead | None: ...


class Clock(Protocol):
    """Both clocks (DESIGN.md section 5): monotonic for timers, wall for business deadlines."""

    def monotonic(self) -> float: ...

    def wall(self) -> float:
        """Seconds since the epoch, whatever the box believes."""
        ...

    def wall_trusted(self) -> bool:
        """True once the wall clock is known to be synchronised."""
        ...


class CodeSource(Protocol):
    """Unpredictable digit strings for drop-off codes."""

    def digits(self, length: int) -> str: ...


class StaffDirectory(Protocol):
    """Staff card id (as the reader reports it) to the clerk it belongs to."""

    def staff_for_card(self, card_id: str) -> StaffCredential | None: ...


class StaffCardIndex(Protocol):
    """Staff card digests (as a reader computed them) to the clerk they belong to."""

    def staff_for_digests(self, digests: Iterable[StaffCardDigest]) -> StaffCredential | None: ...


class SwipeParser(Protocol):
    """A kiosk app's swipe payload (its token, its reader, one credential) to what it
    presented, or the refusal that names the culprit field."""

    def __call__(self, payload: Mapping[str, Any]) -> Presentation | Refusal: ...
