"""The physical compartment: a lock, a door, what is inside, the sensors, and a person.

Theory of operation. A board output *drives* the lock coil; the bolt is
released while the coil is energised, unless the lock is jammed. The door
opens only when someone pulls it while the bolt is released (or forces it);
it closes whenever someone pushes it shut. Items go in and out only through
an open door.

Boards never see this truth directly: they see *signals*, the levels on
their input wires, which a faulty sensor may hold stuck or invert. So that a
board sampling at its own pace cannot miss a blip, every signal keeps a
count of its transitions (`door_edges`, `item_edges`); a board compares the
count with the one it saw last (a real board samples every millisecond; the
simulator's doors may open and close between two samples).

The person at the door is `UserBehaviour`: pull the door `auto_open_after`
seconds after the bolt releases, push it shut `auto_close_after` seconds
after it opened. Timers follow the aioquic shape: `next_deadline()` says
when something is due, `tick(now)` does it. Times are seconds on the
caller's monotonic clock.

Requests a person cannot carry out (open a locked door, take from an empty
compartment) raise `PhysicsRefused` naming the compartment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Size(StrEnum):
    S = "S"
    M = "M"
    L = "L"


class SensorMode(StrEnum):
    NORMAL = "normal"
    STUCK = "stuck"
    INVERTED = "inverted"


@dataclass(frozen=True, slots=True)
class SensorFault:
    mode: SensorMode = SensorMode.NORMAL
    # With STUCK: what the sensor keeps reporting, as a reading ("door
    # closed" for a door switch, "item present" for an item sensor).
    stuck_reading: bool = False

    def apply(self, truth: bool) -> bool:
        match self.mode:
            case SensorMode.NORMAL:
                return truth
            case SensorMode.INVERTED:
                return not truth
            case SensorMode.STUCK:
                return self.stuck_reading


@dataclass(frozen=True, slots=True)
class UserBehaviour:
    auto_open_after: float | None = None  # seconds after the bolt releases
    auto_close_after: float | None = None  # seconds after the door opened

    def __post_init__(self) -> None:
        for name in ("auto_open_after", "auto_close_after"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {value}")


class PhysicsRefused(Exception):
    """A person cannot do that to this compartment right now."""

    def __init__(self, code: str, compartment: str, message: str) -> None:
        super().__init__(f"{compartment}: {message}")
        self.code = code
        self.compartment = compartment


class Compartment:
    def __init__(self, compartment_id: str, size: Size) -> None:
        self.id = compartment_id
        self.size = size
        self.energised = False  # the coil, as the board output drives it
        self.jammed = False
        self.door_open = False
        self.items = 0
        self.user = UserBehaviour()
        self.door_sensor = SensorFault()
        self.item_sensor = SensorFault()
        # physical history, for people and tests
        self.opens = 0
        self.forced_opens = 0
        # signal transition counters, for boards
        self.door_edges = 0
        self.item_edges = 0
        # +1 on every change of state: a board re-reads this compartment's
        # signals only when it moved since its last sample
        self.version = 0
        self._released_at: float | None = None  # armed for the automatic user
        self._opened_at: float | None = None
        self._due: float | None = None  # next_deadline(), kept up to date by _changed
        self._listeners: list[Callable[[float | None], None]] = []
        self._last = self._signals()

    # -- what the wires carry -------------------------------------------

    @property
    def released(self) -> bool:
        return self.energised and not self.jammed

    @property
    def door_closed_signal(self) -> bool:
        return self.door_sensor.apply(not self.door_open)

    @property
    def item_signal(self) -> bool:
        return self.item_sensor.apply(self.items > 0)

    @property
    def lock_released_signal(self) -> bool:
        return self.released

    # -- the board's side -------------------------------------------------

    def add_listener(self, listener: Callable[[float | None], None]) -> None:
        """Call `listener(now)` after every change (now is None when the
        change came without a time: a sensor fault set by a tester)."""
        self._listeners.append(listener)

    def drive(self, energised: bool, now: float) -> None:
        was_released = self.released
        self.energised = energised
        self._after_lock_change(was_released, now)

    # -- a person's side --------------------------------------------------

    def open_door(self, now: float) -> None:
        self._need_closed("open")
        if not self.released:
            why = "jammed" if self.jammed and self.energised else "locked"
            raise PhysicsRefused("door_locked", self.id, f"the door is {why}; it will not open")
        self._open(now)

    def force_door(self, now: float) -> None:
        self._need_closed("force")
        self.forced_opens += 1
        self._open(now)

    def close_door(self, now: float) -> None:
        if not self.door_open:
            raise PhysicsRefused("door_already_closed", self.id, "the door is already closed")
        self.door_open = False
        self._opened_at = None
        self._changed(now)

    def put_item(self, now: float, count: int = 1) -> None:
        self._need_open("put an item in")
        if count < 1:
            raise PhysicsRefused("bad_count", self.id, f"count must be at least 1, got {count}")
        self.items += count
        self._changed(now)

    def take_item(self, now: float, count: int = 1) -> None:
        self._need_open("take an item out")
        if count < 1:
            raise PhysicsRefused("bad_count", self.id, f"count must be at least 1, got {count}")
        if self.items < count:
            raise PhysicsRefused(
                "no_item", self.id, f"holds {self.items} item(s), cannot take {count}"
            )
        self.items -= count
        self._changed(now)

    def jam(self, now: float) -> None:
        was_released = self.released
        self.jammed = True
        self._after_lock_change(was_released, now)

    def unjam(self, now: float) -> None:
        was_released = self.released
        self.jammed = False
        self._after_lock_change(was_released, now)

    def set_sensor(self, sensor: str, fault: SensorFault) -> None:
        if sensor == "door":
            self.door_sensor = fault
        elif sensor == "item":
            self.item_sensor = fault
        else:
            raise ValueError(f"sensor must be 'door' or 'item', not {sensor!r}")
        self._changed(None)

    def set_user(self, user: UserBehaviour) -> None:
        self.user = user
        self._due = self._deadline()

    # -- timers -------------------------------------------------------------

    def next_deadline(self) -> float | None:
        return self._due

    def tick(self, now: float) -> None:
        # Called for every compartment at every frame on the bus: the common
        # case, nothing due, must cost one comparison.
        if self._due is None or self._due > now:
            return
        open_at = self._auto_open_deadline()
        if open_at is not None and open_at <= now and self.released and not self.door_open:
            self._open(open_at)
        close_at = self._auto_close_deadline()
        if close_at is not None and close_at <= now:
            self.close_door(close_at)

    # -- internals -----------------------------------------------------------

    def _deadline(self) -> float | None:
        due = (self._auto_open_deadline(), self._auto_close_deadline())
        return min((d for d in due if d is not None), default=None)

    def _auto_open_deadline(self) -> float | None:
        # _released_at is cleared when the bolt locks again or the door opens
        if self.user.auto_open_after is None or self._released_at is None or self.door_open:
            return None
        return self._released_at + self.user.auto_open_after

    def _auto_close_deadline(self) -> float | None:
        if self.user.auto_close_after is None or self._opened_at is None:
            return None
        return self._opened_at + self.user.auto_close_after

    def _open(self, now: float) -> None:
        self.door_open = True
        self.opens += 1
        self._opened_at = now
        self._released_at = None  # one pull per release
        self._changed(now)

    def _after_lock_change(self, was_released: bool, now: float) -> None:
        if self.released and not was_released:
            self._released_at = now
        elif not self.released:
            self._released_at = None
        self._changed(now)

    def _need_closed(self, action: str) -> None:
        if self.door_open:
            raise PhysicsRefused("door_already_open", self.id, f"cannot {action}: already open")

    def _need_open(self, action: str) -> None:
        if not self.door_open:
            raise PhysicsRefused("door_closed", self.id, f"cannot {action}: the door is closed")

    def _signals(self) -> tuple[bool, bool]:
        return (self.door_closed_signal, self.item_signal)

    def _changed(self, now: float | None) -> None:
        door, item = self._signals()
        self.door_edges += door != self._last[0]
        self.item_edges += item != self._last[1]
        self._last = (door, item)
        self.version += 1
        self._due = self._deadline()
        for listener in self._listeners:
            listener(now)
