"""问题上报: a chief's or staff member's photo with a position and a class becomes a ticket
in 待审核 by the rules and de-duplication flights and edge events use. The photo's find is
placed on the network in force (``RiverNetwork.locate_one``), judged (``RuleSet.evaluate``)
and matched against open tickets around it (``dedup_flight``): the same debris reported
twice, or already found by a flight, adds evidence to that ticket instead of a new one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.ingest import ticket_record
from heyan.pipeline.tickets.dedup import OpenTicket, dedup_flight
from heyan.pipeline.tickets.finds import Find
from heyan.serve.edge.ingest import EDGE_DEDUP, MAX_RIVER_DISTANCE_M, SEARCH_RADIUS_M, context, lock_ticket_writes
from heyan.serve.importer import seen_again_note, ticket_values
from heyan.serve.processing import FlightProcessor
from heyan.serve.tables import Evidence, Ticket
from heyan.serve.workflow import OPEN_STATES, Actor, record
from heyan.vision.inference import detect_image


@dataclass(frozen=True)
class Suggestion:
    class_name: str
    score: float
    box: list[float]  # pixels of the photo as sent


def suggest(processor: FlightProcessor, image: np.ndarray, limit: int = 5) -> list[Suggestion]:
    """The detector's finds on a reported photo, best first: what the page offers as the
    class and draws as the box. Large phone photos are sliced as flights' are."""
    det = processor.detector()
    found = detect_image(image, det, processor.settings.slice_params(det.imgsz))
    names = det.class_names
    order = np.argsort(-np.asarray(found.scores))[:limit]
    return [Suggestion(str(names[int(found.class_ids[i])]), round(float(found.scores[i]), 4),
                       [round(float(v), 1) for v in found.xyxy[i]]) for i in order]


@dataclass(frozen=True)
class ReportOutcome:
    ticket_id: str | None
    outcome: str  # ticket | seen_again | no_ticket | no_network
    reason: str
    segment_id: str | None = None


def _candidates(db: Session, find: Find) -> list[OpenTicket]:
    dlat = SEARCH_RADIUS_M / 111_320.0
    dlon = dlat / max(math.cos(math.radians(find.lat)), 0.01)
    rows = db.execute(sa.select(Ticket.id, Ticket.class_name, Ticket.lat, Ticket.lon, Ticket.error_m, Ticket.state,
                                Ticket.size_m).where(
        Ticket.class_name == find.class_name, Ticket.state.in_(OPEN_STATES),
        Ticket.lon.between(find.lon - dlon, find.lon + dlon), Ticket.lat.between(find.lat - dlat, find.lat + dlat)))
    return [OpenTicket(id=r.id, class_name=r.class_name, lat=r.lat, lon=r.lon, error_m=r.error_m, state=r.state,
                       size_m=r.size_m) for r in rows]


def file_report(db: Session, processor: FlightProcessor, actor: Actor, now: datetime, report_id: str, *, photo_sha: str,
                image_name: str, class_name: str, score: float, box: list[float] | None, lat: float, lon: float,
                error_m: float, note: str | None, extra: dict[str, Any], label: str = "问题上报") -> ReportOutcome:
    """Decide what a report means for tickets and write it (no commit)."""
    ctx = context(db, processor, now)
    if ctx.network is None:
        return ReportOutcome(None, "no_network", "no river network yet: an admin uploads one (POST /api/rivers)")
    find = Find(id=f"report:{report_id}", image=image_name, class_name=class_name, score=score,
                box=(box[0], box[1], box[2], box[3]) if box else (0.0, 0.0, 0.0, 0.0),
                lat=lat, lon=lon, error_m=error_m, time=now.isoformat())
    place = ctx.network.locate_one(lat, lon, MAX_RIVER_DISTANCE_M)
    decision = ctx.rules.evaluate(find, place, now)
    seg = place.segment_id if place else None
    if not decision.ticket:
        return ReportOutcome(None, "no_ticket", decision.reason, seg)
    lock_ticket_writes(db)
    result = dedup_flight([find], f"report/{actor.name}", _candidates(db, find), (), EDGE_DEDUP)
    who = f"{actor.name}"
    ev = Evidence(kind="detection", flight_id=None, find_id=find.id, image_name=image_name[:512], photo_sha=photo_sha,
                  box=box, score=score, lat=lat, lon=lon, error_m=error_m, taken_at=now.isoformat(), comment=note,
                  created_by=actor.name, created_at=now)
    if result.seen_again:
        t = db.get(Ticket, result.seen_again[0][0])
        assert t is not None
        ev.ticket_id, ev.kind = t.id, "seen_again"
        db.add(ev)
        t.n_views += 1
        t.last_seen_at = now
        t.updated_at = now
        record(db, t.id, actor, "seen_again", now, t.state, t.state, f"reported again by {who}{seen_again_note(t.state)}",
               {"report": report_id, "lat": lat, "lon": lon, **extra})
        return ReportOutcome(t.id, "seen_again", "the same problem is already a ticket: the report is added to it", seg)
    if not result.new_tickets:
        return ReportOutcome(None, "no_ticket", "; ".join(r for _, r in result.skipped) or "not usable for a ticket", seg)
    draft = result.new_tickets[0]
    rec = ticket_record(draft, decision, place)
    rec.lat, rec.lon = lat, lon
    rec.evidence = []
    rec.flight_id = None
    rec.extra.update(source=extra.get("source", "report"), report={"id": report_id, "by": actor.name, **extra})
    t = Ticket(id=draft.id, flight_id=None, state="pending_review", found_at=now, created_at=now, updated_at=now,
               last_seen_at=now, best_image=image_name[:512], best_photo_sha=photo_sha, best_crop_sha=None,
               **ticket_values(rec, ctx.version))
    t.best_box = box
    db.add(t)
    db.flush()
    ev.ticket_id = t.id
    db.add(ev)
    record(db, t.id, actor, "created", now, None, "pending_review", f"{label} / reported by {who}: {decision.reason}",
           {"report": report_id, "rule": decision.rule_id, "class": class_name, **extra})
    return ReportOutcome(t.id, "ticket", decision.reason, seg)
