"""Hand labels of frames: what a frame is (a flight photo, an edge snapshot, a ticket's
picture), the detections already on it, and saving a new label version.

A save never changes an old version: it adds ``FrameLabel`` version n+1 with who and when.
A box that came from a ticket's detection keeps its ``ticket_id``; when a person who may
review tickets changes its class, the ticket's class follows and its category, severity and
deadline days are those the rules give that class (``category_for_class``), with an audit
entry. Deleting such a box only labels the frame: the ticket is decided in the review
queue (a deleted box is a wrong detection there too, but rejecting is a review decision)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.tickets.rules import RuleSet
from heyan.serve.tables import AuditEntry, DetectionRow, Device, EdgeEvent, Evidence, FlightPhoto, FrameLabel, Ticket
from heyan.serve.workflow import Actor
from heyan.vision.classes import class_names

ORIGINS = ("detection", "drawn")
EDGE_SLACK_PX = 1.0  # as serve.label_export: a box may end one pixel past the frame
MAX_BOXES = 2000


class LabelError(Exception):
    """A save that cannot be taken: ``code`` is the API's stable error code, ``field`` the
    part of the request at fault (``boxes[3].box``)."""

    def __init__(self, status: int, code: str, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.where = status, code, where


@dataclass(frozen=True)
class FrameInfo:
    """What the server knows of one picture: where it came from, for the page and the queues."""

    sha: str
    kind: str  # flight_photo | edge_snapshot | evidence
    name: str
    source: str  # flight:<id> | camera:<device>/<camera> | ticket:<id>: the queues' "site"
    flight_id: str | None = None
    segment_id: str | None = None
    taken_at: datetime | None = None


def frame_info(db: Session, sha: str) -> FrameInfo | None:
    photo = db.execute(sa.select(FlightPhoto.flight_id, FlightPhoto.name).where(FlightPhoto.sha256 == sha).limit(1)).first()
    if photo is not None:
        seg = db.scalar(sa.select(DetectionRow.segment_id).where(DetectionRow.photo_sha == sha,
                                                                 DetectionRow.segment_id.is_not(None)).limit(1))
        return FrameInfo(sha, "flight_photo", photo.name, f"flight:{photo.flight_id}", photo.flight_id, seg)
    ev = db.execute(sa.select(Device.name, EdgeEvent.camera_id, EdgeEvent.segment_id, EdgeEvent.started_at)
                    .join(Device, Device.id == EdgeEvent.device_id)
                    .where(EdgeEvent.snapshot_sha256 == sha).order_by(EdgeEvent.id).limit(1)).first()
    if ev is not None:
        return FrameInfo(sha, "edge_snapshot", f"{ev.name}/{ev.camera_id}", f"camera:{ev.name}/{ev.camera_id}",
                         None, ev.segment_id, ev.started_at)
    tev = db.execute(sa.select(Evidence.ticket_id, Evidence.image_name, Ticket.segment_id)
                     .join(Ticket, Ticket.id == Evidence.ticket_id).where(Evidence.photo_sha == sha).limit(1)).first()
    if tev is not None:
        return FrameInfo(sha, "evidence", tev.image_name or tev.ticket_id, f"ticket:{tev.ticket_id}", None, tev.segment_id)
    return None


def detections_on(db: Session, sha: str) -> list[dict[str, Any]]:
    """The machine's boxes on this frame, as starting labels: the flight's detections (with
    their ticket if one was made), ticket views not among them, and edge events' boxes."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[float, ...]] = set()

    def add(cls: str, box: Any, score: float | None, ticket_id: str | None) -> None:
        try:
            b = tuple(round(float(v), 2) for v in box)
        except (TypeError, ValueError):
            return
        if len(b) != 4 or b in seen:
            return
        seen.add(b)
        out.append({"class": cls, "box": list(b), "score": score, "ticket_id": ticket_id, "origin": "detection"})

    for r in db.execute(sa.select(DetectionRow.class_name, DetectionRow.box, DetectionRow.score, DetectionRow.ticket_id)
                        .where(DetectionRow.photo_sha == sha).order_by(DetectionRow.id)):
        add(r.class_name, r.box, r.score, r.ticket_id)
    for r in db.execute(sa.select(Ticket.class_name, Evidence.box, Evidence.score, Evidence.ticket_id)
                        .join(Ticket, Ticket.id == Evidence.ticket_id)
                        .where(Evidence.photo_sha == sha, Evidence.kind.in_(("detection", "seen_again")))
                        .order_by(Evidence.id)):
        add(r.class_name, r.box, r.score, r.ticket_id)
    for r in db.execute(sa.select(EdgeEvent.class_name, EdgeEvent.box, EdgeEvent.score, EdgeEvent.ticket_id)
                        .where(EdgeEvent.snapshot_sha256 == sha, EdgeEvent.class_name.is_not(None),
                               EdgeEvent.box.is_not(None)).order_by(EdgeEvent.id)):
        add(str(r.class_name), r.box, r.score, r.ticket_id)
    return out


def latest(db: Session, sha: str) -> FrameLabel | None:
    return db.scalar(sa.select(FrameLabel).where(FrameLabel.photo_sha == sha).order_by(FrameLabel.version.desc()).limit(1))


def check_boxes(boxes: list[dict[str, Any]], width: int, height: int) -> list[dict[str, Any]]:
    """The boxes as stored: known class, four finite numbers with area, inside the frame
    (clipped within the slack). The first bad one is refused, named by its index."""
    if len(boxes) > MAX_BOXES:
        raise LabelError(422, "too_many_boxes", f"{len(boxes)} boxes in one frame; at most {MAX_BOXES}", "boxes")
    known = set(class_names())
    out = []
    for i, b in enumerate(boxes):
        cls = b.get("class")
        if cls not in known:
            raise LabelError(422, "unknown_class", f"boxes[{i}].class: {cls!r} is not one of {', '.join(class_names())}",
                             f"boxes[{i}].class")
        try:
            x1, y1, x2, y2 = (float(v) for v in b.get("box", ()))
        except (TypeError, ValueError):
            raise LabelError(422, "bad_box", f"boxes[{i}].box: expected four numbers [x1, y1, x2, y2]", f"boxes[{i}].box") from None
        s = EDGE_SLACK_PX
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)) or x2 <= x1 or y2 <= y1:
            raise LabelError(422, "bad_box", f"boxes[{i}].box: [{x1:g}, {y1:g}, {x2:g}, {y2:g}] has no area", f"boxes[{i}].box")
        if x1 < -s or y1 < -s or x2 > width + s or y2 > height + s:
            raise LabelError(422, "bad_box", f"boxes[{i}].box: [{x1:g}, {y1:g}, {x2:g}, {y2:g}] lies outside the "
                                             f"{width}x{height} frame", f"boxes[{i}].box")
        c = [round(max(0.0, x1), 2), round(max(0.0, y1), 2), round(min(float(width), x2), 2), round(min(float(height), y2), 2)]
        item: dict[str, Any] = {"class": cls, "box": c, "origin": b.get("origin") if b.get("origin") in ORIGINS else "drawn"}
        if b.get("ticket_id"):
            item["ticket_id"] = str(b["ticket_id"])
        if isinstance(b.get("score"), (int, float)) and math.isfinite(b["score"]):
            item["score"] = float(b["score"])
        out.append(item)
    return out


def category_for_class(rules: RuleSet, class_name: str) -> tuple[str, str, str, int] | None:
    """(category, Chinese name, severity, deadline days) a person means when he says an
    object is of this class: the first rule naming the class with a category. The place
    conditions of the rules decided whether the machine made a ticket at all; a person who
    relabels a ticket's box says what the object is, not whether it is a problem (that is
    the review's confirm or reject). None: the class never makes a ticket (a boat)."""
    for rule in rules.rules:
        if class_name in rule.classes and rule.category is not None:
            cat = rules.categories[rule.category]
            return cat.id, cat.name_zh, cat.severity, cat.deadline_days
    return None


@dataclass
class Saved:
    label: FrameLabel
    tickets_changed: list[str] = field(default_factory=list)


def save(db: Session, sha: str, width: int, height: int, boxes: list[dict[str, Any]], complete: bool,
         base_version: int | None, actor: Actor, now: datetime, rules: RuleSet, may_review: bool,
         source: str | None = None, comment: str | None = None) -> Saved:
    """Store a new label version. ``base_version`` is the version the person started from:
    if someone saved in between, the save is refused (409) rather than silently undoing it."""
    clean = check_boxes(boxes, width, height)
    prev = latest(db, sha)
    current = prev.version if prev else None
    if base_version != current:
        raise LabelError(409, "label_conflict", f"frame {sha[:16]}: labels were saved as version {current} by "
                                                f"{prev.created_by if prev else '?'} since you opened version {base_version}; reload")
    on_frame = {t for t in db.scalars(sa.select(Evidence.ticket_id).where(Evidence.photo_sha == sha))}
    on_frame |= {t for t in db.scalars(sa.select(DetectionRow.ticket_id).where(DetectionRow.photo_sha == sha)) if t}
    on_frame |= {t for t in db.scalars(sa.select(EdgeEvent.ticket_id).where(EdgeEvent.snapshot_sha256 == sha)) if t}
    for i, b in enumerate(clean):
        if "ticket_id" in b and b["ticket_id"] not in on_frame:
            raise LabelError(422, "label_ticket_not_on_frame", f"boxes[{i}].ticket_id: ticket {b['ticket_id']} has no "
                                                               f"view on this frame", f"boxes[{i}].ticket_id")
    label = FrameLabel(photo_sha=sha, version=(current or 0) + 1, width=width, height=height, boxes=clean,
                       complete=complete, source=source, comment=comment, created_by=actor.name, created_at=now)
    db.add(label)
    changed = _follow_classes(db, clean, actor, now, rules, label.version) if may_review else []
    db.flush()
    return Saved(label, changed)


def _follow_classes(db: Session, boxes: list[dict[str, Any]], actor: Actor, now: datetime, rules: RuleSet,
                    version: int) -> list[str]:
    changed = []
    for b in boxes:
        tid = b.get("ticket_id")
        ticket = db.get(Ticket, tid) if tid else None
        if ticket is None or ticket.class_name == b["class"]:
            continue
        data: dict[str, Any] = {"from_class": ticket.class_name, "to_class": b["class"], "from_category": ticket.category,
                                "label_version": version}
        ticket.class_name = b["class"]
        cat = category_for_class(rules, b["class"])
        if cat is not None:
            ticket.category, ticket.category_zh, ticket.severity, ticket.deadline_days = cat
        data["to_category"] = ticket.category
        ticket.updated_at = now
        db.add(AuditEntry(ticket_id=ticket.id, at=now, actor=actor.name, action="relabel", from_state=ticket.state,
                          to_state=ticket.state, comment=None, data=data))
        changed.append(ticket.id)
    return changed
