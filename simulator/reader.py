"""A simulated second-generation ID-card reader (SAM_V), pure.

The host's side of the protocol is `protocol.idcard`; this is the reader's:
`answer(frame, now)` takes one complete request frame (`RequestFramer` cuts
them out of the byte stream by the header's Len, as slave.py expects) and
returns the reply frame and how long the reader takes to send it, or None
for bytes a reader ignores.

What the model does (shared/notes/id-card-reader.md):

    11 FF / 10 FF / 60 xx   90              12 FF   90 + a fixed 16-byte SAM id
    20 01 find              9F while a card lies on the reader, else 80
    20 02 select            90 after a find that saw this card, else 81
    30 01 / 30 10 read      90 + text + photo (+ no fingerprints) after a
                            select, else 41

A card stays in the field until `remove_card` or until its `hold` runs out
(`tick(now)`). It keeps answering 9F while it lies there: some real readers
do, others answer 80 until it is lifted (node-idcard-reader); a host must
wait for a "no card" before it reads the same card again either way, and
this model is the stricter test of that. Faults: `no_sam` answers every
command 60 (self-test failed, accepts no commands), `read_failure` answers
every read 41, `read_failure_once` answers the next read 41 and then, as
Huashi's readers do, 80 to every find until the card is placed again
(the fault is then used up).

How long the reader works before it answers is its model (`READER_MODELS`,
`reader_model`): a mean per step and a spread (uniform, seeded, so a run
can be repeated), plus the wire time at its baud. `fast` keeps tests quick;
`typical` and `slow` are what field drivers allow for (a read of 0.5-1 s
and of 1.2-2.4 s: the longest is past the 1.31 s the host used to wait and
within the 2.8 s the most patient driver allows, docs/id-card-reader.md);
`alternating` answers 80 and 9F by turns while a card rests, as issue 17
reports some readers do.

Cards come from `reader_cards.card_record` (a typed number, not validated
beyond its shape).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from protocol import idcard
from protocol.idcard.frame import HEADER_SIZE as _HEADER
from protocol.idcard.frame import PREAMBLE

from .reader_cards import CardType

_MAX_REQUEST_LEN = 64  # every request has Len 3 or 4; anything longer is noise
# A module identity as a label shows it: 05.01-20101224-0000123456-1234567890.
_SAM_ID = (
    bytes([5, 0, 1, 0])
    + (20101224).to_bytes(4, "little")
    + (123456).to_bytes(4, "little")
    + (1234567890).to_bytes(4, "little")
)
_PHOTO = bytes(1024)  # an all-zero WLT image: nothing decodes it here anyway
DEFAULT_BAUD = 115200
_BITS_PER_BYTE = 10  # 8N1


@dataclass(frozen=True, slots=True)
class ReaderModel:
    """Seconds a reader works before it answers (RF and SAM crypto, not wire time)."""

    find: float
    select: float
    read: float
    other: float = 0.002
    spread: float = 0.0  # each step takes its mean +- up to this fraction of it
    alternating: bool = False  # answers 80 and 9F by turns while a card rests

    def work(self, step: str, rng: random.Random) -> float:
        mean: float = getattr(self, step)
        return mean * (1 + self.spread * rng.uniform(-1.0, 1.0))


READER_MODELS: dict[str, ReaderModel] = {
    "fast": ReaderModel(find=0.005, select=0.005, read=0.15),  # tests stay quick
    "typical": ReaderModel(find=0.05, select=0.05, read=0.75, spread=0.33),  # 0.5-1 s
    "slow": ReaderModel(find=0.1, select=0.1, read=1.8, spread=0.33),  # 1.2-2.4 s
    "alternating": ReaderModel(find=0.05, select=0.05, read=0.75, spread=0.33, alternating=True),
}
DEFAULT_MODEL = "fast"


class ReaderFaultMode(StrEnum):
    NONE = "none"
    NO_SAM = "no_sam"
    READ_FAILURE = "read_failure"
    READ_FAILURE_ONCE = "read_failure_once"


class RequestFramer:
    """Cuts request frames out of the host's byte stream by the header's Len."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.discarded = 0  # noise bytes dropped

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start == -1:
                keep = next(
                    (
                        n
                        for n in range(len(PREAMBLE) - 1, 0, -1)
                        if self._buffer.endswith(PREAMBLE[:n])
                    ),
                    0,
                )
                self._drop(len(self._buffer) - keep)
                return frames
            self._drop(start)
            if len(self._buffer) < _HEADER:
                return frames
            length = int.from_bytes(self._buffer[5:_HEADER], "big")
            if not 1 <= length <= _MAX_REQUEST_LEN:
                self._drop(1)  # a false preamble: hunt again one byte on
                continue
            if len(self._buffer) < _HEADER + length:
                return frames
            frames.append(bytes(self._buffer[: _HEADER + length]))
            del self._buffer[: _HEADER + length]

    def _drop(self, count: int) -> None:
        self.discarded += count
        del self._buffer[:count]


@dataclass
class _Placed:
    card: idcard.CardRecord
    card_type: CardType
    until: float | None  # monotonic; None: until removed
    found: bool = False  # a find has seen it (select may follow)
    selected: bool = False
    mute: bool = False  # a read failed: finds answer 80 until it is placed again
    hidden: bool = False  # an alternating reader's "no card" turn


class SimulatedCardReader:
    def __init__(self, baud: int = DEFAULT_BAUD, model: str = DEFAULT_MODEL, seed: int = 0) -> None:
        self.baud = baud
        self.fault = ReaderFaultMode.NONE
        self.model_name = model
        self.model = READER_MODELS[model]
        self._rng = random.Random(seed)
        self._placed: _Placed | None = None
        self.counters: dict[str, int] = {
            "commands": 0,
            "finds": 0,
            "found": 0,  # finds answered 9F
            "reads": 0,  # cards read successfully
            "failed_reads": 0,  # reads answered 41
            "refused": 0,  # frames answered with an error status
        }

    # -- the person at the reader ------------------------------------------------

    def place(self, card: idcard.CardRecord, card_type: CardType, now: float, hold: float) -> None:
        """Put a card on the reader for `hold` seconds (0: until removed)."""
        self._placed = _Placed(card, card_type, now + hold if hold > 0 else None)

    def set_model(self, name: str, seed: int = 0) -> None:
        self.model_name, self.model = name, READER_MODELS[name]
        self._rng = random.Random(seed)

    def remove_card(self) -> bool:
        had = self._placed is not None
        self._placed = None
        return had

    def tick(self, now: float) -> None:
        placed = self._placed
        if placed is not None and placed.until is not None and now >= placed.until:
            self._placed = None

    def next_deadline(self) -> float | None:
        return None if self._placed is None else self._placed.until

    def snapshot(self) -> dict[str, object]:
        placed = self._placed
        return {
            "card": None if placed is None else placed.card_type.value,
            "until": None if placed is None else placed.until,
            "fault": self.fault.value,
            "model": self.model_name,
            "counters": dict(self.counters),
        }

    # -- the host's commands -----------------------------------------------------

    def answer(self, frame: bytes, now: float) -> tuple[bytes, float] | None:
        """The reply frame and the seconds until its last byte is sent, or None."""
        self.tick(now)
        command = idcard.decode_command(frame)
        if isinstance(command, idcard.Ignored):
            return None
        self.counters["commands"] += 1
        if isinstance(command, idcard.Refused):
            self.counters["refused"] += 1
            return self._timed(idcard.encode_reply(command.status), "other")
        if self.fault is ReaderFaultMode.NO_SAM:
            return self._timed(idcard.encode_reply(idcard.StatusCode.SELF_TEST_FAILED), "other")
        reply, work = self._reply(command)
        return self._timed(idcard.reply_frame(reply), work)

    def _reply(self, command: idcard.Command) -> tuple[idcard.Reply, str]:
        placed = self._placed
        match command:
            case idcard.FindCard():
                self.counters["finds"] += 1
                if placed is not None and self.model.alternating:
                    placed.hidden = not placed.hidden
                if placed is None or placed.mute or placed.hidden:
                    return idcard.StatusReply(idcard.StatusCode.NO_CARD), "find"
                self.counters["found"] += 1
                placed.found, placed.selected = True, False
                return idcard.CardFound(bytes(4)), "find"
            case idcard.SelectCard():
                if placed is None or not placed.found:
                    return idcard.StatusReply(idcard.StatusCode.SELECT_FAILED), "select"
                placed.selected = True
                return idcard.CardSelected(bytes(8)), "select"
            case idcard.ReadCard(with_fingerprints=prints):
                if placed is not None and self.fault is ReaderFaultMode.READ_FAILURE_ONCE:
                    self.fault = ReaderFaultMode.NONE
                    placed.mute = True
                    self.counters["failed_reads"] += 1
                    return idcard.StatusReply(idcard.StatusCode.READ_FAILED), "read"
                if (
                    placed is None
                    or not placed.selected
                    or self.fault is ReaderFaultMode.READ_FAILURE
                ):
                    self.counters["failed_reads"] += 1
                    return idcard.StatusReply(idcard.StatusCode.READ_FAILED), "read"
                self.counters["reads"] += 1
                return idcard.CardRead(placed.card, _PHOTO, b"" if prints else None), "read"
            case idcard.ReadSamId():
                return idcard.SamIdRead(_SAM_ID), "other"
            case _:
                return idcard.StatusReply(idcard.StatusCode.SUCCESS), "other"

    def _timed(self, frame: bytes, work: str) -> tuple[bytes, float]:
        return frame, self.model.work(work, self._rng) + len(frame) * _BITS_PER_BYTE / self.baud
