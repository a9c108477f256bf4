"""Properties of RTU framing: round trips, chunking, noise, garbage."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.crc import crc_ok, with_crc
from protocol.errors import BusFault, FaultKind, UsageError
from protocol.modbus import (
    DecodedRequest,
    Ignored,
    ReadInputRegisters,
    Refused,
    ReplyReader,
    decode_request,
    encode_reply,
    encode_request,
)
from protocol.modbus.pdu import ExceptionCode, ExceptionReply, FunctionCode

from .strategies import dangerous_noise, request_and_reply, requests, units


@given(units, requests)
def test_request_round_trip(unit, request) -> None:
    assert decode_request(encode_request(unit, request)) == DecodedRequest(unit, request)


@given(units, request_and_reply())
def test_reply_round_trip(unit, pair) -> None:
    request, reply = pair
    reader = ReplyReader(unit, request)
    assert reader.feed(encode_reply(unit, reply)) == reply


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


@given(units, request_and_reply(), st.lists(st.integers(0, 600), max_size=12), st.data())
def test_any_chunking_gives_the_same_outcome(unit, pair, cuts, data) -> None:
    request, reply = pair
    noise = data.draw(dangerous_noise(unit, request))
    stream = noise + encode_reply(unit, reply)
    whole = ReplyReader(unit, request).feed(stream)
    chunked = feed_in_chunks(ReplyReader(unit, request), stream, cuts)
    assert whole == chunked


@given(units, request_and_reply(), st.data())
def test_noise_before_a_reply_never_hides_it_or_crashes(unit, pair, data) -> None:
    request, reply = pair
    noise = data.draw(dangerous_noise(unit, request))
    outcome = ReplyReader(unit, request).feed(noise + encode_reply(unit, reply))
    assert outcome is not None
    if outcome != reply:
        # Only a CRC-valid frame hidden in the noise may win over the reply.
        assert isinstance(outcome, BusFault)
        assert crc_ok(outcome.raw)


@given(units, requests, st.binary(max_size=600))
@settings(max_examples=300)
def test_garbage_is_a_fault_value_never_an_exception(unit, request, garbage) -> None:
    reader = ReplyReader(unit, request)
    outcome = reader.feed(garbage)
    if outcome is None:
        outcome = reader.give_up()
    assert outcome is not None


@given(units, request_and_reply(), st.integers(0, 200))
def test_a_reply_cut_short_is_truncated(unit, pair, keep) -> None:
    request, reply = pair
    frame = encode_reply(unit, reply)
    reader = ReplyReader(unit, request)
    cut = frame[: keep % len(frame)]
    assert reader.feed(cut) is None
    fault = reader.give_up()
    expected = FaultKind.TIMEOUT if not cut else FaultKind.TRUNCATED
    assert fault.kind is expected


@given(units, request_and_reply(), st.integers(0, 10_000), st.integers(1, 255))
def test_a_flipped_byte_is_detected(unit, pair, position, flip) -> None:
    request, reply = pair
    frame = bytearray(encode_reply(unit, reply))
    frame[position % len(frame)] ^= flip
    reader = ReplyReader(unit, request)
    outcome = reader.feed(bytes(frame))
    if outcome is None:
        outcome = reader.give_up()
    # CRC-16 detects every single-byte error (burst of <= 16 bits).
    assert isinstance(outcome, BusFault)


@given(units, st.integers(1, 247), request_and_reply())
def test_a_reply_from_another_unit_is_reported(unit, other, pair) -> None:
    request, reply = pair
    if other == unit:
        other = unit % 247 + 1
    outcome = ReplyReader(unit, request).feed(encode_reply(other, reply))
    assert isinstance(outcome, BusFault)
    assert outcome.kind is FaultKind.WRONG_UNIT


def test_exception_reply_carries_its_code() -> None:
    request = ReadInputRegisters(0, 4)
    frame = encode_reply(3, ExceptionReply(FunctionCode.READ_INPUT_REGISTERS, 2))
    outcome = ReplyReader(3, request).feed(frame)
    assert isinstance(outcome, BusFault)
    assert outcome.kind is FaultKind.EXCEPTION_REPLY
    assert outcome.exception_code == 2


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_slave_side_decoding_never_raises(frame) -> None:
    assert isinstance(decode_request(frame), DecodedRequest | Refused | Ignored)


def test_slave_side_refusals() -> None:
    assert decode_request(with_crc(bytes([1, 0x2B, 0x0E, 0x01, 0x00]))) == Refused(
        1, 0x2B, ExceptionCode.ILLEGAL_FUNCTION
    )
    assert decode_request(with_crc(bytes([1, 4, 0, 0, 0, 200]))) == Refused(
        1, 4, ExceptionCode.ILLEGAL_DATA_VALUE
    )
    assert decode_request(with_crc(bytes([1, 4, 0xFF, 0xFF, 0, 2]))) == Refused(
        1, 4, ExceptionCode.ILLEGAL_DATA_ADDRESS
    )
    assert (
        decode_request(encode_request(1, ReadInputRegisters(0, 1))[:-1] + b"\x00")
        is Ignored.BAD_CRC
    )


def test_misuse_raises() -> None:
    with pytest.raises(UsageError):
        ReadInputRegisters(0, 126)
    with pytest.raises(UsageError):
        ReadInputRegisters(0xFFFF, 2)
    with pytest.raises(UsageError):
        encode_request(0, ReadInputRegisters(0, 1))  # a broadcast read gets no reply
    with pytest.raises(UsageError):
        encode_request(248, ReadInputRegisters(0, 1))
    with pytest.raises(UsageError):
        ReplyReader(0, ReadInputRegisters(0, 1))
