"""巡河 figures of one GPS track against its river segment: length, duration, how much of
the segment it passed near (coverage), and the signs of a patrol that exists only on paper
(巡河形式化): speeds no walker or boat reaches, jumps, a track that never came near the
river. Pure: a list of points and a segment line in, numbers and flags out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from heyan.pipeline.geo.utm import lonlat_to_utm, utm_epsg

# Phone fixes a second apart jitter by metres; a speed is measured over at least this long
# so a standing chief with a wobbling fix is not "driving at 70 km/h".
SPEED_WINDOW_S = 10.0
FLAGS = ("too_few_points", "too_fast", "jump", "never_near_river")


@dataclass(frozen=True)
class TrackPoint:
    t_ms: float  # Unix time, milliseconds (the Geolocation API's timestamp)
    lat: float
    lon: float
    accuracy_m: float | None = None

    @classmethod
    def from_list(cls, row: list[Any]) -> TrackPoint:
        return cls(float(row[0]), float(row[1]), float(row[2]), None if len(row) < 4 or row[3] is None else float(row[3]))


@dataclass(frozen=True)
class PatrolLimits:
    near_m: float = 100.0  # a point this close to the segment is on the river
    max_speed_kmh: float = 60.0
    max_jump_m: float = 1000.0


@dataclass(frozen=True)
class PatrolFigures:
    n_points: int
    length_m: float
    duration_s: float
    coverage: float  # share of the segment's length passed within near_m, 0..1
    near_river: float  # share of the track's points within near_m of the segment, 0..1
    max_speed_kmh: float
    flags: tuple[str, ...]

    @property
    def plausible(self) -> bool:
        return not self.flags


def patrol_figures(points: list[TrackPoint], segment_line: BaseGeometry, limits: PatrolLimits = PatrolLimits()) -> PatrolFigures:
    """Figures of a track (points in time order) on a segment (lon/lat line, WGS-84). Metric
    work is in the segment's UTM zone."""
    pts = sorted(points, key=lambda p: p.t_ms)
    cx, cy = segment_line.centroid.x, segment_line.centroid.y
    epsg = utm_epsg(cx, cy)
    line_m = _project(segment_line, epsg)
    if len(pts) < 2:
        near = 0.0
        if pts:
            e, n = lonlat_to_utm(epsg, pts[0].lon, pts[0].lat)
            near = float(line_m.distance(Point(float(e), float(n))) <= limits.near_m)
        flags = ["too_few_points"] + ([] if near else ["never_near_river"])
        return PatrolFigures(len(pts), 0.0, 0.0, 0.0, near, 0.0, tuple(flags))

    e, n = lonlat_to_utm(epsg, np.array([p.lon for p in pts]), np.array([p.lat for p in pts]))
    t = np.array([p.t_ms for p in pts]) / 1000.0
    steps = np.hypot(np.diff(e), np.diff(n))
    jumps = steps > limits.max_jump_m
    length = float(steps[~jumps].sum())  # a jump is not distance walked
    duration = float(t[-1] - t[0])
    speed = _max_speed_kmh(e, n, t)

    dist = shapely.distance(shapely.points(e, n), line_m)
    near_mask = dist <= limits.near_m
    # The track split where it jumped: a straight line across a jump passed nothing.
    pieces = np.split(np.column_stack([e, n]), np.nonzero(jumps)[0] + 1)
    parts = [LineString(p) for p in pieces if len(p) >= 2] + [Point(p[0]) for p in pieces if len(p) == 1]
    swath = shapely.union_all([g.buffer(limits.near_m) for g in parts])
    total = float(line_m.length)
    coverage = float(line_m.intersection(swath).length / total) if total > 0 else 0.0

    flags = []
    if speed > limits.max_speed_kmh:
        flags.append("too_fast")
    if jumps.any():
        flags.append("jump")
    if not near_mask.any():
        flags.append("never_near_river")
    return PatrolFigures(len(pts), round(length, 1), round(duration, 1), round(min(coverage, 1.0), 4),
                         round(float(near_mask.mean()), 4), round(speed, 1), tuple(flags))


def _max_speed_kmh(e: np.ndarray, n: np.ndarray, t: np.ndarray) -> float:
    """The highest speed over any stretch at least SPEED_WINDOW_S long (two pointers)."""
    best = 0.0
    j = 0
    for i in range(len(t)):
        j = max(j, i + 1)
        while j < len(t) and t[j] - t[i] < SPEED_WINDOW_S:
            j += 1
        if j >= len(t):
            break
        # Distance along the track, not the chord: a boat zig-zagging is as fast as it moves.
        d = float(np.hypot(np.diff(e[i:j + 1]), np.diff(n[i:j + 1])).sum())
        best = max(best, d / (t[j] - t[i]) * 3.6)
    return best


def _project(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    def f(xy: np.ndarray) -> np.ndarray:
        x, y = lonlat_to_utm(epsg, xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, f)
