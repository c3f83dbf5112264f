"""/api/notifications: the delivery records of workflow notifications (who was told what,
on which channel, each try's error), and a manual round (scan + send) for operators and
tests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.notify.runner import run_once
from heyan.serve.tables import Notification

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    event: str
    ticket_id: str | None
    channel: str
    recipient: str | None
    title: str
    body: str
    state: str
    attempts: int
    last_error: str | None
    next_at: datetime
    created_at: datetime
    sent_at: datetime | None


class RoundOut(BaseModel):
    queued: int
    sent: int
    failed: int


@router.get("", response_model=list[NotificationOut], summary="Notification deliveries, newest first")
def list_notifications(ticket_id: str | None = Query(None, max_length=64), state: str | None = Query(None, max_length=8),
                       limit: int = Query(100, ge=1, le=1000), _: Principal = Depends(require("notifications.read")),
                       db: Session = Depends(get_db)) -> list[NotificationOut]:
    q = sa.select(Notification).order_by(Notification.id.desc()).limit(limit)
    if ticket_id:
        q = q.where(Notification.ticket_id == ticket_id)
    if state:
        q = q.where(Notification.state == state)
    return [NotificationOut.model_validate(n) for n in db.scalars(q)]


@router.post("/run", response_model=RoundOut, summary="Scan for notifications and send what is due, now")
async def run_now(request: Request, _: Principal = Depends(require("notifications.run"))) -> RoundOut:
    queued, sent, failed = await run_in_threadpool(run_once, app_state(request))
    return RoundOut(queued=queued, sent=sent, failed=failed)
