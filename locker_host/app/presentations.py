"""What a card, a staff card or a code presented at the locker does.

Kept simple until the touch screen exists (and documented in
docs/configuration.md, "What a reader does"):

* an ID card (`CardPresented`) is a **pickup**, unless a drop-off was armed
  (`arm_dropoff`: the kiosk's "drop off documents for service X" button, or
  `lockerd admin arm_dropoff service=X`) less than
  `[kiosk] dropoff_arm_timeout_s` ago: then it starts that drop-off, and
  the arming is used up;
* a staff card (`StaffCardPresented`) opens everything of the clerk's
  department there is to do: dossiers to collect, reserved certificates to
  load, overdue ones to recall, in one decision (a purpose with nothing to
  do leaves no trace; a swipe that opens nothing, or a role that may open
  none of them, a technician, leaves one audited denial);
  an unknown card gets an audited `unknown_card` denial;
* a code (`CodeEntered`) is a pickup or a drop-off by its prefix.

The card readers' values (`inputs.py`) come here from the daemon's reader
pump (`present`, `source="reader"`); the HTTP kiosk calls the same object:
a swipe forwarded by a kiosk app is parsed by the `SwipeParser` port into
the same values (`swipe`, `source="http"`), a code typed on the touch
screen is `enter_code`, the drop-off buttons are `choose_dropoff` and
`disarm`. So a card at the physical reader and a button on the screen meet
in one place: an armed drop-off waits for the next ID card, wherever it
is read.

What the configuration decides comes in as plain values built by the
composition root: the drop-off services (`DropoffService`), the sizes the
layout has, and the staff cards (`StaffCardIndex`).

Every outcome is logged with the masked card, never the number, and the
reply's compartments and error code, and handed to the listeners
(`add_listener`: the pages' live `kiosk` events) as a `KioskOutcome`.

A presentation a reader could not turn into a value at all (a card it could
not read, a chip whose number is not valid, an unknown token) is one too:
`failed` reports it as a refusal with the reader's code, so the kiosk says
what to do (place the card again, ask the staff) instead of staying on its
start screen. What was read is not in it: the code is all the event says.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, assert_never

from locker_host.domain import CodePurpose, DepartmentId, NothingForYou, Size
from locker_host.store import StoreError

from .errors import Category, InvalidPayload, UnknownCard
from .inputs import CardPresented, CodeEntered, Presentation, StaffCardPresented
from .kiosk import Kiosk
from .ports import StaffCardIndex, SwipeParser
from .replies import Done, JsonDict, Refusal, Reply, refusal
from .service import LockerService

logger = logging.getLogger(__name__)

Source = Literal["reader", "http", "admin"]

# The message of a failed presentation: the code says which (the pages have words
# for each); nothing of what was read goes into an event.
_FAILED = "what was presented at the reader could not be used"


@dataclass(frozen=True)
class DropoffService:
    """What the kiosk offers at drop-off: a service decides the department and the size."""

    name: str
    department: DepartmentId
    size: Size
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ArmedDropoff:
    service: DropoffService
    accessible: bool
    until_mono_s: float
    size: Size  # the service's, unless the kiosk chose another


@dataclass(frozen=True)
class KioskOutcome:
    """One presentation's outcome, for the listeners."""

    source: Source  # a reader of the daemon, the HTTP kiosk, or `lockerd admin`
    action: str  # pickup, dropoff, staff, code, arm, disarm
    reply: Reply
    at_wall_s: float


KioskListener = Callable[[KioskOutcome], None]


class Presentations:
    def __init__(
        self,
        kiosk: Kiosk,
        service: LockerService,
        staff: StaffCardIndex,
        *,
        services: Sequence[DropoffService],
        sizes: Sequence[Size],
        parse_swipe: SwipeParser,
        arm_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._kiosk = kiosk
        self._service = service
        self._staff = staff
        self._services = tuple(services)
        self._sizes = tuple(size for size in Size if size in sizes)
        self._parse_swipe = parse_swipe
        self._arm_timeout_s = arm_timeout_s
        self._clock = clock
        self._wall = wall
        self._armed: ArmedDropoff | None = None
        self._listeners: list[KioskListener] = []

    @property
    def arm_timeout_s(self) -> float:
        return self._arm_timeout_s

    def add_listener(self, listener: KioskListener) -> Callable[[], None]:
        """Call ``listener`` after every outcome; returns its remover. It must be quick."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def _report(self, source: Source, action: str, reply: Reply) -> Reply:
        outcome = KioskOutcome(source, action, reply, self._wall())
        for listener in list(self._listeners):
            try:
                listener(outcome)
            except Exception:
                # A broken page must not stop the locker (like LockerService's listeners).
                logger.exception("kiosk listener failed")
        return reply

    # -- what the kiosk offers -------------------------------------------------------

    def services(self) -> tuple[DropoffService, ...]:
        return self._services

    def sizes(self) -> tuple[Size, ...]:
        """The sizes the locker has, smallest first."""
        return self._sizes

    def find_service(self, name: object) -> DropoffService | Refusal:
        for offered in self._services:
            if offered.name == name:
                return offered
        known = ", ".join(s.name for s in self._services) or "none configured"
        message = f"one of the configured services ({known})"
        return refusal(InvalidPayload(message, field="service"))

    # -- the kiosk's choice --------------------------------------------------------

    def arm_dropoff(
        self,
        service: DropoffService,
        *,
        accessible: bool = False,
        size: Size | None = None,
        source: Source = "reader",
    ) -> ArmedDropoff:
        self._armed = ArmedDropoff(
            service, accessible, self._clock() + self._arm_timeout_s, size or service.size
        )
        logger.info(
            "drop-off armed",
            extra={"service": service.name, "timeout_s": self._arm_timeout_s},
        )
        self._report(source, "arm", Done({"armed": self.armed_view()}))
        return self._armed

    def choose_dropoff(
        self, service: str, size: Size | None, accessible: bool, *, source: Source
    ) -> Reply:
        """The kiosk's drop-off button: arm the named service, or say which exist."""
        chosen = self.find_service(service)
        if isinstance(chosen, Refusal):
            return chosen
        self.arm_dropoff(chosen, accessible=accessible, size=size, source=source)
        return Done({"armed": self.armed_view()})

    def disarm(self, *, source: Source = "reader") -> Reply:
        self._armed = None
        return self._report(source, "disarm", Done({"armed": None}))

    def armed_view(self) -> JsonDict | None:
        """The armed drop-off for the kiosk screen (and the stream), or None."""
        armed = self.armed()
        if armed is None:
            return None
        return {
            "service": armed.service.name,
            "department": armed.service.department,
            "size": armed.size.value,
            "accessible": armed.accessible,
            "expires_in_s": max(armed.until_mono_s - self._clock(), 0.0),
        }

    def armed(self) -> ArmedDropoff | None:
        if self._armed is not None and self._clock() > self._armed.until_mono_s:
            self._armed = None
        return self._armed

    # -- presentations -----------------------------------------------------------------

    async def present(self, presented: Presentation, *, source: Source = "reader") -> Reply:
        match presented:
            case CardPresented():
                action = "pickup" if self.armed() is None else "dropoff"
                return self._report(source, action, await self._card(presented))
            case StaffCardPresented():
                return self._report(source, "staff", await self._staff_card(presented))
            case CodeEntered():
                return self._report(source, "code", await self._code(presented))
            case _:
                assert_never(presented)

    def failed(self, code: str, *, card: bool, source: Source = "reader") -> Reply:
        """A presentation a reader could not use; `code` is the reader's (readers.FaultCode).

        `card`: an ID card was presented (the action is then the pickup or the
        drop-off it would have started); otherwise a token or code. An armed
        drop-off stays armed: the citizen places the card again.
        """
        action = ("pickup" if self.armed() is None else "dropoff") if card else "code"
        reply = Refusal(code, _FAILED, Category.INVALID)
        log_reply("presentation failed", reply, reader=source)
        return self._report(source, action, reply)

    async def swipe(self, payload: Mapping[str, Any]) -> Reply:
        """What a kiosk app's own reader read, posted to the HTTP kiosk."""
        presented = self._parse_swipe(payload)
        if isinstance(presented, Refusal):
            return presented
        return await self.present(presented, source="http")

    async def enter_code(
        self, code: str, purpose: CodePurpose, *, accessible: bool = False
    ) -> Reply:
        """A code typed on the HTTP kiosk's keypad (raw: the kiosk digests and drops it)."""
        if purpose is CodePurpose.PICKUP:
            reply = await self._kiosk.pickup_by_code(code)
        else:
            reply = await self._kiosk.dropoff_by_code(code, accessible=accessible)
        log_reply(f"{purpose.value} by code", reply, reader="http")
        return self._report("http", "code", reply)

    async def _card(self, presented: CardPresented) -> Reply:
        armed = self.armed()
        if armed is None:
            reply = await self._kiosk.pickup(presented.credential)
            log_reply("pickup by card", reply, reader=presented.source, card=presented.masked)
            return reply
        self._armed = None
        reply = await self._kiosk.start_dropoff(
            presented.credential,
            armed.service.department,
            armed.size.value,
            accessible=armed.accessible,
        )
        log_reply(
            "drop-off by card",
            reply,
            reader=presented.source,
            card=presented.masked,
            service=armed.service.name,
        )
        return reply

    async def _code(self, presented: CodeEntered) -> Reply:
        if presented.purpose is CodePurpose.PICKUP:
            reply = await self._kiosk.pickup(presented.credential)
        else:
            reply = await self._kiosk.start_dropoff(presented.credential)
        log_reply(f"{presented.purpose.value} by code", reply, reader=presented.source)
        return reply

    async def _staff_card(self, presented: StaffCardPresented) -> Reply:
        staff = self._staff.staff_for_digests(presented.digests)
        if staff is None:
            try:
                await self._service.record_denial(
                    "staff:unknown",
                    "staff_open",
                    "unknown_card",
                    details={"card": presented.masked},
                )
            except StoreError as failure:
                logger.error("cannot audit an unknown staff card", extra={"error": failure.code})
            unknown = refusal(UnknownCard("this staff card is not registered"))
            log_reply("staff card", unknown, reader=presented.source, card=presented.masked)
            return unknown
        reply = await self._kiosk.staff_swipe(staff)
        context = {"reader": presented.source, "card": presented.masked, "staff_id": staff.staff_id}
        match reply:
            case Done():
                results = {
                    purpose: Done({"result": "opening", **opening})
                    for purpose, opening in reply.fields["by_purpose"].items()
                }
                for purpose, result in results.items():
                    log_reply(f"staff {purpose}", result, **context, department=staff.department)
                return Done({"staff_open": {p: r.to_json() for p, r in results.items()}})
            case Refusal(code=NothingForYou.code):
                logger.info("staff card: nothing to do", extra=context)
                return Done({"staff_open": {}}, ok=False)
            case Refusal():
                log_reply("staff card", reply, **context, department=staff.department)
                return replace(reply, extra={"staff_open": {}})


def log_reply(what: str, reply: Reply, **context: Any) -> None:
    """One line per decision: the reply's result and compartments, or its error code."""
    extra: dict[str, Any] = {**context}
    match reply:
        case Done(fields=fields):
            extra["ok"] = reply.ok
            extra["result"] = fields.get("result", "")
            opens = fields.get("opens")
            if isinstance(opens, list):
                extra["compartments"] = ",".join(str(o.get("compartment")) for o in opens)
            if fields.get("unavailable"):
                extra["unavailable"] = ",".join(str(c) for c in fields["unavailable"])
            if "compartment" in fields:
                extra["compartment"] = fields["compartment"]
        case Refusal():
            extra["ok"] = False
            extra["error"] = reply.code
    logger.info(what, extra=extra)
