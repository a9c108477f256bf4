"""A SAM_V reader in USB mode for pyusb, without USB: a pyusb backend over the simulator's reader.

Why a fake: this kernel has no USB at all (CONFIG_USB, CONFIG_USB_GADGET,
CONFIG_CONFIGFS_FS and CONFIG_MODULES are unset in /proc/config.gz; there
is no dummy_hcd, raw-gadget, FunctionFS or /sys/bus/usb), so no emulated
device can be plugged in. pyusb lets any object implement its backend
(`usb.backend.IBackend`, what libusb-1.0 is behind `usb.core`), so this
one stands in for libusb: it enumerates a device with the reader's
descriptors (0400:c35a, one vendor-specific interface with bulk endpoints
02, 06, 81 and 85), and behind the pipes it is the simulator's own reader
model (`simulator.reader.SimulatedCardReader`): the header written to 02
and the body written to 06 make the request frame the model answers; the
model's reply frame comes back split, its header on 81 and the rest on 85,
once the model's work and wire time have passed. Everything above the
backend (pyusb's `usb.core`, the host's `usb_port`, the SAM cycle) is the
real code. Every transfer is kept in `traffic`, byte for byte.
"""

from __future__ import annotations

import array
import errno
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

from protocol.idcard import usb as pipes
from simulator.reader import SimulatedCardReader
from simulator.reader_cards import card_record, infer_card_type

LIBUSB_ERROR_BUSY = -6  # libusb.h
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_TIMEOUT = -7
BULK = 0x02  # bmAttributes: transfer type bulk
PACKET = 64  # wMaxPacketSize of the bulk endpoints (full speed)
NO_DEVICE = "No such device (it may have been disconnected)"  # pyusb's libusb1 backend says so


@dataclass
class UsbReader:
    """One plugged-in reader: descriptors, the claimed state and the model behind the pipes."""

    bus: int = 1
    port_numbers: tuple[int, ...] = (1, 4)
    address: int = 5
    vendor_id: int = pipes.VENDOR_ID
    product_id: int = pipes.PRODUCT_ID
    endpoints: tuple[int, ...] = pipes.ENDPOINTS
    model: SimulatedCardReader = field(default_factory=SimulatedCardReader)
    plugged: bool = True
    busy: bool = False  # another program holds the interface
    # Seconds between the 64-byte packets of a reply body (0: all at once). A read
    # that times out part-way returns the packets it had, as pyusb's libusb1
    # backend does (it returns `transferred` on LIBUSB_ERROR_TIMEOUT when > 0).
    packet_gap: float = 0.0
    configuration: int = 0
    traffic: list[tuple[int, bytes]] = field(default_factory=list)  # (endpoint, bytes)
    _header: bytes = b""
    _pending: dict[int, deque[tuple[float, bytes]]] = field(
        default_factory=lambda: {pipes.HEADER_IN: deque(), pipes.BODY_IN: deque()}
    )
    _changed: threading.Condition = field(default_factory=threading.Condition)

    # -- the person at the reader ---------------------------------------------------

    def place(self, number: str, *, hold: float = 0) -> None:
        card_type = infer_card_type(number)
        card = card_record(number, card_type, None)
        with self._changed:
            self.model.place(card, card_type, time.monotonic(), hold)

    def remove(self) -> None:
        with self._changed:
            self.model.remove_card()

    def unplug(self) -> None:
        with self._changed:
            self.plugged = False
            self.configuration = 0
            for queue in self._pending.values():
                queue.clear()
            self._changed.notify_all()

    def replug(self) -> None:
        with self._changed:
            self.plugged = True

    def sent(self, endpoint: int) -> list[bytes]:
        with self._changed:
            return [data for ep, data in self.traffic if ep == endpoint]

    # -- the pipes ----------------------------------------------------------------

    def write(self, endpoint: int, data: bytes) -> int:
        with self._changed:
            self._present()
            self.traffic.append((endpoint, data))
            if endpoint == pipes.HEADER_OUT:
                self._header = data
                return len(data)
            frame, self._header = self._header + data, b""
            now = time.monotonic()
            answered = self.model.answer(frame, now)
            if answered is not None:
                reply, duration = answered
                header, body = pipes.split_frame(reply)
                self._pending[pipes.HEADER_IN].append((now + duration, header))
                self._pending[pipes.BODY_IN].append((now + duration, body))
                self._changed.notify_all()
            return len(data)

    def read(self, endpoint: int, size: int, timeout_ms: int) -> bytes:
        deadline = time.monotonic() + timeout_ms / 1000
        with self._changed:
            while True:
                self._present()
                queue = self._pending[endpoint]
                now = time.monotonic()
                if queue and queue[0][0] <= now:
                    if endpoint == pipes.BODY_IN and self.packet_gap > 0:
                        return self._paced(queue, size, deadline)
                    data = queue.popleft()[1][:size]
                    self.traffic.append((endpoint, data))
                    return data
                due = queue[0][0] if queue else deadline
                if now >= deadline:
                    raise usb.core.USBTimeoutError(
                        "Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT
                    )
                self._changed.wait(min(due, deadline) - now)

    def _paced(self, queue: deque[tuple[float, bytes]], size: int, deadline: float) -> bytes:
        start, body = queue.popleft()
        packets = [body[i : i + PACKET] for i in range(0, len(body[:size]), PACKET)]
        got = 0
        for i in range(len(packets)):
            due = start + i * self.packet_gap
            if due > deadline:  # timed out part-way: what came is returned, the rest stays
                queue.appendleft((due, b"".join(packets[i:])))
                break
            self._changed.wait(max(0.0, due - time.monotonic()))
            got = i + 1
        data = b"".join(packets[:got])
        self.traffic.append((pipes.BODY_IN, data))
        return data

    def _present(self) -> None:
        if not self.plugged:
            raise usb.core.USBError(NO_DEVICE, LIBUSB_ERROR_NO_DEVICE, errno.ENODEV)


class SimulatedUsb(usb.backend.IBackend):  # type: ignore[misc]
    """pyusb's backend, with `readers` as the devices on the bus."""

    def __init__(self, *readers: UsbReader) -> None:
        super().__init__()
        self.readers = list(readers)

    def enumerate_devices(self) -> Iterator[UsbReader]:
        return iter([r for r in self.readers if r.plugged])

    def get_device_descriptor(self, dev: UsbReader) -> Any:
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=dev.vendor_id,
            idProduct=dev.product_id, bcdDevice=0x0100, iManufacturer=0, iProduct=0,
            iSerialNumber=0, bNumConfigurations=1, address=dev.address, bus=dev.bus,
            port_number=dev.port_numbers[-1], port_numbers=dev.port_numbers, speed=2,
        )  # fmt: skip

    def get_configuration_descriptor(self, dev: UsbReader, config: int) -> Any:
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=9 + 9 + 7 * len(dev.endpoints),
            bNumInterfaces=1, bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80,
            bMaxPower=50, extra_descriptors=[], index=config,
        )  # fmt: skip

    def get_interface_descriptor(self, dev: UsbReader, intf: int, alt: int, config: int) -> Any:
        if (intf, alt) != (0, 0):
            raise IndexError("one interface, one alternate setting")  # as libusb's backend
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0,
            bNumEndpoints=len(dev.endpoints), bInterfaceClass=0xFF, bInterfaceSubClass=0,
            bInterfaceProtocol=0, iInterface=0, extra_descriptors=[],
        )  # fmt: skip

    def get_endpoint_descriptor(
        self, dev: UsbReader, ep: int, intf: int, alt: int, config: int
    ) -> Any:
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=dev.endpoints[ep], bmAttributes=BULK,
            wMaxPacketSize=PACKET, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[],
        )  # fmt: skip

    def open_device(self, dev: UsbReader) -> UsbReader:
        dev._present()
        return dev

    def close_device(self, dev_handle: UsbReader) -> None:
        pass

    def set_configuration(self, dev_handle: UsbReader, config_value: int) -> None:
        dev_handle._present()
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: UsbReader) -> int:
        dev_handle._present()
        return dev_handle.configuration

    def claim_interface(self, dev_handle: UsbReader, intf: int) -> None:
        dev_handle._present()
        if dev_handle.busy:
            raise usb.core.USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)

    def release_interface(self, dev_handle: UsbReader, intf: int) -> None:
        pass

    def is_kernel_driver_active(self, dev_handle: UsbReader, intf: int) -> bool:
        return False

    def bulk_write(
        self, dev_handle: UsbReader, ep: int, intf: int, data: array.array[int], timeout: int
    ) -> int:
        return dev_handle.write(ep, data.tobytes())

    def bulk_read(
        self, dev_handle: UsbReader, ep: int, intf: int, buff: array.array[int], timeout: int
    ) -> int:
        data = dev_handle.read(ep, len(buff), timeout)
        buff[: len(data)] = array.array("B", data)
        return len(data)
