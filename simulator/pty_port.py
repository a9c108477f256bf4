"""A pseudo-terminal that looks like a USB-RS485 adapter.

The host opens `link`, a stable symbolic link to the pty's slave side
(/dev/pts/N changes with every pty). `unplug` removes the link and closes the
master: the host's open descriptor then fails the way a pulled USB adapter's
does (pyserial: "device reports readiness to read but returned no data";
writes fail with EIO). `plug` makes a new pty and points the link at it.

We keep a descriptor of the slave open ourselves, so a host closing and
reopening the device does not hang the master up, and so the raw mode we set
survives until the host sets its own.

The host's line settings (`host_format`). A pty has no line, but it keeps
most of what the host asked for in the slave's termios, which we read
through our own slave descriptor: the speed (tcgetattr; a speed without a
Bnnn code, set with BOTHER, through the TCGETS2 ioctl), CSTOPB, and PARODD.
Linux's pty driver clears PARENB and forces CS8 on every tcsetattr
(drivers/tty/pty.c, pty_set_termios), so even parity cannot be told from
none, nor 7 data bits from 8: where the host did not ask for odd parity,
its parity is taken to be the line's (none or even), and its data bits 8.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import termios
import tty
from pathlib import Path
from typing import Literal

from protocol.timing import SerialFormat

# tcgetattr's speed codes (B9600 ...) and the rates they stand for
_SPEEDS = {
    getattr(termios, name): int(name[1:])
    for name in dir(termios)
    if name.startswith("B") and name[1:].isdigit() and int(name[1:]) > 0
}
_TCGETS2 = 0x802C542A  # asm-generic/ioctls.h: _IOR('T', 0x2A, struct termios2)
_TCSETS2 = 0x402C542B  # _IOW('T', 0x2B, struct termios2)
_CBAUD, _BOTHER = 0o010017, 0o010000  # asm-generic/termbits.h
_TERMIOS2 = struct.Struct("4I B 19B 2I")  # flags, c_line, c_cc[NCCS = 19], ispeed, ospeed


def _set_format(fd: int, fmt: SerialFormat) -> None:
    """The line's speed and stop bits (and odd parity) as the pty's own settings."""
    codes = {rate: code for code, rate in _SPEEDS.items()}
    attrs = termios.tcgetattr(fd)
    if fmt.baud in codes:
        attrs[4] = attrs[5] = codes[fmt.baud]
    attrs[2] &= ~(termios.CSTOPB | termios.PARODD)
    if fmt.stopbits == 2:
        attrs[2] |= termios.CSTOPB
    if fmt.parity == "O":
        attrs[2] |= termios.PARENB | termios.PARODD
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    if fmt.baud not in codes:  # no Bnnn code: the speed itself, through termios2
        with contextlib.suppress(OSError):
            raw = list(_TERMIOS2.unpack(fcntl.ioctl(fd, _TCGETS2, bytes(_TERMIOS2.size))))
            raw[2] = (raw[2] & ~_CBAUD) | _BOTHER
            raw[-2] = raw[-1] = fmt.baud
            fcntl.ioctl(fd, _TCSETS2, _TERMIOS2.pack(*raw))


def _termios2_ospeed(fd: int) -> int | None:
    """The output speed in bits per second, also when set without a Bnnn code."""
    try:
        raw = fcntl.ioctl(fd, _TCGETS2, bytes(_TERMIOS2.size))
    except OSError:
        return None
    speed = int(_TERMIOS2.unpack(raw)[-1])
    return speed or None


class PtyPort:
    def __init__(self, link: Path, fmt: SerialFormat | None = None) -> None:
        """`fmt`: the line's format, which a new pty starts with, so that a host
        that never sets its own (a raw open) is taken to speak it."""
        self.link = link
        self.format = fmt
        self.device: str | None = None  # /dev/pts/N while plugged
        self.dropped = 0  # bytes the host did not read in time
        self._master: int | None = None
        self._slave: int | None = None

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def fileno(self) -> int:
        if self._master is None:
            raise RuntimeError(f"{self.link} is unplugged")
        return self._master

    def plug(self) -> None:
        if self._master is not None:
            return
        if self.link.exists() and not self.link.is_symlink():
            raise FileExistsError(f"{self.link} exists and is not a symlink; not replacing it")
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF mangling: bytes are bytes
        if self.format is not None:
            _set_format(slave, self.format)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.device = os.ttyname(slave)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.device)
        tmp.replace(self.link)  # atomic: the path never points nowhere

    def unplug(self) -> None:
        if self._master is None:
            return
        self._remove_link()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self.device = None

    def host_format(self, line: SerialFormat) -> SerialFormat:
        """The format the host set on its side of the pty, as far as the pty
        keeps it (see the module's docstring); `line` where it says nothing."""
        if self._slave is None:
            return line
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return line
        cflag = attrs[2]
        baud = _SPEEDS.get(attrs[5]) or _termios2_ospeed(self._slave) or line.baud
        parity = "O" if cflag & termios.PARODD else ("E" if line.parity == "O" else line.parity)
        stopbits: Literal[1, 2] = 2 if cflag & termios.CSTOPB else 1
        return SerialFormat(baud, parity, stopbits, line.bytesize)

    def read(self) -> bytes:
        if self._master is None:
            return b""
        try:
            return os.read(self._master, 4096)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:  # no slave open: nobody is there
                return b""
            raise

    def write(self, data: bytes) -> None:
        if self._master is None:
            self.dropped += len(data)
            return
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            written = 0
        self.dropped += len(data) - written

    def _remove_link(self) -> None:
        # Only remove the link if it still points at our pty: another
        # simulator may have taken the path over.
        with contextlib.suppress(OSError):
            if self.device is not None and os.readlink(self.link) == self.device:
                self.link.unlink()
