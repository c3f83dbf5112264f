"""Edge events into tickets, by the rules and de-duplication flights use.

An event's ground position (from the camera's calibration, on the box) becomes a
``pipeline.tickets.finds.Find``; ``RiverNetwork.locate`` puts it on the river network in force,
``RuleSet.evaluate`` decides, and ``pipeline.tickets.dedup.dedup_flight`` matches it against the open
tickets around it — a flight's, another camera's, or this camera's own. So debris that a
camera reports at the same place every minute is one ticket whose evidence grows by one row
(the event's snapshot) per event, and a drone flight over the same place later adds to that
same ticket. A newer state of an event already on a ticket refreshes its evidence row.

Events that cannot become tickets are kept with the reason (``EdgeEvent.outcome``):
``no_position`` (no calibration), ``no_network`` (no river network yet), ``no_ticket`` (the
rules said no, e.g. off every river or a boat), ``health`` (a frozen stream).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.geo.rivers import Place, RiverNetwork
from heyan.pipeline.ingest import IngestOptions, ticket_record
from heyan.pipeline.tickets.dedup import OpenTicket, TicketDraft, dedup_flight
from heyan.pipeline.tickets.finds import Find
from heyan.pipeline.tickets.rules import EVENT_CLASSES, Decision, RuleSet
from heyan.serve.importer import seen_again_note, ticket_values
from heyan.serve.processing import FlightProcessor
from heyan.serve.tables import Device, DeviceMedia, EdgeEvent, Evidence, RiverNetworkVersion, Ticket
from heyan.serve.workflow import OPEN_STATES, SYSTEM_ACTOR, record

_FLIGHT = IngestOptions()  # the flights' settings: the same river distance and dedup gate
MAX_RIVER_DISTANCE_M = _FLIGHT.max_river_distance_m  # a find farther from every segment is on no river
# Matching also sees tickets a reviewer rejected that came from this same camera (filtered
# in _candidates): a camera that keeps seeing what was judged not a problem must not raise
# a new ticket every minute. Other rejected tickets stay out, as for flights.
EDGE_DEDUP = replace(_FLIGHT.dedup, inactive_states=frozenset({"closed"}))
DEFAULT_ERROR_M = 10.0  # a position sent without error_m (a calibrated box always sends one)
REGISTERED_OUTFALL_ERROR_M = 5.0  # an outfall event placed at its registered record (一口一档)
SEARCH_RADIUS_M = 500.0  # open tickets fetched around an event; dedup's gate decides which match
# PostgreSQL: one decision at a time (transaction advisory lock), else two events of one
# object arriving together could both find no ticket and make two. SQLite: BEGIN IMMEDIATE.
_TICKET_LOCK = 0x68657961_6E656467  # "heyanedg"


@dataclass
class Context:
    """What deciding needs: the rules, the network in force (None: none uploaded), the time."""

    rules: RuleSet
    network: RiverNetwork | None
    version: int | None
    now: datetime


def context(db: Session, processor: FlightProcessor, now: datetime) -> Context:
    version = db.scalar(sa.select(RiverNetworkVersion.version).where(RiverNetworkVersion.active.is_(True)))
    network = None
    if version is not None:
        network = processor.cached_network(version)
        if network is None:  # first use of this version in this process: read and build it
            geojson = db.scalar(sa.select(RiverNetworkVersion.geojson).where(RiverNetworkVersion.version == version))
            network = processor.network(version, json.loads(geojson or "{}"))
    return Context(processor.rules(), network, version, now)


def rule_class(ev: EdgeEvent) -> str | None:
    """The class the rules see: the detector's for objects, the condition for outfall events;
    None for what is about the camera, not the river (a frozen stream)."""
    if ev.kind == "object":
        return ev.class_name
    return ev.kind if ev.kind in EVENT_CLASSES else None


def camera_label(device: Device, ev: EdgeEvent) -> str:
    return f"{device.name}/{ev.camera_id}"


def position(ev: EdgeEvent, network: RiverNetwork | None) -> tuple[float, float, float, str] | None:
    """(lat, lon, error_m, where from) of an event, or None."""
    if ev.lat is not None and ev.lon is not None:
        return ev.lat, ev.lon, ev.error_m if ev.error_m is not None else DEFAULT_ERROR_M, "calibration"
    if ev.outfall_id and ev.kind in EVENT_CLASSES and network is not None:
        o = next((o for o in network.outfalls if o.id == ev.outfall_id), None)
        if o is not None:
            return float(o.geometry.y), float(o.geometry.x), REGISTERED_OUTFALL_ERROR_M, f"registered outfall {o.id}"
    return None


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _last_time(ev: EdgeEvent) -> datetime:
    return max(t for t in (ev.started_at, ev.updated_at, ev.ended_at) if t is not None)


def _media(db: Session, device: Device, sha: str | None) -> str | None:
    """A snapshot this box uploaded (it PUTs it before the event; one refused is absent). A
    hash of someone else's file (a flight photo, another box's snapshot) is not attached."""
    return sha if sha and db.get(DeviceMedia, (device.id, sha)) is not None else None


def lock_ticket_writes(db: Session) -> None:
    """One writer of single-find tickets (edge events, reports) at a time, so two finds of one
    problem cannot both make a new ticket (PostgreSQL; SQLite writes one at a time anyway)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.select(sa.func.pg_advisory_xact_lock(_TICKET_LOCK)))


def _describe(ev: EdgeEvent, label: str) -> str:
    what = ev.class_name if ev.kind == "object" else ev.kind
    score = f" {ev.score:.2f}" if ev.score is not None else ""
    outfall = f" at outfall {ev.outfall_id}" if ev.outfall_id else ""
    span = f"{_iso(ev.started_at)} – {_iso(ev.ended_at) or 'ongoing'}"
    return f"edge camera {label}: {what}{score}{outfall}, {span} (event {ev.event_id}, seq {ev.seq})"


def _candidates(db: Session, find: Find, device: Device, ev: EdgeEvent) -> list[OpenTicket]:
    """Tickets near the find that it may belong to (same class; open, or rejected and from
    this camera). A bounding box on the (lon, lat) index, generous: dedup decides."""
    dlat = SEARCH_RADIUS_M / 111_320.0
    dlon = dlat / max(math.cos(math.radians(find.lat)), 0.01)
    rows = db.execute(sa.select(Ticket.id, Ticket.class_name, Ticket.lat, Ticket.lon, Ticket.error_m, Ticket.state,
                                Ticket.size_m, Ticket.properties).where(
        Ticket.class_name == find.class_name, Ticket.state.in_((*OPEN_STATES, "rejected")),
        Ticket.lon.between(find.lon - dlon, find.lon + dlon), Ticket.lat.between(find.lat - dlat, find.lat + dlat)))
    out = []
    for r in rows:
        if r.state == "rejected":
            src = (r.properties or {}).get("edge") or {}
            if src.get("device_id") != device.id or src.get("camera") != ev.camera_id:
                continue
        out.append(OpenTicket(id=r.id, class_name=r.class_name, lat=r.lat, lon=r.lon, error_m=r.error_m, state=r.state,
                              size_m=r.size_m))
    return out


def _model_of(ev: EdgeEvent) -> dict[str, str | None]:
    """The detector the box says made the event (details.model, edge.model_sync), for the ticket."""
    m = (ev.details or {}).get("model")
    if not isinstance(m, dict):
        return {}
    name, sha = m.get("name"), m.get("sha256")
    return {"model_name": str(name)[:256] if name else None,
            "model_sha256": sha if isinstance(sha, str) and len(sha) == 64 else None}


def _evidence(db: Session, ticket_id: str, ev: EdgeEvent, device: Device, kind: str, pos: tuple[float, float, float],
              now: datetime) -> Evidence:
    """The event's evidence row on the ticket: one per event (find_id ``edge:<row id>``),
    refreshed in place by the event's newer states."""
    key = f"edge:{ev.id}"
    row = db.scalar(sa.select(Evidence).where(Evidence.ticket_id == ticket_id, Evidence.find_id == key))
    if row is None:
        row = Evidence(ticket_id=ticket_id, kind=kind, flight_id=None, find_id=key, created_by=SYSTEM_ACTOR.name,
                       created_at=now)
        db.add(row)
    label = camera_label(device, ev)
    row.image_name = label
    row.photo_sha = _media(db, device, ev.snapshot_sha256)
    row.crop_sha = _media(db, device, ev.crop_sha256)
    row.box = ev.box
    row.score = ev.score
    row.lat, row.lon, row.error_m = pos
    row.taken_at = _iso(ev.started_at)
    row.comment = _describe(ev, label)
    return row


def _create(db: Session, ev: EdgeEvent, device: Device, draft: TicketDraft, decision: Decision, place: Place | None,
            ctx: Context, pos: tuple[float, float, float]) -> str:
    rec = ticket_record(draft, decision, place)
    rec.lat, rec.lon = draft.lat, draft.lon  # the event's own position, not the file's rounding
    rec.evidence = []  # the event is the evidence (rows of its own)
    label = camera_label(device, ev)
    rec.flight_id = None
    rec.extra.update(source="edge", edge={"device": device.name, "device_id": device.id, "camera": ev.camera_id,
                                          "event_id": ev.event_id, "outfall_id": ev.outfall_id})
    t = Ticket(id=draft.id, flight_id=None, state="pending_review", found_at=ev.started_at, created_at=ctx.now,
               updated_at=ctx.now, last_seen_at=_last_time(ev), best_image=label,
               best_photo_sha=_media(db, device, ev.snapshot_sha256), best_crop_sha=_media(db, device, ev.crop_sha256),
               **_model_of(ev), **ticket_values(rec, ctx.version))
    db.add(t)
    db.flush()
    record(db, t.id, SYSTEM_ACTOR, "created", ctx.now, None, "pending_review", f"edge camera {label}: {decision.reason}",
           {"device": device.name, "camera": ev.camera_id, "event_id": ev.event_id, "rule": decision.rule_id,
            "score": ev.score})
    _evidence(db, t.id, ev, device, "detection", pos, ctx.now)
    return t.id


def _seen_again(db: Session, t: Ticket, ev: EdgeEvent, device: Device, pos: tuple[float, float, float], now: datetime) -> None:
    _evidence(db, t.id, ev, device, "seen_again", pos, now)
    t.last_seen_at = max(x for x in (t.last_seen_at, _last_time(ev)) if x is not None)
    t.updated_at = now
    t.n_views += 1
    label = camera_label(device, ev)
    record(db, t.id, SYSTEM_ACTOR, "seen_again", now, t.state, t.state,
           f"seen again by edge camera {label}{seen_again_note(t.state)}",
           {"device": device.name, "camera": ev.camera_id, "event_id": ev.event_id, "lat": pos[0], "lon": pos[1],
            "score": ev.score})


def _refresh(db: Session, ev: EdgeEvent, device: Device, ctx: Context) -> None:
    """A newer state of an event already on a ticket (a better snapshot, its end)."""
    t = db.get(Ticket, ev.ticket_id)
    if t is None:
        return
    where = position(ev, ctx.network)
    old = db.scalar(sa.select(Evidence).where(Evidence.ticket_id == t.id, Evidence.find_id == f"edge:{ev.id}"))
    if where is not None:
        pos = where[:3]
    elif old is not None and old.lat is not None and old.lon is not None:
        pos = (old.lat, old.lon, old.error_m if old.error_m is not None else DEFAULT_ERROR_M)
    else:
        return
    row = _evidence(db, t.id, ev, device, old.kind if old is not None else "seen_again", pos, ctx.now)
    t.last_seen_at = max(x for x in (t.last_seen_at, _last_time(ev)) if x is not None)
    # The box sends an update when it has a better snapshot: the ticket this event made shows
    # it, while nobody has reviewed the ticket yet.
    if ev.outcome == "ticket" and t.state == "pending_review" and row.photo_sha and (ev.score or 0) >= t.score:
        t.best_photo_sha, t.best_crop_sha, t.best_box = row.photo_sha, row.crop_sha, ev.box
        t.score = float(ev.score if ev.score is not None else t.score)
    t.updated_at = ctx.now


def _outcome(ev: EdgeEvent, outcome: str, reason: str) -> None:
    ev.outcome, ev.reason = outcome, reason
    ev.rule = ev.category = ev.segment_id = None
    ev.ticket_id = None


def apply(db: Session, ev: EdgeEvent, device: Device, ctx: Context) -> None:
    """Decide what a stored event means for tickets (its first state, or a later one while it
    has no ticket yet: a river network may have been uploaded since), or refresh its evidence."""
    if ev.ticket_id is not None:
        _refresh(db, ev, device, ctx)
        return
    cls = rule_class(ev)
    if cls is None:
        if ev.kind == "stream_frozen":
            _outcome(ev, "health", "the camera's picture froze: a device problem (see the device's health), not a ticket")
        else:
            _outcome(ev, "no_ticket", "object event without a class")
        return
    pos = position(ev, ctx.network)
    if pos is None:
        _outcome(ev, "no_position", "no ground position: the camera has no calibration (heyan calibrate, then the camera's "
                                    "calibration in the box's config), so the event cannot be placed on a river")
        return
    if ctx.network is None:
        _outcome(ev, "no_network", "no river network yet: an admin uploads one (POST /api/rivers)")
        return
    lat, lon, err, source = pos
    label = camera_label(device, ev)
    find = Find(id=f"edge:{ev.event_id}", image=label, class_name=cls,
                score=float(ev.score) if ev.score is not None else 1.0,  # a measured condition, not a guess
                box=tuple(ev.box) if ev.box else (0.0, 0.0, 0.0, 0.0),
                lat=lat, lon=lon, error_m=err, time=_iso(ev.started_at))
    place = ctx.network.locate_one(lat, lon, MAX_RIVER_DISTANCE_M)
    decision = ctx.rules.evaluate(find, place, ev.started_at)
    ev.rule, ev.category = decision.rule_id, decision.category
    ev.segment_id = place.segment_id if place else None
    ev.network_version = ctx.version
    ev.reason = decision.reason if source == "calibration" else f"{decision.reason} (placed at {source})"
    if not decision.ticket:
        ev.outcome, ev.ticket_id = "no_ticket", None
        return
    lock_ticket_writes(db)
    flight_key = f"edge/{device.id}"  # the dedup "flight" of this box: ticket ids are stable per event
    result = dedup_flight([find], flight_key, _candidates(db, find, device, ev), (), EDGE_DEDUP)
    p3 = (lat, lon, err)
    if result.seen_again:
        t = db.get(Ticket, result.seen_again[0][0])
        assert t is not None
        _seen_again(db, t, ev, device, p3, ctx.now)
        ev.outcome, ev.ticket_id = "seen_again", t.id
    elif result.new_tickets:
        ev.ticket_id = _create(db, ev, device, result.new_tickets[0], decision, place, ctx, p3)
        ev.outcome = "ticket"
    else:  # dedup refused the find (an invalid number): kept, with dedup's reason
        ev.outcome, ev.ticket_id = "no_ticket", None
        ev.reason = "; ".join(r for _, r in result.skipped) or "not usable for a ticket"
