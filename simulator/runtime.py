"""The running simulator: the world, one paced front per bus, a timer thread
and the control channel, sharing one lock.

`Simulator` is the `commands.Context` the commands act on. Threads:
    line-<bus>   one per bus (front.py): bytes in, paced bytes out
    timers       runs the world's timers (pulses ending, the simulated person)
                 when nothing else does
    control      JSON lines (control.py), one thread per connection
    card-reader  the simulated ID-card reader on its own pty (reader_front.py)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from .commands import dispatch
from .control import ControlServer
from .engines import start_engine
from .front import LineFront
from .layout import Layout
from .reader import SimulatedCardReader
from .reader_front import ReaderFront
from .scenario import parse_scenario, run_scenario
from .staff_reader import DEFAULT_LINKS, StaffReaderFront
from .world import World

MAX_TIMER_WAIT = 1.0


class Simulator:
    def __init__(
        self,
        layout: Layout,
        run_dir: Path,
        *,
        links: Mapping[str, Path] | None = None,
        control_port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._world = World(layout, clock(), start_engine(layout.engine))
        try:
            self.fronts: dict[str, LineFront] = {}
            links = links or {}
            for i, bus in enumerate(layout.buses):
                link = bus.link or links.get(bus.name) or run_dir / f"ttyLOCKER{i}"
                line = self._world.lines[bus.name]
                self.fronts[bus.name] = LineFront(
                    bus.name, line, self._lock, link, tcp_port=bus.tcp_port, clock=clock
                )
            self.card_reader: ReaderFront | None = None
            if layout.reader is not None:
                reader_link = layout.reader.link or run_dir / "ttyIDCARD0"
                model = SimulatedCardReader(model=layout.reader.model)
                self.card_reader = ReaderFront(model, self._lock, reader_link, clock=clock)
            self.staff_reader: StaffReaderFront | None = None
            if (staff := layout.staff_reader) is not None:
                staff_link = staff.link or run_dir / DEFAULT_LINKS[staff.kind]
                self.staff_reader = StaffReaderFront(staff.kind, staff_link)
            self.control = ControlServer(lambda request: dispatch(self, request), control_port)
        except BaseException:
            self._world.close()
            raise
        self._poked = threading.Event()
        self._timer_error: BaseException | None = None
        self._stopping = False
        self._timers = threading.Thread(target=self._run_timers, name="timers", daemon=True)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        for front in self.fronts.values():
            front.start()
        if self.card_reader is not None:
            self.card_reader.start()
        if self.staff_reader is not None:
            self.staff_reader.start()
        self._timers.start()
        self.control.start()

    def stop(self) -> None:
        self._stopping = True
        self._poked.set()
        self.control.stop()
        for front in self.fronts.values():
            front.stop()
        if self.card_reader is not None:
            self.card_reader.stop()
        if self.staff_reader is not None:
            self.staff_reader.stop()
        if self._timers.is_alive():
            self._timers.join(timeout=5)
        self._world.close()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def failure(self) -> BaseException | None:
        """The error that stopped a line's thread or the timer thread, if one did."""
        errors = [f.error for f in self.fronts.values()] + [self._timer_error]
        if self.card_reader is not None:
            errors.append(self.card_reader.error)
        return next((e for e in errors if e is not None), None)

    def _run_timers(self) -> None:
        try:
            self._timer_loop()
        except BaseException as exc:  # surfaced by failure()
            self._timer_error = exc
            raise

    def _timer_loop(self) -> None:
        while not self._stopping:
            with self._lock:
                now = self.clock()
                self._world.advance(now)
                due = self._world.next_deadline()
            wait = MAX_TIMER_WAIT if due is None else min(MAX_TIMER_WAIT, due - self.clock())
            if wait > 0:
                self._poked.wait(wait)
            self._poked.clear()

    # -- commands.Context -----------------------------------------------------------------

    @property
    def world(self) -> World:
        return self._world

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def now(self) -> float:
        return self.clock()

    def poke(self) -> None:
        self._poked.set()

    def bus_info(self, bus: str) -> dict[str, object]:
        return self.fronts[bus].info()

    def unplug(self, bus: str) -> None:
        self.fronts[bus].unplug()

    def replug(self, bus: str) -> None:
        self.fronts[bus].replug()

    def run_steps(self, text: str) -> dict[str, object]:
        with self._lock:
            name, steps = parse_scenario(text, self._world)
        return run_scenario(
            name, steps, lambda request: dispatch(self, request), self.clock, time.sleep
        )
