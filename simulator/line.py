"""One RS-485 line: boards by unit address and a model of the wire's time.

Theory of operation. The line is pure: the shell feeds it the bytes a host
wrote with the wall time it read them (`feed`), calls `advance(now)` when
`next_deadline()` comes, and writes out whatever `take_output(now)` hands
back. Nothing here sleeps or reads a clock, so tests drive it with made-up
times.

The wire (Modbus over Serial Line V1.02, 2.5.1.1):
- A host's bytes occupy the wire back to back from max(arrival, the end of
  its previous byte), one character time each (`SerialFormat.char_time`).
- A frame ends when the wire has been silent for t3.5 after its last byte.
  A gap longer than t1.5 inside a frame makes it incomplete: it is
  discarded (and counted) when it ends.
- A request that starts less than t3.5 after the end of the frame before it
  (request or reply) counts as a `silence_violation`. It is still served:
  real slaves differ in how strictly they enforce the rule, and a simulator
  that dropped such frames would hide the host's bug behind timeouts; the
  counter is the signal. Overlapping a reply also counts as a `collision`.
- Bytes come with the errors the boards' UARTs read them with (a host in
  another serial format than the line's: simulator/uart.py, front.py); a
  frame with any is discarded and counted as ignored.
- Every complete frame goes to every board that is online, as a real bus
  delivers it to every UART. A board that answers starts its reply
  t3.5 + `turnaround` after the request ended (later if faults say so); byte
  k of a reply is due when its last bit would have arrived, at
  start + (k + 1) x char_time. Two boards answering at once (a duplicate
  address) garble each other: their bytes are OR-ed and counted as a
  collision.

The bus protocol (`dialect`: Modbus RTU or Kerong, dialects.py) only says
how a frame is recorded (unit, function, broadcast) and how a reply is
rewritten for the `wrong_unit` fault; the boards decide what is theirs.

Each frame leaves a `Transaction` record in a bounded ring, with the model's
wire times and the moment the last reply byte was handed to the shell, so a
benchmark can compare the simulator with the theory.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from itertools import zip_longest

from protocol.families import Framing
from protocol.timing import SerialFormat

from .boards import Board
from .dialects import DIALECTS, Dialect
from .faults import FaultProfile, mangle

MAX_FRAME = 512  # bytes kept of one frame; an RTU frame is at most 256
DEFAULT_TURNAROUND = 0.001
DEFAULT_HISTORY = 2000


@dataclass(slots=True)
class Transaction:
    seq: int
    unit: int | None  # None when the frame was not a valid request
    function: int | None
    outcome: str  # reply, broadcast, no_reply, ignored:<why>, incomplete, fault:no_reply
    request_bytes: int
    received_at: float  # wall time the shell read the first byte
    request_start: float  # wire model, same clock
    request_end: float
    reply_bytes: int = 0
    reply_start: float | None = None
    reply_end: float | None = None
    reply_released: float | None = None  # wall time the last byte left take_output
    faults: tuple[str, ...] = ()
    source: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class LineStats:
    frames: int = 0
    replies: int = 0
    broadcasts: int = 0
    unanswered: int = 0  # valid requests nobody answered (absent or offline unit)
    ignored: int = 0  # bad CRC, too short, reserved unit, bad length, UART errors
    incomplete_frames: int = 0
    silence_violations: int = 0
    collisions: int = 0
    # bytes the boards' UARTs read with a stop bit at 0 / the wrong parity: a
    # host in another serial format than the line's (simulator/uart.py)
    framing_errors: int = 0
    parity_errors: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class BoardSlot:
    board: Board
    online: bool = True
    faults: FaultProfile = field(default_factory=FaultProfile)
    rng: random.Random = field(default_factory=random.Random)


@dataclass(slots=True)
class _RxFrame:
    data: bytearray
    received_at: float
    start: float
    end: float
    source: Hashable
    incomplete: bool = False
    uart_errors: int = 0


@dataclass(slots=True)
class _OutByte:
    due: float
    value: int
    dest: Hashable
    last_of: Transaction | None


class Line:
    def __init__(
        self,
        fmt: SerialFormat,
        turnaround: float = DEFAULT_TURNAROUND,
        *,
        history: int = DEFAULT_HISTORY,
        before_dispatch: Callable[[float], None] | None = None,
        dialect: Dialect = DIALECTS[Framing.MODBUS],
    ) -> None:
        if not 0 <= turnaround <= 1:
            raise ValueError(f"turnaround {turnaround} s is outside 0..1")
        self.format = fmt
        self.turnaround = turnaround
        self.dialect = dialect
        self.slots: list[BoardSlot] = []
        self.stats = LineStats()
        self._history: deque[Transaction] = deque(maxlen=history)
        self._seq = 0
        self._before_dispatch = before_dispatch
        self._rx: _RxFrame | None = None
        self._rx_end = float("-inf")  # end of the host's last byte on the wire
        self._tx_end = float("-inf")  # end of the last reply byte scheduled
        self._tx_intervals: deque[tuple[float, float]] = deque(maxlen=16)
        self._out: deque[_OutByte] = deque()

    # -- boards -----------------------------------------------------------------

    def attach(self, board: Board) -> BoardSlot:
        slot = BoardSlot(board)
        self.slots.append(slot)
        return slot

    def slot(self, unit: int) -> BoardSlot | None:
        return next((s for s in self.slots if s.board.unit == unit), None)

    def set_faults(self, slot: BoardSlot, profile: FaultProfile) -> None:
        slot.faults = profile
        slot.rng = profile.rng(slot.board.unit)

    # -- the shell's side ---------------------------------------------------------

    def feed(
        self,
        data: bytes,
        now: float,
        source: Hashable = "",
        *,
        framing_errors: int = 0,
        parity_errors: int = 0,
    ) -> None:
        """Bytes the boards' UARTs read, arrived at `now`; the errors they read
        them with (a frame with any is discarded, Serial Line 2.5.1)."""
        self.stats.framing_errors += framing_errors
        self.stats.parity_errors += parity_errors
        if not data:
            return
        self.advance(now)
        ct = self.format.char_time
        start = max(now, self._rx_end)
        rx = self._rx
        if rx is not None and rx.source == source:
            if start - rx.end > self.format.t15:
                rx.incomplete = True  # 2.5.1.1: a gap > t1.5 inside a frame
        else:
            if rx is not None:  # another master talks over this one
                self.stats.collisions += 1
                rx.incomplete = True
            self._check_silence(start)
            if rx is None:
                rx = self._rx = _RxFrame(bytearray(), now, start, start, source)
        rx.uart_errors += framing_errors + parity_errors
        room = MAX_FRAME - len(rx.data)
        if len(data) > room:
            rx.incomplete = True
        rx.data += data[:room]
        rx.end = self._rx_end = start + len(data) * ct

    def advance(self, now: float) -> None:
        rx = self._rx
        if rx is not None and rx.end + self.format.t35 <= now:
            self._rx = None
            self._close(rx, rx.end + self.format.t35)

    def take_output(self, now: float) -> list[tuple[Hashable, bytes]]:
        chunks: list[tuple[Hashable, bytearray]] = []
        while self._out and self._out[0].due <= now:
            byte = self._out.popleft()
            if chunks and chunks[-1][0] == byte.dest:
                chunks[-1][1].append(byte.value)
            else:
                chunks.append((byte.dest, bytearray((byte.value,))))
            if byte.last_of is not None:
                byte.last_of.reply_released = now
        return [(dest, bytes(data)) for dest, data in chunks]

    def next_deadline(self, coalesce: float = 0.0) -> float | None:
        """When `advance` / `take_output` have work next.

        With `coalesce`, a reply byte other than the last may wait up to that
        long to leave together with the bytes after it: fewer wake-ups for the
        shell at high baud rates, never a byte early, and the last byte of
        every reply still exactly on time."""
        due = []
        if self._rx is not None:
            due.append(self._rx.end + self.format.t35)
        if self._out:
            head = self._out[0].due
            ends = (b.due for b in self._out if b.last_of is not None or b.due > head + coalesce)
            due.append(min(head + coalesce, next(ends, head)))
        return min(due, default=None)

    def transactions(self, since: int = 0) -> list[Transaction]:
        return [t for t in self._history if t.seq > since]

    # -- internals -------------------------------------------------------------------

    def _check_silence(self, start: float) -> None:
        last_end = self._rx_end
        for tx_start, tx_end in self._tx_intervals:
            if tx_start <= start:
                last_end = max(last_end, tx_end)
                if start < tx_end:
                    self.stats.collisions += 1
        if start - last_end < self.format.t35:
            self.stats.silence_violations += 1

    def _close(self, rx: _RxFrame, at: float) -> None:
        self.stats.frames += 1
        self._seq += 1
        frame = bytes(rx.data)
        txn = Transaction(
            seq=self._seq,
            unit=None,
            function=None,
            outcome="incomplete",
            request_bytes=len(frame),
            received_at=rx.received_at,
            request_start=rx.start,
            request_end=rx.end,
            source=str(rx.source),
        )
        self._history.append(txn)
        if rx.incomplete:
            self.stats.incomplete_frames += 1
            return
        if rx.uart_errors:
            self.stats.ignored += 1
            txn.outcome = "ignored:uart_error"
            return
        request = self.dialect.describe(frame)
        if isinstance(request, str):
            self.stats.ignored += 1
            txn.outcome = f"ignored:{request}"
            return
        txn.unit, txn.function = request.unit, request.function
        if self._before_dispatch is not None:
            self._before_dispatch(at)
        answers = [
            (slot, reply)
            for slot in self.slots
            if slot.online and (reply := slot.board.on_request(frame, at)) is not None
        ]
        if not answers:
            if request.broadcast:
                self.stats.broadcasts += 1
                txn.outcome = "broadcast"
            else:
                self.stats.unanswered += 1
                txn.outcome = "no_reply"
            return
        if len(answers) > 1:
            self.stats.collisions += 1
            garbled = bytes(
                a | b for a, b in zip_longest(*(reply for _, reply in answers[:2]), fillvalue=0)
            )
            self._schedule(garbled, b"", at + self.turnaround, rx.source, txn)
            txn.outcome = "collision"
            return
        slot, reply = answers[0]
        delay, noise = 0.0, b""
        if slot.faults.active:
            mangled = mangle(reply, slot.faults, slot.rng, self.dialect.readdress)
            txn.faults = mangled.kinds
            for kind in mangled.kinds:
                self.stats.faults[kind] = self.stats.faults.get(kind, 0) + 1
            if mangled.frame is None:
                txn.outcome = "fault:no_reply"
                return
            reply, delay, noise = mangled.frame, mangled.delay, mangled.noise
        self.stats.replies += 1
        txn.outcome = "reply"
        self._schedule(reply, noise, at + self.turnaround + delay, rx.source, txn)

    def _schedule(
        self, reply: bytes, noise: bytes, due: float, dest: Hashable, txn: Transaction
    ) -> None:
        ct = self.format.char_time
        data = noise + reply
        start = max(due, self._tx_end)
        for k, value in enumerate(data):
            last = txn if k == len(data) - 1 else None
            self._out.append(_OutByte(start + (k + 1) * ct, value, dest, last))
        end = start + len(data) * ct
        self._tx_end = end
        self._tx_intervals.append((start, end))
        txn.reply_bytes = len(data)
        txn.reply_start, txn.reply_end = start, end
