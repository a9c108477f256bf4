"""The reference board's register map: encoding the host relies on."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import reference_board as rb
from protocol.errors import BusFault, FaultKind, UsageError
from protocol.modbus import RegistersReply, encode_request
from protocol.modbus.pdu import FunctionCode

channel_counts = st.integers(1, rb.MAX_CHANNELS)


@st.composite
def statuses(draw):
    n = draw(channel_counts)
    chans = tuple(rb.ChannelStatus(*draw(st.tuples(*[st.booleans()] * 4))) for _ in range(n))
    return rb.BoardStatus(
        flags=rb.StatusFlags(draw(st.integers(0, 3))),
        change_counter=draw(st.integers(0, 0xFFFF)),
        channels=chans,
    )


def as_reply(words) -> RegistersReply:
    return RegistersReply(FunctionCode.READ_INPUT_REGISTERS, tuple(words))


@given(statuses())
def test_status_round_trip(status) -> None:
    words = rb.encode_status(status)
    assert len(words) == rb.status_register_count(len(status.channels))
    assert rb.parse_status(as_reply(words), len(status.channels)) == status


@pytest.mark.parametrize(
    ("channels", "registers", "reply_bytes"), [(24, 10, 25), (48, 14, 33), (16, 6, 17)]
)
def test_status_block_size(channels, registers, reply_bytes) -> None:
    assert rb.status_register_count(channels) == registers
    assert 5 + 2 * registers == reply_bytes


def test_channel_bit_order() -> None:
    # Channel 1 is bit 0 of the field's first register; channel 17 bit 0 of the second.
    words = [0, 7, 0b1, 0b1, 0, 0, 0, 0, 0, 0]
    status = rb.parse_status(as_reply(words), 24)
    assert status.channel(1).door_closed
    assert status.channel(17).door_closed
    assert not status.channel(2).door_closed
    assert status.change_counter == 7


def test_identity() -> None:
    identity = rb.Identity(1, 24, (1, 2), 0x0024, 0x00ABCDEF, rb.Capabilities(7))
    assert rb.parse_identity(as_reply(rb.encode_identity(identity))) == identity


def test_wrong_magic_is_not_a_reference_board() -> None:
    words = [0x1234, 1, 24, 0, 0, 0, 0, 0]
    fault = rb.parse_identity(as_reply(words))
    assert isinstance(fault, BusFault)
    assert fault.kind is FaultKind.MISMATCH
    assert "not a reference board" in fault.detail


def test_short_status_is_a_mismatch() -> None:
    fault = rb.parse_status(as_reply([0] * 9), 24)
    assert isinstance(fault, BusFault)
    assert fault.kind is FaultKind.MISMATCH


def test_faults_pass_through() -> None:
    timeout = BusFault(FaultKind.TIMEOUT)
    assert rb.parse_status(timeout, 24) is timeout


def test_request_bytes() -> None:
    assert encode_request(1, rb.identity_request())[:6] == bytes.fromhex("010400000008")
    assert encode_request(1, rb.status_request(24))[:6] == bytes.fromhex("01040010000A")
    assert encode_request(1, rb.unlock_request(7, 24, 500))[:6] == bytes.fromhex("0106010601F4")
    assert encode_request(1, rb.ack_request(0x12))[:6] == bytes.fromhex("010600020012")


@pytest.mark.parametrize(
    "call",
    [
        lambda: rb.unlock_request(0, 24),
        lambda: rb.unlock_request(25, 24),
        lambda: rb.unlock_request(1, 24, 20),
        lambda: rb.unlock_request(1, 24, 20_000),
        lambda: rb.status_request(49),
        lambda: rb.set_unit_address_request(248),
        lambda: rb.configure_request(10, rb.Polarity(0)),
    ],
)
def test_misuse_raises(call) -> None:
    with pytest.raises(UsageError):
        call()
