"""Queue and deliver. ``scan`` turns what happened into queued deliveries (idempotent: a
happening has one key); ``deliver_due`` sends the due ones, one short transaction per
delivery, and never raises for a channel's failure."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.config import ServeConfig
from heyan.serve.db import Database
from heyan.serve.notify.channels import Channel, DeliveryError, build
from heyan.serve.notify.messages import Message, compose
from heyan.serve.tables import AuditEntry, Notification, Ticket

log = logging.getLogger("heyan.serve.notify")
LOOKBACK = timedelta(days=2)
CLAIM = timedelta(minutes=5)  # longer than any channel's timeout  # 交办 older than this when the server (re)starts are not announced late


def channels(cfg: ServeConfig) -> list[tuple[Channel, tuple[str, ...]]]:
    return [(build(c), c.events) for c in cfg.notify_channels]


def _queue(db: Session, key: str, msg: Message, chans: list[tuple[Channel, tuple[str, ...]]], now: datetime) -> int:
    have = set(db.scalars(sa.select(Notification.channel).where(Notification.key == key)))
    n = 0
    for ch, events in chans:
        if msg.event not in events or ch.name in have:
            continue
        db.add(Notification(key=key, event=msg.event, ticket_id=msg.ticket_id, channel=ch.name, recipient=ch.recipient(msg),
                            title=msg.title, body=msg.text, state="pending", attempts=0, next_at=now, created_at=now))
        n += 1
    return n


def scan(db: Session, cfg: ServeConfig, now: datetime) -> int:
    """Queue the notifications of what happened: 交办 and 退回整改 (audit entries into
    dispatched), deadlines near, tickets overdue (督办). Returns how many were queued."""
    chans = channels(cfg)
    if not chans:
        return 0
    n = 0
    moves = db.execute(sa.select(AuditEntry, Ticket).join(Ticket, Ticket.id == AuditEntry.ticket_id).where(
        AuditEntry.to_state == "dispatched", AuditEntry.at >= now - LOOKBACK, Ticket.state == "dispatched")).all()
    for a, t in moves:
        event = "sent_back" if a.from_state == "rectified" else "dispatched"
        n += _queue(db, f"{event}:{t.id}:{a.id}", compose(event, t, now, a.comment), chans, now)
    soon = now + timedelta(hours=cfg.notify_near_deadline_h)
    for t in db.scalars(sa.select(Ticket).where(Ticket.state == "dispatched", Ticket.deadline.is_not(None),
                                                Ticket.deadline <= soon)):
        assert t.deadline is not None
        due = t.deadline.isoformat()
        if t.deadline < now:
            # One 督办 per responsible chief: an escalation upwards notifies the new one.
            n += _queue(db, f"overdue:{t.id}:{due}:{t.chief_level}", compose("overdue", t, now), chans, now)
        else:
            n += _queue(db, f"near_deadline:{t.id}:{due}", compose("near_deadline", t, now), chans, now)
    return n


def deliver_due(database: Database, cfg: ServeConfig, now: datetime, limit: int = 100) -> tuple[int, int]:
    """Send the deliveries that are due; (sent, failed tries)."""
    by_name = {ch.name: ch for ch, _ in channels(cfg)}
    with database.session() as db:
        due = db.execute(sa.select(Notification.id, Notification.channel).where(
            Notification.state == "pending", Notification.next_at <= now).order_by(Notification.next_at, Notification.id)
            .limit(limit)).all()
    sent = failed = 0
    for nid, name in due:
        ch = by_name.get(name)
        error: str | None = None
        if ch is None:
            error = f"channel {name!r} is no longer configured"
        else:
            # Claim it first (push next_at past the send): a second server process running
            # its own notifier skips it instead of sending it twice.
            with database.session(write=True) as db:
                claimed = db.execute(sa.update(Notification).where(
                    Notification.id == nid, Notification.state == "pending", Notification.next_at <= now)
                    .values(next_at=now + CLAIM)).rowcount
                db.commit()
            if not claimed:
                continue
            with database.session() as db:
                row = db.get(Notification, nid)
                msg = Message(row.event, row.ticket_id or "", row.title, row.body, None) if row else None
                phone = _phone(db, row.ticket_id) if row and row.ticket_id else None
            if msg is None:
                continue
            try:
                ch.send(Message(msg.event, msg.ticket_id, msg.title, msg.text, phone))
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a channel's bug must not stop the others
                error = f"{type(exc).__name__}: {exc}"
        with database.session(write=True) as db:
            row = db.get(Notification, nid)
            if row is None:
                continue
            row.attempts += 1
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", now, None
                sent += 1
            else:
                failed += 1
                row.last_error = error[:2000]
                if row.attempts >= cfg.notify_max_attempts:
                    row.state = "failed"
                else:
                    row.next_at = now + timedelta(seconds=cfg.notify_retry_s * 2 ** (row.attempts - 1))
                log.warning("notification %s via %s failed (try %d): %s", row.key, name, row.attempts, error)
            db.commit()
    return sent, failed


def _phone(db: Session, ticket_id: str) -> str | None:
    t = db.get(Ticket, ticket_id)
    if t is None:
        return None
    phone = ((t.chiefs or {}).get(t.chief_level or "") or {}).get("phone")
    return str(phone) if phone else None
