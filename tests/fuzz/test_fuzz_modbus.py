"""Fuzz the board-side decoders the daemon trusts: the RTU reply reader (master side), the
request decoder (the simulator's slave side), the reference board's status and identity
parsers and the relay module's bit parser. Inputs: byte soup and mutated valid frames.

Contract: `ReplyReader.feed` returns a `Reply`, a `BusFault` or None; `give_up` a
`BusFault`; `decode_request` a `DecodedRequest`, `Refused` or `Ignored`; the parsers a
value or a `BusFault`. Nothing raises.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol import reference_board, relay_module
from protocol.errors import BusFault
from protocol.modbus import (
    BitsReply,
    DecodedRequest,
    Ignored,
    Refused,
    RegistersReply,
    ReplyReader,
    decode_request,
    encode_reply,
    encode_request,
)
from protocol.modbus.pdu import FunctionCode, WriteEcho
from tests.protocol.strategies import request_and_reply, requests, units

from .budget import fuzz
from .mutate import mutated

REPLY_TYPES = (BitsReply, RegistersReply, WriteEcho)  # protocol.modbus.pdu.Reply


def is_reply(value: object) -> bool:
    return isinstance(value, REPLY_TYPES)


@fuzz
@given(units, request_and_reply(), st.data())
def test_reply_reader_survives_mutated_replies(unit, pair, data) -> None:
    request, reply = pair
    frame = data.draw(mutated(encode_reply(unit, reply)))
    chunks = data.draw(st.lists(st.integers(1, 64), max_size=6))
    reader = ReplyReader(unit, request)
    result = None
    start = 0
    for size in [*chunks, len(frame)]:
        result = reader.feed(frame[start : start + size])
        start += size
        if result is not None:
            break
    if result is None:
        result = reader.give_up()
    assert isinstance(result, BusFault) or is_reply(result), result
    if is_reply(result):
        assert result == reply  # a reply that passes every check is the one that was sent


@fuzz
@given(units, requests, st.binary(max_size=600))
def test_reply_reader_survives_byte_soup(unit, request, soup) -> None:
    reader = ReplyReader(unit, request)
    result = reader.feed(soup)
    assert result is None or isinstance(result, BusFault) or is_reply(result)
    if result is None:
        assert isinstance(reader.give_up(), BusFault)


@fuzz
@given(
    st.one_of(
        st.binary(max_size=300),
        st.tuples(units, requests).flatmap(lambda ur: mutated(encode_request(*ur))),
    )
)
def test_request_decoder_survives_anything(frame) -> None:
    assert isinstance(decode_request(frame), DecodedRequest | Refused | Ignored)


registers_replies = st.builds(
    RegistersReply,
    st.sampled_from([FunctionCode.READ_INPUT_REGISTERS, FunctionCode.READ_HOLDING_REGISTERS]),
    st.lists(st.integers(0, 0xFFFF), max_size=130).map(tuple),
)
bits_replies = st.builds(
    BitsReply,
    st.sampled_from([FunctionCode.READ_DISCRETE_INPUTS, FunctionCode.READ_COILS]),
    st.lists(st.booleans(), max_size=80).map(tuple),
)
any_reply = st.one_of(registers_replies, bits_replies)


@fuzz
@given(any_reply, st.integers(1, 48))
def test_reference_board_parsers_check_what_they_are_given(reply, channels) -> None:
    status = reference_board.parse_status(reply, channels)
    assert isinstance(status, reference_board.BoardStatus | BusFault)
    if isinstance(status, reference_board.BoardStatus):
        assert len(status.channels) == channels
    identity = reference_board.parse_identity(reply)
    assert isinstance(identity, reference_board.Identity | BusFault)


@fuzz
@given(any_reply, st.integers(1, 32))
def test_relay_module_bit_parser_checks_what_it_is_given(reply, channels) -> None:
    states = relay_module.parse_bits(reply, channels)
    assert isinstance(states, relay_module.InputStates | BusFault)
