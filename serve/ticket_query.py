"""The ticket filter shared by the list, the exports and the stats: one place that turns
query parameters into a WHERE clause on indexed columns, and that limits a chief to his
segments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import Query

from heyan.serve.deps import Principal
from heyan.serve.errors import ApiError
from heyan.serve.schemas.common import State
from heyan.serve.tables import Device, EdgeEvent, Ticket
from heyan.vision.common import BEIJING

CHIEF_HIDDEN = ("pending_review", "rejected")  # not a chief's business until reviewed
# The workflow time a date range applies to: found (发现), dispatched (交办) or closed (销号).
DateField = Literal["found_at", "dispatched_at", "closed_at"]
DATE_COLUMNS: dict[str, Any] = {"found_at": Ticket.found_at, "dispatched_at": Ticket.dispatched_at,
                                "closed_at": Ticket.closed_at}


@dataclass
class TicketFilter:
    state: list[State] | None = None
    category: list[str] | None = None
    segment_id: list[str] | None = None
    chief: str | None = None
    flight_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    bbox: str | None = None
    overdue: bool | None = None
    source: Literal["flight", "edge"] | None = None
    device: str | None = None
    date_field: DateField = "found_at"

    def bounds(self) -> tuple[float, float, float, float] | None:
        if not self.bbox:
            return None
        try:
            parts = [float(x) for x in self.bbox.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4 or not (-180 <= parts[0] <= parts[2] <= 180 and -90 <= parts[1] <= parts[3] <= 90):
            raise ApiError(422, "bbox must be 'min_lon,min_lat,max_lon,max_lat' in degrees (WGS-84), min <= max")
        return parts[0], parts[1], parts[2], parts[3]

    def where(self, p: Principal) -> list[Any]:
        c: list[Any] = []
        if self.state:
            c.append(Ticket.state.in_(self.state))
        if self.category:
            c.append(Ticket.category.in_(self.category))
        if self.segment_id:
            c.append(Ticket.segment_id.in_(self.segment_id))
        if self.chief:
            c.append(Ticket.chief_name == self.chief)
        if self.flight_id:
            c.append(Ticket.flight_id == self.flight_id)
        when = DATE_COLUMNS[self.date_field]  # a ticket without that time yet is outside any range
        if self.date_from:
            c.append(when >= datetime.combine(self.date_from, time(0), BEIJING))
        if self.date_to:
            c.append(when < datetime.combine(self.date_to + timedelta(days=1), time(0), BEIJING))
        if (b := self.bounds()) is not None:
            c += [Ticket.lon >= b[0], Ticket.lon <= b[2], Ticket.lat >= b[1], Ticket.lat <= b[3]]
        if self.source == "flight":  # a drone flight's ticket; edge cameras' have no flight
            c.append(Ticket.flight_id.is_not(None))
        elif self.source == "edge":
            c.append(Ticket.flight_id.is_(None))
        if self.device:  # an edge box's tickets: those its events made or were added to
            c.append(Ticket.id.in_(sa.select(EdgeEvent.ticket_id).join(Device, Device.id == EdgeEvent.device_id)
                                   .where(Device.name == self.device, EdgeEvent.ticket_id.is_not(None))))
        if self.overdue is not None:
            c.append(Ticket.overdue.is_(self.overdue))
        segs = p.segments()
        if segs is not None:  # a chief: his segments, reviewed tickets only
            c.append(Ticket.segment_id.in_(segs) if segs else sa.false())
            c.append(Ticket.state.not_in(CHIEF_HIDDEN))
        return c


async def ticket_filter(  # async: pure parsing, no thread-pool trip
    state: list[State] | None = Query(None, description="One or more states (repeat the parameter)."),
    category: list[str] | None = Query(None, description="Category ids, e.g. floating_debris (repeatable)."),
    segment_id: list[str] | None = Query(None, description="River segment ids (repeatable)."),
    chief: str | None = Query(None, max_length=128, description="Name of the chief now responsible."),
    flight_id: str | None = Query(None, max_length=64),
    date_from: date | None = Query(None, description="Found on or after this date (Beijing time)."),
    date_to: date | None = Query(None, description="Found on or before this date (Beijing time)."),
    bbox: str | None = Query(None, max_length=200, description="min_lon,min_lat,max_lon,max_lat (WGS-84)."),
    overdue: bool | None = Query(None),
    source: Literal["flight", "edge"] | None = Query(None, description="flight: from drone flights; edge: from fixed cameras."),
    device: str | None = Query(None, max_length=128, description="Name of an edge device (camera box): its tickets."),
) -> TicketFilter:
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "date_from is after date_to")
    if date_from and not (date(1970, 1, 1) <= date_from <= date(9998, 1, 1)):
        raise ApiError(422, "date_from out of range")
    if date_to and not (date(1970, 1, 1) <= date_to <= date(9998, 1, 1)):
        raise ApiError(422, "date_to out of range")
    return TicketFilter(state, category, segment_id, chief, flight_id, date_from, date_to, bbox, overdue, source, device)


def visible(t: Ticket, p: Principal) -> bool:
    segs = p.segments()
    return segs is None or (t.segment_id in segs and t.state not in CHIEF_HIDDEN)
