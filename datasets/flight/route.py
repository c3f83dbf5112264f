"""Survey routes over the river corridor, true camera poses along them, and the noisy poses
the drone reports.

Two patterns:

* ``"river"`` (default): lanes parallel to the centreline (offset curves), flown in a
  serpentine, the camera heading along the lane;
* ``"lawnmower"``: straight parallel lanes along the chord of the surveyed stretch, covering
  the river's lateral wander plus the banks.

Forward and side spacing are solved so that the ground footprints of consecutive photos (and
of neighbouring lanes) overlap by the requested fraction of their area, using
``pipeline.geo.georef.footprint``: the same definition the tests and the pipeline use. Oblique
photos look ahead along the lane; their footprint centres, not the drone positions, are
spread over the stretch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
from shapely import affinity
from shapely.geometry import LineString, Polygon

from heyan.datasets.flight.camera import CameraSpec, NoiseModel
from heyan.datasets.flight.world import River
from heyan.pipeline.geo.georef import GeorefSettings, footprint
from heyan.pipeline.geo.utm import LocalFrame
from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.common import BEIJING

PATTERNS = ("river", "lawnmower")


@dataclass
class RoutePlan:
    poses: list[CameraPose]  # TRUE poses in flight order (file = "photos/<name>")
    lanes: list[int]
    positions: np.ndarray  # (N, 2) true camera positions, world metres
    pattern: str
    forward_spacing_m: float
    side_spacing_m: float
    lane_offsets_m: list[float]
    look_ahead_m: float
    footprint_along_m: float
    footprint_across_m: float
    stretch: tuple[float, float] = (0.0, 0.0)  # chainage range the photos cover
    cover_half_m: float = 0.0  # lateral reach of the photos from the centreline
    extra: dict = field(default_factory=dict)


def _wrap180(a: float) -> float:
    a = (a + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def canonical_footprint(camera: CameraSpec, width: int, height: int, altitude_m: float, gimbal_pitch: float,
                        max_range_m: float) -> Polygon:
    """Footprint in metres (x = right of track, y = ahead) of a photo taken heading north."""
    f, cx, cy = camera.intrinsics(width, height)
    frame = LocalFrame(120.0, 30.0)
    pose = CameraPose(file="canonical", lat=30.0, lon=120.0, rel_alt_m=altitude_m, gimbal_yaw=0.0,
                      gimbal_pitch=gimbal_pitch, gimbal_roll=0.0, width=width, height=height, focal_px=f, cx=cx, cy=cy)
    poly = footprint(pose, settings=GeorefSettings(max_range_m=max_range_m))
    if poly.is_empty:
        raise ValueError(f"a photo at {altitude_m} m with gimbal pitch {gimbal_pitch} sees no ground "
                         f"within {max_range_m} m")
    xy = np.asarray(poly.exterior.coords)
    e, n = frame.lonlat_to_enu(xy[:, 0], xy[:, 1])
    return Polygon(np.stack([e, n], axis=1))


def _spacing(poly: Polygon, overlap: float, axis: int) -> float:
    """Shift along ``axis`` (0 = across, 1 = along) at which a copy overlaps by ``overlap``."""
    minx, miny, maxx, maxy = poly.bounds
    hi = (maxx - minx) if axis == 0 else (maxy - miny)
    lo = 0.0
    area = poly.area
    for _ in range(50):
        mid = (lo + hi) / 2
        moved = affinity.translate(poly, mid if axis == 0 else 0.0, mid if axis == 1 else 0.0)
        if poly.intersection(moved).area / area > overlap:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _across_width(poly: Polygon) -> float:
    c = poly.centroid
    minx, _, maxx, _ = poly.bounds
    cut = poly.intersection(LineString([(minx - 1, c.y), (maxx + 1, c.y)]))
    return float(cut.length) if not cut.is_empty else maxx - minx


def _polyline_at(xy: np.ndarray, cum: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Point and unit tangent at arclength ``t`` of a polyline (extrapolated beyond ends)."""
    i = int(np.clip(np.searchsorted(cum, t) - 1, 0, len(cum) - 2))
    seg = xy[i + 1] - xy[i]
    ln = float(np.hypot(*seg)) or 1e-9
    u = seg / ln
    return xy[i] + u * (t - cum[i]), u


def plan_route(river: River, frame: LocalFrame, camera: CameraSpec, width: int, height: int, n_photos: int,
               rng: np.random.Generator, altitude_m: float = 80.0, gimbal_pitch: float = -90.0,
               pattern: str = "river", forward_overlap: float = 0.75, side_overlap: float = 0.75,
               speed_mps: float = 8.0, max_range_m: float = 600.0, corridor_margin_m: float = 20.0,
               start_time: datetime | None = None, takeoff_alt_m: float = 8.0) -> RoutePlan:
    if pattern not in PATTERNS:
        raise ValueError(f"unknown route pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    if n_photos < 1:
        raise ValueError("need at least one photo")
    if not 0.0 < forward_overlap < 1.0 or not 0.0 < side_overlap < 1.0:
        raise ValueError("overlaps are fractions between 0 and 1")
    camera.check_size(width, height)
    fp = canonical_footprint(camera, width, height, altitude_m, gimbal_pitch, max_range_m)
    fwd = _spacing(fp, forward_overlap, 1)
    side = _spacing(fp, side_overlap, 0)
    across = _across_width(fp)
    _, miny, _, maxy = fp.bounds
    look_ahead = float(fp.centroid.y)

    half = float(max(river.half_left.max(), river.half_right.max()))
    c_left = half + river.bank_m["left"] + river.road_m["left"] + corridor_margin_m
    c_right = half + river.bank_m["right"] + river.road_m["right"] + corridor_margin_m

    L = river.length
    s_c = L / 2
    if pattern == "river":
        n_lanes = max(1, math.ceil((c_left + c_right - across) / side) + 1) if c_left + c_right > across else 1
        centre = (c_left - c_right) / 2
        offsets = [centre + (i - (n_lanes - 1) / 2) * side for i in range(n_lanes)]
    else:
        per = math.ceil(n_photos / 1)
        ell = max((per - 1) * fwd, 100.0)
        # Iterate: the number of lanes depends on the river's wander within the stretch.
        for _ in range(3):
            p0 = river.sample(s_c - ell / 2)[0]
            p1 = river.sample(s_c + ell / 2)[0]
            u = (p1 - p0) / max(np.hypot(*(p1 - p0)), 1e-9)
            nrm = np.array([-u[1], u[0]])
            mid = (p0 + p1) / 2
            sel = (river.s >= s_c - ell / 2 - (maxy - miny)) & (river.s <= s_c + ell / 2 + (maxy - miny))
            d = (river.xy[sel] - mid) @ nrm
            lo, hi = float(d.min()) - c_right, float(d.max()) + c_left
            n_lanes = max(1, math.ceil((hi - lo - across) / side) + 1) if hi - lo > across else 1
            per = math.ceil(n_photos / n_lanes)
            ell = max((per - 1) * fwd, 60.0)
        centre = (lo + hi) / 2
        offsets = [centre + (i - (n_lanes - 1) / 2) * side for i in range(n_lanes)]

    counts = [n_photos // n_lanes + (1 if i < n_photos % n_lanes else 0) for i in range(n_lanes)]
    counts = [c for c in counts if c > 0]
    offsets = offsets[:len(counts)]
    n_max = max(counts)

    t0 = start_time or datetime(2025, 6, 18, 9, 30, tzinfo=BEIJING) + timedelta(minutes=int(rng.integers(0, 150)))
    poses: list[CameraPose] = []
    lanes: list[int] = []
    positions: list[np.ndarray] = []
    f, cx, cy = camera.intrinsics(width, height)
    clock = 0.0
    for li, (off, count) in enumerate(zip(offsets, counts)):
        direction = 1.0 if li % 2 == 0 else -1.0
        if pattern == "river":
            lane_xy = river.xy + river.normal * off
            cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(lane_xy, axis=0).T))])
            tc = float(cum[river.index(s_c)])
        else:
            lane_xy = np.array([mid - u * 5 * L + nrm * off, mid + u * 5 * L + nrm * off])
            cum = np.array([0.0, 10 * L])
            tc = 5 * L
        first = tc - (n_max - 1) / 2 * fwd
        ks = range(count) if direction > 0 else range(count - 1, -1, -1)
        if li > 0:
            clock += 15.0  # turn onto the next lane
        for n_in_lane, k in enumerate(ks):
            t_foot = first + k * fwd
            t_cam = t_foot - direction * look_ahead
            p, tan = _polyline_at(lane_xy, cum, t_cam)
            tan = tan * direction
            heading = math.degrees(math.atan2(tan[0], tan[1]))  # compass: clockwise from north
            p = p + rng.normal(0, 0.3, 2)
            if n_in_lane > 0:
                clock += fwd / speed_mps
            lon, lat = frame.enu_to_lonlat(p[0], p[1])
            when = t0 + timedelta(seconds=round(clock))
            rel = altitude_m + float(rng.normal(0, 0.15))
            fyaw = heading + float(rng.normal(0, 1.0))  # crab in the wind
            index = len(poses)
            name = f"DJI_{when:%Y%m%d%H%M%S}_{index + 1:04d}_W.jpg"
            poses.append(CameraPose(
                file=f"photos/{name}", lat=float(lat), lon=float(lon), rel_alt_m=rel, abs_alt_m=takeoff_alt_m + rel,
                flight_yaw=_wrap180(fyaw), flight_pitch=float(rng.normal(-3.0, 1.0)), flight_roll=float(rng.normal(0, 1.5)),
                gimbal_yaw=_wrap180(fyaw + float(rng.normal(0, 0.3))),
                gimbal_pitch=gimbal_pitch + float(rng.normal(0, 0.2)), gimbal_roll=float(rng.normal(0, 0.2)),
                time=when, width=width, height=height, focal_px=f, cx=cx, cy=cy, focal_source="simulated",
                make=camera.make, model=camera.model,
                extra={"index": index, "lane": li, "view": "nadir" if gimbal_pitch <= -80 else "oblique"},
            ))
            lanes.append(li)
            positions.append(p)
    plan = RoutePlan(poses, lanes, np.array(positions), pattern, fwd, side, offsets, look_ahead,
                     float(maxy - miny), across)
    # What the photos cover: footprint centres projected on the river, +- part of a footprint.
    centres = []
    for pose, p in zip(poses, positions):
        yaw = math.radians(float(pose.gimbal_yaw))
        ahead = np.array([math.sin(yaw), math.cos(yaw)])
        centres.append(p + ahead * look_ahead)
    ch = [river.locate(c[0], c[1]) for c in centres]
    s_vals = [c[0] for c in ch]
    reach = 0.3 * (maxy - miny)
    plan.stretch = (max(min(s_vals) - reach, 0.0), min(max(s_vals) + reach, L))
    lateral = [abs(c[1]) for c in ch]
    plan.cover_half_m = float(max(lateral) + 0.45 * across)
    return plan


def apply_noise(true_poses: list[CameraPose], frame: LocalFrame, noise: NoiseModel,
                rng: np.random.Generator) -> list[CameraPose]:
    """The poses the drone writes: true pose + GNSS, barometer, compass and gimbal errors."""
    out = []
    e = rng.normal(0, noise.gnss_sigma_m, 2)
    yaw_bias = float(rng.normal(0, noise.yaw_bias_deg))
    alt_bias = float(rng.normal(0, noise.rel_alt_bias_m))
    abs_bias = float(rng.normal(0, noise.abs_alt_bias_m))
    last_t = None
    for pose in true_poses:
        if last_t is not None and noise.gnss_tau_s > 0:
            dt = (pose.time - last_t).total_seconds()
            rho = math.exp(-dt / noise.gnss_tau_s)
            e = rho * e + math.sqrt(1 - rho**2) * rng.normal(0, noise.gnss_sigma_m, 2)
        last_t = pose.time
        x, y = frame.lonlat_to_enu(pose.lon, pose.lat)
        de = e + rng.normal(0, noise.gnss_white_m, 2)
        lon, lat = frame.enu_to_lonlat(float(x) + de[0], float(y) + de[1])
        yaw_err = yaw_bias + float(rng.normal(0, noise.yaw_white_deg))
        rel = float(pose.rel_alt_m) + alt_bias + float(rng.normal(0, noise.rel_alt_white_m))
        absolute = float(pose.abs_alt_m) + abs_bias + float(rng.normal(0, noise.rel_alt_white_m))
        pitch = float(pose.gimbal_pitch) + float(rng.normal(0, noise.pitch_deg))
        out.append(replace(
            pose, lat=float(lat), lon=float(lon), rel_alt_m=rel, abs_alt_m=absolute,
            gimbal_yaw=_wrap180(float(pose.gimbal_yaw) + yaw_err),
            flight_yaw=_wrap180(float(pose.flight_yaw) + yaw_err + float(rng.normal(0, 0.2))),
            gimbal_pitch=float(np.clip(pitch, -90.0, 35.0)),
            gimbal_roll=float(pose.gimbal_roll) + float(rng.normal(0, noise.roll_deg)),
            flight_pitch=float(pose.flight_pitch) + float(rng.normal(0, 0.3)),
            flight_roll=float(pose.flight_roll) + float(rng.normal(0, 0.3)),
            focal_source=None, rtk_flag=noise.rtk_flag,
            rtk_std_lon_m=noise.rtk_std_m[0] if noise.rtk_std_m else None,
            rtk_std_lat_m=noise.rtk_std_m[1] if noise.rtk_std_m else None,
            rtk_std_hgt_m=noise.rtk_std_m[2] if noise.rtk_std_m else None,
            extra=dict(pose.extra),
        ))
    return out
