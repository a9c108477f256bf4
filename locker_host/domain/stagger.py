"""Staggering pulses that must happen together (a clerk collecting a department).

Every solenoid draws an inrush current; a board drives one relay at a time
reliably, and a power supply feeds a limited number at once (eform: one relay
at a time, >= 300 ms apart). Each pulse therefore occupies its board and its
power supply for ``duration + gap`` and gets a start delay such that at any
instant:

* a board drives at most one pulse,
* a power supply feeds at most ``max_per_supply`` pulses,
* the whole locker has at most ``max_simultaneous`` pulses.

Greedy in request order: the earliest start that fits is 0 or the end of an
already placed pulse, so only those points are tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .ids import PowerSupplyId
from .layout import BoardRef


@dataclass(frozen=True)
class PulseSlot:
    board: BoardRef
    power_supply: PowerSupplyId
    duration_ms: int


@dataclass(frozen=True)
class _Placed:
    start_ms: int
    end_ms: int  # exclusive; includes the gap
    board: BoardRef
    power_supply: PowerSupplyId


def stagger(
    slots: Sequence[PulseSlot], *, max_simultaneous: int, max_per_supply: int, gap_ms: int
) -> tuple[int, ...]:
    """Start delays in milliseconds, one per slot, in the order given."""
    placed: list[_Placed] = []
    delays: list[int] = []
    for slot in slots:
        length = slot.duration_ms + gap_ms
        for start in sorted({0, *(p.end_ms for p in placed)}):
            overlapping = [p for p in placed if p.start_ms < start + length and start < p.end_ms]
            same_supply = sum(p.power_supply == slot.power_supply for p in overlapping)
            if (
                len(overlapping) < max_simultaneous
                and same_supply < max_per_supply
                and all(p.board != slot.board for p in overlapping)
            ):
                break
        placed.append(_Placed(start, start + length, slot.board, slot.power_supply))
        delays.append(start)
    return tuple(delays)
