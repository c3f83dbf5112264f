"""/api/rivers: the river network (GeoJSON, docs/rivers.md), validated by pipeline.geo.rivers and
versioned: each upload that differs from the one in force becomes a new version; tickets
keep the version they were made on."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from heyan.pipeline.geo.rivers import RiverNetwork, RiverNetworkError
from heyan.pipeline.geo.rivers_problems import problem
from heyan.serve.deps import DbId, Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.schemas.rivers import RiverNetworkOut, SegmentOut
from heyan.serve.tables import RiverNetworkVersion

router = APIRouter(prefix="/api/rivers", tags=["rivers"])
log = logging.getLogger("heyan.serve.rivers")
GEOJSON = "application/geo+json"


def check_json_size(request: Request) -> None:
    length = request.headers.get("content-length")
    limit = app_state(request).config.max_json_bytes
    if length and length.isdigit() and int(length) > limit:
        raise ApiError(413, f"body of {length} bytes exceeds the limit of {limit} bytes")


def _problems(lines: list[str], geojson: dict[str, Any]) -> list[dict[str, Any]]:
    """Each problem line as data (feature index, id, field, code), with the feature's name
    from the file so the viewer can name the feature an office knows."""
    raw = geojson.get("features")
    feats: list[Any] = raw if isinstance(raw, list) else []
    out = []
    for line in lines:
        d = problem(line).to_dict()
        i = d["index"]
        props = feats[i].get("properties") if i is not None and i < len(feats) and isinstance(feats[i], dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        d["name"] = name if isinstance(name, str) else None
        out.append(d)
    return out


def _active(db: Session) -> RiverNetworkVersion:
    net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    if net is None:
        raise ApiError(404, "no river network yet: an admin uploads one with POST /api/rivers", code="no_network")
    return net


@router.get("", response_model=list[RiverNetworkOut], summary="All versions of the river network, newest first")
def list_versions(_: Principal = Depends(require("rivers.read")), db: Session = Depends(get_db)) -> list[RiverNetworkOut]:
    rows = db.scalars(sa.select(RiverNetworkVersion).order_by(RiverNetworkVersion.version.desc()))
    return [RiverNetworkOut.model_validate(r) for r in rows]


@router.post("", response_model=RiverNetworkOut, status_code=201, dependencies=[Depends(check_json_size)],
             summary="Upload (replace) the river network; 422 lists every problem found",
             responses={422: {"description": "Invalid network: `errors` lists every problem"}})
def upload_network(request: Request, geojson: dict[str, Any] = Body(..., description="River network GeoJSON FeatureCollection"),
                   p: Principal = Depends(require("rivers.write")), db: Session = Depends(get_db)) -> RiverNetworkOut:
    try:
        net = RiverNetwork.from_geojson(geojson, source="uploaded network")
    except RiverNetworkError as exc:
        raise ApiError(422, f"invalid river network: {len(exc.errors)} problem(s)", code="invalid_river_network",
                       errors=exc.errors, problems=_problems(exc.errors, geojson)) from None
    except Exception as exc:  # the parser met input it did not expect: still the client's input
        log.warning("river network rejected by an unexpected error: %r", exc)
        raise ApiError(422, f"invalid river network: {type(exc).__name__}: {exc}", code="invalid_river_network",
                       errors=[str(exc)], problems=[{**problem(str(exc)).to_dict(), "code": "other", "name": None}]) from None
    text = json.dumps(geojson, ensure_ascii=False, sort_keys=True)
    if "\\u0000" in text:  # ids and names end up in text columns, which cannot hold NUL
        raise ApiError(422, "invalid river network: NUL characters in the file", code="invalid_river_network",
                       errors=["NUL character in a value"],
                       problems=[{**problem("NUL character in a value").to_dict(), "code": "nul_character", "name": None}])
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    if current is not None and current.sha256 == sha:
        return RiverNetworkOut.model_validate(current)  # same network again: no new version
    db.execute(sa.update(RiverNetworkVersion).values(active=False))
    row = RiverNetworkVersion(name=(net.name or "").replace("\x00", "")[:256] or None, sha256=sha, geojson=text, n_segments=len(net.segments),
                              warnings=[w.replace("\x00", "") for w in net.warnings], active=True, created_by=p.name,
                              created_at=app_state(request).clock.now())
    db.add(row)
    db.commit()
    return RiverNetworkOut.model_validate(row)


@router.get("/current", summary="The river network in force (GeoJSON)",
            responses={200: {"content": {GEOJSON: {}}}})
def current_network(_: Principal = Depends(require("rivers.read")), db: Session = Depends(get_db)) -> Response:
    return Response(_active(db).geojson, media_type=GEOJSON)


@router.get("/current/segments", response_model=list[SegmentOut], summary="Segments in force, with chiefs and bbox")
def current_segments(request: Request, _: Principal = Depends(require("rivers.read")),
                     db: Session = Depends(get_db)) -> list[SegmentOut]:
    row = _active(db)
    net = app_state(request).processor.network(row.version, json.loads(row.geojson))
    return [SegmentOut(id=s.id, name=s.name, river=s.river, chiefs=s.chiefs.to_dict(),
                       bbox=[round(float(v), 7) for v in s.line.bounds]) for s in net.segments]


@router.get("/{version}", summary="One version of the river network (GeoJSON)",
            responses={200: {"content": {GEOJSON: {}}}})
def network_version(version: DbId, _: Principal = Depends(require("rivers.read")), db: Session = Depends(get_db)) -> Response:
    row = db.get(RiverNetworkVersion, version)
    if row is None:
        raise ApiError(404, f"no river network version {version}")
    return Response(row.geojson, media_type=GEOJSON)
