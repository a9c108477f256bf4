"""Hand-written byte vectors from the Modbus specifications and vendor manuals.

Each vector is typed in from its source, CRC included; none is produced by
our own encoder, so a wrong CRC table or byte order fails here.
"""

import pytest

from protocol.crc import crc16, crc_ok
from protocol.errors import FaultKind
from protocol.modbus import (
    COIL_OFF,
    COIL_ON,
    BitsReply,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    WriteEcho,
    WriteSingleCoil,
    WriteSingleRegister,
    decode_reply,
    encode_request,
)
from protocol.modbus.pdu import FunctionCode
from protocol.relay_module import all_relays_off_request, inputs_request, pulse_request

REQUESTS = [
    # Modbus Application Protocol V1.1b3, 6.3: read holding registers 108-110 of slave 17.
    ("11 03 00 6B 00 03 76 87", 0x11, ReadHoldingRegisters(0x6B, 3)),
    # Widely reproduced examples (Modbus Serial Line V1.02 appendix style, slave 1).
    ("01 03 00 00 00 0A C5 CD", 1, ReadHoldingRegisters(0, 10)),
    ("01 04 00 00 00 01 31 CA", 1, ReadInputRegisters(0, 1)),
    ("01 05 00 00 FF 00 8C 3A", 1, WriteSingleCoil(0, COIL_ON)),
    ("01 05 00 00 00 00 CD CA", 1, WriteSingleCoil(0, COIL_OFF)),
    # Application Protocol 6.6: write register 2 (PDU address 1) of slave 17 to 0x0003.
    ("11 06 00 01 00 03 9A 9B", 0x11, WriteSingleRegister(1, 3)),
    # Waveshare Modbus RTU Relay wiki: read relay status, read input status.
    ("01 01 00 00 00 08 3D CC", 1, ReadCoils(0, 8)),
    ("01 02 00 00 00 08 79 CC", 1, ReadDiscreteInputs(0, 8)),
]


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.mark.parametrize(("wire", "unit", "request_"), REQUESTS)
def test_request_bytes_match_the_documents(wire: str, unit: int, request_) -> None:
    assert encode_request(unit, request_) == hexbytes(wire)


@pytest.mark.parametrize(("wire", "unit", "request_"), REQUESTS)
def test_documented_frames_carry_a_valid_crc(wire: str, unit: int, request_) -> None:
    frame = hexbytes(wire)
    assert crc_ok(frame)
    # The CRC goes out low byte first (Serial Line V1.02, 2.5.1.2).
    crc = crc16(frame[:-2])
    assert frame[-2:] == bytes((crc & 0xFF, crc >> 8))


def test_waveshare_relay_vectors() -> None:
    # Waveshare wiki: "01 05 02 00 00 07 8D B0" flashes relay 0 on for 700 ms;
    # "01 05 00 FF 00 00 FD FA" turns all relays off.
    assert encode_request(1, pulse_request(1, 8, 700)) == hexbytes("01 05 02 00 00 07 8D B0")
    assert encode_request(1, all_relays_off_request()) == hexbytes("01 05 00 FF 00 00 FD FA")
    assert encode_request(1, inputs_request(8)) == hexbytes("01 02 00 00 00 08 79 CC")


def test_spec_reply_to_read_holding_registers() -> None:
    # Application Protocol 6.3: registers 108-110 hold 0x022B, 0x0000, 0x0064.
    # The CRC (low byte first) was computed independently with pymodbus's framer.
    reply = hexbytes("11 03 06 02 2B 00 00 00 64 C8 BA")
    assert decode_reply(0x11, ReadHoldingRegisters(0x6B, 3), reply) == RegistersReply(
        FunctionCode.READ_HOLDING_REGISTERS, (0x022B, 0x0000, 0x0064)
    )


def test_waveshare_input_reply() -> None:
    # Waveshare wiki: all inputs off -> "01 02 01 00 A1 88".
    reply = decode_reply(1, ReadDiscreteInputs(0, 8), hexbytes("01 02 01 00 A1 88"))
    assert reply == BitsReply(FunctionCode.READ_DISCRETE_INPUTS, (False,) * 8)


def test_write_echo_reply() -> None:
    frame = hexbytes("01 05 00 00 FF 00 8C 3A")
    assert decode_reply(1, WriteSingleCoil(0, COIL_ON), frame) == WriteEcho(
        FunctionCode.WRITE_SINGLE_COIL, 0, COIL_ON
    )


def test_exception_reply_is_a_fault_value() -> None:
    # Application Protocol 7: function code | 0x80, then the exception code.
    body = bytes((0x0A, 0x81, 0x02))
    crc = crc16(body)
    frame = body + bytes((crc & 0xFF, crc >> 8))
    fault = decode_reply(0x0A, ReadCoils(0x04A1, 1), frame)
    assert fault.kind is FaultKind.EXCEPTION_REPLY
    assert fault.exception_code == 0x02
