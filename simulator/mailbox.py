"""Calls for a front's own thread, and a pipe that wakes its `select()`.

Each front (a bus line, the card reader) owns its device from one thread;
other threads hand it work through a mailbox and wait for the result.
"""

from __future__ import annotations

import contextlib
import os
import queue
from collections.abc import Callable
from concurrent.futures import Future


class Mailbox:
    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._calls: queue.SimpleQueue[tuple[Callable[[], None], Future[None]]]
        self._calls = queue.SimpleQueue()

    def fileno(self) -> int:
        """Readable when the owning thread should wake up (for `select`)."""
        return self._read

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full: awake already; closed: stopping
            os.write(self._write, b"!")

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 64):
                pass

    def call(self, fn: Callable[[], None], *, owner_running: bool) -> None:
        """Run `fn` on the owning thread and wait for it (here, if it is not running)."""
        if not owner_running:
            fn()
            return
        done: Future[None] = Future()
        self._calls.put((fn, done))
        self.wake()
        done.result(timeout=5)

    def run_calls(self) -> None:
        """On the owning thread: run what was posted, hand back results or errors."""
        while True:
            try:
                fn, done = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception as exc:
                done.set_exception(exc)
            else:
                done.set_result(None)

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)
