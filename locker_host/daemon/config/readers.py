"""`[[readers]]`: the card readers and scanners, one table each.

    kind = "sam"    an ID-card reader with its security module (strong): on a serial
                    port (transport = "serial": port, baud, format) or in USB mode
                    (transport = "usb": usb_id, usb_port), and the SAM cycle's
                    timing (poll_interval, ...)
    kind = "line"   a serial scanner or RFID reader typing one token per line
    kind = "hid"    a keyboard-style reader on /dev/input/event*

Line and keyboard readers classify each token (`TokenRules`): a staff card,
an ID number (weak), a pickup or drop-off code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from locker_host.domain import CodePurpose
from locker_host.readers import (
    Backoff,
    HidConfig,
    LineConfig,
    SamConfig,
    SamTiming,
    SerialSettings,
    TokenRules,
    UsbSettings,
)

from .buses import FORMATS, NAME
from .fields import ConfigError, Table, unique

KINDS = ("sam", "line", "hid")
TRANSPORTS = ("serial", "usb")
_USB_ID = re.compile(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}")
_USB_PORT = re.compile(r"[0-9]+-[0-9]+(\.[0-9]+)*")
_BARE_CODES = {"pickup": CodePurpose.PICKUP, "dropoff": CodePurpose.DROPOFF, "none": None}


@dataclass(frozen=True)
class ReaderSetting:
    name: str
    device: SamConfig | LineConfig | HidConfig
    rules: TokenRules | None  # None: a SAM reader (it reads chips, not tokens)
    backoff: Backoff


def parse_readers(root: Table) -> tuple[ReaderSetting, ...]:
    readers = tuple(_reader(t, i) for i, t in enumerate(root.tables("readers")))
    unique([r.name for r in readers], "readers", "name")
    devices = [_device_path(r) for r in readers]
    unique(devices, "readers", "port")
    return readers


def _device_path(reader: ReaderSetting) -> str:
    device = reader.device
    if isinstance(device, HidConfig):
        return device.path
    if isinstance(device, SamConfig):
        return device.link.path
    return device.serial.path


def _reader(t: Table, index: int) -> ReaderSetting:
    kind = t.text("kind", choices=KINDS)
    name = t.text("name", f"{kind}{index}", pattern=NAME)
    initial = t.positive("backoff_initial", 0.5, hi=3600.0)
    maximum = t.positive("backoff_max", 30.0, hi=3600.0)
    if maximum < initial:
        raise ConfigError(t.where("backoff_max"), f"{maximum:g} is below backoff_initial")
    device: SamConfig | LineConfig | HidConfig
    rules = None
    if kind == "sam":
        transport = t.text("transport", "serial", choices=TRANSPORTS)
        link = _serial(t, 115200) if transport == "serial" else _usb(t)
        device = SamConfig(link, _timing(t))
    else:
        max_length = t.integer("max_length", 64, lo=1, hi=64)
        idle_timeout = t.positive("idle_timeout", 1.0, hi=60.0)
        if kind == "line":
            device = LineConfig(_serial(t, 9600), max_length, idle_timeout)
        else:
            device = HidConfig(t.text("path"), t.boolean("grab", True), max_length, idle_timeout)
        rules = _rules(t)
    t.finish()
    return ReaderSetting(name, device, rules, Backoff(initial, maximum))


def _serial(t: Table, default_baud: int) -> SerialSettings:
    return SerialSettings(
        t.text("port"),
        t.integer("baud", default_baud, lo=300, hi=4_000_000),
        t.text("format", "8N1", choices=FORMATS),
    )


def _usb(t: Table) -> UsbSettings:
    default = UsbSettings()
    usb_id = t.text("usb_id", f"{default.vendor_id:04x}:{default.product_id:04x}")
    if not _USB_ID.fullmatch(usb_id):
        raise ConfigError(t.where("usb_id"), f"{usb_id!r} is not VENDOR:PRODUCT in hex (lsusb)")
    port = t.optional_text("usb_port")
    if port is not None and not _USB_PORT.fullmatch(port):
        raise ConfigError(t.where("usb_port"), f"{port!r} is not a bus-port path such as 1-1.4")
    vendor, product = (int(part, 16) for part in usb_id.split(":"))
    return UsbSettings(vendor, product, port)


def _timing(t: Table) -> SamTiming:
    given: dict[str, float | int] = {}
    for f in fields(SamTiming):
        if not t.has(f.name):
            continue
        if f.type in ("int", int):
            given[f.name] = t.integer(f.name, lo=1, hi=100)
        else:
            given[f.name] = t.positive(f.name, hi=60.0)
    return SamTiming(**given)  # type: ignore[arg-type]


def _rules(t: Table) -> TokenRules:
    default = TokenRules()
    pattern = t.text("staff_pattern", default.staff_pattern or "")
    try:
        re.compile(pattern)
    except re.error as problem:
        raise ConfigError(
            t.where("staff_pattern"), f"not a regular expression: {problem}"
        ) from None
    low, high = default.bare_code_lengths
    lengths = t.numbers("bare_code_lengths", (low, high))
    where = t.where("bare_code_lengths")
    if len(lengths) != 2 or any(n != int(n) for n in lengths):
        raise ConfigError(where, "must be two whole numbers [shortest, longest]")
    bare = t.text("bare_code", "pickup", choices=tuple(_BARE_CODES))
    try:
        return TokenRules(
            staff_prefix=t.text("staff_prefix", default.staff_prefix),
            staff_pattern=pattern or None,
            pickup_prefix=t.text("pickup_prefix", default.pickup_prefix),
            dropoff_prefix=t.text("dropoff_prefix", default.dropoff_prefix),
            bare_code=_BARE_CODES[bare],
            bare_code_lengths=(int(lengths[0]), int(lengths[1])),
        )
    except ValueError as problem:  # clashing prefixes, impossible code lengths
        raise ConfigError(t.key, str(problem)) from None
