"""巡河 patrols: the phone's upload, the server's figures, and the 巡河 assessment."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from heyan.serve.schemas.common import In

MAX_POINTS = 20000  # 5.5 h at one fix a second


class PatrolIn(In):
    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                    description="The phone's id of the patrol (a UUID): a retried upload is stored once.")
    segment_id: str = Field(min_length=1, max_length=128)
    points: list[list[float | None]] = Field(
        min_length=1, max_length=MAX_POINTS,
        description="The GPS track: [unix ms, lat, lon, accuracy m | null] per fix, as the Geolocation API gave them.")
    note: str | None = Field(None, max_length=4000)

    @field_validator("points")
    @classmethod
    def _points(cls, pts: list[list[float | None]]) -> list[list[float | None]]:
        for i, p in enumerate(pts):
            if not 3 <= len(p) <= 4 or any(v is None for v in p[:3]):
                raise ValueError(f"point {i}: expected [unix ms, lat, lon, accuracy m | null]")
            t, lat, lon = float(p[0] or 0), float(p[1] or 0), float(p[2] or 0)
            if not (0 < t < 1e14 and -90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"point {i}: time or position out of range ({t}, {lat}, {lon})")
        return pts


class PatrolOut(BaseModel):
    id: str
    username: str
    segment_id: str
    segment_name: str | None
    river: str | None
    started_at: datetime
    ended_at: datetime
    n_points: int
    length_m: float
    duration_s: float
    coverage: float = Field(description="Share of the segment's length passed within patrol_near_river_m, 0..1.")
    near_river: float = Field(description="Share of the track's points near the segment, 0..1.")
    max_speed_kmh: float
    flags: list[str] = Field(description="too_few_points | too_fast | jump | never_near_river")
    plausible: bool
    note: str | None
    uploaded_at: datetime


class PatrolReport(BaseModel):
    ticket_id: str
    at: datetime
    action: str = Field(description="created: a new ticket; seen_again: added to an open one")


class PatrolDetail(PatrolOut):
    points: list[list[float | None]]
    reports: list[PatrolReport] = Field(default_factory=list, description="Problems reported (问题上报) during this patrol")


class PatrolPage(BaseModel):
    items: list[PatrolOut]
    total: int


class PatrolStatsRow(BaseModel):
    key: str = Field(description="Segment id or chief's user name")
    name: str | None
    patrols: int = Field(description="巡河次数: plausible patrols")
    flagged: int = Field(description="Patrols flagged implausible (not counted above)")
    length_km: float = Field(description="里程 of the plausible patrols")
    hours: float
    coverage: float | None = Field(description="覆盖率: mean coverage of the plausible patrols, 0..1")


class PatrolStats(BaseModel):
    by_segment: list[PatrolStatsRow]
    by_chief: list[PatrolStatsRow]
