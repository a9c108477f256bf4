"""Fuzz what a kiosk and a scanner hand the daemon: the kiosk's HTTP swipe payload
(`parse_swipe`) and a scanned or typed token (`classify`, `TokenAssembler`).

Contract: a swipe is a typed reading or a `SwipeError` with a stable code and the field
it blames, never an exception, and no error message quotes what was sent (it may be an
ID number, a code or the kiosk's token); a token is a presentation, a `ReaderFault` or
None; only a SAM on a kiosk that has one makes an ID number STRONG.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from locker_host.domain import Assurance, Keyring
from locker_host.readers import ReaderKeys
from locker_host.readers.classify import TokenRules, classify
from locker_host.readers.http_swipe import KioskEntry, SwipeError, kiosk_token_digest, parse_swipe
from locker_host.readers.model import (
    CardPresented,
    CodeEntered,
    ReaderFault,
    StaffCardPresented,
)
from locker_host.readers.tokens import TokenAssembler, TooLong

from .budget import fuzz

KEYS = ReaderKeys(
    owner=Keyring({1: b"owner-secret-0123456789"}, current=1),
    codes=Keyring({1: b"code-secret-0123456789"}, current=1),
    staff=Keyring({1: b"staff-secret-0123456789"}, current=1),
)
TOKEN = "kiosk-token-" + "x" * 40
KIOSKS = [
    KioskEntry("hall", kiosk_token_digest(TOKEN), has_sam=True),
    KioskEntry("plain", kiosk_token_digest(TOKEN + "2"), has_sam=False),
]
NUMBERS = ["11010519491231002X", "130981199003071232", "810000199001011230"]

field_values = st.one_of(
    st.sampled_from([*NUMBERS, "48291637", "0012345678", "", " ", "X" * 70, TOKEN, TOKEN + "2"]),
    st.text(max_size=80),
    st.integers(),
    st.none(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
)
fields = st.sampled_from(
    ["kiosk_token", "reader", "purpose", "id_number", "code", "staff_card", "extra", ""]
)
swipes = st.one_of(
    st.dictionaries(fields, field_values, max_size=6),
    st.fixed_dictionaries(
        {
            "kiosk_token": st.sampled_from([TOKEN, TOKEN + "2", "wrong"]),
            "reader": st.sampled_from(["sam", "scanner", "keyboard", "SAM", ""]),
        },
        optional={
            "id_number": st.sampled_from(NUMBERS) | st.text(max_size=20),
            "code": st.text(alphabet="0123456789", max_size=12) | st.text(max_size=5),
            "purpose": st.sampled_from(["pickup", "dropoff", "other"]),
            "staff_card": st.text(alphabet="0123456789", min_size=10, max_size=10),
        },
    ),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
READINGS = (CardPresented, CodeEntered, StaffCardPresented)


@fuzz
@given(swipes)
def test_a_swipe_is_a_reading_or_a_typed_error_that_quotes_nothing(payload) -> None:
    result = parse_swipe(payload, KIOSKS, KEYS)
    assert isinstance(result, (SwipeError, *READINGS)), result
    if isinstance(result, SwipeError):
        assert result.code.value and (result.field is None or isinstance(result.field, str))
        for secret in (*NUMBERS, TOKEN):
            assert secret not in result.message and secret not in repr(result)
    elif isinstance(result, CardPresented) and result.credential.assurance is Assurance.STRONG:
        assert payload["reader"] == "sam" and payload["kiosk_token"] == TOKEN


tokens = st.one_of(
    st.text(max_size=100),
    st.sampled_from(NUMBERS).map(lambda n: f" {n[:6]}-{n[6:14]}-{n[14:]} "),
    st.sampled_from(["P48291637", "D1234", "0012345678", "１１０１０５１９４９１２３１００２Ｘ"]),
)


@fuzz
@given(tokens)
def test_a_token_is_a_presentation_a_fault_or_nothing(token) -> None:
    result = classify(token, TokenRules(), KEYS, source="fuzz")
    assert result is None or isinstance(result, (ReaderFault, *READINGS)), result
    if isinstance(result, CardPresented):
        assert result.credential.assurance is Assurance.WEAK  # typed or scanned: never enough alone
    if isinstance(result, ReaderFault):
        for number in NUMBERS:
            assert number not in str(result) and number not in repr(result)


@fuzz
@given(st.binary(max_size=300), st.lists(st.integers(1, 40), max_size=8))
def test_the_line_assembler_takes_any_bytes(data, cuts) -> None:
    assembler = TokenAssembler(max_length=64)
    start, now = 0, 0.0
    for size in [*cuts, len(data)]:
        for token in assembler.feed(data[start : start + size], now):
            assert isinstance(token, TooLong) or (isinstance(token, bytes) and len(token) <= 64)
        start += size
        now += 0.1
