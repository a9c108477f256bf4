"""How hard the reliability suite pushes: the CI profile or the long one.

``LOCKER_RELIABILITY=ci`` (``./run.sh reliability``) or ``=long``
(``./run.sh reliability --long``) selects the numbers below; unset, the
suite's heavy tests are skipped and the default ``./run.sh test`` stays short.
Fuzzers read ``LOCKER_FUZZ_EXAMPLES`` (tests/fuzz), which the same command sets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "LOCKER_RELIABILITY"


@dataclass(frozen=True)
class Profile:
    name: str
    fault_opens: int  # remote opens driven through a faulty bus
    crash_kills: int  # kill -9 of lockerd, each followed by a restart and the checks
    network_s: float  # seconds of traffic through a broken broker link
    clock_flows: int  # randomised service-level flows with day-long clock jumps
    power_cycles: int  # simulated power restores (every board and lockerd at once)


PROFILES = {
    "ci": Profile(
        "ci", fault_opens=60, crash_kills=20, network_s=120.0, clock_flows=30, power_cycles=3
    ),
    "long": Profile(
        "long", fault_opens=600, crash_kills=200, network_s=1800.0, clock_flows=500, power_cycles=30
    ),
}


def current() -> Profile | None:
    name = os.environ.get(ENV, "").strip()
    if not name:
        return None
    if name not in PROFILES:
        raise RuntimeError(f"{ENV}={name!r}: use one of {', '.join(PROFILES)}")
    return PROFILES[name]
