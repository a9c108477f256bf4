"""Linux key codes -> the characters a keyboard-style reader types (US layout).

Codes from linux/input-event-codes.h (tests/readers check them against the
header when it is installed). Readers that emulate a keyboard type digits,
letters (X of an ID number, hex staff card numbers, code prefixes) and
Enter; keypad digits and keypad Enter too on some models, Tab on some
scanners. Modifiers are state, not characters; any other key is a
character we cannot read, typed as "?" so the token is reported as
unrecognised rather than silently shortened.
"""

from __future__ import annotations

EV_SYN = 0x00
EV_KEY = 0x01
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
_ENDINGS = {28: "\n", 96: "\n", 15: "\t"}  # Enter, keypad Enter, Tab
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
