"""Readers as they are in the field (issue 17, item 4): odd data sizes, junk
after a status, a corrupted Len byte. What can be decoded is decoded and
what is left is counted; nothing here may look like a silent reader.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol.idcard import (
    CardFound,
    CardSelected,
    FindCard,
    ReadCard,
    ReaderFault,
    ReplyReader,
    SelectCard,
    StatusCode,
    StatusReply,
    decode_reply,
    encode_reply,
    reply_frame,
)
from protocol.idcard.replies import TOLERATED_DATA

from .test_idcard_reader import command_and_reply, feed_in_chunks

NO_CARD = StatusReply(StatusCode.NO_CARD)


@given(st.integers(0, TOLERATED_DATA), st.binary(min_size=TOLERATED_DATA, max_size=TOLERATED_DATA))
def test_a_find_success_of_any_usual_or_odd_size_is_a_card_found(size: int, data: bytes) -> None:
    found = decode_reply(FindCard(), encode_reply(StatusCode.CARD_FOUND, data[:size]))
    assert found == CardFound(data[:size])
    assert found.usual is (size == 4)


@given(st.integers(0, TOLERATED_DATA), st.binary(min_size=TOLERATED_DATA, max_size=TOLERATED_DATA))
def test_a_select_success_of_any_size_is_a_card_selected(size: int, data: bytes) -> None:
    selected = decode_reply(SelectCard(), encode_reply(StatusCode.SUCCESS, data[:size]))
    assert selected == CardSelected(data[:size])
    assert selected.usual is (size == 8)


def test_a_status_with_a_junk_byte_inside_its_len_is_the_status() -> None:
    for command in (FindCard(), SelectCard(), ReadCard()):
        reply = decode_reply(command, encode_reply(StatusCode.READ_FAILED, b"\x5a"))
        assert reply == StatusReply(StatusCode.READ_FAILED, junk=b"\x5a")


@given(st.binary(min_size=1, max_size=3))
def test_a_junk_byte_after_a_status_reply_changes_nothing(junk: bytes) -> None:
    reader = ReplyReader(FindCard())
    assert reader.feed(reply_frame(NO_CARD) + junk) == NO_CARD
    assert (reader.skipped, reader.trailing, reader.repaired) == (0, len(junk), False)


def test_a_stale_reply_to_another_command_is_still_skipped() -> None:
    # A late find reply (9F + 4 bytes) fits a select's tolerated Len, but no
    # select answers 9F: it is skipped, and counted, not taken for the select's.
    stale = reply_frame(CardFound(bytes(4)))
    fresh = reply_frame(CardSelected(bytes(8)))
    reader = ReplyReader(SelectCard())
    assert reader.feed(stale + fresh) == CardSelected(bytes(8))
    assert reader.skipped == len(stale)


@given(command_and_reply(), st.integers(1, 255), st.sampled_from([5, 6]), st.binary(max_size=1))
def test_a_corrupted_len_byte_is_repaired_at_the_deadline(pair, flip, at, junk) -> None:
    command, reply = pair
    frame = bytearray(reply_frame(reply))
    frame[at] ^= flip
    reader = ReplyReader(command)
    early = reader.feed(bytes(frame) + junk)
    if early is None:
        # The usual case: the false Len delimits nothing, so the reader waits.
        assert reader.give_up() == reply
        assert reader.repaired and reader.trailing == len(junk)
    else:
        # A shorter false Len whose XOR happened to hold: a frame of its own.
        assert early != reply


@given(command_and_reply(), st.lists(st.integers(0, 3000), max_size=4))
def test_noise_then_a_corrupted_len_resynchronises_on_the_preamble(pair, cuts) -> None:
    command, reply = pair
    frame = bytearray(reply_frame(reply))
    frame[5] ^= 0x40  # a Len no reply has
    noise = b"\x13\xaa\xaa\x96" + bytes(frame[:6])  # a false start, then the real one
    reader = ReplyReader(command)
    assert feed_in_chunks(reader, noise + bytes(frame), cuts) is None
    assert reader.give_up() == reply
    assert reader.skipped == len(noise)


def test_a_frame_that_cannot_be_repaired_is_still_a_fault() -> None:
    frame = bytearray(reply_frame(NO_CARD))
    frame[6] ^= 0x01
    frame[9] ^= 0x01  # two bytes wrong: no Len makes the XOR hold
    assert isinstance(decode_reply(FindCard(), bytes(frame)), ReaderFault)
