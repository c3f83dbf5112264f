"""Fixed-camera calibration from ground control points, and projection with a saved calibration.

A fixed camera (bridge, outfall) has no flight metadata; it is tied to the map once from >= 4
control points: pixels whose lat/lon are known (read off a survey or an orthophoto).

* Without intrinsics: a homography from the image to the water plane (cv2.findHomography in
  local UTM metres). It is exact for points on that plane and cannot model lens distortion
  or a change of water level.
* With intrinsics (focal, centre, distortion): the camera pose by PnP (cv2.solvePnP); pixels
  are then intersected with a horizontal plane whose height may change (water level).

Quality is reported as the leave-one-out (LOO) error of each control point: refit without
it, project its pixel, compare with its map position. LOO needs >= 5 points. A point whose
LOO error is far above the others' (a mis-clicked or mis-surveyed point) is flagged and left
out of the final fit while enough points remain.

POINTS.json::

    {"image_size": [1920, 1080],
     "points": [{"pixel": [x, y], "lat": 30.1, "lon": 114.2, "height_m": 0.0, "name": "P1"}, ...],
     "intrinsics": {"fx": 1400, "fy": 1400, "cx": 960, "cy": 540, "dist": [k1, k2, p1, p2, k3]}}

``height_m`` (height above the water plane, PnP only; default 0), ``name`` and
``intrinsics`` are optional.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from heyan.pipeline.geo.camera_model import Intrinsics, pixels_to_normalized
from heyan.pipeline.geo.georef import GeorefResult
from heyan.pipeline.geo.utm import lonlat_to_utm, utm_epsg, utm_to_lonlat
from heyan.vision.common import InputError, atomic_write

FORMAT = "heyan-camera-calibration"
Method = Literal["auto", "homography", "pnp"]


class CalibrationError(InputError):
    """Control points or a calibration file that cannot be used, with the reason."""


@dataclass(frozen=True)
class ControlPoint:
    pixel: tuple[float, float]
    lat: float
    lon: float
    height_m: float = 0.0  # above the water plane; homography calibration needs 0
    name: str | None = None


@dataclass
class Calibration:
    method: Literal["homography", "pnp"]
    image_size: tuple[int, int]
    epsg: int
    origin: tuple[float, float]  # UTM of the local frame's origin (control-point centroid)
    intrinsics: Intrinsics | None
    homography: np.ndarray | None  # (3,3) undistorted pixel -> local XY (homography method)
    rvec: np.ndarray | None  # (3,) local world (X east, Y north, Z up) -> OpenCV camera (pnp)
    tvec: np.ndarray | None
    max_range_m: float  # pnp: from the camera; homography: from the control-point centroid
    loo_rms_m: float | None
    reference_scale_m_per_px: float  # median ground size of a pixel at the control points
    points: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def camera_position(self) -> np.ndarray | None:
        """Camera centre in local coordinates (pnp only)."""
        if self.rvec is None or self.tvec is None:
            return None
        r, _ = cv2.Rodrigues(self.rvec)
        return (-r.T @ self.tvec.reshape(3)).astype(float)

    def to_json_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT,
            "version": 1,
            "method": self.method,
            "image_size": list(self.image_size),
            "crs": f"EPSG:{self.epsg}",
            "origin_utm": list(self.origin),
            "intrinsics": self.intrinsics.to_json_dict() if self.intrinsics else None,
            "homography": self.homography.tolist() if self.homography is not None else None,
            "rvec": self.rvec.reshape(3).tolist() if self.rvec is not None else None,
            "tvec": self.tvec.reshape(3).tolist() if self.tvec is not None else None,
            "max_range_m": self.max_range_m,
            "loo_rms_m": self.loo_rms_m,
            "reference_scale_m_per_px": self.reference_scale_m_per_px,
            "points": self.points,
            "warnings": self.warnings,
        }
        c = self.camera_position
        if c is not None:
            lon, lat = utm_to_lonlat(self.epsg, self.origin[0] + c[0], self.origin[1] + c[1])
            d["camera"] = {"lat": float(lat), "lon": float(lon), "height_m": float(c[2])}
        return d

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> Calibration:
        if d.get("format") != FORMAT:
            raise CalibrationError(f"not a {FORMAT} file")
        try:
            size = (int(d["image_size"][0]), int(d["image_size"][1]))
            intr = Intrinsics.from_json_dict(d["intrinsics"], size) if d.get("intrinsics") else None
            return cls(
                method=d["method"], image_size=size, epsg=int(str(d["crs"]).split(":")[-1]),
                origin=(float(d["origin_utm"][0]), float(d["origin_utm"][1])), intrinsics=intr,
                homography=np.array(d["homography"], float) if d.get("homography") is not None else None,
                rvec=np.array(d["rvec"], float) if d.get("rvec") is not None else None,
                tvec=np.array(d["tvec"], float) if d.get("tvec") is not None else None,
                max_range_m=float(d["max_range_m"]), loo_rms_m=d.get("loo_rms_m"),
                reference_scale_m_per_px=float(d["reference_scale_m_per_px"]),
                points=list(d.get("points", [])), warnings=list(d.get("warnings", [])),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CalibrationError(f"bad calibration file: {exc!r}") from exc


# --------------------------------------------------------------------------- input / output


def parse_control_points(data: dict[str, Any]) -> tuple[list[ControlPoint], tuple[int, int] | None, Intrinsics | None]:
    """POINTS.json content -> (points, image_size, intrinsics)."""
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise CalibrationError('expected {"points": [{"pixel": [x, y], "lat": .., "lon": ..}, ...]}')
    size = data.get("image_size")
    size_t = (int(size[0]), int(size[1])) if size else None
    pts = []
    for i, p in enumerate(data["points"]):
        try:
            pts.append(ControlPoint((float(p["pixel"][0]), float(p["pixel"][1])), float(p["lat"]), float(p["lon"]),
                                    float(p.get("height_m", 0.0) or 0.0), p.get("name")))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CalibrationError(f"point {i}: needs pixel [x, y], lat and lon ({exc!r})") from exc
    intr = Intrinsics.from_json_dict(data["intrinsics"], size_t) if data.get("intrinsics") else None
    return pts, size_t, intr


def load_control_points(path: str | Path) -> tuple[list[ControlPoint], tuple[int, int] | None, Intrinsics | None]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{path}: {exc}") from exc
    try:
        return parse_control_points(data)
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: {exc}") from exc


def save_calibration(calib: Calibration, path: str | Path) -> None:
    """Atomic write: an edge box never reads half a calibration."""
    atomic_write(path, json.dumps(calib.to_json_dict(), ensure_ascii=False, indent=2) + "\n")


def load_calibration(path: str | Path) -> Calibration:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"{path}: {exc}") from exc
    try:
        return Calibration.from_json_dict(data)
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------- fitting


def _undistorted_px(px: np.ndarray, intr: Intrinsics | None) -> tuple[np.ndarray, np.ndarray]:
    if intr is None or not intr.has_distortion:
        return px.astype(float), np.ones(len(px), dtype=bool)
    norm, ok = pixels_to_normalized(px, intr)
    return np.stack([norm[:, 0] * intr.fx + intr.cx, norm[:, 1] * intr.fy + intr.cy], axis=1), ok


def _fit_h(px: np.ndarray, xy: np.ndarray) -> np.ndarray | None:
    # Plain least squares over all points (method 0): with a handful of hand-picked points
    # RANSAC would silently drop one; outliers are handled by the LOO test instead.
    h, _ = cv2.findHomography(px.astype(np.float64), xy.astype(np.float64), 0)
    return h if h is not None and np.all(np.isfinite(h)) else None


def _apply_h(h: np.ndarray, px: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Map (N,2) through h; valid where the homogeneous w has the control points' sign (the
    other side of the vanishing line is the sky / behind the camera)."""
    v = np.concatenate([px, np.ones((len(px), 1))], axis=1) @ h.T
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = v[:, :2] / v[:, 2:3]
    return xy, (v[:, 2] * side) > 0


def _fit_pnp(obj: np.ndarray, px: np.ndarray, intr: Intrinsics, guess: tuple[np.ndarray, np.ndarray] | None = None
             ) -> tuple[np.ndarray, np.ndarray] | None:
    K, dist = intr.K, intr.dist_array
    try:
        if guess is None:
            ok, rvec, tvec = cv2.solvePnP(obj, px, K, dist, flags=cv2.SOLVEPNP_SQPNP)
        else:
            ok, rvec, tvec = cv2.solvePnP(obj, px, K, dist, guess[0].copy(), guess[1].copy(), True,
                                          flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok:
            return None
        rvec, tvec = cv2.solvePnPRefineLM(obj, px, K, dist, rvec, tvec)
    except cv2.error:
        return None
    return rvec.reshape(3), tvec.reshape(3)


def _pnp_ground(rvec: np.ndarray, tvec: np.ndarray, intr: Intrinsics, px: np.ndarray, z: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersect pixel rays with horizontal planes Z = z (N,). Returns XY (N,2), valid mask
    (ray goes down to the plane in front of the camera), horizontal distance (N,)."""
    r, _ = cv2.Rodrigues(rvec)
    c = -r.T @ tvec
    norm, conv = pixels_to_normalized(px, intr)
    d = np.concatenate([norm, np.ones((len(px), 1))], axis=1) @ r  # camera -> world: R^T v
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (z - c[2]) / d[:, 2]
    ok = conv & np.isfinite(t) & (t > 0)
    xy = c[:2] + t[:, None] * d[:, :2]
    xy[~ok] = np.nan
    return xy, ok, np.hypot(xy[:, 0] - c[0], xy[:, 1] - c[1])


class _Model:
    """One fitted model of either kind, on a subset of the points."""

    def __init__(self, method: str, intr: Intrinsics | None, upx: np.ndarray, raw_px: np.ndarray,
                 xyz: np.ndarray, guess: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.method = method
        self.intr = intr
        self.h = self.rvec = self.tvec = None
        self.side = 1.0
        if method == "homography":
            self.h = _fit_h(upx, xyz[:, :2])
            if self.h is not None:
                w = np.concatenate([upx, np.ones((len(upx), 1))], axis=1) @ self.h[2]
                self.side = 1.0 if np.median(w) > 0 else -1.0
        else:
            sol = _fit_pnp(xyz.astype(np.float64), raw_px.astype(np.float64), intr, guess)
            if sol is not None:
                self.rvec, self.tvec = sol

    @classmethod
    def from_calibration(cls, calib: Calibration) -> _Model:
        m = cls.__new__(cls)
        m.method, m.intr, m.side = calib.method, calib.intrinsics, 1.0
        m.h, m.rvec, m.tvec = calib.homography, calib.rvec, calib.tvec
        return m

    @property
    def ok(self) -> bool:
        return self.h is not None or self.rvec is not None

    def ground(self, upx: np.ndarray, raw_px: np.ndarray, z: np.ndarray) -> np.ndarray:
        if self.method == "homography":
            xy, ok = _apply_h(self.h, upx, self.side)
            xy[~ok] = np.nan
            return xy
        xy, _, _ = _pnp_ground(self.rvec, self.tvec, self.intr, raw_px, z)
        return xy


def calibrate(points: Sequence[ControlPoint | dict[str, Any]], image_size: tuple[int, int] | None = None,
              intrinsics: Intrinsics | None = None, method: Method = "auto", max_range_m: float | None = None,
              outlier_factor: float = 3.0, min_outlier_m: float = 1.0) -> Calibration:
    """Calibrate a fixed camera from >= 4 control points (pixel <-> lat/lon).

    ``method="auto"`` uses PnP when intrinsics are given, else a homography. A point is
    flagged as an outlier when its LOO error exceeds both ``min_outlier_m`` and
    ``outlier_factor`` times the largest LOO error of the other points (refitted without it);
    it is dropped and the test repeated while at least 5 points would remain.
    """
    pts = [p if isinstance(p, ControlPoint) else parse_control_points({"points": [p]})[0][0] for p in points]
    if len(pts) < 4:
        raise CalibrationError(f"need at least 4 control points, got {len(pts)}")
    if method == "auto":
        method = "pnp" if intrinsics is not None else "homography"
    if method == "pnp" and intrinsics is None:
        raise CalibrationError("PnP calibration needs intrinsics (fx, fy, cx, cy, dist)")
    raw_px = np.array([p.pixel for p in pts], dtype=float)
    if image_size is None:
        if intrinsics is not None and intrinsics.width and intrinsics.height:
            image_size = (intrinsics.width, intrinsics.height)
        else:
            raise CalibrationError("image_size is required")
    lat = np.array([p.lat for p in pts])
    lon = np.array([p.lon for p in pts])
    epsg = utm_epsg(float(np.mean(lon)), float(np.mean(lat)))
    e, n = lonlat_to_utm(epsg, lon, lat)
    origin = (float(np.mean(e)), float(np.mean(n)))  # local origin keeps the fit well conditioned
    xyz = np.stack([e - origin[0], n - origin[1], np.array([p.height_m for p in pts])], axis=1)
    warnings: list[str] = []
    if method == "homography" and np.any(xyz[:, 2] != 0):
        warnings.append("homography assumes every control point on the water plane; height_m ignored")
        xyz[:, 2] = 0.0
    upx, conv = _undistorted_px(raw_px, intrinsics)
    if not conv.all():
        raise CalibrationError("lens undistortion did not converge at control point(s) "
                               f"{[i for i in range(len(pts)) if not conv[i]]}")

    def fit(idx: np.ndarray, guess=None) -> _Model:
        return _Model(method, intrinsics, upx[idx], raw_px[idx], xyz[idx], guess)

    def loo(active: np.ndarray, full: _Model) -> np.ndarray:
        errs = np.full(len(pts), np.nan)
        if len(active) < 5:
            return errs
        guess = (full.rvec, full.tvec) if full.rvec is not None else None
        for i in active:
            m = fit(active[active != i], guess)
            if m.ok:
                g = m.ground(upx[i:i + 1], raw_px[i:i + 1], xyz[i:i + 1, 2])
                errs[i] = float(np.hypot(*(g[0] - xyz[i, :2])))
            else:
                errs[i] = np.inf
        return errs

    def consistency(idx: np.ndarray, guess=None) -> float:
        """RMS residual of the points ``idx`` under a model fitted to them."""
        m = fit(idx, guess)
        if not m.ok:
            return float("inf")
        g = m.ground(upx[idx], raw_px[idx], xyz[idx, 2])
        r = np.hypot(g[:, 0] - xyz[idx, 0], g[:, 1] - xyz[idx, 1])
        return float(np.sqrt(np.mean(r**2))) if np.isfinite(r).all() else float("inf")

    # Outliers: a single wrong point also spoils the LOO fits of its neighbours (it is in all
    # of them), so the suspect is the point whose removal makes the *others* agree best; it
    # is dropped only if its own LOO error is far above the others' LOO errors without it.
    active = np.arange(len(pts))
    dropped: list[int] = []
    suspect: int | None = None
    while True:
        full = fit(active)
        if not full.ok:
            raise CalibrationError(f"{method} fit failed: control points degenerate (collinear or repeated?)")
        errs = loo(active, full)
        if len(active) < 6:  # dropping one must leave >= 5 points to judge it by LOO
            break
        guess = (full.rvec, full.tvec) if full.rvec is not None else None
        cons = np.array([consistency(active[active != i], guess) for i in active])
        cand = int(active[int(np.argmin(cons))])
        rest = active[active != cand]
        rest_errs = loo(rest, fit(rest, guess))[rest]
        # Compared with the *largest* LOO error of the rest: a good point far outside the
        # others (high leverage) has a large LOO error too, and must not be dropped for it.
        limit = max(min_outlier_m, outlier_factor * float(np.nanmax(rest_errs)))
        if not errs[cand] > limit:
            # Not provably wrong, but the person clicking the points should look at it first.
            if errs[cand] > max(min_outlier_m, outlier_factor * float(np.nanmedian(errs[active]))):
                suspect = cand
            break
        dropped.append(cand)
        active = rest
    if suspect is not None:
        warnings.append(f"control point {suspect} may be wrong (LOO {errs[suspect]:.2f} m, and the others agree "
                        "best without it) but that is not clear enough to drop it; more control points "
                        "(>= 8) let a wrong one be singled out")
    if len(active) < 5:
        warnings.append("leave-one-out errors need at least 5 control points")

    # Dropped points: their error against the final model (which never saw them) is a LOO error.
    resid_xy = full.ground(upx, raw_px, xyz[:, 2])
    resid = np.hypot(resid_xy[:, 0] - xyz[:, 0], resid_xy[:, 1] - xyz[:, 1])
    for i in dropped:
        errs[i] = resid[i]
        warnings.append(f"control point {i}{' (' + pts[i].name + ')' if pts[i].name else ''} dropped as an "
                        f"outlier: {resid[i]:.2f} m off the fit of the others")

    # Ground size of a pixel at each control point, to scale the error of other pixels.
    scales = _local_scale(full, upx, raw_px, xyz[:, 2])
    ref_scale = float(np.nanmedian(scales[active])) if np.isfinite(scales[active]).any() else float("nan")
    loo_active = errs[active]
    loo_rms = float(np.sqrt(np.mean(loo_active**2))) if np.isfinite(loo_active).all() else None

    if max_range_m is None:
        if method == "pnp":
            c = -cv2.Rodrigues(full.rvec)[0].T @ full.tvec
            dist = np.hypot(xyz[active, 0] - c[0], xyz[active, 1] - c[1])
            max_range_m = float(3.0 * dist.max())
        else:
            max_range_m = float(3.0 * np.hypot(xyz[active, 0], xyz[active, 1]).max() + 20.0)

    report = []
    for i, p in enumerate(pts):
        report.append({
            "name": p.name, "pixel": list(p.pixel), "lat": p.lat, "lon": p.lon, "height_m": p.height_m,
            "loo_error_m": _num(errs[i]), "residual_m": _num(resid[i]),
            "outlier": i in dropped, "used": bool(i in active),
        })
    return Calibration(
        method=method, image_size=(int(image_size[0]), int(image_size[1])), epsg=epsg, origin=origin,
        intrinsics=intrinsics, homography=full.h, rvec=full.rvec, tvec=full.tvec, max_range_m=max_range_m,
        loo_rms_m=loo_rms, reference_scale_m_per_px=ref_scale, points=report, warnings=warnings,
    )


def _num(v: float) -> float | None:
    return round(float(v), 4) if v is not None and math.isfinite(v) else None


def _local_scale(model: _Model, upx: np.ndarray, raw_px: np.ndarray, z: np.ndarray) -> np.ndarray:
    """sqrt(ground area of one pixel) at each pixel, by finite differences."""
    s = 0.5
    out = []
    for dx, dy in ((s, 0.0), (0.0, s)):
        off = np.array([dx, dy])
        a = model.ground(upx + off, raw_px + off, z) - model.ground(upx - off, raw_px - off, z)
        out.append(a / (2 * s))
    jx, jy = out
    return np.sqrt(np.abs(jx[:, 0] * jy[:, 1] - jx[:, 1] * jy[:, 0]))


# --------------------------------------------------------------------------- projection


def project_with_calibration(calib: Calibration, pixels: np.ndarray, plane_height_m: float | None = None
                             ) -> GeorefResult:
    """Ground lat/lon of pixels (N,2) of a calibrated fixed camera.

    ``plane_height_m`` is the water level relative to the calibration's plane (PnP only; a
    homography knows only its own plane). ``error_m`` is the calibration's LOO RMS error scaled
    by how much larger a pixel is on the ground there than at the control points (far pixels
    are less certain); it is None (NaN) when the calibration had fewer than 5 points.
    """
    px = np.asarray(pixels, dtype=float).reshape(-1, 2)
    n = len(px)
    if plane_height_m not in (None, 0, 0.0) and calib.method != "pnp":
        raise CalibrationError("a homography calibration only knows its own plane: calibrate with "
                               "intrinsics (PnP) to project onto a different water level")
    z = np.full(n, float(plane_height_m or 0.0))
    model = _Model.from_calibration(calib)
    upx, conv = _undistorted_px(px, calib.intrinsics)
    if calib.method == "homography":
        # The sign of w on the ground side is that of the control points.
        cps = np.array([p["pixel"] for p in calib.points if p.get("used", True)], dtype=float)
        ucps, _ = _undistorted_px(cps, calib.intrinsics)
        w = np.concatenate([ucps, np.ones((len(ucps), 1))], axis=1) @ calib.homography[2]
        model.side = 1.0 if np.median(w) > 0 else -1.0
    xy = model.ground(upx, px, z)
    if calib.method == "pnp":
        c = calib.camera_position
        dist = np.hypot(xy[:, 0] - c[0], xy[:, 1] - c[1])
    else:
        dist = np.hypot(xy[:, 0], xy[:, 1])
    w_img, h_img = calib.image_size
    reasons: list[str | None] = []
    for i in range(n):
        if not np.isfinite(px[i]).all():
            reasons.append("pixel is not a number")
        elif not (0 <= px[i, 0] <= w_img and 0 <= px[i, 1] <= h_img):
            reasons.append("pixel outside the image")
        elif not conv[i]:
            reasons.append("lens undistortion did not converge at this pixel")
        elif not np.isfinite(xy[i]).all():
            reasons.append("ray above the horizon")
        elif dist[i] > calib.max_range_m:
            reasons.append(f"ground point beyond max range {calib.max_range_m:g} m")
        else:
            reasons.append(None)
    ok = np.array([r is None for r in reasons])
    xy[~ok] = np.nan
    scale = _local_scale(model, upx, px, z)
    err = np.full(n, np.nan)
    if calib.loo_rms_m is not None and calib.reference_scale_m_per_px > 0:
        err = calib.loo_rms_m * np.maximum(scale / calib.reference_scale_m_per_px, 1.0)
    err[~ok] = np.nan
    ge = xy[:, 0] + calib.origin[0]
    gn = xy[:, 1] + calib.origin[1]
    lon, lat = utm_to_lonlat(calib.epsg, ge, gn)
    return GeorefResult(
        pixels=px, lat=lat, lon=lon, east=ge, north=gn, epsg=calib.epsg, height_m=z.copy(),
        distance_m=np.where(ok, dist, np.nan), error_m=err, error_terms={"calibration": err.copy()},
        reasons=reasons, yaw_from="calibration",
    )
