"""Hypothesis strategies for Modbus requests and replies."""

from hypothesis import strategies as st

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
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
)
from protocol.modbus.pdu import FunctionCode

units = st.integers(1, 247)
words = st.integers(0, 0xFFFF)


def _span(limit: int):
    return st.integers(1, limit).flatmap(
        lambda n: st.tuples(st.integers(0, 0x10000 - n), st.just(n))
    )


reads = st.one_of(
    _span(2000).map(lambda s: ReadCoils(*s)),
    _span(2000).map(lambda s: ReadDiscreteInputs(*s)),
    _span(125).map(lambda s: ReadHoldingRegisters(*s)),
    _span(125).map(lambda s: ReadInputRegisters(*s)),
)
writes = st.one_of(
    st.builds(WriteSingleCoil, words, st.sampled_from([COIL_ON, COIL_OFF])),
    st.builds(WriteSingleRegister, words, words),
    st.lists(words, min_size=1, max_size=123).flatmap(
        lambda vs: st.integers(0, 0x10000 - len(vs)).map(
            lambda a: WriteMultipleRegisters(a, tuple(vs))
        )
    ),
)
requests = st.one_of(reads, writes)


@st.composite
def request_and_reply(draw):
    """A request and a correct normal reply to it."""
    request = draw(requests)
    match request:
        case ReadCoils() | ReadDiscreteInputs():
            bits = draw(st.lists(st.booleans(), min_size=request.count, max_size=request.count))
            reply = BitsReply(request.function, tuple(bits))
        case ReadHoldingRegisters() | ReadInputRegisters():
            regs = draw(st.lists(words, min_size=request.count, max_size=request.count))
            reply = RegistersReply(request.function, tuple(regs))
        case WriteMultipleRegisters():
            reply = WriteEcho(
                FunctionCode.WRITE_MULTIPLE_REGISTERS, request.address, len(request.values)
            )
        case _:
            reply = WriteEcho(request.function, request.address, request.value)
    return request, reply


def dangerous_noise(unit: int, request) -> st.SearchStrategy[bytes]:
    """Noise biased toward bytes that look like the start of a reply."""
    fc = int(request.function)
    interesting = [unit, fc, fc | 0x80, 0x00, 0xFF, 0x01, 0x02, 0x03, 0x04, 0x06, 0x10]
    return st.lists(st.one_of(st.sampled_from(interesting), st.integers(0, 255)), max_size=40).map(
        bytes
    )
