"""``Find``: one detection placed on the ground — the unit that rules and de-duplication
work on, and that becomes evidence on a ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Find:
    id: str  # unique within a flight, e.g. "<photo stem>#<index>"
    image: str  # photo path as given
    class_name: str
    score: float
    box: tuple[float, float, float, float]  # pixels of the photo as stored
    lat: float
    lon: float
    error_m: float  # 1-sigma horizontal error estimate of (lat, lon)
    size_m: float | None = None  # ground size of the box's longer side, when known
    time: str | None = None  # ISO 8601 capture time
    # How close to nadir the view was (0 = straight down); used to pick the best evidence.
    off_nadir_deg: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
