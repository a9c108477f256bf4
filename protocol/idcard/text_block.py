"""The 256-byte card text block: layouts, decoding and encoding.

Theory of operation. The block is UCS-2 little-endian (GB 13000), fields
have fixed byte offsets and are right-padded with spaces (`20 00`), which
decoding strips. The card type is the character at bytes 248-249: 'J'
(港澳台居民居住证), 'I' (外国人永久居留身份证 2017), 'Y' (the 2023 version);
anything else is a resident card, as every parser in the sources does.

Offsets are those of the open-source parsers: resident layout [7 agree,
among them HslCommunication, hev-idcard-reader, HxJ10A and DKCloud], 'I'
[3: HxJ10A, Johann356/readinfo PCSCGetData.h, Paperless IDCardDef.h], 'J'
[2: PCSCGetData.h, DKCloud], 'Y' [1: PCSCGetData.h, so UNVERIFIED]. The
resident card's reserved area (220-247) and the other types' reserved bytes
are neither decoded nor checked; encoding fills them with spaces. Not
verified and not modelled: the "name spills into the reserved area" of
some new resident cards, and the 'Y' card's bytes 250-255 ("link to the
previous card number"), whose encoding is unknown.

Decoding returns a record or a `ReaderFault` of kind BAD_TEXT (the card is
peer data); it raises only if handed something that is not 256 bytes.
Encoding is the exact inverse for any record it accepts; it raises
`UsageError` for a value that does not fit its field, is not UCS-2, or ends
in a space (which decoding would take for padding).
"""

from __future__ import annotations

from datetime import date

from ..errors import UsageError
from .faults import ReaderFault, ReaderFaultKind
from .records import (
    CardRecord,
    ForeignPermanentCard2017,
    ForeignPermanentCard2023,
    ResidencePermit,
    ResidentCard,
    Sex,
)

BLOCK_SIZE = 256
_MARKER_OFFSET = 248
_PAD = " "
_FOR_LIFE = "长期"  # in place of the end date: valid for life

Spans = tuple[tuple[int, int], ...]  # (byte offset, byte size), filled in order
Layout = dict[str, Spans]

RESIDENT_LAYOUT: Layout = {
    "name": ((0, 30),),
    "sex": ((30, 2),),
    "nation": ((32, 4),),
    "born": ((36, 16),),
    "address": ((52, 70),),
    "id_number": ((122, 36),),
    "authority": ((158, 30),),
    "valid_from": ((188, 16),),
    "valid_until": ((204, 16),),
}
# 'J': bytes 0-219 as the resident card, nation (32-35) left blank.
PERMIT_LAYOUT: Layout = {
    **{name: spans for name, spans in RESIDENT_LAYOUT.items() if name != "nation"},
    "pass_number": ((220, 18),),
    "issue_count": ((238, 4),),
}
FOREIGN_2017_LAYOUT: Layout = {
    "english_name": ((0, 120),),
    "sex": ((120, 2),),
    "id_number": ((122, 30),),
    "nationality": ((152, 6),),
    "chinese_name": ((158, 30),),
    "valid_from": ((188, 16),),
    "valid_until": ((204, 16),),
    "born": ((220, 16),),
    "card_version": ((236, 4),),
    "authority_code": ((240, 8),),
}
FOREIGN_2023_LAYOUT: Layout = {
    "chinese_name": ((0, 30),),
    "sex": ((30, 2),),
    "renewal_count": ((32, 4),),
    "born": ((36, 16),),
    "english_name": ((52, 70), (220, 22)),  # characters 1-35, then 36-46
    "id_number": ((122, 36),),
    "valid_from": ((188, 16),),
    "valid_until": ((204, 16),),
    "nationality": ((242, 6),),
}

# record type -> (marker character, layout)
LAYOUTS: dict[type[CardRecord], tuple[str, Layout]] = {
    ResidentCard: (_PAD, RESIDENT_LAYOUT),
    ResidencePermit: ("J", PERMIT_LAYOUT),
    ForeignPermanentCard2017: ("I", FOREIGN_2017_LAYOUT),
    ForeignPermanentCard2023: ("Y", FOREIGN_2023_LAYOUT),
}


# -- decoding --


class _Undecodable(Exception):
    """Internal: a field failed to decode. Never leaves this module."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


class _Fields:
    def __init__(self, block: bytes, layout: Layout) -> None:
        self._block = block
        self._layout = layout

    def text(self, name: str) -> str:
        raw = b"".join(self._block[offset : offset + size] for offset, size in self._layout[name])
        try:
            text = raw.decode("utf-16-le")
        except UnicodeDecodeError:
            raise _Undecodable(name, "not UCS-2") from None
        if any(ord(char) > 0xFFFF for char in text):
            raise _Undecodable(name, "a surrogate pair, which UCS-2 does not have")
        return text.rstrip(_PAD)

    def sex(self) -> Sex:
        try:
            return Sex(self.text("sex"))
        except ValueError:
            raise _Undecodable("sex", "not a GB/T 2261.1 code") from None

    def day(self, name: str) -> date:
        text = self.text(name)
        if len(text) != 8 or not all("0" <= char <= "9" for char in text):
            raise _Undecodable(name, "not YYYYMMDD")
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise _Undecodable(name, "not a calendar date") from None

    def valid_until(self) -> date | None:
        return None if self.text("valid_until") == _FOR_LIFE else self.day("valid_until")


def _resident(f: _Fields) -> ResidentCard:
    return ResidentCard(
        name=f.text("name"),
        sex=f.sex(),
        nation=f.text("nation"),
        born=f.day("born"),
        address=f.text("address"),
        id_number=f.text("id_number"),
        authority=f.text("authority"),
        valid_from=f.day("valid_from"),
        valid_until=f.valid_until(),
    )


def _permit(f: _Fields) -> ResidencePermit:
    return ResidencePermit(
        name=f.text("name"),
        sex=f.sex(),
        born=f.day("born"),
        address=f.text("address"),
        id_number=f.text("id_number"),
        authority=f.text("authority"),
        valid_from=f.day("valid_from"),
        valid_until=f.valid_until(),
        pass_number=f.text("pass_number"),
        issue_count=f.text("issue_count"),
    )


def _foreign_2017(f: _Fields) -> ForeignPermanentCard2017:
    return ForeignPermanentCard2017(
        english_name=f.text("english_name"),
        sex=f.sex(),
        id_number=f.text("id_number"),
        nationality=f.text("nationality"),
        chinese_name=f.text("chinese_name"),
        valid_from=f.day("valid_from"),
        valid_until=f.valid_until(),
        born=f.day("born"),
        card_version=f.text("card_version"),
        authority_code=f.text("authority_code"),
    )


def _foreign_2023(f: _Fields) -> ForeignPermanentCard2023:
    return ForeignPermanentCard2023(
        chinese_name=f.text("chinese_name"),
        sex=f.sex(),
        renewal_count=f.text("renewal_count"),
        born=f.day("born"),
        english_name=f.text("english_name"),
        id_number=f.text("id_number"),
        valid_from=f.day("valid_from"),
        valid_until=f.valid_until(),
        nationality=f.text("nationality"),
    )


def decode_card_text(block: bytes) -> CardRecord | ReaderFault:
    if len(block) != BLOCK_SIZE:
        raise UsageError(f"a card text block is {BLOCK_SIZE} bytes, not {len(block)}")
    # The marker is one UCS-2 character: test the high byte too (HxJ10A: 'I' = 49 00).
    marker = block[_MARKER_OFFSET : _MARKER_OFFSET + 2]
    what = "resident card"
    try:
        match marker:
            case b"J\x00":
                what = "residence permit"
                return _permit(_Fields(block, PERMIT_LAYOUT))
            case b"I\x00":
                what = "2017 foreign permanent resident card"
                return _foreign_2017(_Fields(block, FOREIGN_2017_LAYOUT))
            case b"Y\x00":
                what = "2023 foreign permanent resident card"
                return _foreign_2023(_Fields(block, FOREIGN_2023_LAYOUT))
            case _:
                return _resident(_Fields(block, RESIDENT_LAYOUT))
    except _Undecodable as error:
        # Name the field, never its content: this value may be logged.
        return ReaderFault(ReaderFaultKind.BAD_TEXT, f"{what}, {error.field}: {error.reason}")


# -- encoding --


def _field_text(name: str, value: object) -> str:
    match value:
        case Sex():
            return value.value
        case date():
            return f"{value.year:04d}{value.month:02d}{value.day:02d}"
        case None if name == "valid_until":
            return _FOR_LIFE
        case str():
            if value.endswith(_PAD):
                raise UsageError(f"{name} ends in a space, which reads back as padding")
            return value
        case _:
            raise UsageError(f"{name}: cannot encode a {type(value).__name__}")


def _ucs2(name: str, text: str) -> bytes:
    if any(ord(char) > 0xFFFF for char in text):
        raise UsageError(f"{name} has a character outside UCS-2 (above U+FFFF)")
    try:
        return text.encode("utf-16-le")
    except UnicodeEncodeError:
        raise UsageError(f"{name} has a lone surrogate, which is not UCS-2") from None


def encode_card_text(card: CardRecord) -> bytes:
    layout_of = LAYOUTS.get(type(card))
    if layout_of is None:
        raise UsageError(f"not a card record: {type(card).__name__}")
    marker, layout = layout_of
    block = bytearray(_PAD.encode("utf-16-le") * (BLOCK_SIZE // 2))
    for name, spans in layout.items():
        raw = _ucs2(name, _field_text(name, getattr(card, name)))
        room = sum(size for _, size in spans)
        if len(raw) > room:
            raise UsageError(f"{name}: {len(raw) // 2} characters, room for {room // 2}")
        raw += _PAD.encode("utf-16-le") * ((room - len(raw)) // 2)
        used = 0
        for offset, size in spans:
            block[offset : offset + size] = raw[used : used + size]
            used += size
    block[_MARKER_OFFSET : _MARKER_OFFSET + 2] = marker.encode("utf-16-le")
    return bytes(block)
