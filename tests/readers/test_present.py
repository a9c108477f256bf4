"""The builders: raw value in, reading out, and nothing raw kept anywhere."""

from __future__ import annotations

import dataclasses

import pytest

from locker_host.domain import Assurance, CodePurpose
from locker_host.readers import (
    CardPresented,
    CodeEntered,
    FaultCode,
    ReaderFault,
    ReaderKeys,
    StaffCardPresented,
    present_code,
    present_id_number,
    present_staff_card,
    staff_card_digests,
)

from . import numbers as n
from .numbers import assert_clean


@pytest.mark.parametrize("number", [*n.VALID, n.RESIDENT_LOWER_X, f" {n.RESIDENT} "])
@pytest.mark.parametrize("assurance", list(Assurance))
def test_an_id_number_becomes_owner_keys_and_a_mask(
    keys: ReaderKeys, number: str, assurance: Assurance
) -> None:
    reading = present_id_number(keys.owner, number, assurance=assurance, source="t")
    assert isinstance(reading, CardPresented)
    assert reading.credential.assurance is assurance
    assert not hasattr(reading, "__dict__")  # slots: no room for anything else
    assert [f.name for f in dataclasses.fields(reading)] == [
        "credential",
        "id_kind",
        "masked",
        "source",
    ]
    assert "*" in reading.masked
    assert_clean(reading)


@pytest.mark.parametrize("number", n.INVALID)
def test_an_invalid_id_number_is_a_fault_with_a_mask(keys: ReaderKeys, number: str) -> None:
    fault = present_id_number(keys.owner, number, assurance=Assurance.STRONG, source="t")
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.INVALID_ID_NUMBER
    assert fault.message.startswith(number[:6] + "********")
    assert_clean(fault)


def test_short_garbage_is_masked_whole(keys: ReaderKeys) -> None:
    fault = present_id_number(keys.owner, "12345", assurance=Assurance.WEAK, source="t")
    assert isinstance(fault, ReaderFault) and fault.message.startswith("*****:")


def test_staff_cards_keep_digests_for_every_key_version(keys: ReaderKeys) -> None:
    reading = present_staff_card(keys.staff, " deadbeef ", source="t")
    assert isinstance(reading, StaffCardPresented)
    assert reading.digests == staff_card_digests(keys.staff, "DEADBEEF")
    assert reading.masked == "****BEEF"
    assert "DEADBEEF" not in (repr(reading) + str(reading)).upper()


@pytest.mark.parametrize("purpose", list(CodePurpose))
def test_codes(keys: ReaderKeys, purpose: CodePurpose) -> None:
    reading = present_code(keys.codes, "20240613", purpose, source="t")
    assert isinstance(reading, CodeEntered) and reading.purpose is purpose
    assert "20240613" not in repr(reading) + str(reading)
    fault = present_code(keys.codes, "12", purpose, source="t")
    assert isinstance(fault, ReaderFault) and fault.code is FaultCode.INVALID_CODE
