"""/api/edge: the server side of the edge boxes' HTTP contract (edge/README.md, "HTTP
contract"), for device tokens only — snapshots, events, heartbeats — and the events list
for people.

The box delivers at least once and relies on these being idempotent: a snapshot is stored
by its content hash, an event by (device, event_id) keeping the newest ``seq``. Its
uploader treats 401/403 as a wrong token (kept, retried after a restart), 5xx/408/429 as
"try later", any other 4xx as "this record is refused for good"."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import heyan.serve.edge.devices as edge_devices
import heyan.serve.edge.events as edge_events
from heyan.serve.blobdb import ensure_blobs, take_back
from heyan.serve.deps import Principal, app_state, device_only, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.schemas.edge import EdgeEventIn, EdgeEventOut, EdgeEventPage, EdgeEventStored, EdgeHeartbeatIn, EdgeHeartbeatOut, EdgeMediaStored, EventKind
from heyan.serve.state import AppState
from heyan.serve.storage import FileTooLarge, Staged
from heyan.serve.tables import Device, DeviceMedia, EdgeEvent
from heyan.serve.ticket_views import url
from heyan.serve.training.registry import device_model

router = APIRouter(prefix="/api/edge", tags=["edge"])

# An event is a few kB and a heartbeat grows with the cameras; far beyond this is not a box.
EDGE_JSON_LIMIT = 1 << 20
# Snapshot types served back as such; anything else is kept as bytes (a device must not be
# able to store a page the browser would render from this origin).
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
_MEDIA_BODY = {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(IMAGE_TYPES)}}
_OUTCOMES = ("ticket", "seen_again", "no_ticket", "no_position", "no_network", "health")


def edge_json_size(request: Request) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > EDGE_JSON_LIMIT:
        raise ApiError(413, f"body of {length} bytes exceeds the edge API's limit of {EDGE_JSON_LIMIT} bytes")


# --------------------------------------------------------------------------- snapshots


def _register_media(st: AppState, staged: Staged, ctype: str, device_id: int) -> bool:
    """The blob row, this device's claim on it, and the file into the store, in one short
    transaction (the file is taken back if the rows are not written). True: a new file."""
    created = False
    try:
        with st.db.session() as db:
            ensure_blobs(db, [(staged.sha256, staged.size, ctype)])
            if db.get(DeviceMedia, (device_id, staged.sha256)) is None:
                db.add(DeviceMedia(device_id=device_id, sha256=staged.sha256, created_at=st.clock.now()))
            db.flush()
            created = st.store.publish(staged)
            db.commit()
    except BaseException:
        if created:
            take_back(st, [staged.sha256])
        raise
    finally:
        staged.discard()
    return created


@router.put("/media/{sha256}", response_model=EdgeMediaStored, status_code=201, openapi_extra={"requestBody": _MEDIA_BODY},
            summary="A snapshot, stored under its sha256 (checked); 200 if the server has it already (device token)",
            responses={200: {"model": EdgeMediaStored, "description": "Already stored"},
                       413: {"description": "Larger than serve_max_photo_mb"},
                       422: {"description": "The body's sha256 is not the one in the path, or the body is empty"}})
async def put_media(request: Request, response: Response, sha256: str = Path(pattern="^[0-9a-f]{64}$"),
                    p: Principal = Depends(device_only)) -> EdgeMediaStored:
    st = app_state(request)
    assert p.device is not None
    limit = st.config.max_photo_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise ApiError(413, f"snapshot of {length} bytes exceeds the limit of {limit} bytes")
    with st.store.writer(limit=limit) as w:
        try:
            async for chunk in request.stream():
                await run_in_threadpool(w.write, chunk)
        except FileTooLarge as exc:
            raise ApiError(413, f"snapshot larger than {exc.limit} bytes") from None
        if w.size == 0:
            raise ApiError(422, "empty body: send the snapshot's bytes")
        if w.sha256 != sha256:
            raise ApiError(422, f"the body's sha256 is {w.sha256}, not {sha256} as named in the path: "
                                "the file changed or was cut short on the way")
        staged = await run_in_threadpool(w.stage)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    created = await run_in_threadpool(_register_media, st, staged, ctype if ctype in IMAGE_TYPES else "application/octet-stream",
                                      p.device.id)
    if not created:
        response.status_code = 200
    return EdgeMediaStored(stored=created, sha256=staged.sha256, size=staged.size)


# --------------------------------------------------------------------------- events


@router.post("/events", response_model=EdgeEventStored, status_code=201, dependencies=[Depends(edge_json_size)],
             summary="An event's newest state (device token); kept when its seq is newer than the server's",
             responses={200: {"model": EdgeEventStored,
                              "description": "A known event: stored true (newer seq) or false (the server had it)"}})
def post_event(body: EdgeEventIn, request: Request, response: Response, p: Principal = Depends(device_only),
               db: Session = Depends(get_db)) -> EdgeEventStored:
    st = app_state(request)
    assert p.device is not None
    for attempt in range(3):
        try:
            out, created = edge_events.receive(db, p.device, body, st.processor, st.clock.now())
            break
        except IntegrityError:  # the same event inserted by a concurrent request: it exists now
            db.rollback()
            if attempt == 2:
                raise
    response.status_code = 201 if created else 200
    return out


@router.get("/events", response_model=EdgeEventPage, summary="Edge events, newest first, with what became of each")
def list_events(device: str | None = Query(None, max_length=128, description="Device name"),
                camera_id: str | None = Query(None, max_length=256), kind: EventKind | None = None,
                outcome: str | None = Query(None, pattern="^(" + "|".join(_OUTCOMES) + ")$"),
                ticket_id: str | None = Query(None, max_length=64),
                limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**7),
                _: Principal = Depends(require("edge.read")), db: Session = Depends(get_db)) -> EdgeEventPage:
    where = []
    if device is not None:
        where.append(Device.name == device)
    if camera_id is not None:
        where.append(EdgeEvent.camera_id == camera_id)
    if kind is not None:
        where.append(EdgeEvent.kind == kind)
    if outcome is not None:
        where.append(EdgeEvent.outcome == outcome)
    if ticket_id is not None:
        where.append(EdgeEvent.ticket_id == ticket_id)
    base = sa.select(EdgeEvent, Device.name).join(Device, Device.id == EdgeEvent.device_id).where(*where)
    total = db.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = db.execute(base.order_by(EdgeEvent.id.desc()).limit(limit).offset(offset))
    return EdgeEventPage(items=[_event_out(e, name) for e, name in rows], total=total, limit=limit, offset=offset)


def _event_out(e: EdgeEvent, device_name: str) -> EdgeEventOut:
    return EdgeEventOut(
        id=e.id, device_id=e.device_id, device=device_name, reported_device=e.reported_device, event_id=e.event_id,
        seq=e.seq, camera_id=e.camera_id, kind=e.kind, phase=e.phase, class_name=e.class_name, score=e.score, box=e.box,
        lat=e.lat, lon=e.lon, error_m=e.error_m, outfall_id=e.outfall_id, started_at=e.started_at,
        updated_at=e.updated_at, ended_at=e.ended_at, snapshot_url=url(e.snapshot_sha256), crop_url=url(e.crop_sha256),
        details=e.details or {}, received_at=e.received_at, stored_at=e.stored_at, posts=e.posts, outcome=e.outcome,
        reason=e.reason, rule=e.rule, category=e.category, segment_id=e.segment_id, ticket_id=e.ticket_id)


# --------------------------------------------------------------------------- heartbeat


@router.post("/heartbeat", response_model=EdgeHeartbeatOut, dependencies=[Depends(edge_json_size)],
             summary="The box's health (device token); the latest is shown in GET /api/devices")
def heartbeat(body: EdgeHeartbeatIn, request: Request, p: Principal = Depends(device_only),
              db: Session = Depends(get_db)) -> EdgeHeartbeatOut:
    st = app_state(request)
    assert p.device is not None
    now = st.clock.now()
    edge_devices.store_heartbeat(p.device, body.model_dump(mode="json", exclude_unset=True), now)
    db.commit()
    return EdgeHeartbeatOut(device=p.device.name, received_at=now, silent_after_s=st.config.edge_silent_after_s,
                            model=device_model(db, p.device.name))
