"""ThreadedReader: back-off, availability, the hand-over to asyncio, bugs surface."""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence

import pytest

from locker_host.readers import (
    Backoff,
    FaultCode,
    ReaderFault,
    ReaderReady,
    Reading,
    ThreadedReader,
)
from locker_host.readers.runner import DeviceError, Session

from .waiting import next_reading, readings_until, wait_until

FAST = Backoff(initial=0.01, maximum=0.05)
Step = Reading | BaseException


class ScriptedSession:
    """Polls return what the test queues; an exception queued is raised."""

    def __init__(self, script: queue.Queue[Step]) -> None:
        self.script = script
        self.closed = False

    @property
    def healthy(self) -> bool:
        return True

    def poll(self, stop: threading.Event) -> Sequence[Reading]:
        try:
            step = self.script.get(timeout=0.02)
        except queue.Empty:
            return []
        if isinstance(step, BaseException):
            raise step
        return [step]

    def close(self) -> None:
        self.closed = True


class Device:
    """A device that can be absent; each open makes a session on the shared script."""

    def __init__(self) -> None:
        self.present = True
        self.script: queue.Queue[Step] = queue.Queue()
        self.sessions: list[ScriptedSession] = []

    def open(self) -> Session:
        if not self.present:
            raise DeviceError(FaultCode.DEVICE_UNAVAILABLE, "cannot open /dev/fake: absent")
        session = ScriptedSession(self.script)
        self.sessions.append(session)
        return session


def fault(code: FaultCode) -> ReaderFault:
    return ReaderFault(code, "test", "fake")


async def test_ready_then_readings_then_stop_ends_the_iteration() -> None:
    device = Device()
    reader = ThreadedReader("fake", device.open, backoff=FAST)
    await reader.start()
    readings = reader.readings()
    assert await next_reading(readings) == ReaderReady("fake")
    device.script.put(fault(FaultCode.UNRECOGNISED))
    assert await next_reading(readings) == fault(FaultCode.UNRECOGNISED)
    assert reader.statistics().available is True  # a fault of one token changes nothing
    await reader.stop()
    assert [r async for r in readings] == []
    assert device.sessions[-1].closed


async def test_an_absent_device_is_reported_once_and_retried_with_backoff() -> None:
    device = Device()
    device.present = False
    reader = ThreadedReader("fake", device.open, backoff=FAST)
    await reader.start()
    readings = reader.readings()
    first = await next_reading(readings)
    assert isinstance(first, ReaderFault) and first.code is FaultCode.DEVICE_UNAVAILABLE
    await wait_until(lambda: reader.statistics().open_failures >= 4)
    assert reader.statistics().available is False
    device.present = True
    assert await next_reading(readings) == ReaderReady("fake")  # no repeated faults before it
    stats = reader.statistics()
    assert (stats.available, stats.faults, stats.opens) == (True, 1, 1)
    await reader.stop()


async def test_a_lost_device_is_reopened() -> None:
    device = Device()
    reader = ThreadedReader("fake", device.open, backoff=FAST)
    await reader.start()
    readings = reader.readings()
    assert await next_reading(readings) == ReaderReady("fake")
    device.script.put(DeviceError(FaultCode.DEVICE_LOST, "reading /dev/fake: EIO"))
    lost = await next_reading(readings)
    assert isinstance(lost, ReaderFault) and lost.code is FaultCode.DEVICE_LOST
    assert await next_reading(readings) == ReaderReady("fake")
    assert len(device.sessions) == 2 and device.sessions[0].closed
    await reader.stop()


async def test_readings_nobody_takes_are_dropped_oldest_first() -> None:
    device = Device()
    reader = ThreadedReader("fake", device.open, backoff=FAST, queue_size=2)
    await reader.start()
    for code in (FaultCode.UNRECOGNISED, FaultCode.INVALID_CODE, FaultCode.TOKEN_TOO_LONG):
        device.script.put(fault(code))
    await wait_until(lambda: reader.statistics().readings == 4)  # ReaderReady + 3
    await wait_until(lambda: reader.statistics().dropped == 2)
    readings = reader.readings()
    assert await next_reading(readings) == fault(FaultCode.INVALID_CODE)
    assert await next_reading(readings) == fault(FaultCode.TOKEN_TOO_LONG)
    await reader.stop()


async def test_a_bug_in_a_session_is_raised_from_readings() -> None:
    device = Device()
    reader = ThreadedReader("fake", device.open, backoff=FAST)
    await reader.start()
    device.script.put(ZeroDivisionError("a bug"))
    with pytest.raises(ZeroDivisionError, match="a bug"):
        await readings_until(reader.readings(), lambda r: False)
    await reader.stop()  # already raised once: stop does not raise it again


async def test_stop_raises_a_bug_nobody_has_seen() -> None:
    device = Device()
    reader = ThreadedReader("fake", device.open, backoff=FAST)
    await reader.start()
    device.script.put(KeyError("unseen"))
    await wait_until(lambda: not reader._thread.is_alive())
    with pytest.raises(KeyError):
        await reader.stop()


def test_backoff_must_make_sense() -> None:
    with pytest.raises(ValueError, match="back-off"):
        Backoff(initial=2, maximum=1)
