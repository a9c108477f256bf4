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

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
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
    # Faults counted by code (those reported; an outage that goes on is counted once).
    faults_by_code: Mapping[str, int] = field(default_factory=dict)
    # What the line did that is no presentation's fault (a SAM reader: garbled_replies,
    # odd_data_sizes, skipped_bytes, repaired_lengths, repeats_dropped, read_retries,
    # timeouts, noise); empty for readers that count nothing of the kind.
    line: Mapping[str, int] = field(default_factory=dict)
    # What the reader told of itself: a SAM reader's `sam_id` as its label shows it.
    details: Mapping[str, str] = field(default_factory=dict)


class ReaderPort(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def readings(self) -> AsyncIterator[Reading]: ...

    def statistics(self) -> ReaderStatistics: ...
