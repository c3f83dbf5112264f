"""``CameraPose``: everything known about where a photo was taken from and with what lens.

Angles follow DJI's convention: yaw clockwise from true north in degrees, pitch in degrees
with -90 looking straight down (gimbal) and roll positive right wing down; the rotation
order is ZYX (yaw, then pitch, then roll) in a North-East-Down frame.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CameraPose:
    file: str
    lat: float | None = None
    lon: float | None = None
    rel_alt_m: float | None = None  # above takeoff (DJI RelativeAltitude)
    abs_alt_m: float | None = None  # above the ellipsoid/geoid as the drone reports it
    flight_yaw: float | None = None
    flight_pitch: float | None = None
    flight_roll: float | None = None
    gimbal_yaw: float | None = None
    gimbal_pitch: float | None = None
    gimbal_roll: float | None = None
    time: datetime | None = None
    width: int | None = None  # of the image as stored
    height: int | None = None
    focal_px: float | None = None
    cx: float | None = None
    cy: float | None = None
    focal_source: str | None = None  # which metadata gave focal_px
    distortion: list[float] | None = None  # OpenCV order k1, k2, p1, p2, k3 where known
    make: str | None = None
    model: str | None = None
    rtk_flag: int | None = None
    rtk_std_lon_m: float | None = None
    rtk_std_lat_m: float | None = None
    rtk_std_hgt_m: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time"] = self.time.isoformat() if self.time else None
        return d
