"""The ticket state machine: the ONE place that knows which state may follow which, who may
move a ticket, and what each move changes. Routes, the flight importer and the escalation
check all go through ``transition``.

    pending_review -> confirmed | rejected
    confirmed      -> dispatched            (sets the chief and the deadline)
    dispatched     -> rectified             (the chief, with a photo)
    rectified      -> closed                (a reviewer, or a later flight that no longer sees it)
    rectified      -> dispatched            (a reviewer does not accept the rectification)
    rejected       -> pending_review        (a reviewer undoes a rejection)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.tables import AuditEntry, Ticket

STATES = ("pending_review", "confirmed", "rejected", "dispatched", "rectified", "closed")
OPEN_STATES = ("pending_review", "confirmed", "dispatched", "rectified")
LEVELS = ("village", "township", "county")  # the lowest level first
SYSTEM = "system"  # role of the server itself (flight import, escalation)
DEFAULT_DEADLINE_DAYS = 7
MAX_DEADLINE = timedelta(days=366)  # the longest rectification period a reviewer may set

# Why a reviewer rejects a detection (误报 types): stored on the decision (audit data
# "reject_reason") and carried into the hard-negative exports, so a model maintainer can see
# what the detector confuses. The viewer's names for them are in i18n.js (`reason.<id>`).
REJECT_REASONS = ("water_glint", "vegetation", "shadow", "bank_object", "boat", "duplicate", "other")
DECISIONS = ("confirmed", "rejected")  # a reviewer's decision on a pending ticket

_REVIEW = frozenset({"admin", "reviewer"})
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "pending_review": {"confirmed": _REVIEW, "rejected": _REVIEW},
    "confirmed": {"dispatched": _REVIEW},
    "dispatched": {"rectified": frozenset({"admin", "chief"})},
    "rectified": {"closed": _REVIEW | {SYSTEM}, "dispatched": _REVIEW},
    "rejected": {"pending_review": _REVIEW},
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


SYSTEM_ACTOR = Actor("system", SYSTEM)


class InvalidTransition(Exception):
    """No such move from this state (HTTP 409); ``allowed`` lists the states that may follow."""

    def __init__(self, state: str, to: str, allowed: list[str]) -> None:
        super().__init__(f"cannot go from {state!r} to {to!r}; allowed from {state!r}: {', '.join(allowed) or 'none'}")
        self.state, self.to, self.allowed = state, to, allowed


class TransitionForbidden(Exception):
    """The move exists but this role may not make it (HTTP 403)."""


class TransitionNeedsInput(Exception):
    """The move exists but something it needs is missing (HTTP 422). ``code`` is the stable
    error code the viewer translates (its message stays English for scripts)."""

    def __init__(self, message: str, code: str = "needs_input") -> None:
        super().__init__(message)
        self.code = code


def allowed_from(state: str, role: str | None = None) -> list[str]:
    nexts = TRANSITIONS.get(state, {})
    return [to for to, roles in nexts.items() if role is None or role in roles]


def record(db: Session, ticket_id: str | None, actor: Actor, action: str, now: datetime, from_state: str | None = None,
           to_state: str | None = None, comment: str | None = None, data: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(ticket_id=ticket_id, at=now, actor=actor.name, action=action, from_state=from_state,
                       to_state=to_state, comment=comment, data=data)
    db.add(entry)
    return entry


def first_chief(chiefs: dict[str, Any] | None, above: str | None = None) -> tuple[str, str] | None:
    """(level, name) of the lowest chief, or of the lowest one above level ``above``."""
    start = LEVELS.index(above) + 1 if above in LEVELS else 0
    for level in LEVELS[start:]:
        c = (chiefs or {}).get(level)
        if c and c.get("name"):
            return level, str(c["name"])
    return None


def chosen_chief(chiefs: dict[str, Any] | None, level: str) -> tuple[str, str] | None:
    """(level, name) of the segment's chief at ``level``, if it has one."""
    c = (chiefs or {}).get(level)
    return (level, str(c["name"])) if c and c.get("name") else None


def transition(db: Session, t: Ticket, to: str, actor: Actor, now: datetime, comment: str | None = None,
               data: dict[str, Any] | None = None, rectification_evidence: bool = False,
               level: str | None = None, deadline: datetime | None = None,
               reject_reason: str | None = None) -> AuditEntry:
    """Move ``t`` to ``to``. For a dispatch (交办, or 退回整改 from rectified) the reviewer may
    choose the chief's ``level`` and the ``deadline``; by default the lowest chief and the
    rule's number of days."""
    if to not in STATES:
        raise InvalidTransition(t.state, to, allowed_from(t.state))
    nexts = TRANSITIONS.get(t.state, {})
    if to not in nexts:
        raise InvalidTransition(t.state, to, allowed_from(t.state))
    if actor.role not in nexts[to]:
        raise TransitionForbidden(f"role {actor.role!r} may not move a ticket from {t.state!r} to {to!r}")
    if to == "rectified" and not rectification_evidence:
        raise TransitionNeedsInput("rectification needs a photo: POST it to /api/tickets/{id}/rectify", "photo_required")
    if (level is not None or deadline is not None) and to != "dispatched":
        raise TransitionNeedsInput("a chief level or deadline is only for a dispatch (交办)", "dispatch_only")
    if reject_reason is not None and to != "rejected":
        raise TransitionNeedsInput("a reject reason is only for a rejection (驳回)", "reason_only_reject")
    if reject_reason is not None and reject_reason not in REJECT_REASONS:
        raise TransitionNeedsInput(f"unknown reject reason {reject_reason!r}; one of {', '.join(REJECT_REASONS)}",
                                   "unknown_reject_reason")
    if deadline is not None and deadline <= now:
        raise TransitionNeedsInput(f"the deadline {deadline.isoformat()} is not in the future", "deadline_past")
    if deadline is not None and deadline > now + MAX_DEADLINE:  # a typo (year 2062), not a plan
        raise TransitionNeedsInput(f"the deadline {deadline.isoformat()} is more than a year away", "deadline_too_far")
    before = t.state
    info = dict(data or {})
    if to == "dispatched":
        chief = first_chief(t.chiefs) if level is None else chosen_chief(t.chiefs, level)
        if chief is None:
            where = f" at level {level!r}" if level else ""
            raise TransitionNeedsInput(f"segment {t.segment_id!r} has no river chief{where} to dispatch to", "no_chief")
        t.chief_level, t.chief_name = chief
        t.dispatched_chief = chief[1]
        t.dispatched_at = now
        days = t.deadline_days if t.deadline_days is not None else DEFAULT_DEADLINE_DAYS
        t.deadline = deadline if deadline is not None else now + timedelta(days=days)
        t.overdue = False
        t.escalations = 0
        phone = ((t.chiefs or {}).get(chief[0]) or {}).get("phone")
        info.update(chief=chief[1], chief_level=chief[0], deadline=t.deadline.isoformat(), phone=phone)
    elif to == "rejected" and reject_reason is not None:
        info["reject_reason"] = reject_reason
    elif to == "rectified":
        t.rectified_at = now
        t.overdue = False
    elif to == "closed":
        t.closed_at = now
    elif to == "pending_review":
        t.closed_at = None
    t.state = to
    t.updated_at = now
    return record(db, t.id, actor, "transition", now, before, to, comment, info or None)


class UndoRefused(Exception):
    """The decision cannot be undone (HTTP 409); ``code`` says why, for the viewer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def undo_decision(db: Session, t: Ticket, actor: Actor, now: datetime) -> AuditEntry:
    """Take back a reviewer's confirm/reject of ``t``: the ticket returns to pending_review
    with an "undo" audit entry naming the entry it undoes. Only the reviewer's own latest
    decision (on any ticket), and only while it is the ticket's latest entry: once anything
    else happened (a dispatch, another flight's sighting, another reviewer) it is history."""
    last = db.scalar(sa.select(AuditEntry).where(AuditEntry.ticket_id == t.id).order_by(AuditEntry.id.desc()).limit(1))
    if last is None or last.action != "transition" or last.from_state != "pending_review" or last.to_state not in DECISIONS:
        raise UndoRefused(f"ticket {t.id!r} has no review decision to undo as its latest entry", "undo_nothing")
    if last.actor != actor.name:
        raise UndoRefused(f"the latest decision on {t.id!r} was made by another user", "undo_not_yours")
    mine = db.scalar(sa.select(sa.func.max(AuditEntry.id)).where(
        AuditEntry.actor == actor.name, AuditEntry.action == "transition", AuditEntry.from_state == "pending_review",
        AuditEntry.to_state.in_(DECISIONS)))
    if mine != last.id:
        raise UndoRefused(f"only your latest decision can be undone, not the one on {t.id!r}", "undo_not_last")
    if t.state != last.to_state:  # cannot happen without an audit entry; a guard for hand-edited data
        raise UndoRefused(f"ticket {t.id!r} is {t.state!r}, not {last.to_state!r}", "undo_nothing")
    before = t.state
    t.state = "pending_review"
    t.updated_at = now
    return record(db, t.id, actor, "undo", now, before, "pending_review", None,
                  {"undone": last.id, **({"reject_reason": r} if (r := (last.data or {}).get("reject_reason")) else {})})
