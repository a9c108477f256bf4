"""What a person presents at the locker, with its assurance level.

DESIGN.md section 3: an ID card read through the reader's security module
(SAM_V, GA 467) is *strong*; a typed or scanned ID number is *weak* and never
opens a certificate compartment alone: it needs the pickup code too. A pickup
code alone (a proxy, 代领) opens only the items that code was issued for. A
drop-off code issued by the central system starts a drop-off like a card does.

Credentials carry owner keys and code digests, never an ID number or a code:
the builders below take the raw input, validate it and drop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .identity import OwnerRef, owner_refs, validate_id_number
from .ids import DepartmentId, StaffId
from .keys import Keyring
from .pickup_codes import CodeDigest, CodePurpose, code_digests


class Assurance(StrEnum):
    STRONG = "strong"
    WEAK = "weak"


class StaffRole(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    TECHNICIAN = "technician"


@dataclass(frozen=True)
class IdCredential:
    owners: tuple[OwnerRef, ...]  # current key version first
    assurance: Assurance
    pickup_code: tuple[CodeDigest, ...] = ()  # typed with the ID number, if any

    @property
    def primary(self) -> OwnerRef:
        return self.owners[0]


@dataclass(frozen=True)
class CodeCredential:
    purpose: CodePurpose
    digests: tuple[CodeDigest, ...]


@dataclass(frozen=True)
class StaffCredential:
    staff_id: StaffId
    department: DepartmentId
    role: StaffRole


Credential = IdCredential | CodeCredential | StaffCredential


def id_card(keyring: Keyring, id_number: str) -> IdCredential:
    """A number read from the card chip through the security module."""
    return IdCredential(owner_refs(keyring, validate_id_number(id_number)), Assurance.STRONG)


def typed_id_number(
    owner_keyring: Keyring, id_number: str, code_keyring: Keyring, code: str | None
) -> IdCredential:
    """A number typed or scanned from a photo: weak, optionally with a pickup code."""
    owners = owner_refs(owner_keyring, validate_id_number(id_number))
    digests = () if code is None else code_digests(code_keyring, CodePurpose.PICKUP, code)
    return IdCredential(owners, Assurance.WEAK, digests)


def pickup_code(keyring: Keyring, code: str) -> CodeCredential:
    return CodeCredential(CodePurpose.PICKUP, code_digests(keyring, CodePurpose.PICKUP, code))


def dropoff_code(keyring: Keyring, code: str) -> CodeCredential:
    return CodeCredential(CodePurpose.DROPOFF, code_digests(keyring, CodePurpose.DROPOFF, code))
