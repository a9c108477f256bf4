"""Models of Kerong KR-CU16 and KR-CU48 lock boards (protocol/kerong is the wire).

Both drive one lock per channel for the board's own unlock time
(`unlock_ms`, kept like an EEPROM setting) and read one hook switch per
lock. The hook reads "locked" (1) only while the door is shut on its
latch, so the model takes the door-switch signal for it (a stuck or
inverted sensor fault applies to it). A channel with nothing wired reads 0.

KR-CU16: status (0x30, or 0x32 as lkaas-kerong reads it) answered with the
9-byte status (0x35) whose address byte echoes the request's; the infrared
bits are the compartments' item signals. Unlock one (0x31) and unlock all
(0x33): firmware `unlock-silent` (the default, as kerong-lib says) sends
nothing back, `unlock-answered` sends the status. Other commands get no
answer (0x37 "unlock time" and the rest are not modelled).

KR-CU48, firmware V2.1: status (0x50) answered with the 12-byte status,
echoing the LOCK byte; unlock (0x51) of one lock or of all (LOCK 0x30),
never answered; the broadcast address 0x0A unlocks on every board and gets
no status reply from the model (the document does not say how the boards
time their reply slots, and two boards answering at once garble each
other). Firmware variant ALT_60: status 0x60 answered with the 18-byte
status of the captures (D7..D12 zero), unlock 0x61 answered with the 6-byte
acknowledgement of one driver's diagram (unverified; a refused unlock: a
lock the board does not have), so that a host meets that reply too.
A board answers only its own firmware's commands.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.families import KERONG_CU16, KERONG_CU48
from protocol.kerong import UNLOCK_MS_DEFAULT, cu16, cu48

from ..physics import Compartment


class _Locks:
    """The outputs: one lock per channel, each on for `unlock_ms` after a pulse."""

    def __init__(
        self, unit: int, wiring: Sequence[Compartment | None], locks: int, highest: int
    ) -> None:
        if not 0 <= unit <= highest:
            raise ValueError(f"this Kerong board's address is 0..{highest}, not {unit}")
        if not 1 <= len(wiring) <= locks:
            raise ValueError(f"this board has 1..{locks} locks, not {len(wiring)}")
        self._unit = unit
        self.channels = len(wiring)
        self._wiring = list(wiring) + [None] * (locks - len(wiring))
        self._deadlines: list[float | None] = [None] * locks

    @property
    def unit(self) -> int:
        return self._unit

    def power_up(self, now: float) -> None:
        for ch in range(len(self._wiring)):
            self._drive(ch, None, now)

    def next_deadline(self) -> float | None:
        return min((d for d in self._deadlines if d is not None), default=None)

    def tick(self, now: float) -> None:
        for ch, deadline in enumerate(self._deadlines):
            if deadline is not None and deadline <= now:
                self._drive(ch, None, deadline)

    def pulse(self, ch: int, now: float, unlock_ms: int) -> None:
        self._drive(ch, now + unlock_ms / 1000, now)

    def hooks(self) -> tuple[bool, ...]:
        return tuple(c is not None and c.door_closed_signal for c in self._wiring)

    def items(self) -> tuple[bool, ...]:
        return tuple(c is not None and c.item_signal for c in self._wiring)

    def outputs_on(self) -> list[int]:
        return [i + 1 for i, d in enumerate(self._deadlines) if d is not None]

    def _drive(self, ch: int, deadline: float | None, now: float) -> None:
        self._deadlines[ch] = deadline
        lock = self._wiring[ch]
        if lock is not None:
            lock.drive(deadline is not None, now)


class KerongCu16(_Locks):
    family = KERONG_CU16.name

    def __init__(
        self,
        unit: int,
        wiring: Sequence[Compartment | None],
        *,
        unlock_ms: int = UNLOCK_MS_DEFAULT,
        variant: cu16.Variant = cu16.Variant.UNLOCK_SILENT,
        now: float = 0.0,
    ) -> None:
        super().__init__(unit, wiring, cu16.LOCKS, cu16.MAX_BOARD)
        self.unlock_ms = unlock_ms
        self.variant = variant
        self.power_up(now)

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        request = cu16.decode_request(frame)
        if request is None or request.board != self._unit:
            return None
        match request.command:
            case cu16.Command.STATUS | cu16.Command.STATUS_ALL:
                pass
            case cu16.Command.UNLOCK:
                self.pulse(request.lock - 1, now, self.unlock_ms)
            case cu16.Command.UNLOCK_ALL:
                for ch in range(cu16.LOCKS):
                    self.pulse(ch, now, self.unlock_ms)
            case _:
                return None
        unlock = request.command in (cu16.Command.UNLOCK, cu16.Command.UNLOCK_ALL)
        if unlock and self.variant is cu16.Variant.UNLOCK_SILENT:
            return None
        status = cu16.Status(self._unit, self.hooks(), self.items())
        return cu16.encode_status(status, request.address)

    def snapshot(self) -> dict[str, object]:
        return {
            "family": self.family,
            "unit": self._unit,
            "channels": self.channels,
            "firmware": self.variant.value,
            "unlock_ms": self.unlock_ms,
            "outputs_on": self.outputs_on(),
        }


class KerongCu48(_Locks):
    family = KERONG_CU48.name

    def __init__(
        self,
        unit: int,
        wiring: Sequence[Compartment | None],
        *,
        unlock_ms: int = UNLOCK_MS_DEFAULT,
        variant: cu48.Variant = cu48.Variant.V2_1,
        now: float = 0.0,
    ) -> None:
        super().__init__(unit, wiring, cu48.LOCKS, cu48.MAX_BOARD)
        self.unlock_ms = unlock_ms
        self.variant = variant
        self.power_up(now)

    def on_request(self, frame: bytes, now: float) -> bytes | None:
        self.tick(now)
        request = cu48.decode_request(frame)
        if request is None or request.board not in (self._unit, cu48.BROADCAST):
            return None
        broadcast = request.board == cu48.BROADCAST
        variant = self.variant
        if request.command == variant.status_command:
            if broadcast:
                return None
            return cu48.encode_status(cu48.Status(self._unit, self.hooks()), variant, request.lock)
        if request.command != variant.unlock_command:
            return None
        if request.lock == cu48.ALL_LOCKS:
            for ch in range(cu48.LOCKS):
                self.pulse(ch, now, self.unlock_ms)
        elif request.lock >= cu48.LOCKS:
            return None  # no such lock byte
        elif request.lock < self.channels:
            self.pulse(request.lock, now, self.unlock_ms)
        if broadcast or not variant.unlock_may_answer or request.lock == cu48.ALL_LOCKS:
            return None
        accepted = request.lock < self.channels
        return cu48.encode_unlock_reply(self._unit, request.lock + 1, accepted=accepted)

    def snapshot(self) -> dict[str, object]:
        return {
            "family": self.family,
            "unit": self._unit,
            "channels": self.channels,
            "firmware": self.variant.value,
            "unlock_ms": self.unlock_ms,
            "outputs_on": self.outputs_on(),
        }
