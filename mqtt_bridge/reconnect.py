"""Which broker to try next, how long to wait first, and whether our client id is taken.

Pure: no I/O, no clock of its own, no randomness of its own (the caller
passes ``now`` and a ``random`` source). ``link.py`` asks it from paho's
network thread before every (re)connect attempt, and tells it when a
connection was made and when it ended.

The back-off (docs/configuration.md, "[mqtt]", documents it for operators):

* The brokers of ``[mqtt] brokers`` are tried in turn. A connection that is
  lost is tried again on the same broker first (a blip must not move a fleet);
  every attempt that fails moves on to the next broker.
* Before an attempt the link waits ``uniform(ceiling / 2, ceiling)`` ("equal
  jitter"): lockers that lost the same broker at the same moment come back
  spread over half the ceiling, never in lockstep, and never sooner than
  half of it. ``ceiling`` is ``reconnect_min_s`` after a lost connection and
  doubles with every full round of the list that failed, up to
  ``reconnect_max_s`` (the cap). A connection resets it.

The takeover watch (docs/fleet.md, "A client id used twice"): a broker gives
a client id one session, and a second client connecting with it takes that
session over (MQTT 5 section 3.1.4: the broker closes the first one's
connection, in MQTT 5 after a DISCONNECT with reason 0x8E "Session taken
over", which Mosquitto 2.0 does not send). Two lockers with the same id (a
cloned SD card) then take it from each other at every reconnect, each one's
commands landing on the other's session. A connection that merely ends soon
after it began proves little (a flapping link does that too), so the signs
are these:

* the reason "Session taken over";
* a ``status`` on the locker's own topic from a boot that is not one of its
  own, delivered by a broker that had already delivered this start's own
  status back, so published after ours (``bridge.py`` reads it; the other
  holder publishes its status as soon as it connects, and it is retained). A
  status published before ours reached that broker is history, not a sign:
  the locker this one replaced, on a new database, or one left on a cluster
  node whose retained store is its own;
* the takeover loop itself: ``LOOP_SIGNS`` connections in a row that the
  broker accepted and then closed (an orderly close, ``CLOSED_BY_BROKER``:
  not a reset, not our keepalive running out) soon after accepting them,
  with no failed attempt in between. "Soon" is the other holder's way back:
  kicked out by our connection, it waits at most ``reconnect_min_s`` and
  connects, which closes ours; so within ``2 * reconnect_min_s +
  LOOP_MARGIN_S``. A broker that goes away (killed, restarted, a node of a
  cluster lost) fails the next attempt unless it is back within half of
  ``reconnect_min_s``; a broken path resets connections or lets them time
  out. This is the sign a cluster gives: there the two holders share one
  session queue, so each consumes its own status, and a retained status
  stays on the node it was published on, so neither may ever see the
  other's (docs/fleet.md). It is one-sided: the holder that sees it first
  backs off, and the other one's connections then last until that one's next
  attempt, minutes, no longer "soon".

One sign raises the conflict: the alarm ``client_id_conflict`` and a wait of
``takeover_backoff_s`` (jittered the same way) before every attempt, so that
the other holder keeps the session most of the time instead of both losing it
every second. The conflict ends after a connection survives twice that
back-off without a new sign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TAKEN_OVER = "Session taken over"  # paho's name of MQTT 5 reason code 0x8E
CLOSED_BY_BROKER = "closed by the broker"  # an orderly close with no reason given (link.py)
LOOP_SIGNS = 4  # connections in a row closed by the broker soon after it accepted them
LOOP_MARGIN_S = 3.0  # "soon": the other holder's wait (reconnect_min_s at most) and connect


@dataclass(frozen=True)
class Broker:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Attempt:
    broker: Broker
    wait_s: float


class Reconnects:
    def __init__(
        self,
        brokers: tuple[Broker, ...],
        *,
        min_s: float,
        max_s: float,
        takeover_backoff_s: float,
        random: Callable[[], float],
    ) -> None:
        if not brokers:
            raise ValueError("at least one broker")
        self._brokers = brokers
        self._min_s = min_s
        self._max_s = max_s
        self._takeover_backoff_s = takeover_backoff_s
        self._soon_s = 2 * min_s + LOOP_MARGIN_S  # "soon after it accepted them"
        self._random = random
        self._index = 0
        self._failed = 0  # attempts failed since the last connection
        self._lost = False  # the last connection was lost (rather than an attempt failed)
        self._connected_at: float | None = None
        self._last_sign: float | None = None
        self._closed_soon = 0  # connections in a row closed by the broker within soon_s
        self.conflict = False
        self.takeovers = 0  # signs seen, in all

    @property
    def broker(self) -> Broker:
        """The broker connected to, or to be tried next."""
        return self._brokers[self._index]

    def connected(self, now: float) -> None:
        self._connected_at = now
        self._failed = 0

    def disconnected(self, now: float, *, reason: str) -> str | None:
        """A connection ended. Returns the takeover sign it completed, if any."""
        started, self._connected_at = self._connected_at, None
        if started is None:
            return None
        self._lost = True
        if reason == TAKEN_OVER:
            self.taken_over(now)
            return f"the broker said {TAKEN_OVER!r}"
        if reason == CLOSED_BY_BROKER and now - started < self._soon_s:
            self._closed_soon += 1
        else:
            self._closed_soon = 0
        if self._closed_soon >= LOOP_SIGNS:
            self.taken_over(now)
            return (
                f"the broker closed {self._closed_soon} connections in a row within "
                f"{self._soon_s:g} s of accepting them"
            )
        self.in_conflict(now, connected_since=started)
        return None

    def taken_over(self, now: float) -> None:
        """A decisive sign that another client uses our client id."""
        self.takeovers += 1
        self._last_sign = now
        self.conflict = True

    def in_conflict(self, now: float, *, connected_since: float | None = None) -> bool:
        """The alarm, ended once a connection has lasted twice the takeover back-off
        since the last sign."""
        since = self._connected_at if connected_since is None else connected_since
        if self.conflict and since is not None:
            quiet_from = max(since, self._last_sign or since)
            if now - quiet_from >= 2 * self._takeover_backoff_s:
                self.conflict = False
        return self.conflict

    def next_attempt(self) -> Attempt:
        """Where to connect next and how long to wait before (called before every attempt)."""
        if self._lost:
            self._lost = False
            ceiling = self._min_s
        else:
            self._failed += 1
            self._closed_soon = 0  # a broker that refuses or is gone: no loop of takeovers
            self._index = (self._index + 1) % len(self._brokers)
            rounds = (self._failed - 1) // len(self._brokers)
            ceiling = min(self._max_s, self._min_s * 2.0 ** min(rounds, 32))
        if self.conflict:
            ceiling = max(ceiling, self._takeover_backoff_s)
        return Attempt(self.broker, ceiling * (0.5 + 0.5 * self._random()))
