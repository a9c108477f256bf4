"""One thread per reader, and the hand-over of its readings to asyncio.

Serial ports and input devices are blocking file descriptors, so each
reader owns one thread. The thread opens the device (`open_session`), polls
the session until it fails, closes it, waits, and opens it again: the wait
doubles from `Backoff.initial` to `Backoff.maximum` while the device stays
away, and starts over after a session that worked. Device errors are
translated into `DeviceError` in one place per kind of device (`serial_port`,
`hid`); anything else escaping a session is a bug, ends the thread, and is
raised from `readings()`.

Availability is tracked here, not in the sessions: a session reports every
fault it sees, and the runner passes on only the fault that starts an
outage (a reader that stays unplugged for an hour reports it once) and
reports `ReaderReady` when the session says it is healthy again.

Readings cross to the event loop with `call_soon_threadsafe` into a bounded
queue; when nobody reads them the oldest are dropped and counted: a swipe
from minutes ago must not open a compartment now.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import FaultCode, ReaderFault, ReaderReady, Reading
from .port import ReaderStatistics

logger = logging.getLogger(__name__)

_JOIN_TIMEOUT = 5.0


class DeviceError(Exception):
    """A device could not be opened or failed: becomes a ReaderFault."""

    def __init__(self, code: FaultCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Session(Protocol):
    """One open device. Runs on the reader's thread only."""

    @property
    def healthy(self) -> bool:
        """The device answers and can read cards (a SAM may be open but refusing)."""
        ...

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        """Wait for and handle input for a short while (well under a second).

        Raises DeviceError when the device fails.
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5  # seconds before the first reopen
    maximum: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("back-off needs 0 < initial <= maximum")


_END = object()


class ThreadedReader:
    """A ReaderPort around sessions that block (see the module docstring)."""

    def __init__(
        self,
        name: str,
        open_session: Callable[[], Session],
        *,
        backoff: Backoff | None = None,
        queue_size: int = 16,
        line: Mapping[str, int] | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._details = details  # what the sessions learnt of the device (a SAM id)
        self._line = line  # the sessions' own counters (a SAM reader's garbled replies, ...)
        self._open_session = open_session
        self._backoff = backoff or Backoff()
        self._queue_size = queue_size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Reading | object] | None = None
        self._error: BaseException | None = None
        self._error_raised = False
        self._available: bool | None = None
        self._counts = {"readings": 0, "faults": 0, "opens": 0, "open_failures": 0, "dropped": 0}
        self._last_fault: FaultCode | None = None
        self._faults_by_code: Counter[str] = Counter()

    # -- the port -------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError(f"reader {self.name} was started already")
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._thread.start()

    async def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, _JOIN_TIMEOUT)
        if self._queue is not None:
            self._queue.put_nowait(_END)
        if self._error is not None and not self._error_raised:
            self._error_raised = True
            raise self._error

    async def readings(self) -> AsyncIterator[Reading]:
        if self._queue is None:
            raise RuntimeError(f"reader {self.name} is not started")
        while True:
            item = await self._queue.get()
            if item is _END:
                if self._error is not None and not self._error_raised:
                    self._error_raised = True
                    raise self._error
                return
            assert isinstance(item, Reading)
            yield item

    def statistics(self) -> ReaderStatistics:
        counts = self._counts
        return ReaderStatistics(
            name=self.name,
            available=self._available,
            readings=counts["readings"],
            faults=counts["faults"],
            opens=counts["opens"],
            open_failures=counts["open_failures"],
            dropped=counts["dropped"],
            last_fault=self._last_fault,
            faults_by_code=dict(self._faults_by_code),
            line={} if self._line is None else dict(self._line),
            details={} if self._details is None else dict(self._details),
        )

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop_forever()
        except BaseException as error:  # not swallowed: readings() and stop() raise it
            self._error = error
            logger.critical("reader %s stopped by a bug: %r", self.name, error)
            self._post(_END)

    def _loop_forever(self) -> None:
        delay = self._backoff.initial
        while not self._stop.is_set():
            try:
                session = self._open_session()
            except DeviceError as problem:
                self._counts["open_failures"] += 1
                self._emit(ReaderFault(problem.code, problem.message, self.name))
                self._stop.wait(delay)
                delay = min(delay * 2, self._backoff.maximum)
                continue
            self._counts["opens"] += 1
            try:
                worked = self._serve(session)
            finally:
                session.close()
            delay = self._backoff.initial if worked else min(delay * 2, self._backoff.maximum)
            self._stop.wait(delay)

    def _serve(self, session: Session) -> bool:
        """Poll until stopped or the device fails; whether it was ever healthy."""
        worked = False
        try:
            while not self._stop.is_set():
                for reading in session.poll(self._stop):
                    self._emit(reading)
                if session.healthy:
                    worked = True
                    if self._available is not True:
                        self._available = True
                        self._emit(ReaderReady(self.name))
        except DeviceError as problem:
            self._emit(ReaderFault(problem.code, problem.message, self.name))
        return worked

    def _emit(self, reading: Reading) -> None:
        if isinstance(reading, ReaderFault):
            self._last_fault = reading.code
            if reading.code.makes_unavailable:
                if self._available is False:
                    logger.debug("%s (still unavailable)", reading)
                    return
                self._available = False
            self._counts["faults"] += 1
            self._faults_by_code[reading.code.value] += 1
            logger.warning("%s", reading)
        else:
            logger.info("%s", reading)
        self._counts["readings"] += 1
        self._post(reading)

    def _post(self, item: Reading | object) -> None:
        loop = self._loop
        assert loop is not None
        try:
            loop.call_soon_threadsafe(self._deliver, item)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stop.set()

    def _deliver(self, item: Reading | object) -> None:
        queue = self._queue
        assert queue is not None
        if item is not _END and queue.qsize() >= self._queue_size:
            queue.get_nowait()
            self._counts["dropped"] += 1
        queue.put_nowait(item)
