"""Seeded fault injection for one board's replies.

A `FaultProfile` gives a probability per fault; `mangle` decides, with the
board's own `random.Random`, what happens to one reply. Every reply draws
the same number of random values in the same order, whatever the outcome,
so one seed gives one sequence of faults for one sequence of requests.

Kinds (what a host meets on a real bus):
    no_reply     the board executed the request but its reply never came
    late         the reply comes `late_delay` seconds after it should
    bad_crc      the last check byte (CRC or SUM) is wrong
    wrong_unit   a well-formed reply from another unit address (the bus
                 protocol's `readdress`: dialects.py)
    noise        1..8 random bytes on the line just before the reply
A board that is *offline* is not a fault of a reply: the line does not hand
it frames at all (see line.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("no_reply", "late", "bad_crc", "wrong_unit", "noise")
MAX_LATE_DELAY = 10.0


@dataclass(frozen=True, slots=True)
class FaultProfile:
    no_reply: float = 0.0
    late: float = 0.0
    bad_crc: float = 0.0
    wrong_unit: float = 0.0
    noise: float = 0.0
    late_delay: float = 0.2  # seconds
    seed: int = 0

    def __post_init__(self) -> None:
        for kind in KINDS:
            rate = getattr(self, kind)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{kind}: rate {rate} is outside 0..1")
        if not 0.0 <= self.late_delay <= MAX_LATE_DELAY:
            raise ValueError(f"late_delay: {self.late_delay} s is outside 0..{MAX_LATE_DELAY}")

    @property
    def active(self) -> bool:
        return any(getattr(self, kind) > 0 for kind in KINDS)

    def rng(self, unit: int) -> random.Random:
        # string seeds hash with SHA-512: stable across runs and Python builds
        return random.Random(f"locker-sim:{self.seed}:{unit}")


@dataclass(frozen=True, slots=True)
class Mangled:
    frame: bytes | None  # None: the reply is lost
    delay: float  # extra seconds before it starts
    noise: bytes  # sent just before the frame
    kinds: tuple[str, ...]


def mangle(
    reply: bytes,
    profile: FaultProfile,
    rng: random.Random,
    readdress: Callable[[bytes, int], bytes],
) -> Mangled:
    draws = {kind: rng.random() < getattr(profile, kind) for kind in KINDS}
    noise_len = rng.randint(1, 8)
    noise = rng.randbytes(noise_len)
    other_unit = rng.randint(1, 246)
    crc_mask = rng.randint(1, 255)
    kinds = tuple(kind for kind in KINDS if draws[kind])
    if draws["no_reply"]:
        return Mangled(None, 0.0, b"", ("no_reply",))
    frame = reply
    if draws["wrong_unit"]:
        frame = readdress(frame, other_unit)
    if draws["bad_crc"]:
        frame = frame[:-1] + bytes((frame[-1] ^ crc_mask,))
    return Mangled(
        frame,
        profile.late_delay if draws["late"] else 0.0,
        noise if draws["noise"] else b"",
        kinds,
    )
