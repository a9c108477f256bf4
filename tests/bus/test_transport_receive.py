"""SerialTransport.receive with an expected length, on a real pseudo-terminal:
the bytes are handed over once all of them are in, and a shorter frame (an
exception reply) or a partial one is never held back until the deadline
once the line has fallen silent."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from locker_host.bus import KerongBoardConfig
from locker_host.bus.drivers import Cu16Driver
from locker_host.bus.transaction import transact
from locker_host.bus.transport import SerialTransport
from protocol import BusFault, FaultKind
from protocol.kerong import cu16
from protocol.timing import SerialFormat

from .helpers import run

FMT = SerialFormat(115200, "E", 1)
FAR = 60.0  # a deadline no test should get near


def test_a_reply_arriving_in_chunks_is_handed_over_whole(pty: tuple[int, str]) -> None:
    """Chunks a little apart (written from a thread, as a UART delivers them).
    A handover before all 25 bytes are in is allowed only after t1.5 of
    silence (a loaded machine may delay the writer that long); nothing is
    lost or reordered either way."""
    master, path = pty
    reply = bytes(range(1, 26))

    def line() -> None:
        for start in range(0, len(reply), 7):
            os.write(master, reply[start : start + 7])
            time.sleep(0.0002)

    async def main() -> tuple[bytes, list[float]]:
        transport = SerialTransport.open(path, FMT)
        early_silences: list[float] = []
        try:
            writer = asyncio.create_task(asyncio.to_thread(line))
            got = b""
            while len(got) < len(reply):
                got += await transport.receive(time.monotonic() + FAR, expect=len(reply) - len(got))
                silence = time.monotonic() - transport.last_rx
                if len(got) < len(reply) and silence < FMT.t15:
                    early_silences.append(silence)
            await writer
            return got, early_silences
        finally:
            transport.close()

    assert asyncio.run(main()) == (reply, [])


@pytest.mark.parametrize("sent", [b"\x01\x84\x02\xc2\xc1", b"\x01\x04\x14"])
def test_fewer_bytes_than_expected_are_handed_over_once_the_line_is_silent(
    pty: tuple[int, str], sent: bytes
) -> None:
    """An exception reply (5 bytes where 25 were expected), or the head of a
    reply whose rest never comes: what came is handed over, not held until
    the deadline (the reply reader decides what it is)."""
    master, path = pty

    async def main() -> tuple[bytes, bool]:
        transport = SerialTransport.open(path, FMT)
        try:
            deadline = time.monotonic() + FAR
            os.write(master, sent)
            data = await transport.receive(deadline, expect=25)
            return data, time.monotonic() < deadline
        finally:
            transport.close()

    assert asyncio.run(main()) == (sent, True)


def test_nothing_by_the_deadline_is_empty(pty: tuple[int, str]) -> None:
    _, path = pty

    async def main() -> bytes:
        transport = SerialTransport.open(path, FMT)
        try:
            return await transport.receive(time.monotonic() + 0.01, expect=25)
        finally:
            transport.close()

    assert asyncio.run(main()) == b""


class _CountingTransport(SerialTransport):
    """Counts the loop's calls for a readable port: each is a wake-up of the loop."""

    readable_calls = 0

    def _on_readable(self) -> None:
        self.readable_calls += 1
        super()._on_readable()


def test_once_part_of_a_reply_is_in_the_rest_does_not_wake_the_loop_chunk_by_chunk(
    pty: tuple[int, str],
) -> None:
    """The first chunk wakes the receiver; it then sleeps deaf until the rest
    can have crossed the wire, and reads it in one go: the four later chunks
    cost no wake-up each (one per chunk was the cost of every status poll).
    At 1200 bps the rest takes 183 ms on the wire: a test delayed by load
    still writes it well inside the deaf sleep."""
    master, path = pty
    reply = bytes(range(1, 26))

    async def main() -> tuple[bytes, int]:
        transport = _CountingTransport.open(path, SerialFormat(1200, "E", 1))
        try:
            receiving = asyncio.create_task(transport.receive(time.monotonic() + FAR, 25))
            await asyncio.sleep(0)  # the receiver waits for the first byte
            os.write(master, reply[:5])
            # The readable event is handled, and the receiver resumed, before
            # this sleep's timer (the loop runs ready callbacks in order).
            await asyncio.sleep(0.0005)
            for start in range(5, 25, 5):  # while the receiver sleeps deaf
                os.write(master, reply[start : start + 5])
            return await receiving, transport.readable_calls
        finally:
            transport.close()

    assert asyncio.run(main()) == (reply, 1)


def test_a_reply_whose_turnaround_was_seen_before_is_read_in_one_wake_up(
    pty: tuple[int, str],
) -> None:
    """The first reply to a request teaches the transport the board's
    turnaround; the next reply to the same request is read after one deaf
    sleep, without a single call for a readable port."""
    master, path = pty
    request, reply = b"\x01\x04\x00\x10\x00\x0a\x71\xc8", bytes(range(1, 26))

    async def main() -> tuple[bytes, bytes, int, int]:
        transport = _CountingTransport.open(path, FMT)
        try:
            transport.write(request)
            os.write(master, reply)
            first = await transport.receive(time.monotonic() + FAR, 25)
            calls_first = transport.readable_calls
            os.read(master, 64)  # the requests, as a board would take them
            transport.write(request)
            os.write(master, reply)
            second = await transport.receive(time.monotonic() + FAR, 25)
            return first, second, calls_first, transport.readable_calls - calls_first
        finally:
            transport.close()

    first, second, calls_first, calls_second = asyncio.run(main())
    assert first == second == reply
    assert calls_first >= 1  # nothing learnt yet: woken by the port
    assert calls_second == 0


def test_a_reply_later_than_the_learnt_turnaround_is_still_received_whole(
    pty: tuple[int, str],
) -> None:
    """A board that answers slower than last time: the deaf sleep ends before
    its reply, the transport listens again and hands the reply over whole."""
    master, path = pty
    request, reply = b"\x01\x04\x00\x10\x00\x0a\x71\xc8", bytes(range(1, 26))

    async def main() -> bytes:
        transport = SerialTransport.open(path, FMT)
        loop = asyncio.get_running_loop()
        try:
            transport.write(request)
            os.write(master, reply)
            await transport.receive(time.monotonic() + FAR, 25)  # turnaround ~0 learnt
            transport.write(request)
            loop.call_later(0.05, os.write, master, reply)  # 50 ms late this time
            return await transport.receive(time.monotonic() + FAR, 25)
        finally:
            transport.close()

    assert asyncio.run(main()) == reply


def test_a_whole_reply_with_a_bad_sum_ends_at_silence_not_at_the_timeout(
    pty: tuple[int, str],
) -> None:
    """A Kerong board's response timeout is about a second; a garbled reply
    must not hold the bus that long. With a far deadline, the transaction
    still ends (bounded by `run`'s 10 s) once the line is quiet after a
    reply's worth of bytes that fails its sum."""
    master, path = pty
    good = cu16.encode_status(cu16.Status(0, (False,) * 16, (False,) * 16))
    bad = good[:-1] + bytes(((good[-1] + 1) & 0xFF,))
    fmt = SerialFormat(19200, "N", 1)

    async def main() -> object:
        transport = SerialTransport.open(path, fmt)
        try:
            exchange = Cu16Driver("bus0", KerongBoardConfig("kerong_cu16", 0)).poll()[0]

            def board() -> None:  # reads the request, answers with the garbled reply
                os.read(master, exchange.request_bytes)
                os.write(master, bad)

            answering = asyncio.create_task(asyncio.to_thread(board))
            attempt = await transact(
                transport,
                exchange,
                gap=0.0,
                timeout=FAR,
                silence=fmt.t35 + 0.016,
                clock=time.monotonic,
            )
            await answering
            return attempt.outcome
        finally:
            transport.close()

    outcome = run(main(), timeout=10)
    assert isinstance(outcome, BusFault) and outcome.kind is FaultKind.BAD_CRC, outcome
