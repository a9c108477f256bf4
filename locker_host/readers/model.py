"""What a reader reports: one frozen value per kind of reading.

What a person presented is one of the app's input values
(`locker_host.app.inputs`, re-exported here): the app decides what it does.
A reading never holds a raw ID number, staff card number or code. The
builders in `present.py` take the raw text, validate it, turn it into
owner keys or keyed digests at once and drop it; what is left for logs is
`masked` (`130981********123X`, DESIGN.md section 5). `str()` of every
reading is safe to log.

    Reading
    ├── CardPresented        (app) an ID number: strong through the SAM, weak as text
    ├── StaffCardPresented   (app) a staff card number, as keyed digests
    ├── CodeEntered          (app) a pickup or drop-off code, as keyed digests
    ├── ReaderFault          something went wrong; `code` is stable
    └── ReaderReady          the reader works (at start and after every fault
                             that made it unavailable)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from locker_host.app.inputs import (
    CardPresented,
    CodeEntered,
    Presentation,
    StaffCardDigest,
    StaffCardPresented,
)


class FaultCode(StrEnum):
    # The reader is unavailable until the next ReaderReady:
    DEVICE_UNAVAILABLE = "device_unavailable"  # the device cannot be opened (absent, busy)
    DEVICE_LOST = "device_lost"  # it was open and failed (unplugged, I/O error)
    SAM_UNAVAILABLE = "sam_unavailable"  # the security module refuses work (SW3 60, 66, ...)
    READER_SILENT = "reader_silent"  # the device is open but the reader does not answer
    # One presentation failed; the reader still works:
    READ_FAILED = "read_failed"  # a card was there but could not be read: place it again
    CARD_NOT_VALID = "card_not_valid"  # a chip read, but no valid number or known card on it
    INVALID_ID_NUMBER = "invalid_id_number"  # shape, date or check character wrong
    INVALID_CODE = "invalid_code"  # a pickup / drop-off code of the wrong length
    UNRECOGNISED = "unrecognised"  # a token that is nothing we know
    TOKEN_TOO_LONG = "token_too_long"  # a line or key sequence past the length limit

    @property
    def makes_unavailable(self) -> bool:
        return self in _AVAILABILITY


_AVAILABILITY = frozenset(
    {
        FaultCode.DEVICE_UNAVAILABLE,
        FaultCode.DEVICE_LOST,
        FaultCode.SAM_UNAVAILABLE,
        FaultCode.READER_SILENT,
    }
)


@dataclass(frozen=True, slots=True)
class ReaderFault:
    code: FaultCode
    message: str  # names what went wrong, never the token or number itself
    source: str

    def __str__(self) -> str:
        return f"{self.source}: {self.code.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class ReaderReady:
    source: str

    def __str__(self) -> str:
        return f"{self.source}: ready"


Reading = Presentation | ReaderFault | ReaderReady

__all__ = [
    "CardPresented",
    "CodeEntered",
    "FaultCode",
    "Presentation",
    "ReaderFault",
    "ReaderReady",
    "Reading",
    "StaffCardDigest",
    "StaffCardPresented",
]
