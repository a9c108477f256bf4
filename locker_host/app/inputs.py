"""What a person presents at the locker, as the app takes it: one frozen value per kind.

The card readers (locker_host/readers) and the kiosk app's swipe produce
these; the app's `Presentations` decides what each one does. A value never
holds a raw ID number, staff card number or code: the readers' builders
turn the raw text into owner keys or keyed digests at once and drop it, so
what is left for logs is `masked` (`130981********123X`, DESIGN.md section
5), and `str()` of every value is safe to log.

    Presentation
    ├── CardPresented        an ID number as owner keys, with its assurance
    │                        (STRONG read through the SAM, WEAK as text)
    ├── StaffCardPresented   a staff card number, as keyed digests
    └── CodeEntered          a pickup or drop-off code, as keyed digests
"""

from __future__ import annotations

from dataclasses import dataclass

from locker_host.domain import CodeCredential, CodePurpose, IdCredential, IdKind


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


Presentation = CardPresented | StaffCardPresented | CodeEntered
