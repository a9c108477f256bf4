"""The kiosk's HTTP swipe: payload validation, the token check, assurance by reader."""

from __future__ import annotations

import pytest

from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    CardPresented,
    CodeEntered,
    KioskEntry,
    ReaderKeys,
    StaffCardPresented,
    SwipeError,
    SwipeErrorCode,
    kiosk_token_digest,
    parse_swipe,
)

from . import numbers as n
from .numbers import assert_clean

WITH_SAM = "token-of-the-kiosk-with-a-sam-module"
WITHOUT_SAM = "token-of-the-kiosk-without-one"
KIOSKS = (
    KioskEntry("hall-1", kiosk_token_digest(WITH_SAM), has_sam=True),
    KioskEntry("hall-2", kiosk_token_digest(WITHOUT_SAM).upper(), has_sam=False),
)


def swipe(keys: ReaderKeys, **payload: object) -> object:
    result = parse_swipe(payload, KIOSKS, keys)
    assert_clean(result)
    return result


@pytest.mark.parametrize(
    ("token", "reader", "assurance"),
    [
        (WITH_SAM, "sam", Assurance.STRONG),
        (WITH_SAM, "scanner", Assurance.WEAK),
        (WITH_SAM, "keyboard", Assurance.WEAK),
        (WITHOUT_SAM, "sam", Assurance.WEAK),  # claims a SAM it does not have
        (WITHOUT_SAM, "scanner", Assurance.WEAK),
    ],
)
def test_assurance_follows_the_reader_and_the_kiosk(
    keys: ReaderKeys, token: str, reader: str, assurance: Assurance
) -> None:
    result = swipe(keys, kiosk_token=token, reader=reader, id_number=n.RESIDENT_LOWER_X)
    assert isinstance(result, CardPresented)
    assert result.credential.assurance is assurance
    assert result.masked == "110105********002X"
    assert result.source == f"kiosk:{'hall-1' if token == WITH_SAM else 'hall-2'}/{reader}"


def test_codes_and_staff_cards(keys: ReaderKeys) -> None:
    code = swipe(keys, kiosk_token=WITHOUT_SAM, reader="scanner", code="12345678")
    assert isinstance(code, CodeEntered) and code.purpose is CodePurpose.PICKUP
    dropoff = swipe(
        keys, kiosk_token=WITHOUT_SAM, reader="keyboard", code="12345678", purpose="dropoff"
    )
    assert isinstance(dropoff, CodeEntered) and dropoff.purpose is CodePurpose.DROPOFF
    staff = swipe(keys, kiosk_token=WITH_SAM, reader="keyboard", staff_card="0012345678")
    assert isinstance(staff, StaffCardPresented) and staff.masked == "******5678"


GOOD = {"kiosk_token": WITH_SAM, "reader": "scanner", "id_number": n.RESIDENT}


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"kiosk_token": None}, SwipeErrorCode.MISSING_FIELD, "kiosk_token"),
        ({"kiosk_token": 42}, SwipeErrorCode.INVALID_FIELD, "kiosk_token"),
        ({"kiosk_token": ""}, SwipeErrorCode.INVALID_FIELD, "kiosk_token"),
        ({"kiosk_token": "x" * 300}, SwipeErrorCode.INVALID_FIELD, "kiosk_token"),
        ({"kiosk_token": "wrong"}, SwipeErrorCode.UNKNOWN_KIOSK, "kiosk_token"),
        ({"reader": None}, SwipeErrorCode.MISSING_FIELD, "reader"),
        ({"reader": "camera"}, SwipeErrorCode.INVALID_FIELD, "reader"),
        ({"reader": ["sam"]}, SwipeErrorCode.INVALID_FIELD, "reader"),
        ({"id_number": None}, SwipeErrorCode.MISSING_FIELD, "id_number"),
        ({"id_number": 110105}, SwipeErrorCode.INVALID_FIELD, "id_number"),
        ({"id_number": "1" * 65}, SwipeErrorCode.INVALID_FIELD, "id_number"),
        ({"id_number": n.BAD_CHECK}, SwipeErrorCode.INVALID_ID_NUMBER, "id_number"),
        ({"id_number": n.BAD_DATE}, SwipeErrorCode.INVALID_ID_NUMBER, "id_number"),
        ({"code": "123456"}, SwipeErrorCode.UNEXPECTED_FIELD, "code"),
        ({"purpose": "pickup"}, SwipeErrorCode.UNEXPECTED_FIELD, "purpose"),
        ({"extra": 1}, SwipeErrorCode.UNEXPECTED_FIELD, "extra"),
        (
            {"id_number": None, "code": "123456", "reader": "sam"},
            SwipeErrorCode.READER_MISMATCH,
            "code",
        ),
        (
            {"id_number": None, "staff_card": "0012345678", "reader": "sam"},
            SwipeErrorCode.READER_MISMATCH,
            "staff_card",
        ),
        ({"id_number": None, "code": "12"}, SwipeErrorCode.INVALID_CODE, "code"),
        ({"id_number": None, "code": "12ab56"}, SwipeErrorCode.INVALID_CODE, "code"),
        (
            {"id_number": None, "code": "123456", "purpose": "collect"},
            SwipeErrorCode.INVALID_FIELD,
            "purpose",
        ),
        (
            {"id_number": None, "code": "123456", "purpose": 1},
            SwipeErrorCode.INVALID_FIELD,
            "purpose",
        ),
        ({"id_number": None, "staff_card": ""}, SwipeErrorCode.INVALID_FIELD, "staff_card"),
    ],
)
def test_every_error_names_its_field(
    keys: ReaderKeys, change: dict[str, object], code: SwipeErrorCode, field: str
) -> None:
    payload = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    result = parse_swipe(payload, KIOSKS, keys)
    assert isinstance(result, SwipeError), result
    assert (result.code, result.field) == (code, field)
    assert_clean(result)
    for value in payload.values():
        if isinstance(value, str) and len(value) > 3 and value not in ("scanner", "sam"):
            assert value not in result.message  # never echoes what was sent


@pytest.mark.parametrize("payload", [None, [], "id", 42])
def test_the_body_must_be_an_object(keys: ReaderKeys, payload: object) -> None:
    result = parse_swipe(payload, KIOSKS, keys)
    assert isinstance(result, SwipeError) and result.code is SwipeErrorCode.INVALID_PAYLOAD


def test_no_credential_at_all(keys: ReaderKeys) -> None:
    result = parse_swipe({"kiosk_token": WITH_SAM, "reader": "sam"}, KIOSKS, keys)
    assert isinstance(result, SwipeError)
    assert (result.code, result.field) == (SwipeErrorCode.MISSING_FIELD, "id_number")


def test_an_unauthenticated_caller_learns_nothing_else(keys: ReaderKeys) -> None:
    result = parse_swipe({"kiosk_token": "nope", "bogus": 1}, KIOSKS, keys)
    assert isinstance(result, SwipeError) and result.code is SwipeErrorCode.UNKNOWN_KIOSK


def test_the_kiosk_list_does_not_show_token_digests() -> None:
    assert kiosk_token_digest(WITH_SAM) not in repr(KIOSKS)
