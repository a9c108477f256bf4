"""TokenAssembler: one token per line, whatever the line ending and chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from locker_host.readers.tokens import TokenAssembler, TooLong


def test_cr_lf_crlf_and_tab_end_a_token_and_empty_lines_are_skipped() -> None:
    assembler = TokenAssembler()
    out = assembler.feed(b"one\rtwo\nthree\r\nfour\t\r\n\n", 0.0)
    assert out == [b"one", b"two", b"three", b"four"]


def test_a_token_may_arrive_in_pieces() -> None:
    assembler = TokenAssembler()
    assert assembler.feed(b"12", 0.0) == []
    assert assembler.feed(b"34", 0.1) == []
    assert assembler.feed(b"\r\n", 0.2) == [b"1234"]


def test_a_stale_fragment_is_dropped_not_glued_to_the_next_token() -> None:
    assembler = TokenAssembler(idle_timeout=1.0)
    assembler.feed(b"noise", 0.0)
    assert assembler.feed(b"123456\n", 5.0) == [b"123456"]
    assert assembler.stale_fragments == 1


def test_an_overlong_token_is_swallowed_up_to_its_terminator() -> None:
    assembler = TokenAssembler(max_length=8)
    assert assembler.feed(b"0123456789ABCDEF\nok\n", 0.0) == [TooLong(16), b"ok"]


@given(
    st.lists(st.binary(min_size=1, max_size=10).filter(lambda b: not set(b) & set(b"\r\n\t"))),
    st.data(),
)
def test_chunking_does_not_change_the_tokens(tokens: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(t + b"\r\n" for t in tokens)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assembler = TokenAssembler()
    out = [t for piece in pieces for t in assembler.feed(piece, 0.0)]
    assert out == tokens
