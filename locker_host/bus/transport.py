"""The serial line: one open device, read through the asyncio event loop.

Theory of operation. pyserial opens and configures the device (exclusive
lock, baud, parity, stop bits, raw mode) and is then set aside: reads and
writes go straight to the file descriptor with `os.read` / `os.write`, so
that a failure arrives as an `OSError` with its errno instead of pyserial's
text-only `SerialException` (Open-Locker ADR-0051 classified by message text
and never reconnected). The descriptor is non-blocking and watched with
`loop.add_reader`; every chunk is stamped with `time.monotonic()` when the
callback runs.

Why the event loop and not a reader thread. The timeouts are 50-150 ms and
asyncio's timers are good to about a millisecond, so a timeout ends at most
~1 ms late. The inter-frame silence (t3.5: 4.0 ms at 9600 8E1, 1.75 ms above
19200 bps) must never be *undercut*, and every error here is on the long
side: a byte is stamped when the callback runs, never before it arrived, so
the silence measured from its stamp is at most the true silence; the wait
before a request is a timerfd armed in nanoseconds (fine_timer.py; asyncio's
own sleep, which ends on epoll's millisecond grid, where there is none), and
it ends late, never early, and is checked against the clock before the
request goes; and just before writing, a direct non-blocking read catches
bytes the loop has not delivered yet and restarts the wait. A late stamp (a
busy loop) makes the host wait longer, and shows in round-trip times; it
cannot make it send into a reply. A thread would give tighter stamps but
move every transaction across threads for no gain in safety. Before
declaring a timeout the transport reads once more directly, so a loop that
was busy past the deadline does not turn a reply that did arrive into a
timeout.

`set_low_latency_mode(True)` (FTDI: 1 ms latency timer instead of 16 ms,
modbus-timing 2.3) is tried and its failure recorded: a pty refuses it with
ENOTTY, and so do adapters without the ioctl.

A hang-up (the pty master closed, a USB adapter pulled out) shows as the
descriptor turning readable and `read` returning end of file, or as EIO; the
transport then stops watching it and every later call raises `PortLost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno as errnos
import os
import termios
import time
from collections.abc import Callable
from typing import TypeVar

import serial

from protocol.timing import SerialFormat

from .errors import BusConfigError, PortError, PortLost, PortUnavailable
from .fine_timer import FineTimer

_CHUNK = 4096
_PROBE_EVERY = 8  # replies complete on time between two tries of a shorter turnaround
_PROBE_STEP_CHARS = 1  # how much shorter, in character times
_MAX_LEADS = 1024  # request frames whose turnaround is kept
# Bytes kept while nobody is reading (a babbling line between transactions):
# only the tail matters, and wait_quiet discards it anyway.
_MAX_BUFFERED = 65536
_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}
_STOPBITS = {1: serial.STOPBITS_ONE, 2: serial.STOPBITS_TWO}
_BYTESIZE = {7: serial.SEVENBITS, 8: serial.EIGHTBITS}
_CAUSES = {
    errnos.ENOENT: "absent",
    errnos.ENODEV: "absent",
    errnos.ENXIO: "absent",
    errnos.ENOTDIR: "absent",
    errnos.EBUSY: "busy",
    errnos.EAGAIN: "busy",
    errnos.EACCES: "denied",
    errnos.EPERM: "denied",
    errnos.EIO: "io_error",
}


E = TypeVar("E", bound=PortError)


def _port_error(kind: type[E], path: str, exc: BaseException, detail: str = "") -> E:
    """The one place where foreign exceptions become ours, by errno."""
    number = exc.errno if isinstance(exc, OSError) else None
    if isinstance(exc, termios.error) and exc.args and isinstance(exc.args[0], int):
        number = exc.args[0]  # termios.error is not an OSError: (errno, text)
    cause = _CAUSES.get(number, "other") if number is not None else "other"
    return kind(path, cause, number, detail or str(exc))


def _read_returns_eof_only_on_hangup(fd: int) -> None:
    """VMIN = 1, VTIME = 0. pyserial leaves VMIN = 0, with which a
    non-blocking read of an empty tty returns b"" (POSIX 11.1.7, case D)
    exactly like a hung-up one; with VMIN = 1 an empty tty says EAGAIN and
    b"" means the device is gone."""
    attrs = termios.tcgetattr(fd)
    cc = attrs[6]
    cc[termios.VMIN], cc[termios.VTIME] = 1, 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


class SerialTransport:
    def __init__(
        self,
        path: str,
        port: serial.Serial,
        fmt: SerialFormat,
        *,
        low_latency: bool,
        clock: Callable[[], float],
    ) -> None:
        self.path = path
        self.format = fmt
        self.low_latency = low_latency
        self._port = port
        self._fd = port.fileno()
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._rx = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        # While receive() waits: how many bytes end the wait, the wait's
        # timer, and the loop time it must not pass.
        self._want = 1
        self._timer_handle: asyncio.TimerHandle | None = None
        self._until = 0.0
        self._lost: PortLost | None = None
        self._closed = False
        self.frames_sent = 0
        # Called when the port is found lost, so an idle owner wakes up at once.
        self.on_lost: Callable[[], None] | None = None
        # Per request frame, what its last reply showed: how long after the
        # request ended the reply began (the board's turnaround). A reply of
        # known length is then read in one wake-up (receive()).
        self._leads: dict[bytes, float] = {}
        self._probe_in = _PROBE_EVERY
        self._sent: bytes | None = None  # the frame whose reply receive() waits for first
        # Opening counts as activity: the first request waits a full gap.
        self.last_rx = clock()
        self._tx_end = self.last_rx
        self._timer = FineTimer.open()
        self._loop.add_reader(self._fd, self._on_readable)

    @classmethod
    def open(
        cls, path: str, fmt: SerialFormat, *, clock: Callable[[], float] = time.monotonic
    ) -> SerialTransport:
        """Open and configure the device; call from the event loop's thread.

        Raises `PortUnavailable` (absent, busy, denied)."""
        port = serial.Serial()
        try:
            port.port = path
            port.baudrate = fmt.baud
            port.bytesize = _BYTESIZE[fmt.bytesize]
            port.parity = _PARITY[fmt.parity]
            port.stopbits = _STOPBITS[fmt.stopbits]
        except ValueError as exc:
            raise BusConfigError("format", f"{fmt.baud} {fmt.name}: {exc}") from None
        port.timeout = 0
        port.exclusive = True  # a second owner of the bus is a bug (one owner per bus)
        try:
            port.open()
        except (serial.SerialException, OSError, termios.error) as exc:
            if not (_errno_of(exc) == errnos.EINVAL and _is_pseudo_terminal(path)):
                raise _port_error(PortUnavailable, path, exc) from None
            # A pseudo-terminal (the simulator) carries bytes, not bits: parity
            # means nothing there, and recent kernels refuse a tcsetattr whose
            # only change is PARENB with EINVAL. Open it without parity.
            port.parity = serial.PARITY_NONE
            try:
                port.open()
            except (serial.SerialException, OSError, termios.error) as again:
                raise _port_error(PortUnavailable, path, again) from None
        try:
            port.set_low_latency_mode(True)
            low_latency = True
        except (ValueError, OSError, AttributeError):
            low_latency = False  # best effort: ptys and many adapters refuse it
        try:
            _read_returns_eof_only_on_hangup(port.fileno())
            port.reset_input_buffer()  # whatever was received before we owned the bus
            os.set_blocking(port.fileno(), False)
        except (serial.SerialException, OSError, termios.error) as exc:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
            raise _port_error(PortUnavailable, path, exc) from None
        return cls(path, port, fmt, low_latency=low_latency, clock=clock)

    # -- state -----------------------------------------------------------------

    @property
    def quiet_since(self) -> float:
        """When the line last carried a byte, as far as this host knows: the
        last byte received, or the estimated end of the last request on the wire."""
        return max(self.last_rx, self._tx_end)

    @property
    def lost(self) -> PortLost | None:
        return self._lost

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._lost is None:
            self._loop.remove_reader(self._fd)
        self._wake()
        if self._timer is not None:
            self._timer.close()
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()

    # -- the line ----------------------------------------------------------------

    async def wait_quiet(self, gap: float) -> int:
        """Return once the line has been silent for `gap` seconds, discarding
        whatever arrives meanwhile (noise, a late reply). Returns the number
        of bytes discarded. Raises `PortLost`."""
        discarded = 0
        while True:
            self._check()
            self._read_now()
            discarded += len(self._rx)
            self._rx.clear()
            remaining = self.quiet_since + gap - self._clock()
            if remaining <= 0:
                return discarded
            if self._timer is None:
                await asyncio.sleep(remaining)
            else:
                await self._timer.sleep(remaining)

    def write(self, frame: bytes) -> float:
        """Send one frame; returns when it was handed to the driver. Raises `PortLost`."""
        self._check()
        view = memoryview(frame)
        while view:
            try:
                written = os.write(self._fd, view)
            except InterruptedError:
                continue
            except BlockingIOError:
                # A frame of a few bytes cannot fill a healthy output buffer.
                stalled = PortLost(self.path, "stalled", None, "output buffer full")
                raise self._fail(stalled) from None
            except OSError as exc:
                raise self._fail(_port_error(PortLost, self.path, exc)) from None
            view = view[written:]
        sent_at = self._clock()
        self._tx_end = sent_at + self.format.wire_time(len(frame))
        self._sent = bytes(frame)
        self.frames_sent += 1
        return sent_at

    async def receive(self, deadline: float, expect: int = 1) -> bytes:
        """The bytes received so far, once `expect` of them are in, or once
        the line has been silent for t1.5 after the last of them (the frame
        ended, Modbus over Serial Line 2.5.1.1), or when `deadline`
        (monotonic) passes; b"" when it passed with nothing. Raises `PortLost`.

        `expect` only saves wake-ups: a caller that knows how long the reply
        should be is not woken for every chunk of it (three or four at 115200
        bps, one per byte or two at 9600), and whatever arrived is still
        handed over when the line falls silent, a shorter reply included.

        With the fine timer, the first wait for a request's reply of known
        length is deaf when this request's turnaround was seen before: until
        the whole reply can have crossed the wire (one wake-up, not one for the
        first chunk and one for the rest). Every eighth reply that was complete
        by then tries a shorter turnaround, so a board that got quicker is
        noticed (its reply is then read in parts, and the turnaround re-learnt)."""
        sent, self._sent = self._sent, None
        if expect <= 1 or self._timer is None:
            sent = None  # a turnaround is only learnt where it can be used
        if sent is not None and not self._rx:
            lead = self._leads.get(sent)
            if lead is not None:
                await self._await_whole_reply(sent, lead, deadline, expect)
                if len(self._rx) >= expect:
                    sent = None  # complete: nothing to learn
        while len(self._rx) < expect:
            if sent is not None and self._rx:
                self._learn(sent)
                sent = None
            self._check()
            now = self._clock()
            if self._rx and now - self.last_rx >= self.format.t15:
                break  # part of a frame, then silence: hand over what came
            remaining = deadline - now
            if remaining <= 0:
                self._read_now()
                self._check()
                break
            if self._rx and expect > 1 and self._timer is not None:
                # Part of a reply of known length is in: the rest cannot come
                # faster than the wire carries it. Sleep deaf until it can be
                # complete (each chunk would wake the loop: three or four times
                # for a status reply at 115200 bps, once a byte or two at 9600).
                complete_at = self.last_rx + self.format.wire_time(expect - len(self._rx))
                if complete_at > now:
                    await self._sleep_deaf(min(complete_at, deadline) - now)
                    self._read_now()
                    continue
            wait = remaining
            if self._rx:
                wait = min(remaining, self.last_rx + self.format.t15 - now)
            # One future and one timer handle per wait (asyncio.wait would add
            # a second future, callbacks and a set): this runs for every reply.
            waiter = self._waiter = self._loop.create_future()
            self._want = expect
            self._until = self._loop.time() + remaining
            self._timer_handle = self._loop.call_later(wait, _release, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                self._timer_handle.cancel()
                self._timer_handle = None
        if sent is not None and self._rx:
            self._learn(sent)
        data = bytes(self._rx)
        self._rx.clear()
        return data

    async def _await_whole_reply(
        self, sent: bytes, lead: float, deadline: float, expect: int
    ) -> None:
        due = self._tx_end + lead + self.format.wire_time(expect)
        now = self._clock()
        if due > now:
            await self._sleep_deaf(min(due, deadline) - now)
        self._read_now()
        if len(self._rx) >= expect:
            self._probe_in -= 1
            if self._probe_in <= 0:
                self._probe_in = _PROBE_EVERY
                self._leads[sent] = max(0.0, lead - _PROBE_STEP_CHARS * self.format.char_time)

    def _learn(self, sent: bytes) -> None:
        """The reply to `sent` has begun: when, judged from the bytes in by now.
        Bytes are stamped when read, so a turnaround can come out long (a busy
        loop, a board that paused once), never short: a shorter one is taken
        at once, a longer one only a quarter of the way (one slow reply must
        not make every later one wait)."""
        seen = max(0.0, self.last_rx - self.format.wire_time(len(self._rx)) - self._tx_end)
        lead = self._leads.get(sent)
        if lead is None and len(self._leads) >= _MAX_LEADS:
            self._leads.clear()  # bounded: a handful of requests per board
        self._leads[sent] = seen if lead is None or seen < lead else lead + (seen - lead) / 4

    # -- internals -----------------------------------------------------------------

    def _check(self) -> None:
        if self._lost is not None:
            raise self._lost
        if self._closed:
            raise PortLost(self.path, "other", None, "the transport was closed")

    def _on_readable(self) -> None:
        if not self._read_now():
            return
        waiter, handle = self._waiter, self._timer_handle
        if waiter is None or handle is None:
            return
        if self._lost is not None or len(self._rx) >= self._want:
            _release(waiter)
            return
        if self._want > 1 and self._timer is not None:
            _release(waiter)  # the receiver sleeps deaf until the rest can be in
            return
        # Part of a reply: wake for the rest, or t1.5 after this chunk if no
        # more comes (a new timer costs less than waking the receiver).
        handle.cancel()
        when = min(self._loop.time() + self.format.t15, self._until)
        self._timer_handle = self._loop.call_at(when, _release, waiter)

    def _read_now(self) -> bool:
        """One non-blocking read; True if it got bytes or found the port lost."""
        if self._lost is not None or self._closed:
            return False
        try:
            data = os.read(self._fd, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            self._fail(_port_error(PortLost, self.path, exc))
            return True
        if not data:
            self._fail(PortLost(self.path, "hangup", None, "end of file: the device went away"))
            return True
        self._rx += data
        if len(self._rx) > _MAX_BUFFERED:
            del self._rx[: len(self._rx) - _MAX_BUFFERED]
        self.last_rx = self._clock()
        return True

    async def _sleep_deaf(self, seconds: float) -> None:
        """Sleep on the fine timer with the descriptor unwatched: bytes that
        arrive meanwhile wait in the driver, unstamped (a stamp taken when
        they are read is late, never early, so silence is never overrated)."""
        assert self._timer is not None
        self._loop.remove_reader(self._fd)
        try:
            await self._timer.sleep(seconds)
        finally:
            if self._lost is None and not self._closed:
                self._loop.add_reader(self._fd, self._on_readable)

    def _fail(self, error: PortLost) -> PortLost:
        if self._lost is None:
            self._lost = error
            self._loop.remove_reader(self._fd)
            self._wake()
            if self.on_lost is not None:
                self.on_lost()
        return self._lost

    def _wake(self) -> None:
        if self._waiter is not None:
            _release(self._waiter)


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _errno_of(exc: BaseException) -> int | None:
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    if exc.args and isinstance(exc.args[0], int):
        return exc.args[0]  # termios.error, and pyserial's SerialException(errno, text)
    return None


_PTY_SLAVE_MAJORS = range(
    136, 144
)  # Linux Unix98 pty slaves (Documentation/admin-guide/devices.txt)


def _is_pseudo_terminal(path: str) -> bool:
    try:
        return os.major(os.stat(path).st_rdev) in _PTY_SLAVE_MAJORS
    except OSError:
        return False
