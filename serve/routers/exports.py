"""/api/exports: the tickets of the current filter as GeoJSON, KML, XLSX 台账 or CSV (the
pipeline's writers, so the server's files match ``heyan ingest``'s), and the rejected
detections as training data (hard negatives)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from heyan.pipeline.geo.gcj02 import wgs84_to_gcj02
from heyan.pipeline.tickets.exports import write_csv, write_geojson, write_kml, write_xlsx
from heyan.pipeline.tickets.ticket import TicketRecord
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.tables import AuditEntry, Evidence, Ticket
from heyan.serve.ticket_query import TicketFilter, ticket_filter
from heyan.serve.ticket_views import feature

router = APIRouter(prefix="/api/exports", tags=["exports"])
MEDIA = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}
MAX_EXPORT = 200_000


@router.get("/tickets.{fmt}", summary="Tickets of the filter as a file: geojson, kml, xlsx (台账) or csv",
            response_class=FileResponse,
            responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def export_tickets(fmt: Literal["geojson", "kml", "xlsx", "csv"], request: Request,
                   f: TicketFilter = Depends(ticket_filter), gcj02: bool = Query(False, description="Add GCJ-02 columns."),
                   p: Principal = Depends(require("exports.tickets")), db: Session = Depends(get_db)) -> FileResponse:
    where = f.where(p)
    n = db.scalar(sa.select(sa.func.count()).select_from(Ticket).where(*where)) or 0
    if n > MAX_EXPORT:
        raise ApiError(413, f"{n} tickets match; narrow the filter to at most {MAX_EXPORT}")
    tickets = []
    for t in db.scalars(sa.select(Ticket).where(*where).order_by(Ticket.found_at, Ticket.id)):
        rec = TicketRecord.from_feature(feature(t))
        if gcj02:
            glat, glon = wgs84_to_gcj02(t.lat, t.lon)
            rec.lat_gcj02, rec.lon_gcj02 = round(float(glat), 7), round(float(glon), 7)
        tickets.append(rec)
    tmp_dir = app_state(request).store.tmp_dir
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="export-", suffix=f".{fmt}")
    os.close(fd)
    path = Path(name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "geojson":
        write_geojson(path, [t.to_feature() for t in tickets], name=f"河眼 tickets {stamp}")
    elif fmt == "kml":
        write_kml(path, tickets, name=f"河眼 {stamp}")
    elif fmt == "xlsx":
        write_xlsx(path, tickets, gcj02=gcj02)
    else:
        write_csv(path, tickets, gcj02=gcj02)
    return FileResponse(path, media_type=MEDIA[fmt], filename=f"heyan-tickets-{stamp}.{fmt}",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/hard-negatives.jsonl", summary="Views of rejected tickets (training data: hard negatives), JSON lines",
            response_class=StreamingResponse, responses={200: {"content": {"application/x-ndjson": {}}}})
def export_hard_negatives(_: Principal = Depends(require("exports.training")), db: Session = Depends(get_db)) -> StreamingResponse:
    rows = db.execute(
        sa.select(Evidence, Ticket.class_name, Ticket.category)
        .join(Ticket, Ticket.id == Evidence.ticket_id)
        .where(Ticket.state == "rejected", Evidence.kind.in_(("detection", "seen_again")))
        .order_by(Evidence.ticket_id, Evidence.id)).all()
    why = {a.ticket_id: (a.actor, a.comment, a.at, (a.data or {}).get("reject_reason")) for a in db.scalars(
        sa.select(AuditEntry).where(AuditEntry.to_state == "rejected").order_by(AuditEntry.id))}

    def lines() -> Iterator[bytes]:
        for ev, cls, cat in rows:
            actor, comment, at, reason = why.get(ev.ticket_id, (None, None, None, None))
            yield (json.dumps({
                "ticket_id": ev.ticket_id, "class": cls, "category": cat, "flight_id": ev.flight_id,
                "image_name": ev.image_name, "photo_sha256": ev.photo_sha,
                "photo_url": f"/api/blobs/{ev.photo_sha}" if ev.photo_sha else None, "box": ev.box, "score": ev.score,
                "rejected_by": actor, "rejected_comment": comment, "rejected_at": at.isoformat() if at else None,
                "reject_reason": reason,
            }, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="heyan-hard-negatives.jsonl"'})
