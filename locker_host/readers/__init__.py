"""Card readers and scanners: the adapter that turns what people present into readings.

Theory of operation. Every reader runs on its own thread (serial ports and
input devices block) and hands `Reading`s to the event loop through the
`ReaderPort` (`start`, `readings()`, `stop`, `statistics`). Raw ID numbers,
staff card numbers and codes are turned into owner keys and keyed digests
the moment they are read (`present`) and dropped; readings and logs carry a
mask at most (DESIGN.md section 5). A chip read through the SAM is STRONG;
an ID number that arrives as text (scanner, keyboard-style reader, a kiosk
without a SAM) is WEAK. Device trouble is a reading (`ReaderFault`), never
an exception; the reader reopens the device with back-off.

Layout:
    model        the readings (what a person presented is the app's), FaultCode
    present      raw value -> reading: ID numbers, staff cards, codes (ReaderKeys)
    port         ReaderPort, ReaderStatistics
    runner       ThreadedReader: the thread, reopen with back-off, availability,
                 the hand-over to asyncio; DeviceError
    serial_port  pyserial behind one error translation
    sam_cycle    the SAM_V find -> select -> read cycle, sans I/O
    usb_port     a SAM_V reader's USB bulk pipes through pyusb, behind one error translation
    sam          the SAM_V reader on a serial port or USB (SamLink)
    tokens       one token per line (CR/LF/Tab), idle and length limits
    classify     what a token is: ID number, staff card, pickup / drop-off code
    lines        a serial scanner or RFID reader (one token per line)
    hid          a keyboard-style reader on /dev/input/event* (protocol.keyboard:
                 the records and key codes)
    http_swipe   the kiosk's swipe payload -> a reading (the API mounts it)

Imports the domain (`locker_host.domain`), `protocol`, and of the app only the
input values it produces (`locker_host.app.inputs`); no other adapter.
"""

from .classify import TokenRules, classify
from .hid import HidConfig, hid_reader
from .http_swipe import (
    KioskEntry,
    ReaderKind,
    Swiped,
    SwipeError,
    SwipeErrorCode,
    kiosk_token_digest,
    parse_swipe,
)
from .lines import LineConfig, line_reader
from .model import (
    CardPresented,
    CodeEntered,
    FaultCode,
    Presentation,
    ReaderFault,
    ReaderReady,
    Reading,
    StaffCardDigest,
    StaffCardPresented,
)
from .port import ReaderPort, ReaderStatistics
from .present import (
    ReaderKeys,
    present_code,
    present_id_number,
    present_staff_card,
    staff_card_digests,
)
from .runner import Backoff, ThreadedReader
from .sam import SamConfig, sam_reader
from .sam_cycle import SamTiming
from .serial_port import SerialSettings
from .usb_port import UsbSettings

__all__ = [
    "Backoff",
    "CardPresented",
    "CodeEntered",
    "FaultCode",
    "HidConfig",
    "KioskEntry",
    "LineConfig",
    "Presentation",
    "ReaderFault",
    "ReaderKeys",
    "ReaderKind",
    "ReaderPort",
    "ReaderReady",
    "ReaderStatistics",
    "Reading",
    "SamConfig",
    "SamTiming",
    "SerialSettings",
    "StaffCardDigest",
    "StaffCardPresented",
    "SwipeError",
    "SwipeErrorCode",
    "Swiped",
    "ThreadedReader",
    "TokenRules",
    "UsbSettings",
    "classify",
    "hid_reader",
    "kiosk_token_digest",
    "line_reader",
    "parse_swipe",
    "present_code",
    "present_id_number",
    "present_staff_card",
    "sam_reader",
    "staff_card_digests",
]
