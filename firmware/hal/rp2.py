"""The RP2040 HAL: the reference board's hardware under MicroPython >= 1.22.

The parts and the wiring are docs/firmware.md's; the pins are below.

RS-485. UART0 (GP0 TX, GP1 RX) drives a half-duplex transceiver whose DE
and /RE are tied together on GP2 (high = send). `uart_write` raises GP2,
hands the reply to the UART, waits until the last stop bit has left the
shift register, releases GP2 and throws away whatever the receiver caught
meanwhile (a transceiver that hears its own driver, or a floating RO).
"Left the shift register" is the PL011's BUSY flag (UARTFR bit 3, RP2040
datasheet / pico-sdk hardware/regs/uart.h), read directly: UART.txdone()
checks it only from MicroPython 1.24 on (ports/rp2/machine_uart.c, commit
"Make it so TX is done only when no longer busy"); before that it returned
with the last byte still on the wire. The master may speak again only
t3.5 after our last byte, so the release is never late enough to collide.

Reading. `uart_read` takes only what `UART.any()` says has arrived (any()
also drains the hardware FIFO into the ring buffer) and reads exactly that
many bytes with `readinto(buf, n)`: a read of more than has arrived would
wait `timeout_char` (at least 1 ms, forced by the port) for the rest, which
is most of a t3.5.

Outputs. Coils are driven through a chain of 74HCT595 shift registers (on 5 V) on
SPI1 (GP10 SCK, GP11 data) feeding ULN2803A Darlington arrays; GP13 latches
(RCLK) and GP14 is the chain's /OE, pulled up on the board so that the
595s' random power-up contents never reach a coil. The first thing the
constructor does is to drive /OE high (outputs off), before anything that
can fail; it then shifts zeros in, latches them and only then enables the
outputs. Chip k (k = 0 nearest the RP2040) drives channels 8k+1..8k+8 from
Q0..Q7; SPI sends the most significant bit first, so the far chip's byte
goes first and a byte's bit b lands on Qb.

Inputs. Door switches, item sensors and lock feedback come through RC
filters and 74HC14 Schmitt inverters into a chain of 74HC165s read on SPI0
(GP18 SCK, GP16 data in) after a /PL pulse on GP17: first the door chips,
then the item chips, then the feedback chips, ceil(channels / 8) of each.
A 165 presents H first and SPI reads the most significant bit first, so
byte i of the read is chip i with input A in bit 0: channel 8k+1 is wired
to input A of chip k of its kind. A contact that closes to ground reads 1
after the inverter: door closed, item present, bolt released.

Words are packed as the core wants them: channel 1 = bit 0 of word 0.
Nothing allocates in uart_read, uart_write, read_inputs or write_outputs:
buffers and index tables are built here once.

Watchdog: machine.WDT (at most 8388 ms on the RP2040); once started it
cannot be stopped. reset_cause(): MicroPython reports WDT_RESET whenever the
RP2040's watchdog reason register is set, which includes machine.reset()
(the port reboots through the watchdog), so a deliberate reset, as after
flashing, also raises the board's watchdog flag. Settings: a 12-byte file on
the littlefs filesystem (core/settings.py, FlashFile).
"""

import time

import machine

from ..core.firmware import RESET_POWER_ON, RESET_WATCHDOG
from ..core.settings import FlashFile

MODEL = 0x5202  # "R" 2: the RP2040 reference board
CAPABILITIES_ALL = 7  # door switches, item sensors and lock feedback wired

PIN_TX = 0
PIN_RX = 1
PIN_DE = 2
PIN_OUT_SCK = 10
PIN_OUT_DATA = 11
PIN_OUT_UNUSED_MISO = 12  # SPI1 needs a MISO pin; nothing is wired to it
PIN_OUT_LATCH = 13
PIN_OUT_ENABLE_N = 14
PIN_IN_DATA = 16
PIN_IN_LOAD_N = 17
PIN_IN_SCK = 18
PIN_IN_UNUSED_MOSI = 19  # SPI0 needs a MOSI pin; nothing is wired to it

SPI_BAUD = 1_000_000
SETTINGS_PATH = "/settings.bin"

_UART0_FR = 0x40034000 + 0x18  # RP2040 UART0 flag register (not the RP2350's address)
_FR_BUSY = 0x08
_RX_BUFFER = 512  # two whole frames: a request can wait while a reply is sent
_TX_BUFFER = 256  # a whole reply goes into the ring buffer at once
# serial_format frame codes (regmap.FRAMES: 8E1, 8O1, 8N2, 8N1): parity, stop bits
_PARITY = (0, 1, None, None)
_STOP = (1, 1, 2, 1)


class Rp2Hal:
    def __init__(self, channels: int, capabilities: int = CAPABILITIES_ALL) -> None:
        # Outputs off before anything else: /OE high disables every 595 output.
        self._enable_n = machine.Pin(PIN_OUT_ENABLE_N, machine.Pin.OUT, value=1)
        self._de = machine.Pin(PIN_DE, machine.Pin.OUT, value=0)  # listen, never jam the bus
        self.channels = channels
        words = (channels + 15) // 16
        chips = (channels + 7) // 8  # of one kind: 8 coils, or 8 inputs
        self._latch = machine.Pin(PIN_OUT_LATCH, machine.Pin.OUT, value=0)
        self._out_spi = machine.SPI(
            1,
            SPI_BAUD,
            sck=machine.Pin(PIN_OUT_SCK),
            mosi=machine.Pin(PIN_OUT_DATA),
            miso=machine.Pin(PIN_OUT_UNUSED_MISO),
        )
        self._out = bytearray(chips)
        self._out_spi.write(self._out)  # zeros into every 595, then latched
        self._latch.value(1)
        self._latch.value(0)
        self._enable_n.value(0)

        self._load_n = machine.Pin(PIN_IN_LOAD_N, machine.Pin.OUT, value=1)
        self._in_spi = machine.SPI(
            0,
            SPI_BAUD,
            sck=machine.Pin(PIN_IN_SCK),
            mosi=machine.Pin(PIN_IN_UNUSED_MOSI),
            miso=machine.Pin(PIN_IN_DATA),
        )
        self._in = bytearray(3 * chips + 1)  # the last byte stays 0: the pad of an odd chip count
        self._in_chips = memoryview(self._in)[: 3 * chips]  # made once: SPI reads into it
        self._mask = [0] * words
        for ch in range(channels):
            self._mask[ch >> 4] |= 1 << (ch & 15)
        # for kind k and word w: the indexes of its low and high byte in self._in
        self._low = [0] * (3 * words)
        self._high = [0] * (3 * words)
        for kind in range(3):
            for w in range(words):
                low = 2 * w
                self._low[kind * words + w] = kind * chips + low
                self._high[kind * words + w] = (
                    kind * chips + low + 1 if low + 1 < chips else 3 * chips
                )

        uid = machine.unique_id()  # 8 bytes of the flash chip's unique ID, folded to 32 bits
        serial = 0
        for i in range(len(uid)):
            serial ^= uid[i] << (8 * (3 - (i & 3)))
        self.identity = [MODEL, serial >> 16 & 0xFFFF, serial & 0xFFFF, capabilities]

        self._uart: machine.UART | None = None
        self._scratch = bytearray(64)  # what the receiver heard while we sent
        self._wdt: machine.WDT | None = None
        self._flash = FlashFile(SETTINGS_PATH)

    # -- the HAL (core/firmware.py lists the calls) ------------------------------

    def ticks_us(self) -> int:
        return time.ticks_us()  # type: ignore[return-value]  # the stubs' _TicksUs is an int

    def uart_open(self, baud: int, frame: int) -> None:
        self._uart = machine.UART(
            0,
            baud,
            8,
            _PARITY[frame],
            _STOP[frame],
            tx=machine.Pin(PIN_TX),
            rx=machine.Pin(PIN_RX),
            txbuf=_TX_BUFFER,
            rxbuf=_RX_BUFFER,
            timeout=0,
            timeout_char=0,
        )

    def uart_read(self, buf: bytearray) -> int:
        uart = self._uart
        if uart is None:
            return 0
        n = uart.any()
        if n == 0:
            return 0
        n = min(n, len(buf))
        got = uart.readinto(buf, n)
        return got if got else 0

    def uart_write(self, buf: bytearray, n: int) -> None:
        uart = self._uart
        if uart is None:
            return
        self._de.value(1)
        # Stream write(buf, max_len): MicroPython's py/stream.c takes 2 to 4 arguments
        # (buf[, max_len] or buf, off, len) on every port; the stubs know only write(buf).
        uart.write(buf, n)  # type: ignore[call-arg]
        while not uart.txdone():
            pass
        while machine.mem32[_UART0_FR] & _FR_BUSY:
            pass  # the last stop bit is still leaving (txdone() before MicroPython 1.24)
        self._de.value(0)
        scratch = self._scratch
        while uart.any():
            uart.readinto(scratch, 1)

    def read_inputs(self, door: "list[int]", item: "list[int]", feedback: "list[int]") -> None:
        load_n = self._load_n
        load_n.value(0)  # 74HC165: the parallel inputs into the registers
        load_n.value(1)
        self._in_spi.readinto(self._in_chips, 0)
        data = self._in
        low = self._low
        high = self._high
        mask = self._mask
        words = len(mask)
        for w in range(words):
            m = mask[w]
            door[w] = (data[low[w]] | data[high[w]] << 8) & m
            i = words + w
            item[w] = (data[low[i]] | data[high[i]] << 8) & m
            i += words
            feedback[w] = (data[low[i]] | data[high[i]] << 8) & m

    def write_outputs(self, coils: "list[int]") -> None:
        out = self._out
        chips = len(out)
        for i in range(chips):
            chip = chips - 1 - i  # the far chip's byte first
            word = coils[chip >> 1]
            out[i] = (word >> 8 if chip & 1 else word) & 0xFF
        self._out_spi.write(out)
        self._latch.value(1)
        self._latch.value(0)

    def load_settings(self) -> "bytes | None":
        return self._flash.load()

    def save_settings(self, data: bytearray) -> None:
        self._flash.save(data)

    def watchdog_start(self, timeout_ms: int) -> None:
        self._wdt = machine.WDT(timeout=timeout_ms)

    def watchdog_feed(self) -> None:
        wdt = self._wdt
        if wdt is not None:
            wdt.feed()

    def reset_cause(self) -> int:
        if machine.reset_cause() == machine.WDT_RESET:
            return RESET_WATCHDOG
        return RESET_POWER_ON

    # -- for main.py ---------------------------------------------------------------

    def outputs_off(self) -> None:
        """Every coil off at once, whatever the shift registers hold."""
        self._enable_n.value(1)
