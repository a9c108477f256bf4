"""``OperatorDesk``: the actions of a person at the local pages (staff, technician).

The HTTP layer has already told who it is (a token's name, passed here as
``operator``, e.g. ``http:ops-desk``); the desk turns each action into the
domain command a central operator would send (``CentralActor``), so the rules,
the audit trail and the events are the same as over MQTT, without the
envelope a remote sender needs (``command_id``, ``expires_at``): the request
is live, it is not redelivered.

Every method returns a ``Reply`` value (``replies.py``), like ``Kiosk``.
"""

from __future__ import annotations

from locker_host.domain import (
    AcknowledgeAlarm,
    CentralActor,
    Command,
    CompartmentId,
    DepartmentId,
    LockerError,
    RecallList,
    RemoteOpen,
    SetService,
)
from locker_host.store import StoreError

from . import replies
from .errors import AppError
from .replies import Reply
from .service import LockerService

# A remote open waits this long at most for the lock (the domain refuses it after).
OPEN_VALID_S = 60.0


class OperatorDesk:
    def __init__(self, service: LockerService) -> None:
        self._service = service

    async def open(self, operator: str, compartment: str, reason: str) -> Reply:
        expires = self._service.now().wall_s + OPEN_VALID_S
        actor = CentralActor(operator)
        return await self._run(RemoteOpen(actor, CompartmentId(compartment), reason, expires))

    async def set_service(
        self, operator: str, compartment: str, in_service: bool, reason: str
    ) -> Reply:
        actor = CentralActor(operator)
        return await self._run(SetService(actor, CompartmentId(compartment), in_service, reason))

    async def recall_list(self, operator: str, department: str | None) -> Reply:
        chosen = None if department is None else DepartmentId(department)
        return await self._run(RecallList(CentralActor(operator), chosen))

    async def acknowledge_alarm(self, operator: str, alarm_id: str) -> Reply:
        return await self._run(AcknowledgeAlarm(CentralActor(operator), alarm_id))

    async def _run(self, command: Command) -> Reply:
        try:
            outcome = await self._service.submit(command)
        except (AppError, LockerError, StoreError) as problem:
            return replies.refusal(problem)
        return outcome.reply
