"""``CommandApi``: central commands from a JSON payload (or a typed request) to a reply.

``handle(name, payload)`` never raises for anything the sender got wrong or
the locker refused: every outcome is a ``Reply`` value (``replies.py``). The one
field that is not stored with the reply is ``expect_dropoff``'s ``code``: the
raw drop-off code is returned once, in the live reply, and only its digest is
kept; a redelivery of the same ``command_id`` gets the stored reply, without
the code (the central system cancels and asks again if it lost it).
"""

from __future__ import annotations

from typing import Any, assert_never

from locker_host.domain import (
    ApplicationNumber,
    Cancel,
    CentralActor,
    CodePurpose,
    Command,
    CompartmentId,
    DepartmentId,
    ExpectDropoff,
    ExtendDeadline,
    Inventory,
    LockerError,
    LockerState,
    OwnerKey,
    OwnerRef,
    RecallList,
    RemoteOpen,
    Reserve,
    SetService,
    code_digest,
    required_code_length,
)
from locker_host.store import StoreError

from . import replies
from .commands import (
    CancelRequest,
    ExpectDropoffRequest,
    ExtendDeadlineRequest,
    InventoryRequest,
    RecallListRequest,
    RemoteOpenRequest,
    Request,
    ReserveRequest,
    SetServiceRequest,
    parse_command,
)
from .errors import AppError, InvalidPayload
from .ports import CodeSource
from .replies import Done, Reply
from .service import CentralContext, LockerService


class CommandApi:
    def __init__(self, service: LockerService, codes: CodeSource) -> None:
        self._service = service
        self._codes = codes

    async def handle(self, name: str, payload: object) -> Reply:
        try:
            request = parse_command(name, payload)
        except AppError as problem:
            return replies.refusal(problem)
        return await self.execute(request)

    async def execute(self, request: Request) -> Reply:
        try:
            command, shown_once = self._to_domain(request)
            outcome = await self._service.submit(
                command,
                central=CentralContext(
                    request.command_id, request.expires_at_wall_s, request.operator
                ),
            )
        except (AppError, LockerError, StoreError) as problem:
            return replies.refusal(problem)
        reply = outcome.reply
        if isinstance(reply, Done) and not outcome.duplicate and outcome.decision is not None:
            return Done({**reply.fields, **shown_once})
        return reply

    def _to_domain(self, request: Request) -> tuple[Command, dict[str, Any]]:
        actor = CentralActor(request.operator, request.command_id)
        match request:
            case ReserveRequest():
                digest = None
                if request.pickup_code is not None:
                    codes = self._service.keys.codes
                    digest = code_digest(
                        codes, CodePurpose.PICKUP, request.pickup_code, codes.current
                    )
                return Reserve(
                    actor,
                    ApplicationNumber(request.application),
                    self._owner(request.owner_key, request.key_version),
                    request.size,
                    DepartmentId(request.department),
                    request.deadline_wall_s,
                    request.accessible,
                    digest,
                ), {}
            case CancelRequest():
                return Cancel(actor, ApplicationNumber(request.application)), {}
            case ExpectDropoffRequest():
                return self._expect_dropoff(actor, request)
            case ExtendDeadlineRequest():
                application = ApplicationNumber(request.application)
                return ExtendDeadline(actor, application, request.deadline_wall_s), {}
            case RecallListRequest():
                wanted = request.department
                department = None if wanted is None else DepartmentId(wanted)
                return RecallList(actor, department), {}
            case RemoteOpenRequest():
                compartment = CompartmentId(request.compartment)
                return RemoteOpen(actor, compartment, request.reason, request.expires_at_wall_s), {}
            case SetServiceRequest():
                compartment = CompartmentId(request.compartment)
                return SetService(actor, compartment, request.in_service, request.reason), {}
            case InventoryRequest():
                return Inventory(actor), {}
            case _:
                assert_never(request)

    def _expect_dropoff(
        self, actor: CentralActor, request: ExpectDropoffRequest
    ) -> tuple[Command, dict[str, Any]]:
        owner = None
        if request.owner_key is not None and request.key_version is not None:
            owner = self._owner(request.owner_key, request.key_version)
        codes = self._service.keys.codes
        # As long as the domain's guessing bound asks for, given the codes already live.
        alive = _live_codes(self._service.state)
        length = required_code_length(alive + 1, self._service.config.policy)
        raw = self._codes.digits(length)
        digest = code_digest(codes, CodePurpose.DROPOFF, raw, codes.current)
        command = ExpectDropoff(
            actor,
            ApplicationNumber(request.application),
            DepartmentId(request.department),
            request.size,
            digest,
            request.valid_until_wall_s,
            owner,
        )
        return command, {"code": raw}

    def _owner(self, key: str, version: int) -> OwnerRef:
        if version not in self._service.keys.owner.secrets:
            # Keys of an unknown version could never be matched by a card swipe here.
            raise InvalidPayload(
                "this locker has no owner secret of that version", field="key_version"
            )
        return OwnerRef(OwnerKey(key), version)


def _live_codes(state: LockerState) -> int:
    in_items = sum(
        item.pickup_code is not None
        for compartment in state.compartments.values()
        for item in compartment.items
    )
    return in_items + len(state.dropoffs)
