"""SAM_V ID-card reader frames typed in from the protocol's published sources.

Every frame below is copied from the published examples (CSDN/eastcoms
table 9, softs.im, hev-idcard-reader, HslCommunication, the CVR-100 driver,
dlrc IdReader, CZIdcardApiManager, the Qt door controller), checksum
included. Each checksum is also recomputed here with the rule written out
independently of the code: XOR of every byte after the 5-byte preamble and
before the check byte. All documented checksums agree with that rule.

What is NOT a captured frame is said where it is built: the read-card
replies below are a documented header (eastcoms 533) followed by a text
block laid out by hand from the parsers' offset tables, since no source gives
a full captured read.
"""

from datetime import date
from functools import reduce
from operator import xor

import pytest

from protocol.idcard import (
    CardFound,
    CardRead,
    CardSelected,
    CheckSam,
    FindCard,
    ReadCard,
    ReaderFault,
    ReaderFaultKind,
    ReadSamId,
    Refused,
    ResetSam,
    ResidentCard,
    SelectCard,
    SetBaudRate,
    Sex,
    StatusCode,
    StatusReply,
    decode_command,
    decode_reply,
    encode_command,
    encode_reply,
    reply_frame,
)


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def rule_checksum(frame: bytes) -> int:
    return reduce(xor, frame[5:-1], 0)


PREAMBLE = hexbytes("AA AA AA 96 69")

REQUESTS = [
    ("AA AA AA 96 69 00 03 10 FF EC", ResetSam()),
    ("AA AA AA 96 69 00 03 11 FF ED", CheckSam()),
    ("AA AA AA 96 69 00 03 12 FF EE", ReadSamId()),
    ("AA AA AA 96 69 00 03 20 01 22", FindCard()),
    ("AA AA AA 96 69 00 03 20 02 21", SelectCard()),
    ("AA AA AA 96 69 00 03 30 01 32", ReadCard()),
    ("AA AA AA 96 69 00 03 30 10 23", ReadCard(with_fingerprints=True)),
    # softs.im only: the Para-to-rate mapping is single-source.
    ("AA AA AA 96 69 00 03 60 00 63", SetBaudRate(115200)),
    ("AA AA AA 96 69 00 03 60 01 62", SetBaudRate(57600)),
    ("AA AA AA 96 69 00 03 60 02 61", SetBaudRate(38400)),
    ("AA AA AA 96 69 00 03 60 03 60", SetBaudRate(19200)),
    ("AA AA AA 96 69 00 03 60 04 67", SetBaudRate(9600)),
]

# Documented requests this codec does not model (30 03, 30 05, 61 FF 50).
UNMODELLED_REQUESTS = [
    "AA AA AA 96 69 00 03 30 03 30",
    "AA AA AA 96 69 00 03 30 05 36",
    "AA AA AA 96 69 00 04 61 FF 50 CA",
]

REPLIES = [
    # Qt ReadIdentifierCardInfo, hev, CVR: SAM status OK.
    ("AA AA AA 96 69 00 04 00 00 90 94", CheckSam(), StatusReply(StatusCode.SUCCESS)),
    # Find card succeeded (SW3 9F) with four zero "IIN" bytes.
    ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", FindCard(), CardFound(bytes(4))),
    # Find card failed: the normal "no card" answer (dlrc IdReader).
    ("AA AA AA 96 69 00 04 00 00 80 84", FindCard(), StatusReply(StatusCode.NO_CARD)),
    # Select card succeeded, eight zero data bytes.
    (
        "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C",
        SelectCard(),
        CardSelected(bytes(8)),
    ),
    # Select card failed (dlrc).
    ("AA AA AA 96 69 00 04 00 00 81 85", SelectCard(), StatusReply(StatusCode.SELECT_FAILED)),
    # Card failed to authenticate the SAM (CZIdcardApiManager, softs.im).
    ("AA AA AA 96 69 00 04 00 00 31 35", ReadCard(), StatusReply(StatusCode.CARD_REJECTED_SAM)),
    # SAM failed to authenticate the card (softs.im).
    ("AA AA AA 96 69 00 04 00 00 32 36", ReadCard(), StatusReply(StatusCode.SAM_REJECTED_CARD)),
    # Read failed (CZIdcardApiManager).
    ("AA AA AA 96 69 00 04 00 00 41 45", ReadCard(), StatusReply(StatusCode.READ_FAILED)),
]


@pytest.mark.parametrize(("wire", "command"), REQUESTS)
def test_request_bytes_match_the_documents(wire: str, command) -> None:
    frame = hexbytes(wire)
    assert rule_checksum(frame) == frame[-1]
    assert int.from_bytes(frame[5:7], "big") == len(frame) - 7
    assert encode_command(command) == frame


@pytest.mark.parametrize(("wire", "command"), REQUESTS)
def test_reader_side_decodes_documented_requests(wire: str, command) -> None:
    assert decode_command(hexbytes(wire)) == command


@pytest.mark.parametrize("wire", UNMODELLED_REQUESTS)
def test_unmodelled_documented_requests_follow_the_rule_and_are_refused(wire: str) -> None:
    frame = hexbytes(wire)
    assert rule_checksum(frame) == frame[-1]
    assert int.from_bytes(frame[5:7], "big") == len(frame) - 7
    # A real reader knows these; our simulated one answers "command error".
    assert decode_command(frame) == Refused(StatusCode.COMMAND_ERROR)


@pytest.mark.parametrize(("wire", "command", "reply"), REPLIES)
def test_documented_replies_decode(wire: str, command, reply) -> None:
    frame = hexbytes(wire)
    assert rule_checksum(frame) == frame[-1]
    assert decode_reply(command, frame) == reply


@pytest.mark.parametrize(("wire", "command", "reply"), REPLIES)
def test_reader_side_encodes_documented_replies(wire: str, command, reply) -> None:
    assert reply_frame(reply) == hexbytes(wire)


@pytest.mark.parametrize("code", list(StatusCode))
def test_bare_status_checksum_is_04_xor_sw3(code: StatusCode) -> None:
    # A bare status has Len 00 04 and SW1 SW2 00 00, so CHK = 04 ^ SW3 (every capture agrees).
    frame = encode_reply(code)
    assert frame == PREAMBLE + bytes([0x00, 0x04, 0x00, 0x00, code, 0x04 ^ code])


def test_status_codes_are_the_documented_ones() -> None:
    documented = {
        0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31,
        0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81,
    }  # fmt: skip
    assert {int(code) for code in StatusCode} == documented


# -- read-card replies: documented header, hand-laid text block --


def ucs2_field(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def hand_laid_resident_block() -> bytes:
    """Resident-card offsets and sizes typed from the parsers' tables, not from the code."""
    block = (
        ucs2_field("张三", 30)
        + ucs2_field("1", 2)
        + ucs2_field("01", 4)
        + ucs2_field("19900102", 16)
        + ucs2_field("北京市东城区某街1号", 70)
        + ucs2_field("11010119900102123X", 36)
        + ucs2_field("北京市公安局东城分局", 30)
        + ucs2_field("20100101", 16)
        + ucs2_field("长期", 16)
        + ucs2_field("", 36)
    )
    assert len(block) == 256
    assert block[32:36] == hexbytes("30 00 31 00")  # the published nation example "01"
    return block


EXPECTED_RESIDENT = ResidentCard(
    name="张三",
    sex=Sex.MALE,
    nation="01",
    born=date(1990, 1, 2),
    address="北京市东城区某街1号",
    id_number="11010119900102123X",
    authority="北京市公安局东城分局",
    valid_from=date(2010, 1, 1),
    valid_until=None,
)

# eastcoms 533 parse example: header of a 30 01 reply.
READ_HEADER = hexbytes("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")


def with_checksum(frame_without_check: bytes) -> bytes:
    return frame_without_check + bytes([reduce(xor, frame_without_check[5:], 0)])


def test_read_card_reply_with_the_documented_header() -> None:
    photo = bytes(range(256)) * 4
    frame = with_checksum(READ_HEADER + hand_laid_resident_block() + photo)
    assert len(frame) == 1295  # 1295 bytes per six sources
    assert frame[14:270] == hand_laid_resident_block()  # text at 14
    assert frame[270:1294] == photo  # photo at 270
    reply = decode_reply(ReadCard(), frame)
    assert reply == CardRead(EXPECTED_RESIDENT, photo, None)
    assert reply_frame(reply) == frame


@pytest.mark.parametrize(
    ("fp_len", "len_field", "total"),
    [(1024, "09 0A", 2321), (512, "07 0A", 1809), (0, "05 0A", 1297)],
)
def test_read_with_fingerprints_sizes_match_the_sources(fp_len: int, len_field: str, total: int):
    photo = bytes(1024)
    prints = bytes([0x5A]) * fp_len
    header = PREAMBLE + hexbytes(len_field) + hexbytes("00 00 90 01 00 04 00")
    header += fp_len.to_bytes(2, "big")
    frame = with_checksum(header + hand_laid_resident_block() + photo + prints)
    assert len(frame) == total
    assert frame[16:272] == hand_laid_resident_block()  # text at 16
    assert frame[1296 : 1296 + fp_len] == prints  # fingerprints at 1296
    reply = decode_reply(ReadCard(with_fingerprints=True), frame)
    assert reply == CardRead(EXPECTED_RESIDENT, photo, prints)
    assert reply_frame(reply) == frame


def test_a_read_reply_is_not_taken_for_the_other_read_command() -> None:
    frame = with_checksum(READ_HEADER + hand_laid_resident_block() + bytes(1024))
    outcome = decode_reply(ReadCard(with_fingerprints=True), frame)
    assert isinstance(outcome, ReaderFault)
    assert outcome.kind is ReaderFaultKind.BAD_LENGTH
