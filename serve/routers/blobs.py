"""/api/blobs/{sha256}: a stored photo, evidence crop, rectification photo, snapshot or
flight report. Content-addressed, so it never changes: cached for good by the browser.

A file is served through what references it, with that thing's rule: a flight's photos and
report to those who may see flights, a ticket's pictures to those who may see that ticket
(a chief: reviewed tickets of his segments), an edge event's snapshots to those who may see
edge events. A file nothing visible references is 404, as a ticket one may not see is."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.permissions import PERMISSIONS
from heyan.serve.tables import Blob, DeviceMedia, EdgeEvent, Evidence, Flight, FlightPhoto, Ticket
from heyan.serve.ticket_query import TicketFilter

router = APIRouter(prefix="/api/blobs", tags=["blobs"])
IMAGES = {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp"}
# The flight report is a self-contained HTML page (inline style, data: images, no script):
# shown in a sandbox of its own origin, so it can neither run script nor reach the API.
REPORT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _any(db: Session, q: sa.Select[Any]) -> bool:
    return db.scalar(q.limit(1)) is not None


def may_read(db: Session, p: Principal, sha: str) -> bool:
    role = p.role
    if role == "admin":
        return True
    if role in PERMISSIONS["flights.read"] and _any(db, sa.select(FlightPhoto.id).where(FlightPhoto.sha256 == sha)):
        return True
    if role in PERMISSIONS["tickets.read"]:
        seen = TicketFilter().where(p)  # a chief: his segments, reviewed tickets only
        if _any(db, sa.select(Ticket.id).where(sa.or_(Ticket.best_photo_sha == sha, Ticket.best_crop_sha == sha), *seen)):
            return True
        if _any(db, sa.select(Evidence.id).join(Ticket, Ticket.id == Evidence.ticket_id)
                .where(sa.or_(Evidence.photo_sha == sha, Evidence.crop_sha == sha), *seen)):
            return True
    if role in PERMISSIONS["edge.read"] and _any(db, sa.select(EdgeEvent.id).join(
            DeviceMedia, sa.and_(DeviceMedia.device_id == EdgeEvent.device_id, DeviceMedia.sha256 == sha)).where(
            sa.or_(EdgeEvent.snapshot_sha256 == sha, EdgeEvent.crop_sha256 == sha))):  # the box's own upload
        return True
    if role in PERMISSIONS["flights.read"]:  # a flight's report: in its summary (few flights; checked last)
        return _any(db, sa.select(Flight.id).where(sa.cast(Flight.summary, sa.Text).contains(sha)))
    return False


@router.get("/{sha256}", response_class=FileResponse, summary="A stored file by its sha256 (if something you may see references it)",
            responses={200: {"content": {"image/jpeg": {}, "application/octet-stream": {}}}})
def get_blob(request: Request, sha256: str = Path(pattern="^[0-9a-f]{64}$"),
             p: Principal = Depends(require("blobs.read")), db: Session = Depends(get_db)) -> FileResponse:
    row = db.get(Blob, sha256)
    store = app_state(request).store
    if row is None or not store.exists(sha256) or not may_read(db, p, sha256):
        raise ApiError(404, f"no stored file {sha256}")
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    if row.content_type not in IMAGES:
        headers["Content-Security-Policy"] = REPORT_CSP
    if row.content_type == "application/pdf":  # the flight report for filing: saved, not shown in a sandbox
        headers["Content-Disposition"] = f'attachment; filename="heyan-report-{sha256[:8]}.pdf"'
    return FileResponse(store.path(sha256), media_type=row.content_type, headers=headers)
