"""The main loop: the HAL on one side, the framer and the board on the other.

One `step` is one pass of the board's main loop:

1. read what the UART has; if the pending request was followed by t3.5 of
   silence, serve it: the reply goes out at once (the turnaround is the
   time this step takes), then a new unit address applies, then changed
   settings are written to flash (after the reply, so the master is not
   kept waiting by a flash write);
2. sample the inputs once a millisecond, or when a debounce is due;
3. end the pulses and settling periods that are due, and write the
   outputs if any changed;
4. feed the watchdog. Only this loop feeds it: a loop that stalls (a
   hang, a runaway exception handler) is reset by the watchdog, and a
   reset, like a power-up, starts with every output off and the reset flag
   set (FLAG_WATCHDOG says which).

Anything that goes wrong inside a step switches every output off and drops
the request being assembled: on any doubt, no coil stays energised. The
count is kept in `faults` (a real board has nobody to tell but the host,
which sees the outputs off).

`boot` reads the settings (factory defaults and FLAG_FACTORY_DEFAULTS when
they cannot be trusted), opens the UART in the stored format, switches
every output off, reads the inputs as they are and starts the watchdog.

The HAL (hal/sim.py, hal/rp2.py) is duck-typed:

    channels, identity (model, serial high, serial low, capabilities)
    ticks_us() -> int                       wrapping, TICKS_PERIOD = 2**30
    uart_open(baud, frame_code)             frame codes as regmap.FRAMES
    uart_read(buf) -> int                   what has arrived, never blocks
    uart_write(buf, n)                      drive the transceiver, send, release
    read_inputs(door, item, feedback)       fill three lists of W raw words
    write_outputs(coils)                    W words, channel 1 = bit 0
    load_settings() -> bytes | None, save_settings(data)
    watchdog_start(timeout_ms), watchdog_feed(), reset_cause() -> int
"""

from .. import regmap
from .board import LockBoard
from .rtu import RtuFramer
from .settings import Settings, decode, encode
from .ticks import diff

TYPE_CHECKING = False  # mypy takes it as True; MicroPython has no typing module

RESET_POWER_ON = 0
RESET_WATCHDOG = 1
WATCHDOG_MS = 2000  # the RP2040's WDT allows up to 8388 ms
SAMPLE_US = 1000
_CHUNK = 64

if TYPE_CHECKING:
    from ..hal.port import Hal


class Firmware:
    def __init__(self, hal: "Hal") -> None:
        self.hal = hal
        self.framer = RtuFramer()
        self.board: LockBoard | None = None
        self.faults = 0
        self.frames = 0  # requests served (answered or not)
        self._chunk = bytearray(_CHUNK)
        self._tx = bytearray(256)
        self._sampled = 0

    def boot(self) -> None:
        hal = self.hal
        stored = decode(hal.load_settings())
        flags = 0
        if stored is None:
            stored = Settings()
            flags |= regmap.FLAG_FACTORY_DEFAULTS
        if hal.reset_cause() == RESET_WATCHDOG:
            flags |= regmap.FLAG_WATCHDOG
        board = LockBoard(hal.channels, stored, hal.identity)
        self.board = board
        hal.write_outputs(board.coils)
        board.outputs_dirty = False
        hal.uart_open(stored.baud(), stored.frame())
        self.framer.configure(stored.baud(), regmap.FRAME_BITS[stored.frame()])
        self.framer.clear()
        now = hal.ticks_us()
        hal.read_inputs(board.raw_door, board.raw_item, board.raw_feedback)
        board.power_up(now, flags)
        self._sampled = now
        hal.watchdog_start(WATCHDOG_MS)

    def run(self) -> None:
        self.boot()
        while True:
            self.step()

    def step(self) -> None:
        hal = self.hal
        board = self.board
        assert board is not None
        try:
            now = hal.ticks_us()
            n = hal.uart_read(self._chunk)
            framer = self.framer
            if framer.ended(now, n):
                self._serve(board, now)
            if n:
                framer.feed(self._chunk, n, now)
            if diff(now, self._sampled) >= SAMPLE_US or (
                board.inputs_pending() and board.wait_us(now) == 0
            ):
                hal.read_inputs(board.raw_door, board.raw_item, board.raw_feedback)
                board.sample(now)
                self._sampled = now
            board.service(now)
            if board.outputs_dirty:
                hal.write_outputs(board.coils)
                board.outputs_dirty = False
        except Exception:  # on any doubt, every coil off
            self.faults += 1
            self.framer.clear()
            board.all_off(hal.ticks_us())
            hal.write_outputs(board.coils)
            board.outputs_dirty = False
        hal.watchdog_feed()

    def sample_now(self) -> None:
        """Read and debounce the inputs at once (the simulator calls this
        when a signal changes, as a board sampling every millisecond would
        see it)."""
        hal = self.hal
        board = self.board
        assert board is not None
        now = hal.ticks_us()
        hal.read_inputs(board.raw_door, board.raw_item, board.raw_feedback)
        board.sample(now)
        self._sampled = now

    def wait_us(self) -> int:
        """Microseconds until the loop has work that does not come from the
        UART or an input change; -1: none (the simulator sleeps until then)."""
        board = self.board
        assert board is not None
        now = self.hal.ticks_us()
        wait = board.wait_us(now)
        if self.framer.length:
            silence = self.framer.t35_us - diff(now, self.framer.last)
            silence = max(silence, 0)
            if wait < 0 or silence < wait:
                wait = silence
        return wait

    def _serve(self, board: LockBoard, now: int) -> None:
        framer = self.framer
        if not framer.broken:
            self.frames += 1
            n = board.handle(framer.buf, framer.length, now, self._tx)
            if n:
                self.hal.uart_write(self._tx, n)
            board.after_reply()
        framer.clear()
        if board.outputs_dirty:
            self.hal.write_outputs(board.coils)
            board.outputs_dirty = False
        if board.settings_dirty:
            try:
                self.hal.save_settings(encode(board.settings))
            except OSError:
                # the new values hold until power-off; the flag stays as it was
                self.faults += 1
                board.settings_dirty = False
            else:
                board.settings_saved()
