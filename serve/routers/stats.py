"""/api/stats/assessment: 考核 figures per segment and per chief of the river network in
force (zeros included), one grand total, weekly finds and closures; the same as XLSX."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from heyan.pipeline.geo.rivers import RiverNetwork
from heyan.serve.assessment import assessment as compute
from heyan.serve.assessment_xlsx import write_assessment_xlsx
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.schemas.stats import AssessmentOut
from heyan.serve.tables import RiverNetworkVersion
from heyan.serve.ticket_query import DateField, TicketFilter, ticket_filter
from heyan.vision.common import BEIJING

router = APIRouter(prefix="/api/stats", tags=["stats"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _network(db: Session, request: Request) -> RiverNetwork | None:
    net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
    return None if net is None else app_state(request).processor.network(net.version, json.loads(net.geojson))


def _figures(request: Request, f: TicketFilter, date_field: DateField, p: Principal, db: Session) -> AssessmentOut:
    f = replace(f, date_field=date_field)
    rows: list[str] | None = f.segment_id
    if (mine := p.segments()) is not None:  # a chief: the zero rows of his segments only
        rows = [s for s in (rows or mine) if s in mine]
    return compute(db, f, f.where(p), _network(db, request), rows)


DATE_FIELD = Query("found_at", description="The time the date range applies to: found_at (发现), "
                   "dispatched_at (交办) or closed_at (销号); Beijing dates.")


@router.get("/assessment", response_model=AssessmentOut, summary="Assessment per segment and per chief, with totals")
def assessment(request: Request, f: TicketFilter = Depends(ticket_filter), date_field: DateField = DATE_FIELD,
               p: Principal = Depends(require("stats.read")), db: Session = Depends(get_db)) -> AssessmentOut:
    return _figures(request, f, date_field, p, db)


@router.get("/assessment.xlsx", summary="The assessment tables as an XLSX workbook (Chinese headers, Beijing time)",
            response_class=FileResponse, responses={200: {"content": {XLSX: {}}}})
def assessment_xlsx(request: Request, f: TicketFilter = Depends(ticket_filter), date_field: DateField = DATE_FIELD,
                    p: Principal = Depends(require("stats.read")), db: Session = Depends(get_db)) -> FileResponse:
    figures = _figures(request, f, date_field, p, db)
    fd, name = tempfile.mkstemp(dir=app_state(request).store.tmp_dir, prefix="assessment-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    now = app_state(request).clock.now().astimezone(BEIJING)
    write_assessment_xlsx(path, figures, made_at=now)
    return FileResponse(path, media_type=XLSX, filename=f"heyan-assessment-{now:%Y%m%d-%H%M}.xlsx",
                        background=BackgroundTask(path.unlink, missing_ok=True))
