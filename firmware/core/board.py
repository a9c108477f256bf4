"""The reference lock board's register map, as the board keeps it.

The contract is docs/reference-board.md (protocol/reference_board.py on the
host's side; the constants arrive through firmware/regmap.py). This module
is the board's half of it:

- FC04 reads the identity block (0x0000..0x0007) or the status block
  (0x0010..), any part of one block; FC03 reads the holding block
  (0x0000..0x0005; ack and command read 0) or the unlock registers
  (milliseconds of pulse left). A range outside one block: exception 02.
- FC06 / FC16 write the holding block and the unlock registers. A bad value
  is exception 03 and changes nothing; an FC16 is checked whole before any
  register is written (the lowest exception code of its registers wins).
- Any other function code: exception 01 (Application Protocol 7, the
  function code is checked first). A quantity out of 1..125 (reads) or
  1..123 (FC16), or a byte count that is not twice it: exception 03; past
  the end of the address space: exception 02.
- Frames too short, with a bad CRC, for another unit, or whose length does
  not match their function code get no reply at all (Serial Line 2.4.1).
- Broadcast writes (unit 0) are executed and never answered; a broadcast
  read or refusal gets nothing. A new unit address is used from the next
  frame on: the reply to the write comes from the old one.

Inputs. Each channel has a door switch (1 = closed), an item sensor (1 =
present) and a lock feedback (1 = bolt released), read as raw levels,
debounced (inputs.py), then inverted by `polarity`. Every change of a
reported door, item or lock-fault bit moves the change counter; a door seen
open sets its latch, which only a matching acknowledgement clears (and only
for doors closed by then).

Lock fault. A live bit, not a latch: it says what the lock does now. Once
a coil has settled (SETTLE_US after it switched, time for the bolt to move
and its feedback to be debounced), a coil that is on with a bolt that does
not read released (a jammed bolt, an open coil), or a coil that is off
with a bolt that reads released (stuck open), is a fault; as soon as the
coil and the feedback agree again (the jam cleared, the pulse over and
settled), it is not. While a coil settles its channel keeps its last
judgement. Each edge moves the change counter like any other change.

Pulses. An unlock write switches the coil on until now + the pulse; a
repeat moves the deadline (harmless, as the contract says). A pulse is
50..10000 ms, checked on the write, so no coil stays on longer than that.

Nothing here allocates once the board is built: words are small ints kept
in lists of fixed length, replies are written into the caller's buffer.
"""

from .. import regmap
from .crc import append_crc, crc16
from .inputs import Debouncer
from .settings import Settings, serial_format_ok
from .ticks import add, diff

FIRMWARE_VERSION = 0x0100  # 1.0: major x 256 + minor
DEBOUNCE_US = 20_000
SETTLE_US = 2 * DEBOUNCE_US

_RESET_FLAGS = regmap.FLAG_RESET | regmap.FLAG_WATCHDOG
_MAX_READ = 125  # Application Protocol 6.3 / 6.4
_MAX_WRITE = 123  # 6.12
_EXC_FUNCTION = 1
_EXC_ADDRESS = 2
_EXC_VALUE = 3


def _popcounts() -> bytearray:
    table = bytearray(256)
    for value in range(256):
        table[value] = (value & 1) + table[value >> 1]
    return table


_POP = _popcounts()


def _earlier(best: int, wait: int) -> int:
    wait = max(wait, 0)
    return wait if best < 0 or wait < best else best


def _pop16(word: int) -> int:
    return _POP[word & 0xFF] + _POP[word >> 8]


class LockBoard:
    def __init__(
        self,
        channels: int,
        settings: Settings,
        identity: "list[int]",
    ) -> None:
        """`identity` is the model, serial high word, serial low word and
        capabilities, as the HAL knows them."""
        if not 1 <= channels <= regmap.MAX_CHANNELS:
            raise ValueError("channels")
        self.channels = channels
        words = (channels + 15) // 16
        self.words = words
        self.mask = [0] * words
        for ch in range(channels):
            self.mask[ch >> 4] |= 1 << (ch & 15)
        self.settings = settings
        self.unit = settings.unit  # the address in use; settings.unit may be pending
        self._pending_unit = 0
        self.settings_dirty = False
        self._identity = identity
        self.flags = regmap.FLAG_RESET
        self.counter = 0
        # reported status words (after debouncing and polarity)
        self.door = [0] * words
        self.item = [0] * words
        self.fault = [0] * words
        self.latch = [0] * words
        # outputs
        self.coils = [0] * words
        self.outputs_dirty = True
        self.coils_on = 0
        self._deadline = [0] * channels  # tick at which the pulse ends
        self._switched = [0] * channels  # tick at which the coil last switched
        self._settling = [0] * words  # coils switched less than SETTLE_US ago
        # inputs
        self.raw_door = [0] * words
        self.raw_item = [0] * words
        self.raw_feedback = [0] * words
        self._door_in = Debouncer(words, DEBOUNCE_US)
        self._item_in = Debouncer(words, DEBOUNCE_US)
        self._feedback_in = Debouncer(words, DEBOUNCE_US)

    # -- power and time ----------------------------------------------------------

    def power_up(self, now: int, flags: int) -> None:
        """Every output off, volatile state afresh; the raw inputs were just read."""
        self.flags = regmap.FLAG_RESET | flags
        self.counter = 0
        for w in range(self.words):
            self.coils[w] = 0
            self._settling[w] = 0
        self.coils_on = 0
        self.outputs_dirty = True
        self._door_in.reset(self.raw_door, now)
        self._item_in.reset(self.raw_item, now)
        self._feedback_in.reset(self.raw_feedback, now)
        self._refresh()
        self.counter = 0  # what power-up finds is the start, not a change
        for w in range(self.words):
            self.latch[w] = ~self.door[w] & self.mask[w]

    def sample(self, now: int) -> None:
        """Debounce the raw inputs just read into raw_door / raw_item / raw_feedback."""
        changed = self._door_in.update(self.raw_door, now)
        if self._item_in.update(self.raw_item, now):
            changed = True
        if self._feedback_in.update(self.raw_feedback, now):
            changed = True
        if changed:
            self._refresh()

    def inputs_pending(self) -> bool:
        return self._door_in.pending() or self._item_in.pending() or self._feedback_in.pending()

    def service(self, now: int) -> None:
        """End the pulses and settling periods that are due."""
        if self._timers(now, True):
            self._refresh()

    def wait_us(self, now: int) -> int:
        """Microseconds until `service` or `sample` has work again (0: now);
        -1: nothing is due."""
        best = self._timers(now, False)
        best = self._door_in.due(now, best)
        best = self._item_in.due(now, best)
        return self._feedback_in.due(now, best)

    def _timers(self, now: int, end_due: bool) -> int:
        """The pulse and settle timers. With `end_due`, end those due now and
        return how many ended; without, only return the microseconds to the
        next one (-1: none). One walk for both, so they cannot disagree."""
        best = -1
        ended = 0
        for w in range(self.words):
            coils = self.coils[w]
            settling = self._settling[w]
            if not (coils or settling):
                continue
            base = w << 4
            for b in range(16):
                bit = 1 << b
                if coils & bit:
                    left = diff(self._deadline[base + b], now)
                    if end_due and left <= 0:
                        self._switch(base + b, False, now)  # and it settles afresh
                        ended += 1
                        continue
                    best = _earlier(best, left)
                if settling & bit:
                    left = diff(add(self._switched[base + b], SETTLE_US), now)
                    if end_due and left <= 0:
                        self._settling[w] &= ~bit
                        ended += 1
                    else:
                        best = _earlier(best, left)
        return ended if end_due else best

    # -- behaviour ---------------------------------------------------------------

    def _switch(self, ch: int, on: bool, now: int) -> None:
        w = ch >> 4
        bit = 1 << (ch & 15)
        if bool(self.coils[w] & bit) == on:
            return
        if on:
            self.coils[w] |= bit
            self.coils_on += 1
        else:
            self.coils[w] &= ~bit
            self.coils_on -= 1
        self._switched[ch] = now
        self._settling[w] |= bit
        self.outputs_dirty = True

    def all_off(self, now: int) -> None:
        for ch in range(self.channels):
            self._switch(ch, False, now)
        self._refresh()

    def _refresh(self) -> None:
        polarity = self.settings.polarity
        changes = 0
        for w in range(self.words):
            m = self.mask[w]
            door = self._door_in.stable[w]
            if polarity & regmap.POLARITY_DOOR_INVERTED:
                door = ~door
            door &= m
            item = self._item_in.stable[w]
            if polarity & regmap.POLARITY_ITEM_INVERTED:
                item = ~item
            item &= m
            released = self._feedback_in.stable[w]
            if polarity & regmap.POLARITY_LOCK_FEEDBACK_INVERTED:
                released = ~released
            released &= m
            coils = self.coils[w]
            settled = m & ~self._settling[w]
            # live: a settled coil and its bolt's feedback disagree right now;
            # a coil still settling keeps its last judgement
            fault = ((coils ^ released) & settled) | (self.fault[w] & self._settling[w] & m)
            changes += _pop16(door ^ self.door[w]) + _pop16(item ^ self.item[w])
            changes += _pop16(fault ^ self.fault[w])
            self.door[w] = door
            self.item[w] = item
            self.fault[w] = fault
            self.latch[w] |= ~door & m
        self.counter = (self.counter + changes) & 0xFFFF

    def _ack(self, value: int) -> None:
        if value != self.counter:
            return  # something changed since the host's read: keep the latches
        self.flags &= ~_RESET_FLAGS
        for w in range(self.words):
            self.latch[w] = ~self.door[w] & self.mask[w]  # a door still open stays latched

    def after_reply(self) -> None:
        """The reply (if any) is out: a new unit address applies from now on."""
        if self._pending_unit:
            self.unit = self._pending_unit
            self._pending_unit = 0

    # -- registers -----------------------------------------------------------------

    def _input_word(self, address: int) -> int:
        if address < regmap.IDENTITY_COUNT:
            if address == regmap.IR_MAGIC:
                return regmap.MAGIC
            if address == regmap.IR_MAP_VERSION:
                return regmap.MAP_VERSION
            if address == regmap.IR_CHANNELS:
                return self.channels
            if address == regmap.IR_FIRMWARE:
                return FIRMWARE_VERSION
            return self._identity[address - regmap.IR_MODEL]
        index = address - regmap.IR_STATUS
        if index == 0:
            return self.flags | (regmap.FLAG_PULSE_ACTIVE if self.coils_on else 0)
        if index == 1:
            return self.counter
        index -= 2
        field = index // self.words
        w = index - field * self.words
        if field == 0:
            return self.door[w]
        if field == 1:
            return self.item[w]
        if field == 2:
            return self.fault[w]
        return self.latch[w]

    def _holding_word(self, address: int, now: int) -> int:
        if address >= regmap.HR_UNLOCK_BASE:
            ch = address - regmap.HR_UNLOCK_BASE
            if not self.coils[ch >> 4] & (1 << (ch & 15)):
                return 0
            left = diff(self._deadline[ch], now)
            return (left + 999) // 1000 if left > 0 else 0
        if address == regmap.HR_PULSE_DEFAULT_MS:
            return self.settings.pulse_default_ms
        if address == regmap.HR_POLARITY:
            return self.settings.polarity
        if address == regmap.HR_UNIT_ADDRESS:
            return self.unit
        if address == regmap.HR_SERIAL_FORMAT:
            return self.settings.serial_format
        return 0  # ack and command are write-only

    def _in_block(self, function: int, address: int, count: int) -> bool:
        end = address + count
        if function == 4:
            if end <= regmap.IDENTITY_COUNT:
                return True
            return address >= regmap.IR_STATUS and end <= regmap.IR_STATUS + 2 + 4 * self.words
        if end <= regmap.HOLDING_COUNT:
            return True
        return address >= regmap.HR_UNLOCK_BASE and end <= regmap.HR_UNLOCK_BASE + self.channels

    def _check(self, address: int, value: int) -> int:
        """0 when `value` may be written at `address`, else the exception code."""
        if address == regmap.HR_PULSE_DEFAULT_MS:
            ok = regmap.PULSE_MIN_MS <= value <= regmap.PULSE_MAX_MS
        elif address == regmap.HR_POLARITY:
            ok = not value & ~regmap.POLARITY_ALL
        elif address == regmap.HR_ACK:
            ok = True
        elif address == regmap.HR_COMMAND:
            ok = value == regmap.COMMAND_ALL_OUTPUTS_OFF
        elif address == regmap.HR_UNIT_ADDRESS:
            ok = 1 <= value <= regmap.MAX_UNIT
        elif address == regmap.HR_SERIAL_FORMAT:
            ok = serial_format_ok(value)
        elif regmap.HR_UNLOCK_BASE <= address < regmap.HR_UNLOCK_BASE + self.channels:
            ok = value == 0 or regmap.PULSE_MIN_MS <= value <= regmap.PULSE_MAX_MS
        else:
            return _EXC_ADDRESS
        return 0 if ok else _EXC_VALUE

    def _write(self, address: int, value: int, now: int) -> None:
        settings = self.settings
        if address >= regmap.HR_UNLOCK_BASE:
            ch = address - regmap.HR_UNLOCK_BASE
            ms = value if value else settings.pulse_default_ms
            self._switch(ch, True, now)
            self._deadline[ch] = add(now, ms * 1000)  # repeating restarts the pulse
            self._refresh()
        elif address == regmap.HR_ACK:
            self._ack(value)
        elif address == regmap.HR_COMMAND:
            self.all_off(now)
        else:
            self._write_setting(address, value)

    def _write_setting(self, address: int, value: int) -> None:
        settings = self.settings
        if address == regmap.HR_PULSE_DEFAULT_MS:
            changed = settings.pulse_default_ms != value
            settings.pulse_default_ms = value
        elif address == regmap.HR_POLARITY:
            changed = settings.polarity != value
            settings.polarity = value
            self._refresh()  # the new polarity counts as changes, as the contract says
        elif address == regmap.HR_UNIT_ADDRESS:
            changed = settings.unit != value
            settings.unit = value
            self._pending_unit = value
        else:
            changed = settings.serial_format != value
            settings.serial_format = value
        if changed or self.flags & regmap.FLAG_FACTORY_DEFAULTS:
            self.settings_dirty = True

    def settings_saved(self) -> None:
        self.settings_dirty = False
        self.flags &= ~regmap.FLAG_FACTORY_DEFAULTS

    # -- frames --------------------------------------------------------------------

    def handle(self, buf: bytearray, n: int, now: int, tx: bytearray) -> int:
        """Serve the request in buf[0:n]; the length of the reply written into
        `tx` (with its CRC), or 0 for no reply."""
        if n < 4:
            return 0
        unit = buf[0]
        if unit != self.unit and unit != 0:
            return 0  # another board's frame, valid or not
        if crc16(buf, 0, n) != 0:
            return 0
        function = buf[1]
        if function == 3 or function == 4:
            if n != 8:
                return 0
            if unit == 0:
                return 0  # a broadcast read is ignored
            address = buf[2] << 8 | buf[3]
            count = buf[4] << 8 | buf[5]
            if not 1 <= count <= _MAX_READ:
                return self._refuse(tx, unit, function, _EXC_VALUE)
            if address + count > 0x10000 or not self._in_block(function, address, count):
                return self._refuse(tx, unit, function, _EXC_ADDRESS)
            tx[0] = unit
            tx[1] = function
            tx[2] = 2 * count
            at = 3
            for i in range(count):
                if function == 4:
                    word = self._input_word(address + i)
                else:
                    word = self._holding_word(address + i, now)
                tx[at] = (word >> 8) & 0xFF
                tx[at + 1] = word & 0xFF
                at += 2
            return append_crc(tx, at)
        if function == 6:
            if n != 8:
                return 0
            address = buf[2] << 8 | buf[3]
            value = buf[4] << 8 | buf[5]
            code = self._check(address, value)
            if code:
                return 0 if unit == 0 else self._refuse(tx, unit, function, code)
            self._write(address, value, now)
            if unit == 0:
                return 0
            for i in range(6):
                tx[i] = buf[i]
            return append_crc(tx, 6)
        if function == 16:
            if n < 9 or n != 9 + buf[6]:
                return 0
            address = buf[2] << 8 | buf[3]
            count = buf[4] << 8 | buf[5]
            if not 1 <= count <= _MAX_WRITE or buf[6] != 2 * count:
                return 0 if unit == 0 else self._refuse(tx, unit, function, _EXC_VALUE)
            if address + count > 0x10000:
                return 0 if unit == 0 else self._refuse(tx, unit, function, _EXC_ADDRESS)
            worst = 0
            for i in range(count):
                code = self._check(address + i, buf[7 + 2 * i] << 8 | buf[8 + 2 * i])
                if code and (worst == 0 or code < worst):
                    worst = code
            if worst:
                return 0 if unit == 0 else self._refuse(tx, unit, function, worst)
            for i in range(count):
                self._write(address + i, buf[7 + 2 * i] << 8 | buf[8 + 2 * i], now)
            if unit == 0:
                return 0
            for i in range(6):
                tx[i] = buf[i]
            return append_crc(tx, 6)
        if unit == 0:
            return 0
        return self._refuse(tx, unit, function, _EXC_FUNCTION)

    def _refuse(self, tx: bytearray, unit: int, function: int, code: int) -> int:
        tx[0] = unit
        tx[1] = (function | 0x80) & 0xFF
        tx[2] = code
        return append_crc(tx, 3)
