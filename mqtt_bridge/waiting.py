"""Sleeping until told, or until the poll interval has passed: whichever comes first.

``asyncio.timeout`` and not ``asyncio.wait_for``: on Python 3.11, ``wait_for``
loses a cancellation that arrives as the awaited event is set (CPython
gh-86296), and a task that ignores its cancellation never lets ``run()`` end.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_event(event: asyncio.Event, timeout_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()
