"""The reference lock board in the simulator: the firmware itself.

What the board does is firmware/ (the core that runs on the RP2040),
driven through its sim HAL (firmware/hal/sim.py), in this interpreter or in
MicroPython (engines.py). This adapter only connects it to the simulated
world:

- time: the simulator's monotonic seconds become the firmware's wrapping
  microsecond ticks, counted from the board's creation;
- wires: the compartments' signals (door closed, item present, bolt
  released) become the firmware's raw input words, pushed whenever a
  compartment changes (a listener, physics.py), and the firmware's coil
  words drive the locks;
- steps: the firmware's main loop runs when a frame arrives, when a wire
  changes and when the firmware says something is due (`next_deadline`);
  in between its loop would change nothing anyone can see.

A board whose stored serial format differs from its line's hears only
garbage and stays silent, as a real one would (set the serial_format
register, power-cycle, and it is gone until the line matches).

Settings (unit address, serial format, pulse, polarity) live in the
firmware's flash and survive `power_up`; everything else starts afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.families import REFERENCE
from protocol.reference_board import BAUD_RATES, FRAMES, StatusFlags
from protocol.timing import SerialFormat

from ..engines import CPythonEngine, Engine, FirmwareBoard
from ..physics import Compartment

_TICKS_MASK = (1 << 30) - 1
_HALF = 1 << 29


def serial_format_code(fmt: SerialFormat) -> int:
    """The serial_format register's value for a line format (ValueError if none)."""
    if fmt.baud not in BAUD_RATES or fmt.name not in FRAMES:
        raise ValueError(
            f"a reference board speaks {', '.join(map(str, BAUD_RATES))} bps and "
            f"{', '.join(FRAMES)}, not {fmt.baud} {fmt.name}"
        )
    return BAUD_RATES.index(fmt.baud) | FRAMES.index(fmt.name) << 8


class ReferenceBoard:
    family = REFERENCE.name

    def __init__(
        self,
        unit: int,
        wiring: Sequence[Compartment | None],
        *,
        serial: int | None = None,
        now: float = 0.0,
        fmt: SerialFormat | None = None,
        engine: Engine | None = None,
    ) -> None:
        if unit not in REFERENCE.units:
            raise ValueError(f"unit {unit} is outside {REFERENCE.units}")
        if len(wiring) not in REFERENCE.channels:
            raise ValueError(
                f"a reference board has {REFERENCE.channels} channels, not {len(wiring)}"
            )
        self.channels = len(wiring)
        self.serial = 0x5100_0000 + unit if serial is None else serial
        self._wiring = list(wiring)
        self._words = (self.channels + 15) // 16
        self._line_format = serial_format_code(fmt or SerialFormat())
        self._epoch = now
        self._now = now  # the latest time the firmware was given
        self._inputs: tuple[list[int], list[int], list[int]] | None = None
        self._applying = False
        self.engine = engine or CPythonEngine()
        self._fw: FirmwareBoard = self.engine.board(
            self.channels,
            self.serial,
            unit=unit,
            serial_format=self._line_format,
            now=self._ticks(now),
        )
        for comp in self._wiring:
            if comp is not None:
                comp.add_listener(self._on_change)
        self.power_up(now)

    @property
    def unit(self) -> int:
        return self._fw.unit

    # -- power and time ------------------------------------------------------------

    def power_up(self, now: float) -> None:
        self._at(now)
        self._push_inputs()
        self._fw.power_up(self._ticks(self._now))
        self._apply_outputs()

    def stall(self, now: float) -> None:
        """The firmware's main loop hangs: only its watchdog brings it back."""
        self._at(now)
        self._fw.stall(self._ticks(self._now))

    def next_deadline(self) -> float | None:
        wait = self._fw.wait_us()
        return None if wait < 0 else self._now + wait / 1e6

    def tick(self, now: float) -> None:
        due = self.next_deadline()
        if due is None or due > now or now < self._now:
            return
        self._at(now)
        self._fw.advance(self._ticks(now))
        self._apply_outputs()

    # -- the bus ---------------------------------------------------------------------

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        self._at(now)
        if self._fw.uart_format != self._line_format:
            return None  # the board listens at another speed or frame: garbage to it
        reply = self._fw.deliver(frame, self._ticks(self._now))
        self._apply_outputs()
        return reply

    # -- the wires -----------------------------------------------------------------------

    def _on_change(self, now: float | None) -> None:
        if self._applying:
            return  # _apply_outputs pushes the inputs once it is done
        self._at(now)
        if self._push_inputs():
            self._apply_outputs()

    def _push_inputs(self) -> bool:
        words = self._words
        door, item, released = [0] * words, [0] * words, [0] * words
        for ch, comp in enumerate(self._wiring):
            if comp is None:
                continue  # nothing wired reads 0 on every input
            bit = 1 << (ch & 15)
            if comp.door_closed_signal:
                door[ch >> 4] |= bit
            if comp.item_signal:
                item[ch >> 4] |= bit
            if comp.lock_released_signal:
                released[ch >> 4] |= bit
        inputs = (door, item, released)
        if inputs == self._inputs:
            return False
        self._inputs = inputs
        self._fw.set_inputs(door, item, released, self._ticks(self._now))
        return True

    def _apply_outputs(self) -> None:
        # Driving a lock changes its feedback signal: push the inputs again
        # until the wires and the outputs agree (twice at most: outputs do not
        # follow inputs).
        for _ in range(3):
            coils = self._fw.coils
            self._applying = True
            try:
                for ch, comp in enumerate(self._wiring):
                    on = bool(coils[ch >> 4] >> (ch & 15) & 1)
                    if comp is not None and comp.energised != on:
                        comp.drive(on, self._now)
            finally:
                self._applying = False
            if not self._push_inputs():
                return

    def _at(self, now: float | None) -> None:
        if now is not None and now > self._now:
            self._now = now

    def _ticks(self, now: float) -> int:
        return round((now - self._epoch) * 1e6) & _TICKS_MASK

    # -- what a status page shows ------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        info = self._fw.info()
        coils = self._fw.coils
        flags = StatusFlags(info["flags"] & 0xF)
        return {
            "family": self.family,
            "unit": info["unit"],
            "channels": self.channels,
            "flags": int(flags),
            "change_counter": info["change_counter"],
            "polarity": info["polarity"],
            "pulse_default_ms": info["pulse_default_ms"],
            "outputs_on": [
                ch + 1 for ch in range(self.channels) if coils[ch >> 4] >> (ch & 15) & 1
            ],
            "engine": self.engine.name,
            "firmware_faults": info["faults"],
            "stalled": bool(info["stalled"]),
        }
