"""Effects: instructions for the shell, carried out after the decision is saved.

Events are not effects here: they go to the outbox in the same transaction as
the state (``Decision.events``); timers are not effects either: the shell asks
``next_deadline()`` after every decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ids import CompartmentId, OpenId
from .layout import BoardRef


@dataclass(frozen=True)
class PulseLock:
    """Pulse one lock; the board times the pulse (idempotent: repeating it is harmless)."""

    open_id: OpenId
    compartment: CompartmentId
    board: BoardRef
    channel: int
    duration_ms: int
    # Start this long after the decision is saved (staggered opens, ``stagger.py``).
    delay_ms: int


@dataclass(frozen=True)
class ReadBoard:
    """Read every input of a board now and report it as a ``BoardRead`` observation."""

    board: BoardRef
    open_id: OpenId | None


Effect = PulseLock | ReadBoard
