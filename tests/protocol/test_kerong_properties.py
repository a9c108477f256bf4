"""Properties of the Kerong codecs: round trips, chunking, noise, silence framing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol import BusFault, FaultKind
from protocol.kerong import STX, checksum, cu16, cu48, read_frame
from protocol.kerong.frame import KerongReader

boards = st.integers(0, 9)
hooks16 = st.lists(st.booleans(), min_size=16, max_size=16).map(tuple)
hooks48 = st.lists(st.booleans(), min_size=48, max_size=48).map(tuple)
# Noise that cannot hold a frame start: a reader must skip it.
quiet_noise = st.binary(max_size=12).map(lambda b: bytes(x for x in b if x != STX))


@given(boards, hooks16, hooks16, st.integers(0, 15))
def test_cu16_status_round_trip(board: int, hooks, items, lock: int) -> None:
    status = cu16.Status(board, hooks, items)
    wire = cu16.encode_status(status, addr=board << 4 | lock)
    assert checksum(wire[:-1]) == wire[-1]
    assert read_frame(cu16.status_reader(board), wire) == status


@given(boards, hooks48, st.sampled_from(list(cu48.Variant)), st.binary(min_size=6, max_size=6))
def test_cu48_status_round_trip(board: int, hooks, variant: cu48.Variant, d7_d12: bytes) -> None:
    # V2.1 has no D7..D12; the 0x60 variant carries them through unread.
    reserved = d7_d12 if variant is cu48.Variant.ALT_60 else bytes(6)
    status = cu48.Status(board, hooks, reserved)
    assert (
        read_frame(cu48.status_reader(board, variant), cu48.encode_status(status, variant))
        == status
    )


@given(boards, st.integers(1, 16), st.sampled_from(list(cu16.Command)))
def test_cu16_requests_decode_as_sent(board: int, lock: int, command: cu16.Command) -> None:
    frame = cu16.seal_request(cu16.address(board, lock), command)
    assert cu16.decode_request(frame) == cu16.Request(board, lock, command, board << 4 | lock - 1)


@given(st.integers(0, 10), st.integers(1, 48), st.sampled_from(list(cu48.Variant)))
def test_cu48_requests_decode_as_sent(board: int, lock: int, variant: cu48.Variant) -> None:
    frame = cu48.unlock_request(board, lock, variant)
    assert cu48.decode_request(frame) == cu48.Request(board, lock - 1, variant.unlock_command)


@given(
    boards,
    hooks48,
    quiet_noise,
    quiet_noise,
    st.lists(st.integers(0, 40), max_size=6),
    st.sampled_from(list(cu48.Variant)),
)
def test_noise_and_chunking_do_not_change_a_content_framed_reply(
    board: int, hooks, before: bytes, after: bytes, cuts: list[int], variant: cu48.Variant
) -> None:
    status = cu48.Status(board, hooks)
    data = before + cu48.encode_status(status, variant) + after
    reader = cu48.status_reader(board, variant)
    points = [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    start, outcome = 0, None
    for point in points:
        outcome = reader.feed(data[start:point])
        start = point
        if outcome is not None:
            break
    assert outcome == status


@given(boards, st.integers(1, cu48.LOCKS), quiet_noise)
def test_silence_framing_takes_the_burst_tail(board: int, lock: int, before: bytes) -> None:
    reader = cu48.unlock_reader(board, lock)
    wire = cu48.encode_unlock_reply(board, lock)
    for byte in before + wire:
        assert reader.feed(bytes((byte,))) is None  # only the silence ends it
    assert reader.give_up() == cu48.UnlockAccepted(board, lock)


@given(boards, st.integers(1, cu48.LOCKS), st.binary(min_size=1, max_size=4))
def test_silence_framing_refuses_bytes_after_the_frame(board: int, lock: int, after: bytes) -> None:
    reader = cu48.unlock_reader(board, lock)
    reader.feed(cu48.encode_unlock_reply(board, lock) + after)
    outcome = reader.give_up()
    # The tail is not a frame, unless the extra bytes happen to form one.
    assert isinstance(outcome, BusFault) or outcome == cu48.UnlockAccepted(board, lock)


@given(st.binary(max_size=300))
def test_garbage_is_a_fault_never_an_exception(data: bytes) -> None:
    alt = cu48.status_reader(3, cu48.Variant.ALT_60)
    for reader in (cu16.status_reader(3), cu48.status_reader(3), alt, cu48.unlock_reader(3, 7)):
        outcome = read_frame(reader, data)
        if isinstance(outcome, BusFault):
            assert outcome.kind in set(FaultKind)
        else:  # a valid reply hidden in the garbage: it must check out
            assert isinstance(outcome, cu16.Status | cu48.Status | cu48.UnlockAccepted)


@given(st.binary(max_size=10))
def test_board_side_decoders_never_raise(data: bytes) -> None:
    cu16.decode_request(data)
    cu48.decode_request(data)


def test_a_long_babble_is_noise() -> None:
    reader: KerongReader[cu48.Status] = cu48.status_reader(0)
    assert reader.feed(b"\x55" * 300) == BusFault(
        FaultKind.NOISE, "no reply in a stream of garbage", raw=b"\x55" * 64
    )
