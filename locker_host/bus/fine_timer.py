"""A sub-millisecond sleep on the event loop: a Linux timerfd watched by the loop.

Why. The inter-frame silence is 1.75 ms above 19200 bps, and asyncio's own
sleep ends on epoll's millisecond grid: `selectors` rounds every timeout up
to the next millisecond, so a 1.75 ms wait took 2 to 3 ms, about a third of
a whole 7.7 ms status poll at 115200 bps. Spinning through the last fraction
would cost a core's worth of CPU while the bus is busy; blocking in
`time.sleep` would stall every other task on the loop. A timerfd is armed in
nanoseconds and becomes readable when it expires, so the loop wakes for it
like for any descriptor, within the kernel's timer slack (50 us by default),
and other tasks run meanwhile.

Never early: the timer is armed relative to CLOCK_MONOTONIC (the clock of
`time.monotonic()`) at the moment of arming, with the wait rounded up to the
nanosecond, so it cannot expire before `seconds` have passed since the
caller read its clock; callers still re-check their own deadline.

`FineTimer.open()` returns None where no timerfd can be had (not Linux, no
C library through ctypes); callers then fall back to `asyncio.sleep`, late
by up to a millisecond and never early.
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import os
from collections.abc import Callable

_CLOCK_MONOTONIC = 1  # linux/time.h
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = 0o2000000  # O_CLOEXEC on Linux, as timerfd_create(2) defines it


class _Itimerspec(ctypes.Structure):
    # struct itimerspec { struct timespec it_interval, it_value; } with the two
    # timespecs spelled out: one flat structure, filled in place for every arm.
    _fields_ = (
        ("interval_sec", ctypes.c_long),
        ("interval_nsec", ctypes.c_long),
        ("value_sec", ctypes.c_long),
        ("value_nsec", ctypes.c_long),
    )


class FineTimer:
    """One timerfd on one event loop; one sleep at a time."""

    def __init__(
        self, fd: int, settime: Callable[..., int], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._fd = fd
        self._settime = settime
        self._loop = loop
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._spec = _Itimerspec()  # it_interval stays zero: one expiry per arm
        self._spec_ref = ctypes.byref(self._spec)
        loop.add_reader(fd, self._on_expiry)

    @classmethod
    def open(cls) -> FineTimer | None:
        """A timer on the running loop, or None where the system has no timerfd."""
        loop = asyncio.get_running_loop()
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            create, settime = libc.timerfd_create, libc.timerfd_settime
        except (OSError, AttributeError):
            return None
        settime.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(_Itimerspec),
            ctypes.POINTER(_Itimerspec),
        )
        fd = create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            return None
        return cls(fd, settime, loop)

    async def sleep(self, seconds: float) -> None:
        """Return no sooner than `seconds` after the call, on CLOCK_MONOTONIC."""
        if self._closed:
            raise RuntimeError("the timer is closed")
        if self._waiter is not None:
            raise RuntimeError("the timer is already sleeping")
        # At least 1 ns: an itimerspec of zero disarms instead of expiring.
        ns = max(1, math.ceil(seconds * 1e9))
        waiter = self._waiter = self._loop.create_future()
        self._arm(ns)
        try:
            await waiter
        finally:
            self._waiter = None
            if waiter.cancelled():  # an expiry now would wake nobody, or the next sleep early
                self._arm(0)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)  # the caller re-checks its deadline

    def _arm(self, ns: int) -> None:
        self._spec.value_sec, self._spec.value_nsec = divmod(ns, 1_000_000_000)
        if self._settime(self._fd, 0, self._spec_ref, None) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"timerfd_settime: {os.strerror(error)}")

    def _on_expiry(self) -> None:
        try:
            os.read(self._fd, 8)  # the expiry count; reading clears readability
        except (BlockingIOError, InterruptedError):
            # No expiry pending: a readiness event left over from a sleep that
            # was cancelled and re-armed (arming resets the count). Waking the
            # current sleeper now would be early.
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
