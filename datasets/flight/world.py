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
from shapely.geometry import LineString, Point

import heyan.datasets.synthetic.sprites as sp
from heyan.datasets.synthetic.scenes import SPRITES
from heyan.datasets.synthetic.textures import LAND_COLOURS_BGR, fractal_noise
from heyan.pipeline.geo.utm import LocalFrame

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


# --------------------------------------------------------------------------- render caches (built on first use)


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
