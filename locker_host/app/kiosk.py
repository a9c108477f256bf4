"""At-the-locker entry points: what the card reader and the touch screen call.

The raw ID number and the raw codes live only for the length of one call:
the domain's builders validate them, turn them into owner keys and code
digests (``id_card``, ``pickup_code`` ...) and drop them; nothing here stores,
logs or echoes them. A staff card is looked up in the ``StaffDirectory``; an
unknown card gets ``unknown_card`` and an audited denial.

Readers that already turned what they read into a domain credential (the
daemon's card readers: owner keys and code digests, never the raw number)
use ``pickup``, ``start_dropoff`` and ``staff_open`` instead.

``citizen_gate`` may refuse every citizen flow (pickup, drop-off) at once,
such as while the wiring map is not commissioned (``NotCommissioned``); the
refusal is audited like any other denial. Staff and maintenance opens are
never gated: they are how a locker gets fixed.

Every method returns a ``Reply`` value (``replies.py``), like ``CommandApi``.
"""

from __future__ import annotations

from collections.abc import Callable

from locker_host.domain import (
    CodeCredential,
    Command,
    CompartmentId,
    ConfirmByHand,
    Credential,
    DepartmentId,
    IdCredential,
    LockerError,
    MaintenanceOpen,
    OpenId,
    Pickup,
    Purpose,
    SetService,
    Size,
    StaffCredential,
    StaffOpen,
    StaffSwipe,
    StartDropoff,
    dropoff_code,
    id_card,
    pickup_code,
    typed_id_number,
)
from locker_host.store import StoreError

from . import replies
from .errors import AppError, InvalidPayload, UnknownCard
from .ports import StaffDirectory
from .replies import Reply
from .secrets import Keys
from .service import LockerService

_STAFF_PURPOSES = {p.value: p for p in (Purpose.COLLECT, Purpose.LOAD, Purpose.RECALL)}

CitizenGate = Callable[[], AppError | None]
"""None: citizen flows may run; otherwise the refusal to answer with."""


class Kiosk:
    def __init__(
        self,
        service: LockerService,
        staff: StaffDirectory,
        *,
        citizen_gate: CitizenGate | None = None,
    ) -> None:
        self._service = service
        self._staff = staff
        self._citizen_gate = citizen_gate

    # -- citizens --------------------------------------------------------------------

    async def pickup_by_card(self, id_number: str) -> Reply:
        """The number as the card reader read it from the chip (strong)."""
        return await self._citizen(lambda: Pickup(id_card(self._keys.owner, id_number)), "pickup")

    async def pickup_by_code(self, code: str) -> Reply:
        """A proxy (代领) with the pickup code alone."""
        return await self._citizen(lambda: Pickup(pickup_code(self._keys.codes, code)), "pickup")

    async def pickup_by_typed_id(self, id_number: str, code: str | None) -> Reply:
        """A typed or scanned number (weak): never enough without the pickup code."""
        return await self._citizen(
            lambda: Pickup(typed_id_number(self._keys.owner, id_number, self._keys.codes, code)),
            "pickup",
        )

    async def pickup(self, credential: IdCredential | CodeCredential) -> Reply:
        """A credential a reader already built (owner keys or code digests)."""
        return await self._citizen(lambda: Pickup(credential), "pickup")

    async def start_dropoff(
        self,
        credential: IdCredential | CodeCredential,
        department: str | None = None,
        size: str | None = None,
        *,
        accessible: bool = False,
    ) -> Reply:
        """A drop-off with a reader's credential; a drop-off code brings its own choice."""

        def command() -> StartDropoff:
            chosen = None if department is None else DepartmentId(department)
            return StartDropoff(credential, chosen, _size(size), accessible)

        return await self._citizen(command, "start_dropoff")

    async def dropoff_by_card(
        self,
        id_number: str,
        department: str | None,
        size: str | None,
        *,
        accessible: bool = False,
    ) -> Reply:
        def command() -> StartDropoff:
            credential = id_card(self._keys.owner, id_number)
            chosen = None if department is None else DepartmentId(department)
            return StartDropoff(credential, chosen, _size(size), accessible)

        return await self._citizen(command, "start_dropoff")

    async def dropoff_by_code(self, code: str, *, accessible: bool = False) -> Reply:
        return await self._citizen(
            lambda: StartDropoff(dropoff_code(self._keys.codes, code), accessible=accessible),
            "start_dropoff",
        )

    async def confirm_by_hand(
        self,
        open_id: str,
        item_inside: bool,
        *,
        id_number: str | None = None,
        code: str | None = None,
        card_id: str | None = None,
    ) -> Reply:
        """A degraded compartment: the person who opened it says what is inside."""

        def command() -> ConfirmByHand:
            credential: Credential
            if id_number is not None:
                credential = id_card(self._keys.owner, id_number)
            elif code is not None:
                # Either purpose: the domain only checks that a code opened it.
                credential = pickup_code(self._keys.codes, code)
            elif card_id is not None:
                credential = self._staff_or_raise(card_id)
            else:
                raise InvalidPayload("present the card or code that opened it", field="credential")
            return ConfirmByHand(OpenId(open_id), credential, item_inside)

        return await self._staff_run(command, card_id, "confirm_by_hand")

    # -- staff -----------------------------------------------------------------------------

    async def staff_card(self, card_id: str, purpose: str) -> Reply:
        """Collect dossiers, load reserved certificates or recall overdue ones."""

        def command() -> StaffOpen:
            chosen = _STAFF_PURPOSES.get(purpose)
            if chosen is None:
                raise InvalidPayload("one of collect, load, recall", field="purpose")
            return StaffOpen(self._staff_or_raise(card_id), chosen)

        return await self._staff_run(command, card_id, "staff_open")

    async def staff_open(self, staff: StaffCredential, purpose: Purpose) -> Reply:
        """A clerk the caller already identified (the daemon's staff directory)."""
        return await self._run(lambda: StaffOpen(staff, purpose))

    async def staff_swipe(self, staff: StaffCredential) -> Reply:
        """A clerk's card the caller already identified: everything there is to do."""
        return await self._run(lambda: StaffSwipe(staff))

    async def maintenance_open(self, card_id: str, compartment: str, reason: str) -> Reply:
        return await self._staff_run(
            lambda: MaintenanceOpen(
                self._staff_or_raise(card_id), CompartmentId(compartment), reason
            ),
            card_id,
            "maintenance_open",
        )

    async def set_service(
        self, card_id: str, compartment: str, in_service: bool, reason: str
    ) -> Reply:
        return await self._staff_run(
            lambda: SetService(
                self._staff_or_raise(card_id), CompartmentId(compartment), in_service, reason
            ),
            card_id,
            "set_service",
        )

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _keys(self) -> Keys:
        return self._service.keys

    def _staff_or_raise(self, card_id: str) -> StaffCredential:
        staff = self._staff.staff_for_card(card_id)
        if staff is None:
            raise UnknownCard("this staff card is not registered here")
        return staff

    async def _staff_run(
        self, build: Callable[[], Command], card_id: str | None, action: str
    ) -> Reply:
        try:
            return await self._run(build)
        except UnknownCard as problem:
            try:
                await self._service.record_denial(
                    "staff:unknown", action, problem.code, details={"card": _mask_card(card_id)}
                )
            except StoreError as failure:
                return replies.refusal(failure)
            return replies.refusal(problem)

    async def _citizen(self, build: Callable[[], Command], action: str) -> Reply:
        refusal = None if self._citizen_gate is None else self._citizen_gate()
        if refusal is None:
            return await self._run(build)
        try:
            await self._service.record_denial("citizen", action, refusal.code)
        except StoreError as failure:
            return replies.refusal(failure)
        return replies.refusal(refusal)

    async def _run(self, build: Callable[[], Command]) -> Reply:
        """Build the command (raw input is validated and dropped there), then submit it."""
        try:
            command = build()
            outcome = await self._service.submit(command)
        except UnknownCard:
            raise
        except (AppError, LockerError, StoreError) as problem:
            return replies.refusal(problem)
        return outcome.reply


def _size(size: str | None) -> Size | None:
    if size is None:
        return None
    try:
        return Size(size)
    except ValueError:
        raise InvalidPayload("must be one of S, M, L", field="size") from None


def _mask_card(card_id: str | None) -> str:
    """An unknown card in the audit log: the last four characters, never the number."""
    card = (card_id or "").strip()[:64]
    return "*" * max(len(card) - 4, 0) + card[-4:]
