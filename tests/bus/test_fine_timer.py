"""The sub-millisecond wait before a request is never shorter than asked.

Only the correctness side is tested here ("not before the deadline"); how
much later it ends is a speed question for bench/. Real timerfds, a real
pseudo-terminal for the transport."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time

import pytest

from locker_host.bus.fine_timer import FineTimer
from locker_host.bus.transport import SerialTransport
from protocol.timing import SerialFormat

# sub-millisecond, around t3.5 at 115200 (1.75 ms), a few ms; 0 and tiny too
WAITS = [0.0, 1e-9, 1e-6, 5e-5, 0.0003, 0.0009, 0.001, 0.00175, 0.0021, 0.004]


def opened() -> FineTimer:
    timer = FineTimer.open()
    assert timer is not None, "Linux has timerfd"
    return timer


def test_a_sleep_never_ends_before_its_time() -> None:
    async def main() -> list[tuple[float, float]]:
        timer = opened()
        short: list[tuple[float, float]] = []
        try:
            rng = random.Random(4)
            for seconds in WAITS * 5 + [rng.uniform(0, 0.003) for _ in range(150)]:
                start = time.monotonic()
                await timer.sleep(seconds)
                elapsed = time.monotonic() - start
                if elapsed < seconds:
                    short.append((seconds, elapsed))
        finally:
            timer.close()
        return short

    assert asyncio.run(main()) == []


def test_other_tasks_run_while_it_sleeps() -> None:
    async def main() -> int:
        timer = opened()
        turns = 0

        async def other() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(other())
        try:
            await timer.sleep(0.01)
        finally:
            task.cancel()
            timer.close()
        return turns

    assert asyncio.run(main()) > 1


def test_a_cancelled_sleep_does_not_end_the_next_one_early() -> None:
    """The cancelled sleep's timer has expired, and the loop has seen it
    readable, when the same task arms the next sleep in the same turn of the
    loop: that stale expiry must not end the new sleep."""

    async def main() -> float:
        timer = opened()
        elapsed = -1.0

        async def sleeper() -> None:
            nonlocal elapsed
            with contextlib.suppress(asyncio.CancelledError):
                await timer.sleep(1e-6)
            start = time.monotonic()
            await timer.sleep(0.003)
            elapsed = time.monotonic() - start

        try:
            task = asyncio.create_task(sleeper())
            await asyncio.sleep(0)  # armed and waiting
            time.sleep(0.002)  # expired, not yet seen by the loop
            task.cancel()
            await task
        finally:
            timer.close()
        return elapsed

    assert asyncio.run(main()) >= 0.003


def test_one_sleep_at_a_time_and_none_after_close() -> None:
    async def main() -> None:
        timer = opened()
        first = asyncio.create_task(timer.sleep(0.05))
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already sleeping"):
            await timer.sleep(0.001)
        timer.close()
        await first  # woken by the close; its caller re-checks its own deadline
        with pytest.raises(RuntimeError, match="closed"):
            await timer.sleep(0.001)
        timer.close()  # twice is harmless

    asyncio.run(main())


@pytest.mark.parametrize("baud", [9600, 19200, 115200])
def test_the_transport_never_sends_into_the_silence(pty: tuple[int, str], baud: int) -> None:
    """wait_quiet returns only once quiet_since + gap has passed, whether the
    line was quiet already, a reply just ended, or bytes keep arriving."""
    master, path = pty
    fmt = SerialFormat(baud, "E", 1)

    async def main() -> list[float]:
        transport = SerialTransport.open(path, fmt)
        early: list[float] = []
        rng = random.Random(baud)
        try:
            for i in range(60):
                if i % 3 == 0:
                    os.write(master, b"\x01\x04\x02")  # a reply's tail, or noise
                    await asyncio.sleep(rng.uniform(0, 0.001))
                if i % 3 == 1:
                    transport.write(b"\x01\x04\x00\x10\x00\x0a")
                    os.read(master, 64)
                await transport.wait_quiet(fmt.t35)
                left = time.monotonic() - transport.quiet_since
                if left < fmt.t35:
                    early.append(left)
        finally:
            transport.close()
        return early

    assert asyncio.run(main()) == []
