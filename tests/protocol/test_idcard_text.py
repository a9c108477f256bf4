"""The 256-byte card text block: hand-laid blocks per card type, round trips,
undecodable text as a fault value, misuse.

The hand-laid blocks use offsets typed from the parsers' tables, not
from `protocol.idcard.text_block`. Sources behind them: resident [7 parsers],
'I' foreign 2017 [3], 'J' residence permit [2], 'Y' foreign 2023 [1 source,
unverified]: a test passing here proves agreement with those tables, not with a
real card of that type.
"""

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import UsageError
from protocol.idcard import (
    ForeignPermanentCard2017,
    ForeignPermanentCard2023,
    ReaderFault,
    ReaderFaultKind,
    ResidencePermit,
    ResidentCard,
    Sex,
    decode_card_text,
    encode_card_text,
)
from protocol.idcard.text_block import LAYOUTS

# -- strategies --

# UCS-2: the Basic Multilingual Plane without surrogates.
ucs2_chars = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])
hanzi = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


def field(chars: int) -> st.SearchStrategy[str]:
    # A value may not end in a space: that reads back as padding.
    return st.text(st.one_of(ucs2_chars, hanzi), max_size=chars).map(lambda s: s.rstrip(" "))


days = st.dates()
until = st.none() | days
sexes = st.sampled_from(Sex)

resident_cards = st.builds(
    ResidentCard,
    name=field(15),
    sex=sexes,
    nation=field(2),
    born=days,
    address=field(35),
    id_number=field(18),
    authority=field(15),
    valid_from=days,
    valid_until=until,
)
residence_permits = st.builds(
    ResidencePermit,
    name=field(15),
    sex=sexes,
    born=days,
    address=field(35),
    id_number=field(18),
    authority=field(15),
    valid_from=days,
    valid_until=until,
    pass_number=field(9),
    issue_count=field(2),
)
foreign_2017_cards = st.builds(
    ForeignPermanentCard2017,
    english_name=field(60),
    sex=sexes,
    id_number=field(15),
    nationality=field(3),
    chinese_name=field(15),
    valid_from=days,
    valid_until=until,
    born=days,
    card_version=field(2),
    authority_code=field(4),
)
foreign_2023_cards = st.builds(
    ForeignPermanentCard2023,
    chinese_name=field(15),
    sex=sexes,
    renewal_count=field(2),
    born=days,
    english_name=field(46),
    id_number=field(18),
    valid_from=days,
    valid_until=until,
    nationality=field(3),
)
card_records = st.one_of(resident_cards, residence_permits, foreign_2017_cards, foreign_2023_cards)


# -- hand-laid blocks --


def laid(*fields: tuple[int, str], marker: str = " ") -> bytes:
    block = bytearray(" ".encode("utf-16-le") * 128)
    for offset, text in fields:
        raw = text.encode("utf-16-le")
        block[offset : offset + len(raw)] = raw
    block[248:250] = marker.encode("utf-16-le")
    return bytes(block)


def test_resident_block() -> None:
    block = laid(
        (0, "李四"), (30, "2"), (32, "03"), (36, "19851231"), (52, "宁夏银川市兴庆区"),
        (122, "64010419851231002X"), (158, "银川市公安局"), (188, "20200305"), (204, "20400305"),
    )  # fmt: skip
    assert decode_card_text(block) == ResidentCard(
        name="李四",
        sex=Sex.FEMALE,
        nation="03",
        born=date(1985, 12, 31),
        address="宁夏银川市兴庆区",
        id_number="64010419851231002X",
        authority="银川市公安局",
        valid_from=date(2020, 3, 5),
        valid_until=date(2040, 3, 5),
    )
    assert encode_card_text(decode_card_text(block)) == block


def test_residence_permit_block() -> None:
    block = laid(
        (0, "陈大文"), (30, "1"), (36, "19700101"), (52, "广东省深圳市福田区"),
        (122, "810000197001010012"), (158, "深圳市公安局"), (188, "20190101"),
        (204, "20240101"), (220, "H12345678"), (238, "01"),
        marker="J",
    )  # fmt: skip
    assert block[248:250] == bytes.fromhex("4A00")
    assert decode_card_text(block) == ResidencePermit(
        name="陈大文",
        sex=Sex.MALE,
        born=date(1970, 1, 1),
        address="广东省深圳市福田区",
        id_number="810000197001010012",
        authority="深圳市公安局",
        valid_from=date(2019, 1, 1),
        valid_until=date(2024, 1, 1),
        pass_number="H12345678",
        issue_count="01",
    )
    assert encode_card_text(decode_card_text(block)) == block


def test_foreign_2017_block() -> None:
    block = laid(
        (0, "SMITH, JOHN"), (120, "1"), (122, "USA110080101001"), (152, "USA"),
        (158, "史密斯"), (188, "20170601"), (204, "20270601"), (220, "19800101"),
        (236, "01"), (240, "1100"),
        marker="I",
    )  # fmt: skip
    assert block[248:250] == bytes.fromhex("4900")  # HxJ10A: 'I' = 49 00
    assert decode_card_text(block) == ForeignPermanentCard2017(
        english_name="SMITH, JOHN",
        sex=Sex.MALE,
        id_number="USA110080101001",
        nationality="USA",
        chinese_name="史密斯",
        valid_from=date(2017, 6, 1),
        valid_until=date(2027, 6, 1),
        born=date(1980, 1, 1),
        card_version="01",
        authority_code="1100",
    )
    assert encode_card_text(decode_card_text(block)) == block


def test_foreign_2023_block_with_a_long_english_name() -> None:
    # UNVERIFIED layout (one source). The English name continues at byte 220.
    english = "MARIA-ALEXANDRA KONSTANTINOPOULOU-WESTERHOLM JR"[:46]
    block = laid(
        (0, "玛丽亚"), (30, "2"), (32, "00"), (36, "19920229"), (52, english[:35]),
        (122, "933156199202290023"), (188, "20230601"), (204, "20330601"),
        (220, english[35:]), (242, "GRC"),
        marker="Y",
    )  # fmt: skip
    assert decode_card_text(block) == ForeignPermanentCard2023(
        chinese_name="玛丽亚",
        sex=Sex.FEMALE,
        renewal_count="00",
        born=date(1992, 2, 29),
        english_name=english,
        id_number="933156199202290023",
        valid_from=date(2023, 6, 1),
        valid_until=date(2033, 6, 1),
        nationality="GRC",
    )
    assert encode_card_text(decode_card_text(block)) == block


# -- round trips --


@given(card_records)
def test_record_round_trip(card) -> None:
    block = encode_card_text(card)
    assert len(block) == 256
    assert decode_card_text(block) == card


@given(card_records)
def test_block_round_trip(card) -> None:
    block = encode_card_text(card)
    assert encode_card_text(decode_card_text(block)) == block


# -- undecodable text is a value --


@given(st.binary(min_size=256, max_size=256))
def test_any_block_decodes_or_is_a_bad_text_fault(block) -> None:
    outcome = decode_card_text(block)
    if isinstance(outcome, ReaderFault):
        assert outcome.kind is ReaderFaultKind.BAD_TEXT
        assert outcome.header == b""


@given(card_records, st.integers(0, 255), st.integers(1, 255))
def test_a_damaged_block_never_raises(card, position, flip) -> None:
    block = bytearray(encode_card_text(card))
    block[position] ^= flip
    decode_card_text(bytes(block))


SECRET_ID = "11010119900102123X"


@pytest.mark.parametrize(
    ("offset", "raw", "field_name"),
    [
        (36, "20231345".encode("utf-16-le"), "born"),  # month 13
        (36, "1990010 ".encode("utf-16-le"), "born"),  # not 8 digits
        (30, "3".encode("utf-16-le"), "sex"),  # not a GB/T 2261.1 code
        (0, b"\x00\xd8", "name"),  # lone high surrogate
        (0, "😀".encode("utf-16-le"), "name"),  # a surrogate pair is not UCS-2
        (204, "永久".encode("utf-16-le"), "valid_until"),  # only 长期 means for life
    ],
)
def test_undecodable_field_is_named_without_its_content(offset, raw, field_name) -> None:
    fields = [(30, "1"), (36, "19900102"), (122, SECRET_ID), (188, "20100101"), (204, "20200101")]
    block = bytearray(laid(*fields))
    block[offset : offset + len(raw)] = raw
    outcome = decode_card_text(bytes(block))
    assert isinstance(outcome, ReaderFault)
    assert outcome.kind is ReaderFaultKind.BAD_TEXT
    assert field_name in outcome.detail
    assert SECRET_ID not in str(outcome) + repr(outcome)


# -- structure and privacy --


@pytest.mark.parametrize("record_type", list(LAYOUTS))
def test_layouts_cover_every_field_once_and_stay_clear_of_the_marker(record_type) -> None:
    _, layout = LAYOUTS[record_type]
    assert list(layout) == [f.name for f in dataclasses.fields(record_type)]
    used: set[int] = set()
    for spans in layout.values():
        for offset, size in spans:
            assert offset % 2 == 0 and size % 2 == 0
            span = set(range(offset, offset + size))
            assert span.isdisjoint(used)
            assert span.isdisjoint({248, 249})
            assert max(span) < 256
            used |= span


@given(card_records)
def test_repr_shows_no_personal_data(card) -> None:
    assert repr(card) == f"{type(card).__name__}(<personal data>)"


# -- misuse --


def test_misuse_raises() -> None:
    card = ResidentCard(
        "张三", Sex.MALE, "01", date(1990, 1, 2), "", "1", "", date(2000, 1, 1), None
    )
    with pytest.raises(UsageError):
        decode_card_text(bytes(255))
    with pytest.raises(UsageError):
        encode_card_text(dataclasses.replace(card, name="张" * 16))  # 15 characters fit
    with pytest.raises(UsageError):
        encode_card_text(dataclasses.replace(card, name="张三 "))  # would read back as "张三"
    with pytest.raises(UsageError):
        encode_card_text(dataclasses.replace(card, name="😀"))  # not UCS-2
    with pytest.raises(UsageError):
        encode_card_text(dataclasses.replace(card, name="\ud800"))  # lone surrogate
    with pytest.raises(UsageError):
        encode_card_text(dataclasses.replace(card, valid_from=None))  # only valid_until may be
    with pytest.raises(UsageError):
        encode_card_text("not a card")  # type: ignore[arg-type]
