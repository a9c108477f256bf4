"""Serve one line on a pseudo-terminal and on TCP, paced at the line's baud.

Theory of operation. The line (line.py) says when each reply byte is due;
this shell writes it then, not earlier, so a host sees the last byte of a
reply when it would have arrived over real RS-485. asyncio's timers are
about 1 ms coarse, more than t3.5 at 115200 bps (1.75 ms), so each line has
its own thread: it sleeps in `select` until `SPIN` before the next due time
and then polls `select` with a zero timeout (which releases the GIL) until
the time comes.

Bytes from the host are time-stamped when they arrived, not when this
thread got round to reading them. A pty keeps no arrival times, and on a
busy machine the kernel wakes this thread when bytes arrive but may give
it a CPU milliseconds later: stamping at `read` then moved the first half
of a request with an inner pause (t1.5 < pause < t3.5) late enough to close
the pause, and the line served a frame a real slave discards (issue 14.6:
2 to 5 of 10 tries at 9600 on a loaded 2-core machine). So each wait in
`select` notes this thread's scheduler statistics
(/proc/thread-self/schedstat): its run delay, the time it has spent
runnable but waiting for a CPU, and how many times it was put on a CPU.
When bytes end a wait in which the thread got a CPU exactly once (the
wake-up), the delay that grew meanwhile is how long after their arrival the
thread ran, and is taken off the stamp (never earlier than the wait began).
More than once means it also waited for a CPU on its way into the wait:
`select` hands the GIL to an in-process host as it goes to sleep, and the
host may take the CPU from it there. The counts cannot split that wait from
the one after the wake, and taking both off stamped a request before the
host wrote it (a silence violation with no timeout, in CI on a loaded
machine); such a stamp stays late instead. A wait that did not sleep at all
but waited for a CPU before `select` looked, with the bytes arriving in
that wait, is corrected too far, down to the moment the wait began (rare).
What is not corrected: the GIL of an in-process host (waiting for it is
sleeping, not runnable); the kernel's own delivery of a pty's bytes (a
kernel worker thread flushes them to the reader, normally within 0.1 ms,
later when it too waits for a busy CPU); the waits left uncorrected above;
and a thread held off for longer than the pause
and the bytes after it, which finds both halves in the buffer at once and
cannot tell them apart. Held off for longer than the host's response
timeout, it also reads the request the host gave up on and the host's next
one together, and the line sees them glued or overlapping
(`silence_violations`, `collisions`, fewer `frames`) although the host left
its silence. Such counts come with a timeout on the host's side;
tests/bus/test_owner_faults.py holds them to that.

Spinning costs: on a busy machine a thread that spins is preempted for a
whole scheduler slice (milliseconds), while one that wakes from sleep is
scheduled at once. So the spin is short (the thread asks for ~1 us timer
slack instead of Linux's default 50 us), and at high baud rates reply bytes
leave in small groups, each group no earlier than its last byte is due and
never more than t1.5 after the previous one; the last byte of every reply is
released exactly on time.

All clock readings are `time.monotonic()` (CLOCK_MONOTONIC), so a host in
another process can compare its own timestamps with the line's records.

A host in another serial format than the line's. Before its bytes reach
the line, the host's settings are read from the pty (speed, stop bits, odd
parity: what a pty keeps, pty_port.py), and where they differ from the
line's, the bytes become what the boards' UARTs would read (uart.py):
garbage, with framing and parity errors counted in the line's statistics;
a frame with any is discarded. The line times those bytes at its own rate.
Replies going the other way become what the host's UART would read. Over
TCP there is no line to mismatch.

Port changes (unplug, replug) run on this thread between two turns of the
loop, never under a descriptor that `select` is watching.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from .line import Line
from .mailbox import Mailbox
from .pty_port import PtyPort
from .tcp_port import TcpPort
from .uart import receive, same_line

SPIN = 0.0001  # seconds before a due time when sleeping turns into polling
_PR_SET_TIMERSLACK = 29  # linux/prctl.h
PTY_SOURCE = "pty"


class LineFront:
    def __init__(
        self,
        name: str,
        line: Line,
        lock: AbstractContextManager[Any],
        link: Path,
        *,
        tcp_port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.line = line
        self.pty = PtyPort(link, line.format)
        self.tcp = TcpPort(tcp_port)
        self.error: BaseException | None = None
        self._lock = lock
        self._clock = clock
        self._mailbox = Mailbox()
        # Bytes of a reply may leave in groups, never more than t1.5 apart so
        # that a receiver still sees one frame: the thread wakes (and competes
        # for a CPU) less often at high baud rates.
        self._coalesce = max(0.0, line.format.t15 - line.format.char_time)
        self._stopping = False
        self._closed = False
        self._run_delay = RunDelay()  # opened by the line's thread, for itself
        self._arrived = 0.0  # when the bytes that ended the last wait arrived
        self._thread = threading.Thread(target=self._run, name=f"line-{name}", daemon=True)

    def start(self) -> None:
        self.pty.plug()
        self._thread.start()

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._mailbox.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.pty.unplug()
        self.tcp.close()
        self._mailbox.close()

    def unplug(self) -> None:
        self._call(self.pty.unplug)

    def replug(self) -> None:
        self._call(self.pty.plug)

    def info(self) -> dict[str, object]:
        fmt = self.line.format
        return {
            "serial": str(self.pty.link),
            "device": self.pty.device,
            "plugged": self.pty.plugged,
            "tcp": self.tcp.address,
            "baud": fmt.baud,
            "format": fmt.name,
            "host_format": self._host_format(),
            "turnaround": self.line.turnaround,
            "dropped_bytes": self.pty.dropped,
            "error": None if self.error is None else repr(self.error),
        }

    def _host_format(self) -> str | None:
        """The host's side of the pty as far as it tells (pty_port.py)."""
        if not self.pty.plugged:
            return None
        host = self.pty.host_format(self.line.format)
        return f"{host.baud} {host.name}"

    # -- the thread ------------------------------------------------------------------

    def _call(self, fn: Callable[[], None]) -> None:
        self._mailbox.call(fn, owner_running=self._thread.is_alive())

    def _run(self) -> None:
        _tight_timers()
        self._run_delay.open_for_this_thread()
        try:
            while not self._stopping:
                self._mailbox.run_calls()
                with self._lock:
                    now = self._clock()
                    self.line.advance(now)
                    out = self.line.take_output(now)
                    deadline = self.line.next_deadline(self._coalesce)
                for dest, data in out:
                    self._send(dest, data)
                for ready in self._wait(deadline):
                    self._on_readable(ready)
        except BaseException as exc:  # surfaced by info() and the runtime
            self.error = exc
            raise
        finally:
            self._run_delay.close()

    def _wait(self, deadline: float | None) -> list[Any]:
        watched: list[Any] = [self._mailbox, *self.tcp.sockets()]
        if self.pty.plugged:
            watched.append(self.pty)
        while True:
            timeout: float | None = None
            if deadline is not None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return []
                timeout = max(0.0, remaining - SPIN)
            before = self._run_delay.read() if timeout != 0 else None
            entered = self._clock()
            readable, _, _ = select.select(watched, [], [], timeout)
            if readable:
                now = self._clock()
                if before is not None:
                    late = self._run_delay.late_after_wake(before)
                    now = max(entered, now - late)
                self._arrived = now
                return readable

    def _on_readable(self, ready: Any) -> None:
        if ready is self._mailbox:
            self._mailbox.drain()
            return
        framing = parity = 0
        if ready is self.pty:
            data = self.pty.read()
            source = PTY_SOURCE
            host = self.pty.host_format(self.line.format)
            if data and not same_line(host, self.line.format):
                heard = receive(data, host, self.line.format)
                data, framing, parity = heard.data, heard.framing_errors, heard.parity_errors
        else:
            got = self.tcp.on_readable(ready)
            if got is None:
                return
            source, data = got
        if data or framing or parity:
            with self._lock:
                self.line.feed(
                    data, self._arrived, source, framing_errors=framing, parity_errors=parity
                )

    def _send(self, dest: object, data: bytes) -> None:
        if dest == PTY_SOURCE:
            host = self.pty.host_format(self.line.format)
            if not same_line(self.line.format, host):
                data = receive(data, self.line.format, host).data  # garbage to the host
            self.pty.write(data)
        elif isinstance(dest, str):
            self.tcp.write(dest, data)


class RunDelay:
    """How long after it was woken this thread got a CPU, where the kernel's
    scheduler statistics can tell (/proc/thread-self/schedstat: the time spent
    runnable but waiting for a CPU, in ns, and the number of times the thread
    was put on a CPU). Nothing is known where the kernel does not keep them
    (no CONFIG_SCHED_INFO): stamps are then simply taken on waking."""

    def __init__(self) -> None:
        self._fd: int | None = None

    def open_for_this_thread(self) -> None:
        with contextlib.suppress(OSError):
            self._fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY | os.O_CLOEXEC)

    def read(self) -> tuple[int, int] | None:
        """(run delay in ns, times run) now, or None where unknown."""
        if self._fd is None:
            return None
        try:
            fields = os.pread(self._fd, 128, 0).split()
            return int(fields[1]), int(fields[2])
        except (OSError, IndexError, ValueError):
            return None

    def late_after_wake(self, before: tuple[int, int] | None) -> float:
        """Seconds between this thread's wake-up and its getting a CPU, for a
        wait that began with `before`; 0 when that cannot be told.

        Only a wait in which the thread was put on a CPU exactly once (the
        wake-up) is corrected: its whole run delay came after the wake. Two
        or more times mean a wait for a CPU on the way into the wait too (the
        GIL handed to an in-process host, a preemption), which the counts
        cannot separate from the one after the wake; taking it off too would
        stamp bytes before they arrived (a silence violation the host never
        committed), so the stamp stays late instead."""
        after = self.read()
        if before is None or after is None or after[1] - before[1] != 1:
            return 0.0
        return max(0, after[0] - before[0]) / 1e9

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _tight_timers() -> None:
    """Ask Linux to wake this thread within ~1 us of its timeouts instead of the
    default 50 us "timer slack", so that less of each wait is spent spinning
    (a spinning thread loses its CPU to busy neighbours; a waking one does not)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1000, 0, 0, 0)
