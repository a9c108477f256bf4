"""The simulator's reference board (the firmware core behind its adapter)
against protocol/reference_board.py, register by register.

The firmware debounces its inputs (DEBOUNCE_US) and judges a lock's
feedback once the coil has settled (SETTLE_US): the times below leave that
much room between a change at a compartment and the read that shows it."""

from __future__ import annotations

import pytest

from firmware.core.board import DEBOUNCE_US, SETTLE_US
from firmware.core.firmware import WATCHDOG_MS
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
    WriteSingleRegister,
    encode_request,
)
from simulator.boards import ReferenceBoard
from simulator.physics import Compartment, SensorFault, SensorMode, Size

from .helpers import answer, ask

CHANNELS = 24
DEBOUNCE = DEBOUNCE_US / 1e6
SETTLE = SETTLE_US / 1e6


@pytest.fixture
def comps() -> list[Compartment]:
    return [Compartment(f"A{i:02d}", Size.S) for i in range(1, CHANNELS + 1)]


@pytest.fixture(params=["cpython", "micropython"])
def board(request: pytest.FixtureRequest, comps: list[Compartment]) -> ReferenceBoard:
    """The same tests with the firmware in this interpreter and in real MicroPython."""
    engine = None if request.param == "cpython" else request.getfixturevalue("micropython_engine")
    return ReferenceBoard(1, comps, now=0.0, engine=engine)


def status(board: ReferenceBoard, now: float = 0.0) -> rb.BoardStatus:
    result = rb.parse_status(answer(board, rb.status_request(CHANNELS), now=now), CHANNELS)
    assert isinstance(result, rb.BoardStatus), result
    return result


def refused(reply: object) -> int:
    assert isinstance(reply, BusFault) and reply.kind == FaultKind.EXCEPTION_REPLY, reply
    assert reply.exception_code is not None
    return reply.exception_code


# -- identity and status ---------------------------------------------------------


def test_identity_block(board: ReferenceBoard) -> None:
    identity = rb.parse_identity(answer(board, rb.identity_request()))
    assert isinstance(identity, rb.Identity)
    assert identity.channels == CHANNELS
    assert identity.map_version == rb.MAP_VERSION
    assert identity.capabilities == (
        rb.Capabilities.DOOR_SWITCH | rb.Capabilities.ITEM_SENSOR | rb.Capabilities.LOCK_FEEDBACK
    )


def test_power_up_status_all_closed_reset_flag_set(board: ReferenceBoard) -> None:
    st = status(board)
    assert st.flags == rb.StatusFlags.RESET
    assert st.change_counter == 0
    assert all(c == rb.ChannelStatus(True, False, False, False) for c in st.channels)


def test_status_block_is_w_registers_per_field(board: ReferenceBoard) -> None:
    reply = ask(board, rb.status_request(CHANNELS))
    assert isinstance(reply, RegistersReply)
    assert len(reply.registers) == 2 + 4 * 2  # W = 2 for 24 channels


def test_part_of_a_block_can_be_read(board: ReferenceBoard) -> None:
    reply = ask(board, ReadInputRegisters(rb.IR_CHANNELS, 1))
    assert isinstance(reply, RegistersReply) and reply.registers == (CHANNELS,)
    reply = ask(board, ReadInputRegisters(rb.IR_STATUS + 1, 1))
    assert isinstance(reply, RegistersReply) and reply.registers == (0,)


def test_door_item_and_latch_bits_per_channel(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[16].force_door(0.0)  # channel 17: bit 0 of each field's second register
    comps[16].put_item(0.0)
    assert status(board, DEBOUNCE / 2).channel(17).door_closed  # not yet settled
    st = status(board, DEBOUNCE)
    assert st.channel(17) == rb.ChannelStatus(False, True, False, True)
    assert st.change_counter == 2
    regs = ask(board, rb.status_request(CHANNELS), now=DEBOUNCE)
    assert isinstance(regs, RegistersReply)
    door_closed, item, fault, latch = (regs.registers[2 + 2 * k : 4 + 2 * k] for k in range(4))
    assert door_closed == (0xFFFF, 0x00FE)
    assert item == (0, 1) and fault == (0, 0) and latch == (0, 1)


# -- latches and acknowledgement ------------------------------------------------------


def test_open_and_close_between_polls_is_latched(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[2].force_door(1.0)
    comps[2].close_door(1.1)
    st = status(board, 2.0)
    assert st.channel(3).door_closed and st.channel(3).opened_since_ack
    assert st.change_counter == 2  # two edges, even though the bit is back where it was


def test_a_blip_shorter_than_the_debounce_is_not_a_change(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[2].force_door(1.0)
    comps[2].close_door(1.0 + DEBOUNCE / 2)
    st = status(board, 2.0)
    assert st.channel(3).door_closed and not st.channel(3).opened_since_ack
    assert st.change_counter == 0


def test_matching_ack_clears_latches_and_reset(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[2].force_door(1.0)
    comps[2].close_door(1.1)
    st = status(board, 1.2)
    assert isinstance(ask(board, rb.ack_request(st.change_counter), now=1.2), WriteEcho)
    after = status(board, 1.2)
    assert after.flags == rb.StatusFlags(0)
    assert not after.channel(3).opened_since_ack
    assert after.change_counter == st.change_counter  # an ack is not a change


def test_a_change_between_read_and_ack_survives_the_ack(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    st = status(board)
    comps[5].force_door(1.0)  # after the host's read, before its ack
    comps[5].close_door(1.1)
    assert isinstance(ask(board, rb.ack_request(st.change_counter), now=1.2), WriteEcho)
    assert status(board, 1.2).change_counter == 2
    after = status(board, 1.3)
    assert after.channel(6).opened_since_ack
    assert after.flags & rb.StatusFlags.RESET  # the stale ack changed nothing


def test_ack_while_the_door_is_still_open_keeps_the_latch(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[0].force_door(1.0)
    st = status(board, 1.1)
    ask(board, rb.ack_request(st.change_counter), now=1.1)
    assert status(board, 1.1).channel(1).opened_since_ack


def test_change_counter_wraps_at_16_bits(comps: list[Compartment]) -> None:
    board = ReferenceBoard(1, comps, now=0.0)  # 65536 edges: the in-process engine only
    now = 0.0
    for _ in range(0x8000):  # two edges a round: 65536 edges
        comps[0].force_door(now)
        comps[0].close_door(now + 0.05)
        now += 0.1
    assert status(board, now).change_counter == 0
    comps[0].force_door(now)
    assert status(board, now + 0.05).change_counter == 1


# -- unlock pulses ----------------------------------------------------------------------


def test_unlock_pulses_for_the_default_and_expires_on_tick(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    assert isinstance(ask(board, rb.unlock_request(4, CHANNELS), now=10.0), WriteEcho)
    assert comps[3].released
    assert status(board, 10.0).flags & rb.StatusFlags.PULSE_ACTIVE
    board.tick(10.0 + SETTLE)
    assert board.next_deadline() == pytest.approx(10.0 + rb.PULSE_DEFAULT_MS / 1000)
    board.tick(10.499)
    assert comps[3].released
    board.tick(10.5)
    assert not comps[3].released
    assert not status(board, 10.6).flags & rb.StatusFlags.PULSE_ACTIVE
    board.tick(10.5 + SETTLE)
    assert board.next_deadline() is None


def test_unlock_register_reads_the_ms_left(board: ReferenceBoard) -> None:
    ask(board, rb.unlock_request(2, CHANNELS, pulse_ms=200), now=5.0)
    reply = ask(board, ReadHoldingRegisters(rb.HR_UNLOCK_BASE, 3), now=5.05)
    assert isinstance(reply, RegistersReply) and reply.registers == (0, 150, 0)


def test_repeating_an_unlock_restarts_the_pulse(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    ask(board, rb.unlock_request(1, CHANNELS, pulse_ms=300), now=0.0)
    ask(board, rb.unlock_request(1, CHANNELS, pulse_ms=300), now=0.2)
    board.tick(0.35)
    assert comps[0].released
    board.tick(0.5)
    assert not comps[0].released


def test_pulse_default_register_sets_the_pulse(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    assert isinstance(ask(board, WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, 100)), WriteEcho)
    ask(board, rb.unlock_request(1, CHANNELS), now=1.0)
    board.tick(1.1)
    assert not comps[0].released


def test_all_outputs_off_command(board: ReferenceBoard, comps: list[Compartment]) -> None:
    for ch in (1, 2, 3):
        ask(board, rb.unlock_request(ch, CHANNELS), now=0.0)
    assert isinstance(ask(board, rb.all_outputs_off_request(), now=0.1), WriteEcho)
    assert not any(c.energised for c in comps)
    board.tick(0.1 + SETTLE)
    assert board.next_deadline() is None


def test_power_up_turns_outputs_off_and_sets_reset(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    ask(board, rb.unlock_request(1, CHANNELS), now=0.0)
    st = status(board)
    ask(board, rb.ack_request(st.change_counter))
    board.power_up(1.0)
    assert not comps[0].energised
    after = status(board, 1.0)
    assert after.flags == rb.StatusFlags.RESET and after.change_counter == 0


def test_a_jammed_lock_reports_a_lock_fault_while_its_pulse_fails(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[6].jam(0.0)
    assert not status(board).channel(7).lock_fault  # idle: nothing to disagree about
    ask(board, rb.unlock_request(7, CHANNELS, pulse_ms=100), now=1.0)
    assert not status(board, 1.0 + SETTLE / 2).channel(7).lock_fault  # the bolt may still move
    st = status(board, 1.0 + SETTLE)
    assert st.channel(7).lock_fault and not comps[6].door_open
    # live, not latched (issue 14.3): the pulse over and settled, coil and bolt agree
    board.tick(1.1)
    st = status(board, 1.1 + 2 * SETTLE)
    assert not comps[6].energised and not st.channel(7).lock_fault
    ask(board, rb.ack_request(st.change_counter), now=1.3)
    assert not status(board, 1.3).channel(7).lock_fault
    comps[6].unjam(2.0)
    ask(board, rb.unlock_request(7, CHANNELS, pulse_ms=100), now=3.0)
    assert not status(board, 3.0 + SETTLE).channel(7).lock_fault


# -- configuration registers -------------------------------------------------------------


def test_config_read_block(board: ReferenceBoard) -> None:
    reply = ask(board, rb.config_read_request())
    assert isinstance(reply, RegistersReply)
    # 0x0005: serial_format, 19200 bps (code 1) 8E1 (code 0): the simulator's default line
    assert reply.registers == (rb.PULSE_DEFAULT_MS, 0, 0, 0, 1, 1)


def test_polarity_inverts_the_status_bits_and_counts_as_a_change(board: ReferenceBoard) -> None:
    polarity = rb.Polarity.DOOR_INVERTED | rb.Polarity.ITEM_INVERTED
    assert isinstance(ask(board, rb.configure_request(400, polarity)), WriteEcho)
    st = status(board)
    assert all(not c.door_closed and c.item_present for c in st.channels)
    assert all(c.opened_since_ack for c in st.channels)  # they read open now
    assert st.change_counter == 2 * CHANNELS


def test_polarity_corrects_an_inverted_door_sensor(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    comps[0].set_sensor("door", SensorFault(SensorMode.INVERTED))
    assert not status(board, DEBOUNCE).channel(1).door_closed
    ask(board, WriteSingleRegister(rb.HR_POLARITY, int(rb.Polarity.DOOR_INVERTED)), now=DEBOUNCE)
    st = status(board, DEBOUNCE)
    assert st.channel(1).door_closed and not st.channel(2).door_closed


def test_inverted_lock_feedback_polarity_reports_faults_on_idle_locks(
    board: ReferenceBoard,
) -> None:
    ask(board, WriteSingleRegister(rb.HR_POLARITY, int(rb.Polarity.LOCK_FEEDBACK_INVERTED)))
    assert all(c.lock_fault for c in status(board).channels)


# -- exceptions ------------------------------------------------------------------------------
# Every exception rule (01, 02, 03, register by register) is the firmware core's and is
# tested there, under both interpreters: tests/firmware/test_core_contract.py. Here, that
# the simulator's board carries them to the line.


def test_exceptions_reach_the_line(board: ReferenceBoard) -> None:
    assert refused(ask(board, ReadCoils(0, 8))) == ExceptionCode.ILLEGAL_FUNCTION
    assert refused(ask(board, ReadInputRegisters(0x0008, 1))) == ExceptionCode.ILLEGAL_DATA_ADDRESS
    reply = ask(board, WriteSingleRegister(rb.HR_PULSE_DEFAULT_MS, 49))
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_VALUE


def test_fc16_is_checked_whole_before_anything_is_written(board: ReferenceBoard) -> None:
    reply = ask(board, WriteMultipleRegisters(rb.HR_PULSE_DEFAULT_MS, (300, 0x0008)))
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_VALUE
    config = ask(board, rb.config_read_request())
    assert isinstance(config, RegistersReply) and config.registers[0] == rb.PULSE_DEFAULT_MS
    reply = ask(board, WriteMultipleRegisters(rb.HR_SERIAL_FORMAT, (1, 1)))
    assert refused(reply) == ExceptionCode.ILLEGAL_DATA_ADDRESS


def test_a_quantity_out_of_range_is_exception_03(board: ReferenceBoard) -> None:
    frame = with_crc(bytes((1, 0x04, 0x00, 0x00, 0x00, 0x7E)))  # 126 registers
    assert board.on_request(frame, 0.0) == with_crc(bytes((1, 0x84, 0x03)))


# -- addressing ---------------------------------------------------------------------------------


def test_other_units_and_garbage_get_no_reply(board: ReferenceBoard) -> None:
    assert ask(board, rb.identity_request(), unit=2) is None
    frame = bytearray(encode_request(1, rb.identity_request()))
    frame[-1] ^= 0xFF
    assert board.on_request(bytes(frame), 0.0) is None
    assert board.on_request(b"\x01\x04", 0.0) is None
    assert board.on_request(b"", 0.0) is None
    assert board.on_request(bytes(range(256)), 0.0) is None


def test_broadcast_writes_execute_without_reply(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    assert ask(board, rb.unlock_request(9, CHANNELS), unit=0, now=0.0) is None
    assert comps[8].released
    assert ask(board, rb.all_outputs_off_request(), unit=0, now=0.1) is None
    assert not comps[8].released


def test_a_broadcast_read_is_ignored(board: ReferenceBoard) -> None:
    frame = with_crc(bytes((0, 0x04, 0x00, 0x00, 0x00, 0x08)))
    assert board.on_request(frame, 0.0) is None


def test_unit_address_change_takes_effect_after_the_reply(board: ReferenceBoard) -> None:
    reply = ask(board, rb.set_unit_address_request(17), unit=1)
    assert reply == WriteEcho(WriteSingleRegister.function, rb.HR_UNIT_ADDRESS, 17)
    assert board.unit == 17
    assert ask(board, rb.identity_request(), unit=1) is None
    assert isinstance(ask(board, rb.identity_request(), unit=17), RegistersReply)
    board.power_up(1.0)
    assert board.unit == 17  # kept in EEPROM


# -- settings in flash, the line's format, the watchdog ----------------------------------------


def test_settings_survive_a_power_cut(board: ReferenceBoard) -> None:
    ask(board, rb.configure_request(700, rb.Polarity.ITEM_INVERTED), now=1.0)
    board.power_up(2.0)
    config = ask(board, rb.config_read_request(), now=2.0)
    assert isinstance(config, RegistersReply)
    assert config.registers[:2] == (700, int(rb.Polarity.ITEM_INVERTED))
    assert not status(board, 2.0).flags & rb.StatusFlags.FACTORY_DEFAULTS


def test_a_new_serial_format_applies_at_the_next_power_up(board: ReferenceBoard) -> None:
    request = rb.set_serial_format_request(115200, "8N1")
    assert ask(board, request, now=1.0) == WriteEcho(
        WriteSingleRegister.function, rb.HR_SERIAL_FORMAT, 4 | 3 << 8
    )
    assert isinstance(ask(board, rb.identity_request(), now=1.1), RegistersReply)  # still heard
    board.power_up(2.0)
    # the line still runs 19200 8E1: to the board it is noise, and it stays silent
    assert ask(board, rb.identity_request(), now=2.1) is None


def test_a_stalled_main_loop_is_reset_by_the_watchdog(
    board: ReferenceBoard, comps: list[Compartment]
) -> None:
    ask(board, rb.unlock_request(3, CHANNELS, pulse_ms=10_000), now=1.0)
    ack = status(board, 1.1)
    ask(board, rb.ack_request(ack.change_counter), now=1.1)
    board.stall(1.2)
    assert ask(board, rb.identity_request(), now=1.5) is None  # nobody serves the UART
    assert comps[2].energised  # a hung loop leaves the coil as it was...
    due = board.next_deadline()
    assert due is not None and due == pytest.approx(1.2 + WATCHDOG_MS / 1000)
    board.tick(due)
    assert not comps[2].energised  # ...until the watchdog resets the board
    after = status(board, due + 0.01)
    assert after.flags == rb.StatusFlags.RESET | rb.StatusFlags.WATCHDOG
