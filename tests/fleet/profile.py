"""How big the fleet tests are: the CI profile or the long one.

``LOCKER_FLEET=ci`` (``./run.sh fleet``) or ``=long`` (``./run.sh fleet --long``)
selects the numbers below; unset, tests/fleet is skipped and ``./run.sh test`` stays
short (a cluster takes about 20 s to start on a 2-core machine).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "LOCKER_FLEET"


@dataclass(frozen=True)
class Profile:
    name: str
    lockers: int
    runner_processes: int
    event_interval_s: float  # each locker makes one event this often, on average
    load_s: float  # traffic before the first fault and between faults
    consumers: int
    reconnect_within_s: float  # every locker connected again after a cluster restart
    # How often each locker's link looks at its outbox and state when nothing woke it
    # (``poll_interval_s``; every commit wakes it at once) and how often a runner reports.
    # lockerd's default is 0.5 s; a thousand lockers on two cores cannot all look twice
    # a second beside three broker nodes, so the long profile looks every 5 s.
    poll_s: float = 1.0
    status_every_s: float = 1.0
    # test_soak.py: faults of every kind in a random order for this long, with the load
    # running for a random time between fault_gap_s between two of them.
    soak_s: float = 0.0
    fault_gap_s: tuple[float, float] = (10.0, 20.0)


PROFILES = {
    "ci": Profile(
        "ci",
        lockers=50,
        runner_processes=1,
        event_interval_s=2.0,
        load_s=15.0,
        consumers=2,
        reconnect_within_s=60.0,
        soak_s=150.0,
    ),
    # paho's loop uses select() (file descriptors below 1024): ~169 lockers per process at
    # most, so 125 each.
    "long": Profile(
        "long",
        lockers=1000,
        runner_processes=8,
        event_interval_s=20.0,
        load_s=120.0,
        consumers=3,
        reconnect_within_s=60.0,
        poll_s=5.0,
        status_every_s=3.0,
        soak_s=1800.0,
        fault_gap_s=(30.0, 90.0),
    ),
}


def current() -> Profile | None:
    name = os.environ.get(ENV, "").strip()
    if not name:
        return None
    if name not in PROFILES:
        raise RuntimeError(f"{ENV}={name!r}: use one of {', '.join(PROFILES)}")
    return PROFILES[name]
