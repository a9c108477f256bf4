"""A pseudo-terminal that looks like a USB-RS485 adapter.

The host opens `link`, a stable symbolic link to the pty's slave side
(/dev/pts/N changes with every pty). `unplug` removes the link and closes the
master: the host's open descriptor then fails the way a pulled USB adapter's
does (pyserial: "device reports readiness to read but returned no data";
writes fail with EIO). `plug` makes a new pty and points the link at it.

We keep a descriptor of the slave open ourselves, so a host closing and
reopening the device does not hang the master up, and so the raw mode we set
survives until the host sets its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tty
from pathlib import Path


class PtyPort:
    def __init__(self, link: Path) -> None:
        self.link = link
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
