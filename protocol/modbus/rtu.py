"""Modbus RTU framing, master side: encode requests, read replies.

Theory of operation. An RTU frame is `unit | PDU | CRC-16 (low byte first)`
(Modbus over Serial Line V1.02, 2.5.1). The spec delimits frames by silence
(t3.5), but a host behind a USB adapter cannot see silence reliably: the
adapter delivers bytes in bursts up to its latency timer apart. So the
master recognises a reply by content instead: it knows the request, hence
the unit, the function code and the exact length of a normal reply (5 bytes
for an exception reply), and accepts the first stretch of the buffer that
has all three right and a good CRC. Bytes before it are noise ("hunting",
as in pymodbus's framer). The caller decides when to stop waiting (a
timeout, or silence after the expected length) and asks `give_up()` for
the reason; every outcome is a value, never an exception.

Among several candidate frames the one that *ends* first wins, so the
result does not depend on how the byte stream was chunked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..crc import crc_ok, with_crc
from ..errors import BusFault, FaultKind, UsageError
from ..timing import SerialFormat
from .pdu import (
    BitsReply,
    FunctionCode,
    ReadCoils,
    ReadDiscreteInputs,
    ReadHoldingRegisters,
    ReadInputRegisters,
    RegistersReply,
    Reply,
    Request,
    WriteEcho,
    WriteMultipleRegisters,
    WriteSingleCoil,
    WriteSingleRegister,
    expected_data_bytes,
    expected_echo,
    reply_length,
    request_pdu,
    unpack_bits,
)

BROADCAST = 0
MAX_UNIT = 247  # 248..255 are reserved (Serial Line V1.02, 2.2)
DEFAULT_FORMAT = SerialFormat(19200, "E", 1)  # Serial Line V1.02, 2.5.1: the default is 8E1
MAX_ADU = 256  # Serial Line V1.02, 2.5.1: an RTU frame is at most 256 bytes
# Past this many buffered bytes without a reply the line is babbling.
_MAX_BUFFER = 2 * MAX_ADU


def encode_request(unit: int, request: Request) -> bytes:
    if not BROADCAST <= unit <= MAX_UNIT:
        raise UsageError(f"unit {unit} is outside 0..{MAX_UNIT}")
    if unit == BROADCAST and not isinstance(
        request, WriteSingleCoil | WriteSingleRegister | WriteMultipleRegisters
    ):
        raise UsageError("only writes may be broadcast (unit 0): a read would get no reply")
    return with_crc(bytes((unit,)) + request_pdu(request))


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    outcome: Reply | BusFault


class ReplyReader:
    """Collects the reply to one request. Feed it bytes as they arrive."""

    def __init__(self, unit: int, request: Request) -> None:
        if not 1 <= unit <= MAX_UNIT:
            raise UsageError(f"a reply is only expected from units 1..{MAX_UNIT}, not {unit}")
        self.unit = unit
        self.request = request
        self._buffer = bytearray()
        self._result: Reply | BusFault | None = None
        fc = int(request.function)
        self._codes = (bytes((fc,)), bytes((fc | 0x80,)))

    @property
    def received(self) -> bytes:
        return bytes(self._buffer)

    def feed(self, data: bytes) -> Reply | BusFault | None:
        """Returns the outcome once it is known, else None (need more bytes)."""
        if self._result is not None:
            return self._result
        self._buffer += data
        best = self._earliest_candidate()
        if best is not None:
            self._result = best.outcome
        elif len(self._buffer) > _MAX_BUFFER:
            self._result = BusFault(
                FaultKind.NOISE, "no reply in a stream of garbage", raw=bytes(self._buffer[:64])
            )
        return self._result

    def give_up(self) -> BusFault:
        """The wait is over without a valid reply: say what went wrong."""
        if isinstance(self._result, BusFault):
            return self._result
        if self._result is not None:
            raise UsageError("give_up() after a valid reply was already returned")
        buf = bytes(self._buffer)
        if not buf:
            return BusFault(FaultKind.TIMEOUT, f"no reply from unit {self.unit}")
        fc = int(self.request.function)
        for start in range(len(buf)):
            if buf[start] != self.unit:
                continue
            if start + 1 == len(buf):
                return BusFault(FaultKind.TRUNCATED, "only the unit byte arrived", raw=buf)
            if buf[start + 1] not in (fc, fc | 0x80):
                continue
            need = self._frame_length(buf, start)
            if need is None or start + need > len(buf):
                return BusFault(
                    FaultKind.TRUNCATED,
                    f"{len(buf) - start} of {need or '?'} bytes received",
                    raw=buf,
                )
            return BusFault(FaultKind.BAD_CRC, "reply failed its CRC check", raw=buf)
        return BusFault(FaultKind.NOISE, "no reply header in the received bytes", raw=buf[:64])

    # -- internals --

    def _frame_length(self, buf: bytes, start: int) -> int | None:
        """Length of a frame whose function byte is at start+1, or None if
        the length field has not arrived yet."""
        function = buf[start + 1]
        if function & 0x80:
            return 5
        if isinstance(
            self.request, ReadCoils | ReadDiscreteInputs | ReadHoldingRegisters | ReadInputRegisters
        ):
            if start + 2 >= len(buf):
                return None
            return 5 + buf[start + 2]
        return reply_length(self.request)

    def _starts(self, buf: bytes) -> list[int]:
        """Where a frame could start: one byte before each normal or exception
        function code (found by `bytes.find`, not a Python loop over every byte)."""
        starts = []
        for code in self._codes:
            at = buf.find(code, 1)
            while at != -1:
                starts.append(at - 1)
                at = buf.find(code, at + 1)
        return starts

    def _earliest_candidate(self) -> _Candidate | None:
        buf = bytes(self._buffer)
        best: _Candidate | None = None
        for start in self._starts(buf):
            unit = buf[start]
            if not 1 <= unit <= MAX_UNIT:
                continue
            length = self._frame_length(buf, start)
            if length is None or start + length > len(buf):
                continue
            frame = buf[start : start + length]
            if not crc_ok(frame):
                continue
            end = start + length
            if best is not None and (end, start) >= (best.end, best.start):
                continue
            if unit != self.unit:
                outcome: Reply | BusFault = BusFault(
                    FaultKind.WRONG_UNIT, f"reply from unit {unit}, expected {self.unit}", raw=frame
                )
            else:
                outcome = self._interpret(frame)
            best = _Candidate(start, end, outcome)
        return best

    def _interpret(self, frame: bytes) -> Reply | BusFault:
        function = frame[1]
        if function & 0x80:
            return BusFault(
                FaultKind.EXCEPTION_REPLY,
                f"unit {self.unit} refused the request",
                exception_code=frame[2],
                raw=frame,
            )
        request = self.request
        match request:
            case ReadCoils() | ReadDiscreteInputs():
                if frame[2] != expected_data_bytes(request):
                    return _mismatch(
                        frame, f"byte count {frame[2]}, expected {expected_data_bytes(request)}"
                    )
                return BitsReply(request.function, unpack_bits(frame[3:-2], request.count))
            case ReadHoldingRegisters() | ReadInputRegisters():
                if frame[2] != expected_data_bytes(request):
                    return _mismatch(
                        frame, f"byte count {frame[2]}, expected {expected_data_bytes(request)}"
                    )
                registers = struct.unpack_from(f">{request.count}H", frame, 3)
                return RegistersReply(request.function, registers)
            case WriteSingleCoil() | WriteSingleRegister() | WriteMultipleRegisters():
                echo = WriteEcho(
                    FunctionCode(function),
                    int.from_bytes(frame[2:4], "big"),
                    int.from_bytes(frame[4:6], "big"),
                )
                if echo != expected_echo(request):
                    return _mismatch(frame, f"echo {echo} does not match the request")
                return echo


def _mismatch(frame: bytes, detail: str) -> BusFault:
    return BusFault(FaultKind.MISMATCH, detail, raw=frame)


def decode_reply(unit: int, request: Request, frame: bytes) -> Reply | BusFault:
    """Outcome of a complete captured reply (tests, sniffers, tools)."""
    reader = ReplyReader(unit, request)
    return reader.feed(frame) or reader.give_up()
