"""What a card says: one frozen record per card type.

The card type is the UCS-2 character at byte 248 of the text block (see
`text_block`): 'J', 'I', 'Y', anything else a resident card. Every record
names its national identity number `id_number`, whatever the card calls it,
so the layer above can turn it into an owner key and drop it without
knowing card types. Nothing here logs, and `repr()` shows no field: these
values are personal data (DESIGN.md: never stored, logged or published in
clear).

Codes are kept as the card writes them (`nation` "01", `nationality` "CAN")
except the sex code, which is closed (GB/T 2261.1). Dates are `date`;
`valid_until` is None for 长期 (valid for life).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Sex(StrEnum):
    """GB/T 2261.1 code, one UCS-2 digit on the card."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"


class _Private:
    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<personal data>)"


@dataclass(frozen=True, slots=True, repr=False)
class ResidentCard(_Private):
    """居民身份证. Layout agreed by seven parsers."""

    name: str
    sex: Sex
    nation: str  # GB 3304 two-digit code, e.g. "01" = 汉
    born: date
    address: str
    id_number: str  # 公民身份号码: 18 characters, the last may be 'X'
    authority: str  # 签发机关
    valid_from: date
    valid_until: date | None


@dataclass(frozen=True, slots=True, repr=False)
class ResidencePermit(_Private):
    """港澳台居民居住证 ('J'). The resident layout without nation, plus two fields.

    Two sources (Johann356/readinfo PCSCGetData.h, DKCloud); not checked
    against a captured card.
    """

    name: str
    sex: Sex
    born: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_until: date | None
    pass_number: str  # 通行证号码, 9 characters
    issue_count: str  # 签发次数, 2 characters


@dataclass(frozen=True, slots=True, repr=False)
class ForeignPermanentCard2017(_Private):
    """外国人永久居留身份证, 2017 version ('I'). Three sources agree on the layout."""

    english_name: str
    sex: Sex
    id_number: str  # 永久居留证号码: 15 characters, 3 letters + 12 digits
    nationality: str  # 3-letter code
    chinese_name: str
    valid_from: date
    valid_until: date | None
    born: date
    card_version: str  # 证件版本号, 2 characters
    authority_code: str  # 当次申请受理机关代码, 4 characters


@dataclass(frozen=True, slots=True, repr=False)
class ForeignPermanentCard2023(_Private):
    """外国人永久居留身份证, 2023 version ('Y').

    UNVERIFIED: the byte layout comes from one source only (Johann356/readinfo
    PCSCGetData.h, `tagIDCardInfor2023`), including the 'Y' marker itself.
    """

    chinese_name: str
    sex: Sex
    renewal_count: str  # 换证次数, 2 characters
    born: date
    english_name: str  # up to 46 characters, stored in two pieces
    id_number: str  # 18 characters, starting with '9'
    valid_from: date
    valid_until: date | None
    nationality: str  # 3-letter code


CardRecord = ResidentCard | ResidencePermit | ForeignPermanentCard2017 | ForeignPermanentCard2023
