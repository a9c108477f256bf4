"""The reader port: what the daemon needs from any card reader or scanner.

    reader = sam_reader(SamConfig(SerialSettings("/dev/ttyUSB0")), keys.owner)
    await reader.start()
    async for reading in reader.readings():
        match reading:
            case CardPresented(): ...
            case ReaderFault(): ...
    await reader.stop()

`readings()` has one consumer; it ends after `stop()`, and raises the error
that killed the reader's thread if one did (a bug: device faults are
readings, never exceptions). Availability is a reading too: a `ReaderFault`
whose code `makes_unavailable` starts an outage, `ReaderReady` ends it;
`statistics().available` says where things stand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from .model import FaultCode, Reading


@dataclass(frozen=True)
class ReaderStatistics:
    name: str
    available: bool | None  # None until the first open has succeeded or failed
    readings: int  # everything delivered, faults included
    faults: int
    opens: int  # successful device opens
    open_failures: int
    dropped: int  # readings nobody took in time (the oldest go first)
    last_fault: FaultCode | None


class ReaderPort(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def readings(self) -> AsyncIterator[Reading]: ...

    def statistics(self) -> ReaderStatistics: ...
