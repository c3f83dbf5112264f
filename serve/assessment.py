"""考核 figures: per segment and per chief of the river network in force (zeros included),
with one grand total both tables add up to, and weekly finds/closures per category.

A ticket counts once in each table: under its segment (or the "no segment" row) and under
the chief it was first dispatched to (or the "not yet dispatched" row), so the columns of
either table sum to the total. Escalation does not move a failure upward."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.geo.rivers import RiverNetwork
from heyan.serve.schemas.stats import AssessmentOut, AssessmentRow, WeekRow
from heyan.serve.tables import Flight, Ticket
from heyan.serve.ticket_query import TicketFilter
from heyan.serve.workflow import LEVELS
from heyan.vision.common import BEIJING

NOT_FOUND_STATES = ("pending_review", "rejected")  # not (yet) a problem an office answers for
RECTIFIED_STATES = ("rectified", "closed")  # rectification reported and not sent back


@dataclass
class _Tally:
    name: str | None = None
    river: str | None = None
    level: str | None = None
    length_km: float | None = None
    found: int = 0
    dispatched: int = 0
    closed: int = 0
    due: int = 0
    on_time: int = 0
    overdue: int = 0
    open_overdue: int = 0
    hours: list[float] = field(default_factory=list)

    def add(self, r: Any) -> None:
        self.found += 1
        self.dispatched += int(r.dispatched_at is not None)
        rectified = r.state in RECTIFIED_STATES
        if r.state == "closed":
            self.closed += 1
            if r.dispatched_at and r.closed_at:
                self.hours.append((r.closed_at - r.dispatched_at).total_seconds() / 3600)
        if r.dispatched_at is not None and (rectified or r.was_overdue or r.overdue):
            self.due += 1
            self.on_time += int(rectified and not r.was_overdue)
        self.overdue += int(bool(r.was_overdue))
        self.open_overdue += int(bool(r.overdue))

    def row(self, key: str | None) -> AssessmentRow:
        return AssessmentRow(
            key=key, name=self.name, river=self.river, level=self.level,
            length_km=round(self.length_km, 3) if self.length_km is not None else None,
            found=self.found, dispatched=self.dispatched, closed=self.closed,
            closure_rate=_ratio(self.closed, self.found), due=self.due, on_time=self.on_time,
            on_time_rate=_ratio(self.on_time, self.due), overdue=self.overdue, open_overdue=self.open_overdue,
            avg_handling_hours=round(sum(self.hours) / len(self.hours), 2) if self.hours else None,
            finds_per_km=round(self.found / self.length_km, 3) if self.length_km else None)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def week_of(when: datetime) -> date:
    """Monday of ``when``'s week in Beijing time."""
    d = when.astimezone(BEIJING).date()
    return d - timedelta(days=d.weekday())


def _network_rows(network: RiverNetwork | None, segments: Iterable[str] | None
                  ) -> tuple[dict[str | None, _Tally], dict[str | None, _Tally]]:
    """Empty tallies of every segment and every chief of the network (of ``segments`` only,
    when given), in the network's order, chiefs from the lowest level up."""
    segs: dict[str | None, _Tally] = {}
    chiefs: dict[str | None, _Tally] = {}
    if network is None:
        return segs, chiefs
    wanted = None if segments is None else set(segments)
    found_chiefs: list[tuple[int, str]] = []
    for s in network.segments:
        if wanted is not None and s.id not in wanted:
            continue
        segs[s.id] = _Tally(name=s.name, river=s.river, length_km=network.length_km(s.id))
        for i, level in enumerate(LEVELS):
            c = getattr(s.chiefs, level)
            if c is not None and c.name:
                found_chiefs.append((i, c.name))
    for i, name in sorted(found_chiefs):
        chiefs.setdefault(name, _Tally(name=name, level=LEVELS[i]))  # a chief of several levels: his lowest
    return segs, chiefs


def assessment(db: Session, f: TicketFilter, where: list[Any], network: RiverNetwork | None,
               segments: list[str] | None = None) -> AssessmentOut:
    """The figures of the tickets matching ``where`` (the filter's clauses, the caller's
    visibility included). ``network``: the river network in force, for the zero rows of its
    segments (``segments`` only, when given) and their chiefs."""
    q = sa.select(Ticket.segment_id, Ticket.segment_name, Ticket.river, Ticket.dispatched_chief, Ticket.chief_level,
                  Ticket.category, Ticket.category_zh, Ticket.state, Ticket.found_at, Ticket.dispatched_at, Ticket.closed_at,
                  Ticket.flight_id, Ticket.was_overdue, Ticket.overdue
                  ).where(*where, Ticket.state.not_in(NOT_FOUND_STATES))
    by_seg, by_chief = _network_rows(network, segments)
    if f.chief:  # a chief filter: that chief's row only
        by_chief = {k: v for k, v in by_chief.items() if k == f.chief}
    total = _Tally(name=None, length_km=sum((t.length_km or 0.0) for t in by_seg.values()) or None)
    weeks: dict[tuple[date, str | None], list[int]] = defaultdict(lambda: [0, 0])
    names: dict[str | None, str | None] = {}
    from_flights = 0
    for r in db.execute(q):
        seg = by_seg.setdefault(r.segment_id, _Tally(name=r.segment_name, river=r.river))
        chief = by_chief.setdefault(r.dispatched_chief, _Tally(name=r.dispatched_chief))
        for tally in (seg, chief, total):
            tally.add(r)
        from_flights += int(r.flight_id is not None)
        names.setdefault(r.category, r.category_zh)
        weeks[(week_of(r.found_at), r.category)][0] += 1
        if r.state == "closed" and r.closed_at is not None:
            weeks[(week_of(r.closed_at), r.category)][1] += 1
    flights = _flights(db, f)
    # Rows with data but outside the network (an older network's segment; no segment; not
    # dispatched) come after the network's own, "none" last.
    return AssessmentOut(
        date_field=f.date_field, date_from=f.date_from, date_to=f.date_to,
        by_segment=_ordered(by_seg), by_chief=_ordered(by_chief), total=total.row(None),
        flights=flights, finds_per_flight=round(from_flights / flights, 3) if flights else None,
        weekly=[WeekRow(week=w, category=c, category_zh=names.get(c), found=n[0], closed=n[1])
                for (w, c), n in sorted(weeks.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))])


def _ordered(rows: dict[str | None, _Tally]) -> list[AssessmentRow]:
    keyed = [(k, t) for k, t in rows.items() if k is not None]
    out = [t.row(k) for k, t in keyed]
    if None in rows:
        out.append(rows[None].row(None))
    return out


def _flights(db: Session, f: TicketFilter) -> int:
    """Flights uploaded in the date range (upload day, Beijing time), the whole network."""
    q = sa.select(sa.func.count()).select_from(Flight)
    if f.date_from:
        q = q.where(Flight.created_at >= datetime.combine(f.date_from, datetime.min.time(), BEIJING))
    if f.date_to:
        q = q.where(Flight.created_at < datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(), BEIJING))
    return db.scalar(q) or 0
