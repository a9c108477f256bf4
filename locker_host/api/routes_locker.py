"""Reading the locker: health, state, compartments, items, alarms, audit, boards;
and acknowledging an alarm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from locker_host.app import AuditQuery, read_audit
from locker_host.domain import active_alarms

from . import views
from .deps import BoardsCaller, Context, ExportCaller, LiveCaller, ReadCaller, StaffCaller
from .errors import reply_response
from .models import (
    AcceptedReply,
    AlarmsReply,
    AuditReply,
    BoardsReply,
    CompartmentsReply,
    DepartmentsReply,
    HealthReply,
    ItemsReply,
    StateReply,
)
from .responses import AUTHED, REFUSALS, UNAVAILABLE

router = APIRouter(prefix="/api/v1")

AUDIT_CSV_MAX = 100_000


@router.get("/health", response_model=HealthReply, tags=["operations"])
async def health(context: Context) -> JSONResponse:
    """Buses, boards, readers, MQTT; ``degraded`` when any of them is not well. No token."""
    return JSONResponse(views.health(context))


@router.get("/state", response_model=StateReply, responses=AUTHED, tags=["locker"])
async def state(context: Context, caller: LiveCaller) -> JSONResponse:
    """The published snapshot (the MQTT ``state``): no personal data."""
    return JSONResponse({"ok": True, "state": await context.service.snapshot()})


@router.get("/compartments", response_model=CompartmentsReply, responses=AUTHED, tags=["locker"])
async def compartments(context: Context, caller: ReadCaller) -> JSONResponse:
    snapshot = await context.service.snapshot()
    return JSONResponse({"ok": True, "compartments": snapshot["compartments"]})


@router.get("/departments", response_model=DepartmentsReply, responses=AUTHED, tags=["locker"])
async def departments(context: Context, caller: ReadCaller) -> JSONResponse:
    """The configured departments' names, for pages that show a department id."""
    named = [{"id": d.id, "labels": dict(d.labels)} for d in context.departments]
    return JSONResponse({"ok": True, "departments": named})


@router.get("/items", response_model=ItemsReply, responses=AUTHED, tags=["locker"])
async def items(context: Context, caller: ReadCaller) -> JSONResponse:
    """Every item in or expected at the locker, by application or receipt number."""
    snapshot = await context.service.snapshot()
    return JSONResponse({"ok": True, "items": views.items(snapshot["compartments"])})


@router.get("/alarms", response_model=AlarmsReply, responses=AUTHED, tags=["alarms"])
async def alarms(context: Context, caller: ReadCaller) -> JSONResponse:
    found = active_alarms(context.service.state)
    return JSONResponse({"ok": True, "alarms": [views.alarm_dict(a) for a in found]})


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AcceptedReply,
    responses={**AUTHED, **REFUSALS},
    tags=["alarms"],
)
async def acknowledge(
    context: Context,
    alarm_id: Annotated[str, Path(min_length=1, max_length=128)],
    caller: StaffCaller,
) -> JSONResponse:
    """Someone has seen it; only fixing the cause clears it. ``unknown_alarm`` once cleared."""
    return reply_response(await context.operators.acknowledge_alarm(caller.operator, alarm_id))


Since = Annotated[datetime | None, Query(description="recorded at or after (RFC 3339)")]
Until = Annotated[datetime | None, Query(description="recorded before (RFC 3339)")]
Actor = Annotated[
    str | None,
    Query(max_length=128, description="``staff`` also matches ``staff:S001``"),
]
Action = Annotated[str | None, Query(max_length=64)]


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None
    until: datetime | None
    actor: str | None
    action: str | None

    def query(self, limit: int, *, newest_first: bool) -> AuditQuery:
        return AuditQuery(self.since, self.until, self.actor, self.action, limit, newest_first)


def audit_filter(
    since: Since = None, until: Until = None, actor: Actor = None, action: Action = None
) -> AuditFilter:
    return AuditFilter(since, until, actor, action)


Filter = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit", response_model=AuditReply, responses=AUTHED, tags=["audit"])
async def audit(
    context: Context,
    caller: ReadCaller,
    where: Filter,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """The hash-chained audit log, newest first."""
    lines = await read_audit(context.service, where.query(limit, newest_first=True))
    return JSONResponse({"ok": True, "entries": [views.audit_dict(line) for line in lines]})


@router.get(
    "/audit.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **AUTHED,
        **UNAVAILABLE,
    },
    tags=["audit"],
)
async def audit_csv(context: Context, caller: ExportCaller, where: Filter) -> Response:
    """The same rows, oldest first, as CSV (RFC 4180, UTF-8); at most 100000 rows."""
    lines = await read_audit(context.service, where.query(AUDIT_CSV_MAX, newest_first=False))
    return Response(
        views.audit_csv(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get("/boards", response_model=BoardsReply, responses=AUTHED, tags=["operations"])
async def boards(context: Context, caller: BoardsCaller) -> JSONResponse:
    """Each bus's port and boards as the bus owner sees them, and the locker's view."""
    buses = [views.bus_dict(b) for b in context.buses()]
    status = {key: value.value for key, value in context.service.state.boards.items()}
    return JSONResponse({"ok": True, "buses": buses, "boards": status})
