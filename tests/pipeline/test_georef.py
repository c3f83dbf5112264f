"""Georeferencing: geometry properties, error model, DEM, CLI, and a cross-check against the
independent ``cameratransform`` package."""

from __future__ import annotations

import json
import math
import sys
import types
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Polygon

from heyan.pipeline.geo.camera_model import PoseError, attitude_from_pose, intrinsics_from_pose, parse_dewarp_data
from heyan.pipeline.geo.dem import Dem
from heyan.pipeline.geo.errors_model import ErrorModel
from heyan.pipeline.geo.georef import (
    GeorefSettings,
    GroundPlane,
    footprint,
    ground_sampling_distance,
    ground_to_pixels,
    project_pixels,
)
from heyan.pipeline.geo.utm import LocalFrame, lonlat_to_utm, utm_epsg
from heyan.pipeline.metadata.pose import CameraPose

GEOD = Geod(ellps="WGS84")
W, H, F = 4000, 3000, 2800.0
LAT, LON = 30.52, 114.31  # Wuhan, zone 50


def make_pose(**kw) -> CameraPose:
    base = dict(file="t.jpg", lat=LAT, lon=LON, rel_alt_m=100.0, abs_alt_m=120.0, gimbal_yaw=0.0,
                gimbal_pitch=-90.0, gimbal_roll=0.0, flight_yaw=0.0, width=W, height=H, focal_px=F)
    base.update(kw)
    return CameraPose(**base)


def ground_offset(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth deg, distance m) of points from (lat0, lon0), by geodesic: independent of UTM."""
    n = np.size(lat)
    az, _, d = GEOD.inv(np.full(n, lon0), np.full(n, lat0), np.atleast_1d(lon), np.atleast_1d(lat))
    return np.atleast_1d(az), np.atleast_1d(d)


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("lat,lon", [(LAT, LON), (-8.29, 115.46), (31.0, 119.95), (45.7, 126.6)])
def test_nadir_centre_is_under_the_drone(lat: float, lon: float) -> None:
    pose = make_pose(lat=lat, lon=lon, gimbal_yaw=37.0)
    res = project_pixels(pose, np.array([[W / 2, H / 2]]))
    _, d = ground_offset(lat, lon, res.lat, res.lon)
    assert res.ok.all()
    assert d[0] < 1e-3


@pytest.mark.parametrize("height", [0.0, -12.0, 30.0])
def test_nadir_gsd_is_altitude_over_focal(height: float) -> None:
    pose = make_pose(gimbal_yaw=123.0)
    gsd = ground_sampling_distance(pose, GroundPlane(height))
    assert gsd == pytest.approx((100.0 - height) / F, rel=1e-6)


def test_nadir_edges_and_orientation() -> None:
    # yaw 0: image top is north, image right is east; offsets are alt * pixel offset / focal.
    pose = make_pose()
    res = project_pixels(pose, np.array([[W / 2, 0.0], [W, H / 2]]))
    az, d = ground_offset(LAT, LON, res.lat, res.lon)
    assert az[0] == pytest.approx(0.0, abs=1e-4) and d[0] == pytest.approx(100 * (H / 2) / F, rel=1e-5)
    assert az[1] == pytest.approx(90.0, abs=1e-4) and d[1] == pytest.approx(100 * (W / 2) / F, rel=1e-5)


def test_oblique_centre_distance_and_bearing() -> None:
    pose = make_pose(gimbal_pitch=-30.0, gimbal_yaw=-106.6)
    res = project_pixels(pose, np.array([[W / 2, H / 2]]))
    az, d = ground_offset(LAT, LON, res.lat, res.lon)
    assert d[0] == pytest.approx(100.0 / math.tan(math.radians(30.0)), rel=1e-5)
    assert az[0] == pytest.approx(-106.6, abs=1e-4)


def _footprint_enu(poly: Polygon) -> np.ndarray:
    xy = np.asarray(poly.exterior.coords)
    fr = LocalFrame(LON, LAT)
    e, n = fr.lonlat_to_enu(xy[:, 0], xy[:, 1])
    return np.stack([e, n], axis=1)


def test_yaw_rotates_the_footprint() -> None:
    fp0 = _footprint_enu(footprint(make_pose(gimbal_yaw=0.0)))
    # Nadir footprint: a W*H pixel rectangle at GSD alt/f, long side east-west at yaw 0.
    gsd = 100.0 / F
    assert Polygon(fp0).area == pytest.approx(W * H * gsd**2, rel=1e-4)
    assert np.ptp(fp0[:, 0]) == pytest.approx(W * gsd, rel=1e-4)
    assert np.ptp(fp0[:, 1]) == pytest.approx(H * gsd, rel=1e-4)
    for yaw in (30.0, 90.0, 200.0):
        fp = _footprint_enu(footprint(make_pose(gimbal_yaw=yaw)))
        a = math.radians(yaw)  # clockwise from north: east,north -> rotate by -yaw in math sense
        rot = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
        expected = Polygon(fp0 @ rot.T)
        got = Polygon(fp)
        assert got.symmetric_difference(expected).area < 1e-3 * expected.area
    fp90 = _footprint_enu(footprint(make_pose(gimbal_yaw=90.0)))
    assert np.ptp(fp90[:, 1]) == pytest.approx(W * gsd, rel=1e-4)  # long side now north-south


def test_oblique_footprint_is_clipped_at_max_range() -> None:
    pose = make_pose(gimbal_pitch=-5.0, gimbal_yaw=45.0)  # horizon in view
    s = GeorefSettings(max_range_m=600.0)
    fp = _footprint_enu(footprint(pose, settings=s))
    r = np.hypot(fp[:, 0], fp[:, 1])
    assert r.max() <= 600.0 + 1e-6
    assert r.max() > 590.0  # reaches the range limit
    bearings = np.degrees(np.arctan2(fp[:, 0], fp[:, 1]))
    assert np.all(np.abs(bearings - 45.0) < 40.0)  # in front of the camera only


def test_above_horizon_and_range_give_reasons_not_points() -> None:
    pose = make_pose(gimbal_pitch=0.0)  # horizontal camera: top half is sky
    res = project_pixels(pose, np.array([[W / 2, 10.0], [W / 2, H / 2 + 5], [W / 2, H - 1.0], [-5.0, 10.0]]),
                         settings=GeorefSettings(max_range_m=1000.0))
    assert res.reasons[0] == "ray above the horizon"
    assert "beyond max range" in res.reasons[1]  # 5 px below the horizon: ~56 km away
    assert res.reasons[2] is None and res.distance_m[2] < 1000.0
    assert res.reasons[3] == "pixel outside the image"
    assert np.isnan(res.lat[:2]).all() and np.isnan(res.error_m[:2]).all()
    recs = res.records()
    assert recs[0] == {"pixel": [W / 2, 10.0], "error": "ray above the horizon"}
    assert set(recs[2]) == {"pixel", "lat", "lon", "error_m"}


def test_camera_below_ground_plane() -> None:
    res = project_pixels(make_pose(rel_alt_m=5.0), np.array([[W / 2, H / 2]]), GroundPlane(8.0))
    assert "not above the ground plane" in res.reasons[0]


def test_missing_pose_fields_raise_pose_error() -> None:
    with pytest.raises(PoseError, match="latitude"):
        project_pixels(make_pose(lat=None), np.zeros((1, 2)))
    with pytest.raises(PoseError, match="relative altitude"):
        project_pixels(make_pose(rel_alt_m=None), np.zeros((1, 2)))
    with pytest.raises(PoseError, match="gimbal pitch"):
        project_pixels(make_pose(gimbal_pitch=None), np.zeros((1, 2)))
    with pytest.raises(PoseError, match="focal"):
        project_pixels(make_pose(focal_px=None), np.zeros((1, 2)))


def test_yaw_source_setting_and_fallback() -> None:
    pose = make_pose(gimbal_yaw=-106.6, flight_yaw=-86.0, gimbal_pitch=-30.0)
    assert attitude_from_pose(pose, "gimbal").yaw_deg == -106.6
    assert attitude_from_pose(pose, "flight").yaw_deg == -86.0
    fallback = attitude_from_pose(replace(pose, gimbal_yaw=None), "gimbal")
    assert (fallback.yaw_deg, fallback.yaw_from) == (-86.0, "flight")
    res = project_pixels(pose, np.array([[W / 2, H / 2]]), settings=GeorefSettings(yaw_source="flight"))
    az, _ = ground_offset(LAT, LON, res.lat, res.lon)
    assert az[0] == pytest.approx(-86.0, abs=1e-4)


def test_intrinsics_from_dewarp_data() -> None:
    intr = parse_dewarp_data("2022-06-08;3713.29,3713.0,7.02,-8.72,-0.1125,0.0148,-0.0000857,0.0000001,-0.0270", 5280, 3956)
    assert intr.fx == 3713.29 and intr.fy == 3713.0
    assert (intr.cx, intr.cy) == pytest.approx((2647.02, 1969.28))
    assert intr.dist == (-0.1125, 0.0148, -0.0000857, 0.0000001, -0.0270)
    pose = make_pose(extra={"DewarpData": "2022-06-08;3000,3000,10,-10,-0.1,0.01,0,0,0"})
    assert intrinsics_from_pose(pose).cx == W / 2 + 10
    pose = make_pose(extra={"DewarpData": "2022-06-08;3000,3000,10,-10,-0.1,0.01,0,0,0", "DewarpFlag": "1"})
    assert not intrinsics_from_pose(pose).has_distortion  # already undistorted in the drone


@hsettings(max_examples=40, deadline=None)
@given(
    yaw=st.floats(-180, 180), pitch=st.floats(-90, -20), roll=st.floats(-5, 5),
    x=st.floats(0, W), y=st.floats(0, H), k1=st.floats(-0.15, 0.05),
)
def test_ground_to_pixels_inverts_project_pixels(yaw, pitch, roll, x, y, k1) -> None:
    pose = make_pose(gimbal_yaw=yaw, gimbal_pitch=pitch, gimbal_roll=roll, distortion=[k1, 0.01, 1e-4, -2e-4, 0.0])
    s = GeorefSettings(max_range_m=5000.0)
    res = project_pixels(pose, np.array([[x, y]]), settings=s, with_errors=False)
    if not res.ok[0]:
        assert res.reasons[0] is not None
        return
    back = ground_to_pixels(pose, res.lat, res.lon, settings=s)
    assert np.hypot(*(back[0] - [x, y])) < 1e-3


# --------------------------------------------------------------------------- error model


def test_error_terms_follow_the_geometry() -> None:
    # Oblique centre pixel: pitch error moves the point by H / sin^2(depression) per radian,
    # yaw error by distance per radian; RTK fixed position error stays 5 cm per axis.
    dep = 25.0
    pose = make_pose(gimbal_pitch=-dep, gimbal_yaw=70.0, rtk_flag=50)
    em = ErrorModel()
    res = project_pixels(pose, np.array([[W / 2, H / 2]]), settings=GeorefSettings(errors=em))
    d = 100.0 / math.tan(math.radians(dep))
    t = {k: v[0] for k, v in res.error_terms.items()}
    assert t["pitch"] == pytest.approx(100.0 / math.sin(math.radians(dep)) ** 2 * math.radians(em.sigma_pitch_deg), rel=1e-4)
    assert t["yaw"] == pytest.approx(d * math.radians(em.sigma_yaw_deg), rel=1e-4)
    assert t["east"] == pytest.approx(0.05) and t["north"] == pytest.approx(0.05)
    assert t["up"] == pytest.approx(d / 100.0 * em.relative_vertical_sigma(pose), rel=1e-4)
    assert res.error_m[0] == pytest.approx(math.sqrt(sum(v**2 for v in t.values())))


def test_gnss_quality_sets_position_error() -> None:
    px = np.array([[W / 2, H / 2]])
    nadir = {}
    for flag in (50, 34, 16, None):
        nadir[flag] = project_pixels(make_pose(rtk_flag=flag), px).error_terms["east"][0]
    assert nadir[50] == pytest.approx(0.05) and nadir[34] == pytest.approx(0.5)
    assert nadir[16] == nadir[None] == pytest.approx(3.0)
    r = project_pixels(make_pose(rtk_flag=50, rtk_std_lon_m=0.02, rtk_std_lat_m=0.03), px)
    assert (r.error_terms["east"][0], r.error_terms["north"][0]) == pytest.approx((0.02, 0.03))
    # Far points: yaw dominates and the error grows with distance.
    far = project_pixels(make_pose(gimbal_pitch=-15.0, rtk_flag=50), np.array([[W / 2, H * 0.9], [W / 2, H * 0.4]]))
    assert far.distance_m[1] > far.distance_m[0] and far.error_m[1] > far.error_m[0]


# --------------------------------------------------------------------------- DEM


def _utm_dem_array(slope: float, base: float, size: int = 600, res: float = 2.0):
    epsg = utm_epsg(LON, LAT)
    e0, n0 = (float(v) for v in lonlat_to_utm(epsg, LON, LAT))
    x0, y0 = e0 - size * res / 2, n0 + size * res / 2
    cols = x0 + (np.arange(size) + 0.5) * res
    z = np.tile(base + slope * (cols - e0), (size, 1)).astype("float32")
    return z, (res, 0.0, x0, 0.0, -res, y0), epsg


def test_dem_from_array_flat_matches_plane_and_slope_matches_analytic() -> None:
    pose = make_pose(gimbal_pitch=-30.0, gimbal_yaw=90.0)
    px = np.array([[W / 2, H / 2], [500.0, 2500.0], [3600.0, 900.0]])
    s = GeorefSettings(takeoff_alt_m=40.0)
    z, tr, epsg = _utm_dem_array(0.0, 40.0)
    flat = project_pixels(pose, px, Dem.from_array(z, tr, epsg), s)
    plane = project_pixels(pose, px, GroundPlane(0.0))
    _, _, dd = GEOD.inv(flat.lon, flat.lat, plane.lon, plane.lat)
    assert flat.ok.all() and np.max(dd) < 1e-3
    assert flat.error_m == pytest.approx(plane.error_m, rel=0.35)  # sigma_dem 1 m vs plane 0.3 m
    # Terrain rising east at 5 %: camera at 140 m, centre ray 30 deg down towards the east.
    z, tr, epsg = _utm_dem_array(0.05, 40.0)
    sloped = project_pixels(pose, px[:1], Dem.from_array(z, tr, epsg), s)
    expected = 100.0 / (math.tan(math.radians(30.0)) + 0.05)
    assert sloped.distance_m[0] == pytest.approx(expected, abs=0.01)  # grid scale ~1e-4 of 160 m


def test_dem_off_the_grid_and_above_horizon() -> None:
    z, tr, epsg = _utm_dem_array(0.0, 40.0, size=100)  # 200 m square
    pose = make_pose(gimbal_pitch=-10.0)
    res = project_pixels(pose, np.array([[W / 2, H / 2], [W / 2, 10.0]]), Dem.from_array(z, tr, epsg),
                         GeorefSettings(takeoff_alt_m=40.0))
    assert res.reasons[0] == "ray leaves the DEM before reaching the ground"
    assert "above the horizon" in res.reasons[1]
    with pytest.raises(PoseError, match="altitude"):
        project_pixels(make_pose(abs_alt_m=None), np.zeros((1, 2)), Dem.from_array(z, tr, epsg))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # rasterio's own use of affine
def test_dem_geotiff_with_rasterio(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio", reason="rasterio not installed: DEM GeoTIFF reading is optional")
    from rasterio.transform import from_origin

    # A geographic (EPSG:4326) DSM, so the UTM -> DEM CRS path is exercised: a 10 m step up
    # (a levee) 150 m east of the camera, otherwise flat at 40 m.
    res_deg = 1.0 / 36000.0  # ~3 m
    n = 400
    west, north = LON - n / 2 * res_deg, LAT + n / 2 * res_deg
    lons = west + (np.arange(n) + 0.5) * res_deg
    fr = LocalFrame(LON, LAT)
    east_m, _ = fr.lonlat_to_enu(lons, np.full(n, LAT))
    z = np.tile(np.where(east_m > 150.0, 50.0, 40.0), (n, 1)).astype("float32")
    z[:5, :5] = -9999.0
    path = tmp_path / "dsm.tif"
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, res_deg, res_deg), nodata=-9999.0) as ds:
        ds.write(z, 1)
    pose = make_pose(gimbal_pitch=-25.0, gimbal_yaw=90.0)
    s = GeorefSettings(takeoff_alt_m=40.0)
    out = project_pixels(pose, np.array([[W / 2, H / 2], [W / 2, H - 1.0]]), Dem(path), s)
    assert out.ok.all()
    # Centre ray would reach flat ground at 100/tan(25) = 214 m, but meets the levee top at
    # z = 50: 90/tan(25) = 193 m.
    assert out.distance_m[0] == pytest.approx(90.0 / math.tan(math.radians(25.0)), abs=0.05)
    assert out.height_m[0] == pytest.approx(50.0, abs=1e-3)
    fp = footprint(pose, Dem(path), s)
    assert fp.is_valid and fp.area > 0


# --------------------------------------------------------------------------- cameratransform


def _ct_camera(ct, pose: CameraPose, elevation: float, k: tuple[float, float, float] | None = None):
    # cameratransform: space x east, y north, z up; heading clockwise from north (as DJI yaw);
    # tilt 0 = looking down, 90 = horizontal (= 90 + DJI gimbal pitch); its roll turns the
    # image the other way round the optical axis from DJI's roll (right side down), hence -roll.
    proj = ct.RectilinearProjection(focallength_px=pose.focal_px, image=(pose.width, pose.height),
                                    center=(pose.cx if pose.cx is not None else pose.width / 2,
                                            pose.cy if pose.cy is not None else pose.height / 2))
    orient = ct.SpatialOrientation(elevation_m=elevation, tilt_deg=90.0 + pose.gimbal_pitch,
                                   heading_deg=pose.gimbal_yaw, roll_deg=-pose.gimbal_roll)
    lens = ct.BrownLensDistortion(*k) if k else None
    return ct.Camera(proj, orient, lens)


CT_PIXELS = np.array([[2000, 1500], [100, 2900], [3900, 2900], [3900, 1400], [300, 1800], [2600, 2200]], float)


@pytest.mark.parametrize("yaw", [0.0, 37.0, 90.0, 180.0, 251.0, -60.0])
@pytest.mark.parametrize("pitch,roll", [(-90.0, 0.0), (-60.0, 0.0), (-35.0, 3.0), (-25.0, -2.0)])
def test_agrees_with_cameratransform(yaw: float, pitch: float, roll: float) -> None:
    ct = pytest.importorskip("cameratransform", reason="cameratransform not installed (test-only dependency)")
    pose = make_pose(gimbal_yaw=yaw, gimbal_pitch=pitch, gimbal_roll=roll, rel_alt_m=80.0, cx=2010.0, cy=1490.0)
    ours = project_pixels(pose, CT_PIXELS, GroundPlane(0.0), GeorefSettings(max_range_m=5000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xyz = _ct_camera(ct, pose, 80.0).spaceFromImage(CT_PIXELS, Z=0)
    n = len(CT_PIXELS)
    lon, lat, _ = GEOD.fwd(np.full(n, LON), np.full(n, LAT), np.degrees(np.arctan2(xyz[:, 0], xyz[:, 1])),
                           np.hypot(xyz[:, 0], xyz[:, 1]))
    _, _, diff = GEOD.inv(lon, lat, ours.lon, ours.lat)
    assert ours.ok.all()
    assert np.max(diff) < 0.01, f"max disagreement {np.max(diff):.4f} m at up to {np.max(ours.distance_m):.0f} m"


@pytest.mark.parametrize("lon,yaw,pitch,roll", [(114.31, 30.0, -90.0, 0.0), (119.95, 200.0, -40.0, 2.0)])
def test_distortion_agrees_with_cameratransform_forward_model(lon: float, yaw: float, pitch: float, roll: float) -> None:
    # cameratransform inverts its distortion by table interpolation, so compare its exact
    # forward projection (space -> image) of our ground points with the original pixels.
    # lon 119.95 is 2.95 deg from the zone's central meridian: 1.5 deg of grid convergence.
    ct = pytest.importorskip("cameratransform", reason="cameratransform not installed (test-only dependency)")
    k = (-0.11, 0.015, -0.025)
    pose = make_pose(lon=lon, gimbal_yaw=yaw, gimbal_pitch=pitch, gimbal_roll=roll, rel_alt_m=80.0,
                     distortion=[k[0], k[1], 0.0, 0.0, k[2]])
    px = CT_PIXELS[1:]  # not the exact image centre: cameratransform's distortion gives 0/0 there
    ours = project_pixels(pose, px, GroundPlane(-5.0), GeorefSettings(max_range_m=5000.0))
    az, d = ground_offset(LAT, lon, ours.lat, ours.lon)
    xyz = np.stack([d * np.sin(np.radians(az)), d * np.cos(np.radians(az)), np.zeros(len(d))], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = _ct_camera(ct, pose, 85.0, k).imageFromSpace(xyz)
    assert np.max(np.abs(back - px)) < 0.01  # pixels


# --------------------------------------------------------------------------- real photo & CLI


def test_real_m300_photo_if_available() -> None:
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dji-thermal-xmp" / "H20N_DJI_0006_R.JPG"
    if not path.is_file():
        pytest.skip(f"shared real data not found at {path}")
    from heyan.pipeline import metadata
    pose = metadata.read_pose(path)
    res = project_pixels(pose, np.array([[pose.width / 2, pose.height / 2]]))
    az, d = ground_offset(pose.lat, pose.lon, res.lat, res.lon)
    # M300 with a panned H20N: gimbal yaw -106.6 vs flight yaw -86; gimbal pitch -32.9.
    assert az[0] == pytest.approx(pose.gimbal_yaw, abs=1e-3)
    assert d[0] == pytest.approx(pose.rel_alt_m / math.tan(math.radians(-pose.gimbal_pitch)), rel=1e-4)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """The georef commands on a fresh Typer app, with read_pose replaced by a fake."""
    import typer
    from typer.testing import CliRunner

    from heyan.commands import georef as cmd

    fake = types.ModuleType("heyan.pipeline.metadata")

    class MetadataError(ValueError):
        pass

    def read_pose(path):
        if "bad" in str(path):
            raise MetadataError(f"{path}: no GPS position")
        if "nopitch" in str(path):
            return make_pose(file=str(path), gimbal_pitch=None)
        return make_pose(file=str(path), gimbal_pitch=-10.0, gimbal_yaw=90.0, rtk_flag=50)

    fake.MetadataError = MetadataError
    fake.read_pose = read_pose
    monkeypatch.setitem(sys.modules, "heyan.pipeline.metadata", fake)
    app = typer.Typer()
    cmd.register(app)
    return app, CliRunner()


def test_cli_georef_prints_one_json_per_pixel(cli) -> None:
    app, runner = cli
    r = runner.invoke(app, ["georef", "a.jpg", "--pixel", "2000,1500", "--pixel", "2000,5", "-p", "1,2999"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["pixel"] == [2000.0, 1500.0] and {"lat", "lon", "error_m"} <= set(lines[0])
    assert lines[1] == {"pixel": [2000.0, 5.0], "error": "ray above the horizon"}
    # --ground-height moves the plane: 30 m lower ground -> farther point
    r2 = runner.invoke(app, ["georef", "a.jpg", "--pixel", "2000,1500", "--ground-height", "-30"])
    far = json.loads(r2.stdout)
    _, d0 = ground_offset(LAT, LON, lines[0]["lat"], lines[0]["lon"])
    _, d1 = ground_offset(LAT, LON, far["lat"], far["lon"])
    assert d1[0] == pytest.approx(d0[0] * 130.0 / 100.0, rel=1e-5)


def test_cli_georef_errors(cli) -> None:
    app, runner = cli
    r = runner.invoke(app, ["georef", "bad.jpg", "--pixel", "1,1"])
    assert r.exit_code == 1 and "no GPS position" in r.stderr
    r = runner.invoke(app, ["georef", "nopitch.jpg", "--pixel", "1,1"])
    assert r.exit_code == 0 and "gimbal pitch" in json.loads(r.stdout)["error"]
    r = runner.invoke(app, ["georef", "a.jpg", "--pixel", "1;1"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["georef", "a.jpg", "--pixel", "1,1", "--ground-height", "0", "--dem", "x.tif"])
    assert r.exit_code == 2
