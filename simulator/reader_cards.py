"""Cards for the simulated reader: a typed number and a card type -> a card record.

The other fields are made up but well formed (dates, codes, names that fit
their fields), so `protocol.idcard.encode_card_text` accepts them. The number
is checked for its shape only (18 characters, or 15 for the 2017 foreign
card), never for its check digit or date: testers present invalid numbers on
purpose.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from protocol import idcard
from protocol.errors import UsageError


class CardType(StrEnum):
    RESIDENT = "resident"
    PERMIT = "permit"  # 港澳台居民居住证 ('J')
    FOREIGN2017 = "foreign2017"  # 外国人永久居留身份证 2017 ('I'), 15 characters
    FOREIGN2023 = "foreign2023"  # 外国人永久居留身份证 2023 ('Y'), starts with 9


_SHAPE_18 = re.compile(r"[0-9]{17}[0-9Xx]")
_SHAPE_15 = re.compile(r"[A-Za-z]{3}[0-9]{12}")


def shape_problem(number: str, card_type: CardType) -> str | None:
    """Why `number` cannot be written on a card of this type; None if it can."""
    if card_type is CardType.FOREIGN2017:
        if not _SHAPE_15.fullmatch(number):
            return "a 2017 foreign card number is 3 letters and 12 digits (15 characters)"
        return None
    if not _SHAPE_18.fullmatch(number):
        return "an ID number is 17 digits and a digit or X (18 characters)"
    return None


def infer_card_type(number: str) -> CardType:
    """The card a number most likely belongs to (GB 11643 prefixes)."""
    if len(number) == 15:
        return CardType.FOREIGN2017
    if number.startswith("9"):
        return CardType.FOREIGN2023
    if number[:6] in ("810000", "820000", "830000"):
        return CardType.PERMIT
    return CardType.RESIDENT


def _born(text: str, century: int | None = None) -> date:
    try:
        if century is None:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        return date(century + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return date(1990, 1, 1)


def _sex(number: str, at: int) -> idcard.Sex:
    digit = number[at] if at < len(number) else ""
    if not digit.isdigit():
        return idcard.Sex.UNKNOWN
    return idcard.Sex.MALE if int(digit) % 2 else idcard.Sex.FEMALE


def card_record(number: str, card_type: CardType, name: str | None = None) -> idcard.CardRecord:
    """A card carrying `number`; raises UsageError if a field does not fit."""
    problem = shape_problem(number, card_type)
    if problem is not None:
        raise UsageError(problem)
    card = _record(number.upper(), card_type, name)
    idcard.encode_card_text(card)  # a name too long fails here, not when the host reads it
    return card


def _record(number: str, card_type: CardType, name: str | None) -> idcard.CardRecord:
    issued, expires = date(2020, 1, 1), date(2040, 1, 1)
    match card_type:
        case CardType.RESIDENT:
            return idcard.ResidentCard(
                name=name or "张测试",
                sex=_sex(number, 16),
                nation="01",
                born=_born(number[6:14]),
                address="河北省黄骅市测试路1号",
                id_number=number,
                authority="黄骅市公安局",
                valid_from=issued,
                valid_until=expires,
            )
        case CardType.PERMIT:
            return idcard.ResidencePermit(
                name=name or "李测试",
                sex=_sex(number, 16),
                born=_born(number[6:14]),
                address="河北省黄骅市测试路2号",
                id_number=number,
                authority="黄骅市公安局",
                valid_from=issued,
                valid_until=expires,
                pass_number="H12345678",
                issue_count="01",
            )
        case CardType.FOREIGN2017:
            return idcard.ForeignPermanentCard2017(
                english_name=name or "TEST, PERSON",
                sex=idcard.Sex.UNSPECIFIED,
                id_number=number,
                nationality=number[:3],
                chinese_name="测试",
                valid_from=issued,
                valid_until=expires,
                born=_born(number[7:13], century=1900),
                card_version="01",
                authority_code="1100",
            )
        case CardType.FOREIGN2023:
            return idcard.ForeignPermanentCard2023(
                chinese_name=name or "测试",
                sex=_sex(number, 16),
                renewal_count="00",
                born=_born(number[6:14]),
                english_name="TEST PERSON",
                id_number=number,
                valid_from=issued,
                valid_until=expires,
                nationality="CAN",
            )
