"""Fixed-camera calibration: homography and PnP from control points, leave-one-out errors,
outlier flagging, save/load, projection and the ``heyan calibrate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from heyan.pipeline.geo.calibration import (
    CalibrationError,
    ControlPoint,
    calibrate,
    load_calibration,
    parse_control_points,
    project_with_calibration,
    save_calibration,
)
from heyan.pipeline.geo.camera_model import Intrinsics, normalized_to_pixels, rotation_enu_from_camera
from heyan.pipeline.geo.utm import LocalFrame

LAT, LON = 30.52, 114.31
FRAME = LocalFrame(LON, LAT)
SIZE = (1920, 1080)
PLAIN = Intrinsics(1920, 1080, 1400.0, 1400.0, 960.0, 540.0)
WIDE = Intrinsics(1920, 1080, 1100.0, 1100.0, 955.0, 548.0, (-0.12, 0.02, 0.0005, -0.0003, 0.0))
CAM = np.array([0.0, 0.0, 12.0])  # 12 m above the water, at (LON, LAT)
R = rotation_enu_from_camera(45.0, -20.0, 1.0)  # optical -> ENU


def to_pixels(enu: np.ndarray, intr: Intrinsics) -> np.ndarray:
    c = (enu - CAM) @ R  # ENU -> optical
    return normalized_to_pixels(c[:, :2] / c[:, 2:3], intr)


def ground_truth(px: np.ndarray, intr: Intrinsics, z: float = 0.0) -> np.ndarray:
    """ENU ground points of undistorted-model pixels (no distortion: PLAIN only)."""
    n = np.stack([(px[:, 0] - intr.cx) / intr.fx, (px[:, 1] - intr.cy) / intr.fy, np.ones(len(px))], axis=1)
    d = n @ R.T
    t = (z - CAM[2]) / d[:, 2]
    return CAM + t[:, None] * d


def control_points(intr: Intrinsics, n: int = 9, noise_m: float = 0.0, seed: int = 1) -> list[ControlPoint]:
    rng = np.random.default_rng(seed)
    pts: list[ControlPoint] = []
    while len(pts) < n:
        e, nn = rng.uniform(8, 70, 2)
        enu = np.array([[e, nn, 0.0]])
        if ((enu - CAM) @ R)[0, 2] <= 0:
            continue
        px = to_pixels(enu, intr)[0]
        if not (20 < px[0] < SIZE[0] - 20 and 20 < px[1] < SIZE[1] - 20):
            continue
        de, dn = rng.normal(0, noise_m, 2) if noise_m else (0.0, 0.0)
        lon, lat = FRAME.enu_to_lonlat(np.array([e + de]), np.array([nn + dn]))
        pts.append(ControlPoint((float(px[0]), float(px[1])), float(lat[0]), float(lon[0]), name=f"P{len(pts)}"))
    return pts


def enu_of(res) -> np.ndarray:
    e, n = FRAME.lonlat_to_enu(res.lon, res.lat)
    return np.stack([e, n], axis=1)


def test_homography_recovers_the_plane_mapping() -> None:
    cal = calibrate(control_points(PLAIN, 9, noise_m=0.05), SIZE)
    assert cal.method == "homography" and not cal.warnings
    assert cal.loo_rms_m is not None and cal.loo_rms_m < 0.3
    assert all(p["used"] and not p["outlier"] for p in cal.points)
    # Pixels between the control points map where the true camera says.
    gx, gy = np.meshgrid(np.linspace(300, 1600, 6), np.linspace(500, 1000, 4))
    px = np.stack([gx.ravel(), gy.ravel()], axis=1)
    res = project_with_calibration(cal, px)
    truth = ground_truth(px, PLAIN)
    ok = res.ok & (np.hypot(truth[:, 0], truth[:, 1]) < 80)
    assert ok.sum() > 10
    err = np.hypot(*(enu_of(res)[ok] - truth[ok, :2]).T)
    assert err.max() < 0.3
    assert np.all(res.error_m[ok] >= cal.loo_rms_m - 1e-9)  # error never below the LOO level


def test_exact_points_give_tiny_loo_and_above_horizon_has_no_point() -> None:
    cal = calibrate(control_points(PLAIN, 6), SIZE)
    assert cal.loo_rms_m < 1e-3
    res = project_with_calibration(cal, np.array([[960.0, 5.0], [960.0, 900.0], [-3.0, 900.0]]))
    # Camera pitch -20, vertical half-FOV ~21 deg: the top rows see the sky.
    assert res.reasons[0] == "ray above the horizon" or "beyond max range" in res.reasons[0]
    assert res.reasons[1] is None
    assert res.reasons[2] == "pixel outside the image"


def test_bad_control_point_is_flagged_and_dropped() -> None:
    pts = control_points(PLAIN, 9, noise_m=0.05)
    bad = pts[4]
    pts[4] = ControlPoint(bad.pixel, bad.lat + 0.00012, bad.lon, name=bad.name)  # ~13 m north
    cal = calibrate(pts, SIZE)
    flagged = [i for i, p in enumerate(cal.points) if p["outlier"]]
    assert flagged == [4]
    assert cal.points[4]["used"] is False
    assert cal.points[4]["loo_error_m"] == pytest.approx(13.3, abs=1.0)
    assert cal.loo_rms_m < 0.3
    assert any("dropped as an outlier" in w for w in cal.warnings)


def test_four_points_fit_without_loo() -> None:
    cal = calibrate(control_points(PLAIN, 4), SIZE)
    assert cal.loo_rms_m is None and any("at least 5" in w for w in cal.warnings)
    assert all(p["loo_error_m"] is None for p in cal.points)
    res = project_with_calibration(cal, np.array([[960.0, 800.0]]))
    assert res.ok[0] and np.isnan(res.error_m[0])
    with pytest.raises(CalibrationError, match="at least 4"):
        calibrate(control_points(PLAIN, 3), SIZE)


def test_pnp_with_intrinsics_handles_distortion_and_water_level() -> None:
    cal = calibrate(control_points(WIDE, 8), SIZE, intrinsics=WIDE)
    assert cal.method == "pnp" and cal.loo_rms_m < 0.01
    cam = cal.to_json_dict()["camera"]
    ce, cn = FRAME.lonlat_to_enu(np.array([cam["lon"]]), np.array([cam["lat"]]))
    assert np.hypot(ce[0], cn[0]) < 0.01 and cam["height_m"] == pytest.approx(12.0, rel=2e-3)
    # A pixel seeing a point on water 1.5 m higher than at calibration.
    target = np.array([[30.0, 40.0, 1.5]])
    px = to_pixels(target, WIDE)
    res = project_with_calibration(cal, px, plane_height_m=1.5)
    assert np.hypot(*(enu_of(res)[0] - target[0, :2])) < 0.02
    # A homography calibration cannot move its plane.
    hom = calibrate(control_points(PLAIN, 6), SIZE)
    with pytest.raises(CalibrationError, match="own plane"):
        project_with_calibration(hom, px, plane_height_m=1.5)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    cal = calibrate(control_points(WIDE, 7), SIZE, intrinsics=WIDE)
    path = tmp_path / "cam" / "calib.json"
    save_calibration(cal, path)
    assert not list(path.parent.glob("*.tmp"))
    again = load_calibration(path)
    px = np.array([[500.0, 700.0], [1500.0, 900.0]])
    a, b = project_with_calibration(cal, px), project_with_calibration(again, px)
    assert np.allclose(a.lat, b.lat, atol=1e-10) and np.allclose(a.lon, b.lon, atol=1e-10)
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(CalibrationError, match="bad.json"):
        load_calibration(tmp_path / "bad.json")


def test_parse_control_points_errors() -> None:
    with pytest.raises(CalibrationError, match="points"):
        parse_control_points({"pts": []})
    with pytest.raises(CalibrationError, match="point 1"):
        parse_control_points({"points": [{"pixel": [1, 2], "lat": 1, "lon": 2}, {"pixel": [1], "lat": 1}]})
    pts, size, intr = parse_control_points({"image_size": [640, 480], "points": [{"pixel": [1, 2], "lat": 1, "lon": 2}],
                                            "intrinsics": {"focal_px": 500}})
    assert size == (640, 480) and intr.fx == intr.fy == 500 and (intr.cx, intr.cy) == (320, 240)


def _points_json(tmp_path: Path, pts: list[ControlPoint]) -> Path:
    path = tmp_path / "points.json"
    path.write_text(json.dumps({"image_size": list(SIZE), "points": [
        {"pixel": list(p.pixel), "lat": p.lat, "lon": p.lon, "name": p.name} for p in pts]}))
    return path


def test_cli_calibrate(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from heyan.commands import georef as cmd

    app = typer.Typer()
    cmd.register(app)
    runner = CliRunner()
    pts = control_points(PLAIN, 7, noise_m=0.05)
    out = tmp_path / "calib.json"
    r = runner.invoke(app, ["calibrate", str(_points_json(tmp_path, pts)), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "leave-one-out RMS" in r.stderr and "point 6 P6: LOO" in r.stderr
    data = json.loads(out.read_text())
    assert data["method"] == "homography" and len(data["points"]) == 7
    # Project with the saved calibration through `heyan georef --calibration`.
    r = runner.invoke(app, ["georef", "frame.jpg", "--calibration", str(out), "--pixel", "960,900"])
    rec = json.loads(r.stdout)
    assert {"lat", "lon", "error_m"} <= set(rec)
    r = runner.invoke(app, ["calibrate", str(_points_json(tmp_path, pts[:3]))])
    assert r.exit_code == 1 and "at least 4" in r.stderr
