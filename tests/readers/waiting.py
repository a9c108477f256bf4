"""Bounded waits for readings: a test never sleeps for correctness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from locker_host.readers import Reading

WAIT = 5.0  # seconds: generous; a passing test returns as soon as the reading is there


async def next_reading(readings: AsyncIterator[Reading], timeout: float = WAIT) -> Reading:
    return await asyncio.wait_for(anext(readings), timeout)


async def readings_until(
    readings: AsyncIterator[Reading], done: Callable[[Reading], bool], timeout: float = WAIT
) -> list[Reading]:
    """Every reading up to and including the first one that is `done`."""
    seen: list[Reading] = []

    async def collect() -> None:
        async for reading in readings:
            seen.append(reading)
            if done(reading):
                return
        raise AssertionError(f"the readings ended first: {seen}")

    try:
        await asyncio.wait_for(collect(), timeout)
    except TimeoutError:
        raise AssertionError(f"not seen in {timeout} s; got {seen}") from None
    return seen


async def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
