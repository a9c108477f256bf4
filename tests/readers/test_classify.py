"""classify(): what a token from a scanner or keyboard-style reader is."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from locker_host.domain import (
    Assurance,
    CodePurpose,
    IdKind,
    code_digests,
    owner_key,
    validate_id_number,
)
from locker_host.readers import (
    CardPresented,
    CodeEntered,
    FaultCode,
    ReaderFault,
    ReaderKeys,
    StaffCardPresented,
    TokenRules,
    classify,
)

from . import numbers as n
from .conftest import OLD_OWNER_SECRET, OWNER_SECRET
from .numbers import assert_clean

RULES = TokenRules()

CASES = [
    # token, what it is, detail
    (n.RESIDENT, "id", IdKind.RESIDENT),
    (n.RESIDENT_LOWER_X, "id", IdKind.RESIDENT),
    (f"  {n.RESIDENT_2}\r", "id", IdKind.RESIDENT),
    ("1309 8119 9003 0712 32", "id", IdKind.RESIDENT),
    ("130981-19900307-1232", "id", IdKind.RESIDENT),
    (n.PERMIT_HK, "id", IdKind.HMT_RESIDENCE_PERMIT),
    (n.PERMIT_MO, "id", IdKind.HMT_RESIDENCE_PERMIT),
    (n.PERMIT_TW, "id", IdKind.HMT_RESIDENCE_PERMIT),
    (n.FOREIGN_2023, "id", IdKind.FOREIGN_PERMANENT_2023),
    (n.FOREIGN_2017, "id", IdKind.FOREIGN_PERMANENT_2004),
    (n.FOREIGN_2017.lower(), "id", IdKind.FOREIGN_PERMANENT_2004),
    (n.BAD_CHECK, "fault", FaultCode.INVALID_ID_NUMBER),
    (n.BAD_DATE, "fault", FaultCode.INVALID_ID_NUMBER),
    (n.BAD_AREA, "fault", FaultCode.INVALID_ID_NUMBER),
    ("0012345678", "staff", None),  # 10 digits: the default staff pattern
    ("123456", "code", CodePurpose.PICKUP),  # bare digits
    ("P12345678", "code", CodePurpose.PICKUP),
    ("D87654321", "code", CodePurpose.DROPOFF),
    ("P123", "fault", FaultCode.INVALID_CODE),  # a code is at least 4 digits... with a prefix
    ("12", "fault", FaultCode.UNRECOGNISED),  # too short for a bare code
    ("12345678901", "fault", FaultCode.UNRECOGNISED),  # 11 digits: not staff, too long bare
    ("hello world", "fault", FaultCode.UNRECOGNISED),
    ("Pabc", "fault", FaultCode.UNRECOGNISED),
    ("1" * 65, "fault", FaultCode.TOKEN_TOO_LONG),
]


@pytest.mark.parametrize(("token", "what", "detail"), CASES)
def test_classify_table(token: str, what: str, detail: object, keys: ReaderKeys) -> None:
    reading = classify(token, RULES, keys, source="scanner")
    assert_clean(reading)
    match what:
        case "id":
            assert isinstance(reading, CardPresented)
            assert reading.id_kind is detail
            assert reading.credential.assurance is Assurance.WEAK  # text is never chip-proven
            assert reading.source == "scanner"
        case "staff":
            assert isinstance(reading, StaffCardPresented)
        case "code":
            assert isinstance(reading, CodeEntered)
            assert reading.purpose is detail
        case "fault":
            assert isinstance(reading, ReaderFault)
            assert reading.code is detail
            assert token.strip() not in reading.message


def test_an_empty_token_is_nothing(keys: ReaderKeys) -> None:
    assert classify("  \r", RULES, keys, source="s") is None


def test_the_owner_keys_are_the_domains_for_every_key_version(keys: ReaderKeys) -> None:
    reading = classify(n.RESIDENT_LOWER_X, RULES, keys, source="s")
    assert isinstance(reading, CardPresented)
    number = validate_id_number(n.RESIDENT)
    # Computed without the readers: HMAC-SHA256(secret, normalised number), current key first.
    expected = hmac.new(OWNER_SECRET, n.RESIDENT.encode(), hashlib.sha256).hexdigest()
    assert reading.credential.primary.key == expected == owner_key(OWNER_SECRET, number)
    assert [o.key_version for o in reading.credential.owners] == [2, 1]
    assert reading.credential.owners[1].key == owner_key(OLD_OWNER_SECRET, number)
    assert reading.masked == "110105********002X"


def test_a_code_carries_the_domains_digests(keys: ReaderKeys) -> None:
    reading = classify("D87654321", RULES, keys, source="s")
    assert isinstance(reading, CodeEntered)
    assert reading.credential.digests == code_digests(keys.codes, CodePurpose.DROPOFF, "87654321")


def test_staff_cards_are_digested_and_masked(keys: ReaderKeys) -> None:
    reading = classify("0012345678", RULES, keys, source="s")
    assert isinstance(reading, StaffCardPresented)
    expected = hmac.new(b"staff-secret-0123456789", b"staff:0012345678", hashlib.sha256)
    assert reading.primary.digest == expected.hexdigest()
    assert reading.masked == "******5678"
    assert "0012345678" not in repr(reading) + str(reading)


def test_a_staff_prefix_takes_precedence(keys: ReaderKeys) -> None:
    rules = TokenRules(staff_prefix="S", staff_pattern=r"[0-9A-F]{8}")
    assert isinstance(classify("SDEADBEEF", rules, keys, source="s"), StaffCardPresented)
    fault = classify("SNOPE", rules, keys, source="s")
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.UNRECOGNISED
    # without the prefix 10 digits are nothing: no staff card, too long for a bare code
    assert isinstance(classify("0012345678", rules, keys, source="s"), ReaderFault)


def test_bare_codes_can_be_switched_off_or_read_as_dropoff(keys: ReaderKeys) -> None:
    off = TokenRules(bare_code=None)
    assert isinstance(classify("123456", off, keys, source="s"), ReaderFault)
    dropoff = TokenRules(bare_code=CodePurpose.DROPOFF)
    reading = classify("123456", dropoff, keys, source="s")
    assert isinstance(reading, CodeEntered) and reading.purpose is CodePurpose.DROPOFF


@pytest.mark.parametrize(
    "rules",
    [
        {"staff_pattern": "("},
        {"staff_prefix": "P"},
        {"bare_code_lengths": (5, 4)},
    ],
)
def test_bad_rules_fail_at_start_up(rules: dict[str, object]) -> None:
    with pytest.raises((ValueError, re.error)):
        TokenRules(**rules)  # type: ignore[arg-type]
