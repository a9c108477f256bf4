# The main loop fed status polls, acks and unlock writes through the sim HAL's
# UART buffer, allocating nothing itself (preallocated bytearrays, index loops:
# SimHal.receive iterates over bytes, which allocates an iterator under
# MicroPython). Runs unchanged under MicroPython and CPython; bench/firmware.py
# runs its heap measurements after it. Annotations are plain builtins, as in
# the firmware: no f-strings, typing or __future__.
import time

from firmware.core.firmware import Firmware
from firmware.core.settings import MemoryFlash
from firmware.hal.sim import SimHal

_TICKS = getattr(time, "ticks_us", None)  # MicroPython's wrapping microseconds
_DIFF = getattr(time, "ticks_diff", None)


def now_us() -> int:
    if _TICKS is not None:
        return int(_TICKS())
    return time.perf_counter_ns() // 1000


def since_us(start: int) -> int:
    if _DIFF is not None:
        return int(_DIFF(now_us(), start))
    return now_us() - start


def crc(buf: bytearray, n: int) -> None:
    value = 0xFFFF
    for i in range(n):
        value ^= buf[i]
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    buf[n] = value & 0xFF
    buf[n + 1] = value >> 8


def frame(body: "list[int]") -> bytearray:
    buf = bytearray(len(body) + 2)
    for i in range(len(body)):
        buf[i] = body[i]
    crc(buf, len(body))
    return buf


class Bench:
    def __init__(self, channels: int) -> None:
        self.hal = SimHal(channels, [1, 0, 1, 7], MemoryFlash())
        self.firmware = Firmware(self.hal)
        self.firmware.boot()
        for w in range(len(self.hal.door)):
            self.hal.door[w] = 0xFFFF
        words = (channels + 15) // 16
        self.poll = frame([1, 4, 0x00, 0x10, 0x00, 2 + 4 * words])
        self.ack = frame([1, 6, 0x00, 0x02, 0x00, 0x00])
        self.unlock = frame([1, 6, 0x01, 0x00, 0x01, 0xF4])
        self.now = 1000
        self.replies = [0]

    def feed(self, request: bytearray, frames: int, step: bool) -> None:
        """`frames` requests through the UART buffer and two passes of the main
        loop each; with step False, the same loop without the firmware."""
        hal = self.hal
        firmware = self.firmware
        replies = self.replies
        rx = hal.rx
        n = len(request)
        now = self.now
        for _ in range(frames):
            for i in range(n):
                rx[i] = request[i]
            hal.rx_len = n
            hal.now = now
            if step:
                firmware.step()  # reads the request
            now = (now + 3000) & 0x3FFFFFFF
            hal.now = now
            if step:
                firmware.step()  # t3.5 of silence: serves it
            else:
                hal.rx_len = 0
            if hal.tx_len:
                replies[0] += 1
            hal.tx_len = 0
            now = (now + 2000) & 0x3FFFFFFF
        self.now = now

    def poll_us(self, frames: int) -> float:
        """Core time per status poll: the main loop less the harness's own loop."""
        self.feed(self.poll, 100, True)
        start = now_us()
        self.feed(self.poll, frames, True)
        core = since_us(start)
        start = now_us()
        self.feed(self.poll, frames, False)
        return (core - since_us(start)) / frames
