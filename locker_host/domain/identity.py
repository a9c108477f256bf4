"""ID numbers: validation, normalisation, masking, and the owner key.

The locker never keeps an ID number. A number read from the card (or typed in)
is validated here, turned into ``owner_key = HMAC-SHA256(secret, normalised)``
and dropped; logs may show ``mask_id_number(...)`` only. The secret is
provisioned by the central system, which computes the same keys, and rotates:
``Keyring`` holds every accepted version and names the current one
(shared/notes/reliability-security.md section 4.7: a plain hash of an ID
number is reversible in hours, a keyed one is not).

Accepted forms, all checked offline:

* Resident ID card (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
  character; area code (6), birth date YYYYMMDD (8), order code (3). Area codes
  are *not* looked up in a table: an incomplete table would turn citizens away,
  and the card chip is authoritative anyway (the check digit only catches typing
  and OCR errors).
* Hong Kong / Macau / Taiwan residence permit: the same 18-character GB 11643
  form with the area prefixes 810000 / 820000 / 830000.
* Foreign permanent resident card, 2023 form: 18 characters starting with '9',
  GB 11643 check character (eastcoms "新版外国人永久居留身份证机读信息规则").
* Foreign permanent resident card, 2004/2017 form: 15 characters, 3 letters
  (nationality) and 12 digits. See ``_check_fprc15`` for what is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from .errors import InvalidIdNumber
from .ids import OwnerKey
from .keys import Keyring

# GB 11643-1999 section 7: W_i = 2^(17-i) mod 11, check = "10X98765432"[S mod 11].
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_HMT_PREFIXES = {"810000": "hong_kong", "820000": "macau", "830000": "taiwan"}
# No clock here, so no "born in the future" check; this only rejects typos.
_MIN_BIRTH_YEAR = 1890
_MAX_BIRTH_YEAR = 2099


class IdKind(StrEnum):
    RESIDENT = "resident"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"
    FOREIGN_PERMANENT_2004 = "foreign_permanent_2004"


@dataclass(frozen=True)
class IdNumber:
    """A validated, normalised number. Lives only in memory; never persisted."""

    kind: IdKind
    normalised: str

    def __repr__(self) -> str:
        return f"IdNumber(kind={self.kind.value!r}, masked={mask_id_number(self.normalised)!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class OwnerRef:
    """Who an item belongs to, as the central system and the locker both know it."""

    key: OwnerKey
    key_version: int


# Dropped wherever they stand: how people write a number in groups, after NFKC (which
# turns the ideographic space U+3000, NBSP and the full-width hyphen into these).
_SEPARATORS = frozenset(" -\t\r\n")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalise_id_number(raw: str) -> str:
    """The exact rule of the contract (docs/operations.md, "Owner keys"): NFKC, the
    separators dropped, a to z upper-cased; nothing else changes.

    NFKC folds full-width digits and letters (typed on a Chinese IME) to ASCII. Only
    ASCII letters are upper-cased: Unicode's upper-casing would turn a dotless i into I
    and a sharp s into SS, passing non-ASCII input off as an ID number, and it differs
    between Unicode versions; such input stays as it is and fails validation.
    """
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in folded if ch not in _SEPARATORS).translate(_UPPER)


def gb11643_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(raw: str) -> IdNumber:
    number = normalise_id_number(raw)
    if len(number) == 18:
        return IdNumber(_check_gb11643(number), number)
    if len(number) == 15 and number[:3].isalpha():
        _check_fprc15(number)
        return IdNumber(IdKind.FOREIGN_PERMANENT_2004, number)
    raise InvalidIdNumber("an ID number has 18 characters (15 for an old foreign resident card)")


def _check_gb11643(number: str) -> IdKind:
    body, check = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise InvalidIdNumber("an 18-character ID number is 17 digits and a digit or X")
    if body[0] == "0":
        raise InvalidIdNumber("no area code starts with 0")
    if not _is_date(int(body[6:10]), int(body[10:12]), int(body[12:14])):
        raise InvalidIdNumber("the birth date in the ID number is not a date")
    if gb11643_check_char(body) != check:
        raise InvalidIdNumber("the check character of the ID number does not match")
    if body[0] == "9":
        return IdKind.FOREIGN_PERMANENT_2023
    if body[:6] in _HMT_PREFIXES:
        return IdKind.HMT_RESIDENCE_PERMIT
    return IdKind.RESIDENT


def _check_fprc15(number: str) -> None:
    """Shape of the 15-character foreign permanent resident card number.

    Layout as read by the card readers (id-card-reader notes, 'I' cards): 3
    letters of nationality (ISO 3166-1 alpha-3), 4 digits of the accepting
    region, birth date YYMMDD, 1 digit, 1 check digit. One public library
    (credentialkit) checks the last digit with the ICAO 9303 7-3-1 rule; we
    could not verify that against the issuing rules of 2004, so we validate the
    shape and the birth date only and do NOT enforce a check digit: turning a
    real card holder away is worse than accepting a typo, which can only miss
    (no item is keyed to a mistyped number).
    """
    letters, digits = number[:3], number[3:]
    if not (letters.isascii() and letters.isalpha()):
        raise InvalidIdNumber("an old foreign resident card number starts with 3 letters")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidIdNumber("an old foreign resident card number ends with 12 digits")
    yy, month, day = int(digits[4:6]), int(digits[6:8]), int(digits[8:10])
    if not (_is_date(1900 + yy, month, day) or _is_date(2000 + yy, month, day)):
        raise InvalidIdNumber("the birth date in the ID number is not a date")


def _is_date(year: int, month: int, day: int) -> bool:
    if not (_MIN_BIRTH_YEAR <= year <= _MAX_BIRTH_YEAR and 1 <= month <= 12):
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return 1 <= day <= days


def mask_id_number(raw: str) -> str:
    """``130981********123X``: the first 6 and last 4 characters, for logs only."""
    number = normalise_id_number(raw)
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def owner_key(secret: bytes, number: IdNumber) -> OwnerKey:
    digest = hmac.new(secret, number.normalised.encode("ascii"), hashlib.sha256)
    return OwnerKey(digest.hexdigest())


def owner_refs(keyring: Keyring, number: IdNumber) -> tuple[OwnerRef, ...]:
    """Every key this person may be known by; the current version first."""
    return tuple(OwnerRef(owner_key(keyring.secrets[v], number), v) for v in keyring.versions())
