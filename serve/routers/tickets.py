"""/api/tickets: the list with filters and pagination, one ticket with its evidence and
audit log, state changes (through serve.workflow), the chief's rectification photo, and
the overdue/escalation check."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, get_args

import sqlalchemy as sa
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy.orm import Session

from heyan.pipeline.images import ImageReadError, read_image
from heyan.pipeline.tickets.proof import check_proof, ground_distance_m, photo_facts
from heyan.serve.blobdb import ensure_blobs, publishing
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.escalation import check_overdue
from heyan.serve.schemas.tickets import EscalationOut, QueueCounts, TicketDetail, TicketPage, TransitionIn, UrgeIn
from heyan.serve.tables import Evidence, RiverNetworkVersion, Ticket
from heyan.serve.ticket_query import TicketFilter, ticket_filter, visible
from heyan.serve.ticket_views import LIST_COLUMNS, ticket_detail, ticket_out
from heyan.serve.uploads import clean_name, stage_upload
from heyan.serve.workflow import (
    InvalidTransition,
    TransitionForbidden,
    TransitionNeedsInput,
    UndoRefused,
    allowed_from,
    record,
    transition,
    undo_decision,
)

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

# The ledger's sortable columns. Each order ends in the id so pages are stable; empty values
# (no deadline yet, no segment) go last both ways, so "deadline" lists what is due first.
_SORT_COLUMNS: dict[str, Any] = {
    "found_at": Ticket.found_at, "updated_at": Ticket.updated_at, "score": Ticket.score, "deadline": Ticket.deadline,
    "state": Ticket.state, "category": Ticket.category, "segment": Ticket.segment_name, "chief": Ticket.chief_name,
    "severity": Ticket.severity, "dispatched_at": Ticket.dispatched_at,
}
SORTS = {f"{sign}{name}": (col.is_(None).asc(), col.desc() if sign else col.asc(), Ticket.id.desc() if sign else Ticket.id.asc())
         for name, col in _SORT_COLUMNS.items() for sign in ("", "-")}
Sort = Literal["found_at", "-found_at", "updated_at", "-updated_at", "score", "-score", "deadline", "-deadline",
               "state", "-state", "category", "-category", "segment", "-segment", "chief", "-chief",
               "severity", "-severity", "dispatched_at", "-dispatched_at"]
assert set(SORTS) == set(get_args(Sort))


@router.get("", response_model=TicketPage, summary="Tickets matching the filters, a page at a time")
def list_tickets(f: TicketFilter = Depends(ticket_filter), limit: int = Query(50, ge=1, le=500),
                 offset: int = Query(0, ge=0, le=10**7), sort: Sort = Query("-found_at"),
                 p: Principal = Depends(require("tickets.read")), db: Session = Depends(get_db)) -> TicketPage:
    where = f.where(p)
    total = db.scalar(sa.select(sa.func.count()).select_from(Ticket).where(*where)) or 0
    rows = db.execute(sa.select(*LIST_COLUMNS).where(*where).order_by(*SORTS[sort]).limit(limit).offset(offset))
    return TicketPage(items=[ticket_out(t) for t in rows], total=total, limit=limit, offset=offset)


@router.get("/queues", response_model=QueueCounts, summary="How many tickets wait in each work queue (the ledger's tabs)")
def queues(f: TicketFilter = Depends(ticket_filter), p: Principal = Depends(require("tickets.read")),
           db: Session = Depends(get_db)) -> QueueCounts:
    # The tabs are states (and overdue): count over the other filters, not the tab's own.
    where = replace(f, state=None, overdue=None).where(p)
    rows = db.execute(sa.select(Ticket.state, sa.func.count()).where(*where).group_by(Ticket.state)).all()
    by_state: dict[str, int] = {state: n for state, n in rows}
    overdue = db.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        *where, Ticket.state == "dispatched", Ticket.overdue.is_(True))) or 0
    return QueueCounts(pending_review=by_state.get("pending_review", 0), confirmed=by_state.get("confirmed", 0),
                       dispatched=by_state.get("dispatched", 0), rectified=by_state.get("rectified", 0), overdue=overdue)


@router.post("/escalate", response_model=EscalationOut, summary="Check for overdue tickets now and escalate them (督办)")
def escalate(request: Request, _: Principal = Depends(require("tickets.escalate")), db: Session = Depends(get_db)) -> EscalationOut:
    now = app_state(request).clock.now()
    changed = check_overdue(db, now)
    db.commit()
    return EscalationOut(checked_at=now, changed=changed)


def _ticket(db: Session, ticket_id: str, p: Principal, lock: bool = False) -> Ticket:
    q = sa.select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        q = q.with_for_update()  # two reviewers on one ticket: the second sees the first's state
    t = db.scalar(q)
    if t is None or not visible(t, p):
        raise ApiError(404, f"no ticket {ticket_id!r}", code="no_ticket")
    return t


@router.get("/{ticket_id}", response_model=TicketDetail, summary="One ticket: evidence, audit log, allowed transitions")
def get_ticket(ticket_id: str, p: Principal = Depends(require("tickets.read")), db: Session = Depends(get_db)) -> TicketDetail:
    return ticket_detail(db, _ticket(db, ticket_id, p), p.role)


def _apply(db: Session, t: Ticket, to: str, p: Principal, now: Any, comment: str | None, **kw: Any) -> None:
    try:
        transition(db, t, to, p.actor, now, comment, **kw)
    except InvalidTransition as exc:
        raise ApiError(409, str(exc), code="transition_not_allowed", state=exc.state, requested=exc.to,
                       allowed=exc.allowed, allowed_for_you=allowed_from(exc.state, p.role)) from None
    except TransitionForbidden as exc:
        raise ApiError(403, str(exc), code="forbidden", state=t.state,
                       allowed_for_you=allowed_from(t.state, p.role)) from None
    except TransitionNeedsInput as exc:
        raise ApiError(422, str(exc), code=exc.code) from None


def _refresh_chiefs(db: Session, request: Request, t: Ticket) -> None:
    """Chiefs change (elections, reassignments): dispatch to the segment's chiefs in the
    network now in force; the ticket keeps the segment and network version it was made on."""
    net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    if net is None or t.segment_id is None:
        return
    network = app_state(request).processor.network(net.version, json.loads(net.geojson))
    seg = next((s for s in network.segments if s.id == t.segment_id), None)
    if seg is not None and not seg.chiefs.is_empty():
        t.chiefs = seg.chiefs.to_dict()


@router.post("/{ticket_id}/transition", response_model=TicketDetail,
             summary="Move a ticket: confirm, reject, dispatch, close, reopen (409 lists the allowed states)",
             responses={409: {"description": "Not allowed from the current state; `allowed` lists what is"}})
def move(ticket_id: str, body: TransitionIn, request: Request, p: Principal = Depends(require("tickets.review")),
         db: Session = Depends(get_db)) -> TicketDetail:
    t = _ticket(db, ticket_id, p, lock=True)
    if body.to == "dispatched" and t.state == "confirmed":
        _refresh_chiefs(db, request, t)
    _apply(db, t, body.to, p, app_state(request).clock.now(), body.comment, level=body.chief_level,
           deadline=body.deadline, reject_reason=body.reject_reason)
    db.commit()
    return ticket_detail(db, t, p.role)


@router.post("/{ticket_id}/undo", response_model=TicketDetail,
             summary="Undo your latest review decision (confirm/reject) on this ticket: back to pending_review",
             responses={409: {"description": "Not your latest decision, or something happened to the ticket since"}})
def undo(ticket_id: str, request: Request, p: Principal = Depends(require("tickets.review")),
         db: Session = Depends(get_db)) -> TicketDetail:
    t = _ticket(db, ticket_id, p, lock=True)
    try:
        undo_decision(db, t, p.actor, app_state(request).clock.now())
    except UndoRefused as exc:
        raise ApiError(409, str(exc), code=exc.code, state=t.state) from None
    db.commit()
    return ticket_detail(db, t, p.role)


@router.post("/{ticket_id}/urge", response_model=TicketDetail,
             summary="督办/催办 one dispatched ticket: a reminder in its audit log; if overdue, escalated now",
             responses={409: {"description": "The ticket is not dispatched (nothing to urge)"}})
def urge(ticket_id: str, body: UrgeIn, request: Request, p: Principal = Depends(require("tickets.escalate")),
         db: Session = Depends(get_db)) -> TicketDetail:
    t = _ticket(db, ticket_id, p, lock=True)
    if t.state != "dispatched":
        raise ApiError(409, f"ticket {ticket_id!r} is {t.state!r}: only a dispatched ticket can be urged",
                       code="urge_not_dispatched", state=t.state)
    now = app_state(request).clock.now()
    check_overdue(db, now, ticket_id=t.id)  # the same escalation as the periodic check, for this ticket now
    record(db, t.id, p.actor, "urge", now, t.state, t.state, body.comment,
           {"chief": t.chief_name, "chief_level": t.chief_level, "overdue": t.overdue})
    t.updated_at = now
    db.commit()
    return ticket_detail(db, t, p.role)


@router.post("/{ticket_id}/rectify", response_model=TicketDetail,
             summary="The chief reports rectification with a photo (dispatched -> rectified)")
def rectify(ticket_id: str, request: Request, photo: UploadFile = File(..., description="Photo of the rectified site"),
            comment: str | None = Form(None, max_length=4000),
            reason: str | None = Form(None, max_length=4000, description=(
                "Why a photo that is no proof (taken before the dispatch, or away from the problem, or without "
                "EXIF time/GPS) should still count; the reviewer sees it. Without it such a photo is refused (422 proof_failed).")),
            p: Principal = Depends(require("tickets.rectify")),
            db: Session = Depends(get_db)) -> TicketDetail:
    st = app_state(request)
    t = _ticket(db, ticket_id, p)
    if t.state != "dispatched":  # check before storing anything
        _apply(db, t, "rectified", p, st.clock.now(), comment, rectification_evidence=True)
    site = (t.lat, t.lon, t.dispatched_at)  # read now: the rollback expires the row
    db.rollback()  # no transaction (no write lock) while the photo is stored and decoded
    name = clean_name(photo.filename or "rectification.jpg")
    comment = comment.replace("\x00", "") if comment else comment
    reason = reason.replace("\x00", "").strip() if reason else None
    staged = stage_upload(st.store, photo, st.config.max_photo_bytes)
    with publishing(st, db, staged):
        ctype = image_type(staged.path, name)  # decoded, not trusted by its name
        facts = photo_facts(staged.path)
        problems = check_proof(facts, site[2], site[0], site[1], st.config.rectify_max_distance_m, st.clock.now())
        if problems and not reason:
            raise ApiError(422, "the photo is no proof of the rectification: " + "; ".join(x.detail for x in problems)
                           + "; take a new photo on site, or send a reason", code="proof_failed",
                           problems=[x.to_dict() for x in problems])
        proof = {"problems": [x.to_dict() for x in problems], "reason": reason if problems else None,
                 "max_distance_m": st.config.rectify_max_distance_m,
                 "distance_m": None if facts.lat is None or facts.lon is None else
                 round(ground_distance_m(facts.lat, facts.lon, site[0], site[1]), 1)}
        sha = staged.sha256
        t = _ticket(db, ticket_id, p, lock=True)  # the write transaction starts here, and is short
        now = st.clock.now()
        ensure_blobs(db, [(sha, staged.size, ctype)])
        _apply(db, t, "rectified", p, now, comment, rectification_evidence=True,
               data={"photo": sha, "proof_problems": [x.code for x in problems], "reason": proof["reason"]})
        db.add(Evidence(ticket_id=t.id, kind="rectification", image_name=name[:512], photo_sha=sha, comment=comment,
                        created_by=p.name, created_at=now, lat=facts.lat, lon=facts.lon,
                        taken_at=facts.taken_at.isoformat() if facts.taken_at else None, proof=proof))
    return ticket_detail(db, t, p.role)


_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"II*\x00", "image/tiff"),
          (b"MM\x00*", "image/tiff"), (b"BM", "image/bmp"))


def image_type(path: Path, name: str) -> str:
    """The image type of a file that decodes as an image (422 otherwise)."""
    try:
        read_image(path, reduce=8)
    except ImageReadError as exc:
        raise ApiError(422, f"{name}: not a photo ({exc.reason})") from None
    with open(path, "rb") as fh:
        head = fh.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((t for magic, t in _MAGIC if head.startswith(magic)), "application/octet-stream")
