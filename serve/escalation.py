"""督办: a dispatched ticket past its deadline is overdue and goes to the next chief up
(village -> township -> county), one level per deadline period overdue, so the check is
idempotent: running it twice at the same time changes nothing the second time."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.tables import Ticket
from heyan.serve.workflow import LEVELS, SYSTEM_ACTOR, first_chief, record


def check_overdue(db: Session, now: datetime, ticket_id: str | None = None) -> list[str]:
    """Flag overdue tickets (all, or the one ``ticket_id``: a reviewer's 督办 button) and
    escalate them; return the ids that changed. Commits nothing."""
    changed: list[str] = []
    q = sa.select(Ticket).where(Ticket.state == "dispatched", Ticket.deadline < now)
    if ticket_id is not None:
        q = q.where(Ticket.id == ticket_id)
    rows = db.scalars(q).all()
    for t in rows:
        assert t.deadline is not None and t.dispatched_at is not None
        touched = False
        if not t.overdue:
            t.overdue = t.was_overdue = True
            touched = True
            record(db, t.id, SYSTEM_ACTOR, "overdue", now, t.state, t.state,
                   f"逾期 / overdue: deadline {t.deadline.isoformat()}", {"deadline": t.deadline.isoformat()})
        # Levels above the first chief this ticket should have reached by now.
        period = max(t.deadline - t.dispatched_at, timedelta(days=1))
        wanted = min(math.floor((now - t.deadline) / period) + 1, len(LEVELS))
        while t.escalations < wanted:
            nxt = first_chief(t.chiefs, above=t.chief_level)
            if nxt is None:
                break
            before = t.chief_name
            t.chief_level, t.chief_name = nxt
            t.escalations += 1
            touched = True
            record(db, t.id, SYSTEM_ACTOR, "escalate", now, t.state, t.state,
                   f"督办 / escalated: overdue since {t.deadline.isoformat()}, {before} -> {nxt[1]} ({nxt[0]})",
                   {"from_chief": before, "to_chief": nxt[1], "level": nxt[0]})
        if touched:
            t.updated_at = now
            changed.append(t.id)
    return changed
