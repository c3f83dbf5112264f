"""Is a rectification photo proof of the site after the 交办? A photo taken before the
ticket was dispatched (last year's, a stock picture) or far from the problem proves
nothing. The photo's own metadata says when and where it was taken; this module reads it
and lists what is wrong. Pure: no server, no database; the caller decides what a problem
means (the server refuses unless the chief writes a reason the reviewer then sees)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from heyan.pipeline.metadata.exif import ContainerError, read_container, read_exif
from heyan.vision.common import BEIJING

# Phone clocks drift and the server's may too: a photo a few minutes "before" the dispatch
# is the same afternoon, not an old picture.
CLOCK_SLACK = timedelta(minutes=10)
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class PhotoFacts:
    """When and where a photo says it was taken (None: the photo does not say)."""

    taken_at: datetime | None = None  # timezone-aware; a camera's zoneless clock is read as Beijing time
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class ProofProblem:
    code: str  # proof_no_time | proof_before_dispatch | proof_no_position | proof_too_far
    detail: str  # English, for scripts and logs; the viewer words the code in Chinese
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ground_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine on the mean Earth radius): metres, good to ~0.3 %."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def photo_facts(path: str | Path) -> PhotoFacts:
    """Time and GPS position from a photo's EXIF. A file without readable EXIF (a PNG, a
    screenshot, a picture whose metadata an app stripped) gives empty facts, not an error:
    the check then says what is missing."""
    try:
        with open(path, "rb") as fh:
            box = read_container(fh)
    except (ContainerError, OSError):
        return PhotoFacts()
    exif, _ = read_exif(box.exif_tiff)
    when = exif.time or exif.gps_time
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=BEIJING)  # a phone's DateTimeOriginal is its local clock
    lat, lon = exif.lat, exif.lon
    if lat is None or lon is None or (lat == 0 and lon == 0) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None  # 0, 0 is "no fix yet", not the Gulf of Guinea
    return PhotoFacts(when, lat, lon)


def check_proof(facts: PhotoFacts, dispatched_at: datetime | None, site_lat: float, site_lon: float,
                max_distance_m: float, now: datetime | None = None) -> list[ProofProblem]:
    """What makes this photo no proof of a rectification dispatched at ``dispatched_at`` of
    the problem at (site_lat, site_lon); empty when it is proof."""
    problems: list[ProofProblem] = []
    if facts.taken_at is None:
        problems.append(ProofProblem("proof_no_time", "the photo carries no capture time (EXIF DateTimeOriginal)"))
    else:
        taken = facts.taken_at.isoformat()
        if dispatched_at is not None and facts.taken_at < dispatched_at - CLOCK_SLACK:
            problems.append(ProofProblem(
                "proof_before_dispatch",
                f"the photo was taken at {taken}, before the ticket was dispatched at {dispatched_at.isoformat()}",
                {"taken_at": taken, "dispatched_at": dispatched_at.isoformat()}))
        elif now is not None and facts.taken_at > now + CLOCK_SLACK:
            problems.append(ProofProblem("proof_in_future", f"the photo's time {taken} is in the future",
                                         {"taken_at": taken}))
    if facts.lat is None or facts.lon is None:
        problems.append(ProofProblem("proof_no_position", "the photo carries no GPS position (EXIF GPS)"))
    else:
        d = ground_distance_m(facts.lat, facts.lon, site_lat, site_lon)
        if d > max_distance_m:
            problems.append(ProofProblem(
                "proof_too_far", f"the photo was taken {d:.0f} m from the problem (at most {max_distance_m:g} m)",
                {"distance_m": round(d, 1), "max_distance_m": max_distance_m}))
    return problems

