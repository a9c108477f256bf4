"""The whole simulated locker: compartments, and the boards on each line.

`World` is built from a `Layout` and stays pure: the shell calls
`advance(now)` (under its lock) and the world runs every timer that fell due
up to `now` in time order, boards and compartments interleaved, so that a
pulse that ended before the automatic user pulled the door leaves the door
shut, whatever the shell's scheduling did.
"""

from __future__ import annotations

from collections.abc import Iterator

from .boards import MODELS, Board, Site, Wired
from .dialects import DIALECTS
from .engines import CPythonEngine, Engine
from .layout import BoardSpec, BusSpec, CompartmentSpec, Layout, Wire
from .line import BoardSlot, Line
from .physics import Compartment, SensorFault, SensorMode

_MAX_STEPS = 100_000  # timers per advance; more means a timer that never moves on


class World:
    def __init__(self, layout: Layout, now: float, engine: Engine | None = None) -> None:
        self.layout = layout
        # where the reference boards' firmware runs (the shell starts a
        # MicroPython engine and hands it over); closed with the world
        self.engine: Engine = engine or CPythonEngine()
        self.compartments: dict[str, Compartment] = {}
        self.specs: dict[str, CompartmentSpec] = {}
        for spec in layout.compartments:
            comp = Compartment(spec.id, spec.size)
            comp.set_user(layout.user)
            self.compartments[spec.id] = comp
            self.specs[spec.id] = spec
        self.lines: dict[str, Line] = {}
        self._lock_slots: dict[str, BoardSlot] = {}
        for bus in layout.buses:
            line = Line(
                bus.format,
                bus.turnaround,
                before_dispatch=self.advance,
                dialect=DIALECTS[bus.dialect],
            )
            for board in bus.boards:
                slot = line.attach(self._build_board(bus, board, now))
                for spec in self.specs.values():
                    if spec.bus == bus.name and spec.lock.unit == board.unit:
                        self._lock_slots[spec.id] = slot
            self.lines[bus.name] = line
        self._now = now

    def _build_board(self, bus: BusSpec, spec: BoardSpec, now: float) -> Board:
        def wired(pick: str) -> list[Compartment | None]:
            found: list[Compartment | None] = [None] * spec.channels
            for c in self.specs.values():
                wire: Wire | None = getattr(c, pick)
                if c.bus == bus.name and wire is not None and wire.unit == spec.unit:
                    found[wire.channel - 1] = self.compartments[c.id]
            return found

        site = Site(now, bus.format, self.engine)
        return MODELS[spec.family](spec, Wired(wired("lock"), wired("door"), wired("item")), site)

    def close(self) -> None:
        """Stop the firmware engine (the MicroPython process, if any)."""
        self.engine.close()

    # -- time ----------------------------------------------------------------------

    def boards(self) -> Iterator[Board]:
        for line in self.lines.values():
            for slot in line.slots:
                yield slot.board

    def next_deadline(self) -> float | None:
        due = [b.next_deadline() for b in self.boards()]
        due += [c.next_deadline() for c in self.compartments.values()]
        return min((d for d in due if d is not None), default=None)

    def advance(self, now: float) -> None:
        if now < self._now:
            return
        for _ in range(_MAX_STEPS):
            due = self.next_deadline()
            if due is None or due > now:
                break
            self._tick(max(due, self._now))
        else:
            raise RuntimeError(f"timers did not settle by {now}")
        self._tick(now)

    def _tick(self, at: float) -> None:
        self._now = at
        for board in self.boards():
            board.tick(at)
        for comp in self.compartments.values():
            comp.tick(at)

    # -- lookups ----------------------------------------------------------------------

    def find_board(self, unit: int, bus: str | None = None) -> tuple[str, BoardSlot] | None:
        for name, line in self.lines.items():
            if bus is not None and name != bus:
                continue
            slot = line.slot(unit)
            if slot is not None:
                return name, slot
        return None

    def lock_slot(self, compartment_id: str) -> BoardSlot:
        """The board driving this compartment's lock (its unit may have changed since)."""
        return self._lock_slots[compartment_id]

    # -- what people see -----------------------------------------------------------------

    def snapshot(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for cid, comp in self.compartments.items():
            spec = self.specs[cid]
            slot = self.lock_slot(cid)
            rows.append(
                {
                    "id": cid,
                    "size": comp.size.value,
                    "bus": spec.bus,
                    "lock_wire": _wire(spec.lock),
                    "door_wire": _wire(spec.door),
                    "item_wire": _wire(spec.item),
                    "lock": "jammed" if comp.jammed else "released" if comp.released else "locked",
                    "energised": comp.energised,
                    "door": "open" if comp.door_open else "closed",
                    "items": comp.items,
                    "door_sensor": _sensor(comp.door_sensor, "closed", "open"),
                    "item_sensor": _sensor(comp.item_sensor, "present", "absent"),
                    "lock_board": slot.board.unit,
                    "board_online": slot.online,
                    "opens": comp.opens,
                    "forced_opens": comp.forced_opens,
                    "auto_open_after": comp.user.auto_open_after,
                    "auto_close_after": comp.user.auto_close_after,
                }
            )
        return rows


def _wire(wire: Wire | None) -> dict[str, int] | None:
    return None if wire is None else {"unit": wire.unit, "channel": wire.channel}


def _sensor(fault: SensorFault, yes: str, no: str) -> str:
    if fault.mode == SensorMode.STUCK:
        return f"stuck {yes if fault.stuck_reading else no}"
    return fault.mode.value
