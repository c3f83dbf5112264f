"""Pinhole camera with OpenCV lens distortion, and DJI attitude conventions.

Frames
------
* Pixel: continuous coordinates of the image *as stored*; (0, 0) is the top-left corner of the
  top-left pixel, so the image centre is (w/2, h/2) and the corners are (0,0) .. (w,h).
* Camera (OpenCV optical frame): x right, y down, z forward along the optical axis.
* Gimbal body (DJI): x forward, y right, z down. The camera looks along body +x.
* World: North-East-Down (NED) for the rotation; callers switch to East-North-Up (ENU).

DJI attitude: yaw clockwise from true north, pitch positive nose up (gimbal pitch -90 = nadir),
roll positive right side down, composed Z-Y-X: R_ned_from_body = Rz(yaw) @ Ry(pitch) @ Rx(roll).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.common import InputError

YawSource = Literal["gimbal", "flight"]

# Optical frame -> gimbal body frame: optical z (forward) is body x, optical x (right) is
# body y, optical y (down) is body z.
_BODY_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class PoseError(InputError):
    """The pose lacks something georeferencing needs (position, altitude, attitude, lens)."""


@dataclass(frozen=True)
class Intrinsics:
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    dist: tuple[float, ...] = field(default=(0.0, 0.0, 0.0, 0.0, 0.0))  # k1, k2, p1, p2, k3

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def dist_array(self) -> np.ndarray:
        d = np.zeros(5)
        d[: min(5, len(self.dist))] = self.dist[:5]
        return d

    @property
    def has_distortion(self) -> bool:
        return bool(np.any(self.dist_array != 0.0))

    def scaled_focal(self, factor: float) -> Intrinsics:
        return Intrinsics(self.width, self.height, self.fx * factor, self.fy * factor, self.cx, self.cy, self.dist)

    def to_json_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "fx": self.fx, "fy": self.fy,
                "cx": self.cx, "cy": self.cy, "dist": list(self.dist_array)}

    @classmethod
    def from_json_dict(cls, d: dict, image_size: tuple[int, int] | None = None) -> Intrinsics:
        """Accepts ``fx``/``fy`` or ``focal_px``; ``cx``/``cy`` default to the image centre;
        ``dist`` (or ``distortion``) in OpenCV order k1, k2, p1, p2, k3."""
        w = int(d.get("width") or (image_size[0] if image_size else 0))
        h = int(d.get("height") or (image_size[1] if image_size else 0))
        fx = d.get("fx", d.get("focal_px"))
        if fx is None:
            raise ValueError("intrinsics need fx (or focal_px)")
        fy = d.get("fy", fx)
        cx = d.get("cx", w / 2.0)
        cy = d.get("cy", h / 2.0)
        dist = d.get("dist", d.get("distortion")) or [0.0] * 5
        return cls(w, h, float(fx), float(fy), float(cx), float(cy), tuple(float(v) for v in dist))


def parse_dewarp_data(text: str, width: int, height: int) -> Intrinsics:
    """DJI XMP ``drone-dji:DewarpData``: ``"<date>;fx,fy,cx,cy,k1,k2,p1,p2,k3"``.

    DJI gives cx, cy as offsets of the principal point from the image centre, in pixels of
    the full-resolution image; the coefficients are OpenCV's (k1, k2, p1, p2, k3).
    """
    body = text.split(";", 1)[-1]
    vals = [float(v) for v in body.replace(" ", "").split(",") if v != ""]
    if len(vals) != 9:
        raise ValueError(f"DewarpData: expected 9 numbers after the date, got {len(vals)}: {text!r}")
    fx, fy, dcx, dcy, k1, k2, p1, p2, k3 = vals
    return Intrinsics(width, height, fx, fy, width / 2.0 + dcx, height / 2.0 + dcy, (k1, k2, p1, p2, k3))


def _extra_get(extra: dict, *names: str):
    lower = {str(k).lower(): v for k, v in (extra or {}).items()}
    for n in names:
        if n.lower() in lower and lower[n.lower()] not in (None, ""):
            return lower[n.lower()]
    return None


def intrinsics_from_pose(pose: CameraPose) -> Intrinsics:
    """Lens model of a photo: the pose's focal/centre/distortion, else DJI DewarpData.

    If the pose carries no distortion but ``extra`` has the raw DewarpData, it is used; when
    ``DewarpFlag`` is 1 the photo was already undistorted in the drone, so distortion is zero.
    """
    if not pose.width or not pose.height:
        raise PoseError("pose has no image size")
    w, h = int(pose.width), int(pose.height)
    dewarped = str(_extra_get(pose.extra, "DewarpFlag", "dewarp_flag") or "0").strip() == "1"
    dewarp = _extra_get(pose.extra, "DewarpData", "dewarp_data")
    if pose.distortion is None and dewarp and not dewarped:
        try:
            return parse_dewarp_data(str(dewarp), w, h)
        except ValueError:
            pass  # fall through to the plain pinhole from the pose
    if not pose.focal_px or pose.focal_px <= 0:
        raise PoseError("pose has no focal length in pixels")
    fx = fy = float(pose.focal_px)
    # pipeline.metadata keeps DewarpData's separate fx, fy (scaled to the stored image) here.
    fxy = _extra_get(pose.extra, "dewarp_fx_fy_px")
    if isinstance(fxy, (list, tuple)) and len(fxy) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in fxy):
        fx, fy = float(fxy[0]), float(fxy[1])
    cx = float(pose.cx) if pose.cx is not None else w / 2.0
    cy = float(pose.cy) if pose.cy is not None else h / 2.0
    dist = tuple(float(v) for v in (pose.distortion or [])) if not dewarped else ()
    dist = (dist + (0.0,) * 5)[:5]
    return Intrinsics(w, h, fx, fy, cx, cy, dist)


def distort_normalized(xy: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """OpenCV forward distortion of normalized undistorted coordinates (N,2)."""
    k1, k2, p1, p2, k3 = dist
    x, y = xy[:, 0], xy[:, 1]
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
    yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
    return np.stack([xd, yd], axis=1)


def _distortion_jacobian(xy: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """d(distorted)/d(undistorted) of the OpenCV model, (N,2,2)."""
    k1, k2, p1, p2, k3 = dist
    x, y = xy[:, 0], xy[:, 1]
    r2 = x * x + y * y
    radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    dradial = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2)  # d radial / d r2
    j = np.empty((len(xy), 2, 2))
    j[:, 0, 0] = radial + 2.0 * x * x * dradial + 2.0 * p1 * y + 6.0 * p2 * x
    j[:, 0, 1] = 2.0 * x * y * dradial + 2.0 * p1 * x + 2.0 * p2 * y
    j[:, 1, 0] = j[:, 0, 1]
    j[:, 1, 1] = radial + 2.0 * y * y * dradial + 6.0 * p1 * y + 2.0 * p2 * x
    return j


def pixels_to_normalized(pixels: np.ndarray, intr: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Pixel (N,2) -> undistorted normalized coordinates (N,2) and a converged mask (N,).

    The distortion is inverted by Newton's method in numpy (OpenCV 4 and 5 differ in how the
    iterative undistortion is exposed, and its default of 5 fixed-point steps is not enough
    at the corners of wide lenses). The result is checked by distorting it again, so a pixel
    where the model does not invert (far outside the calibrated field) is reported instead of
    silently giving a wrong ray.
    """
    px = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
    xd = np.stack([(px[:, 0] - intr.cx) / intr.fx, (px[:, 1] - intr.cy) / intr.fy], axis=1)
    if not intr.has_distortion or len(px) == 0:
        return xd, np.ones(len(px), dtype=bool)
    dist = intr.dist_array
    und = xd.copy()
    with np.errstate(all="ignore"):
        for _ in range(30):
            resid = distort_normalized(und, dist) - xd
            if np.all(np.abs(resid) < 1e-13):
                break
            j = _distortion_jacobian(und, dist)
            # Explicit 2x2 solve: a singular Jacobian gives inf/nan for that point only.
            det = j[:, 0, 0] * j[:, 1, 1] - j[:, 0, 1] * j[:, 1, 0]
            dx = (j[:, 1, 1] * resid[:, 0] - j[:, 0, 1] * resid[:, 1]) / det
            dy = (j[:, 0, 0] * resid[:, 1] - j[:, 1, 0] * resid[:, 0]) / det
            und = und - np.stack([dx, dy], axis=1)
        back = distort_normalized(und, dist)
        err_px = np.hypot((back[:, 0] - xd[:, 0]) * intr.fx, (back[:, 1] - xd[:, 1]) * intr.fy)
    ok = np.isfinite(err_px) & (err_px < 1e-3)
    # Beyond the radius where the radial polynomial turns back, two undistorted points map to
    # the same pixel; only the branch nearest the centre is physical.
    r_und = np.hypot(und[:, 0], und[:, 1])
    ok &= r_und < 4.0 * np.maximum(np.hypot(xd[:, 0], xd[:, 1]), 0.25)
    und[~ok] = np.nan
    return und, ok


def normalized_to_pixels(xy: np.ndarray, intr: Intrinsics) -> np.ndarray:
    d = distort_normalized(np.asarray(xy, float).reshape(-1, 2), intr.dist_array)
    return np.stack([d[:, 0] * intr.fx + intr.cx, d[:, 1] * intr.fy + intr.cy], axis=1)


def rotation_ned_from_camera(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """3x3 rotation taking optical-frame vectors to NED (DJI Z-Y-X yaw, pitch, roll)."""
    y, p, r = (math.radians(a) for a in (yaw_deg, pitch_deg, roll_deg))
    cy_, sy_ = math.cos(y), math.sin(y)
    cp, sp = math.cos(p), math.sin(p)
    cr, sr = math.cos(r), math.sin(r)
    rz = np.array([[cy_, -sy_, 0.0], [sy_, cy_, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    return rz @ ry @ rx @ _BODY_FROM_OPTICAL


_NED_TO_ENU = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])


def rotation_enu_from_camera(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    return _NED_TO_ENU @ rotation_ned_from_camera(yaw_deg, pitch_deg, roll_deg)


@dataclass(frozen=True)
class Attitude:
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    yaw_from: str  # "gimbal" or "flight": which tag actually gave the yaw


def attitude_from_pose(pose: CameraPose, yaw_source: YawSource = "gimbal") -> Attitude:
    """Camera attitude: gimbal pitch/roll (absolute, i.e. relative to the horizon, on DJI) and
    the yaw chosen by ``yaw_source``.

    Why gimbal yaw by default: on Mavic, Phantom and M300-class aircraft DJI writes
    ``GimbalYawDegree`` in the NED frame, i.e. the absolute heading of the camera itself. In
    the usual follow mode it equals the aircraft heading up to the gimbal's small yaw offset,
    and when the gimbal is panned (Zenmuse H20/L1, FPV mode) only the gimbal yaw is right.
    Some airframes and firmware (several Mini/Air models, SRT-only video, third-party
    gimbals) write a gimbal yaw relative to the body or a constant 0: configure
    ``yaw_source="flight"`` for those cameras. If the chosen yaw is missing the other is used
    and ``yaw_from`` says so.
    """
    if pose.gimbal_pitch is None:
        raise PoseError("pose has no gimbal pitch")
    order = ("gimbal", "flight") if yaw_source == "gimbal" else ("flight", "gimbal")
    for src in order:
        yaw = pose.gimbal_yaw if src == "gimbal" else pose.flight_yaw
        if yaw is not None:
            break
    else:
        raise PoseError("pose has no yaw (neither gimbal nor flight)")
    # A stabilised gimbal holds roll near 0; a missing roll tag is therefore taken as level.
    roll = pose.gimbal_roll if pose.gimbal_roll is not None else 0.0
    return Attitude(float(yaw), float(pose.gimbal_pitch), float(roll), src)
