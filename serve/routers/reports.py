"""/api/reports: 问题上报 by chiefs and staff from their phones. ``/suggest`` runs the
detector on a photo so the page can offer its class and draw its box; a report (photo,
position, class, note) becomes a ticket in 待审核 through serve.reports (the rules and
de-duplication flights and edge events use)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from heyan.pipeline.images import ImageReadError, read_image
from heyan.pipeline.tickets.proof import photo_facts
from heyan.serve.blobdb import ensure_blobs, publishing
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.reports import Suggestion, file_report, suggest
from heyan.serve.routers.tickets import image_type
from heyan.serve.schemas.reports import ReportOut, SuggestionOut, SuggestOut
from heyan.serve.state import AppState
from heyan.serve.storage import Staged
from heyan.serve.uploads import clean_name, stage_upload

router = APIRouter(prefix="/api/reports", tags=["reports"])
DEFAULT_ERROR_M = 15.0  # a phone fix without its accuracy


def detector_suggestions(st: AppState, staged: Staged, name: str) -> tuple[list[Suggestion], int, int]:
    try:
        image = read_image(staged.path)
    except ImageReadError as exc:
        raise ApiError(422, f"{name}: not a photo ({exc.reason})", code="not_a_photo") from None
    return suggest(st.processor, image), int(image.shape[1]), int(image.shape[0])


@router.post("/suggest", response_model=SuggestOut, summary="The detector's finds on a photo (nothing is stored)")
async def suggest_for_photo(request: Request, photo: UploadFile = File(...),
                            _: Principal = Depends(require("reports.write"))) -> SuggestOut:
    st = app_state(request)
    staged = await run_in_threadpool(stage_upload, st.store, photo, st.config.max_photo_bytes)
    try:
        found, w, h = await run_in_threadpool(detector_suggestions, st, staged, clean_name(photo.filename or "photo.jpg"))
    finally:
        staged.discard()
    return SuggestOut(width=w, height=h, suggestions=[SuggestionOut(**vars(s)) for s in found])


@router.post("", response_model=ReportOut, status_code=201,
             summary="问题上报: photo + position + class -> a ticket in 待审核 (or evidence on the open one)",
             responses={422: {"description": "no position, not a photo, or the rules make no ticket of it (`reason`)"}})
def report(request: Request, photo: UploadFile = File(...),
           lat: float | None = Form(None, ge=-90, le=90, description="The phone's position (WGS-84); default: the photo's EXIF GPS"),
           lon: float | None = Form(None, ge=-180, le=180),
           accuracy_m: float | None = Form(None, gt=0, le=10000, description="The position's accuracy, metres"),
           class_name: str | None = Form(None, max_length=64, description="What it is; default: the detector's best find"),
           note: str | None = Form(None, max_length=4000),
           patrol_id: str | None = Form(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                        description="The patrol (巡河) being recorded when the problem was found"),
           p: Principal = Depends(require("reports.write")), db: Session = Depends(get_db)) -> ReportOut:
    st = app_state(request)
    db.rollback()  # no transaction while the photo is stored and the detector runs
    name = clean_name(photo.filename or "report.jpg")
    note = note.replace("\x00", "").strip() or None if note else None
    staged = stage_upload(st.store, photo, st.config.max_photo_bytes)
    with publishing(st, db, staged):
        ctype = image_type(staged.path, name)
        found, _, _ = detector_suggestions(st, staged, name)
        source = "form"
        if lat is None or lon is None:
            facts = photo_facts(staged.path)
            if facts.lat is None or facts.lon is None:
                raise ApiError(422, "no position: send lat/lon (the phone's GPS) or a photo with EXIF GPS",
                               code="report_no_position")
            lat, lon, source = facts.lat, facts.lon, "exif"
        known = set(st.processor.detector().class_names)
        chosen = class_name or (found[0].class_name if found else None)
        if chosen is None:
            raise ApiError(422, "the detector saw nothing in the photo: choose what the problem is (class_name)",
                           code="report_no_class")
        if chosen not in known:
            raise ApiError(422, f"unknown class {chosen!r}; one of: {', '.join(sorted(known))}", code="report_bad_class")
        same = next((s for s in found if s.class_name == chosen), None)
        # A person who stood there and chose the class is sure of it; the box is the
        # detector's, when it saw that class.
        rid = uuid.uuid4().hex[:16]
        now = st.clock.now()
        ensure_blobs(db, [(staged.sha256, staged.size, ctype)])
        out = file_report(db, st.processor, p.actor, now, rid, photo_sha=staged.sha256, image_name=name, class_name=chosen,
                          score=1.0, box=same.box if same else None, lat=lat, lon=lon,
                          error_m=accuracy_m or DEFAULT_ERROR_M, note=note,
                          extra={"source": "report", "position_source": source, "patrol_id": patrol_id,
                                 "suggested": found[0].class_name if found else None,
                                 "suggested_score": found[0].score if found else None})
        if out.ticket_id is None:
            raise ApiError(422, f"no ticket: {out.reason}", code="report_no_ticket", reason=out.reason, outcome=out.outcome)
    return ReportOut(id=rid, outcome=out.outcome, ticket_id=out.ticket_id, segment_id=out.segment_id, class_name=chosen,
                     reason=out.reason, lat=lat, lon=lon, position_source=source,
                     suggestions=[SuggestionOut(**vars(s)) for s in found])
