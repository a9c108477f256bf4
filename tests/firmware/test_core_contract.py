"""The contract of docs/reference-board.md, kept by the firmware core under
both interpreters (the old model's tests, tests/simulator/test_reference_board.py,
carried over to raw wires, debouncing and microsecond ticks)."""

from __future__ import annotations

import pytest

from firmware.core.board import DEBOUNCE_US, SETTLE_US
from protocol import reference_board as rb
from protocol.crc import with_crc
from protocol.errors import BusFault, FaultKind
from protocol.modbus import (
    ExceptionCode,
    ReadCoils,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    WriteEcho,
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
)
from simulator.micropython import RemoteBoard

from .engines import Engine, ask, status
from .wires import Wires

CHANNELS = 24
MS = 1000
HELD = DEBOUNCE_US + MS  # an input held this long is accepted


@pytest.fixture
def board(engine: Engine) -> RemoteBoard:
    return engine.board(CHANNELS)


@pytest.fixture
def wires(board: RemoteBoard) -> Wires:
    """Every door closed at power-up (what power-up finds is the start: counter 0)."""
    wires = Wires(board, CHANNELS)
    wires.close_all(CHANNELS, 0)
    board.power_up(MS)
    return wires


def refused(reply: object) -> int:
    assert isinstance(reply, BusFault) and reply.kind == FaultKind.EXCEPTION_REPLY, reply
    assert reply.exception_code is not None
    return reply.exception_code


def open_and_close(wires: Wires, channel: int, now: int, held: int = HELD) -> int:
    wires.set(wires.door, channel, False, now)
    wires.board.advance(now + held)
    wires.set(wires.door, channel, True, now + held)
    wires.board.advance(now + 2 * held)
    return now + 2 * held


# -- status, latches and the acknowledgement ---------------------------------------


def test_power_up_with_doors_closed(board: RemoteBoard, wires: Wires) -> None:
    st = status(board, 10 * MS)
    assert st.flags == rb.StatusFlags.RESET and st.change_counter == 0
    assert all(c == rb.ChannelStatus(True, False, False, False) for c in st.channels)


def test_power_up_with_a_door_open_latches_it(board: RemoteBoard) -> None:
    Wires(board, CHANNELS).close_all(CHANNELS - 1, 0)  # channel 24 open
    board.power_up(MS)
    st = status(board, 10 * MS)
    assert st.change_counter == 0
    assert st.channel(24) == rb.ChannelStatus(False, False, False, True)


def test_an_open_and_close_between_polls_is_latched(board: RemoteBoard, wires: Wires) -> None:
    now = open_and_close(wires, 17, 10 * MS)  # bit 0 of each field's second register
    st = status(board, now)
    assert st.channel(17) == rb.ChannelStatus(True, False, False, True)
    assert st.change_counter == 2  # two edges, although the bit is back where it was


def test_a_matching_ack_clears_latches_and_reset(board: RemoteBoard, wires: Wires) -> None:
    now = open_and_close(wires, 3, 10 * MS)
    st = status(board, now)
    assert isinstance(ask(board, rb.ack_request(st.change_counter), now + MS), WriteEcho)
    after = status(board, now + 2 * MS)
    assert after.flags == rb.StatusFlags(0)
    assert not after.channel(3).opened_since_ack
    assert after.change_counter == st.change_counter  # an ack is not a change


def test_a_change_between_read_and_ack_survives_the_ack(board: RemoteBoard, wires: Wires) -> None:
    st = status(board, 10 * MS)
    now = open_and_close(wires, 6, 11 * MS)  # after the host's read, before its ack
    assert isinstance(ask(board, rb.ack_request(st.change_counter), now), WriteEcho)
    after = status(board, now + MS)
    assert after.channel(6).opened_since_ack
    assert after.flags & rb.StatusFlags.RESET  # the stale ack changed nothing


def test_an_ack_while_the_door_is_open_keeps_its_latch(board: RemoteBoard, wires: Wires) -> None:
    wires.set(wires.door, 1, False, 10 * MS)
    board.advance(10 * MS + HELD)
    st = status(board, 10 * MS + HELD)
    assert not st.channel(1).door_closed
    ask(board, rb.ack_request(st.change_counter), 10 * MS + HELD + MS)
    assert status(board, 10 * MS + HELD + 2 * MS).channel(1).opened_since_ack


# -- debouncing --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["door", "item"])
def test_a_blip_shorter_than_the_debounce_is_not_reported(
    board: RemoteBoard, wires: Wires, field: str
) -> None:
    wire = getattr(wires, field)
    level = field == "door"
    wires.set(wire, 5, not level, 10 * MS)
    board.advance(10 * MS + DEBOUNCE_US - MS)
    wires.set(wire, 5, level, 10 * MS + DEBOUNCE_US - 1)
    st = status(board, 200 * MS)
    assert st.change_counter == 0
    assert st.channel(5) == rb.ChannelStatus(True, False, False, False)


def test_a_chattering_switch_does_not_blind_its_neighbours(
    board: RemoteBoard, wires: Wires
) -> None:
    # channel 2's switch toggles every 5 ms; channel 1's door opens for 100 ms
    wires.set(wires.door, 1, False, 10 * MS)
    for k in range(20):
        wires.set(wires.door, 2, k % 2 == 1, 10 * MS + k * 5 * MS)
    wires.set(wires.door, 1, True, 110 * MS)
    board.advance(110 * MS + HELD)
    st = status(board, 140 * MS)
    assert st.channel(1).opened_since_ack and st.channel(1).door_closed
    assert not st.channel(2).opened_since_ack  # its chatter never held for the debounce


def test_a_change_held_for_the_debounce_is_reported_once_settled(
    board: RemoteBoard, wires: Wires
) -> None:
    wires.set(wires.item, 5, True, 10 * MS)
    assert not status(board, 10 * MS + DEBOUNCE_US - MS).channel(5).item_present
    assert board.wait_us() == MS  # the board wakes itself when the debounce is due
    board.advance(10 * MS + DEBOUNCE_US)
    st = status(board, 10 * MS + DEBOUNCE_US + MS)
    assert st.channel(5).item_present and st.change_counter == 1


# -- pulses and lock faults ------------------------------------------------------------


def test_an_unlock_pulses_for_the_default_and_ends_by_itself(board: RemoteBoard) -> None:
    assert isinstance(ask(board, rb.unlock_request(4, CHANNELS), 10 * MS), WriteEcho)
    assert board.coils == [0b1000, 0]
    assert status(board, 10 * MS).flags & rb.StatusFlags.PULSE_ACTIVE
    reply = ask(board, ReadHoldingRegisters(rb.HR_UNLOCK_BASE + 2, 3), 60 * MS)
    assert reply == RegistersReply(ReadHoldingRegisters.function, (0, 450, 0))
    board.advance(10 * MS + rb.PULSE_DEFAULT_MS * MS)
    assert board.coils == [0, 0]
    assert not status(board, 600 * MS).flags & rb.StatusFlags.PULSE_ACTIVE


def test_repeating_an_unlock_restarts_the_pulse(board: RemoteBoard) -> None:
    ask(board, rb.unlock_request(1, CHANNELS, pulse_ms=300), 0)
    ask(board, rb.unlock_request(1, CHANNELS, pulse_ms=300), 200 * MS)
    board.advance(350 * MS)
    assert board.coils == [1, 0]
    board.advance(500 * MS)
    assert board.coils == [0, 0]


def test_the_pulse_default_register_sets_the_pulse(board: RemoteBoard) -> None:
    assert isinstance(ask(board, WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, 100), 0), WriteEcho)
    ask(board, rb.unlock_request(1, CHANNELS), 10 * MS)
    board.advance(110 * MS)
    assert board.coils == [0, 0]


def test_all_outputs_off(board: RemoteBoard) -> None:
    for ch in (1, 2, 17):
        ask(board, rb.unlock_request(ch, CHANNELS), 0)
    assert board.coils == [0b11, 1]
    assert isinstance(ask(board, rb.all_outputs_off_request(), 100 * MS), WriteEcho)
    assert board.coils == [0, 0]


def test_a_jammed_lock_is_a_fault_after_the_settling_time(board: RemoteBoard, wires: Wires) -> None:
    # channel 7's bolt never reads released: the feedback wire stays 0
    assert not status(board, 10 * MS).channel(7).lock_fault  # idle: nothing to disagree about
    ask(board, rb.unlock_request(7, CHANNELS, pulse_ms=100), 20 * MS)
    assert not status(board, 20 * MS + SETTLE_US - MS).channel(7).lock_fault  # still settling
    board.advance(20 * MS + SETTLE_US)
    st = status(board, 20 * MS + SETTLE_US + MS)
    assert st.channel(7).lock_fault and st.change_counter == 1


def test_lock_fault_is_live_it_clears_once_the_coil_is_off_and_settled(
    board: RemoteBoard, wires: Wires
) -> None:
    """Issue 14.3: a jammed channel pulsed raised lock_fault, which stayed 1
    after the coil was off, through a matching ack, until the next good pulse."""
    ask(board, rb.unlock_request(7, CHANNELS, pulse_ms=100), 20 * MS)
    board.advance(20 * MS + SETTLE_US)
    assert status(board, 20 * MS + SETTLE_US + MS).channel(7).lock_fault
    board.advance(120 * MS)  # the pulse is over: the coil switches off and settles
    assert board.coils == [0, 0]
    assert status(board, 120 * MS + SETTLE_US - MS).channel(7).lock_fault  # still settling
    board.advance(120 * MS + SETTLE_US)
    st = status(board, 120 * MS + SETTLE_US + MS)
    assert not st.channel(7).lock_fault  # off and not released: they agree
    assert st.change_counter == 2  # both edges are changes
    ask(board, rb.ack_request(st.change_counter), 200 * MS)
    st = status(board, 210 * MS)
    assert not st.channel(7).lock_fault and st.change_counter == 2


def test_a_jam_freed_during_the_pulse_clears_the_fault_at_once(
    board: RemoteBoard, wires: Wires
) -> None:
    ask(board, rb.unlock_request(7, CHANNELS, pulse_ms=1000), 20 * MS)
    board.advance(20 * MS + SETTLE_US)
    assert status(board, 20 * MS + SETTLE_US + MS).channel(7).lock_fault
    wires.set(wires.feedback, 7, True, 200 * MS)  # the bolt comes free while the coil is on
    board.advance(200 * MS + HELD)
    st = status(board, 200 * MS + HELD)
    assert board.coils == [1 << 6, 0] and not st.channel(7).lock_fault


def test_a_bolt_returning_after_a_pulse_is_no_fault_until_settled(
    board: RemoteBoard, wires: Wires
) -> None:
    ask(board, rb.unlock_request(4, CHANNELS, pulse_ms=100), 10 * MS)
    wires.set(wires.feedback, 4, True, 10 * MS)  # the bolt releases
    board.advance(110 * MS)  # the pulse ends; the bolt takes a while to return
    assert board.coils == [0, 0]
    assert not status(board, 110 * MS + SETTLE_US - MS).channel(4).lock_fault
    board.advance(110 * MS + SETTLE_US)  # still released once settled: stuck open
    assert status(board, 110 * MS + SETTLE_US + MS).channel(4).lock_fault


def test_a_bolt_released_while_its_coil_is_off_is_a_fault(board: RemoteBoard, wires: Wires) -> None:
    wires.set(wires.feedback, 2, True, 10 * MS)
    board.advance(10 * MS + HELD)
    assert status(board, 10 * MS + HELD).channel(2).lock_fault


# -- configuration ------------------------------------------------------------------------


def test_config_read_block(board: RemoteBoard) -> None:
    reply = ask(board, rb.config_read_request(), 0)
    assert reply == RegistersReply(
        ReadHoldingRegisters.function,
        (rb.PULSE_DEFAULT_MS, 0, 0, 0, 1, rb.FACTORY_SERIAL_FORMAT),
    )


def test_polarity_inverts_the_status_and_counts_as_changes(
    board: RemoteBoard, wires: Wires
) -> None:
    polarity = rb.Polarity.DOOR_INVERTED | rb.Polarity.ITEM_INVERTED
    assert isinstance(ask(board, rb.configure_request(400, polarity), 10 * MS), WriteEcho)
    st = status(board, 11 * MS)
    assert all(not c.door_closed and c.item_present and c.opened_since_ack for c in st.channels)
    assert st.change_counter == 2 * CHANNELS


def test_inverted_lock_feedback_reports_faults_on_idle_locks(
    board: RemoteBoard, wires: Wires
) -> None:
    ask(board, WriteSingleRegister(rb.HR_POLARITY, int(rb.Polarity.LOCK_FEEDBACK_INVERTED)), 0)
    assert all(c.lock_fault for c in status(board, MS).channels)


def test_the_unit_address_changes_after_the_reply_and_is_kept(board: RemoteBoard) -> None:
    reply = ask(board, rb.set_unit_address_request(17), 0, unit=1)
    assert reply == WriteEcho(WriteSingleRegister.function, rb.HR_UNIT_ADDRESS, 17)
    assert board.unit == 17
    assert ask(board, rb.identity_request(), MS, unit=1) is None
    assert isinstance(ask(board, rb.identity_request(), 2 * MS, unit=17), RegistersReply)
    board.power_up(3 * MS)
    assert board.unit == 17  # kept in flash
    assert isinstance(ask(board, rb.identity_request(), 4 * MS, unit=17), RegistersReply)


def test_the_serial_format_register_is_stored(board: RemoteBoard) -> None:
    value = 4 | 3 << 8  # 115200 bps, 8N1
    assert isinstance(ask(board, WriteSingleRegister(rb.HR_SERIAL_FORMAT, value), 0), WriteEcho)
    board.power_up(MS)
    reply = ask(board, ReadHoldingRegisters(rb.HR_SERIAL_FORMAT, 1), 2 * MS)
    assert reply == RegistersReply(ReadHoldingRegisters.function, (value,))


# -- exceptions -------------------------------------------------------------------------------


@pytest.mark.parametrize("request_", [ReadCoils(0, 8), WriteSingleCoil(0, 0xFF00)])
def test_an_unsupported_function_is_exception_01(board: RemoteBoard, request_: object) -> None:
    assert refused(ask(board, request_, 0)) == ExceptionCode.ILLEGAL_FUNCTION  # type: ignore[arg-type]


def test_an_unknown_function_code_is_exception_01(board: RemoteBoard) -> None:
    reply = board.deliver(with_crc(bytes((1, 0x2B, 0x0E, 0x01, 0x00))), 0)
    assert reply == with_crc(bytes((1, 0xAB, 0x01)))


@pytest.mark.parametrize(
    "request_",
    [
        ReadInputRegisters(0, rb.IDENTITY_COUNT + 1),  # runs past the identity block
        ReadInputRegisters(0x0008, 1),  # the gap
        ReadInputRegisters(rb.IR_STATUS, 11),  # one past 24 channels' block
        ReadHoldingRegisters(rb.HOLDING_COUNT, 1),
        ReadHoldingRegisters(rb.HR_UNLOCK_BASE + CHANNELS, 1),
        WriteSingleRegister(rb.HOLDING_COUNT, 1),
        WriteSingleRegister(rb.HR_UNLOCK_BASE + CHANNELS, 0),
        WriteMultipleRegisters(rb.HR_SERIAL_FORMAT, (1, 1)),  # runs past the block
    ],
)
def test_a_bad_address_is_exception_02(board: RemoteBoard, request_: object) -> None:
    assert refused(ask(board, request_, 0)) == ExceptionCode.ILLEGAL_DATA_ADDRESS  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "value"),
    [
        (rb.HR_PULSE_DEFAULT_MS, 49),
        (rb.HR_PULSE_DEFAULT_MS, 10_001),
        (rb.HR_POLARITY, 0x0008),
        (rb.HR_COMMAND, 0x1234),
        (rb.HR_UNIT_ADDRESS, 0),
        (rb.HR_UNIT_ADDRESS, 248),
        (rb.HR_SERIAL_FORMAT, 5),  # no sixth baud rate
        (rb.HR_SERIAL_FORMAT, 4 << 8),  # no fifth frame
        (rb.HR_UNLOCK_BASE, 10),
        (rb.HR_UNLOCK_BASE, 20_000),
    ],
)
def test_a_bad_value_is_exception_03_and_changes_nothing(
    board: RemoteBoard, address: int, value: int
) -> None:
    before = ask(board, rb.config_read_request(), 0)
    reply = ask(board, WriteSingleRegister(address, value), MS)
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_VALUE
    assert ask(board, rb.config_read_request(), 2 * MS) == before
    assert board.coils == [0, 0]


def test_a_quantity_out_of_range_is_exception_03(board: RemoteBoard) -> None:
    frame = with_crc(bytes((1, 0x04, 0x00, 0x00, 0x00, 0x7E)))  # 126 registers
    assert board.deliver(frame, 0) == with_crc(bytes((1, 0x84, 0x03)))


def test_fc16_is_checked_whole_before_anything_is_written(board: RemoteBoard) -> None:
    reply = ask(board, WriteMultipleRegisters(rb.HR_PULSE_DEFAULT_MS, (300, 0x0008)), 0)
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_VALUE
    config = ask(board, rb.config_read_request(), MS)
    assert isinstance(config, RegistersReply) and config.registers[0] == rb.PULSE_DEFAULT_MS
    # an unlock in the same write as a bad value pulses nothing
    reply = ask(board, WriteMultipleRegisters(rb.HR_UNLOCK_BASE, (500, 20)), 2 * MS)
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_VALUE
    assert board.coils == [0, 0]
    # the lowest exception code of the registers wins: 02 (address) before 03 (value)
    reply = ask(board, WriteMultipleRegisters(rb.HR_UNIT_ADDRESS, (0, 1, 1)), 3 * MS)
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert board.unit == 1


# -- addressing ---------------------------------------------------------------------------------


def test_other_units_and_broken_frames_get_no_reply(board: RemoteBoard) -> None:
    assert ask(board, rb.identity_request(), 0, unit=2) is None
    frame = bytearray(with_crc(bytes.fromhex("010400000008")))
    frame[-1] ^= 0xFF
    assert board.deliver(bytes(frame), MS) is None
    assert board.deliver(b"\x01\x04", 2 * MS) is None
    assert board.deliver(bytes(range(256)), 3 * MS) is None
    assert board.deliver(with_crc(bytes.fromhex("010400000008"))[:-1], 4 * MS) is None
    # an FC16 whose byte count promises more values than the frame holds
    short = with_crc(bytes.fromhex("0110010000020400C8"))
    assert board.deliver(short, 5 * MS) is None
    assert board.coils == [0, 0]


def test_broadcast_writes_execute_without_a_reply(board: RemoteBoard) -> None:
    assert ask(board, rb.unlock_request(9, CHANNELS), 0, unit=0) is None
    assert board.coils == [1 << 8, 0]
    assert ask(board, rb.all_outputs_off_request(), 100 * MS, unit=0) is None
    assert board.coils == [0, 0]
    assert ask(board, WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, 5), 200 * MS, unit=0) is None
    config = ask(board, rb.config_read_request(), 300 * MS)
    assert isinstance(config, RegistersReply) and config.registers[0] == rb.PULSE_DEFAULT_MS


def test_a_broadcast_read_is_ignored(board: RemoteBoard) -> None:
    assert board.deliver(with_crc(bytes((0, 0x04, 0x00, 0x00, 0x00, 0x08))), 0) is None
    assert board.info()["frames"] == 1  # received, and deliberately not answered
