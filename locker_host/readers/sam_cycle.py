"""The SAM_V polling cycle, sans I/O: which command next, and what a reply means.

Theory of operation (shared/notes/id-card-reader.md section 6; hev-idcard-
reader, the CVR-100 driver, HxJ10A and the Qt door controller all run it;
docs/id-card-reader.md says what a hall sees):

    CHECK   11 FF until SW3 = 90. 60 (self-test failed), 66 (not
            authorised) or any other status: the SAM is unavailable; ask
            again every `sam_retry` seconds.
    SAM ID  12 FF once, after the first good check: the module's identity
            as its label shows it (`sam_id`, for health); any other answer
            leaves it unknown and the cycle goes on.
    FIND    20 01 every `poll_interval` seconds. 80: no card. 9F: a card.
    SELECT  20 02 right after a 9F.
    READ    30 01 right after select answered 90 (text and photo; never
            30 10: fingerprints are biometric data the locker has no use for).

Any other answer restarts at FIND. A card that was read (or that failed for
good) must leave the field before it counts again: the cycle waits for a
"no card" (80) before selecting anything, because some readers keep
answering 9F while the card lies there. Others answer 80 and 9F by turns
while it rests (issue 17), so a card read again within `repeat_hold`
seconds of the last sight of it (a read, or a 9F after it) is the same
placement and reported once: a resting card is never re-read into a second
pickup.

A failed read (41, a select 81 after a 9F, a timeout or a garbled reply
during select or read) is what Huashi's documentation says needs the card
lifted and placed again; many readers then answer 80 until that happens
(the sequence 9F, 90, 41, 80, 80 ...). So the first failure of a placement
is reported at once as READ_FAILED (the kiosk asks the citizen to place the
card again); further failures of the same placement are retried silently up
to `read_attempts` times while the reader still sees the card. A card that
was read but whose number is not valid (check digit, impossible date,
unknown form) or whose text block decodes to no known card is CARD_NOT_VALID:
placing it again will not help.

`silent_after` exchanges in a row without a reply make the reader
READER_SILENT (wrong device, wrong baud rate, a reader without power);
any reply ends that. Only an exchange where nothing that looks like a
frame arrived counts: a garbled frame proves a reader is there, and a
select or read that times out follows a find the reader just answered. The
caller owns the clock: `next_action(now)` says what to send and how long to
wait for the reply, or until when to idle; `on_outcome(outcome, now)` takes
the reply reader's result. `counters` counts what the line did that is not
a fault of a presentation (garbled replies, odd data sizes, repeats).

The ID number from the chip is turned into owner keys (`present_id_number`,
STRONG) inside `on_outcome` and dropped with the reply.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass
from enum import Enum, auto

from locker_host.domain import Assurance, Keyring
from protocol import idcard

from .model import FaultCode, ReaderFault, Reading
from .present import present_id_number

# SW3 values that mean the module itself will not work until someone acts.
_SAM_DOWN = frozenset(
    {
        idcard.StatusCode.SELF_TEST_FAILED,
        idcard.StatusCode.SAM_NOT_AUTHORISED,
        idcard.StatusCode.UNAUTHORISED_OPERATION,
    }
)


@dataclass(frozen=True)
class SamTiming:
    """Seconds. Defaults from field drivers (id-card-reader.md section 6.2)."""

    poll_interval: float = 0.5  # idle find period: drivers use 0.3-1 s
    check_timeout: float = 1.0
    find_timeout: float = 0.8  # HxJ10A
    select_timeout: float = 1.0  # HxJ10A 0.3 s, CVR 1 s
    # Field drivers allow 1.1-1.3 s (HxJ10A, for the longer 30 10), 2 s (CVR-100)
    # and 2.8 s for a read; slow readers need the most, and the reply ends the
    # wait early. Plus the reply's wire time (0.11 s at 115200 for 30 01).
    read_timeout: float = 3.0
    sam_retry: float = 3.0  # hev checks the SAM every 3 s
    repeat_hold: float = 3.0  # the same card again within this: the same placement
    read_attempts: int = 3
    silent_after: int = 3

    def __post_init__(self) -> None:
        if min(self.poll_interval, self.check_timeout, self.find_timeout) <= 0:
            raise ValueError("SAM timings must be positive")
        if min(self.select_timeout, self.read_timeout, self.sam_retry, self.repeat_hold) <= 0:
            raise ValueError("SAM timings must be positive")
        if self.read_attempts < 1 or self.silent_after < 1:
            raise ValueError("read_attempts and silent_after must be at least 1")


@dataclass(frozen=True, slots=True)
class Exchange:
    command: idcard.Command
    timeout: float  # seconds to wait for the reply


@dataclass(frozen=True, slots=True)
class Idle:
    until: float  # monotonic


class _Step(Enum):
    CHECK = auto()
    SAM_ID = auto()
    FIND = auto()
    SELECT = auto()
    READ = auto()


class SamCycle:
    def __init__(
        self,
        keyring: Keyring,
        timing: SamTiming,
        *,
        source: str,
        now: float,
        wire_time: float,
        counters: Counter[str] | None = None,
    ) -> None:
        self._keyring = keyring
        self._timing = timing
        self._source = source
        self._read_timeout = timing.read_timeout + wire_time
        self.counters: Counter[str] = Counter() if counters is None else counters
        self.sam_id: str | None = None  # the module's identity, once read
        self._sam_id_asked = False
        self._step = _Step.CHECK
        self._due = now
        self._sam_ok = False
        self._silent = False
        self._no_reply = 0
        self._await_removal = False
        self._read_failures = 0
        self._prompted = False  # this placement was asked to be placed again
        self._prompted_at = float("-inf")
        self._last_card: str | None = None  # a keyed digest: no number kept
        self._last_seen = float("-inf")  # monotonic: the last read or 9F after it

    @property
    def healthy(self) -> bool:
        return self._sam_ok and not self._silent

    def next_action(self, now: float) -> Exchange | Idle:
        if now < self._due:
            return Idle(self._due)
        t = self._timing
        match self._step:
            case _Step.CHECK:
                return Exchange(idcard.CheckSam(), t.check_timeout)
            case _Step.SAM_ID:
                return Exchange(idcard.ReadSamId(), t.check_timeout)
            case _Step.FIND:
                return Exchange(idcard.FindCard(), t.find_timeout)
            case _Step.SELECT:
                return Exchange(idcard.SelectCard(), t.select_timeout)
            case _Step.READ:
                return Exchange(idcard.ReadCard(), self._read_timeout)

    def on_outcome(self, outcome: idcard.Reply | idcard.ReaderFault, now: float) -> list[Reading]:
        if isinstance(outcome, idcard.ReaderFault) and not outcome.header:
            return self._no_answer(outcome, now)
        self._no_reply = 0
        self._silent = False
        if isinstance(outcome, idcard.ReaderFault):
            if outcome.kind is idcard.ReaderFaultKind.BAD_TEXT and self._step is _Step.READ:
                return self._not_valid(f"the card's text: {outcome.detail}", now)
            # A frame started (its header is kept): a reader is there, but garbled.
            self.counters["garbled_replies"] += 1
            return self._garbled(outcome, now)
        self._count_oddities(outcome)
        if isinstance(outcome, idcard.StatusReply) and outcome.status in _SAM_DOWN:
            return self._sam_down(_describe(outcome), now)
        match self._step:
            case _Step.CHECK:
                return self._after_check(outcome, now)
            case _Step.SAM_ID:
                if isinstance(outcome, idcard.SamIdRead):
                    self.sam_id = outcome.as_text()
                self._go(_Step.FIND, now)
                return []
            case _Step.FIND:
                return self._after_find(outcome, now)
            case _Step.SELECT:
                return self._after_select(outcome, now)
            case _Step.READ:
                return self._after_read(outcome, now)

    # -- transitions ---------------------------------------------------------------------

    def _go(self, step: _Step, due: float) -> None:
        self._step, self._due = step, due

    def _poll_later(self, now: float) -> None:
        self._go(_Step.FIND, now + self._timing.poll_interval)

    def _count_oddities(self, reply: idcard.Reply) -> None:
        match reply:
            case idcard.StatusReply(junk=junk) if junk:
                self.counters["odd_data_sizes"] += 1
            case idcard.CardFound() | idcard.CardSelected() if not reply.usual:
                self.counters["odd_data_sizes"] += 1

    def _no_answer(self, fault: idcard.ReaderFault, now: float) -> list[Reading]:
        self.counters["timeouts" if fault.kind is idcard.ReaderFaultKind.TIMEOUT else "noise"] += 1
        out: list[Reading] = []
        # A select or read follows a find the reader just answered: it is not silent.
        if self._step in (_Step.CHECK, _Step.SAM_ID, _Step.FIND):
            self._no_reply += 1
        if self._no_reply >= self._timing.silent_after and not self._silent:
            self._silent = True
            out.append(
                ReaderFault(
                    FaultCode.READER_SILENT,
                    f"{self._no_reply} exchanges without a reply (last: {fault})",
                    self._source,
                )
            )
        return out + self._garbled(fault, now)

    def _garbled(self, fault: idcard.ReaderFault, now: float) -> list[Reading]:
        match self._step:
            case _Step.SELECT | _Step.READ:
                return self._read_failed(str(fault), now)
            case _Step.CHECK:
                self._go(_Step.CHECK, now + self._timing.sam_retry)
            case _Step.SAM_ID | _Step.FIND:
                self._poll_later(now)
        return []

    def _sam_down(self, why: str, now: float) -> list[Reading]:
        self._sam_ok = False
        self._go(_Step.CHECK, now + self._timing.sam_retry)
        return [
            ReaderFault(FaultCode.SAM_UNAVAILABLE, f"the SAM refuses work: {why}", self._source)
        ]

    def _after_check(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.StatusReply) and reply.status is idcard.StatusCode.SUCCESS:
            self._sam_ok = True
            self._go(_Step.FIND if self._sam_id_asked else _Step.SAM_ID, now)
            self._sam_id_asked = True
            return []
        return self._sam_down(f"status check answered {_describe(reply)}", now)

    def _after_find(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.CardFound):
            if self._last_card is not None and now - self._last_seen <= self._timing.repeat_hold:
                self._last_seen = now  # still lying there (or back at once)
            if self._await_removal:
                self._poll_later(now)
            else:
                self._go(_Step.SELECT, now)
            return []
        if isinstance(reply, idcard.StatusReply) and reply.status is idcard.StatusCode.NO_CARD:
            self._await_removal = False
            self._read_failures = 0
            self._prompted = False
        self._poll_later(now)
        return []

    def _after_select(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.CardSelected):
            self._go(_Step.READ, now)
            return []
        # 81 after a 9F: the card was pulled away too early, or it cannot be
        # selected until it is placed again; either way the citizen must act.
        return self._read_failed(f"select answered {_describe(reply)}", now)

    def _after_read(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if not isinstance(reply, idcard.CardRead):
            return self._read_failed(_describe(reply), now)
        self._await_removal = True
        self._read_failures = 0
        self._poll_later(now)
        number = reply.card.id_number
        card = self._card_digest(number)
        reading = present_id_number(
            self._keyring, number, assurance=Assurance.STRONG, source=self._source
        )
        if isinstance(reading, ReaderFault):
            # The chip was read, but its number is not one (check digit, date, form).
            return self._not_valid(reading.message, now, card)
        return self._once_per_placement(reading, card, now)

    def _card_digest(self, number: str) -> str:
        """Tells this card from another for the repeat check; the number is not kept."""
        secret = self._keyring.secrets[self._keyring.current]
        return hmac.new(secret, b"sam-repeat:" + number.encode(), hashlib.sha256).hexdigest()

    def _not_valid(self, why: str, now: float, card: str = "") -> list[Reading]:
        """Placing it again will not help: the card must go, and staff can look at it."""
        self._await_removal = True
        self._read_failures = 0
        self._poll_later(now)
        fault = ReaderFault(FaultCode.CARD_NOT_VALID, why, self._source)
        return self._once_per_placement(fault, card, now)

    def _once_per_placement(self, reading: Reading, card: str, now: float) -> list[Reading]:
        repeat = card == self._last_card and now - self._last_seen <= self._timing.repeat_hold
        self._last_card, self._last_seen = card, now
        if repeat:
            self.counters["repeats_dropped"] += 1
            return []
        return [reading]

    def _read_failed(self, why: str, now: float) -> list[Reading]:
        self._read_failures += 1
        self._poll_later(now)
        if self._read_failures >= self._timing.read_attempts:
            self._await_removal = True
            self._read_failures = 0
        # Once per placement; a reader answering 80 and 9F by turns makes every
        # retry look like a new placement, so not again within repeat_hold of the
        # last failure either.
        if self._prompted or now - self._prompted_at <= self._timing.repeat_hold:
            self.counters["read_retries"] += 1
            self._prompted_at = now
            return []
        self._prompted, self._prompted_at = True, now
        message = f"lift the card and place it again: {why}"
        return [ReaderFault(FaultCode.READ_FAILED, message, self._source)]


def _describe(reply: idcard.Reply) -> str:
    """Never the content: a read-card reply carries the card."""
    if isinstance(reply, idcard.StatusReply):
        status = reply.status
        if isinstance(status, idcard.UnknownStatus):
            return f"SW3 0x{status.code:02X} (undocumented)"
        return f"SW3 0x{int(status):02X} {status.name}"
    return type(reply).__name__
