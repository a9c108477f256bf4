"""The SAM_V frames over USB (GA 467 USB mode): which bytes go on which bulk pipe.

Desktop readers that are not serial ports carry the very frames of `frame`
on two pairs of bulk endpoints instead of one byte stream:

    host -> reader   OUT 0x02  preamble + Len   (7 bytes)
                     OUT 0x06  CMD Para [Data] CHK   (Len bytes)
    reader -> host   IN  0x81  preamble + Len   (7 bytes)
                     IN  0x85  SW1 SW2 SW3 [Data] CHK   (Len bytes)

Sources: the IDRUSB libusb driver (IDRUSB.h names ep2o 0x02, ep6o 0x06,
ep1i 0x81, ep5i 0x85; IDRUSB.cpp opens VID 0x0400 PID 0xC35A, writes the
7 header bytes to 0x02 and Len bytes to 0x06, reads the header from 0x81
and the rest from 0x85); the eastcoms / CSDN copies of the protocol
describe the same split (tables 5-8, as the project's research notes quote
them; not read here). Both sides of this module are pure: the
host's transport (`locker_host.readers.usb_port`) and the tests' simulated
device use it.
"""

from __future__ import annotations

from .frame import HEADER_SIZE, PREAMBLE

VENDOR_ID = 0x0400  # as the IDRUSB driver opens it
PRODUCT_ID = 0xC35A

HEADER_OUT = 0x02
BODY_OUT = 0x06
HEADER_IN = 0x81
BODY_IN = 0x85
ENDPOINTS = (HEADER_OUT, BODY_OUT, HEADER_IN, BODY_IN)


def split_frame(frame: bytes) -> tuple[bytes, bytes]:
    """(header, body): what goes on the header pipe and what on the body pipe."""
    return frame[:HEADER_SIZE], frame[HEADER_SIZE:]


def body_length(header: bytes) -> int | None:
    """The Len a header announces, or None when it is no header."""
    if len(header) != HEADER_SIZE or not header.startswith(PREAMBLE):
        return None
    return int.from_bytes(header[5:HEADER_SIZE], "big")
