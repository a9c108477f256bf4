"""A SAM_V reader on USB bulk pipes (GA 467 USB mode); the one place pyusb errors are translated.

Such a reader has no tty: `lsusb` lists it (0400:c35a for the readers the
IDRUSB libusb driver opens) and nothing appears under /dev/ttyUSB* or
/dev/ttyACM*. Each frame's 7 header bytes travel on one bulk pipe and the
rest on another (`protocol.idcard.usb`). `UsbSamDevice` hides the split
behind the byte-stream face `sam.SamSession` uses for a serial port:
`write` sends a frame's header and body on their pipes; `read` returns the
header from IN 0x81, then as many bytes as its Len announces from IN 0x85,
waiting at most a short slice each time, so the protocol's `ReplyReader`
sees the same bytes a serial line would carry.

pyusb (over libusb-1.0) raises `usb.core.USBError` for everything: a
timeout is `USBTimeoutError` (nothing arrived in the slice: no bytes),
anything else once the device is open is DEVICE_LOST (ENODEV when the
cable is pulled); finding, configuring or claiming it fails as
DEVICE_UNAVAILABLE (absent, busy, no permission: see deploy/udev), and so
does a missing libusb (`NoBackendError`). The interface is claimed, so a
second program cannot interleave its own frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import usb.core
import usb.util

from protocol.idcard import usb as pipes

from .model import FaultCode
from .runner import DeviceError

_READ_SLICE_MS = 50  # one read may block this long: keeps stop() prompt
_WRITE_TIMEOUT_MS = 1000
_DRAIN_MS = 1  # reading what a late reply left in the pipes
_DRAIN_READS = 4  # per pipe: a reply is one header and one body transfer
_BUFFER = 4096  # bytes per bulk read: more than the longest reply (2321), whole packets


@dataclass(frozen=True)
class UsbSettings:
    vendor_id: int = pipes.VENDOR_ID
    product_id: int = pipes.PRODUCT_ID
    port: str | None = None  # "1-1.4": bus and port path (/sys/bus/usb/devices); None: the only one

    def __post_init__(self) -> None:
        if not (0 <= self.vendor_id <= 0xFFFF and 0 <= self.product_id <= 0xFFFF):
            raise ValueError("USB vendor and product ids are 16-bit")

    @property
    def path(self) -> str:
        """How logs and the configuration name the device: usb:0400:c35a[@1-1.4]."""
        where = "" if self.port is None else f"@{self.port}"
        return f"usb:{self.vendor_id:04x}:{self.product_id:04x}{where}"


def port_path(device: Any) -> str | None:
    """The kernel's name for where a device is plugged in: bus-port.port..."""
    numbers = getattr(device, "port_numbers", None)
    if device.bus is None or not numbers:
        return None
    return f"{device.bus}-{'.'.join(map(str, numbers))}"


@contextlib.contextmanager
def _translated(code: FaultCode, what: str) -> Iterator[None]:
    try:
        yield
    except usb.core.NoBackendError:
        raise DeviceError(code, f"{what}: libusb-1.0 is not installed") from None
    except usb.core.USBError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise DeviceError(code, f"{what}: {reason}") from None


class UsbSamDevice:
    def __init__(self, device: Any, interface: int, path: str) -> None:
        self._device = device
        self._interface = interface
        self.path = path
        self._body_due = 0  # bytes still to come on the body pipe; 0: a header is next

    @classmethod
    def open(cls, settings: UsbSettings, backend: Any = None) -> UsbSamDevice:
        """Find, configure and claim the reader; `backend` is pyusb's (None: libusb-1.0)."""
        path = settings.path
        with _translated(FaultCode.DEVICE_UNAVAILABLE, f"cannot open {path}"):
            found = list(
                usb.core.find(
                    find_all=True,
                    idVendor=settings.vendor_id,
                    idProduct=settings.product_id,
                    backend=backend,
                )
            )
            if settings.port is not None:
                found = [d for d in found if port_path(d) == settings.port]
            if not found:
                raise DeviceError(
                    FaultCode.DEVICE_UNAVAILABLE, f"cannot open {path}: no such USB device"
                )
            if len(found) > 1:
                places = ", ".join(str(port_path(d)) for d in found)
                raise DeviceError(
                    FaultCode.DEVICE_UNAVAILABLE,
                    f"cannot open {path}: {len(found)} such devices ({places}); set usb_port",
                )
            device = found[0]
            interface = cls._claim(device, path)
        return cls(device, interface, path)

    @staticmethod
    def _claim(device: Any, path: str) -> int:
        try:
            config = device.get_active_configuration()
        except usb.core.USBError:
            config = None
        if config is None:  # unconfigured: take the first configuration
            device.set_configuration()
            config = device.get_active_configuration()
        for interface in config:
            addresses = {e.bEndpointAddress for e in interface}
            if set(pipes.ENDPOINTS) <= addresses:
                number: int = interface.bInterfaceNumber
                with contextlib.suppress(NotImplementedError, usb.core.USBError):
                    if device.is_kernel_driver_active(number):
                        device.detach_kernel_driver(number)
                usb.util.claim_interface(device, number)
                return number
        usb.util.dispose_resources(device)
        wanted = "/".join(f"{a:02x}" for a in pipes.ENDPOINTS)
        raise DeviceError(
            FaultCode.DEVICE_UNAVAILABLE,
            f"cannot open {path}: no interface with bulk endpoints {wanted} "
            "(not a SAM_V reader in USB mode?)",
        )

    def read(self) -> bytes:
        """The next piece of the reply, waiting at most a short slice."""
        pipe = pipes.HEADER_IN if self._body_due == 0 else pipes.BODY_IN
        data = self._transfer_in(pipe, _READ_SLICE_MS)
        if pipe == pipes.HEADER_IN:
            self._body_due = pipes.body_length(data) or 0
        else:
            self._body_due = max(0, self._body_due - len(data))
        return data

    def write(self, data: bytes) -> None:
        header, body = pipes.split_frame(data)
        with _translated(FaultCode.DEVICE_LOST, f"writing {self.path}"):
            self._device.write(pipes.HEADER_OUT, header, _WRITE_TIMEOUT_MS)
            self._device.write(pipes.BODY_OUT, body, _WRITE_TIMEOUT_MS)

    def discard_input(self) -> None:
        """Drop what a late reply left in the pipes; the next read expects a header."""
        self._body_due = 0
        for pipe in (pipes.HEADER_IN, pipes.BODY_IN):
            for _ in range(_DRAIN_READS):
                if not self._transfer_in(pipe, _DRAIN_MS):
                    break

    def _transfer_in(self, pipe: int, timeout_ms: int) -> bytes:
        with _translated(FaultCode.DEVICE_LOST, f"reading {self.path}"):
            try:
                return bytes(self._device.read(pipe, _BUFFER, timeout_ms))
            except usb.core.USBTimeoutError:
                return b""

    def close(self) -> None:
        with contextlib.suppress(usb.core.USBError):
            usb.util.release_interface(self._device, self._interface)
        with contextlib.suppress(usb.core.USBError):
            usb.util.dispose_resources(self._device)
