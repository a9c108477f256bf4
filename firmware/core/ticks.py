"""Wrapping microsecond ticks, as MicroPython's time.ticks_us gives them.

ticks_us() counts modulo TICKS_PERIOD (2**30 on every MicroPython port: the
largest value that stays a small int, so tick arithmetic never allocates).
A difference is only meaningful between ticks less than half a period apart
(about 9 minutes); every interval the core measures is shorter than 11 s.
The same rule as time.ticks_diff / ticks_add, written out so that the core
runs unchanged under CPython.
"""

TICKS_PERIOD = 1 << 30
TICKS_MASK = TICKS_PERIOD - 1
_HALF = TICKS_PERIOD >> 1


def diff(later: int, earlier: int) -> int:
    """later - earlier, signed, across the wrap."""
    return ((later - earlier + _HALF) & TICKS_MASK) - _HALF


def add(ticks: int, delta: int) -> int:
    return (ticks + delta) & TICKS_MASK
