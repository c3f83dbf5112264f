"""Building a simulated world from a seed: the river, its segments and chiefs, the land
patchwork, the village, trees, outfalls, the mining area and the objects to find."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from heyan.datasets.flight.world import (
    COUNTY,
    DEFAULT_LAT,
    DEFAULT_LON,
    GIVEN,
    RIVER_NAMES,
    SURNAMES,
    TOWNS,
    VILLAGES,
    LandPoly,
    Outfall,
    River,
    Tree,
    World,
    WorldObject,
)
from heyan.datasets.synthetic.scenes import SIZE_M
from heyan.datasets.synthetic.textures import LAND_COLOURS_BGR, WATER_COLOURS_BGR
from heyan.pipeline.geo.utm import LocalFrame


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
