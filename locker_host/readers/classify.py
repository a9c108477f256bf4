"""What a line of text from a scanner or a keyboard-style reader is.

Barcode / QR scanners, "driver-free" RFID readers and ID-number scanners all
type one token and Enter. Nothing in the token says what it is, so the
shape decides, in this order (the first rule that matches wins):

    1. staff prefix        `rules.staff_prefix` + a staff card number
    2. ID number           18 characters, 17 digits and a digit or X (resident
                           card, HK/Macau/Taiwan permit, 2023 foreign card), or
                           3 letters and 12 digits (the old foreign card);
                           spaces and hyphens ignored, x folded to X
    3. code prefixes       `rules.pickup_prefix` / `rules.dropoff_prefix` + digits
    4. staff pattern       the whole token matches `rules.staff_pattern`
    5. bare code           digits only, `rules.bare_code_lengths` long, read as
                           `rules.bare_code` (None: not accepted)
    6. anything else       a ReaderFault `unrecognised`

An ID number read as text is WEAK: nothing proves it came from a card
(DESIGN.md section 3). The default staff pattern is 10 digits, the decimal
card UID most keyboard-style RFID readers type; bare codes are at most 9
digits by default so the two never meet (pickup codes are 6-9 digits until a
locker has 10,000 live codes; longer ones need the prefix).

A token is never logged or quoted in a fault: it may be an ID number typed
with a wrong digit, or a code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from locker_host.domain import Assurance, CodePurpose

from .model import FaultCode, Presentation, ReaderFault
from .present import ReaderKeys, present_code, present_id_number, present_staff_card

MAX_TOKEN = 64
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]|[A-Z]{3}[0-9]{12}")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class TokenRules:
    staff_prefix: str = ""  # e.g. "S": a token starting with it is a staff card number
    staff_pattern: str | None = r"[0-9]{10}"  # full match, after the prefix; None: no staff cards
    pickup_prefix: str = "P"
    dropoff_prefix: str = "D"
    bare_code: CodePurpose | None = CodePurpose.PICKUP
    bare_code_lengths: tuple[int, int] = (4, 9)  # inclusive

    def __post_init__(self) -> None:
        if self.staff_pattern is not None:
            re.compile(self.staff_pattern)  # a bad pattern fails at start-up, not at a swipe
        prefixes = [p for p in (self.staff_prefix, self.pickup_prefix, self.dropoff_prefix) if p]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("the staff, pickup and drop-off prefixes must differ")
        low, high = self.bare_code_lengths
        if not 1 <= low <= high <= MAX_TOKEN:
            raise ValueError("bare_code_lengths must be 1 <= low <= high <= 64")

    def is_staff_card(self, text: str) -> bool:
        return self.staff_pattern is not None and re.fullmatch(self.staff_pattern, text) is not None


def classify(
    token: str, rules: TokenRules, keys: ReaderKeys, *, source: str
) -> Presentation | ReaderFault | None:
    """The reading for one token; None for an empty one (a bare Enter)."""
    text = unicodedata.normalize("NFKC", token).strip()
    if not text:
        return None
    if len(text) > MAX_TOKEN:
        return ReaderFault(FaultCode.TOKEN_TOO_LONG, f"{len(text)} characters", source)
    if rules.staff_prefix and text.startswith(rules.staff_prefix):
        card = text.removeprefix(rules.staff_prefix)
        if rules.is_staff_card(card):
            return present_staff_card(keys.staff, card, source=source)
        return _unrecognised(text, source, "a staff prefix without a staff card number")
    compact = re.sub(r"[\s-]", "", text).upper()
    if _ID_NUMBER.fullmatch(compact):
        return present_id_number(keys.owner, compact, assurance=Assurance.WEAK, source=source)
    for prefix, purpose in (
        (rules.pickup_prefix, CodePurpose.PICKUP),
        (rules.dropoff_prefix, CodePurpose.DROPOFF),
    ):
        if prefix and text.startswith(prefix) and _DIGITS.fullmatch(text[len(prefix) :]):
            return present_code(keys.codes, text[len(prefix) :], purpose, source=source)
    if not rules.staff_prefix and rules.is_staff_card(text):
        return present_staff_card(keys.staff, text, source=source)
    low, high = rules.bare_code_lengths
    if rules.bare_code is not None and _DIGITS.fullmatch(text) and low <= len(text) <= high:
        return present_code(keys.codes, text, rules.bare_code, source=source)
    return _unrecognised(text, source, "not an ID number, staff card or code")


def _unrecognised(text: str, source: str, why: str) -> ReaderFault:
    return ReaderFault(FaultCode.UNRECOGNISED, f"{why} ({len(text)} characters)", source)
