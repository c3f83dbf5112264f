"""Ticket rows -> API shapes and -> GeoJSON Features (for pipeline.tickets.exports)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.permissions import PERMISSIONS
from heyan.serve.schemas.tickets import AuditOut, EvidenceOut, TicketDetail, TicketOut
from heyan.serve.tables import AuditEntry, Evidence, Ticket
from heyan.serve.workflow import allowed_from
from heyan.vision.common import BEIJING


def url(sha: str | None) -> str | None:
    return f"/api/blobs/{sha}" if sha else None


# The list reads only these columns (no JSON blobs but the box): a page of 50 at 100k
# tickets costs a few milliseconds, most of it here in Python.
LIST_COLUMNS = (Ticket.id, Ticket.state, Ticket.category, Ticket.category_zh, Ticket.class_name, Ticket.severity,
                Ticket.score, Ticket.lat, Ticket.lon, Ticket.error_m, Ticket.segment_id, Ticket.segment_name, Ticket.river,
                Ticket.chainage_km, Ticket.bank, Ticket.network_version, Ticket.flight_id, Ticket.chief_level,
                Ticket.chief_name, Ticket.deadline, Ticket.overdue, Ticket.escalations, Ticket.n_views, Ticket.found_at,
                Ticket.updated_at, Ticket.best_image, Ticket.best_photo_sha, Ticket.best_crop_sha, Ticket.best_box)


def ticket_out(t: Any) -> TicketOut:
    """A Ticket, or a row of LIST_COLUMNS. Built without validation: every value comes from
    typed database columns (validation was most of a list request's CPU time)."""
    return TicketOut.model_construct(
        id=t.id, state=t.state, category=t.category, category_zh=t.category_zh, class_name=t.class_name,
        severity=t.severity, score=t.score, lat=t.lat, lon=t.lon, error_m=t.error_m, segment_id=t.segment_id,
        segment_name=t.segment_name, river=t.river, chainage_km=t.chainage_km, bank=t.bank,
        network_version=t.network_version, flight_id=t.flight_id, chief_level=t.chief_level, chief_name=t.chief_name,
        deadline=t.deadline, overdue=t.overdue, escalations=t.escalations, n_views=t.n_views, found_at=t.found_at,
        updated_at=t.updated_at, best_image=t.best_image, best_photo_url=url(t.best_photo_sha),
        best_crop_url=url(t.best_crop_sha), best_box=t.best_box)


def _when(e: Evidence) -> datetime:
    """When the evidence shows the site: the photo's time, else when it was added. The
    timeline sorts on it (rows are in import order, and a flight imported late is not a
    later sighting). A photo time without a zone is the camera's local clock: Beijing."""
    if e.taken_at:
        try:
            t = datetime.fromisoformat(e.taken_at.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=BEIJING)
        except ValueError:
            pass
    return e.created_at if e.created_at.tzinfo else e.created_at.replace(tzinfo=UTC)


def ticket_detail(db: Session, t: Ticket, role: str) -> TicketDetail:
    ev = sorted(db.scalars(sa.select(Evidence).where(Evidence.ticket_id == t.id).order_by(Evidence.id)), key=_when)
    audit = db.scalars(sa.select(AuditEntry).where(AuditEntry.ticket_id == t.id).order_by(AuditEntry.id))
    return TicketDetail(
        **ticket_out(t).model_dump(), rule=t.rule, reason=t.reason, chiefs=t.chiefs, dispatched_chief=t.dispatched_chief,
        deadline_days=t.deadline_days, size_m=t.size_m, created_at=t.created_at, dispatched_at=t.dispatched_at,
        rectified_at=t.rectified_at, closed_at=t.closed_at, last_seen_at=t.last_seen_at, not_seen_count=t.not_seen_count,
        was_overdue=t.was_overdue,
        allowed_transitions=allowed_from(t.state, role),
        may_urge=t.state == "dispatched" and role in PERMISSIONS["tickets.escalate"],
        evidence=[EvidenceOut(id=e.id, kind=e.kind, flight_id=e.flight_id, image_name=e.image_name,
                              photo_url=url(e.photo_sha), crop_url=url(e.crop_sha), box=e.box, score=e.score, lat=e.lat,
                              lon=e.lon, error_m=e.error_m, taken_at=e.taken_at, comment=e.comment,
                              created_by=e.created_by, created_at=e.created_at, proof=e.proof) for e in ev],
        audit=[AuditOut.model_validate(a) for a in audit], model_name=t.model_name, model_sha256=t.model_sha256)


def feature(t: Ticket) -> dict[str, Any]:
    """The pipeline's Feature properties, brought up to date with the workflow."""
    p = dict(t.properties or {})
    chiefs = t.chiefs or {}
    p.update(
        id=t.id, flight_id=t.flight_id, category=t.category, category_zh=t.category_zh, severity=t.severity,
        score=t.score, segment_id=t.segment_id, segment_name=t.segment_name, river=t.river,
        chainage_km=t.chainage_km, bank=t.bank, rule=t.rule, reason=t.reason, error_m=t.error_m, n_views=t.n_views,
        best_image=t.best_image, state=t.state, chief_name=t.chief_name, chief_level=t.chief_level,
        deadline=t.deadline.isoformat() if t.deadline else None, overdue=t.overdue,
        dispatched_at=t.dispatched_at.isoformat() if t.dispatched_at else None,
        rectified_at=t.rectified_at.isoformat() if t.rectified_at else None,
        closed_at=t.closed_at.isoformat() if t.closed_at else None,
        found_at=t.found_at.isoformat(), network_version=t.network_version,
        chief_county=(chiefs.get("county") or {}).get("name"), chief_township=(chiefs.get("township") or {}).get("name"),
        chief_village=(chiefs.get("village") or {}).get("name"))
    p["class"] = t.class_name
    p.pop("evidence", None)
    return {"type": "Feature", "id": t.id, "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]}, "properties": p}
