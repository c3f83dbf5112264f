"""/api/tasks: the chief's 我的工单 on the phone — his dispatched tickets, soonest deadline
first, each with its countdown, its 交办 note and its place in both datums (a navigation
app in China wants GCJ-02)."""

from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from heyan.pipeline.geo.gcj02 import wgs84_to_gcj02
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.schemas.tasks import TaskList, TaskOut
from heyan.serve.tables import AuditEntry, Ticket
from heyan.serve.ticket_query import TicketFilter
from heyan.serve.ticket_views import url

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
DAY_S = 86400.0


def days_left(deadline: datetime | None, now: datetime) -> int | None:
    """Whole days to go, rounded up (due in 3 h: 1 day left); overdue: minus the whole days
    since, at least 1 (overdue by 3 h: 已逾期 1 天; by 1 day and 5 min: still 1)."""
    if deadline is None:
        return None
    s = (deadline - now).total_seconds()
    return math.ceil(s / DAY_S) if s >= 0 else -max(1, math.floor(-s / DAY_S))


@router.get("", response_model=TaskList, summary="我的工单: the caller's dispatched tickets, soonest deadline first")
def my_tasks(request: Request, p: Principal = Depends(require("tickets.rectify")),
             db: Session = Depends(get_db)) -> TaskList:
    now = app_state(request).clock.now()
    where = TicketFilter(state=["dispatched"]).where(p)
    rows = db.scalars(sa.select(Ticket).where(*where).order_by(Ticket.deadline.is_(None), Ticket.deadline, Ticket.id)
                      .limit(500)).all()
    latest: dict[str, AuditEntry] = {}
    if rows:
        for a in db.scalars(sa.select(AuditEntry).where(AuditEntry.ticket_id.in_([t.id for t in rows]),
                                                        AuditEntry.to_state == "dispatched").order_by(AuditEntry.id)):
            latest[a.ticket_id or ""] = a
    items = []
    for t in rows:
        glat, glon = wgs84_to_gcj02(t.lat, t.lon)
        a = latest.get(t.id)
        items.append(TaskOut(
            id=t.id, category=t.category, category_zh=t.category_zh, class_name=t.class_name, severity=t.severity,
            segment_id=t.segment_id, segment_name=t.segment_name, river=t.river, chainage_km=t.chainage_km, bank=t.bank,
            lat=t.lat, lon=t.lon, lat_gcj02=round(float(glat), 7), lon_gcj02=round(float(glon), 7),
            chief_level=t.chief_level, chief_name=t.chief_name, dispatched_at=t.dispatched_at, deadline=t.deadline,
            days_left=days_left(t.deadline, now), overdue=t.overdue or (t.deadline is not None and t.deadline < now),
            escalations=t.escalations, sent_back=bool(a and a.from_state == "rectified"),
            note=a.comment if a else None, crop_url=url(t.best_crop_sha), photo_url=url(t.best_photo_sha)))
    return TaskList(now=now, items=items)
