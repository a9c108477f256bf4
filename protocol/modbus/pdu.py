"""Modbus PDUs: one frozen class per request and per reply.

Only the function codes our boards use are modelled (Modbus Application
Protocol V1.1b3, section 6): 01, 02, 03, 04, 05, 06 and 16. Addresses on the
wire are 0-based ("PDU addresses"); a datasheet's "register 40001" is PDU
address 0 of FC03.

Constructors validate, so a request that exists can be encoded: misuse
raises `UsageError` here, never later on the wire.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ..errors import UsageError


class FunctionCode(IntEnum):
    READ_COILS = 0x01
    READ_DISCRETE_INPUTS = 0x02
    READ_HOLDING_REGISTERS = 0x03
    READ_INPUT_REGISTERS = 0x04
    WRITE_SINGLE_COIL = 0x05
    WRITE_SINGLE_REGISTER = 0x06
    WRITE_MULTIPLE_REGISTERS = 0x10


class ExceptionCode(IntEnum):
    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    SERVER_DEVICE_BUSY = 0x06


# Application Protocol V1.1b3: quantity limits per function code.
MAX_READ_BITS = 2000  # FC01 / FC02, section 6.1 / 6.2
MAX_READ_REGISTERS = 125  # FC03 / FC04, section 6.3 / 6.4
MAX_WRITE_REGISTERS = 123  # FC16, section 6.12
COIL_ON = 0xFF00  # FC05: the only two legal values, section 6.5
COIL_OFF = 0x0000


def _check_range(address: int, count: int, limit: int, what: str) -> None:
    if not 0 <= address <= 0xFFFF:
        raise UsageError(f"{what}: address {address} is outside 0..65535")
    if not 1 <= count <= limit:
        raise UsageError(f"{what}: count {count} is outside 1..{limit}")
    if address + count > 0x10000:
        raise UsageError(f"{what}: address {address} + count {count} passes 65535")


def _check_word(value: int, what: str) -> None:
    if not 0 <= value <= 0xFFFF:
        raise UsageError(f"{what}: value {value} is not a 16-bit word")


# -- requests ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadCoils:
    address: int
    count: int
    function = FunctionCode.READ_COILS

    def __post_init__(self) -> None:
        _check_range(self.address, self.count, MAX_READ_BITS, "read coils")


@dataclass(frozen=True, slots=True)
class ReadDiscreteInputs:
    address: int
    count: int
    function = FunctionCode.READ_DISCRETE_INPUTS

    def __post_init__(self) -> None:
        _check_range(self.address, self.count, MAX_READ_BITS, "read discrete inputs")


@dataclass(frozen=True, slots=True)
class ReadHoldingRegisters:
    address: int
    count: int
    function = FunctionCode.READ_HOLDING_REGISTERS

    def __post_init__(self) -> None:
        _check_range(self.address, self.count, MAX_READ_REGISTERS, "read holding registers")


@dataclass(frozen=True, slots=True)
class ReadInputRegisters:
    address: int
    count: int
    function = FunctionCode.READ_INPUT_REGISTERS

    def __post_init__(self) -> None:
        _check_range(self.address, self.count, MAX_READ_REGISTERS, "read input registers")


@dataclass(frozen=True, slots=True)
class WriteSingleCoil:
    """FC05. `value` is the raw 16-bit word: COIL_ON, COIL_OFF, or - for
    modules that overload FC05, such as the Waveshare relay's flash command -
    any word the caller means (pass raw=True)."""

    address: int
    value: int
    raw: bool = False
    function = FunctionCode.WRITE_SINGLE_COIL

    def __post_init__(self) -> None:
        _check_range(self.address, 1, 1, "write single coil")
        _check_word(self.value, "write single coil")
        if not self.raw and self.value not in (COIL_ON, COIL_OFF):
            raise UsageError(
                f"write single coil: value 0x{self.value:04X} is neither 0xFF00 nor 0x0000"
            )


@dataclass(frozen=True, slots=True)
class WriteSingleRegister:
    address: int
    value: int
    function = FunctionCode.WRITE_SINGLE_REGISTER

    def __post_init__(self) -> None:
        _check_range(self.address, 1, 1, "write single register")
        _check_word(self.value, "write single register")


@dataclass(frozen=True, slots=True)
class WriteMultipleRegisters:
    address: int
    values: tuple[int, ...]
    function = FunctionCode.WRITE_MULTIPLE_REGISTERS

    def __post_init__(self) -> None:
        _check_range(self.address, len(self.values), MAX_WRITE_REGISTERS, "write registers")
        for value in self.values:
            _check_word(value, "write registers")


ReadBitsRequest = ReadCoils | ReadDiscreteInputs
ReadRegistersRequest = ReadHoldingRegisters | ReadInputRegisters
Request = (
    ReadCoils
    | ReadDiscreteInputs
    | ReadHoldingRegisters
    | ReadInputRegisters
    | WriteSingleCoil
    | WriteSingleRegister
    | WriteMultipleRegisters
)

# -- replies ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BitsReply:
    """FC01 / FC02. `bits[0]` is the bit at the requested address (the LSB of
    the first data byte, Application Protocol 6.1)."""

    function: FunctionCode
    bits: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class RegistersReply:
    function: FunctionCode
    registers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class WriteEcho:
    """FC05 / FC06 echo the request; FC16 echoes address and count."""

    function: FunctionCode
    address: int
    value: int  # FC05/06: the written word; FC16: the register count


@dataclass(frozen=True, slots=True)
class ExceptionReply:
    function: FunctionCode
    code: int


Reply = BitsReply | RegistersReply | WriteEcho


# -- PDU bytes --------------------------------------------------------------


def pack_bits(bits: tuple[bool, ...] | list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            out[index // 8] |= 1 << (index % 8)
    return bytes(out)


def unpack_bits(data: bytes, count: int) -> tuple[bool, ...]:
    return tuple(bool(data[i // 8] >> (i % 8) & 1) for i in range(count))


def request_pdu(request: Request) -> bytes:
    match request:
        case ReadCoils() | ReadDiscreteInputs() | ReadHoldingRegisters() | ReadInputRegisters():
            return struct.pack(">BHH", request.function, request.address, request.count)
        case WriteSingleCoil() | WriteSingleRegister():
            return struct.pack(">BHH", request.function, request.address, request.value)
        case WriteMultipleRegisters():
            count = len(request.values)
            return struct.pack(
                f">BHHB{count}H",
                request.function,
                request.address,
                count,
                2 * count,
                *request.values,
            )


def reply_pdu(reply: Reply | ExceptionReply) -> bytes:
    match reply:
        case BitsReply():
            data = pack_bits(reply.bits)
            return bytes((reply.function, len(data))) + data
        case RegistersReply():
            count = len(reply.registers)
            return struct.pack(f">BB{count}H", reply.function, 2 * count, *reply.registers)
        case WriteEcho():
            return struct.pack(">BHH", reply.function, reply.address, reply.value)
        case ExceptionReply():
            return bytes((reply.function | 0x80, reply.code))


def expected_data_bytes(request: ReadBitsRequest | ReadRegistersRequest) -> int:
    if isinstance(request, ReadCoils | ReadDiscreteInputs):
        return (request.count + 7) // 8
    return 2 * request.count


def reply_length(request: Request) -> int:
    """Length in bytes of the whole RTU reply ADU (unit + PDU + CRC)."""
    match request:
        case ReadCoils() | ReadDiscreteInputs() | ReadHoldingRegisters() | ReadInputRegisters():
            return 1 + 2 + expected_data_bytes(request) + 2
        case WriteSingleCoil() | WriteSingleRegister() | WriteMultipleRegisters():
            return 8


def expected_echo(
    request: WriteSingleCoil | WriteSingleRegister | WriteMultipleRegisters,
) -> WriteEcho:
    if isinstance(request, WriteMultipleRegisters):
        return WriteEcho(request.function, request.address, len(request.values))
    return WriteEcho(request.function, request.address, request.value)
