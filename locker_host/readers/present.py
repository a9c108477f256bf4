"""Raw text in, a reading out: the only place a raw number is handled.

Each builder validates what a reader (or the kiosk) delivered, turns it into
owner keys or keyed digests through the keyrings, and returns a reading or a
`ReaderFault`; the raw value goes no further than the call. Fault messages
name the problem and show at most a mask.

Staff card numbers are not ID numbers, but they open compartments for a
whole department: they are digested like codes, HMAC-SHA256 over
"staff:" + number, so a database or log that leaks does not leak the cards.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from locker_host.domain import (
    Assurance,
    CodePurpose,
    IdCredential,
    InvalidIdNumber,
    InvalidPickupCode,
    Keyring,
    dropoff_code,
    mask_id_number,
    owner_refs,
    pickup_code,
    validate_id_number,
)

from .model import (
    CardPresented,
    CodeEntered,
    FaultCode,
    ReaderFault,
    StaffCardDigest,
    StaffCardPresented,
)

_SHOWN_STAFF_CHARACTERS = 4


@dataclass(frozen=True)
class ReaderKeys:
    """The keyrings the readers digest with; secrets never leave memory."""

    owner: Keyring  # owner keys: provisioned by the central system, which computes the same
    codes: Keyring  # pickup and drop-off code digests (as the app uses them)
    staff: Keyring  # staff card digests (the staff directory is keyed by them)


def present_id_number(
    keyring: Keyring, raw: str, *, assurance: Assurance, source: str
) -> CardPresented | ReaderFault:
    """An ID number as read from a chip (STRONG) or typed / scanned (WEAK)."""
    masked = mask_id_number(raw)
    try:
        number = validate_id_number(raw)
    except InvalidIdNumber as problem:
        # The domain's messages never quote the number; the mask is ours.
        return ReaderFault(FaultCode.INVALID_ID_NUMBER, f"{masked}: {problem.message}", source)
    credential = IdCredential(owner_refs(keyring, number), assurance)
    return CardPresented(credential, number.kind, mask_id_number(number.normalised), source)


def normalise_staff_card(raw: str) -> str:
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(folded.split()).upper()


def staff_card_digests(keyring: Keyring, number: str) -> tuple[StaffCardDigest, ...]:
    message = f"staff:{normalise_staff_card(number)}".encode()
    return tuple(
        StaffCardDigest(hmac.new(keyring.secrets[v], message, hashlib.sha256).hexdigest(), v)
        for v in keyring.versions()
    )


def mask_staff_card(number: str) -> str:
    """The last four characters, the rest starred: enough to tell two cards apart."""
    shown = normalise_staff_card(number)[-_SHOWN_STAFF_CHARACTERS:]
    hidden = max(len(normalise_staff_card(number)) - len(shown), 0)
    return "*" * hidden + shown


def present_staff_card(keyring: Keyring, raw: str, *, source: str) -> StaffCardPresented:
    return StaffCardPresented(staff_card_digests(keyring, raw), mask_staff_card(raw), source)


def present_code(
    keyring: Keyring, raw: str, purpose: CodePurpose, *, source: str
) -> CodeEntered | ReaderFault:
    build = pickup_code if purpose is CodePurpose.PICKUP else dropoff_code
    try:
        return CodeEntered(build(keyring, raw), source)
    except InvalidPickupCode as problem:
        return ReaderFault(
            FaultCode.INVALID_CODE, f"{purpose.value} code: {problem.message}", source
        )
