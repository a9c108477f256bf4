"""Fuzz the SAM_V ID-card reader decoders (GA 467 frames): the host's reply reader, the
256-byte text block decoder and the reader-side command decoder, on mutated valid frames
(tests/protocol/test_idcard_reader.py has the hand-made noise and truncation cases).

Contract: `ReplyReader.feed` returns a reply, a `ReaderFault` or None and `give_up` a
`ReaderFault`; `decode_card_text` a card record or a `ReaderFault` (`UsageError` for a block that is
not 256 bytes: the frame decoder never hands one over); `decode_command` a
command, `Refused` or `Ignored`. Nothing raises, and no fault quotes card data.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import UsageError
from protocol.idcard import (
    CardFound,
    CardRead,
    CardSelected,
    ForeignPermanentCard2017,
    ForeignPermanentCard2023,
    Ignored,
    ReaderFault,
    Refused,
    ReplyReader,
    ResidencePermit,
    ResidentCard,
    SamIdRead,
    SetBaudRate,
    StatusReply,
    decode_card_text,
    decode_command,
    encode_card_text,
    encode_command,
    reply_frame,
)
from protocol.idcard.commands import ALL_COMMANDS
from protocol.idcard.text_block import BLOCK_SIZE
from tests.protocol.test_idcard_reader import command_and_reply
from tests.protocol.test_idcard_text import card_records

from .budget import fuzz
from .mutate import mutated

REPLIES = (CardFound, CardRead, CardSelected, SamIdRead, StatusReply)
RECORDS = (ResidentCard, ResidencePermit, ForeignPermanentCard2017, ForeignPermanentCard2023)


@fuzz
@given(command_and_reply(), st.data())
def test_reply_reader_survives_mutated_replies(pair, data) -> None:
    command, reply = pair
    frame = data.draw(mutated(reply_frame(reply)))
    reader = ReplyReader(command)
    result = reader.feed(frame)
    if result is None:
        result = reader.give_up()
    assert isinstance(result, (ReaderFault, *REPLIES)), result


@fuzz
@given(card_records, st.data())
def test_text_block_decoder_survives_mutated_blocks(card, data) -> None:
    block = data.draw(mutated(encode_card_text(card)))
    if len(block) != BLOCK_SIZE:  # the frame decoder never hands over another size: misuse
        with pytest.raises(UsageError):
            decode_card_text(block)
        return
    result = decode_card_text(block)
    assert isinstance(result, (ReaderFault, *RECORDS)), result
    if isinstance(result, ReaderFault) and len(card.id_number) >= 6:
        assert card.id_number not in result.detail  # a fault never quotes the card's number


@fuzz
@given(
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from(ALL_COMMANDS).flatmap(lambda c: mutated(encode_command(c))),
    )
)
def test_command_decoder_survives_anything(frame) -> None:
    result = decode_command(frame)
    assert (
        isinstance(result, Refused | Ignored)
        or result in ALL_COMMANDS
        or isinstance(result, SetBaudRate)
    ), result
