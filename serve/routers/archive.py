"""/api/archive: 一河一档 — per river segment, everything the office keeps about it: the
chiefs by level and their contacts, the management zone, the tickets over time, the
patrols, the flights that found something on it, and its registered outfalls (一口一档)
with their cameras, events and last inspection."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from pyproj import Geod
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.schemas.archive import (
    ChiefOut,
    FlightBrief,
    MonthCount,
    OutfallOut,
    PatrolBrief,
    RiverIndex,
    SegmentArchive,
    TicketBrief,
    ZoneOut,
)
from heyan.serve.tables import DetectionRow, Device, EdgeEvent, Flight, Patrol, RiverNetworkVersion, Ticket
from heyan.serve.ticket_query import TicketFilter
from heyan.serve.workflow import LEVELS, OPEN_STATES
from heyan.vision.common import BEIJING

router = APIRouter(prefix="/api/archive", tags=["archive"])
_GEOD = Geod(ellps="WGS84")


def _network(db: Session, request: Request) -> tuple[Any, int]:
    net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    if net is None:
        raise ApiError(404, "no river network yet", code="no_network")
    return app_state(request).processor.network(net.version, json.loads(net.geojson)), net.version


def _allowed(p: Principal, segment_id: str) -> bool:
    segs = p.segments()
    return segs is None or segment_id in segs


@router.get("/rivers", response_model=list[RiverIndex], summary="Rivers and their segments (a chief: his own)")
def rivers(request: Request, p: Principal = Depends(require("archive.read")), db: Session = Depends(get_db)) -> list[RiverIndex]:
    network, _ = _network(db, request)
    by: dict[str, list[dict[str, Any]]] = {}
    for s in network.segments:
        if _allowed(p, s.id):
            first = s.chiefs.first_responsible()
            by.setdefault(s.river or "—", []).append({"id": s.id, "name": s.name, "chief": first[1].name if first else None})
    return [RiverIndex(river=r, segments=segs) for r, segs in sorted(by.items())]


@router.get("/segments/{segment_id}", response_model=SegmentArchive, summary="一河一档 of one segment")
def segment_archive(segment_id: str, request: Request, p: Principal = Depends(require("archive.read")),
                    db: Session = Depends(get_db)) -> SegmentArchive:
    network, version = _network(db, request)
    seg = next((s for s in network.segments if s.id == segment_id), None)
    if seg is None or not _allowed(p, segment_id):
        raise ApiError(404, f"no segment {segment_id!r} in the network in force", code="no_segment")
    chiefs = [ChiefOut(level=lv, name=c.name, phone=c.phone, department=c.department)
              for lv in LEVELS if (c := getattr(seg.chiefs, lv)) is not None]
    zone = network.zone_polygons_lonlat().get(seg.id)
    drawn = any(z.segment_id == seg.id and z.zone_type == "management" for z in network.zones)
    zones = [ZoneOut(kind="management", area_m2=round(abs(_GEOD.geometry_area_perimeter(zone)[0]), 1),
                     source="polygon" if drawn else "buffer")] if zone is not None else []
    zones += [ZoneOut(kind="water", area_m2=round(abs(_GEOD.geometry_area_perimeter(z.geometry)[0]), 1), source="polygon")
              for z in network.zones if z.segment_id == seg.id and z.zone_type == "water"]

    where = TicketFilter(segment_id=[seg.id]).where(p)
    by_state: dict[str, int] = {s: n for s, n in db.execute(
        sa.select(Ticket.state, sa.func.count()).where(*where).group_by(Ticket.state)).all()}
    months_found: Counter[str] = Counter()
    months_closed: Counter[str] = Counter()
    for found, closed in db.execute(sa.select(Ticket.found_at, Ticket.closed_at).where(*where)):
        months_found[found.astimezone(BEIJING).strftime("%Y-%m")] += 1
        if closed is not None:
            months_closed[closed.astimezone(BEIJING).strftime("%Y-%m")] += 1
    months = sorted(set(months_found) | set(months_closed))[-24:]
    recent = db.scalars(sa.select(Ticket).where(*where).order_by(Ticket.found_at.desc()).limit(20)).all()

    pq = sa.select(Patrol).where(Patrol.segment_id == seg.id)
    pats = db.scalars(pq.order_by(Patrol.started_at.desc())).all()
    ok = [x for x in pats if x.plausible]
    patrols = {"patrols": len(ok), "flagged": len(pats) - len(ok), "length_km": round(sum(x.length_m for x in ok) / 1000, 3),
               "coverage": round(sum(x.coverage for x in ok) / len(ok), 4) if ok else None,
               "last_at": pats[0].started_at.isoformat() if pats else None}

    flights = []
    if p.role != "chief":  # flights are the office's; a chief sees their tickets
        rows = db.execute(sa.select(Flight.id, Flight.name, Flight.created_at, sa.func.count(DetectionRow.id))
                          .join(DetectionRow, DetectionRow.flight_id == Flight.id)
                          .where(DetectionRow.segment_id == seg.id)
                          .group_by(Flight.id, Flight.name, Flight.created_at).order_by(Flight.created_at.desc()).limit(50))
        flights = [FlightBrief(id=i, name=n, created_at=c, detections=k) for i, n, c, k in rows]

    outfalls = []
    for o in network.outfalls:
        if o.segment_id != seg.id:
            continue
        ev = db.execute(sa.select(sa.func.count(EdgeEvent.id), sa.func.max(EdgeEvent.started_at))
                        .where(EdgeEvent.outfall_id == o.id)).one()
        cams = [f"{d}/{c}" for d, c in db.execute(
            sa.select(Device.name, EdgeEvent.camera_id).join(Device, Device.id == EdgeEvent.device_id)
            .where(EdgeEvent.outfall_id == o.id).distinct())]
        near = TicketFilter(segment_id=[seg.id], bbox=f"{o.geometry.x - 3e-4},{o.geometry.y - 3e-4},"
                                                       f"{o.geometry.x + 3e-4},{o.geometry.y + 3e-4}").where(p)
        last_ticket = db.scalar(sa.select(sa.func.max(Ticket.found_at)).where(*near))
        open_n = db.scalar(sa.select(sa.func.count()).select_from(Ticket).where(*near, Ticket.state.in_(OPEN_STATES))) or 0
        last = max((x for x in (ev[1], last_ticket) if x is not None), default=None)
        outfalls.append(OutfallOut(id=o.id, name=o.name, outfall_type=o.outfall_type, lat=float(o.geometry.y),
                                   lon=float(o.geometry.x), cameras=list(cams), events=int(ev[0] or 0),
                                   last_event_at=ev[1], last_inspection_at=last, open_tickets=open_n))

    return SegmentArchive(
        id=seg.id, name=seg.name, river=seg.river, length_m=round(float(_GEOD.geometry_length(seg.line)), 1),
        network_version=version, chiefs=chiefs, zones=zones, tickets_by_state=by_state,
        tickets_by_month=[MonthCount(month=m, found=months_found[m], closed=months_closed[m]) for m in months],
        recent_tickets=[TicketBrief(id=t.id, state=t.state, category=t.category, category_zh=t.category_zh,
                                    found_at=t.found_at, deadline=t.deadline, overdue=t.overdue) for t in recent],
        patrols=patrols,
        recent_patrols=[PatrolBrief(id=x.id, username=x.username, started_at=x.started_at, length_m=x.length_m,
                                    duration_s=x.duration_s, coverage=x.coverage, plausible=x.plausible, flags=list(x.flags))
                        for x in pats[:10]],
        flights=flights, outfalls=outfalls)
