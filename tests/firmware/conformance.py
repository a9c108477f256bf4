"""Conformance checks of a reference lock board, made by a Modbus master alone.

Each check is a function of a `Master` (a serial port, the board's unit
and channel count) that sends frames with the project's own RTU codec
(protocol/modbus) and asserts on the replies, or on their absence. Nothing
here knows what is behind the port: test_conformance.py runs the same
checks against `locker-sim serve` (either engine) and, marked `hardware`,
against a flashed board on LOCKER_HIL_PORT.

Every check leaves the board as it found it (unit address, polarity, no
coil on), so the checks can run in any order against one board. Waits are
for silence (t3.5 before each request, a bounded wait for a reply that must
not come); nothing is timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from protocol import reference_board as rb
from protocol.crc import with_crc
from protocol.errors import BusFault
from protocol.modbus import (
    BROADCAST,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    Reply,
    ReplyReader,
    Request,
    WriteEcho,
    WriteSingleRegister,
    encode_request,
)

GAP = 0.005  # more than t3.5 at 9600 bps (4.0 ms): the master's inter-frame silence
REPLY_WAIT = 0.5  # a reply not there by then is not coming
OTHER_UNIT = 247  # nobody on a conformance bench answers here (the board is never 247)


@dataclass
class Master:
    port: serial.Serial
    unit: int
    channels: int
    fresh: bool  # the board was just powered up and nobody has acknowledged since
    baud: int = 19200
    frame: str = "8E1"
    first_flags: int = -1  # the flags of the first status read, taken before any check

    def transact(self, request: Request, unit: int | None = None) -> Reply | BusFault:
        unit = self.unit if unit is None else unit
        self._send(encode_request(unit, request))
        reader = ReplyReader(unit, request)
        deadline = time.monotonic() + REPLY_WAIT
        while time.monotonic() < deadline:
            result = reader.feed(self.port.read(self.port.in_waiting or 1))
            if result is not None:
                return result
        return reader.give_up()

    def registers(self, request: Request, unit: int | None = None) -> tuple[int, ...]:
        reply = self.transact(request, unit)
        assert isinstance(reply, RegistersReply), f"{request}: {reply}"
        return reply.registers

    def write(self, address: int, value: int, unit: int | None = None) -> None:
        request = WriteSingleRegister(address, value)
        reply = self.transact(request, unit)
        assert reply == WriteEcho(request.function, address, value), f"{request}: {reply}"

    def refused(self, frame_body: bytes) -> int:
        """Send unit + PDU (the CRC is added); the exception code of the reply."""
        frame = with_crc(bytes((self.unit,)) + frame_body)
        reply = self.raw(frame, 5)
        assert len(reply) == 5 and reply == with_crc(reply[:3]), reply.hex(" ")
        assert reply[0] == self.unit and reply[1] == frame_body[0] | 0x80, reply.hex(" ")
        return reply[2]

    def raw(self, frame: bytes, expected: int) -> bytes:
        """Send raw bytes; what came back within the wait (at most `expected` bytes)."""
        self._send(frame)
        got = bytearray()
        deadline = time.monotonic() + REPLY_WAIT
        while time.monotonic() < deadline and len(got) < expected:
            got += self.port.read(self.port.in_waiting or 1)
        return bytes(got)

    def silent(self, frame: bytes) -> bool:
        return self.raw(frame, 1) == b""

    def status(self) -> rb.BoardStatus:
        status = rb.parse_status(self.transact(rb.status_request(self.channels)), self.channels)
        assert isinstance(status, rb.BoardStatus), status
        return status

    def _send(self, frame: bytes) -> None:
        time.sleep(GAP)
        self.port.reset_input_buffer()
        self.port.write(frame)


Check = Callable[[Master], None]


def check_identity(m: Master) -> None:
    identity = rb.parse_identity(m.transact(rb.identity_request()))
    assert isinstance(identity, rb.Identity), identity
    assert identity.map_version == rb.MAP_VERSION
    assert identity.channels == m.channels
    assert int(identity.capabilities) & ~0x7 == 0


def check_status_block_shape(m: Master) -> None:
    count = rb.status_register_count(m.channels)
    words = m.registers(ReadInputRegisters(rb.IR_STATUS, count))
    assert len(words) == count == 2 + 4 * rb.field_width(m.channels)
    mask = (1 << m.channels) - 1
    fields = [words[2 + k * (count - 2) // 4 : 2 + (k + 1) * (count - 2) // 4] for k in range(4)]
    for field in fields:
        packed = sum(word << (16 * i) for i, word in enumerate(field))
        assert packed & ~mask == 0, f"bits beyond channel {m.channels}: {field}"
    # one register past the block is outside the map
    past = m.transact(ReadInputRegisters(rb.IR_STATUS, count + 1))
    assert isinstance(past, BusFault) and past.exception_code == 2, past


def check_reset_flag_and_ack(m: Master) -> None:
    if m.fresh:
        assert m.first_flags & rb.StatusFlags.RESET, "no reset flag after power-up"
    status = m.status()
    m.write(rb.HR_ACK, (status.change_counter + 1) & 0xFFFF)  # a stale counter: ignored
    if status.flags & rb.StatusFlags.RESET:
        assert m.status().flags & rb.StatusFlags.RESET, "a wrong counter cleared the reset flag"
    m.write(rb.HR_ACK, status.change_counter)
    after = m.status()
    if after.change_counter == status.change_counter:  # nothing moved in between
        assert not after.flags & (rb.StatusFlags.RESET | rb.StatusFlags.WATCHDOG)
        for number in range(1, m.channels + 1):
            channel = after.channel(number)
            assert not channel.opened_since_ack or not channel.door_closed


def check_change_counter(m: Master) -> None:
    """A polarity change counts as changes (the contract): inverting the door
    inputs flips every channel's door bit, so the counter moves by `channels`."""
    polarity = m.registers(ReadHoldingRegisters(rb.HR_POLARITY, 1))[0]
    before = m.status().change_counter
    m.write(rb.HR_POLARITY, polarity ^ rb.Polarity.DOOR_INVERTED)
    try:
        moved = m.status().change_counter
    finally:
        m.write(rb.HR_POLARITY, polarity)
    assert moved == (before + m.channels) & 0xFFFF, (before, moved)
    assert m.status().change_counter == (before + 2 * m.channels) & 0xFFFF


def check_unlock_counts_down_and_all_off(m: Master) -> None:
    channel = m.channels  # the last channel: the bit furthest from the first word
    register = rb.HR_UNLOCK_BASE + channel - 1
    m.write(register, 2000)
    try:
        first = m.registers(ReadHoldingRegisters(register, 1))[0]
        assert 0 < first <= 2000, first
        assert m.status().flags & rb.StatusFlags.PULSE_ACTIVE
        time.sleep(0.05)
        second = m.registers(ReadHoldingRegisters(register, 1))[0]
        assert 0 < second < first, (first, second)
    finally:
        m.write(rb.HR_COMMAND, rb.COMMAND_ALL_OUTPUTS_OFF)
    assert m.registers(ReadHoldingRegisters(register, 1)) == (0,)
    assert not m.status().flags & rb.StatusFlags.PULSE_ACTIVE


def check_exceptions(m: Master) -> None:
    assert m.refused(bytes((0x07,))) == 1  # FC07 read exception status: not ours
    assert m.refused(bytes((0x2B, 0x0E, 0x01, 0x00))) == 1  # FC43 device identification
    # between the identity block and the status block: no such register
    assert m.refused(bytes((0x04, 0x00, 0x08, 0x00, 0x01))) == 2
    assert m.refused(bytes((0x03, 0x00, 0x06, 0x00, 0x01))) == 2  # past the holding block
    assert m.refused(bytes((0x04, 0x00, 0x00, 0x00, 0x00))) == 3  # a count of 0
    assert m.refused(bytes((0x06, 0x01, 0x00, 0x00, 0x0A))) == 3  # a 10 ms pulse (min 50)
    assert m.refused(bytes((0x06, 0x00, 0x03, 0x12, 0x34))) == 3  # an unknown command
    # after the refusals, nothing is energised
    assert not m.status().flags & rb.StatusFlags.PULSE_ACTIVE


def check_silence(m: Master) -> None:
    poll = encode_request(m.unit, rb.identity_request())
    bad_crc = poll[:-1] + bytes((poll[-1] ^ 0xFF,))
    assert m.silent(bad_crc), "a frame with a bad CRC was answered"
    assert m.silent(encode_request(OTHER_UNIT, rb.identity_request())), "another unit's frame"
    # a broadcast write is executed and never answered: the pulse it ends is gone
    m.write(rb.HR_UNLOCK_BASE, 2000)
    try:
        off = encode_request(
            BROADCAST, WriteSingleRegister(rb.HR_COMMAND, rb.COMMAND_ALL_OUTPUTS_OFF)
        )
        assert m.silent(off), "a broadcast was answered"
        assert m.registers(ReadHoldingRegisters(rb.HR_UNLOCK_BASE, 1)) == (0,)
    finally:
        m.write(rb.HR_COMMAND, rb.COMMAND_ALL_OUTPUTS_OFF)
    # and the board still answers afterwards
    check_identity(m)


def check_unit_address_change_and_back(m: Master) -> None:
    old = m.unit
    new = old + 1 if old < OTHER_UNIT - 1 else old - 1
    m.write(rb.HR_UNIT_ADDRESS, new)  # the echo comes from the old address
    try:
        identity = rb.parse_identity(m.transact(rb.identity_request(), new))
        assert isinstance(identity, rb.Identity), identity
        assert m.silent(encode_request(old, rb.identity_request())), "the old address answered"
        assert m.registers(ReadHoldingRegisters(rb.HR_UNIT_ADDRESS, 1), new) == (new,)
    finally:
        m.write(rb.HR_UNIT_ADDRESS, old, new)
    assert m.registers(ReadHoldingRegisters(rb.HR_UNIT_ADDRESS, 1)) == (old,)


def check_config_read(m: Master) -> None:
    words = m.registers(rb.config_read_request())
    assert len(words) == rb.HOLDING_COUNT
    pulse, polarity, ack, command, unit, serial_format = words
    assert rb.PULSE_MIN_MS <= pulse <= rb.PULSE_MAX_MS
    assert polarity & ~0x7 == 0
    assert (ack, command) == (0, 0)  # write-only registers read 0
    assert unit == m.unit
    # the board speaks the format it reports (the register applies from power-up)
    assert rb.BAUD_RATES[serial_format & 0xFF] == m.baud
    assert rb.FRAMES[serial_format >> 8] == m.frame


CHECKS: tuple[Check, ...] = (
    check_identity,
    check_status_block_shape,
    check_reset_flag_and_ack,
    check_change_counter,
    check_unlock_counts_down_and_all_off,
    check_exceptions,
    check_silence,
    check_unit_address_change_and_back,
    check_config_read,
)


def connect(path: str, unit: int, channels: int, *, fresh: bool) -> Master:
    """A master on the factory format, 19200 8E1 (docs/reference-board.md)."""
    port = serial.Serial(path, 19200, parity=serial.PARITY_EVEN, timeout=0.05)
    master = Master(port, unit, channels, fresh)
    master.first_flags = int(master.status().flags)
    return master
