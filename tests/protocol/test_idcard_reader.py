"""Properties of the ID-card reply reader and the reader-side codec: round
trips, chunking, noise, garbage, truncation, corruption, misuse.

Everything here is self-consistent (our encoder against our decoder); the
documented bytes are in test_idcard_golden.py.
"""

import dataclasses
from datetime import date
from functools import reduce
from operator import xor

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from protocol.errors import UsageError
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
    ReplyReader,
    ResetSam,
    ResidentCard,
    SamIdRead,
    SelectCard,
    SetBaudRate,
    Sex,
    StatusCode,
    StatusReply,
    UnknownStatus,
    decode_command,
    decode_reply,
    encode_command,
    encode_reply,
    reply_frame,
)
from protocol.idcard.commands import ALL_COMMANDS
from protocol.idcard.reader import MAX_BUFFER
from protocol.idcard.replies import success_data_sizes, success_status
from protocol.idcard.slave import Ignored

from .test_idcard_text import card_records

PREAMBLE = bytes.fromhex("AAAAAA9669")
CARD = ResidentCard(
    "张三", Sex.MALE, "01", date(1990, 1, 2), "北京", "11010119900102123X", "北京",
    date(2010, 1, 1), None,
)  # fmt: skip

# -- strategies --

commands = st.sampled_from(ALL_COMMANDS)
statuses = st.one_of(
    st.sampled_from(StatusCode),
    st.integers(0, 255).filter(lambda n: n not in {int(c) for c in StatusCode}).map(UnknownStatus),
)
bytes_ = st.integers(0, 255)


def payload(size: int) -> st.SearchStrategy[bytes]:
    # Real data holds the preamble with negligible probability; a frame that
    # does is refused by design (see test_a_preamble_inside_the_data_...).
    return st.binary(min_size=size, max_size=size).filter(lambda b: PREAMBLE not in b)


@st.composite
def command_and_reply(draw):
    """A command and a reply a reader may send to it."""
    command = draw(commands)
    bare = st.builds(StatusReply, statuses, bytes_, bytes_).filter(
        # A bare success is a reply only to commands whose success has no data.
        lambda r: r.status is not success_status(command) or success_data_sizes(command) == {0}
    )
    match command:
        case ReadCard(with_fingerprints=with_prints):
            prints = st.sampled_from([0, 512, 1024]).flatmap(payload) if with_prints else st.none()
            success = st.builds(CardRead, card_records, payload(1024), prints)
        case FindCard():
            success = st.builds(CardFound, payload(4))
        case ReadSamId():
            success = st.builds(SamIdRead, payload(16))
        case SelectCard():
            success = st.builds(CardSelected, payload(8))
        case _:
            success = st.builds(StatusReply, st.just(StatusCode.SUCCESS), bytes_, bytes_)
    return command, draw(st.one_of(bare, success))


dangerous = st.one_of(
    st.sampled_from([0xAA, 0x96, 0x69, 0x00, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x0A, 0x0C,
                     0x14, 0x90, 0x9F, 0x80]).map(lambda b: bytes([b])),
    st.sampled_from([PREAMBLE[:k] for k in range(1, 5)] + [PREAMBLE[k:] for k in range(1, 5)]),
    bytes_.map(lambda b: bytes([b])),
)  # fmt: skip
fake_headers = st.builds(
    lambda length, rest: PREAMBLE + length.to_bytes(2, "big") + rest,
    st.sampled_from([0, 3, 4, 8, 12, 20, 1288, 1290, 1802, 2314, 0xFFFF]),
    st.binary(max_size=12),
)


stray_frames = st.builds(lambda status: reply_frame(StatusReply(status)), statuses)


def noise(with_fake_headers: bool) -> st.SearchStrategy[bytes]:
    """Dangerous bytes; with fake headers, also whole stray frames."""
    piece = st.one_of(dangerous, fake_headers, stray_frames) if with_fake_headers else dangerous
    joined = st.lists(piece, max_size=30).map(b"".join)
    if with_fake_headers:
        return joined
    return joined.map(_without_preamble)


def _without_preamble(data: bytes) -> bytes:
    while PREAMBLE in data:
        data = data.replace(PREAMBLE, PREAMBLE[:4])
    return data


def feed_in_chunks(reader: ReplyReader, data: bytes, cuts: list[int]):
    points = [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    start = 0
    result = None
    for point in points:
        result = reader.feed(data[start:point])
        start = point
        if result is not None:
            break
    return result


def outcome_of(command, data: bytes):
    reader = ReplyReader(command)
    return reader.feed(data) or reader.give_up()


# -- commands --


@given(commands)
def test_command_round_trip(command) -> None:
    frame = encode_command(command)
    assert frame[:5] == PREAMBLE
    assert int.from_bytes(frame[5:7], "big") == len(frame) - 7 == 3
    assert reduce(xor, frame[5:-1], 0) == frame[-1]
    assert decode_command(frame) == command


@given(st.binary(max_size=40), st.data())
@settings(max_examples=300)
def test_reader_side_decoding_never_raises(frame, data) -> None:
    if data.draw(st.booleans()):
        frame = PREAMBLE + frame
    outcome = decode_command(frame)
    assert outcome in (*ALL_COMMANDS, *Ignored) or isinstance(outcome, Refused)


def test_reader_side_refusals() -> None:
    good = encode_command(FindCard())
    assert decode_command(good[:-1] + bytes([good[-1] ^ 1])) == Refused(
        StatusCode.HOST_CHECKSUM_ERROR
    )
    assert decode_command(good + b"\x00") == Refused(StatusCode.HOST_LENGTH_ERROR)
    assert decode_command(b"\x00" + good) is Ignored.NO_PREAMBLE
    assert decode_command(good[:7]) is Ignored.TOO_SHORT


# -- replies --


@given(command_and_reply())
def test_reply_round_trip(pair) -> None:
    command, reply = pair
    assert ReplyReader(command).feed(reply_frame(reply)) == reply


@given(command_and_reply(), st.lists(st.integers(0, 2400), max_size=12), noise(True))
def test_any_chunking_gives_the_same_outcome(pair, cuts, junk) -> None:
    command, reply = pair
    stream = junk + reply_frame(reply)
    whole = ReplyReader(command).feed(stream)
    assert whole is not None
    assert feed_in_chunks(ReplyReader(command), stream, cuts) == whole


@given(command_and_reply(), noise(False))
def test_noise_never_hides_a_reply(pair, junk) -> None:
    # Noise of dangerous bytes and preamble fragments, short of a whole preamble.
    command, reply = pair
    assert ReplyReader(command).feed(junk + reply_frame(reply)) == reply


@given(command_and_reply(), noise(True))
def test_fake_headers_in_the_noise_never_swallow_a_reply(pair, junk) -> None:
    # A noise header may claim any Len. The reply still wins unless the noise
    # (plus the first 4 bytes of the reply, which cannot complete a preamble)
    # already held a complete frame of its own, which then ends first.
    command, reply = pair
    frame = reply_frame(reply)
    own = ReplyReader(command).feed(junk + frame[:4])
    assert ReplyReader(command).feed(junk + frame) == (own or reply)


@given(commands, st.binary(max_size=600))
@settings(max_examples=300)
def test_random_garbage_ends_in_a_fault(command, garbage) -> None:
    assert isinstance(outcome_of(command, garbage), ReaderFault)


@given(
    commands, st.lists(st.one_of(dangerous, fake_headers, stray_frames), max_size=60).map(b"".join)
)
@settings(max_examples=300)
def test_dangerous_garbage_ends_in_a_fault_or_a_frame_it_really_holds(command, garbage) -> None:
    outcome = outcome_of(command, garbage)
    if not isinstance(outcome, ReaderFault):
        assert reply_frame(outcome) in garbage


def test_endless_noise_is_noise() -> None:
    reader = ReplyReader(FindCard())
    outcome = None
    for _ in range(100):
        outcome = reader.feed(b"\xaa\xaa\x96\x69\x00" * 10)
        if outcome is not None:
            break
    assert isinstance(outcome, ReaderFault)
    assert outcome.kind is ReaderFaultKind.NOISE


def test_the_noise_window_does_not_depend_on_chunking() -> None:
    frame = reply_frame(CardFound(bytes(4)))
    inside = bytes(MAX_BUFFER - len(frame)) + frame  # ends exactly at the window's edge
    assert ReplyReader(FindCard()).feed(inside) == CardFound(bytes(4))
    past = bytes(MAX_BUFFER - len(frame) + 1) + frame  # ends one byte past it
    whole = ReplyReader(FindCard()).feed(past)
    assert isinstance(whole, ReaderFault)
    assert whole.kind is ReaderFaultKind.NOISE
    assert feed_in_chunks(ReplyReader(FindCard()), past, [1000, 4000]) == whole


def test_silence_is_a_timeout() -> None:
    assert ReplyReader(FindCard()).give_up().kind is ReaderFaultKind.TIMEOUT


@given(command_and_reply(), st.integers(1, 10_000))
def test_a_reply_cut_short_is_truncated(pair, keep) -> None:
    command, reply = pair
    frame = reply_frame(reply)
    reader = ReplyReader(command)
    assert reader.feed(frame[: keep % len(frame) or 1]) is None
    assert reader.give_up().kind is ReaderFaultKind.TRUNCATED


@given(command_and_reply(), st.integers(0, 10_000), st.integers(1, 255))
def test_a_changed_byte_is_detected(pair, position, flip) -> None:
    command, reply = pair
    frame = bytearray(reply_frame(reply))
    at = position % len(frame)
    frame[at] ^= flip
    outcome = outcome_of(command, bytes(frame))
    if at in (5, 6):
        # A corrupted Len is repaired at the deadline (reader.py): the XOR covers
        # Len, so the true one is the one that makes the check hold again. Unless
        # the false Len is shorter and happens to delimit a frame of its own whose
        # XOR holds (1 in 256): that frame is then taken, as it would be on a line.
        false_len = int.from_bytes(frame[5:7], "big")
        end = 7 + false_len
        assume(not (end < len(frame) and reduce(xor, frame[5 : end - 1], 0) == frame[end - 1]))
        assert outcome == reply
    else:
        # The XOR changes with any other single changed byte.
        assert isinstance(outcome, ReaderFault)


def test_a_bad_checksum_is_reported() -> None:
    frame = bytearray(reply_frame(StatusReply(StatusCode.NO_CARD)))
    frame[-1] ^= 0xFF
    fault = outcome_of(FindCard(), bytes(frame))
    assert isinstance(fault, ReaderFault)
    assert fault.kind is ReaderFaultKind.BAD_CHECKSUM
    assert fault.header == bytes(frame[:10])


def test_a_length_that_fits_no_reply_is_reported() -> None:
    # A select reply (Len 00 0C) arriving for a find.
    frame = reply_frame(CardSelected(bytes(8)))
    fault = outcome_of(FindCard(), frame)
    assert isinstance(fault, ReaderFault)
    assert fault.kind is ReaderFaultKind.BAD_LENGTH


def test_a_late_reply_of_another_length_is_skipped() -> None:
    stale = reply_frame(CardFound(bytes(4)))  # to an earlier find
    fresh = reply_frame(CardSelected(bytes(8)))
    assert ReplyReader(ResetSam()).feed(stale) is None
    assert decode_reply(FindCard(), stale + fresh) == CardFound(bytes(4))
    assert decode_reply(SelectCard(), stale + fresh) == CardSelected(bytes(8))


@pytest.mark.parametrize("command", [ReadSamId(), ReadCard()])
def test_a_success_status_without_its_data_is_bad_length(command) -> None:
    fault = decode_reply(command, encode_reply(success_status(command)))
    assert isinstance(fault, ReaderFault)
    assert fault.kind is ReaderFaultKind.BAD_LENGTH


def test_an_error_status_with_data_is_bad_length() -> None:
    fault = decode_reply(FindCard(), encode_reply(StatusCode.NO_CARD, bytes(4)))
    assert isinstance(fault, ReaderFault)
    assert fault.kind is ReaderFaultKind.BAD_LENGTH


def test_unknown_status_is_kept_raw() -> None:
    assert decode_reply(CheckSam(), encode_reply(UnknownStatus(0xFF), sw1=0x6A, sw2=0x82)) == (
        StatusReply(UnknownStatus(0xFF), 0x6A, 0x82)
    )


def test_a_forged_header_reaching_into_the_reply_does_not_win() -> None:
    # Noise ending in a header that claims Len 8 (a find reply's): its 8 bytes
    # are two noise bytes and the reply's first six, and the noise byte is
    # chosen so that its XOR check holds. Only the rule "no preamble inside a
    # frame" tells it from a real frame.
    reply = reply_frame(CardFound(bytes(4)))

    def noise(filler: int) -> bytes:
        return PREAMBLE + bytes([0x00, 0x08, filler, 0x00])

    filler = next(f for f in range(256) if reduce(xor, (noise(f) + reply)[5:14], 0) == reply[5])
    fake = (noise(filler) + reply)[:15]
    assert reduce(xor, fake[5:-1], 0) == fake[-1]  # a frame by every other rule
    assert decode_reply(FindCard(), noise(filler) + reply) == CardFound(bytes(4))


def test_a_preamble_inside_the_data_refuses_the_frame() -> None:
    # The documented limitation of the hunt (frame.earliest_frame): a reply whose
    # data holds the 5-byte preamble is taken for a false start. Never true of
    # UCS-2 card text; about 2e-9 per read for the photo; the host retries.
    reply = CardRead(CARD, PREAMBLE + bytes(1024 - len(PREAMBLE)), fingerprints=None)
    assert isinstance(decode_reply(ReadCard(), reply_frame(reply)), ReaderFault)


def test_sam_id_text_pads_the_last_groups_to_ten_digits_like_the_vendor_tools() -> None:
    # Field split from HslCommunication: D2(b0) "." D2(b2) "-" u32LE(b4) "-" u32LE(b8)
    # "-" u32LE(b12); the last two padded to 10 digits as Telpo / corewise show them.
    sam_id = bytes([5, 0xEE, 7, 0xEE]) + (1234).to_bytes(4, "little")
    sam_id += (42).to_bytes(4, "little") + (4_000_000_000).to_bytes(4, "little")
    assert SamIdRead(sam_id).as_text() == "05.07-1234-0000000042-4000000000"
    small = SamIdRead(bytes([5, 0, 1, 0]) + bytes(4) + (7).to_bytes(4, "little") + bytes(4))
    assert small.as_text() == "05.01-0-0000000007-0000000000"


# -- personal data stays out of faults and reprs --


@given(card_records, st.integers(10, 1294), st.integers(1, 255))
def test_faults_from_a_read_carry_no_payload(card, position, flip) -> None:
    secret = "110101199001021"  # 15 characters fit every card type
    reply = CardRead(dataclasses.replace(card, id_number=secret), bytes(1024), None)
    frame = bytearray(reply_frame(reply))
    frame[position] ^= flip
    fault = outcome_of(ReadCard(), bytes(frame))
    assert isinstance(fault, ReaderFault)
    assert len(fault.header) <= 10
    assert secret not in str(fault) + repr(fault)
    assert secret.encode("utf-16-le") not in fault.header


def test_card_read_repr_shows_sizes_only() -> None:
    reply = CardRead(CARD, bytes(1024), bytes(512))
    assert repr(reply) == (
        "CardRead(card=ResidentCard(<personal data>), photo=<1024 bytes>, fingerprints=<512 bytes>)"
    )


# -- misuse --


def test_misuse_raises() -> None:
    with pytest.raises(UsageError):
        SetBaudRate(1234)
    with pytest.raises(UsageError):
        UnknownStatus(0x90)  # a known code has one representation
    with pytest.raises(UsageError):
        UnknownStatus(256)
    with pytest.raises(UsageError):
        StatusReply(StatusCode.SUCCESS, sw1=256)
    with pytest.raises(UsageError):
        CardFound(bytes(33))
    with pytest.raises(UsageError):
        CardSelected(bytes(33))
    with pytest.raises(UsageError):
        StatusReply(StatusCode.NO_CARD, junk=bytes(3))
    with pytest.raises(UsageError):
        SamIdRead(bytes(15))
    with pytest.raises(UsageError):
        CardRead(CARD, bytes(1000), None)
    with pytest.raises(UsageError):
        CardRead(CARD, bytes(1024), bytes(100))
    with pytest.raises(UsageError):
        encode_reply(StatusCode.SUCCESS, sw2=-1)
    with pytest.raises(UsageError):
        encode_reply(StatusCode.SUCCESS, bytes(0x10000))  # Len would pass 16 bits
    with pytest.raises(UsageError):
        encode_command("find")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        ReplyReader("find")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        reply_frame("no card")  # type: ignore[arg-type]
    reader = ReplyReader(FindCard())
    assert reader.feed(reply_frame(CardFound(bytes(4)))) == CardFound(bytes(4))
    with pytest.raises(UsageError):
        reader.give_up()
