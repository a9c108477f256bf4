"""The open lifecycle: one unlock with a purpose, an actor and an outcome.

"Unlock acknowledged is not door opened" (DESIGN.md section 4.7; Open-Locker
ADR-0040). An open starts PULSED, or OPEN when the door already reads open
(outcome ``already_open``: the lock is pulsed anyway, because sensors and
cables fail, Open-Locker #302), or OPEN with outcome ``assumed_open`` when the
compartment has no door switch::

    PULSED ──DOOR_OPENED──> OPEN ──DOOR_CLOSED──> CLOSED  (resolve by item sensor)
      │                      ├──DOOR_CLOSED_UNSENSED──> AWAITING_CONFIRMATION
      TIMEOUT (read board)   └──HAND_CONFIRMED / TIMEOUT (no door switch)──> CLOSED
      ▼                                        AWAITING_CONFIRMATION ──HAND_CONFIRMED──> CLOSED
    CONFIRMING ──READ_SHUT──> RETRIED (one more pulse) ──TIMEOUT──> JAMMED
      └──TIMEOUT (no answer)──> UNKNOWN
    any but AWAITING ──BOARD_LOST / RESTARTED──> UNKNOWN (never re-executed)

CLOSED, JAMMED and UNKNOWN are terminal: the aggregate resolves the open (see
``closing.py``) and forgets it. A pair missing from the table is refused
(``InvalidTransition``): only ``HAND_CONFIRMED`` before the door has opened,
and anything in a terminal state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .actors import Actor
from .errors import InvalidTransition
from .ids import CompartmentId, ItemId, OpenId


class Purpose(StrEnum):
    """Why a door is opened (DESIGN.md section 3)."""

    DEPOSIT = "deposit"
    PICKUP = "pickup"
    LOAD = "load"
    COLLECT = "collect"
    RECALL = "recall"
    MAINTENANCE = "maintenance"
    REMOTE = "remote"


class OpenState(StrEnum):
    PULSED = "pulsed"
    CONFIRMING = "confirming"
    RETRIED = "retried"
    OPEN = "open"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CLOSED = "closed"
    JAMMED = "jammed"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in (OpenState.CLOSED, OpenState.JAMMED, OpenState.UNKNOWN)


class OpenInput(StrEnum):
    DOOR_OPENED = "door_opened"
    DOOR_CLOSED = "door_closed"
    DOOR_CLOSED_UNSENSED = "door_closed_unsensed"  # closed; the compartment has no item sensor
    READ_SHUT = "read_shut"  # a board read shows the door still shut
    TIMEOUT = "timeout"
    HAND_CONFIRMED = "hand_confirmed"
    BOARD_LOST = "board_lost"  # board offline, or the pulse was not acknowledged
    RESTARTED = "restarted"


class Outcome(StrEnum):
    """How the door came to be open (open.opened); a door that never opened ends
    its open with open.jammed or open.outcome_unknown instead."""

    OPENED = "opened"
    ALREADY_OPEN = "already_open"
    ASSUMED_OPEN = "assumed_open"  # no door switch


class Action(StrEnum):
    NONE = "none"
    OPENED = "opened"  # record outcome "opened", arm nothing (the ajar timer is physical)
    READ_BOARD = "read_board"
    PULSE_AGAIN = "pulse_again"
    AWAIT_HAND = "await_hand"
    RESOLVE = "resolve"  # closed: resolve with the sensor or the person's confirmation
    RESOLVE_DEFAULT = "resolve_default"  # closed: nobody confirmed, apply the default rule
    JAMMED = "jammed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Step:
    state: OpenState
    action: Action


P, In = OpenState, OpenInput
_IGNORE = Action.NONE

TRANSITIONS: Final[dict[tuple[OpenState, OpenInput], Step]] = {
    (P.PULSED, In.DOOR_OPENED): Step(P.OPEN, Action.OPENED),
    (P.PULSED, In.DOOR_CLOSED): Step(P.PULSED, _IGNORE),
    (P.PULSED, In.DOOR_CLOSED_UNSENSED): Step(P.PULSED, _IGNORE),
    (P.PULSED, In.READ_SHUT): Step(P.PULSED, _IGNORE),
    (P.PULSED, In.TIMEOUT): Step(P.CONFIRMING, Action.READ_BOARD),
    (P.PULSED, In.BOARD_LOST): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.PULSED, In.RESTARTED): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.CONFIRMING, In.DOOR_OPENED): Step(P.OPEN, Action.OPENED),
    (P.CONFIRMING, In.DOOR_CLOSED): Step(P.CONFIRMING, _IGNORE),
    (P.CONFIRMING, In.DOOR_CLOSED_UNSENSED): Step(P.CONFIRMING, _IGNORE),
    (P.CONFIRMING, In.READ_SHUT): Step(P.RETRIED, Action.PULSE_AGAIN),
    (P.CONFIRMING, In.TIMEOUT): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.CONFIRMING, In.BOARD_LOST): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.CONFIRMING, In.RESTARTED): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.RETRIED, In.DOOR_OPENED): Step(P.OPEN, Action.OPENED),
    (P.RETRIED, In.DOOR_CLOSED): Step(P.RETRIED, _IGNORE),
    (P.RETRIED, In.DOOR_CLOSED_UNSENSED): Step(P.RETRIED, _IGNORE),
    (P.RETRIED, In.READ_SHUT): Step(P.RETRIED, _IGNORE),
    (P.RETRIED, In.TIMEOUT): Step(P.JAMMED, Action.JAMMED),
    (P.RETRIED, In.BOARD_LOST): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.RETRIED, In.RESTARTED): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.OPEN, In.DOOR_OPENED): Step(P.OPEN, _IGNORE),
    (P.OPEN, In.DOOR_CLOSED): Step(P.CLOSED, Action.RESOLVE),
    (P.OPEN, In.DOOR_CLOSED_UNSENSED): Step(P.AWAITING_CONFIRMATION, Action.AWAIT_HAND),
    (P.OPEN, In.READ_SHUT): Step(P.OPEN, _IGNORE),
    # Only armed for a compartment without a door switch: nobody said "closed".
    (P.OPEN, In.TIMEOUT): Step(P.CLOSED, Action.RESOLVE_DEFAULT),
    (P.OPEN, In.HAND_CONFIRMED): Step(P.CLOSED, Action.RESOLVE),
    (P.OPEN, In.BOARD_LOST): Step(P.UNKNOWN, Action.UNKNOWN),
    (P.OPEN, In.RESTARTED): Step(P.UNKNOWN, Action.UNKNOWN),
    # The door is shut; only the person's answer is missing, so a lost board changes nothing.
    (P.AWAITING_CONFIRMATION, In.DOOR_OPENED): Step(P.OPEN, _IGNORE),
    (P.AWAITING_CONFIRMATION, In.DOOR_CLOSED): Step(P.AWAITING_CONFIRMATION, _IGNORE),
    (P.AWAITING_CONFIRMATION, In.DOOR_CLOSED_UNSENSED): Step(P.AWAITING_CONFIRMATION, _IGNORE),
    (P.AWAITING_CONFIRMATION, In.READ_SHUT): Step(P.AWAITING_CONFIRMATION, _IGNORE),
    (P.AWAITING_CONFIRMATION, In.TIMEOUT): Step(P.CLOSED, Action.RESOLVE_DEFAULT),
    (P.AWAITING_CONFIRMATION, In.HAND_CONFIRMED): Step(P.CLOSED, Action.RESOLVE),
    (P.AWAITING_CONFIRMATION, In.BOARD_LOST): Step(P.AWAITING_CONFIRMATION, _IGNORE),
    (P.AWAITING_CONFIRMATION, In.RESTARTED): Step(P.CLOSED, Action.RESOLVE_DEFAULT),
}


def step(state: OpenState, event: OpenInput) -> Step:
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise InvalidTransition(
            f"an open that is {state.value} cannot take {event.value}",
            state=state.value,
            input=event.value,
        ) from None


@dataclass(frozen=True)
class Open:
    open_id: OpenId
    compartment: CompartmentId
    purpose: Purpose
    actor: Actor
    state: OpenState
    outcome: Outcome | None
    # The one timer of this open (confirm, retry or hand confirmation), monotonic clock.
    deadline_mono_s: float | None
    # The items this open was authorised to release (pickup, collect, recall).
    items: tuple[ItemId, ...] = ()
    reason: str = ""
