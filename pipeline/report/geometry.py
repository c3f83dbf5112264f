"""Where the report's map looks and how metres become drawing units.

The map shows the flight, not the river: its extent is the extent of the photo footprints
and the tickets (in the local UTM zone, so a metre is a metre in both directions), grown by
a margin and then, only if the flight is very long and thin, in its short direction to an
aspect a page can hold. Pure functions: tested without drawing anything."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyproj import Transformer

from heyan.pipeline.geo.utm import utm_epsg

LonLat = tuple[float, float]

# Height / width of the drawing; a flight thinner than this is drawn with more of its
# surroundings rather than as a sliver.
MIN_ASPECT = 0.45
MAX_ASPECT = 1.4
MARGIN_FRACTION = 0.06  # of the larger side, on every side
MIN_MARGIN_M = 25.0


@dataclass(frozen=True)
class Extent:
    """A box in local metres (x east, y north)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def contains(self, other: Extent, tol: float = 1e-6) -> bool:
        return (self.x0 <= other.x0 + tol and self.y0 <= other.y0 + tol
                and self.x1 >= other.x1 - tol and self.y1 >= other.y1 - tol)


def bounds(points: Iterable[tuple[float, float]]) -> Extent | None:
    xs: list[float] = []
    ys: list[float] = []
    for x, y in points:
        if math.isfinite(x) and math.isfinite(y):
            xs.append(x)
            ys.append(y)
    if not xs:
        return None
    return Extent(min(xs), min(ys), max(xs), max(ys))


def map_extent(flight: Extent, margin_fraction: float = MARGIN_FRACTION, min_margin_m: float = MIN_MARGIN_M,
               min_aspect: float = MIN_ASPECT, max_aspect: float = MAX_ASPECT) -> Extent:
    """The drawing's extent: ``flight`` plus a margin on every side, then widened (about
    its centre) in the short direction only if its height/width falls outside
    [min_aspect, max_aspect]. A single point gets a square of twice the minimum margin."""
    margin = max(min_margin_m, margin_fraction * max(flight.width, flight.height))
    e = Extent(flight.x0 - margin, flight.y0 - margin, flight.x1 + margin, flight.y1 + margin)
    aspect = e.height / e.width
    cx, cy = (e.x0 + e.x1) / 2, (e.y0 + e.y1) / 2
    if aspect < min_aspect:
        h = e.width * min_aspect
        e = Extent(e.x0, cy - h / 2, e.x1, cy + h / 2)
    elif aspect > max_aspect:
        w = e.height / max_aspect
        e = Extent(cx - w / 2, e.y0, cx + w / 2, e.y1)
    return e


class LocalFrame:
    """WGS-84 lon/lat <-> metres in the UTM zone of a reference point (the flight's centre)."""

    def __init__(self, lon: float, lat: float) -> None:
        self.epsg = utm_epsg(lon, lat)
        self._fwd = Transformer.from_crs("EPSG:4326", f"EPSG:{self.epsg}", always_xy=True)
        # Grid north differs from true north by the meridian convergence; the north arrow
        # points to true north, so it is measured here rather than assumed to be "up".
        x0, y0 = self._fwd.transform(lon, lat)
        x1, y1 = self._fwd.transform(lon, lat + 0.001)
        self.north_deg = math.degrees(math.atan2(x1 - x0, y1 - y0))  # clockwise from grid up

    @classmethod
    def around(cls, points: Sequence[LonLat]) -> LocalFrame:
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        return cls((min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._fwd.transform(lon, lat)
        return float(x), float(y)

    def many(self, points: Sequence[LonLat]) -> list[tuple[float, float]]:
        if not points:
            return []
        xs, ys = self._fwd.transform([p[0] for p in points], [p[1] for p in points])
        return [(float(x), float(y)) for x, y in zip(xs, ys)]


@dataclass(frozen=True)
class Canvas:
    """The extent laid on a drawing ``width`` units wide (y down); height follows the aspect."""

    extent: Extent
    width: float

    @property
    def scale(self) -> float:  # drawing units per metre
        return self.width / self.extent.width

    @property
    def height(self) -> float:
        return self.extent.height * self.scale

    def px(self, x: float, y: float) -> tuple[float, float]:
        return ((x - self.extent.x0) * self.scale, (self.extent.y1 - y) * self.scale)


def nice_length(max_m: float) -> float:
    """The longest 1, 2 or 5 x 10^n metres not above ``max_m``: the scale bar's length."""
    if max_m <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(max_m))
    return float(max(m * p for m in (1, 2, 5) if m * p <= max_m))


def length_label(m: float) -> str:
    return f"{m / 1000:g} km" if m >= 1000 else f"{m:g} m"
