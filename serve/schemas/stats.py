"""Assessment and the viewer configuration."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field


class AssessmentRow(BaseModel):
    key: str = Field(description="Segment id, or the chief's name.")
    name: str | None
    found: int = Field(description="Tickets confirmed as problems (every state but pending_review and rejected).")
    resolved: int = Field(description="Closed tickets.")
    resolution_rate: float | None
    avg_handling_hours: float | None = Field(description="Mean dispatch-to-close time of closed tickets.")
    overdue: int = Field(description="Tickets that went past their deadline (now or before).")
    open_overdue: int = Field(description="Tickets overdue right now.")


class AssessmentOut(BaseModel):
    date_from: date | None
    date_to: date | None
    by_segment: list[AssessmentRow]
    by_chief: list[AssessmentRow]


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
