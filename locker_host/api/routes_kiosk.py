"""The kiosk screen's endpoints (only from ``kiosk_from`` addresses).

They call the app's ``Presentations`` (the context's ``kiosk``) directly,
the object the card readers' readings go to, so a card at the physical
reader and a button on the screen meet in one place (an armed drop-off
waits for the next ID card, wherever it is read), and every outcome reaches
the stream's ``kiosk`` event.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from locker_host.domain import CodePurpose, Size

from .deps import Context, KioskCaller
from .errors import reply_response
from .models import (
    ArmReply,
    DropoffCodeRequest,
    DropoffRequest,
    ErrorReply,
    OpeningReply,
    PickupCodeRequest,
    ServicesReply,
    StaffCardReply,
    SwipeRequest,
)
from .responses import AUTHED, REFUSALS
from .views import service_offer

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"])
ACTION = {**AUTHED, **REFUSALS}


@router.get("/services", response_model=ServicesReply, responses=AUTHED)
async def services(context: Context, caller: KioskCaller) -> JSONResponse:
    """What the kiosk offers at drop-off, the sizes the locker has, the armed drop-off."""
    kiosk = context.kiosk
    return JSONResponse(
        {
            "ok": True,
            "services": [service_offer(s) for s in kiosk.services()],
            "sizes": [size.value for size in kiosk.sizes()],
            "armed": kiosk.armed_view(),
        }
    )


@router.post("/swipe", response_model=OpeningReply | StaffCardReply, responses=ACTION)
async def swipe(body: SwipeRequest, context: Context, caller: KioskCaller) -> JSONResponse:
    """A reading from the kiosk app's own reader: an ID card (a pickup, or the armed
    drop-off), a code, or a staff card."""
    payload = body.model_dump(exclude_none=True)
    payload.setdefault("kiosk_token", caller.presented)
    return reply_response(await context.kiosk.swipe(payload))


@router.post("/dropoff", response_model=ArmReply, responses=ACTION)
async def dropoff(body: DropoffRequest, context: Context, caller: KioskCaller) -> JSONResponse:
    """Arm a drop-off: the next ID card (or a drop-off code) starts it."""
    size = None if body.size is None else Size(body.size)
    kiosk = context.kiosk
    return reply_response(kiosk.choose_dropoff(body.service, size, body.accessible, source="http"))


@router.post("/dropoff-code", response_model=OpeningReply, responses=ACTION)
async def dropoff_code(
    body: DropoffCodeRequest, context: Context, caller: KioskCaller
) -> JSONResponse:
    """A drop-off code issued by the central system brings its own service and size."""
    reply = await context.kiosk.enter_code(
        body.code, CodePurpose.DROPOFF, accessible=body.accessible
    )
    return reply_response(reply)


@router.post("/pickup-code", response_model=OpeningReply, responses=ACTION)
async def pickup_code(
    body: PickupCodeRequest, context: Context, caller: KioskCaller
) -> JSONResponse:
    """A proxy (代领) with the pickup code; wrong codes count towards a lockout."""
    return reply_response(await context.kiosk.enter_code(body.code, CodePurpose.PICKUP))


@router.post("/cancel", response_model=ArmReply, responses={**AUTHED, 409: {"model": ErrorReply}})
async def cancel(context: Context, caller: KioskCaller) -> JSONResponse:
    """Disarm the drop-off."""
    return reply_response(context.kiosk.disarm(source="http"))
