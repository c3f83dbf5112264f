"""Georeferencing: photo pixel -> ground (lat, lon) with an error estimate; photo footprint; GSD.

Model (docs/georef.md has the full story and the default uncertainties):

* pixel -> undistorted normalized coordinates (OpenCV model, camera_model.py)
* -> ray in the camera's local East-North-Up frame, rotated by DJI yaw/pitch/roll (Z-Y-X)
* -> intersection with the ground: a horizontal plane at ``GroundPlane.height_m`` relative to
  takeoff (default 0 = the water at takeoff level), or a DEM/DSM (``Dem``) by ray marching
* -> ENU offset -> UTM (zone from lon, convergence and scale handled) -> WGS-84 lat/lon.

Earth curvature is ignored (the flat local frame is low by d^2/2R: 8 cm at 1 km).
A ray above the horizon, beyond ``max_range_m``, off the DEM, or through a pixel where the
lens model does not invert gives no point and a reason, never a far-away wild one.

The error of each point is first-order propagated: numerical Jacobian of the ground point
w.r.t. camera east/north/up, yaw, pitch, roll, focal length and ground height, with
independent 1-sigma errors combined in quadrature (errors_model.ErrorModel). For a DEM the
Jacobian uses the terrain's tangent plane at the hit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import numpy as np
from shapely.geometry import Point, Polygon
from shapely.validation import make_valid

from heyan.pipeline.geo.camera_model import (
    Attitude,
    Intrinsics,
    PoseError,
    YawSource,
    attitude_from_pose,
    intrinsics_from_pose,
    normalized_to_pixels,
    pixels_to_normalized,
    rotation_enu_from_camera,
)
from heyan.pipeline.geo.dem import (
    CAMERA_BELOW,
    HIT,
    OFF_DEM,
    Dem,
    DemError,
    march_rays,
    terrain_gradient,
    terrain_in_frame,
)
from heyan.pipeline.geo.errors_model import ErrorModel
from heyan.pipeline.geo.utm import LocalFrame
from heyan.pipeline.metadata.pose import CameraPose

__all__ = [
    "Dem",
    "DemError",
    "ErrorModel",
    "GeorefResult",
    "GeorefSettings",
    "GroundPlane",
    "PoseError",
    "footprint",
    "ground_sampling_distance",
    "ground_to_pixels",
    "project_pixels",
]


@dataclass(frozen=True)
class GroundPlane:
    """Horizontal ground at ``height_m`` relative to the takeoff point (DJI RelativeAltitude's
    zero). 0 means the water is at takeoff level; a flight that took off from a levee 6 m
    above the water uses -6. ``sigma_m`` overrides ErrorModel.sigma_plane_m."""

    height_m: float = 0.0
    sigma_m: float | None = None


Ground: TypeAlias = GroundPlane | Dem


@dataclass(frozen=True)
class GeorefSettings:
    """Per-camera (airframe) settings."""

    # Which yaw tag points the camera: see camera_model.attitude_from_pose for why "gimbal".
    yaw_source: YawSource = "gimbal"
    # No ground point farther than this (horizontal metres from the camera): beyond it the
    # attitude error alone makes the position meaningless.
    max_range_m: float = 1000.0
    # DEM mode: altitude of the takeoff point in the DEM's vertical datum. When given, the
    # camera altitude is takeoff_alt_m + RelativeAltitude (reliable); otherwise the photo's
    # AbsoluteAltitude + abs_alt_offset_m is used (DJI absolute altitude is often 10+ m off
    # without RTK, and its datum varies by model).
    takeoff_alt_m: float | None = None
    abs_alt_offset_m: float = 0.0
    # DEM ray-marching step (slant metres); None = half a DEM cell.
    dem_step_m: float | None = None
    # Give "pixel outside the image" for pixels beyond the image borders.
    check_image_bounds: bool = True
    errors: ErrorModel = field(default_factory=ErrorModel)


# Parameters of the error propagation, in the order of the Jacobian columns.
ERROR_TERMS = ("east", "north", "up", "yaw", "pitch", "roll", "focal", "ground")


@dataclass
class GeorefResult:
    """Vectorised result of ``project_pixels``; arrays are (N,), NaN where there is no point."""

    pixels: np.ndarray  # (N,2) as given
    lat: np.ndarray
    lon: np.ndarray
    east: np.ndarray  # UTM grid coordinates (EPSG ``epsg``)
    north: np.ndarray
    epsg: int
    height_m: np.ndarray  # ground height in the ground model's datum
    distance_m: np.ndarray  # horizontal distance camera -> point
    error_m: np.ndarray  # horizontal 1-sigma radial error, sqrt(sigma_E^2 + sigma_N^2)
    error_terms: dict[str, np.ndarray]  # per-source contribution (m), combined in quadrature
    reasons: list[str | None]  # None where there is a point
    yaw_from: str = "gimbal"

    def __len__(self) -> int:
        return len(self.reasons)

    @property
    def ok(self) -> np.ndarray:
        return np.array([r is None for r in self.reasons], dtype=bool)

    def record(self, i: int) -> dict[str, Any]:
        """JSON-ready dict: {"pixel", "lat", "lon", "error_m"} or {"pixel", "error"}."""
        px = [float(self.pixels[i, 0]), float(self.pixels[i, 1])]
        if self.reasons[i] is not None:
            return {"pixel": px, "error": self.reasons[i]}
        err = float(self.error_m[i])
        return {"pixel": px, "lat": round(float(self.lat[i]), 8), "lon": round(float(self.lon[i]), 8),
                "error_m": round(err, 3) if math.isfinite(err) else None}

    def records(self) -> list[dict[str, Any]]:
        return [self.record(i) for i in range(len(self))]


# --------------------------------------------------------------------------- camera setup


@dataclass(frozen=True)
class _Camera:
    frame: LocalFrame  # ENU frame centred on the camera's horizontal position
    intr: Intrinsics
    att: Attitude
    z: float  # camera height in the ground model's datum
    sigma: dict[str, float]  # 1-sigma per ERROR_TERMS name (angles in degrees, focal relative)


def _camera(pose: CameraPose, ground: Ground, settings: GeorefSettings) -> _Camera:
    if not pose.has_position:
        raise PoseError("pose has no latitude/longitude")
    intr = intrinsics_from_pose(pose)
    att = attitude_from_pose(pose, settings.yaw_source)
    em = settings.errors
    if isinstance(ground, Dem):
        if settings.takeoff_alt_m is not None and pose.rel_alt_m is not None:
            z = float(settings.takeoff_alt_m) + float(pose.rel_alt_m)
            sigma_z = em.relative_vertical_sigma(pose)
        elif pose.abs_alt_m is not None:
            z = float(pose.abs_alt_m) + settings.abs_alt_offset_m
            sigma_z = em.absolute_vertical_sigma(pose)
        else:
            raise PoseError("DEM ground needs the camera altitude: pose has no absolute altitude "
                            "and no takeoff altitude was given")
        sigma_ground = ground.sigma_m if ground.sigma_m is not None else em.sigma_dem_m
    else:
        if pose.rel_alt_m is None:
            raise PoseError("pose has no relative altitude (above takeoff)")
        z = float(pose.rel_alt_m)
        sigma_z = em.relative_vertical_sigma(pose)
        sigma_ground = ground.sigma_m if ground.sigma_m is not None else em.sigma_plane_m
    se, sn, _ = em.horizontal_sigma(pose)
    sigma = {"east": se, "north": sn, "up": sigma_z, "yaw": em.sigma_yaw_deg, "pitch": em.sigma_pitch_deg,
             "roll": em.sigma_roll_deg, "focal": em.focal_sigma_rel(pose), "ground": sigma_ground}
    return _Camera(LocalFrame(float(pose.lon), float(pose.lat)), intr, att, z, sigma)


def _rays(norm: np.ndarray, yaw: float, pitch: float, roll: float, focal_scale: float = 1.0) -> np.ndarray:
    """Unit ENU directions (N,3) of undistorted normalized coordinates (N,2).

    A focal length longer by ``focal_scale`` shrinks the normalized coordinates of a pixel."""
    v = np.concatenate([norm / focal_scale, np.ones((len(norm), 1))], axis=1)
    d = v @ rotation_enu_from_camera(yaw, pitch, roll).T
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _hit_local_plane(origin: np.ndarray, dirs: np.ndarray, h0: np.ndarray, grad: np.ndarray,
                     anchor: np.ndarray) -> np.ndarray:
    """Intersection (N,3) of rays from ``origin`` (N,3 or 3,) with the planes
    z = h0 + grad . (xy - anchor); NaN where the ray runs parallel or away from it."""
    origin = np.broadcast_to(origin, dirs.shape)
    num = h0 + np.sum(grad * (origin[:, :2] - anchor), axis=1) - origin[:, 2]
    den = dirs[:, 2] - np.sum(grad * dirs[:, :2], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = num / den
    t = np.where(t > 0, t, np.nan)
    return origin + t[:, None] * dirs


# --------------------------------------------------------------------------- projection


def _intersect(cam: _Camera, dirs: np.ndarray, ground: Ground, settings: GeorefSettings
               ) -> tuple[np.ndarray, list[str | None], np.ndarray, np.ndarray]:
    """Ground points (N,3) in ENU for unit rays, reasons, and the local tangent plane at each
    hit (height (N,), gradient (N,2)) used for error propagation."""
    n = len(dirs)
    pts = np.full((n, 3), np.nan)
    reasons: list[str | None] = [None] * n
    grad = np.zeros((n, 2))
    origin = np.array([0.0, 0.0, cam.z])
    rmax = settings.max_range_m
    horiz = np.hypot(dirs[:, 0], dirs[:, 1])
    if isinstance(ground, GroundPlane):
        h = float(ground.height_m)
        if cam.z <= h:
            return pts, ["camera is not above the ground plane (check altitude / ground height)"] * n, \
                np.full(n, h), grad
        down = dirs[:, 2] < -1e-12
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(down, (h - cam.z) / dirs[:, 2], np.nan)
        dist = t * horiz
        for i in range(n):
            if not down[i]:
                reasons[i] = "ray above the horizon"
            elif not dist[i] <= rmax:
                reasons[i] = f"ground point beyond max range {rmax:g} m"
            else:
                pts[i] = origin + t[i] * dirs[i]
        return pts, reasons, np.full(n, h), grad

    terrain, grid = terrain_in_frame(ground, cam.frame, rmax + 10.0)
    if not np.isfinite(grid.elevation).any():
        return pts, [f"the DEM has no data within {rmax:g} m of the camera"] * n, np.full(n, np.nan), grad
    zmin = float(np.nanmin(grid.elevation)) if np.isfinite(grid.elevation).any() else cam.z
    with np.errstate(divide="ignore", invalid="ignore"):
        t_range = np.where(horiz > 1e-12, rmax / horiz, np.inf)
        t_floor = np.where(dirs[:, 2] < -1e-12, (cam.z - zmin) / -dirs[:, 2] + 1.0, np.inf)
    t_max = np.minimum(t_range, t_floor)
    t_max[~np.isfinite(t_max)] = 0.0  # straight up: nothing to march
    step = settings.dem_step_m or max(0.5 * grid.cell_size_m(cam.frame.lat), 0.1)
    step = max(step, float(np.max(t_max, initial=0.0)) / 20000.0)  # bound the work per ray
    t, status = march_rays(terrain, cam.z, dirs, t_max, step)
    for i in range(n):
        if status[i] == HIT:
            pts[i] = origin + t[i] * dirs[i]
        elif status[i] == OFF_DEM:
            reasons[i] = ("ray above the horizon (no terrain hit on the DEM)" if dirs[i, 2] >= 0
                          else "ray leaves the DEM before reaching the ground")
        elif status[i] == CAMERA_BELOW:
            reasons[i] = "camera is below the DEM surface (check altitude / takeoff altitude)"
        elif dirs[i, 2] >= 0:
            reasons[i] = "ray above the horizon (no terrain within max range)"
        else:
            reasons[i] = f"no ground within max range {rmax:g} m"
    ok = status == HIT
    heights = np.full(n, np.nan)
    if ok.any():
        heights[ok] = terrain(pts[ok, 0], pts[ok, 1])
        grad[ok] = terrain_gradient(terrain, pts[ok, 0], pts[ok, 1])
    return pts, reasons, heights, grad


def _propagate(cam: _Camera, norm: np.ndarray, pts: np.ndarray, h0: np.ndarray, grad: np.ndarray
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """First-order horizontal error: central-difference Jacobian of the ground point on the
    local tangent plane w.r.t. each ERROR_TERMS parameter, scaled by its sigma, combined in
    quadrature (independent errors). Returns error_m (N,) and per-term contributions."""
    a = cam.att
    anchor = pts[:, :2]
    base = np.array([0.0, 0.0, cam.z])
    steps = {"east": 1e-3, "north": 1e-3, "up": 1e-3, "yaw": 1e-3, "pitch": 1e-3, "roll": 1e-3,
             "focal": 1e-6, "ground": 1e-3}

    def solve(delta: dict[str, float]) -> np.ndarray:
        origin = base + np.array([delta.get("east", 0.0), delta.get("north", 0.0), delta.get("up", 0.0)])
        d = _rays(norm, a.yaw_deg + delta.get("yaw", 0.0), a.pitch_deg + delta.get("pitch", 0.0),
                  a.roll_deg + delta.get("roll", 0.0), 1.0 + delta.get("focal", 0.0))
        return _hit_local_plane(origin, d, h0 + delta.get("ground", 0.0), grad, anchor)[:, :2]

    terms: dict[str, np.ndarray] = {}
    total = np.zeros(len(pts))
    for name in ERROR_TERMS:
        hstep = steps[name]
        deriv = (solve({name: hstep}) - solve({name: -hstep})) / (2 * hstep)
        contrib = np.linalg.norm(deriv, axis=1) * cam.sigma[name]
        contrib[~np.isfinite(contrib)] = np.inf
        terms[name] = contrib
        total += contrib**2
    return np.sqrt(total), terms


def project_pixels(pose: CameraPose, pixels: np.ndarray, ground: Ground | None = None,
                   settings: GeorefSettings | None = None, *, with_errors: bool = True) -> GeorefResult:
    """Ground position of image pixels (N,2 array of x, y in the image as stored).

    Raises PoseError when the pose lacks what is needed (position, altitude, attitude, focal
    length) and DemError when the DEM cannot be read; per-pixel failures (above horizon,
    beyond max range, off the DEM, outside the image) come back as reasons.
    """
    ground = GroundPlane() if ground is None else ground
    settings = settings or GeorefSettings()
    px = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
    n = len(px)
    cam = _camera(pose, ground, settings)
    norm, conv = pixels_to_normalized(px, cam.intr)
    reasons: list[str | None] = [None] * n
    inside = np.ones(n, dtype=bool)
    if settings.check_image_bounds:
        inside = (px[:, 0] >= 0) & (px[:, 0] <= cam.intr.width) & (px[:, 1] >= 0) & (px[:, 1] <= cam.intr.height)
    usable = inside & conv & np.isfinite(px).all(axis=1)
    for i in range(n):
        if not np.isfinite(px[i]).all():
            reasons[i] = "pixel is not a number"
        elif not inside[i]:
            reasons[i] = "pixel outside the image"
        elif not conv[i]:
            reasons[i] = "lens undistortion did not converge at this pixel"

    pts = np.full((n, 3), np.nan)
    heights = np.full(n, np.nan)
    grad = np.zeros((n, 2))
    idx = np.where(usable)[0]
    if idx.size:
        dirs = _rays(norm[idx], cam.att.yaw_deg, cam.att.pitch_deg, cam.att.roll_deg)
        p, r, h, g = _intersect(cam, dirs, ground, settings)
        pts[idx], heights[idx], grad[idx] = p, h, g
        for j, i in enumerate(idx):
            reasons[i] = r[j]
    ok = np.array([r is None for r in reasons], dtype=bool)
    pts[~ok] = np.nan
    heights[~ok] = np.nan

    error = np.full(n, np.nan)
    terms = {name: np.full(n, np.nan) for name in ERROR_TERMS}
    if with_errors and ok.any():
        e_ok, t_ok = _propagate(cam, norm[ok], pts[ok], heights[ok], grad[ok])
        error[ok] = e_ok
        for name in ERROR_TERMS:
            terms[name][ok] = t_ok[name]

    ge, gn = cam.frame.enu_to_grid(pts[:, 0], pts[:, 1])
    lon, lat = cam.frame.enu_to_lonlat(pts[:, 0], pts[:, 1])
    return GeorefResult(
        pixels=px, lat=lat, lon=lon, east=ge, north=gn, epsg=cam.frame.epsg, height_m=heights,
        distance_m=np.hypot(pts[:, 0], pts[:, 1]), error_m=error, error_terms=terms, reasons=reasons,
        yaw_from=cam.att.yaw_from,
    )


# --------------------------------------------------------------------------- footprint & GSD


def _border_pixels(w: float, h: float, per_edge: int) -> np.ndarray:
    """Image outline, clockwise from the top-left corner, ``per_edge`` samples per edge."""
    s = np.linspace(0.0, 1.0, per_edge, endpoint=False)
    top = np.stack([s * w, np.zeros_like(s)], axis=1)
    right = np.stack([np.full_like(s, w), s * h], axis=1)
    bottom = np.stack([(1 - s) * w, np.full_like(s, h)], axis=1)
    left = np.stack([np.zeros_like(s), (1 - s) * h], axis=1)
    return np.concatenate([top, right, bottom, left])


def footprint(pose: CameraPose, ground: Ground | None = None, settings: GeorefSettings | None = None,
              samples_per_edge: int = 16) -> Polygon:
    """Ground area seen by the photo, as a lon/lat shapely Polygon (empty if none).

    The outline is the projection of the image border (corners plus ``samples_per_edge``
    samples per edge, so the curved edges of oblique/distorted views are followed). Where a
    border ray has no ground point (above the horizon, too far, off the DEM) the outline runs
    along the ``max_range_m`` circle in that ray's direction, and the polygon is clipped to
    that circle: an oblique photo's footprint is "what it sees up to max range".
    """
    ground = GroundPlane() if ground is None else ground
    settings = settings or GeorefSettings()
    cam = _camera(pose, ground, settings)
    border = _border_pixels(cam.intr.width, cam.intr.height, max(2, samples_per_edge))
    res = project_pixels(pose, border, ground, settings, with_errors=False)
    rmax = settings.max_range_m
    enu = np.stack(cam.frame.grid_to_enu(res.east, res.north), axis=1)
    norm, conv = pixels_to_normalized(border, cam.intr)
    dirs = _rays(np.nan_to_num(norm), cam.att.yaw_deg, cam.att.pitch_deg, cam.att.roll_deg)
    ring = []
    for i in range(len(border)):
        if res.reasons[i] is None:
            ring.append(enu[i])
        elif conv[i]:
            hz = math.hypot(dirs[i, 0], dirs[i, 1])
            if hz > 1e-9:  # direction of the ray on the ground, out to the range limit
                ring.append(np.array([dirs[i, 0], dirs[i, 1]]) / hz * rmax)
    if len(ring) < 3 or not res.ok.any():
        return Polygon()
    poly = make_valid(Polygon(ring))
    disc = Point(0.0, 0.0).buffer(rmax, quad_segs=32)
    poly = poly.intersection(disc)
    if poly.geom_type != "Polygon":
        polys = [g for g in getattr(poly, "geoms", []) if g.geom_type == "Polygon" and not g.is_empty]
        if not polys:
            return Polygon()
        poly = max(polys, key=lambda g: g.area)
    xy = np.asarray(poly.exterior.coords)
    lon, lat = cam.frame.enu_to_lonlat(xy[:, 0], xy[:, 1])
    return Polygon(np.stack([lon, lat], axis=1))


def ground_sampling_distance(pose: CameraPose, ground: Ground | None = None,
                             settings: GeorefSettings | None = None,
                             pixel: tuple[float, float] | None = None) -> float | None:
    """Ground sampling distance in metres per pixel at the image centre (or ``pixel``).

    It is the square root of the ground area of one pixel there (|det| of the pixel->ground
    Jacobian), so it equals altitude / focal_px for a nadir photo over flat ground and is
    the geometric mean of the along- and across-track sizes for an oblique one. None when
    that pixel has no ground point.
    """
    ground = GroundPlane() if ground is None else ground
    settings = settings or GeorefSettings()
    if pixel is None:
        if not pose.width or not pose.height:
            raise PoseError("pose has no image size")
        pixel = (pose.width / 2.0, pose.height / 2.0)
    x, y = pixel
    s = 0.5
    pts = np.array([[x - s, y], [x + s, y], [x, y - s], [x, y + s]])
    res = project_pixels(pose, pts, ground, replace(settings, check_image_bounds=False), with_errors=False)
    if not res.ok.all():
        return None
    dx = np.array([res.east[1] - res.east[0], res.north[1] - res.north[0]]) / (2 * s)
    dy = np.array([res.east[3] - res.east[2], res.north[3] - res.north[2]]) / (2 * s)
    cam_scale = LocalFrame(float(pose.lon), float(pose.lat)).A  # grid metres per ground metre
    area = abs(dx[0] * dy[1] - dx[1] * dy[0]) / abs(np.linalg.det(cam_scale))
    return float(math.sqrt(area))


def ground_to_pixels(pose: CameraPose, lat: np.ndarray, lon: np.ndarray, ground: Ground | None = None,
                     settings: GeorefSettings | None = None) -> np.ndarray:
    """Inverse of ``project_pixels``: pixels (N,2) where ground points appear in the photo.

    Heights come from the ground model (the plane's height, or the DEM sampled at the point).
    NaN for points behind the camera or with unknown height. Occlusion is not checked, and
    pixels outside the image are returned as is (the caller tests the bounds)."""
    ground = GroundPlane() if ground is None else ground
    settings = settings or GeorefSettings()
    cam = _camera(pose, ground, settings)
    e, n = cam.frame.lonlat_to_enu(np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float)))
    if isinstance(ground, GroundPlane):
        z = np.full(e.shape, float(ground.height_m))
    else:
        r = float(np.max(np.hypot(e, n), initial=0.0)) + 10.0
        terrain, _ = terrain_in_frame(ground, cam.frame, r)
        z = terrain(e, n)
    v = np.stack([e, n, z - cam.z], axis=1)
    a = cam.att
    c = v @ rotation_enu_from_camera(a.yaw_deg, a.pitch_deg, a.roll_deg)  # ENU -> optical: R^T v
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = c[:, :2] / c[:, 2:3]
    norm[~(c[:, 2] > 0)] = np.nan
    return normalized_to_pixels(norm, cam.intr)
