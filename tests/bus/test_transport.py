"""The serial transport on real pseudo-terminals: opening, exclusive
ownership, stray bytes, and what a pulled adapter looks like."""

from __future__ import annotations

import asyncio
import errno
import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from locker_host.bus import PortLost, PortUnavailable
from locker_host.bus.transport import SerialTransport
from protocol.timing import SerialFormat

FMT = SerialFormat(19200, "E", 1)


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    """(master fd, slave path). Like the simulator, keep a slave descriptor
    open: a pty whose last slave descriptor closed refuses new termios
    settings (EINVAL) when reopened."""
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(slave)
    try:
        os.close(master)
    except OSError as exc:
        assert exc.errno == errno.EBADF  # the test pulled the "adapter"


def test_an_absent_device_is_unavailable(tmp_path: Path) -> None:
    async def main() -> None:
        with pytest.raises(PortUnavailable) as caught:
            SerialTransport.open(str(tmp_path / "ttyUSB9"), FMT)
        assert (caught.value.cause, caught.value.errno) == ("absent", errno.ENOENT)
        assert caught.value.code == "port_unavailable"

    asyncio.run(main())


def test_a_second_owner_is_refused(pty: tuple[int, str]) -> None:
    _, path = pty

    async def main() -> None:
        first = SerialTransport.open(path, SerialFormat(19200, "N", 1))
        try:
            with pytest.raises(PortUnavailable) as caught:
                SerialTransport.open(path, FMT)
            assert caught.value.cause == "busy"
        finally:
            first.close()
        # Free again once closed.
        SerialTransport.open(path, SerialFormat(19200, "N", 1)).close()

    asyncio.run(main())


def test_a_pty_opens_again_and_again_with_even_parity(pty: tuple[int, str]) -> None:
    # Recent kernels drop PARENB on a pty and then refuse a tcsetattr whose
    # only change is PARENB (EINVAL): a daemon restarted against a running
    # simulator must still open it. Parity means nothing on a pty.
    async def main() -> None:
        for _ in range(3):
            SerialTransport.open(pty[1], FMT).close()

    asyncio.run(main())


def test_low_latency_is_best_effort(pty: tuple[int, str]) -> None:
    async def main() -> None:
        transport = SerialTransport.open(pty[1], FMT)
        assert transport.low_latency is False  # a pty refuses the ioctl (ENOTTY)
        transport.close()

    asyncio.run(main())


def test_stray_bytes_are_discarded_before_a_request(pty: tuple[int, str]) -> None:
    master, path = pty

    async def main() -> None:
        transport = SerialTransport.open(path, FMT)
        try:
            os.write(master, b"\x00garbage")
            await asyncio.sleep(0.01)
            assert await transport.wait_quiet(FMT.t35) == 8
            sent_at = transport.write(b"\x01\x04")
            assert os.read(master, 16) == b"\x01\x04"
            os.write(master, b"\x01\x04\x00")
            assert await transport.receive(sent_at + 1.0) == b"\x01\x04\x00"
            assert transport.quiet_since >= sent_at
            assert await transport.receive(transport.quiet_since + 0.02) == b""  # deadline
        finally:
            transport.close()

    asyncio.run(main())


def test_a_hang_up_is_port_lost(pty: tuple[int, str]) -> None:
    master, path = pty

    async def main() -> None:
        transport = SerialTransport.open(path, FMT)
        woken = asyncio.Event()
        transport.on_lost = woken.set
        try:
            os.close(master)  # the adapter is pulled
            await asyncio.wait_for(woken.wait(), 2.0)  # noticed while idle
            assert transport.lost is not None
            assert transport.lost.cause in ("hangup", "io_error")
            with pytest.raises(PortLost):
                transport.write(b"\x01")
            with pytest.raises(PortLost):
                await transport.receive(transport.quiet_since + 1.0)
        finally:
            transport.close()

    asyncio.run(main())
