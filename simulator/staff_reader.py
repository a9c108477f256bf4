"""A simulated staff-card reader, the kind halls use: it types the card number.

Clerks' cards (RFID badges) are read at halls by readers that need no
driver: a USB keyboard wedge (HID) types the number and Enter; some come as
a serial port sending the number and CR LF instead. Both are here
(`[staff_reader] kind` in a layout):

    keyboard  the key strokes, as `struct input_event` records
              (`protocol.keyboard.keystrokes`): what a real one delivers
              through /dev/input/event*. They are written to a
              pseudo-terminal (`<run dir>/inputSTAFF0`), which lockerd's
              `hid` reader reads like an event device (with `grab = false`:
              a pty cannot be grabbed).
    serial    the number and CR LF on a pseudo-terminal
              (`<run dir>/ttySTAFF0`), for lockerd's `line` reader.

`present(number)` is one card held to the reader; a reader types it at
once and in full, so nothing here is paced. The raw number never leaves
this object except as those bytes.
"""

from __future__ import annotations

import re
import threading
import time
from enum import StrEnum
from pathlib import Path

from protocol.errors import UsageError
from protocol.keyboard import keystrokes

from .pty_port import PtyPort

# What a badge number may be: what the keyboard map types, and no longer than
# a reader's token may be (lockerd's max_length, 64 by default).
CARD_NUMBER = re.compile(r"[0-9A-Za-z]{1,64}")


class StaffReaderKind(StrEnum):
    KEYBOARD = "keyboard"
    SERIAL = "serial"


DEFAULT_LINKS = {StaffReaderKind.KEYBOARD: "inputSTAFF0", StaffReaderKind.SERIAL: "ttySTAFF0"}


def card_bytes(kind: StaffReaderKind, number: str, wall_time: float) -> bytes:
    """What the reader sends for one card; UsageError for a number it cannot type."""
    if not CARD_NUMBER.fullmatch(number):
        raise UsageError("a card number is 1 to 64 letters and digits")
    if kind is StaffReaderKind.SERIAL:
        return number.encode("ascii") + b"\r\n"
    seconds = int(wall_time)
    return keystrokes(number, seconds, int((wall_time - seconds) * 1_000_000))


class StaffReaderFront:
    def __init__(self, kind: StaffReaderKind, link: Path) -> None:
        self.kind = kind
        self.pty = PtyPort(link)
        self.cards = 0  # cards presented
        self._lock = threading.Lock()

    def start(self) -> None:
        self.pty.plug()

    def stop(self) -> None:
        with self._lock:
            self.pty.unplug()

    def present(self, number: str) -> None:
        data = card_bytes(self.kind, number, time.time())
        with self._lock:
            self.pty.write(data)
            self.cards += 1

    def info(self) -> dict[str, object]:
        with self._lock:
            return {
                "device": str(self.pty.link),
                "kind": self.kind.value,
                "plugged": self.pty.plugged,
                "cards": self.cards,
                "dropped_bytes": self.pty.dropped,
            }
