"""Staff and technician actions: open with a reason, out of / back in service, recall.

Each goes to the app's ``OperatorDesk`` as the token's operator
(``http:<name>``), so the audit log names who did it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .deps import Context, ServiceCaller, StaffCaller
from .errors import reply_response
from .models import (
    AcceptedReply,
    OpeningReply,
    RecallReply,
    RecallRequest,
    ServiceRequest,
    StaffOpenRequest,
)
from .responses import AUTHED, REFUSALS

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@router.post("/open", response_model=OpeningReply, responses={**AUTHED, **REFUSALS})
async def open_compartment(
    body: StaffOpenRequest, context: Context, caller: StaffCaller
) -> JSONResponse:
    """Unlock one compartment; the reason is kept in the audit log."""
    reply = await context.operators.open(caller.operator, body.compartment, body.reason)
    return reply_response(reply)


@router.post("/service", response_model=AcceptedReply, responses={**AUTHED, **REFUSALS})
async def set_service(
    body: ServiceRequest, context: Context, caller: ServiceCaller
) -> JSONResponse:
    """Take a compartment out of service (it must be empty) or put it back."""
    reply = await context.operators.set_service(
        caller.operator, body.compartment, body.in_service, body.reason
    )
    return reply_response(reply)


@router.post("/recall", response_model=RecallReply, responses={**AUTHED, **REFUSALS})
async def recall(body: RecallRequest, context: Context, caller: StaffCaller) -> JSONResponse:
    """What to recall (overdue certificates and dossiers), for one department or all.

    It opens nothing: the clerk's staff card at the locker opens them.
    """
    return reply_response(await context.operators.recall_list(caller.operator, body.department))
