"""一河一档: the archive of a river segment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ChiefOut(BaseModel):
    level: str
    name: str
    phone: str | None
    department: str | None


class ZoneOut(BaseModel):
    kind: str = Field(description="management (河道管理范围) or water")
    area_m2: float
    source: str = Field(description="polygon (drawn in the network) or buffer (the segment's buffer_m / default)")


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM, Beijing time")
    found: int
    closed: int


class TicketBrief(BaseModel):
    id: str
    state: str
    category: str | None
    category_zh: str | None
    found_at: datetime
    deadline: datetime | None
    overdue: bool


class PatrolBrief(BaseModel):
    id: str
    username: str
    started_at: datetime
    length_m: float
    duration_s: float
    coverage: float
    plausible: bool
    flags: list[str]


class FlightBrief(BaseModel):
    id: str
    name: str
    created_at: datetime
    detections: int = Field(description="Detections of the flight placed on this segment")


class OutfallOut(BaseModel):
    id: str
    name: str | None
    outfall_type: str
    lat: float
    lon: float
    cameras: list[str] = Field(description="Edge cameras (box/camera) that reported events at this outfall")
    events: int = Field(description="Discharge / colour events reported at this outfall")
    last_event_at: datetime | None
    last_inspection_at: datetime | None = Field(description="The latest event or ticket at this outfall")
    open_tickets: int


class SegmentArchive(BaseModel):
    id: str
    name: str | None
    river: str | None
    length_m: float
    network_version: int
    chiefs: list[ChiefOut]
    zones: list[ZoneOut]
    tickets_by_state: dict[str, int]
    tickets_by_month: list[MonthCount]
    recent_tickets: list[TicketBrief]
    patrols: dict[str, Any] = Field(description="巡河次数 (plausible), flagged, 里程 km, mean coverage")
    recent_patrols: list[PatrolBrief]
    flights: list[FlightBrief]
    outfalls: list[OutfallOut]


class RiverIndex(BaseModel):
    river: str
    segments: list[dict[str, Any]]
