"""/api/stats/assessment: 考核 figures per segment and per chief — problems found, resolved,
resolution rate, average handling time, overdue count — for the filter's tickets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, get_db, require
from heyan.serve.schemas.stats import AssessmentOut, AssessmentRow
from heyan.serve.tables import Ticket
from heyan.serve.ticket_query import TicketFilter, ticket_filter

router = APIRouter(prefix="/api/stats", tags=["stats"])
NOT_FOUND_STATES = ("pending_review", "rejected")


def _rows(groups: dict[str, dict[str, Any]]) -> list[AssessmentRow]:
    out = []
    for key, g in sorted(groups.items()):
        hours = g["hours"]
        out.append(AssessmentRow(
            key=key, name=g["name"], found=g["found"], resolved=g["resolved"],
            resolution_rate=round(g["resolved"] / g["found"], 4) if g["found"] else None,
            avg_handling_hours=round(sum(hours) / len(hours), 2) if hours else None,
            overdue=g["overdue"], open_overdue=g["open_overdue"]))
    return out


@router.get("/assessment", response_model=AssessmentOut, summary="Assessment per segment and per chief")
def assessment(f: TicketFilter = Depends(ticket_filter), p: Principal = Depends(require("stats.read")),
               db: Session = Depends(get_db)) -> AssessmentOut:
    where = f.where(p) + [Ticket.state.not_in(NOT_FOUND_STATES)]
    q = sa.select(Ticket.segment_id, Ticket.segment_name, Ticket.dispatched_chief, Ticket.state, Ticket.dispatched_at,
                  Ticket.closed_at, Ticket.was_overdue, Ticket.overdue).where(*where)

    def empty() -> dict[str, Any]:
        return {"name": None, "found": 0, "resolved": 0, "hours": [], "overdue": 0, "open_overdue": 0}

    by_seg: dict[str, dict[str, Any]] = defaultdict(empty)
    by_chief: dict[str, dict[str, Any]] = defaultdict(empty)
    for r in db.execute(q):
        # A chief is assessed on the tickets first dispatched to him (escalation does not
        # move the failure upward); undispatched tickets count for no chief.
        targets = [(by_seg, r.segment_id or "(none)", r.segment_name)]
        if r.dispatched_chief:
            targets.append((by_chief, r.dispatched_chief, r.dispatched_chief))
        for groups, key, name in targets:
            g = groups[key]
            g["name"] = g["name"] or name
            g["found"] += 1
            if r.state == "closed":
                g["resolved"] += 1
                if r.dispatched_at and r.closed_at:
                    g["hours"].append((r.closed_at - r.dispatched_at).total_seconds() / 3600)
            g["overdue"] += int(bool(r.was_overdue))
            g["open_overdue"] += int(bool(r.overdue))
    return AssessmentOut(date_from=f.date_from, date_to=f.date_to, by_segment=_rows(by_seg), by_chief=_rows(by_chief))
