"""River network: where on the river is a point on the ground?

``load_network(path)`` reads the office's GeoJSON network (docs/rivers.md; parsing and
validation in ``pipeline.geo.rivers_schema``) into a ``RiverNetwork``. ``RiverNetwork.locate``
answers, for thousands of points at once: nearest segment (河段) and its chiefs, chainage
along the segment and along the river, distance to the centreline, bank side (左岸/右岸,
facing downstream), inside the management zone (河道管理范围) or not, inside which sand-mining
areas, near which registered structure / outfall, and on water or not.

Metric work is done in one UTM zone chosen from the centre of the network (pyproj), with
the zone's scale factor at that centre taken out, so metres are ground metres (to ~1e-5 at
county scale). A network spanning many zones still uses one
(distances far from it are stretched; a warning says by how much).

Geometry convention: segment centrelines are drawn *downstream*. The left bank (左岸) is on
the left of an observer looking downstream, i.e. on the left of the line's direction.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Proj
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from heyan.pipeline.geo.rivers_schema import (
    Chief,
    Chiefs,
    ClosedSeason,
    MiningArea,
    Outfall,
    ParsedNetwork,
    RegisteredStructure,
    RiverNetworkError,
    Segment,
    Zone,
    parse_network,
)
from heyan.pipeline.geo.utm import WGS84, transformer, utm_epsg
from heyan.vision.common import unreadable_reason

__all__ = [
    "Chief",
    "Chiefs",
    "ClosedSeason",
    "MiningArea",
    "Outfall",
    "Place",
    "RegisteredStructure",
    "RiverNetwork",
    "RiverNetworkError",
    "Segment",
    "Zone",
    "load_network",
]

log = logging.getLogger("heyan.rivers")

BANK_ZH = {"left": "左岸", "right": "右岸"}
DEFAULT_MAX_DISTANCE_M = 500.0
NEAR_RADIUS_M = 100.0  # how far to look for a registered structure / outfall
_ON_LINE_M = 0.01  # closer than this to the centreline: no bank side
_CHAIN_TOL_M = 10.0  # segment end -> next segment start tolerance when chaining a river


@dataclass(frozen=True)
class Place:
    """Where a ground point is on the river network (``RiverNetwork.locate``)."""

    lat: float
    lon: float
    segment_id: str
    segment_name: str
    river: str
    chainage_km: float  # along the segment from its (upstream) start
    river_km: float  # along the river: the segment's start on its river + chainage_km
    distance_m: float  # to the centreline
    bank: str | None  # "left" | "right" facing downstream; None on the centreline itself
    in_zone: bool  # inside a management zone (河道管理范围) of any segment
    on_water: bool | None  # None: the network says nothing about water here
    chiefs: Chiefs
    mining_area_ids: tuple[str, ...] = ()  # every mining area containing the point
    prohibited_area: bool = False  # inside a 禁采区
    mining_areas: tuple[MiningArea, ...] = field(default=(), repr=False)
    closed_seasons: tuple[ClosedSeason, ...] = field(default=(), repr=False)  # that apply here
    registered_structure_id: str | None = None  # nearest within NEAR_RADIUS_M
    registered_structure_distance_m: float | None = None  # 0 inside a polygon
    outfall_id: str | None = None  # nearest registered outfall within NEAR_RADIUS_M
    outfall_distance_m: float | None = None

    @property
    def bank_zh(self) -> str | None:
        return BANK_ZH.get(self.bank) if self.bank else None

    @property
    def permitted_areas(self) -> tuple[MiningArea, ...]:
        return tuple(a for a in self.mining_areas if a.permitted)

    @property
    def prohibited_areas(self) -> tuple[MiningArea, ...]:
        return tuple(a for a in self.mining_areas if not a.permitted)

    def closed_season_on(self, day: date) -> ClosedSeason | None:
        """The first closed season (禁采期) of this place that contains ``day`` (local date)."""
        return next((s for s in self.closed_seasons if s.contains(day)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lat": self.lat, "lon": self.lon, "segment_id": self.segment_id, "segment_name": self.segment_name,
            "river": self.river, "chainage_km": round(self.chainage_km, 4), "river_km": round(self.river_km, 4),
            "distance_m": round(self.distance_m, 2), "bank": self.bank, "bank_zh": self.bank_zh,
            "in_zone": self.in_zone, "on_water": self.on_water, "chiefs": self.chiefs.to_dict(),
            "mining_area_ids": list(self.mining_area_ids), "prohibited_area": self.prohibited_area,
            "closed_season_ids": [s.id for s in self.closed_seasons],
            "registered_structure_id": self.registered_structure_id,
            "registered_structure_distance_m": self.registered_structure_distance_m,
            "outfall_id": self.outfall_id, "outfall_distance_m": self.outfall_distance_m,
        }


def load_network(path: str | Path) -> RiverNetwork:
    """Read and validate a river network GeoJSON file (raises RiverNetworkError)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="strict")
    except OSError as exc:
        raise RiverNetworkError(str(path), [unreadable_reason(exc, "a GeoJSON file")]) from None
    except UnicodeDecodeError as exc:
        raise RiverNetworkError(str(path), [f"not UTF-8 text (byte {exc.start}); save the GeoJSON as UTF-8"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RiverNetworkError(str(path), [f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
    return RiverNetwork.from_geojson(data, source=str(path))


class RiverNetwork:
    """A validated river network with spatial indexes in the local UTM zone."""

    def __init__(self, parsed: ParsedNetwork, source: str = "<network>") -> None:
        self.source = source
        self.name = parsed.name
        self.plain = parsed.plain
        self.default_buffer_m = parsed.default_buffer_m
        self.segments: list[Segment] = parsed.segments
        self.mining_areas: list[MiningArea] = parsed.mining_areas
        self.closed_seasons: list[ClosedSeason] = parsed.closed_seasons
        self.outfalls: list[Outfall] = parsed.outfalls
        self.structures: list[RegisteredStructure] = parsed.structures
        self.zones: list[Zone] = parsed.zones
        self.warnings: list[str] = list(parsed.warnings)
        self._by_id = {s.id: s for s in self.segments}

        minx, miny, maxx, maxy = shapely.total_bounds([s.line for s in self.segments])
        self.epsg = utm_epsg((minx + maxx) / 2, (miny + maxy) / 2)
        self._to_utm = transformer(WGS84, self.epsg)
        # UTM grid metres are ground metres times the point scale factor (0.9996 on the central
        # meridian, ~1.0004 at the zone edge); one factor for the network's centre turns grid
        # lengths back into ground metres (exact to ~1e-5 over a county).
        self.scale = float(Proj(f"EPSG:{self.epsg}").get_factors((minx + maxx) / 2, (miny + maxy) / 2).meridional_scale)
        self._to_ll = transformer(self.epsg, WGS84)
        cm = (self.epsg % 100) * 6 - 183
        far = max(abs(minx - cm), abs(maxx - cm))
        if far > 4.5:  # beyond the zone's own +-3 deg (plus a margin)
            low_lat = 0.0 if miny <= 0 <= maxy else min(abs(miny), abs(maxy))
            c = math.cos(math.radians(low_lat)) * math.sin(math.radians(min(far, 80.0)))
            stretch = 0.9996 / math.sqrt(1 - c * c) - 1  # transverse Mercator point scale
            self.warnings.append(
                f"the network spans {minx:.1f}..{maxx:.1f} deg E but uses one UTM zone (EPSG:{self.epsg}); "
                f"distances far from it are stretched by up to ~{stretch:.0%}")

        self._build()
        for w in self.warnings:
            log.warning("%s: %s", source, w)

    @classmethod
    def from_geojson(cls, data: dict[str, Any], source: str = "<geojson>") -> RiverNetwork:
        return cls(parse_network(data, source), source)

    # ------------------------------------------------------------------ building

    def _proj(self, geom: BaseGeometry) -> BaseGeometry:
        def f(xy: np.ndarray) -> np.ndarray:
            x, y = self._to_utm.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, f)

    def _unproj(self, geom: BaseGeometry) -> BaseGeometry:
        def f(xy: np.ndarray) -> np.ndarray:
            x, y = self._to_ll.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, f)

    def _build(self) -> None:
        segs = self.segments
        self._lines = np.array([self._proj(s.line) for s in segs], dtype=object)
        self._lengths = shapely.length(self._lines)
        self._tree = STRtree(self._lines)

        zones_m = [(z, self._proj(z.geometry)) for z in self.zones]
        water = [g for z, g in zones_m if z.zone_type == "water"]
        self._water = shapely.union_all(water) if water else None
        if self._water is not None:
            shapely.prepare(self._water)
        tagged: dict[str, list[BaseGeometry]] = {}
        untagged: list[BaseGeometry] = []
        water_seg: set[str] = set()
        for z, g in zones_m:
            if z.zone_type == "management":
                (tagged.setdefault(z.segment_id, []) if z.segment_id else untagged).append(g)
            elif z.segment_id:
                water_seg.add(z.segment_id)
        untagged_u = shapely.union_all(untagged) if untagged else None

        self._seg_zone: dict[str, BaseGeometry] = {}
        defaulted: list[str] = []
        for s, line in zip(segs, self._lines):
            if s.id in tagged:
                zone = shapely.union_all(tagged[s.id])
            elif s.buffer_left_m is not None:
                zone = self._buffer(line, s.buffer_left_m, s.buffer_right_m or 0.0, s.width_m, self.scale)
            elif untagged_u is not None and untagged_u.intersects(line):
                zone = shapely.union_all([g for g in shapely.get_parts(untagged_u) if g.intersects(line)])
            else:
                zone = self._buffer(line, self.default_buffer_m, self.default_buffer_m, s.width_m, self.scale)
                defaulted.append(s.id)
            self._seg_zone[s.id] = zone
        if defaulted and not self.plain:
            self.warnings.append(
                f"{len(defaulted)} segment(s) have no management zone (polygon or buffer_m): using the default "
                f"{self.default_buffer_m:g} m per bank: {', '.join(defaulted[:8])}{' ...' if len(defaulted) > 8 else ''}")
        self._zone = shapely.union_all(list(self._seg_zone.values()) + ([untagged_u] if untagged_u else []))
        shapely.prepare(self._zone)

        # Which segments can say "not on water": width given, or a water polygon touches them.
        self._has_water = np.array([s.width_m is not None or s.id in water_seg or
                                    (self._water is not None and self._water.intersects(line))
                                    for s, line in zip(segs, self._lines)])
        self._width = np.array([s.width_m if s.width_m is not None else np.nan for s in segs])

        self._mining_geoms = np.array([self._proj(a.geometry) for a in self.mining_areas], dtype=object)
        self._mining_tree = STRtree(self._mining_geoms) if len(self.mining_areas) else None
        self._struct_tree = STRtree([self._proj(x.geometry) for x in self.structures]) if self.structures else None
        self._outfall_tree = STRtree([self._proj(x.geometry) for x in self.outfalls]) if self.outfalls else None

        self._seg_seasons: list[tuple[ClosedSeason, ...]] = [
            tuple(c for c in self.closed_seasons if c.geometry is None and c.applies_to(s)) for s in segs]
        self._geo_seasons = [(c, self._proj(c.geometry)) for c in self.closed_seasons if c.geometry is not None]
        self._river_start_m = self._chain_rivers()

    @staticmethod
    def _buffer(line: BaseGeometry, left: float, right: float, width: float | None, k: float) -> BaseGeometry:
        """Management zone from widths per bank; measured from the water's edge when the water
        width is known (half the width each side of the centreline), else from the centreline."""
        half = (width or 0.0) / 2
        parts = []
        if left + half > 0:
            parts.append(shapely.buffer(line, (left + half) * k, single_sided=True))
        if right + half > 0:
            parts.append(shapely.buffer(line, -(right + half) * k, single_sided=True))
        if not parts:
            return shapely.Polygon()
        return shapely.union_all(parts)

    def _chain_rivers(self) -> np.ndarray:
        """Start of each segment along its river (m): explicit ``river_start_km``, else the
        longest chain of same-river segments whose end meets this segment's start (10 m)."""
        n = len(self.segments)
        starts = shapely.get_point(shapely.get_geometry(self._lines, 0), 0)
        ends = shapely.get_point(shapely.get_geometry(self._lines, -1), -1)
        rivers = np.array([s.river for s in self.segments], dtype=object)
        e_idx, s_idx = STRtree(starts).query(ends, predicate="dwithin", distance=_CHAIN_TOL_M)
        keep = (rivers[e_idx] == rivers[s_idx]) & (e_idx != s_idx)
        up: dict[int, list[int]] = {}
        for j, i in zip(e_idx[keep].tolist(), s_idx[keep].tolist()):
            up.setdefault(i, []).append(j)
        out = np.full(n, np.nan)
        for i, s in enumerate(self.segments):
            if s.river_start_km is not None:
                out[i] = s.river_start_km * 1000.0 * self.scale  # grid metres, like the lengths
        # Longest upstream path, iteratively (rivers can have thousands of segments).
        state = np.zeros(n, np.int8)  # 0 new, 1 on the stack, 2 done
        cycle = False
        for root in range(n):
            if state[root]:
                continue
            stack = [root]
            while stack:
                i = stack[-1]
                if state[i] == 0:
                    state[i] = 1
                    if np.isnan(out[i]):
                        for j in up.get(i, ()):
                            if state[j] == 0:
                                stack.append(j)
                            elif state[j] == 1:
                                cycle = True
                    continue
                stack.pop()
                if state[i] == 2:
                    continue
                state[i] = 2
                if np.isnan(out[i]):
                    prev = [out[j] + self._lengths[j] for j in up.get(i, ()) if state[j] == 2 and not np.isnan(out[j])]
                    out[i] = max(prev, default=0.0)
        if cycle:
            self.warnings.append("segments of one river form a loop; along-river chainage may be wrong there")
        return out

    # ------------------------------------------------------------------ queries

    def length_km(self, segment_id: str) -> float:
        """Ground length of a segment's centreline in km (grid metres back to ground metres)."""
        i = self.segments.index(self.segment(segment_id))
        return float(self._lengths[i]) / self.scale / 1000.0

    def segment(self, segment_id: str) -> Segment:
        return self._by_id[segment_id]

    def segment_bbox(self, segment_id: str, with_zone: bool = True) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat) of a segment (and its management zone)."""
        if with_zone:
            return tuple(float(v) for v in self.zone_polygons_lonlat()[segment_id].union(
                self._by_id[segment_id].line).bounds)  # type: ignore[return-value]
        return tuple(float(v) for v in self._by_id[segment_id].line.bounds)  # type: ignore[return-value]

    @cached_property
    def _zones_ll(self) -> dict[str, BaseGeometry]:
        return {sid: self._unproj(g) for sid, g in self._seg_zone.items()}

    def zone_polygons_lonlat(self) -> dict[str, BaseGeometry]:
        """segment id -> its management zone polygon in lon/lat."""
        return dict(self._zones_ll)

    @cached_property
    def _zone_union_ll(self) -> BaseGeometry:
        g = self._unproj(self._zone)
        shapely.prepare(g)
        return g

    def zone_union_lonlat(self) -> BaseGeometry:
        """Union of every management zone, lon/lat (prepared; use ``.intersects(footprint)``)."""
        return self._zone_union_ll

    def water_union_lonlat(self) -> BaseGeometry | None:
        return self._unproj(self._water) if self._water is not None else None

    def intersects_zone(self, geom_lonlat: BaseGeometry, margin_m: float = 0.0) -> bool:
        """Does a lon/lat geometry (e.g. a photo footprint) touch the management zone, or come
        within ``margin_m`` of it?"""
        g = self._proj(geom_lonlat)
        if margin_m > 0:
            return bool(shapely.dwithin(self._zone, g, margin_m * self.scale))
        return bool(self._zone.intersects(g))

    def locate_one(self, lat: float, lon: float, max_distance_m: float = DEFAULT_MAX_DISTANCE_M) -> Place | None:
        return self.locate([lat], [lon], max_distance_m)[0]

    def locate(self, lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray,
               max_distance_m: float = DEFAULT_MAX_DISTANCE_M) -> list[Place | None]:
        """Place of each (lat, lon); None where no segment is within ``max_distance_m``."""
        lat = np.atleast_1d(np.asarray(lats, dtype=float))
        lon = np.atleast_1d(np.asarray(lons, dtype=float))
        if lat.shape != lon.shape or lat.ndim != 1:
            raise ValueError(f"lats and lons must be 1-D of the same length, got {lat.shape} and {lon.shape}")
        result: list[Place | None] = [None] * len(lat)
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        if not ok.any():
            return result
        x = np.full(len(lat), np.nan)
        y = np.full(len(lat), np.nan)
        x[ok], y[ok] = self._to_utm.transform(lon[ok], lat[ok])
        ok &= np.isfinite(x) & np.isfinite(y)
        sel = np.flatnonzero(ok)
        pts = shapely.points(x[sel], y[sel])
        k_ = self.scale
        qi, si = self._tree.query_nearest(pts, max_distance=max_distance_m * k_, all_matches=False)
        if len(qi) == 0:
            return result
        idx = sel[qi]  # index into the input
        px, py = x[idx], y[idx]
        p = pts[qi]
        lines = self._lines[si]
        length = self._lengths[si]
        along = shapely.line_locate_point(lines, p)
        dist = shapely.distance(lines, p) / k_  # ground metres
        # Local downstream direction: chord over +-eps around the nearest point (at a vertex it
        # bisects the two edges, which gives the right side for every point whose nearest
        # centreline point is that vertex).
        eps = np.minimum(1.0, length / 4)
        a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(along - eps, 0, length)))
        b = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(along + eps, 0, length)))
        q = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
        tx, ty = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        cross = tx * (py - q[:, 1]) - ty * (px - q[:, 0])
        in_zone = shapely.intersects_xy(self._zone, px, py)

        on_water = np.full(len(idx), np.nan)  # 1 / 0 / nan
        if self._water is not None:
            wet = shapely.intersects_xy(self._water, px, py)
        else:
            wet = np.zeros(len(idx), bool)
        width = self._width[si]
        has = self._has_water[si]
        on_water[has] = 0.0
        band = ~np.isnan(width)
        on_water[band] = (dist[band] <= width[band] / 2).astype(float)
        on_water[wet] = 1.0

        mining: dict[int, list[int]] = {}
        if self._mining_tree is not None:
            pi, mi = self._mining_tree.query(p, predicate="intersects")
            for k, m in zip(pi.tolist(), mi.tolist()):
                mining.setdefault(k, []).append(m)
        struct = self._nearest(self._struct_tree, p, k_)
        outf = self._nearest(self._outfall_tree, p, k_)
        geo_seasons: dict[int, list[ClosedSeason]] = {}
        for season, g in self._geo_seasons:
            for k in np.flatnonzero(shapely.intersects_xy(g, px, py)).tolist():
                if season.applies_to(self.segments[int(si[k])]):
                    geo_seasons.setdefault(k, []).append(season)

        segs = self.segments
        for k in range(len(idx)):
            j = int(si[k])
            s = segs[j]
            areas = tuple(self.mining_areas[m] for m in sorted(mining.get(k, ())))
            c = cross[k]
            st = struct.get(k)
            of = outf.get(k)
            w = on_water[k]
            result[int(idx[k])] = Place(
                lat=float(lat[idx[k]]), lon=float(lon[idx[k]]),
                segment_id=s.id, segment_name=s.name, river=s.river,
                chainage_km=float(along[k]) / k_ / 1000.0,
                river_km=float(self._river_start_m[j] + along[k]) / k_ / 1000.0,
                distance_m=float(dist[k]),
                bank=None if dist[k] < _ON_LINE_M or c == 0 else ("left" if c > 0 else "right"),
                in_zone=bool(in_zone[k]),
                on_water=None if np.isnan(w) else bool(w),
                chiefs=s.chiefs,
                mining_area_ids=tuple(a.id for a in areas),
                prohibited_area=any(not a.permitted for a in areas),
                mining_areas=areas,
                closed_seasons=self._seg_seasons[j] + tuple(geo_seasons.get(k, ())),
                registered_structure_id=self.structures[st[0]].id if st else None,
                registered_structure_distance_m=st[1] if st else None,
                outfall_id=self.outfalls[of[0]].id if of else None,
                outfall_distance_m=of[1] if of else None,
            )
        return result

    @staticmethod
    def _nearest(tree: STRtree | None, p: np.ndarray, scale: float) -> dict[int, tuple[int, float]]:
        if tree is None:
            return {}
        (pi, ti), d = tree.query_nearest(p, max_distance=NEAR_RADIUS_M * scale, return_distance=True,
                                         all_matches=False)
        return {int(k): (int(t), float(dd) / scale) for k, t, dd in zip(pi, ti, d)}

    def __repr__(self) -> str:
        return (f"RiverNetwork({self.name or self.source!r}, {len(self.segments)} segments, "
                f"{len(self.mining_areas)} mining areas, EPSG:{self.epsg})")

