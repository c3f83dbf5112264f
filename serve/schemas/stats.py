"""Assessment (考核) and the viewer configuration."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from heyan.serve.ticket_query import DateField
from heyan.serve.workflow import REJECT_REASONS


class AssessmentRow(BaseModel):
    key: str | None = Field(description="Segment id, or the chief's name; null: tickets with no segment / not yet dispatched.")
    name: str | None
    river: str | None = Field(None, description="Segment rows: the river.")
    level: str | None = Field(None, description="Chief rows: the chief's level in the river network (village/township/county).")
    length_km: float | None = Field(None, description="Segment rows: centreline length; the total: the network's.")
    found: int = Field(description="Tickets confirmed as problems (every state but pending_review and rejected).")
    dispatched: int = Field(description="Of those, dispatched (交办) at least once.")
    closed: int = Field(description="Closed (销号) tickets.")
    closure_rate: float | None = Field(description="销号率: closed / found.")
    due: int = Field(description="Dispatched tickets whose rectification fell due: reported rectified, or past the deadline.")
    on_time: int = Field(description="Reported rectified (and not sent back) without ever going past the deadline.")
    on_time_rate: float | None = Field(description="整改按期率: on_time / due.")
    overdue: int = Field(description="Tickets that went past their deadline (now or before).")
    open_overdue: int = Field(description="Tickets overdue right now.")
    avg_handling_hours: float | None = Field(description="Mean dispatch-to-close time of closed tickets.")
    finds_per_km: float | None = Field(None, description="发现率: found / length_km (segment rows and the total).")


class WeekRow(BaseModel):
    week: date = Field(description="Monday of the week (Beijing time).")
    category: str | None
    category_zh: str | None = Field(description="The category's Chinese name (from the rules).")
    found: int = Field(description="Problems found that week (found_at).")
    closed: int = Field(description="Problems closed that week (closed_at).")


class AssessmentOut(BaseModel):
    date_field: DateField = Field(description="The workflow time the date range applies to.")
    date_from: date | None
    date_to: date | None
    by_segment: list[AssessmentRow] = Field(description="Every segment of the river network in force, zeros included.")
    by_chief: list[AssessmentRow] = Field(description="Every chief of the network, zeros included; a ticket counts "
                                          "for the chief it was first dispatched to.")
    total: AssessmentRow = Field(description="The grand total: each table's rows add up to it.")
    flights: int = Field(description="Flights uploaded in the date range (whole network).")
    finds_per_flight: float | None = Field(description="发现率 per flight: found tickets from flights / flights.")
    weekly: list[WeekRow]


class MBTilesBasemap(BaseModel):
    url: str = Field(description="XYZ template of the server's tile route.")
    format: str
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None = Field(None, description="west, south, east, north (WGS-84).")
    name: str | None = None


class ViewerConfig(BaseModel):
    """What the web viewer needs to know before login."""
    version: str
    tile_url: str | None = Field(None, description="XYZ tile URL template of an intranet tile server, or null.")
    tile_datum: Literal["wgs84", "gcj02"] = Field("wgs84", description="Datum of the tile_url tiles; gcj02: the viewer shifts WGS-84 features onto them.")
    mbtiles: MBTilesBasemap | None = Field(None, description="The office's MBTiles basemap served by this server, or null.")
    reject_reasons: list[str] = Field(default_factory=lambda: list(REJECT_REASONS),
                                      description="Reject reasons (误报 types) a reviewer may give, in display order.")
