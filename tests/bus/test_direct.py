"""DirectLine on a real pseudo-terminal: commissioning's requests go through the
bus's own transaction (silence first, a late reply from another unit set aside,
faults as values). Opening is the transport's (test_transport.py)."""

from __future__ import annotations

import asyncio
import os

from locker_host.bus import DirectLine
from protocol import BusFault, FaultKind
from protocol.modbus import (
    FunctionCode,
    ReadHoldingRegisters,
    RegistersReply,
    encode_reply,
    encode_request,
)
from protocol.timing import SerialFormat

from .test_transport import pty

__all__ = ["pty"]

FAST = SerialFormat(115200, "N", 1)
READ = ReadHoldingRegisters(0x8000, 1)
ANSWER = RegistersReply(FunctionCode.READ_HOLDING_REGISTERS, (100,))


def test_a_reply_is_read_and_silence_is_a_timeout_fault(pty: tuple[int, str]) -> None:
    master, path = pty

    async def main() -> None:
        with DirectLine.open(path, FAST) as line:
            board = asyncio.get_running_loop().run_in_executor(None, os.read, master, 64)
            reply = asyncio.create_task(line.transact(7, READ, allowance=0.2))
            assert await board == encode_request(7, READ)
            # A late reply from unit 6 first: set aside, the wait for unit 7 goes on.
            os.write(master, encode_reply(6, ANSWER) + encode_reply(7, ANSWER))
            assert await reply == ANSWER
            silent = await line.transact(8, READ, allowance=0.01)
            assert isinstance(silent, BusFault) and silent.kind is FaultKind.TIMEOUT
            assert os.read(master, 64) == encode_request(8, READ)

    asyncio.run(main())
