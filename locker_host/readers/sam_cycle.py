"""The SAM_V polling cycle, sans I/O: which command next, and what a reply means.

Theory of operation (shared/notes/id-card-reader.md section 6; hev-idcard-
reader, the CVR-100 driver, HxJ10A and the Qt door controller all run it):

    CHECK   11 FF until SW3 = 90. 60 (self-test failed), 66 (not
            authorised) or any other status: the SAM is unavailable; ask
            again every `sam_retry` seconds.
    FIND    20 01 every `poll_interval` seconds. 80: no card. 9F: a card.
    SELECT  20 02 right after a 9F.
    READ    30 01 right after select answered 90 (text and photo; never
            30 10: fingerprints are biometric data the locker has no use for).

Any other answer restarts at FIND. A card that was read (or that failed for
good) must leave the field before it counts again: the cycle waits for a
"no card" (80) before selecting anything, because some readers keep
answering 9F while the card lies there (waitingsong/node-idcard-reader says
others answer 80 until it is lifted; both are handled the same way). A card
lifted and put back, or swapped for another, between two finds is not seen
to leave: the sources show no card serial to tell cards apart (the select
data is all zero in every capture), so it must be lifted for one poll. A read
that fails (41, a card that failed authentication, a garbled reply) is
retried up to `read_attempts` times while the card stays, then reported as
READ_FAILED once.

`silent_after` exchanges in a row without a reply make the reader
READER_SILENT (wrong device, wrong baud rate, a reader without power);
any reply ends that. The caller owns the clock: `next_action(now)` says
what to send and how long to wait for the reply, or until when to idle;
`on_outcome(outcome, now)` takes the reply reader's result.

The ID number from the chip is turned into owner keys (`present_id_number`,
STRONG) inside `on_outcome` and dropped with the reply.
"""

from __future__ import annotations

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
    select_timeout: float = 0.5  # HxJ10A 0.3 s, CVR 1 s
    read_timeout: float = 1.2  # HxJ10A 1.1 s, CVR 2 s; plus the reply's wire time
    sam_retry: float = 3.0  # hev checks the SAM every 3 s
    read_attempts: int = 3
    silent_after: int = 3

    def __post_init__(self) -> None:
        if min(self.poll_interval, self.check_timeout, self.find_timeout) <= 0:
            raise ValueError("SAM timings must be positive")
        if min(self.select_timeout, self.read_timeout, self.sam_retry) <= 0:
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
    FIND = auto()
    SELECT = auto()
    READ = auto()


class SamCycle:
    def __init__(
        self, keyring: Keyring, timing: SamTiming, *, source: str, now: float, wire_time: float
    ) -> None:
        self._keyring = keyring
        self._timing = timing
        self._source = source
        self._read_timeout = timing.read_timeout + wire_time
        self._step = _Step.CHECK
        self._due = now
        self._sam_ok = False
        self._silent = False
        self._no_reply = 0
        self._await_removal = False
        self._read_failures = 0

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
            case _Step.FIND:
                return Exchange(idcard.FindCard(), t.find_timeout)
            case _Step.SELECT:
                return Exchange(idcard.SelectCard(), t.select_timeout)
            case _Step.READ:
                return Exchange(idcard.ReadCard(), self._read_timeout)

    def on_outcome(self, outcome: idcard.Reply | idcard.ReaderFault, now: float) -> list[Reading]:
        if isinstance(outcome, idcard.ReaderFault):
            return self._no_answer(outcome, now)
        self._no_reply = 0
        self._silent = False
        if isinstance(outcome, idcard.StatusReply) and outcome.status in _SAM_DOWN:
            return self._sam_down(_describe(outcome), now)
        match self._step:
            case _Step.CHECK:
                return self._after_check(outcome, now)
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

    def _no_answer(self, fault: idcard.ReaderFault, now: float) -> list[Reading]:
        self._no_reply += 1
        out: list[Reading] = []
        if self._no_reply >= self._timing.silent_after and not self._silent:
            self._silent = True
            out.append(
                ReaderFault(
                    FaultCode.READER_SILENT,
                    f"{self._no_reply} exchanges without a reply (last: {fault})",
                    self._source,
                )
            )
        if self._step is _Step.READ:
            out += self._read_failed(str(fault), now)
        elif self._step is _Step.CHECK:
            self._go(_Step.CHECK, now + self._timing.sam_retry)
        else:
            self._poll_later(now)
        return out

    def _sam_down(self, why: str, now: float) -> list[Reading]:
        self._sam_ok = False
        self._go(_Step.CHECK, now + self._timing.sam_retry)
        return [
            ReaderFault(FaultCode.SAM_UNAVAILABLE, f"the SAM refuses work: {why}", self._source)
        ]

    def _after_check(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.StatusReply) and reply.status is idcard.StatusCode.SUCCESS:
            self._sam_ok = True
            self._go(_Step.FIND, now)
            return []
        return self._sam_down(f"status check answered {_describe(reply)}", now)

    def _after_find(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.CardFound):
            if self._await_removal:
                self._poll_later(now)
            else:
                self._go(_Step.SELECT, now)
            return []
        if isinstance(reply, idcard.StatusReply) and reply.status is idcard.StatusCode.NO_CARD:
            self._await_removal = False
            self._read_failures = 0
        self._poll_later(now)
        return []

    def _after_select(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if isinstance(reply, idcard.CardSelected):
            self._go(_Step.READ, now)
            return []
        # 81 (select failed) is what a card pulled away too early gives: poll again.
        self._poll_later(now)
        return []

    def _after_read(self, reply: idcard.Reply, now: float) -> list[Reading]:
        if not isinstance(reply, idcard.CardRead):
            return self._read_failed(_describe(reply), now)
        self._await_removal = True
        self._read_failures = 0
        self._poll_later(now)
        number = reply.card.id_number
        return [
            present_id_number(
                self._keyring, number, assurance=Assurance.STRONG, source=self._source
            )
        ]

    def _read_failed(self, why: str, now: float) -> list[Reading]:
        self._read_failures += 1
        self._poll_later(now)
        if self._read_failures < self._timing.read_attempts:
            return []
        self._await_removal = True
        self._read_failures = 0
        message = f"{self._timing.read_attempts} reads failed, the last with {why}"
        return [ReaderFault(FaultCode.READ_FAILED, message, self._source)]


def _describe(reply: idcard.Reply) -> str:
    """Never the content: a read-card reply carries the card."""
    if isinstance(reply, idcard.StatusReply):
        status = reply.status
        if isinstance(status, idcard.UnknownStatus):
            return f"SW3 0x{status.code:02X} (undocumented)"
        return f"SW3 0x{int(status):02X} {status.name}"
    return type(reply).__name__
