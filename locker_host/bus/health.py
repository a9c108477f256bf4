"""Per-board health: online -> suspect -> offline, re-probed with back-off.

Theory of operation. Every transaction with a board ends in a valid reply
(`REPLY`, an exception reply included: the board is alive) or in a fault
(`NO_REPLY`: timeout, bad CRC, noise...). One fault makes the board
`suspect` (its last readings are kept); `failures_until_offline` faults in a
row make it `offline` (its readings become unknown, DESIGN.md 4.7; with the
default 3 the last state survives two failed reads, Open-Locker ADR-0038).
An offline board is not polled: it is *probed* once when `probe_at` comes,
and each failed probe doubles the wait up to `backoff_max`, so a dead board
costs at most one response timeout per back-off interval however fast the
others are polled (modbus-timing notes 1.3: a dead board must not stall the
bus). The first valid reply brings it back online at once. `PORT_RETURNED`
(the serial adapter came back after an outage) makes offline boards due for
a probe now: the outage, not the boards, was the problem.

Pure: the caller passes `now` (monotonic seconds). The transitions are one
table, `_TABLE`, keyed by (state, event); a missing pair is a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from .model import Health


class HealthEvent(StrEnum):
    REPLY = "reply"
    NO_REPLY = "no_reply"
    PORT_RETURNED = "port_returned"


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failures_until_offline: int = 3
    backoff_initial: float = 1.0  # seconds before the first probe of an offline board
    backoff_max: float = 30.0

    def __post_init__(self) -> None:
        if self.failures_until_offline < 1:
            raise ValueError("failures_until_offline must be at least 1")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValueError("need 0 < backoff_initial <= backoff_max")


@dataclass(frozen=True, slots=True)
class BoardHealth:
    state: Health = Health.UNKNOWN
    failures: int = 0  # faults in a row
    backoff: float = 0.0  # the current probe interval (offline only)
    probe_at: float | None = None  # when an offline board may be tried again

    def due(self, now: float) -> bool:
        """May a transaction go to this board now? Always, unless offline
        and its probe is not due yet."""
        return self.probe_at is None or now >= self.probe_at


Transition = Callable[[BoardHealth, HealthPolicy, float], BoardHealth]


def _back_online(h: BoardHealth, p: HealthPolicy, now: float) -> BoardHealth:
    return BoardHealth(Health.ONLINE)


def _unchanged(h: BoardHealth, p: HealthPolicy, now: float) -> BoardHealth:
    return h


def _count_failure(h: BoardHealth, p: HealthPolicy, now: float) -> BoardHealth:
    failures = h.failures + 1
    if failures < p.failures_until_offline:
        return BoardHealth(Health.SUSPECT, failures)
    return BoardHealth(Health.OFFLINE, failures, p.backoff_initial, now + p.backoff_initial)


def _probe_failed(h: BoardHealth, p: HealthPolicy, now: float) -> BoardHealth:
    backoff = min(2 * h.backoff, p.backoff_max)
    return BoardHealth(Health.OFFLINE, h.failures + 1, backoff, now + backoff)


def _probe_now(h: BoardHealth, p: HealthPolicy, now: float) -> BoardHealth:
    return replace(h, backoff=p.backoff_initial, probe_at=now)


_TABLE: dict[tuple[Health, HealthEvent], Transition] = {
    (Health.UNKNOWN, HealthEvent.REPLY): _back_online,
    (Health.UNKNOWN, HealthEvent.NO_REPLY): _count_failure,
    (Health.UNKNOWN, HealthEvent.PORT_RETURNED): _unchanged,
    (Health.ONLINE, HealthEvent.REPLY): _back_online,
    (Health.ONLINE, HealthEvent.NO_REPLY): _count_failure,
    (Health.ONLINE, HealthEvent.PORT_RETURNED): _unchanged,
    (Health.SUSPECT, HealthEvent.REPLY): _back_online,
    (Health.SUSPECT, HealthEvent.NO_REPLY): _count_failure,
    (Health.SUSPECT, HealthEvent.PORT_RETURNED): _unchanged,
    (Health.OFFLINE, HealthEvent.REPLY): _back_online,
    (Health.OFFLINE, HealthEvent.NO_REPLY): _probe_failed,
    (Health.OFFLINE, HealthEvent.PORT_RETURNED): _probe_now,
}


def step(health: BoardHealth, event: HealthEvent, policy: HealthPolicy, now: float) -> BoardHealth:
    return _TABLE[(health.state, event)](health, policy, now)
