"""Our RTU codec against an independent implementation: pymodbus 3.16.

pymodbus is the oracle here only; the product does not use it. Both sides
build frames from the same random operations and must agree byte for byte,
and each side must decode what the other encoded.
"""

from hypothesis import given
from hypothesis import strategies as st
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import bit_message as pm_bits
from pymodbus.pdu import register_message as pm_regs
from pymodbus.pdu.decoders import DecodePDU

from protocol.crc import crc16
from protocol.modbus import (
    BitsReply,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    WriteMultipleRegisters,
    WriteSingleRegister,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)
from protocol.modbus.pdu import FunctionCode

units = st.integers(1, 247)
words = st.integers(0, 0xFFFF)


def client_framer() -> FramerRTU:
    return FramerRTU(DecodePDU(is_server=False))


def server_framer() -> FramerRTU:
    return FramerRTU(DecodePDU(is_server=True))


@given(st.binary(max_size=300))
def test_crc_matches_pymodbus(data: bytes) -> None:
    ours = crc16(data)
    # pymodbus returns the CRC byte-swapped, ready to append big-endian.
    assert ((ours & 0xFF) << 8 | ours >> 8) == FramerRTU.compute_CRC(data)


@st.composite
def register_reads(draw):
    count = draw(st.integers(1, 125))
    address = draw(st.integers(0, 0x10000 - count))
    return address, count


@given(units, register_reads(), st.booleans())
def test_register_read_requests_are_identical(unit, span, holding) -> None:
    address, count = span
    ours = (ReadHoldingRegisters if holding else ReadInputRegisters)(address, count)
    theirs_cls = (
        pm_regs.ReadHoldingRegistersRequest if holding else pm_regs.ReadInputRegistersRequest
    )
    theirs = theirs_cls(address=address, count=count, dev_id=unit)
    assert encode_request(unit, ours) == client_framer().buildFrame(theirs)


@given(
    units,
    st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, 0x10000 - n), st.just(n))),
    st.booleans(),
)
def test_bit_read_requests_are_identical(unit, span, coils) -> None:
    address, count = span
    ours = (ReadCoils if coils else ReadDiscreteInputs)(address, count)
    theirs_cls = pm_bits.ReadCoilsRequest if coils else pm_bits.ReadDiscreteInputsRequest
    assert encode_request(unit, ours) == client_framer().buildFrame(
        theirs_cls(address=address, count=count, dev_id=unit)
    )


@given(units, words, words)
def test_write_register_requests_are_identical(unit, address, value) -> None:
    theirs = pm_regs.WriteSingleRegisterRequest(address=address, registers=[value], dev_id=unit)
    assert encode_request(unit, WriteSingleRegister(address, value)) == client_framer().buildFrame(
        theirs
    )


@given(units, st.lists(words, min_size=1, max_size=123), st.integers(0, 0xFFFF - 123))
def test_write_multiple_requests_are_identical_and_pymodbus_server_decodes_ours(
    unit, values, address
) -> None:
    ours = encode_request(unit, WriteMultipleRegisters(address, tuple(values)))
    theirs = pm_regs.WriteMultipleRegistersRequest(address=address, registers=values, dev_id=unit)
    assert ours == client_framer().buildFrame(theirs)
    used, pdu = server_framer().handleFrame(ours, 0, 0)
    assert used == len(ours)
    assert pdu is not None
    assert list(pdu.registers) == values
    assert pdu.address == address


@given(units, register_reads(), st.data())
def test_we_decode_pymodbus_register_replies(unit, span, data) -> None:
    address, count = span
    registers = data.draw(st.lists(words, min_size=count, max_size=count))
    reply = pm_regs.ReadInputRegistersResponse(registers=registers, dev_id=unit)
    frame = server_framer().buildFrame(reply)
    assert decode_reply(unit, ReadInputRegisters(address, count), frame) == RegistersReply(
        FunctionCode.READ_INPUT_REGISTERS, tuple(registers)
    )
    # ... and we encode the same bytes on the slave side.
    assert (
        encode_reply(unit, RegistersReply(FunctionCode.READ_INPUT_REGISTERS, tuple(registers)))
        == frame
    )


@given(units, st.lists(st.booleans(), min_size=1, max_size=2000))
def test_bit_replies_agree_both_ways(unit, bits) -> None:
    ours = encode_reply(unit, BitsReply(FunctionCode.READ_DISCRETE_INPUTS, tuple(bits)))
    used, pdu = client_framer().handleFrame(ours, unit, 0)
    assert used == len(ours)
    assert pdu is not None
    assert list(pdu.bits[: len(bits)]) == bits
    theirs = client_framer().buildFrame(pm_bits.ReadDiscreteInputsResponse(bits=bits, dev_id=unit))
    assert decode_reply(unit, ReadDiscreteInputs(0, len(bits)), theirs) == BitsReply(
        FunctionCode.READ_DISCRETE_INPUTS, tuple(bits)
    )


@given(units, register_reads())
def test_we_decode_requests_that_pymodbus_builds(unit, span) -> None:
    address, count = span
    frame = client_framer().buildFrame(
        pm_regs.ReadHoldingRegistersRequest(address=address, count=count, dev_id=unit)
    )
    decoded = decode_request(frame)
    assert decoded.unit == unit
    assert decoded.request == ReadHoldingRegisters(address, count)
