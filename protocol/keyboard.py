"""What a keyboard-style reader sends through Linux evdev: key codes and input_event records.

"Driver-free" card readers and scanners enumerate as a USB keyboard and
type the token and Enter (a keyboard wedge). Read through the evdev
character device (/dev/input/event*), each key stroke is a `struct
input_event` (linux/input.h): a timeval (two native longs), then type,
code and value; `@llHHi` is that layout on 64-bit (24 bytes) and on 32-bit
ARM (16 bytes) alike.

Key codes from linux/input-event-codes.h (tests/readers check them against
the header when it is installed), US layout. Readers type digits, letters
(X of an ID number, hex staff card numbers, code prefixes) and Enter;
keypad digits and keypad Enter too on some models, Tab on some scanners.
Modifiers are state, not characters; any other key is a character we
cannot read, typed as "?" so the token is reported as unrecognised rather
than silently shortened.

Both sides are here: `input_events` and `character` for the host's reader
(locker_host/readers/hid.py), `keystrokes` for the simulator's reader,
which types a card number the way such a reader does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .errors import UsageError

INPUT_EVENT = struct.Struct("@llHHi")  # struct input_event, native layout

EV_SYN = 0x00
EV_KEY = 0x01
SYN_REPORT = 0
KEY_RELEASED, KEY_PRESSED, KEY_REPEATED = 0, 1, 2

KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
SHIFT_KEYS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
# Ctrl, Alt, Meta, Caps Lock, Num Lock, Scroll Lock
IGNORED_KEYS = frozenset({29, 97, 56, 100, 125, 126, 58, 69, 70})

_ROWS = {
    2: "1234567890-=",
    16: "qwertyuiop",
    30: "asdfghjkl",
    44: "zxcvbnm",
}
_KEYPAD = {71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6", 78: "+",
           79: "1", 80: "2", 81: "3", 82: "0", 83: "."}  # fmt: skip
KEY_ENTER = 28
_ENDINGS = {KEY_ENTER: "\n", 96: "\n", 15: "\t"}  # Enter, keypad Enter, Tab
KEY_SPACE = 57

UNKNOWN = "?"

CHARACTERS: dict[int, str] = {
    **{first + i: char for first, row in _ROWS.items() for i, char in enumerate(row)},
    **_KEYPAD,
    **_ENDINGS,
    KEY_SPACE: " ",
}


def character(code: int, shifted: bool) -> str:
    char = CHARACTERS.get(code, UNKNOWN)
    return char.upper() if shifted and char.isalpha() else char


def input_events(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, code, value) of each whole record in `data`."""
    for _sec, _usec, kind, code, value in INPUT_EVENT.iter_unpack(data):
        yield kind, code, value


# The main rows only: a reader types its digits there unless it is a keypad model.
_KEY_OF = {char: code for code, char in CHARACTERS.items() if code not in _KEYPAD}


def keystrokes(text: str, seconds: int = 0, microseconds: int = 0) -> bytes:
    """The records a keyboard-style reader sends for `text` and Enter.

    Each key: press, report, release, report; a capital letter inside Left
    Shift. Raises UsageError for a character no key types (US layout).
    """
    out = bytearray()

    def record(kind: int, code: int, value: int) -> None:
        out.extend(INPUT_EVENT.pack(seconds, microseconds, kind, code, value))

    def stroke(code: int) -> None:
        for value in (KEY_PRESSED, KEY_RELEASED):
            record(EV_KEY, code, value)
            record(EV_SYN, SYN_REPORT, 0)

    for char in text:
        code = _KEY_OF.get(char.lower())
        if code is None or (char.isupper() and not char.isalpha()):
            raise UsageError(f"no key types {char!r}")
        if char.isupper():
            record(EV_KEY, KEY_LEFTSHIFT, KEY_PRESSED)
        stroke(code)
        if char.isupper():
            record(EV_KEY, KEY_LEFTSHIFT, KEY_RELEASED)
    stroke(KEY_ENTER)
    return bytes(out)
