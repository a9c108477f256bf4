"""The reference lock board's entry point (MicroPython on an RP2040).

`python -m firmware build` puts this file, as source, at the root of the
board's filesystem, where MicroPython runs it after boot.py; the package
goes beside it as .mpy files (docs/firmware.md, flashing).

Three ways out of the main loop, none of which leaves a coil on:

- construction or boot raises (a broken filesystem, a wiring fault that
  makes a peripheral refuse): the outputs stay disabled (the HAL's first
  act, and a pull-up on /OE before that), the error is printed to the USB
  console, and the board resets after RETRY_MS: never a fast boot loop that
  would hammer flash or the bus;
- Ctrl-C on the USB console (a person, or `mpremote` before it copies
  files): outputs off, the bus released, and a timer keeps the watchdog
  fed so that the REPL and a copy are not cut short; `mpremote reset` (or a
  power cycle) starts the firmware again;
- a stalled loop: the watchdog resets the chip (core/firmware.py).
"""

import sys
import time

import machine

from firmware.core.firmware import Firmware
from firmware.hal.rp2 import PIN_OUT_ENABLE_N, Rp2Hal

CHANNELS = 24  # a 48-channel board: 48, with twice the shift registers (docs/firmware.md)
RETRY_MS = 10_000
_FEED_MS = 500
# the console's watchdog timer, kept here: a Timer that is garbage-collected is cancelled
_feeder: "list[machine.Timer]" = []


def _outputs_off() -> None:
    machine.Pin(PIN_OUT_ENABLE_N, machine.Pin.OUT, value=1)


def _wait_then_reset(hal: "Rp2Hal | None") -> None:
    for _ in range(RETRY_MS // _FEED_MS):
        time.sleep_ms(_FEED_MS)
        if hal is not None:
            hal.watchdog_feed()  # a no-op unless boot got as far as starting it
    machine.reset()


def main() -> None:
    hal: Rp2Hal | None = None
    try:
        hal = Rp2Hal(CHANNELS)
        Firmware(hal).run()
    except KeyboardInterrupt:
        _outputs_off()
        if hal is not None:
            feed = hal.watchdog_feed
            _feeder.append(
                machine.Timer(
                    -1,  # a soft timer: its callback runs between bytecodes, as the REPL waits
                    mode=machine.Timer.PERIODIC,
                    period=_FEED_MS,
                    callback=lambda timer: feed(),
                )
            )
        print("locker board: stopped from the console; outputs off")
    except Exception as exc:  # any failure before the loop runs: outputs off, then a slow retry
        _outputs_off()
        print("locker board: start failed; reset in %d ms" % RETRY_MS)
        sys.print_exception(exc)
        _wait_then_reset(hal)


main()
