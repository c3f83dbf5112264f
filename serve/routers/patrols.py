"""/api/patrols: 巡河 tracks from the chiefs' phones. The server keeps each track on its
segment with the figures pipeline.geo.patrol computes (length, duration, coverage,
plausibility flags), and sums them per segment and per chief for the assessment."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from heyan.pipeline.geo.patrol import PatrolLimits, TrackPoint, patrol_figures
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.schemas.patrols import (
    PatrolDetail,
    PatrolIn,
    PatrolOut,
    PatrolPage,
    PatrolReport,
    PatrolStats,
    PatrolStatsRow,
)
from heyan.serve.tables import AuditEntry, Patrol, RiverNetworkVersion
from heyan.vision.common import BEIJING

router = APIRouter(prefix="/api/patrols", tags=["patrols"])
_OUT_FIELDS = tuple(PatrolOut.model_fields)


def _out(p: Patrol) -> PatrolOut:
    return PatrolOut(**{k: getattr(p, k) for k in _OUT_FIELDS})


def _segment(db: Session, request: Request, segment_id: str) -> tuple[Any, int]:
    net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    if net is None:
        raise ApiError(409, "no river network yet: an admin uploads one first", code="no_network")
    network = app_state(request).processor.network(net.version, json.loads(net.geojson))
    seg = next((s for s in network.segments if s.id == segment_id), None)
    if seg is None:
        raise ApiError(422, f"segment {segment_id!r} is not in the river network in force", code="no_segment")
    return seg, net.version


@router.post("", response_model=PatrolOut, status_code=201,
             summary="Upload one finished patrol (its GPS track); the same id again returns the stored one (200)")
def upload_patrol(body: PatrolIn, request: Request, response: Response, p: Principal = Depends(require("patrols.write")),
                  db: Session = Depends(get_db)) -> PatrolOut:
    old = db.get(Patrol, body.id)
    if old is not None:
        if old.username != p.name:
            raise ApiError(409, f"patrol id {body.id!r} belongs to another user", code="patrol_id_taken")
        response.status_code = 200  # a retry from the phone's offline queue
        return _out(old)
    segs = p.segments()
    if segs is not None and body.segment_id not in segs:
        raise ApiError(403, f"segment {body.segment_id!r} is not yours", code="not_your_segment")
    seg, version = _segment(db, request, body.segment_id)
    cfg = app_state(request).config
    pts = [TrackPoint.from_list(x) for x in body.points]
    fig = patrol_figures(pts, seg.line, PatrolLimits(cfg.patrol_near_river_m, cfg.patrol_max_speed_kmh, cfg.patrol_max_jump_m))
    times = sorted(x.t_ms for x in pts)
    row = Patrol(id=body.id, username=p.name, segment_id=seg.id, segment_name=seg.name, river=seg.river,
                 network_version=version, started_at=datetime.fromtimestamp(times[0] / 1000, UTC),
                 ended_at=datetime.fromtimestamp(times[-1] / 1000, UTC), points=sorted(body.points, key=lambda x: x[0] or 0),
                 n_points=fig.n_points, length_m=fig.length_m, duration_s=fig.duration_s, coverage=fig.coverage,
                 near_river=fig.near_river, max_speed_kmh=fig.max_speed_kmh, flags=list(fig.flags),
                 plausible=fig.plausible, note=body.note, uploaded_at=app_state(request).clock.now())
    db.add(row)
    db.commit()
    return _out(row)


def _where(p: Principal, segment_id: str | None, username: str | None, date_from: date | None,
           date_to: date | None) -> list[Any]:
    c: list[Any] = []
    segs = p.segments()
    if segs is not None:  # a chief: his segments' patrols
        c.append(Patrol.segment_id.in_(segs) if segs else sa.false())
    if segment_id:
        c.append(Patrol.segment_id == segment_id)
    if username:
        c.append(Patrol.username == username)
    if date_from:
        c.append(Patrol.started_at >= datetime.combine(date_from, time(0), BEIJING))
    if date_to:
        c.append(Patrol.started_at < datetime.combine(date_to + timedelta(days=1), time(0), BEIJING))
    return c


@router.get("", response_model=PatrolPage, summary="Patrols, newest first (a chief: on his segments)")
def list_patrols(segment_id: str | None = Query(None, max_length=128), username: str | None = Query(None, max_length=64),
                 date_from: date | None = Query(None, description="Started on or after (Beijing date)"),
                 date_to: date | None = Query(None, description="Started on or before (Beijing date)"),
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**7),
                 p: Principal = Depends(require("patrols.read")), db: Session = Depends(get_db)) -> PatrolPage:
    where = _where(p, segment_id, username, date_from, date_to)
    total = db.scalar(sa.select(sa.func.count()).select_from(Patrol).where(*where)) or 0
    rows = db.scalars(sa.select(Patrol).where(*where).order_by(Patrol.started_at.desc(), Patrol.id).limit(limit).offset(offset))
    return PatrolPage(items=[_out(r) for r in rows], total=total)


@router.get("/stats", response_model=PatrolStats,
            summary="巡河 assessment: patrols (巡河次数), kilometres (里程) and coverage (覆盖率) per segment and per chief")
def patrol_stats(segment_id: str | None = Query(None, max_length=128), username: str | None = Query(None, max_length=64),
                 date_from: date | None = Query(None), date_to: date | None = Query(None),
                 p: Principal = Depends(require("patrols.read")), db: Session = Depends(get_db)) -> PatrolStats:
    q = sa.select(Patrol.segment_id, Patrol.segment_name, Patrol.username, Patrol.plausible, Patrol.length_m,
                  Patrol.duration_s, Patrol.coverage).where(*_where(p, segment_id, username, date_from, date_to))
    by_seg: dict[str, dict[str, Any]] = defaultdict(lambda: {"name": None, "n": 0, "bad": 0, "m": 0.0, "s": 0.0, "cov": []})
    by_chief: dict[str, dict[str, Any]] = defaultdict(lambda: {"name": None, "n": 0, "bad": 0, "m": 0.0, "s": 0.0, "cov": []})
    for seg, seg_name, user, ok, length, dur, cov in db.execute(q):
        for key, name, groups in ((seg, seg_name, by_seg), (user, user, by_chief)):
            g = groups[key]
            g["name"] = name
            if not ok:  # a patrol on paper counts for nothing but its flag
                g["bad"] += 1
                continue
            g["n"] += 1
            g["m"] += length
            g["s"] += dur
            g["cov"].append(cov)

    def rows(groups: dict[str, dict[str, Any]]) -> list[PatrolStatsRow]:
        return [PatrolStatsRow(key=k, name=g["name"], patrols=g["n"], flagged=g["bad"], length_km=round(g["m"] / 1000, 3),
                               hours=round(g["s"] / 3600, 2),
                               coverage=round(sum(g["cov"]) / len(g["cov"]), 4) if g["cov"] else None)
                for k, g in sorted(groups.items())]

    return PatrolStats(by_segment=rows(by_seg), by_chief=rows(by_chief))


@router.get("/{patrol_id}", response_model=PatrolDetail, summary="One patrol with its track")
def get_patrol(patrol_id: str, p: Principal = Depends(require("patrols.read")), db: Session = Depends(get_db)) -> PatrolDetail:
    row = db.get(Patrol, patrol_id)
    segs = p.segments()
    if row is None or (segs is not None and row.segment_id not in segs):
        raise ApiError(404, f"no patrol {patrol_id!r}", code="no_patrol")
    # Reports made during the patrol name it in their audit entry (serve.reports).
    found = db.execute(sa.select(AuditEntry.ticket_id, AuditEntry.at, AuditEntry.action).where(
        AuditEntry.action.in_(("created", "seen_again")), AuditEntry.at >= row.started_at,
        sa.cast(AuditEntry.data, sa.Text).contains(f'"patrol_id": "{row.id}"')).order_by(AuditEntry.at))
    return PatrolDetail(**_out(row).model_dump(), points=row.points,
                        reports=[PatrolReport(ticket_id=t or "", at=at, action=a) for t, at, a in found if t])
