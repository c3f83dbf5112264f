"""/api/public/reports: 公众举报 with no login (the page /report.html). A member of the public
sends a photo, a position and a short text, optionally a phone number. Guarded: so many per
client address per day (``public_reports_per_day``), size and type checked, the photo's
metadata stripped before storage (its time and GPS are read first and kept in columns), the
phone number kept apart from the ticket. The report enters review as a ticket in 待审核 with
the source ``public`` by the rules and de-duplication every other source goes through."""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from contextlib import closing

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from heyan.pipeline.metadata.strip import StripError, strip_metadata
from heyan.pipeline.tickets.proof import photo_facts
from heyan.serve.blobdb import ensure_blobs, publishing
from heyan.serve.deps import app_state, client_ip
from heyan.serve.errors import ApiError
from heyan.serve.ratelimit import LoginLimiter
from heyan.serve.reports import file_report
from heyan.serve.routers.reports import DEFAULT_ERROR_M, detector_suggestions
from heyan.serve.state import AppState
from heyan.serve.tables import PublicReport
from heyan.serve.workflow import Actor

router = APIRouter(prefix="/api/public", tags=["public"])
PUBLIC = Actor("public", "public")
DAY_S = 86400.0
PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


class PublicReportOut(BaseModel):
    id: str = Field(description="The report's number, to quote when calling the office")
    outcome: str = Field(description="ticket: under review; seen_again: the problem is already being handled")


def _limiter(st: AppState) -> LoginLimiter:
    n = st.config.public_reports_per_day
    lim = st.cache.get("public_limiter")
    if not isinstance(lim, LoginLimiter) or lim.max_address_failures != n:
        lim = st.cache["public_limiter"] = LoginLimiter(n, DAY_S, n)
    return lim


def _type(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((t for magic, t in _TYPES if head.startswith(magic)), None)


@router.post("/reports", response_model=PublicReportOut, status_code=201,
             summary="公众举报 (no login): photo + position + text (+ phone); limited per address and day",
             responses={429: {"description": "Too many reports from this address today (Retry-After)"},
                        415: {"description": "Not a JPEG, PNG or WebP photo"}})
def public_report(request: Request, photo: UploadFile = File(...),
                  lat: float | None = Form(None, ge=-90, le=90), lon: float | None = Form(None, ge=-180, le=180),
                  accuracy_m: float | None = Form(None, gt=0, le=10000),
                  text: str | None = Form(None, max_length=500, description="What is wrong, in a few words"),
                  phone: str | None = Form(None, max_length=32, description="Optional, for a call back; never shown publicly"),
                  category: str | None = Form(None, max_length=64,
                                              description="What it is (a detector class); default: the detector's best find"),
                  ) -> PublicReportOut:
    st = app_state(request)
    cfg = st.config
    if cfg.public_reports_per_day == 0:
        raise ApiError(403, "public reports are closed on this server", code="public_closed")
    addr = client_ip(request)
    wait, _ = _limiter(st).begin(f"ip:{addr}")  # every try counts, valid or not
    if wait > 0:
        raise ApiError(429, f"at most {cfg.public_reports_per_day} reports per address per day; try again later",
                       {"Retry-After": str(math.ceil(wait))}, code="public_rate_limited")
    phone = phone.strip() if phone else None
    if phone and not PHONE.match(phone):
        raise ApiError(422, "phone: digits only (5-20), optionally with +, spaces or dashes", code="public_bad_phone")
    data = photo.file.read(cfg.public_report_max_bytes + 1)
    if len(data) > cfg.public_report_max_bytes:
        raise ApiError(413, f"photo larger than {cfg.public_report_max_bytes} bytes", code="public_too_large")
    ctype = _type(data[:12])
    if ctype is None:
        raise ApiError(415, "the photo must be a JPEG, PNG or WebP picture", code="public_bad_type")
    raw = st.store.stage_bytes(data)
    try:
        facts = photo_facts(raw.path)  # time and place, read before the metadata goes
    finally:
        raw.discard()
    try:
        bare, ctype = strip_metadata(data, ctype)
    except StripError as exc:
        raise ApiError(422, f"photo: {exc}", code="not_a_photo") from None
    staged = st.store.stage_bytes(bare)
    db: Session = st.db.session(write=True)
    with closing(db), publishing(st, db, staged):
        found, _, _ = detector_suggestions(st, staged, "public.jpg")
        if lat is None or lon is None:
            if facts.lat is None or facts.lon is None:
                raise ApiError(422, "no position: allow the page to use the phone's location", code="report_no_position")
            lat, lon = facts.lat, facts.lon
        known = set(st.processor.detector().class_names)
        chosen = category if category in known else (found[0].class_name if found else None)
        if chosen is None:
            raise ApiError(422, "choose what the problem is", code="report_no_class")
        same = next((s for s in found if s.class_name == chosen), None)
        rid = uuid.uuid4().hex[:12]
        now = st.clock.now()
        ensure_blobs(db, [(staged.sha256, staged.size, ctype)])
        out = file_report(db, st.processor, PUBLIC, now, rid, photo_sha=staged.sha256, image_name=f"public-{rid}",
                          class_name=chosen, score=1.0, box=same.box if same else None, lat=lat, lon=lon,
                          error_m=accuracy_m or DEFAULT_ERROR_M, note=(text or "").strip() or None,
                          extra={"source": "public", "suggested": found[0].class_name if found else None},
                          label="公众举报")
        if out.ticket_id is None:
            raise ApiError(422, f"no ticket: {out.reason}", code="report_no_ticket", reason=out.reason)
        db.add(PublicReport(id=rid, ticket_id=out.ticket_id, outcome=out.outcome, text=(text or "").strip() or None,
                            phone=phone, photo_sha=staged.sha256, lat=lat, lon=lon,
                            taken_at=facts.taken_at.isoformat() if facts.taken_at else None,
                            address_hash=hashlib.sha256(addr.encode()).hexdigest(), created_at=now))
    return PublicReportOut(id=rid, outcome=out.outcome)

