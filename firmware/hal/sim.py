"""The simulator's HAL: buffers for the wires and a clock the caller sets.

`SimHal` is a HAL (core/firmware.py lists the calls) whose UART, inputs,
outputs, flash and watchdog are plain buffers: a test or the simulator puts
bytes and input levels in, sets `now`, runs the main loop and reads what
came out. `SimBoard` is one board built on it, with the calls the simulator
makes (simulator/boards/reference.py):

- the simulator's bus has already cut the byte stream into frames (its
  paced line applies t3.5 and t1.5 to every board alike); `deliver` hands
  a frame to the firmware's framer as the UART would have, ending t3.5
  before `now`, and runs the main loop once at `now`, which serves it;
- `set_inputs` is a change on the wires: the firmware samples it at once,
  as a board sampling every millisecond would;
- `advance` runs the main loop at `now` (pulses end, debounces settle);
- the main loop is taken to run continuously between these calls, feeding
  the watchdog, unless `stall` stops it: then nothing is served, and once
  the watchdog's timeout has passed the board resets (coils off, reset and
  watchdog flags set), as the RP2040's watchdog does.

Settings live in `MemoryFlash` (or any flash object), so they survive
`power_up` as they survive a power cut in flash.
"""

from .. import regmap
from ..core.firmware import RESET_POWER_ON, RESET_WATCHDOG, Firmware
from ..core.settings import MemoryFlash, Settings, encode
from ..core.ticks import add, diff

MODEL = 0x5301  # "S" 1: a simulated board
CAPABILITIES_ALL = (
    regmap.CAPABILITY_DOOR_SWITCH | regmap.CAPABILITY_ITEM_SENSOR | regmap.CAPABILITY_LOCK_FEEDBACK
)
_UART_BUFFER = 512


class SimHal:
    def __init__(self, channels: int, identity: "list[int]", flash: "MemoryFlash") -> None:
        words = (channels + 15) // 16
        self.channels = channels
        self.identity = identity
        self.now = 0
        # raw levels on the input wires, as W words (channel 1 = bit 0)
        self.door = [0] * words
        self.item = [0] * words
        self.feedback = [0] * words
        self.coils = [0] * words  # what the outputs drive
        self.rx = bytearray(_UART_BUFFER)  # bytes waiting in the UART
        self.rx_len = 0
        self._rx_pos = 0
        self.tx = bytearray(_UART_BUFFER)  # bytes sent since the caller last cleared tx_len
        self.tx_len = 0
        self.uart_format = -1  # as the serial_format register: baud code | frame code << 8
        self.flash = flash
        self.watchdog_ms = 0
        self.fed = 0
        self.cause = RESET_POWER_ON

    # -- the HAL ---------------------------------------------------------------

    def ticks_us(self) -> int:
        return self.now

    def uart_open(self, baud: int, frame: int) -> None:
        self.uart_format = regmap.BAUD_RATES.index(baud) | frame << 8

    def uart_read(self, buf: bytearray) -> int:
        n = self.rx_len - self._rx_pos
        n = min(n, len(buf))
        for i in range(n):
            buf[i] = self.rx[self._rx_pos + i]
        self._rx_pos += n
        if self._rx_pos == self.rx_len:
            self._rx_pos = 0
            self.rx_len = 0
        return n

    def uart_write(self, buf: bytearray, n: int) -> None:
        room = _UART_BUFFER - self.tx_len
        n = min(n, room)
        for i in range(n):
            self.tx[self.tx_len + i] = buf[i]
        self.tx_len += n

    def read_inputs(self, door: "list[int]", item: "list[int]", feedback: "list[int]") -> None:
        for w in range(len(door)):
            door[w] = self.door[w]
            item[w] = self.item[w]
            feedback[w] = self.feedback[w]

    def write_outputs(self, coils: "list[int]") -> None:
        for w in range(len(coils)):
            self.coils[w] = coils[w]

    def load_settings(self) -> "bytes | None":
        return self.flash.load()

    def save_settings(self, data: bytearray) -> None:
        self.flash.save(data)

    def watchdog_start(self, timeout_ms: int) -> None:
        self.watchdog_ms = timeout_ms
        self.fed = self.now

    def watchdog_feed(self) -> None:
        self.fed = self.now

    def reset_cause(self) -> int:
        return self.cause

    # -- the test's side -------------------------------------------------------

    def receive(self, data: "bytes | bytearray") -> None:
        """Bytes arrive at the UART (dropped past its buffer, as a full FIFO drops them)."""
        for byte in data:
            if self.rx_len < _UART_BUFFER:
                self.rx[self.rx_len] = byte
                self.rx_len += 1


class SimBoard:
    def __init__(
        self,
        channels: int,
        serial: int,
        unit: int,
        serial_format: int,
        now: int,
        *,
        model: int = MODEL,
        capabilities: int = CAPABILITIES_ALL,
    ) -> None:
        identity = [model, serial >> 16 & 0xFFFF, serial & 0xFFFF, capabilities]
        commissioned = Settings()  # the simulator's boards have their address already
        commissioned.unit = unit
        commissioned.serial_format = serial_format
        flash = MemoryFlash()
        flash.save(encode(commissioned))
        self.hal = SimHal(channels, identity, flash)
        self.firmware = Firmware(self.hal)
        self.stalled = False
        self.power_up(now)

    def power_up(self, now: int) -> None:
        hal = self.hal
        hal.now = now
        hal.cause = RESET_POWER_ON
        hal.rx_len = 0
        hal.tx_len = 0
        self.stalled = False
        self.firmware.boot()

    def set_inputs(
        self, door: "list[int]", item: "list[int]", feedback: "list[int]", now: int
    ) -> None:
        hal = self.hal
        for w in range(len(hal.door)):
            hal.door[w] = door[w]
            hal.item[w] = item[w]
            hal.feedback[w] = feedback[w]
        if self._running(now):
            self.firmware.sample_now()
            self.firmware.step()

    def advance(self, now: int) -> None:
        if self._running(now):
            self.firmware.step()

    def deliver(self, frame: "bytes | bytearray", now: int) -> "bytes | None":
        """The reply to a frame whose last byte arrived t3.5 before `now`."""
        if not self._running(now):
            return None
        firmware = self.firmware
        hal = self.hal
        hal.tx_len = 0
        firmware.framer.feed(frame, len(frame), add(now, -firmware.framer.t35_us))  # type: ignore[arg-type]
        firmware.step()
        if hal.tx_len == 0:
            return None
        return bytes(hal.tx[: hal.tx_len])

    def stall(self, now: int) -> None:
        """The main loop hangs from `now` on: the watchdog is no longer fed."""
        if self._running(now):
            self.hal.watchdog_feed()  # the loop ran, and fed it, until now
        self.stalled = True

    def wait_us(self) -> int:
        if self.stalled:
            return max(0, diff(add(self.hal.fed, self.hal.watchdog_ms * 1000), self.hal.now))
        return self.firmware.wait_us()

    def _running(self, now: int) -> bool:
        """Move the clock to `now`; False while the loop is stalled."""
        hal = self.hal
        if self.stalled:
            expiry = add(hal.fed, hal.watchdog_ms * 1000)
            if diff(now, expiry) < 0:
                hal.now = now
                return False
            # the watchdog bites: the chip resets, and boots at once
            hal.now = expiry
            hal.cause = RESET_WATCHDOG
            hal.rx_len = 0
            self.stalled = False
            self.firmware.boot()
        hal.now = now
        return True

    # -- what the simulator shows ----------------------------------------------

    @property
    def unit(self) -> int:
        board = self.firmware.board
        assert board is not None
        return board.unit

    @property
    def coils(self) -> "list[int]":
        return self.hal.coils

    @property
    def uart_format(self) -> int:
        """The format the UART was opened with at the last boot (serial_format codes)."""
        return self.hal.uart_format

    def info(self) -> "dict[str, int]":
        board = self.firmware.board
        assert board is not None
        settings = board.settings
        return {
            "unit": board.unit,
            "flags": board.flags | (regmap.FLAG_PULSE_ACTIVE if board.coils_on else 0),
            "change_counter": board.counter,
            "polarity": settings.polarity,
            "pulse_default_ms": settings.pulse_default_ms,
            "serial_format": settings.serial_format,
            "frames": self.firmware.frames,
            "faults": self.firmware.faults,
            "stalled": 1 if self.stalled else 0,
        }
