"""A synthetic georeferenced world for survey-flight simulation.

A meandering river (30-120 m wide) with banks, a levee road, a field patchwork, fish ponds,
a village with roads and trees, outfalls, a permitted sand-mining area, and objects of the
five detector classes at known positions, laid on real WGS-84 coordinates near a town in
Zhejiang (default around 30.52 N, 119.97 E). Everything is deterministic from the seed.

World coordinates are metres East-North-Up in ``pipeline.geo.utm.LocalFrame`` centred on the
world origin, so they map to UTM and lat/lon exactly as ``pipeline.geo.georef`` maps pixels.
The ground is flat, at height 0 (= the water level = the takeoff level of the flights).

Angles inside the world are mathematical (radians, counter-clockwise from east); files and
poses use compass degrees (clockwise from north), as DJI does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

import heyan.datasets.synthetic.sprites as sp
from heyan.datasets.synthetic.scenes import SIZE_M, SPRITES
from heyan.datasets.synthetic.textures import LAND_COLOURS_BGR, WATER_COLOURS_BGR, fractal_noise
from heyan.pipeline.geo.utm import LocalFrame
from heyan.vision.classes import info as class_info

DEFAULT_LAT = 30.52
DEFAULT_LON = 119.97

# Fictional names: the world is made up, so are the offices and people in it.
RIVER_NAMES = ("清溪", "白鹭溪", "青石港", "柳塘河", "双桥港", "龙潭溪", "苕塘港")
TOWNS = ("青石镇", "白鹭镇", "柳湾镇", "双桥镇", "新塘镇", "沙埠镇")
VILLAGES = ("东林村", "西岸村", "南埭村", "北塘村", "沙湾村", "桥头村", "下渚村", "杨家村", "芦花村")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡沈钱郑"
GIVEN = ("建国", "国强", "海燕", "志明", "丽华", "伟", "静", "晓东", "红梅", "卫东", "军", "秀英", "建华", "立新",
         "明", "春生", "小平", "云")
COUNTY = "清溪县"

CLASSES = ("floating_debris", "sand_dredger", "boat", "waste_pile", "structure")


def compass_deg(angle_rad: float) -> float:
    """Mathematical angle (CCW from east) -> compass bearing in degrees [0, 360)."""
    return (90.0 - math.degrees(angle_rad)) % 360.0


# --------------------------------------------------------------------------- river


@dataclass
class River:
    """Centreline drawn downstream, sampled every ``ds`` metres, with the water edge and bank
    layout on each side. ``left`` is the left bank facing downstream (左岸)."""

    name: str
    xy: np.ndarray  # (N, 2)
    s: np.ndarray  # (N,) chainage from the upstream end
    tangent: np.ndarray  # (N, 2) unit, downstream
    normal: np.ndarray  # (N, 2) unit, towards the left bank
    half_left: np.ndarray  # (N,) centreline -> left water edge
    half_right: np.ndarray
    width_m: float  # nominal (mean) water width
    bank_m: dict[str, float]  # bank strip (revetment / slope) width beyond the water edge
    bank_kind: dict[str, str]
    road_m: dict[str, float]  # levee road width on top of the bank (0: none)
    zone_m: dict[str, float]  # management zone width beyond the water edge (河道管理范围)
    # The water edge without its small irregularities: banks and levee roads follow it.
    smooth_left: np.ndarray | None = None
    smooth_right: np.ndarray | None = None
    line: LineString = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.line = LineString(self.xy)
        if self.smooth_left is None:
            self.smooth_left = self.half_left
        if self.smooth_right is None:
            self.smooth_right = self.half_right

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def half(self, side: str) -> np.ndarray:
        return self.half_left if side == "left" else self.half_right

    def sample(self, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """(point, tangent, left normal, half_left, half_right) at chainage ``s``."""
        s = float(np.clip(s, 0.0, self.length))
        x = np.interp(s, self.s, self.xy[:, 0])
        y = np.interp(s, self.s, self.xy[:, 1])
        tx = np.interp(s, self.s, self.tangent[:, 0])
        ty = np.interp(s, self.s, self.tangent[:, 1])
        t = np.array([tx, ty]) / math.hypot(tx, ty)
        n = np.array([-t[1], t[0]])
        return (np.array([x, y]), t, n, float(np.interp(s, self.s, self.half_left)),
                float(np.interp(s, self.s, self.half_right)))

    def offset_point(self, s: float, side: str, beyond_edge_m: float) -> np.ndarray:
        """Point ``beyond_edge_m`` beyond the water edge on ``side`` (negative: on the water)."""
        p, _, n, hl, hr = self.sample(s)
        if beyond_edge_m > 0:  # on land: measured from the embankment line
            sm = self.smooth_left if side == "left" else self.smooth_right
            hl = hr = float(np.interp(np.clip(s, 0.0, self.length), self.s, sm))
        return p + n * (hl + beyond_edge_m) if side == "left" else p - n * (hr + beyond_edge_m)

    def locate(self, x: float, y: float) -> tuple[float, float]:
        """(chainage, signed distance from the centreline, + = left) of a point."""
        s = float(self.line.project(Point(x, y)))
        p, _, n, _, _ = self.sample(s)
        d = np.array([x, y]) - p
        return s, float(d @ n)

    def index(self, s: float) -> int:
        return int(np.clip(np.searchsorted(self.s, s), 0, len(self.s) - 1))

    def strip(self, side: str, e0: float, e1: float, i0: int, i1: int) -> np.ndarray:
        """Polygon (K, 2) of the band between ``e0`` and ``e1`` metres beyond the water edge
        on ``side``, between centreline indices i0..i1."""
        sl = slice(i0, i1 + 1)
        sign = 1.0 if side == "left" else -1.0
        smooth = (self.smooth_left if side == "left" else self.smooth_right)[sl]
        # A band starting at the water follows the real (irregular) edge; beyond it, the
        # smooth line of the embankment.
        h0 = self.half(side)[sl] if e0 <= 0 else smooth
        inner = self.xy[sl] + sign * self.normal[sl] * (h0 + e0)[:, None]
        outer = self.xy[sl] + sign * self.normal[sl] * (smooth + e1)[:, None]
        return np.concatenate([inner, outer[::-1]])

    def water(self, i0: int, i1: int, inset_m: float = 0.0) -> np.ndarray:
        sl = slice(i0, i1 + 1)
        left = self.xy[sl] + self.normal[sl] * (self.half_left[sl] - inset_m)[:, None]
        right = self.xy[sl] - self.normal[sl] * (self.half_right[sl] - inset_m)[:, None]
        return np.concatenate([left, right[::-1]])


def _smooth_series(rng: np.random.Generator, s: np.ndarray, lam: tuple[float, float], amp: float, k: int = 4) -> np.ndarray:
    out = np.zeros_like(s)
    for _ in range(k):
        out += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * s / rng.uniform(*lam) + rng.uniform(0, 2 * np.pi))
    return out * amp / max(1.0, k**0.5)


def make_river(seed: int, length_m: float = 3000.0, width_m: float | None = None, ds: float = 2.0) -> River:
    """The river alone (shape, width, banks): route planning needs only this."""
    rng = np.random.default_rng([seed, 1])
    width = float(width_m) if width_m else float(rng.uniform(30.0, 120.0))
    if not 5.0 <= width <= 1000.0:
        raise ValueError(f"river width {width} m out of range")
    name = str(RIVER_NAMES[int(rng.integers(len(RIVER_NAMES)))])
    n = int(round(length_m / ds)) + 1
    s = np.arange(n) * ds
    head0 = rng.uniform(0, 2 * np.pi)
    lams = rng.uniform(350.0, 1400.0, 3)
    amps = rng.uniform(0.1, 0.45, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    need_radius = 3.0 * (width / 2 + 45.0)
    kmax = float(np.sum(amps * 2 * np.pi / lams))
    if kmax * need_radius > 1.0:
        amps *= 1.0 / (kmax * need_radius)
    phi = head0 + np.sum(amps[:, None] * np.sin(2 * np.pi * s[None, :] / lams[:, None] + phases[:, None]), axis=0)
    t = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    steps = (t[1:] + t[:-1]) / 2 * ds
    xy = np.concatenate([[[0.0, 0.0]], np.cumsum(steps, axis=0)])
    xy -= xy[n // 2]
    normal = np.stack([-t[:, 1], t[:, 0]], axis=1)
    w = width * (1.0 + 0.07 * np.sin(2 * np.pi * s / rng.uniform(300, 900) + rng.uniform(0, 2 * np.pi)))
    shore = min(2.5, 0.04 * width)
    half_left = w / 2 + _smooth_series(rng, s, (25.0, 150.0), shore)
    half_right = w / 2 + _smooth_series(rng, s, (25.0, 150.0), shore)
    bank = {side: float(rng.uniform(5.0, 12.0)) for side in ("left", "right")}
    kinds = {side: str(rng.choice(["bank_stone", "bank_grass"])) for side in ("left", "right")}
    road_sides = [("left",), ("right",), ("left", "right")][int(rng.integers(3))]
    road = {side: (float(rng.uniform(4.0, 6.5)) if side in road_sides else 0.0) for side in ("left", "right")}
    zone = {side: float(max(round(rng.uniform(25.0, 45.0)), math.ceil(bank[side] + road[side] + 24.0)))
            for side in ("left", "right")}
    return River(name, xy, s, t, normal, half_left, half_right, width, bank, kinds, road, zone, w / 2, w / 2)


# --------------------------------------------------------------------------- world content


@dataclass
class LandPoly:
    xy: np.ndarray  # (K, 2) world metres
    cover: str
    colour: np.ndarray  # BGR float32
    rows: tuple[float, float, float] | None = None  # (angle rad, period m, amplitude)
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        self.bbox = (float(self.xy[:, 0].min()), float(self.xy[:, 1].min()),
                     float(self.xy[:, 0].max()), float(self.xy[:, 1].max()))


# Look of each land cover: detail amplitudes (fine grain, medium patches) and the tint the
# detail is applied with (BGR), so grass varies in green and soil in brown.
COVERS: dict[str, dict[str, Any]] = {
    "grass": {"fine": 9.0, "med": 9.0, "tint": (0.7, 1.0, 0.75)},
    "ridge": {"fine": 10.0, "med": 6.0, "tint": (0.7, 1.0, 0.8)},
    "paddy": {"fine": 6.0, "med": 7.0, "tint": (0.6, 1.0, 0.7)},
    "crop": {"fine": 8.0, "med": 8.0, "tint": (0.7, 1.0, 0.9)},
    "soil": {"fine": 10.0, "med": 8.0, "tint": (0.8, 0.9, 1.0)},
    "pond": {"fine": 2.0, "med": 5.0, "tint": (1.0, 1.0, 0.9)},
    "greenhouse": {"fine": 4.0, "med": 4.0, "tint": (1.0, 1.0, 1.0)},
    "courtyard": {"fine": 8.0, "med": 6.0, "tint": (1.0, 1.0, 1.0)},
    "road": {"fine": 5.0, "med": 4.0, "tint": (1.0, 1.0, 1.0)},
    "bank_stone": {"fine": 14.0, "med": 6.0, "tint": (1.0, 1.0, 1.0)},
    "bank_grass": {"fine": 10.0, "med": 8.0, "tint": (0.7, 1.0, 0.75)},
    "water": {"fine": 1.5, "med": 3.0, "tint": (1.0, 1.0, 1.0)},
}
WATER_COVERS = ("water", "pond")


@dataclass
class WorldObject:
    """One ground-truth object (or a background building) of a detector class."""

    id: str
    cls: str
    x: float
    y: float
    size_m: float  # characteristic length (class size range of datasets.synthetic.scenes)
    heading: float  # radians CCW from east, direction of the sprite's long (+x) axis
    role: str  # "planted" (a violation/cleaning case) or "background" (village buildings)
    on_water: bool
    bank: str  # "left", "right" or "water"
    chainage_m: float
    height_m: float
    sprite_res: float  # metres per sprite pixel
    fade: float = 1.0  # alpha multiplier (partly submerged debris)
    lat: float = 0.0
    lon: float = 0.0
    extent_m: tuple[float, float] = (0.0, 0.0)  # drawn size along / across the heading
    segment_id: str = ""
    in_zone: bool = False


@dataclass
class Tree:
    x: float
    y: float
    diameter: float
    rotation: float
    pool: int
    height: float


@dataclass
class Outfall:
    id: str
    x: float
    y: float
    side: str
    outfall_type: str  # rain / sewage
    heading: float  # pointing into the water
    chainage_m: float
    lat: float = 0.0
    lon: float = 0.0
    segment_id: str = ""


@dataclass
class World:
    seed: int
    frame: LocalFrame
    river: River
    polys: list[LandPoly]
    objects: list[WorldObject]
    trees: list[Tree]
    outfalls: list[Outfall]
    segments: list[dict[str, Any]]
    mining_areas: list[dict[str, Any]]
    water_colour: np.ndarray
    sun_azimuth: float  # radians CCW from east, towards the sun
    sun_elevation: float  # radians
    focus: tuple[float, float]  # chainage range where objects were placed
    lowfreq_origin: np.ndarray = field(default_factory=lambda: np.zeros(2))
    lowfreq_cell: float = 2.0
    _lowfreq: np.ndarray | None = field(default=None, repr=False)
    _sprites: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _tree_pool: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list, repr=False)
    _arrays: dict[str, Any] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- coordinates

    @property
    def origin_lonlat(self) -> tuple[float, float]:
        return self.frame.lon, self.frame.lat

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        return self.frame.enu_to_lonlat(np.asarray(x, float), np.asarray(y, float))

    def from_lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        return self.frame.lonlat_to_enu(np.asarray(lon, float), np.asarray(lat, float))

    @property
    def lowfreq(self) -> np.ndarray:
        """(2, H, W) world-anchored fields: brightness mottling, cloud shadow (built on first use)."""
        if self._lowfreq is None:
            _lowfreq(self, np.random.default_rng([self.seed, 10]))
        return self._lowfreq

    # ----------------------------------------------------------------- sprites

    def sprite(self, obj: WorldObject) -> tuple[np.ndarray, np.ndarray]:
        """(bgr float32, alpha float32) of an object, drawn once from its own seed."""
        got = self._sprites.get(obj.id)
        if got is None:
            rng = np.random.default_rng([self.seed, 5, int(obj.id.split("-")[-1])])
            spr = SPRITES[obj.cls](rng, obj.size_m / obj.sprite_res)
            alpha = spr.alpha * obj.fade
            got = (spr.bgr.astype(np.float32), alpha.astype(np.float32))
            self._sprites[obj.id] = got
        return got

    def tree_sprite(self, k: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Pool of tree crowns: (bgr, alpha, metres per pixel at diameter 1 m)."""
        if not self._tree_pool:
            rng = np.random.default_rng([self.seed, 8])
            for _ in range(24):
                px = 120
                t = sp.tree(rng, px)
                self._tree_pool.append((t.bgr.astype(np.float32), t.alpha.astype(np.float32), 1.0 / px))
        return self._tree_pool[k % len(self._tree_pool)]

    def poly_table(self) -> dict[str, np.ndarray]:
        """Per-polygon attributes for rendering, index 0 = background grass."""
        if "table" not in self._arrays:
            n = len(self.polys) + 1
            colour = np.zeros((n, 3), np.float32)
            fine = np.zeros(n, np.float32)
            med = np.zeros(n, np.float32)
            tint = np.zeros((n, 3), np.float32)
            water = np.zeros(n, bool)
            rows = np.zeros((n, 3), np.float32)
            colour[0] = LAND_COLOURS_BGR["grass"][1]
            fine[0], med[0] = COVERS["grass"]["fine"], COVERS["grass"]["med"]
            tint[0] = COVERS["grass"]["tint"]
            for i, p in enumerate(self.polys, start=1):
                c = COVERS[p.cover]
                colour[i] = p.colour
                fine[i], med[i] = c["fine"], c["med"]
                tint[i] = c["tint"]
                water[i] = p.cover in WATER_COVERS
                if p.rows is not None:
                    rows[i] = p.rows
            boxes = np.array([p.bbox for p in self.polys], float).reshape(-1, 4)
            self._arrays["table"] = {"colour": colour, "fine": fine, "med": med, "tint": tint, "water": water,
                                     "rows": rows, "bbox": boxes}
        return self._arrays["table"]

    # ----------------------------------------------------------------- exports

    def segment_at(self, chainage: float) -> str:
        for seg in self.segments:
            if seg["s0"] <= chainage <= seg["s1"]:
                return seg["id"]
        return self.segments[-1]["id"]

    def rivers_geojson(self) -> dict[str, Any]:
        """River network in the format of pipeline.geo.rivers (docs/rivers.md): segments drawn
        downstream with chiefs and per-bank management-zone widths, the water surface of each
        segment, outfalls and the permitted sand-mining area."""
        r = self.river
        feats: list[dict[str, Any]] = []
        for seg in self.segments:
            i0, i1 = seg["i0"], seg["i1"]
            lon, lat = self.to_lonlat(r.xy[i0:i1 + 1, 0], r.xy[i0:i1 + 1, 1])
            feats.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": _coords(lon, lat)},
                "properties": {
                    "kind": "segment", "id": seg["id"], "name": seg["name"], "river": r.name,
                    "chiefs": seg["chiefs"],
                    "buffer_m": {"left": r.zone_m["left"], "right": r.zone_m["right"]},
                    "width_m": round(float(np.mean((r.half_left + r.half_right)[i0:i1 + 1])), 1),
                    "river_start_km": round(seg["s0"] / 1000.0, 3),
                    "description": f"{seg['township']} {seg['village']}, 模拟数据 (simulated)",
                },
            })
        for seg in self.segments:
            ring = r.water(seg["i0"], seg["i1"])
            lon, lat = self.to_lonlat(ring[:, 0], ring[:, 1])
            feats.append({
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [_ring(lon, lat)]},
                "properties": {"kind": "zone", "id": f"water-{seg['id']}", "zone_type": "water",
                               "name": f"{seg['name']}水域", "segment_id": seg["id"]},
            })
        for m in self.mining_areas:
            lon, lat = self.to_lonlat(m["xy"][:, 0], m["xy"][:, 1])
            props = {k: v for k, v in m.items() if k != "xy"}
            feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_ring(lon, lat)]},
                          "properties": {"kind": "mining_area", **props}})
        for o in self.outfalls:
            feats.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(o.lon, 8), round(o.lat, 8)]},
                "properties": {"kind": "outfall", "id": o.id, "outfall_type": o.outfall_type,
                               "name": f"{r.name}{'雨水' if o.outfall_type == 'rain' else '污水'}排口{o.id[-2:]}",
                               "segment_id": o.segment_id},
            })
        lon0, lat0 = self.origin_lonlat
        return {
            "type": "FeatureCollection",
            "network": {"name": f"{COUNTY}{r.name}（模拟, seed {self.seed}, origin {lon0:.5f} E {lat0:.5f} N）",
                        "default_buffer_m": 30.0},
            "features": feats,
        }

    def truth_geojson(self, seen_in: dict[str, int] | None = None) -> dict[str, Any]:
        feats = []
        for o in self.objects:
            props: dict[str, Any] = {
                "id": o.id, "class": o.cls, "class_zh": class_info(o.cls).zh, "size_m": round(o.size_m, 2),
                "extent_m": [round(o.extent_m[0], 2), round(o.extent_m[1], 2)],
                "heading_deg": round(compass_deg(o.heading), 1), "role": o.role, "on_water": o.on_water,
                "bank": o.bank, "chainage_m": round(o.chainage_m, 1), "segment_id": o.segment_id,
                "in_zone": o.in_zone,
            }
            if seen_in is not None:
                props["seen_in"] = int(seen_in.get(o.id, 0))
            feats.append({"type": "Feature", "geometry": {"type": "Point",
                                                          "coordinates": [round(o.lon, 9), round(o.lat, 9)]},
                          "properties": props})
        lon0, lat0 = self.origin_lonlat
        return {"type": "FeatureCollection",
                "generator": {"name": "heyan simulate-flight", "seed": self.seed,
                              "origin": [round(lon0, 7), round(lat0, 7)], "river": self.river.name,
                              "river_width_m": round(self.river.width_m, 1)},
                "features": feats}


def _coords(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    return [[round(float(a), 8), round(float(b), 8)] for a, b in zip(lon, lat)]


def _ring(lon: np.ndarray, lat: np.ndarray) -> list[list[float]]:
    ring = _coords(lon, lat)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    poly = Polygon(ring)
    if not poly.exterior.is_ccw:  # RFC 7946: exterior rings counter-clockwise
        ring = ring[::-1]
    return ring


# --------------------------------------------------------------------------- building


def _name(rng: np.random.Generator) -> str:
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]


def _phone(rng: np.random.Generator) -> str:
    # Huzhou's area code with a local number starting 0000: never a real subscriber.
    return f"0572-0000{int(rng.integers(100, 1000))}"


def world_frame(seed: int, lat0: float | None = None, lon0: float | None = None) -> LocalFrame:
    """The world's local frame: origin at (lat0, lon0), by default a seeded point within
    about 1 km of (30.52 N, 119.97 E)."""
    jitter = np.random.default_rng([seed, 0]).uniform(-0.01, 0.01, 2)
    lat = DEFAULT_LAT + jitter[0] if lat0 is None else float(lat0)
    lon = DEFAULT_LON + jitter[1] if lon0 is None else float(lon0)
    if not (-80.0 <= lat <= 84.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"world origin out of range: lat {lat}, lon {lon}")
    return LocalFrame(lon, lat)


def build_world(seed: int, river: River, focus: tuple[float, float] | None = None,
                cover_half_m: float | None = None, lat0: float | None = None, lon0: float | None = None) -> World:
    """The full world around ``river``. Planted objects go in the chainage range ``focus``
    (default: the middle fifth) and within ``cover_half_m`` of the centreline where possible
    (the lateral reach of the flight)."""
    frame = world_frame(seed, lat0, lon0)
    L = river.length
    if focus is None:
        focus = (0.4 * L, 0.6 * L)
    focus = (float(max(focus[0], 20.0)), float(min(focus[1], L - 20.0)))
    look = np.random.default_rng([seed, 9])
    water_colour = WATER_COLOURS_BGR[int(look.choice([0, 1, 2, 3, 4, 7]))] + look.normal(0, 6, 3)
    world = World(seed=seed, frame=frame, river=river, polys=[], objects=[], trees=[], outfalls=[], segments=[],
                  mining_areas=[], water_colour=water_colour.astype(np.float32),
                  sun_azimuth=float(look.uniform(math.radians(-60), math.radians(60)) - math.pi / 2),
                  sun_elevation=float(math.radians(look.uniform(45, 68))), focus=focus)
    _segments(world, np.random.default_rng([seed, 6]))
    occupied: list[tuple[float, float, float]] = []
    _objects(world, np.random.default_rng([seed, 3]), occupied, cover_half_m)
    village = _village(world, np.random.default_rng([seed, 4]), occupied)
    _land(world, np.random.default_rng([seed, 2]), village)
    _trees(world, np.random.default_rng([seed, 7]), occupied, village)
    for o in world.objects:
        lo, la = world.to_lonlat(o.x, o.y)
        o.lon, o.lat = float(lo), float(la)
        o.segment_id = world.segment_at(o.chainage_m)
        bgr, alpha = world.sprite(o)
        ys, xs = np.nonzero(alpha > 0.3)
        if len(xs):
            o.extent_m = (float(xs.max() - xs.min() + 1) * o.sprite_res, float(ys.max() - ys.min() + 1) * o.sprite_res)
        # Management zone as pipeline.geo.rivers builds it: a buffer of zone + mean half width
        # from the centreline on each side (on the water counts as inside).
        _, d = river.locate(o.x, o.y)
        side = "left" if d >= 0 else "right"
        o.in_zone = bool(o.on_water or abs(d) <= river.zone_m[side] + river.width_m / 2)
    for f in world.outfalls:
        lo, la = world.to_lonlat(f.x, f.y)
        f.lon, f.lat = float(lo), float(la)
        f.segment_id = world.segment_at(f.chainage_m)
    return world


def generate_world(seed: int = 0, length_m: float = 3000.0, width_m: float | None = None,
                   focus: tuple[float, float] | None = None, lat0: float | None = None,
                   lon0: float | None = None) -> World:
    """River + world in one call (objects in the middle fifth unless ``focus`` is given)."""
    return build_world(seed, make_river(seed, length_m, width_m), focus, None, lat0, lon0)


def _segments(world: World, rng: np.random.Generator) -> None:
    r = world.river
    L = r.length
    f0, f1 = world.focus
    cut = float(np.clip(f0 + 0.45 * (f1 - f0), 100.0, L - 100.0))
    cuts = [cut]
    if cut > 900.0:
        cuts.insert(0, cut - float(rng.uniform(500.0, 800.0)))
    elif L - cut > 900.0:
        cuts.append(cut + float(rng.uniform(500.0, 800.0)))
    bounds = [0.0, *cuts, L]
    county = {"name": _name(rng), "phone": _phone(rng), "department": f"{COUNTY}人民政府"}
    towns = list(rng.choice(TOWNS, size=2, replace=False))
    villages = list(rng.choice(VILLAGES, size=len(bounds) - 1, replace=False))
    town_chiefs = {t: {"name": _name(rng), "phone": _phone(rng), "department": f"{t}人民政府"} for t in towns}
    for k in range(len(bounds) - 1):
        town = str(towns[0] if k < len(bounds) - 2 else towns[1])
        village = str(villages[k])
        s0, s1 = bounds[k], bounds[k + 1]
        world.segments.append({
            "id": f"seg-{k + 1}", "name": f"{r.name}{village}段", "s0": s0, "s1": s1,
            "i0": r.index(s0), "i1": r.index(s1), "township": town, "village": village,
            "chiefs": {"county": county, "township": town_chiefs[town],
                       "village": {"name": _name(rng), "phone": _phone(rng), "department": f"{village}村民委员会"}},
        })


def _free(occupied: list[tuple[float, float, float]], x: float, y: float, r: float, gap: float = 3.0) -> bool:
    return all(math.hypot(x - ox, y - oy) > r + orad + gap for ox, oy, orad in occupied)


def _objects(world: World, rng: np.random.Generator, occupied: list[tuple[float, float, float]],
             cover_half_m: float | None) -> None:
    r = world.river
    s0, s1 = world.focus
    k = max(1.0, (s1 - s0) / 150.0)
    counts = {"floating_debris": int(min(12, round(3 + 2 * k))), "sand_dredger": int(max(1, round(0.8 * k))),
              "boat": int(max(1, round(1.2 * k))), "waste_pile": int(max(2, round(1.5 * k))),
              "structure": int(max(2, round(1.5 * k)))}
    ids = iter(range(1, 10_000))
    # Big things first so the small ones fit around them.
    for cls in ("sand_dredger", "boat", "structure", "waste_pile", "floating_debris"):
        for _ in range(counts[cls]):
            obj = _place(world, rng, cls, next(ids), occupied, cover_half_m)
            if obj is not None:
                world.objects.append(obj)
                occupied.append((obj.x, obj.y, obj.size_m / 2))
    # The outfalls (排口) sit at the water's edge.
    for j in range(2):
        for _ in range(60):
            s = float(rng.uniform(s0, s1))
            side = str(rng.choice(["left", "right"]))
            p = r.offset_point(s, side, 0.3)
            if _free(occupied, p[0], p[1], 4.0):
                _, t, n, _, _ = r.sample(s)
                into = -n if side == "left" else n
                world.outfalls.append(Outfall(f"outfall-{j + 1:02d}", float(p[0]), float(p[1]), side,
                                              "rain" if j == 0 else "sewage", math.atan2(into[1], into[0]), s))
                occupied.append((float(p[0]), float(p[1]), 4.0))
                break
    # The permitted sand-mining area (可采区) around the first dredger; a second one outside.
    dredgers = [o for o in world.objects if o.cls == "sand_dredger"]
    if dredgers:
        d0 = dredgers[0]
        a, b = d0.chainage_m - 50.0, d0.chainage_m + 50.0
        others = [o for o in dredgers[1:] if a - 10 <= o.chainage_m <= b + 10]
        if others:  # keep the other dredgers outside the permitted area: shrink it
            a, b = d0.chainage_m - 25.0, d0.chainage_m + 25.0
        i0, i1 = r.index(max(a, 0.0)), r.index(min(b, r.length))
        world.mining_areas.append({
            "id": "mine-1", "area_type": "permitted", "name": f"{r.name}可采区1号",
            "permit_no": f"浙采砂〔2025〕{int(rng.integers(10, 99))}号", "permit_start": "2025-03-01",
            "permit_end": "2025-12-31", "segment_id": world.segment_at(d0.chainage_m),
            "xy": r.water(i0, i1, inset_m=1.0),
        })


def _place(world: World, rng: np.random.Generator, cls: str, num: int, occupied: list[tuple[float, float, float]],
           cover_half_m: float | None) -> WorldObject | None:
    r = world.river
    s0, s1 = world.focus
    lo, hi = SIZE_M[cls]
    if cls == "floating_debris":
        size = float(np.exp(rng.uniform(np.log(0.6), np.log(3.0))))
    elif cls == "sand_dredger":
        size = float(rng.uniform(18.0, min(hi, 35.0)))
    elif cls == "boat":
        size = float(rng.uniform(5.0, 12.0))
    elif cls == "waste_pile":
        size = float(rng.uniform(3.0, 12.0))
    else:
        size = float(rng.uniform(6.0, 15.0))
    res = float(np.clip(size / 250.0, 0.008, 0.05))
    on_water = cls in ("floating_debris", "sand_dredger", "boat")
    for attempt in range(300):
        s = float(rng.uniform(s0, s1))
        p, t, n, hl, hr = r.sample(s)
        along = math.atan2(t[1], t[0])
        if on_water:
            across = size * 0.2 + 1.0 if cls != "floating_debris" else size / 2 + 0.3
            a, b = -hr + across, hl - across
            if a >= b:
                d = 0.0
            elif cls == "floating_debris" and rng.random() < 0.5:  # debris gathers along the banks
                d = b - rng.uniform(0, 4.0) if rng.random() < 0.5 else a + rng.uniform(0, 4.0)
            else:
                d = float(rng.uniform(a, b))
            xy = p + n * d
            if cls == "floating_debris":
                heading = float(rng.uniform(0, 2 * np.pi))
            else:
                heading = along + float(rng.normal(0, math.radians(8))) + (math.pi if rng.random() < 0.5 else 0.0)
            bank = "water"
        else:
            side = str(rng.choice(["left", "right"]))
            half = hl if side == "left" else hr
            bank_w, road_w, zone = r.bank_m[side], r.road_m[side], r.zone_m[side]
            reach = zone if cover_half_m is None else min(zone, cover_half_m - half)
            if cls == "waste_pile":
                e_lo, e_hi = 1.0 + size / 2, min(zone - 5.0, reach) - size / 2
            else:
                e_lo, e_hi = bank_w + road_w + 2.0 + size * 0.35, min(zone - 5.0, reach) - size * 0.35
            if e_hi < e_lo:
                e_hi = e_lo
            e = float(rng.uniform(e_lo, e_hi))
            if cls == "waste_pile" and road_w > 0 and abs(e - (bank_w + road_w / 2)) < road_w / 2 + size / 2 \
                    and attempt < 200:
                continue  # not on the levee road
            xy = r.offset_point(s, side, e)
            if cls == "structure":
                heading = along + float(rng.normal(0, math.radians(6)))
            else:
                heading = float(rng.uniform(0, 2 * np.pi))
            bank = side
        if _free(occupied, xy[0], xy[1], size / 2) or attempt == 299:
            sc, _ = r.locate(xy[0], xy[1])
            height = {"floating_debris": 0.0, "sand_dredger": 3.0, "boat": 1.5, "waste_pile": 1.0,
                      "structure": float(rng.uniform(3, 7))}[cls]
            fade = float(rng.uniform(0.7, 0.95)) if cls == "floating_debris" and rng.random() < 0.3 else 1.0
            return WorldObject(f"obj-{num:03d}", cls, float(xy[0]), float(xy[1]), size, heading, "planted", on_water,
                               bank, sc, height, res, fade)
    return None


def _village(world: World, rng: np.random.Generator, occupied: list[tuple[float, float, float]]) -> Polygon:
    """A village beyond the management zone: courtyards, buildings (class ``structure``,
    role ``background``), a road to the levee."""
    r = world.river
    f0, f1 = world.focus
    sv = float(np.clip((f0 + f1) / 2 + rng.uniform(-0.3, 0.3) * (f1 - f0), 150.0, r.length - 150.0))
    side = str(rng.choice(["left", "right"]))
    p, t, n, hl, hr = r.sample(sv)
    out = n if side == "left" else -n
    half = hl if side == "left" else hr
    e0 = r.zone_m[side] + float(rng.uniform(10.0, 20.0))
    depth, length = float(rng.uniform(70, 100)), float(rng.uniform(110, 170))
    c = p + out * (half + e0 + depth / 2)
    corners = np.array([c + t * length / 2 + out * depth / 2, c - t * length / 2 + out * depth / 2,
                        c - t * length / 2 - out * depth / 2, c + t * length / 2 - out * depth / 2])
    village = Polygon(corners)
    world.polys.append(LandPoly(corners, "courtyard", _jitter(rng, LAND_COLOURS_BGR["concrete"][2], 8)))
    # Road from the village to the levee road (or the bank).
    road_w = 4.0
    a = p + out * (half + r.bank_m[side])
    b = c
    seg = LineString([a, b]).buffer(road_w / 2, cap_style="flat")
    world.polys.append(LandPoly(np.asarray(seg.exterior.coords), "road", _jitter(rng, LAND_COLOURS_BGR["road"][1], 6)))
    ids = 500
    rows = int(depth // 24)
    cols = int(length // 20)
    along = math.atan2(t[1], t[0])
    for i in range(rows):
        for j in range(cols):
            if rng.random() < 0.22:
                continue
            u = (j + 0.5) / cols - 0.5
            v = (i + 0.5) / rows - 0.5
            q = c + t * u * (length - 16) + out * v * (depth - 14) + rng.normal(0, 1.5, 2)
            if abs(u * (length - 16)) < road_w + 6 and v < 0.1:  # keep the road free
                continue
            size = float(rng.uniform(9.0, 15.0))
            ids += 1
            sc, _ = r.locate(q[0], q[1])
            world.objects.append(WorldObject(f"bld-{ids:03d}", "structure", float(q[0]), float(q[1]), size,
                                             along + float(rng.normal(0, 0.05)) + (math.pi / 2 if rng.random() < 0.2 else 0),
                                             "background", False, side, sc, float(rng.uniform(6, 12)),
                                             float(np.clip(size / 250.0, 0.02, 0.05))))
            occupied.append((float(q[0]), float(q[1]), size / 2))
    return village


def _jitter(rng: np.random.Generator, base, sd: float) -> np.ndarray:
    return np.clip(np.asarray(base, np.float32) + rng.normal(0, sd, 3).astype(np.float32), 0, 255)


def _land(world: World, rng: np.random.Generator, village: Polygon) -> None:
    """Field patchwork, ponds, farm roads; then the river corridor on top (z-order = list order,
    the village already added goes under the river corridor but over nothing else)."""
    r = world.river
    first = list(world.polys)  # village ground + road, drawn after the fields
    world.polys.clear()
    corridor_out = {side: r.bank_m[side] + r.road_m[side] + 3.0 for side in ("left", "right")}
    step = 50  # corridor polygon in chunks (vertices every 100 m)
    corridor = shapely.union_all([
        Polygon(np.concatenate([
            r.xy[i:i + step + 1] + r.normal[i:i + step + 1] * (r.smooth_left[i:i + step + 1] + corridor_out["left"])[:, None],
            (r.xy[i:i + step + 1] - r.normal[i:i + step + 1] * (r.smooth_right[i:i + step + 1] + corridor_out["right"])[:, None])[::-1],
        ])).buffer(0)
        for i in range(0, len(r.xy) - 1, step)
    ])
    keep_out = shapely.union_all([corridor, village.buffer(4.0)])
    shapely.prepare(keep_out)
    # Field grid aligned (roughly) with the river's general direction.
    d = r.xy[-1] - r.xy[0]
    alpha = math.atan2(d[1], d[0]) + float(rng.uniform(-0.35, 0.35))
    u_dir = np.array([math.cos(alpha), math.sin(alpha)])
    v_dir = np.array([-u_dir[1], u_dir[0]])
    pts = r.xy
    us, vs = pts @ u_dir, pts @ v_dir
    reach = 450.0
    umin, umax = us.min() - reach, us.max() + reach
    vmin, vmax = vs.min() - reach, vs.max() + reach
    rects, covers, farm_roads = [], [], []
    v = vmin
    strip = 0
    cover_names = ["paddy", "crop", "soil", "pond", "greenhouse", "grass"]
    cover_p = [0.36, 0.2, 0.1, 0.12, 0.07, 0.15]
    while v < vmax:
        sw = float(rng.uniform(50, 110))
        strip += 1
        if strip % 3 == 0:  # a farm road along this strip edge
            farm_roads.append(np.array([u_dir * umin + v_dir * v, u_dir * umax + v_dir * v]))
        u = umin
        while u < umax:
            pl = float(rng.uniform(18, 45)) if rng.random() < 0.8 else float(rng.uniform(45, 90))
            g = 0.6  # half the field ridge (田埂)
            c = [u_dir * (u + g) + v_dir * (v + g), u_dir * (u + pl - g) + v_dir * (v + g),
                 u_dir * (u + pl - g) + v_dir * (v + sw - g), u_dir * (u + g) + v_dir * (v + sw - g)]
            rects.append(np.array(c))
            covers.append(str(rng.choice(cover_names, p=cover_p)))
            u += pl
        v += sw
    rect_polys = shapely.polygons(np.array(rects))
    centres = shapely.centroid(rect_polys)
    near = shapely.distance(centres, r.line) < reach
    rect_polys = rect_polys[near]
    covers = [c for c, ok in zip(covers, near) if ok]
    clipped = shapely.difference(rect_polys, keep_out)
    for poly, cover in zip(clipped, covers):
        for part in shapely.get_parts(poly):
            if part.geom_type != "Polygon" or part.area < 30.0:
                continue
            xy = np.asarray(part.exterior.coords)[:-1]
            colour, rows = _cover_look(rng, cover, alpha)
            if cover == "pond":  # fish pond: a grass embankment, water inside
                world.polys.append(LandPoly(xy, "ridge", _jitter(rng, (70, 130, 100), 8)))
                inner = part.buffer(-2.0)
                for ip in shapely.get_parts(inner):
                    if ip.geom_type == "Polygon" and ip.area > 20:
                        world.polys.append(LandPoly(np.asarray(ip.exterior.coords)[:-1], "pond", colour))
                continue
            world.polys.append(LandPoly(xy, cover, colour, rows))
    for line in farm_roads:
        road = shapely.difference(LineString(line).buffer(1.75, cap_style="flat"), keep_out)
        road = shapely.intersection(road, r.line.buffer(reach))
        for part in shapely.get_parts(road):
            if part.geom_type == "Polygon" and part.area > 10:
                world.polys.append(LandPoly(np.asarray(part.exterior.coords)[:-1], "road",
                                            _jitter(rng, LAND_COLOURS_BGR["concrete"][0], 6)))
    world.polys.extend(first)
    # The river corridor, in 100 m chunks: banks, levee roads, then the water.
    chunk = 50
    n = len(r.xy)
    for side in ("left", "right"):
        bank_col = _jitter(rng, (150, 155, 155) if r.bank_kind[side] == "bank_stone" else (70, 128, 95), 6)
        road_col = _jitter(rng, LAND_COLOURS_BGR["road"][int(rng.integers(3))], 5)
        verge_col = _jitter(rng, (65, 120, 85), 6)
        for i in range(0, n - 1, chunk):
            j = min(i + chunk, n - 1)
            world.polys.append(LandPoly(r.strip(side, -0.5, r.bank_m[side], i, j), r.bank_kind[side], bank_col))
            if r.road_m[side] > 0:
                world.polys.append(LandPoly(r.strip(side, r.bank_m[side], r.bank_m[side] + r.road_m[side], i, j),
                                            "road", road_col))
            world.polys.append(LandPoly(r.strip(side, r.bank_m[side] + r.road_m[side],
                                                corridor_out[side] + 0.5, i, j), "grass", verge_col))
    for i in range(0, n - 1, chunk):
        j = min(i + chunk, n - 1)
        world.polys.append(LandPoly(r.water(i, j), "water", world.water_colour))


def _cover_look(rng: np.random.Generator, cover: str, grid_angle: float):
    rows = None
    if cover == "paddy":
        col = _jitter(rng, [(55, 140, 95), (60, 125, 85), (75, 150, 120)][int(rng.integers(3))], 8)
        rows = (grid_angle + (math.pi / 2 if rng.random() < 0.5 else 0.0), float(rng.uniform(0.25, 0.4)), 10.0)
    elif cover == "crop":
        col = _jitter(rng, LAND_COLOURS_BGR["field"][int(rng.integers(3))], 8)
        rows = (grid_angle + (math.pi / 2 if rng.random() < 0.5 else 0.0), float(rng.uniform(0.6, 1.2)), 8.0)
    elif cover == "soil":
        col = _jitter(rng, LAND_COLOURS_BGR["soil"][int(rng.integers(4))], 8)
        rows = (grid_angle, float(rng.uniform(0.8, 1.5)), 6.0) if rng.random() < 0.5 else None
    elif cover == "pond":
        col = _jitter(rng, [(80, 105, 75), (95, 115, 90), (70, 95, 85)][int(rng.integers(3))], 6)
    elif cover == "greenhouse":
        col = _jitter(rng, (205, 208, 205), 6)
        rows = (grid_angle, float(rng.uniform(6.0, 9.0)), 22.0)
    else:
        col = _jitter(rng, LAND_COLOURS_BGR["grass"][int(rng.integers(4))], 8)
    return col, rows


def _trees(world: World, rng: np.random.Generator, occupied: list[tuple[float, float, float]],
           village: Polygon) -> None:
    r = world.river
    for side in ("left", "right"):
        s = float(rng.uniform(0, 8))
        while s < r.length:
            if rng.random() < 0.65:
                e = r.bank_m[side] + r.road_m[side] + float(rng.uniform(1.5, 3.0))
                d = float(rng.uniform(4.0, 8.0))
                p = r.offset_point(s, side, e + d / 2 - 1.0)
                if _free(occupied, p[0], p[1], d / 2, gap=1.5):
                    world.trees.append(Tree(float(p[0]), float(p[1]), d, float(rng.uniform(0, 2 * np.pi)),
                                            int(rng.integers(1000)), float(rng.uniform(5, 12))))
            s += float(rng.uniform(6.0, 11.0))
    minx, miny, maxx, maxy = village.bounds
    for _ in range(int(village.area / 250)):
        p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        d = float(rng.uniform(3.0, 7.0))
        if village.contains(Point(p)) and _free(occupied, p[0], p[1], d / 2, gap=0.5):
            world.trees.append(Tree(float(p[0]), float(p[1]), d, float(rng.uniform(0, 2 * np.pi)),
                                    int(rng.integers(1000)), float(rng.uniform(4, 10))))
            occupied.append((float(p[0]), float(p[1]), d / 2))


def _lowfreq(world: World, rng: np.random.Generator) -> None:
    """World-anchored low-frequency fields: brightness mottling and cloud shadows."""
    xy = world.river.xy
    margin = 900.0
    lo = xy.min(axis=0) - margin
    hi = xy.max(axis=0) + margin
    # 2 m cells, coarser for very long rivers (memory stays ~ 100 MB at most).
    cell = world.lowfreq_cell = max(2.0, float(np.max(hi - lo)) / 3000.0)
    w, h = int(math.ceil((hi[0] - lo[0]) / cell)), int(math.ceil((hi[1] - lo[1]) / cell))
    mottle = fractal_noise(rng, h, w, 30.0 / cell * 2, octaves=4)
    cloud = fractal_noise(rng, h, w, 400.0 / cell, octaves=3)
    cover = float(rng.uniform(0.0, 1.0))  # how cloudy
    cloud = np.clip((cloud - (1.2 - cover)) * 1.5, 0.0, 1.0) * (cover > 0.3)
    # Row 0 is the southern edge: array index j grows with northing.
    world.lowfreq_origin = lo
    world._lowfreq = np.stack([mottle, cloud]).astype(np.float32)
