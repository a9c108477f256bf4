"""Modbus RTU, slave side: decode requests, encode replies.

Used by the board simulator (and by anything that must answer like a
board). The slave frames requests by silence - the caller hands over one
silence-delimited frame - and then, per Serial Line V1.02 2.4.1 and the
Application Protocol's section 7:

- a frame with a bad CRC, too short to be a frame, or for another unit is
  ignored (no reply at all);
- an unknown function code gets exception 01, a bad quantity exception 03;
- a broadcast (unit 0) is executed but never answered.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from ..crc import crc_ok, with_crc
from .pdu import (
    COIL_OFF,
    COIL_ON,
    MAX_READ_BITS,
    MAX_READ_REGISTERS,
    MAX_WRITE_REGISTERS,
    ExceptionCode,
    ExceptionReply,
    FunctionCode,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    ReadInputRegisters,
    Reply,
    Request,
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
    reply_pdu,
)
from .rtu import MAX_UNIT


class Ignored(StrEnum):
    """Why a frame gets no reply at all."""

    BAD_CRC = "bad_crc"
    TOO_SHORT = "too_short"
    RESERVED_UNIT = "reserved_unit"
    BAD_LENGTH = "bad_length"  # the length the function code implies is not the frame's


@dataclass(frozen=True, slots=True)
class DecodedRequest:
    unit: int
    request: Request


@dataclass(frozen=True, slots=True)
class Refused:
    """A frame for us that must be answered with an exception reply."""

    unit: int
    function: int
    code: ExceptionCode


_READS: dict[
    FunctionCode,
    tuple[type[ReadCoils | ReadDiscreteInputs | ReadHoldingRegisters | ReadInputRegisters], int],
] = {
    FunctionCode.READ_COILS: (ReadCoils, MAX_READ_BITS),
    FunctionCode.READ_DISCRETE_INPUTS: (ReadDiscreteInputs, MAX_READ_BITS),
    FunctionCode.READ_HOLDING_REGISTERS: (ReadHoldingRegisters, MAX_READ_REGISTERS),
    FunctionCode.READ_INPUT_REGISTERS: (ReadInputRegisters, MAX_READ_REGISTERS),
}


def decode_request(frame: bytes) -> DecodedRequest | Refused | Ignored:
    if len(frame) < 4:
        return Ignored.TOO_SHORT
    if not crc_ok(frame):
        return Ignored.BAD_CRC
    unit, function = frame[0], frame[1]
    if unit > MAX_UNIT:
        return Ignored.RESERVED_UNIT
    body = frame[2:-2]

    def refuse(code: ExceptionCode) -> Refused:
        return Refused(unit, function, code)

    if function in _READS:
        cls, limit = _READS[FunctionCode(function)]
        if len(body) != 4:
            return Ignored.BAD_LENGTH
        address, count = struct.unpack(">HH", body)
        if not 1 <= count <= limit:
            return refuse(ExceptionCode.ILLEGAL_DATA_VALUE)
        if address + count > 0x10000:
            return refuse(ExceptionCode.ILLEGAL_DATA_ADDRESS)
        return DecodedRequest(unit, cls(address, count))
    if function == FunctionCode.WRITE_SINGLE_COIL:
        if len(body) != 4:
            return Ignored.BAD_LENGTH
        address, value = struct.unpack(">HH", body)
        # FC05 carries only 0xFF00 or 0x0000 (6.5); modules that overload it
        # (Waveshare flash) decode the raw word themselves.
        return DecodedRequest(
            unit, WriteSingleCoil(address, value, raw=value not in (COIL_ON, COIL_OFF))
        )
    if function == FunctionCode.WRITE_SINGLE_REGISTER:
        if len(body) != 4:
            return Ignored.BAD_LENGTH
        address, value = struct.unpack(">HH", body)
        return DecodedRequest(unit, WriteSingleRegister(address, value))
    if function == FunctionCode.WRITE_MULTIPLE_REGISTERS:
        if len(body) < 5:
            return Ignored.BAD_LENGTH
        address, count, byte_count = struct.unpack(">HHB", body[:5])
        if len(body) != 5 + byte_count:
            return Ignored.BAD_LENGTH
        if not 1 <= count <= MAX_WRITE_REGISTERS or byte_count != 2 * count:
            return refuse(ExceptionCode.ILLEGAL_DATA_VALUE)
        if address + count > 0x10000:
            return refuse(ExceptionCode.ILLEGAL_DATA_ADDRESS)
        values = struct.unpack(f">{count}H", body[5:])
        return DecodedRequest(unit, WriteMultipleRegisters(address, tuple(values)))
    return refuse(ExceptionCode.ILLEGAL_FUNCTION)


def encode_reply(unit: int, reply: Reply | ExceptionReply) -> bytes:
    return with_crc(bytes((unit,)) + reply_pdu(reply))


def encode_refusal(refused: Refused) -> bytes:
    return with_crc(bytes((refused.unit, (refused.function | 0x80) & 0xFF, refused.code)))
