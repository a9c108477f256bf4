"""What a reader reports: one frozen value per kind of reading.

A reading never holds a raw ID number, staff card number or code. The
builders in `present.py` take the raw text, validate it, turn it into
owner keys or keyed digests at once and drop it; what is left for logs is
`masked` (`130981********123X`, DESIGN.md section 5). `str()` of every
reading is safe to log.

    Reading
    ├── CardPresented        an ID number: strong through the SAM, weak as text
    ├── StaffCardPresented   a staff card number, as keyed digests
    ├── CodeEntered          a pickup or drop-off code, as keyed digests
    ├── ReaderFault          something went wrong; `code` is stable
    └── ReaderReady          the reader works (at start and after every fault
                             that made it unavailable)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from locker_host.domain import CodeCredential, CodePurpose, IdCredential, IdKind


class FaultCode(StrEnum):
    # The reader is unavailable until the next ReaderReady:
    DEVICE_UNAVAILABLE = "device_unavailable"  # the device cannot be opened (absent, busy)
    DEVICE_LOST = "device_lost"  # it was open and failed (unplugged, I/O error)
    SAM_UNAVAILABLE = "sam_unavailable"  # the security module refuses work (SW3 60, 66, ...)
    READER_SILENT = "reader_silent"  # the device is open but the reader does not answer
    # One presentation failed; the reader still works:
    READ_FAILED = "read_failed"  # a card was there but could not be read
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
class CardPresented:
    """An ID number, already turned into owner keys (`credential.owners`)."""

    credential: IdCredential  # assurance STRONG only when read through the SAM
    id_kind: IdKind
    masked: str
    source: str

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.credential.assurance.value} {self.id_kind.value} {self.masked}"
        )


@dataclass(frozen=True, slots=True)
class StaffCardDigest:
    """HMAC-SHA256(staff card secret, "staff:" + card number), hex, with its key version."""

    digest: str
    key_version: int

    def __repr__(self) -> str:
        return f"StaffCardDigest(v{self.key_version}, {self.digest[:8]}…)"


@dataclass(frozen=True, slots=True)
class StaffCardPresented:
    digests: tuple[StaffCardDigest, ...]  # current key version first
    masked: str
    source: str

    @property
    def primary(self) -> StaffCardDigest:
        return self.digests[0]

    def __str__(self) -> str:
        return f"{self.source}: staff card {self.masked}"


@dataclass(frozen=True, slots=True)
class CodeEntered:
    credential: CodeCredential
    source: str

    @property
    def purpose(self) -> CodePurpose:
        return self.credential.purpose

    def __str__(self) -> str:
        return f"{self.source}: {self.purpose.value} code"


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


Reading = CardPresented | StaffCardPresented | CodeEntered | ReaderFault | ReaderReady
Presentation = CardPresented | StaffCardPresented | CodeEntered  # what a person presented
