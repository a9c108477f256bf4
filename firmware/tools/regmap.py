"""Generate firmware/regmap.py from protocol/reference_board.py.

The firmware cannot import protocol/ (a board has neither dataclasses nor
enum), so its register-map constants are written out as plain integers by
this generator. tests/firmware/test_regmap.py regenerates the file and fails
on any difference, so a change to the contract that is not carried into the
firmware is caught; `python -m firmware regmap` rewrites it.
"""

from __future__ import annotations

from pathlib import Path

from protocol import reference_board as rb
from protocol.families import REFERENCE

TARGET = Path(__file__).resolve().parent.parent / "regmap.py"

_NAMES = (
    "MAGIC",
    "MAP_VERSION",
    "MAX_CHANNELS",
    "IR_MAGIC",
    "IR_MAP_VERSION",
    "IR_CHANNELS",
    "IR_FIRMWARE",
    "IR_MODEL",
    "IR_SERIAL_HI",
    "IR_SERIAL_LO",
    "IR_CAPABILITIES",
    "IDENTITY_COUNT",
    "IR_STATUS",
    "HR_PULSE_DEFAULT_MS",
    "HR_POLARITY",
    "HR_ACK",
    "HR_COMMAND",
    "HR_UNIT_ADDRESS",
    "HR_SERIAL_FORMAT",
    "HOLDING_COUNT",
    "HR_UNLOCK_BASE",
    "COMMAND_ALL_OUTPUTS_OFF",
    "PULSE_MIN_MS",
    "PULSE_MAX_MS",
    "PULSE_DEFAULT_MS",
    "FACTORY_UNIT",
    "FACTORY_SERIAL_FORMAT",
)


def _literal(name: str, value: int) -> str:
    hexadecimal = name.startswith(("IR_", "HR_", "MAGIC", "COMMAND_"))
    return f"0x{value:04X}" if hexadecimal else str(value)


def render() -> str:
    lines = [
        '"""Register-map constants of the reference lock board.',
        "",
        "GENERATED from protocol/reference_board.py by `python -m firmware regmap`;",
        "do not edit (tests/firmware/test_regmap.py fails on drift).",
        '"""',
        "",
    ]
    lines += [f"{name} = {_literal(name, getattr(rb, name))}" for name in _NAMES]
    lines.append(f"MAX_UNIT = {REFERENCE.units.high}")
    lines.append("")
    lines += [f"FLAG_{flag.name} = {int(flag)}" for flag in rb.StatusFlags]
    lines += [f"POLARITY_{bit.name} = {int(bit)}" for bit in rb.Polarity]
    lines += [f"CAPABILITY_{bit.name} = {int(bit)}" for bit in rb.Capabilities]
    lines.append(f"POLARITY_ALL = {int(sum(rb.Polarity))}")
    lines.append("")
    lines.append(f"BAUD_RATES = {rb.BAUD_RATES!r}")
    # bits per character of each frame code: start + 8 data + parity + stop bits
    bits = tuple(1 + 8 + (frame[1] != "N") + int(frame[2]) for frame in rb.FRAMES)
    lines.append(f"FRAMES = {rb.FRAMES!r}")
    lines.append(f"FRAME_BITS = {bits!r}")
    return "\n".join(lines) + "\n"


def write() -> Path:
    TARGET.write_text(render())
    return TARGET
