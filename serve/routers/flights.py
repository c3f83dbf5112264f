"""/api/flights: upload a survey flight (many photos, or one zip), streamed to disk and
deduplicated by content; its processing job and progress; reprocess."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import heyan.serve.jobs as jobs
from heyan.pipeline.zipsafe import UnsafeZipError, ZipLimits, iter_zip_images
from heyan.serve.blobdb import content_type, ensure_blobs, take_back
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.flight_map import MAP_KEY, reject_code
from heyan.serve.schemas.flights import (
    FlightDetail,
    FlightOut,
    FlightPage,
    FlightUploadOut,
    JobOut,
    PhotoOut,
    PhotoPlacement,
    RejectedPhoto,
)
from heyan.serve.state import AppState
from heyan.serve.storage import Staged, disk_full
from heyan.serve.tables import Evidence, Flight, FlightPhoto, Job
from heyan.serve.thumbs import ThumbnailError, thumbnail
from heyan.serve.uploads import Received, ReceivedZip, disk_full_error, receive_flight
from heyan.vision.common import BEIJING

router = APIRouter(prefix="/api/flights", tags=["flights"])

UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                      "description": "The flight's photos (.jpg/.jpeg/.png/.tif/.tiff/.bmp/.webp), or one .zip of them."},
            "name": {"type": "string", "maxLength": 256, "description": "A name for the flight (default: the zip's name or the date)."},
        },
    }}},
}


def default_flight_name(now: datetime) -> str:
    """航拍任务 and the upload's Beijing time: one batch of a flight's photos (航线 would be the
    planned route)."""
    return f"航拍任务 {now.astimezone(BEIJING).strftime('%Y-%m-%d %H:%M')}"


def blob_url(sha: str | None) -> str | None:
    return f"/api/blobs/{sha}" if sha else None


def latest_job(db: Session, flight_id: str) -> Job | None:
    return db.scalar(sa.select(Job).where(Job.flight_id == flight_id).order_by(Job.id.desc()).limit(1))


def flight_out(db: Session, f: Flight) -> FlightOut:
    job = latest_job(db, f.id)
    return FlightOut(id=f.id, name=f.name, source=f.source, n_photos=f.n_photos, bytes=f.bytes, uploaded_by=f.uploaded_by,
                     created_at=f.created_at, network_version=f.network_version,
                     job=JobOut.model_validate(job) if job else None)


def _existing(db: Session, key: str) -> Flight | None:
    return db.scalar(sa.select(Flight).where(Flight.content_key == key))


def _unpack(st: AppState, z: ReceivedZip) -> list[tuple[str, Staged]]:
    """Unpack and hash a zip's photos into staged files: no database session is open here
    (a big zip takes many seconds and must not hold the write lock), and nothing enters the
    store until the flight's rows are written. Refused or failed: nothing is left behind."""
    cfg = st.config
    # Members: the photos plus some folders and stray files. Expanded size: at most the
    # largest upload (and zipsafe's ratio to the zip's own size).
    limits = ZipLimits(max_members=cfg.max_files + 1000, max_member_bytes=cfg.max_photo_bytes,
                       max_total_bytes=max(cfg.max_upload_bytes, cfg.max_photo_bytes))
    staged: list[tuple[str, Staged]] = []
    try:
        for name, data in iter_zip_images(z.path, limits):  # checked whole first; one photo in memory
            staged.append((name, st.store.stage_bytes(data)))
            if len(staged) > cfg.max_files:
                raise ApiError(413, f"zip {z.name} holds more than {cfg.max_files} photos, the limit")
    except BaseException as exc:
        for _, s in staged:
            s.discard()
        if isinstance(exc, UnsafeZipError):
            raise ApiError(422, f"refused zip {z.name}: {exc.reason}") from None
        if disk_full(exc):
            raise disk_full_error(exc) from None
        raise
    if not staged:
        raise ApiError(422, f"zip {z.name} holds no photos")
    return staged


def _existing_out(st: AppState, key: str) -> FlightOut | None:
    with st.db.session(write=False) as db:  # a read: takes no write lock
        old = _existing(db, key)
        return flight_out(db, old) if old is not None else None


def _register(st: AppState, got: Received, who: str) -> tuple[FlightOut, bool]:
    """Runs in a worker thread: unpack a zip (outside any transaction), then record the flight,
    its photos and its job in one short write transaction that also moves the photos into the
    store; if that fails, the files it moved in are taken back."""
    if len(got.zips) > 1 or (got.zips and got.photos):
        raise ApiError(422, "send either photos or exactly one .zip, not both", skipped=got.skipped)
    if not got.zips and not got.photos:
        raise ApiError(422, "no photos in the upload: send them (or one .zip) in the multipart field 'files'",
                       skipped=got.skipped)
    photos: list[tuple[str, Staged]] = []  # (name, staged file)
    if got.zips:
        z = got.zips[0]
        key, source, total, default_name = z.sha256, "zip", z.size, z.name.rsplit(".", 1)[0]
        if (old := _existing_out(st, key)) is not None:
            return old, True
        photos = _unpack(st, z)
    else:
        seen: set[str] = set()
        names: set[str] = set()
        for ph in got.photos:
            if ph.sha256 in seen:  # the same photo twice in one upload: once is enough
                continue
            seen.add(ph.sha256)
            name = ph.name
            if name in names:  # two different photos with one name (from two folders)
                name = f"{ph.sha256[:8]}_{name}"
            names.add(name)
            photos.append((name, ph.staged))
        key = hashlib.sha256("\n".join(sorted(seen)).encode()).hexdigest()
        source, total = "photos", sum(s.size for _, s in photos)
        default_name = default_flight_name(st.clock.now())
        if (old := _existing_out(st, key)) is not None:
            return old, True
    created: list[str] = []
    try:
        with st.db.session() as db:
            now = st.clock.now()
            flight = Flight(id=f"fl-{key[:16]}", name=(got.fields.get("name") or default_name)[:256], content_key=key,
                            source=source, n_photos=len(photos), bytes=total, uploaded_by=who, created_at=now)
            try:
                ensure_blobs(db, [(s.sha256, s.size, content_type(name)) for name, s in photos])
                db.add(flight)
                db.flush()
                db.add_all(FlightPhoto(flight_id=flight.id, name=n, sha256=s.sha256, size=s.size) for n, s in photos)
                jobs.enqueue(db, flight.id, len(photos), now)
                db.flush()
                for _, s in photos:  # into the store before the job can be seen by a worker
                    if st.store.publish(s):
                        created.append(s.sha256)
                db.commit()
            except IntegrityError:  # the same content uploaded at the same moment by another request
                db.rollback()
                created.clear()  # the other upload's rows reference these very files
                if (old := _existing(db, key)) is not None:
                    return flight_out(db, old), True
                raise
            out = flight_out(db, flight)
    except BaseException as exc:
        take_back(st, created)
        for _, s in photos:
            s.discard()
        if disk_full(exc):
            raise disk_full_error(exc) from None
        raise
    finally:
        if got.zips:
            for _, s in photos:
                s.discard()
    if st.workers is not None:
        st.workers.wake()
    return out, False


@router.post("", response_model=FlightUploadOut, status_code=201, openapi_extra={"requestBody": UPLOAD_BODY},
             summary="Upload a flight: photos or one zip (multipart field 'files'); 200 if already uploaded",
             responses={200: {"model": FlightUploadOut, "description": "The same content was uploaded before"},
                        413: {"description": "Too large"}, 415: {"description": "Not multipart/form-data"}})
async def upload_flight(request: Request, response: Response,
                        p: Principal = Depends(require("flights.upload"))) -> FlightUploadOut:
    st = app_state(request)
    cfg = st.config
    got = await receive_flight(request, st.store, cfg.max_upload_bytes, cfg.max_photo_bytes, cfg.max_files)
    try:
        out, duplicate = await run_in_threadpool(_register, st, got, p.name)
    finally:
        got.cleanup()
    if duplicate:
        response.status_code = 200
    return FlightUploadOut(flight=out, duplicate=duplicate, skipped=got.skipped)


@router.get("", response_model=FlightPage, summary="Flights, newest first")
def list_flights(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9),
                 _: Principal = Depends(require("flights.read")), db: Session = Depends(get_db)) -> FlightPage:
    total = db.scalar(sa.select(sa.func.count()).select_from(Flight)) or 0
    rows = db.scalars(sa.select(Flight).order_by(Flight.created_at.desc(), Flight.id).limit(limit).offset(offset))
    return FlightPage(items=[flight_out(db, f) for f in rows], total=total, limit=limit, offset=offset)


def _flight(db: Session, flight_id: str) -> Flight:
    f = db.get(Flight, flight_id)
    if f is None:
        raise ApiError(404, f"no flight {flight_id!r}")
    return f


@router.get("/{flight_id}", response_model=FlightDetail, summary="One flight: job state and progress, summary")
def get_flight(flight_id: str, _: Principal = Depends(require("flights.read")), db: Session = Depends(get_db)) -> FlightDetail:
    f = _flight(db, flight_id)
    rejected = [RejectedPhoto(name=p.name, reason=p.rejected, code=reject_code(p.rejected)) for p in
                db.scalars(sa.select(FlightPhoto).where(FlightPhoto.flight_id == f.id, FlightPhoto.rejected.is_not(None))
                           .order_by(FlightPhoto.name))
                if p.rejected]
    summary = dict(f.summary) if f.summary else None
    placed = (summary or {}).pop(MAP_KEY, None) or []
    report = (summary or {}).get("report_sha")
    report_pdf = (summary or {}).get("report_pdf_sha")
    return FlightDetail(**flight_out(db, f).model_dump(), summary=summary, rejected_photos=rejected,
                        report_url=blob_url(report), report_pdf_url=blob_url(report_pdf),
                        photos_map=[PhotoPlacement(**e, thumb_url=f"/api/flights/{f.id}/thumbs/{e['sha256']}.jpg") for e in placed],
                        seen_again=list(db.scalars(sa.select(Evidence.ticket_id).distinct().where(
                            Evidence.flight_id == f.id, Evidence.kind == "seen_again").order_by(Evidence.ticket_id))))


@router.get("/{flight_id}/thumbs/{sha256}.jpg", response_class=FileResponse,
            summary="A downscaled copy of one of the flight's photos (for laying it on its footprint)",
            responses={200: {"content": {"image/jpeg": {}}}})
def flight_thumb(request: Request, flight_id: str, sha256: str = PathParam(pattern="^[0-9a-f]{64}$"),
                 _: Principal = Depends(require("flights.read")), db: Session = Depends(get_db)) -> FileResponse:
    f = _flight(db, flight_id)
    if db.scalar(sa.select(FlightPhoto.id).where(FlightPhoto.flight_id == f.id, FlightPhoto.sha256 == sha256).limit(1)) is None:
        raise ApiError(404, f"flight {f.id} has no photo {sha256}")
    db.commit()  # the read is over: downscaling a big photo must not hold the database
    st = app_state(request)
    try:
        path = thumbnail(st.store.path(sha256), st.config.data_dir / "thumbs", sha256, st.config.thumb_max_side)
    except ThumbnailError as exc:
        raise ApiError(422, f"photo {sha256[:12]} cannot be shown: {exc.reason}", code="photo_unreadable") from None
    # Content-addressed: the same name is always the same picture.
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/{flight_id}/photos", response_model=list[PhotoOut], summary="The flight's photos")
def flight_photos(flight_id: str, _: Principal = Depends(require("flights.read")), db: Session = Depends(get_db)) -> list[PhotoOut]:
    f = _flight(db, flight_id)
    rows = db.scalars(sa.select(FlightPhoto).where(FlightPhoto.flight_id == f.id).order_by(FlightPhoto.name))
    return [PhotoOut(name=p.name, sha256=p.sha256, size=p.size, url=f"/api/blobs/{p.sha256}", rejected=p.rejected) for p in rows]


@router.post("/{flight_id}/reprocess", response_model=JobOut, status_code=202,
             summary="Queue the flight again (e.g. after a new river network or model)")
def reprocess(flight_id: str, request: Request, _: Principal = Depends(require("flights.upload")),
              db: Session = Depends(get_db)) -> JobOut:
    f = _flight(db, flight_id)
    if (job := jobs.active_job(db, f.id)) is not None:
        raise ApiError(409, f"flight {f.id} already has a {job.state} job ({job.id})", job_id=job.id)
    job = jobs.enqueue(db, f.id, f.n_photos, app_state(request).clock.now())
    db.commit()
    st = app_state(request)
    if st.workers is not None:
        st.workers.wake()
    return JobOut.model_validate(job)
