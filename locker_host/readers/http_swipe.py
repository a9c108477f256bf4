"""The kiosk's HTTP swipe, without HTTP: validate a payload, return a reading.

A kiosk with its own reader posts what it read:

    {"kiosk_token": "...", "reader": "sam" | "scanner" | "keyboard",
     and exactly one of
     "id_number": "...", "code": "..." (+ optional "purpose": "pickup" | "dropoff"),
     "staff_card": "..."}

The token is checked against the configured kiosks' SHA-256 digests (tokens
are long random strings, so a plain digest is enough; comparison is in
constant time over every entry). The assurance follows the reader kind:
only an ID number from `reader: "sam"` posted by a kiosk configured with a
SAM module is STRONG; the same claim from a kiosk without one, and every
scanned or typed number, is WEAK. A SAM reads nothing but ID cards, so a
code or staff card claimed to come from one is refused.

`parse_swipe` returns a reading or a `SwipeError` whose `field` names the
culprit and whose `code` is stable (the API maps codes to statuses). No
message quotes a value: it may be an ID number, a code or the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from locker_host.domain import Assurance, CodePurpose

from .model import CardPresented, CodeEntered, ReaderFault, StaffCardPresented
from .present import ReaderKeys, present_code, present_id_number, present_staff_card

MAX_VALUE = 64
MAX_TOKEN = 256
_CREDENTIAL_FIELDS = ("id_number", "code", "staff_card")
_ALLOWED = frozenset({"kiosk_token", "reader", "purpose", *_CREDENTIAL_FIELDS})


class ReaderKind(StrEnum):
    SAM = "sam"
    SCANNER = "scanner"
    KEYBOARD = "keyboard"


class SwipeErrorCode(StrEnum):
    INVALID_PAYLOAD = "invalid_payload"  # not a JSON object
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"
    INVALID_FIELD = "invalid_field"  # wrong type, empty, too long, not one of the choices
    UNKNOWN_KIOSK = "unknown_kiosk"  # the token matches no configured kiosk
    READER_MISMATCH = "reader_mismatch"  # a SAM does not read codes or staff cards
    INVALID_ID_NUMBER = "invalid_id_number"
    INVALID_CODE = "invalid_code"


@dataclass(frozen=True, slots=True)
class SwipeError:
    code: SwipeErrorCode
    field: str | None
    message: str


@dataclass(frozen=True)
class KioskEntry:
    name: str
    token_sha256: str  # hex digest of the kiosk's token: `kiosk_token_digest(token)`
    has_sam: bool = False

    def __repr__(self) -> str:
        return f"KioskEntry(name={self.name!r}, has_sam={self.has_sam})"


def kiosk_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


Swiped = CardPresented | CodeEntered | StaffCardPresented


def parse_swipe(
    payload: object, kiosks: Sequence[KioskEntry], keys: ReaderKeys
) -> Swiped | SwipeError:
    if not isinstance(payload, Mapping):
        return SwipeError(SwipeErrorCode.INVALID_PAYLOAD, None, "the body is a JSON object")
    # The token first: a caller without one learns nothing else.
    token = _text(payload, "kiosk_token", MAX_TOKEN)
    if isinstance(token, SwipeError):
        return token
    kiosk = _kiosk(token, kiosks)
    if kiosk is None:
        return SwipeError(SwipeErrorCode.UNKNOWN_KIOSK, "kiosk_token", "no kiosk has this token")
    for name in payload:
        if name not in _ALLOWED:
            shown = name if isinstance(name, str) and len(name) <= MAX_VALUE else "?"
            return SwipeError(SwipeErrorCode.UNEXPECTED_FIELD, shown, "not part of a swipe")
    reader_text = _text(payload, "reader", MAX_VALUE)
    if isinstance(reader_text, SwipeError):
        return reader_text
    try:
        reader = ReaderKind(reader_text)
    except ValueError:
        return SwipeError(SwipeErrorCode.INVALID_FIELD, "reader", "one of sam, scanner, keyboard")
    given = [name for name in _CREDENTIAL_FIELDS if name in payload]
    if not given:
        return SwipeError(
            SwipeErrorCode.MISSING_FIELD, "id_number", "one of id_number, code, staff_card"
        )
    if len(given) > 1:
        return SwipeError(
            SwipeErrorCode.UNEXPECTED_FIELD, given[1], f"only one credential; {given[0]} is given"
        )
    (field,) = given
    if "purpose" in payload and field != "code":
        return SwipeError(SwipeErrorCode.UNEXPECTED_FIELD, "purpose", "only with a code")
    if reader is ReaderKind.SAM and field != "id_number":
        return SwipeError(SwipeErrorCode.READER_MISMATCH, field, "a SAM reads ID cards only")
    value = _text(payload, field, MAX_VALUE)
    if isinstance(value, SwipeError):
        return value
    source = f"kiosk:{kiosk.name}/{reader.value}"
    match field:
        case "id_number":
            strong = reader is ReaderKind.SAM and kiosk.has_sam
            assurance = Assurance.STRONG if strong else Assurance.WEAK
            reading = present_id_number(keys.owner, value, assurance=assurance, source=source)
            return _or_error(reading, SwipeErrorCode.INVALID_ID_NUMBER, field)
        case "code":
            purpose = _purpose(payload)
            if isinstance(purpose, SwipeError):
                return purpose
            code = present_code(keys.codes, value, purpose, source=source)
            return _or_error(code, SwipeErrorCode.INVALID_CODE, field)
        case _:
            return present_staff_card(keys.staff, value, source=source)


def _kiosk(token: str, kiosks: Sequence[KioskEntry]) -> KioskEntry | None:
    digest = kiosk_token_digest(token)
    found = None
    for kiosk in kiosks:  # no early exit: the time does not depend on which entry matched
        if hmac.compare_digest(digest, kiosk.token_sha256.lower()):
            found = kiosk
    return found


def _text(payload: Mapping[object, object], field: str, limit: int) -> str | SwipeError:
    value = payload.get(field)
    if value is None:
        return SwipeError(SwipeErrorCode.MISSING_FIELD, field, "required")
    if not isinstance(value, str):
        return SwipeError(SwipeErrorCode.INVALID_FIELD, field, "must be a string")
    if not value.strip():
        return SwipeError(SwipeErrorCode.INVALID_FIELD, field, "must not be empty")
    if len(value) > limit:
        return SwipeError(SwipeErrorCode.INVALID_FIELD, field, f"at most {limit} characters")
    return value


def _purpose(payload: Mapping[object, object]) -> CodePurpose | SwipeError:
    raw = payload.get("purpose", CodePurpose.PICKUP.value)
    try:
        return CodePurpose(raw) if isinstance(raw, str) else CodePurpose("")
    except ValueError:
        return SwipeError(SwipeErrorCode.INVALID_FIELD, "purpose", "one of pickup, dropoff")


def _or_error(
    reading: CardPresented | CodeEntered | ReaderFault, code: SwipeErrorCode, field: str
) -> CardPresented | CodeEntered | SwipeError:
    if isinstance(reading, ReaderFault):
        return SwipeError(code, field, reading.message)
    return reading
