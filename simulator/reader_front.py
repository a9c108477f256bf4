"""Serve the simulated card reader on its own pseudo-terminal.

One thread: it waits in `select` for the host's bytes, a wake-up, or the
time the pending reply is due; cuts request frames (`RequestFramer`); asks
the model under the simulator's lock; and writes each reply in one go when
its last byte would have left the reader (work time + wire time at the
model's baud). One exchange at a time, like a SAM_V: a command that arrives
while a reply is pending is answered after it.

Unplug and replug run on this thread between two turns of the loop (never
under a descriptor `select` is watching), like the bus fronts do; the link
(e.g. `<run dir>/ttyIDCARD0`) is `pty_port`'s stable symlink.
"""

from __future__ import annotations

import select
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from .mailbox import Mailbox
from .pty_port import PtyPort
from .reader import RequestFramer, SimulatedCardReader

_MAX_WAIT = 0.5  # seconds: the card's hold time is checked at least this often


class ReaderFront:
    def __init__(
        self,
        model: SimulatedCardReader,
        lock: AbstractContextManager[Any],
        link: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.pty = PtyPort(link)
        self.error: BaseException | None = None
        self._lock = lock
        self._clock = clock
        self._framer = RequestFramer()
        self._pending: deque[tuple[float, bytes]] = deque()  # (due, reply)
        self._mailbox = Mailbox()
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="card-reader", daemon=True)

    def start(self) -> None:
        self.pty.plug()
        self._thread.start()

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.pty.unplug()
        self._mailbox.close()

    def unplug(self) -> None:
        self._call(self._unplug)

    def replug(self) -> None:
        self._call(self.pty.plug)

    def now(self) -> float:
        return self._clock()

    def wake(self) -> None:
        """The model changed (a card placed or removed): recompute the deadline."""
        self._mailbox.wake()

    def info(self) -> dict[str, object]:
        with self._lock:
            model = self.model.snapshot()
        return {
            "serial": str(self.pty.link),
            "device": self.pty.device,
            "plugged": self.pty.plugged,
            "baud": self.model.baud,
            "dropped_bytes": self.pty.dropped,
            "error": None if self.error is None else repr(self.error),
            **model,
        }

    # -- the thread ----------------------------------------------------------------

    def _unplug(self) -> None:
        self.pty.unplug()
        self._pending.clear()  # what was in flight is lost with the cable
        self._framer = RequestFramer()

    def _call(self, fn: Callable[[], None]) -> None:
        self._mailbox.call(fn, owner_running=self._thread.is_alive())

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._mailbox.run_calls()
                self._send_due()
                self._wait()
        except BaseException as exc:  # surfaced by info() and the runtime
            self.error = exc
            raise

    def _send_due(self) -> None:
        now = self._clock()
        while self._pending and self._pending[0][0] <= now:
            self.pty.write(self._pending.popleft()[1])

    def _wait(self) -> None:
        now = self._clock()
        with self._lock:
            self.model.tick(now)
            due = [t for t in (self.model.next_deadline(),) if t is not None]
        if self._pending:
            due.append(self._pending[0][0])
        timeout = min([_MAX_WAIT, *(max(0.0, t - now) for t in due)])
        watched: list[Any] = [self._mailbox]
        if self.pty.plugged:
            watched.append(self.pty)
        readable, _, _ = select.select(watched, [], [], timeout)
        if self._mailbox in readable:
            self._mailbox.drain()
        if self.pty in readable:
            self._on_bytes(self.pty.read())

    def _on_bytes(self, data: bytes) -> None:
        if not data:
            return
        now = self._clock()
        start = max([now, *(t for t, _ in self._pending)])
        for frame in self._framer.feed(data):
            with self._lock:
                answered = self.model.answer(frame, now)
            if answered is not None:
                reply, duration = answered
                start += duration
                self._pending.append((start, reply))
