"""``datasets.flight``: the survey-flight simulator (world, route, rendering, EXIF/XMP writing,
ground truth) and the localisation figure it exists for. Flights are small (800x600, six
photos) so the whole file runs in seconds."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from heyan.datasets.flight import FlightConfig, NoiseModel, load_poses, simulate_flight
from heyan.datasets.flight.build import make_river, world_frame
from heyan.datasets.flight.camera import MAVIC_3E
from heyan.datasets.flight.exif_writer import build_exif, insert_metadata
from heyan.datasets.flight.measure import error_model_for, measure_flight
from heyan.datasets.flight.render import render_photo
from heyan.datasets.flight.route import apply_noise, plan_route
from heyan.pipeline.geo.georef import GeorefSettings, footprint, ground_to_pixels
from heyan.pipeline.geo.utm import LocalFrame
from heyan.pipeline.metadata import read_pose
from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.classes import class_names

W, H = 800, 600
SEED = 3


@pytest.fixture(scope="module")
def nadir(tmp_path_factory):
    out = tmp_path_factory.mktemp("nadir")
    return simulate_flight(out, FlightConfig(photos=6, width=W, height=H, seed=SEED))


@pytest.fixture(scope="module")
def oblique(tmp_path_factory):
    out = tmp_path_factory.mktemp("oblique")
    return simulate_flight(out, FlightConfig(photos=6, width=W, height=H, seed=SEED, oblique=True))


def _overlap(a, b) -> float:
    return a.intersection(b).area / a.area


# --------------------------------------------------------------------------- outputs


def test_writes_all_outputs(nadir):
    out = nadir.out_dir
    photos = sorted((out / "photos").glob("*.jpg"))
    assert len(photos) == 6
    for name in ("rivers.geojson", "truth.geojson", "poses.jsonl", "flight.json"):
        assert (out / name).is_file(), name
    assert not list(out.rglob("*.part"))
    for p in photos:
        img = cv2.imread(str(p))
        assert img is not None and img.shape == (H, W, 3)
        assert img.std() > 5  # not a blank frame
    assert photos[0].name.startswith("DJI_") and photos[0].name.endswith("_0001_W.jpg")


def test_poses_jsonl_uses_metadata_keys(nadir):
    lines = (nadir.out_dir / "poses.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    keys = set(CameraPose(file="x").to_json_dict())
    for line, tp in zip(lines, nadir.true_poses):
        rec = json.loads(line)
        assert set(rec) == keys
        assert (nadir.out_dir / rec["file"]).is_file()
        assert rec["width"] == W and rec["height"] == H
        assert rec["lat"] == pytest.approx(tp.lat, abs=1e-12)
    back = load_poses(nadir.out_dir / "poses.jsonl")
    assert back[0].time == nadir.true_poses[0].time


def test_deterministic(nadir, tmp_path):
    simulate_flight(tmp_path, FlightConfig(photos=6, width=W, height=H, seed=SEED))
    for name in ("rivers.geojson", "truth.geojson", "poses.jsonl"):
        assert (tmp_path / name).read_bytes() == (nadir.out_dir / name).read_bytes(), name
    a = sorted((nadir.out_dir / "photos").glob("*.jpg"))
    b = sorted((tmp_path / "photos").glob("*.jpg"))
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_other_seed_other_world(nadir, tmp_path):
    r = make_river(SEED + 1, 3000)
    assert not np.allclose(r.xy[:50], nadir.world.river.xy[:50])
    assert world_frame(SEED + 1).lat != nadir.world.frame.lat


def test_world_near_zhejiang_town(nadir):
    lon, lat = nadir.world.origin_lonlat
    assert abs(lat - 30.52) < 0.011 and abs(lon - 119.97) < 0.011
    assert 30.0 <= nadir.world.river.width_m <= 120.0
    for p in nadir.true_poses:
        assert abs(p.lat - 30.52) < 0.05 and abs(p.lon - 119.97) < 0.05


# --------------------------------------------------------------------------- route


def test_camera_and_altitude_realistic(nadir, oblique):
    f, cx, cy = MAVIC_3E.intrinsics(W, H)
    # 4/3" sensor 17.3 mm wide, 12.29 mm lens: ~ f / sensor width * image width.
    assert f == pytest.approx(12.29 / 17.3 * W, rel=0.02)
    for p in nadir.true_poses:
        assert 60 <= p.rel_alt_m <= 120
        assert p.gimbal_pitch == pytest.approx(-90, abs=1.0)
        assert (p.focal_px, p.cx, p.cy) == (f, cx, cy)
    for p in oblique.true_poses:
        assert -60 <= p.gimbal_pitch <= -45


@pytest.mark.parametrize("flight", ["nadir", "oblique"])
def test_forward_overlap_70_to_80(flight, request):
    result = request.getfixturevalue(flight)
    poses = result.true_poses
    settings = GeorefSettings(max_range_m=result.config.max_range_m)
    fps = [footprint(p, settings=settings) for p in poses]
    pairs = [(i, i + 1) for i in range(len(poses) - 1) if poses[i].extra["lane"] == poses[i + 1].extra["lane"]]
    assert pairs
    for i, j in pairs:
        assert 0.70 <= _overlap(fps[i], fps[j]) <= 0.80, (i, j, _overlap(fps[i], fps[j]))


def test_side_overlap_70_to_80(nadir):
    lanes: dict[int, list] = {}
    for p in nadir.true_poses:
        lanes.setdefault(p.extra["lane"], []).append(footprint(p))
    assert len(lanes) >= 2  # the river and its banks need more than one lane at 80 m
    a, b = lanes[0], lanes[1][::-1]  # serpentine: lane 1 is flown back upstream
    for x, y in zip(a, b):
        assert 0.70 <= _overlap(x, y) <= 0.80


def test_lawnmower_route_overlap():
    river = make_river(5, 3000)
    plan = plan_route(river, world_frame(5), MAVIC_3E, W, H, 20, np.random.default_rng(0), pattern="lawnmower")
    fps = [footprint(p) for p in plan.poses]
    assert len(plan.poses) == 20 and len(set(plan.lanes)) >= 2
    # Straight lanes: the headings of a lane agree to within the crab angle.
    lane0 = [p.flight_yaw for p, ln in zip(plan.poses, plan.lanes) if ln == 0]
    assert max(lane0) - min(lane0) < 8
    for i in range(len(fps) - 1):
        if plan.lanes[i] == plan.lanes[i + 1]:
            assert 0.70 <= _overlap(fps[i], fps[i + 1]) <= 0.80


def test_bad_photo_aspect_rejected(tmp_path):
    with pytest.raises(ValueError, match="aspect"):
        simulate_flight(tmp_path, FlightConfig(photos=1, width=800, height=400))


# --------------------------------------------------------------------------- metadata


def test_metadata_round_trip(nadir):
    """read_pose on the JPEGs gives back the NOISY pose written, not the true one."""
    for tp, rp, path in zip(nadir.true_poses, nadir.reported_poses, nadir.photo_paths):
        got = read_pose(path)
        assert got.lat == pytest.approx(rp.lat, abs=1e-8) and got.lon == pytest.approx(rp.lon, abs=1e-8)
        assert got.extra["position_source"] == "exif"
        assert got.rel_alt_m == pytest.approx(rp.rel_alt_m, abs=1e-6)
        assert got.abs_alt_m == pytest.approx(rp.abs_alt_m, abs=1e-6)
        for k in ("gimbal_yaw", "gimbal_pitch", "gimbal_roll", "flight_yaw", "flight_pitch", "flight_roll"):
            assert getattr(got, k) == pytest.approx(getattr(rp, k), abs=1e-9), k
        assert got.time == rp.time and got.time.utcoffset().total_seconds() == 8 * 3600
        assert (got.width, got.height) == (W, H)
        assert got.focal_px == pytest.approx(tp.focal_px, rel=1e-9)
        assert (got.cx, got.cy) == (tp.cx, tp.cy)
        assert got.focal_source == "dji_calibrated"
        assert (got.make, got.model, got.rtk_flag) == ("DJI", "M3E", 16)
        # The reported pose is the true one plus GNSS/attitude noise.
        frame = LocalFrame(tp.lon, tp.lat)
        e, n = frame.lonlat_to_enu(got.lon, got.lat)
        assert 0.0 < math.hypot(e, n) < 12.0
        assert got.gimbal_yaw != pytest.approx(tp.gimbal_yaw, abs=1e-3)


def test_xmp_is_dji_style(nadir):
    data = nadir.photo_paths[0].read_bytes()
    assert data[:4] == b"\xff\xd8\xff\xe1"  # APP1 (EXIF) right after SOI, as DJI writes it
    assert b'xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"' in data
    for tag in (b"GpsLatitude", b"GpsLongitude", b"AbsoluteAltitude", b'RelativeAltitude="+', b"GimbalYawDegree",
                b"GimbalPitchDegree", b"GimbalRollDegree", b"FlightYawDegree", b"FlightPitchDegree",
                b"FlightRollDegree", b"CalibratedFocalLength", b"CalibratedOpticalCenterX",
                b"CalibratedOpticalCenterY", b"RtkFlag"):
        assert b"drone-dji:" + tag in data, tag


def test_exif_fields(nadir):
    import exifread

    with open(nadir.photo_paths[0], "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    assert str(tags["Image Make"]) == "DJI" and str(tags["Image Model"]) == "M3E"
    assert str(tags["GPS GPSLatitudeRef"]) == "N" and str(tags["GPS GPSLongitudeRef"]) == "E"
    assert str(tags["EXIF FocalLengthIn35mmFilm"]) == "24"
    assert float(tags["EXIF FocalLength"].values[0]) == pytest.approx(12.29)
    assert str(tags["EXIF DateTimeOriginal"]).startswith("2025:")


def test_exif_southern_western_hemisphere(tmp_path):
    pose = CameraPose(file="x", lat=-33.8688, lon=-70.25, abs_alt_m=-12.5, rel_alt_m=50.0, gimbal_pitch=-90,
                      gimbal_yaw=10.0)
    img = np.full((48, 64, 3), 128, np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    from heyan.datasets.flight.exif_writer import build_xmp

    data = insert_metadata(buf.tobytes(), build_exif(pose, MAVIC_3E, 64, 48), build_xmp(pose, MAVIC_3E))
    path = tmp_path / "s.jpg"
    path.write_bytes(data)
    got = read_pose(path)
    assert got.lat == pytest.approx(-33.8688, abs=1e-8) and got.lon == pytest.approx(-70.25, abs=1e-8)
    assert got.abs_alt_m == pytest.approx(-12.5)
    assert cv2.imread(str(path)).shape == (48, 64, 3)


def test_rtk_noise_is_centimetric(nadir):
    frame = nadir.world.frame
    noisy = apply_noise(nadir.true_poses, frame, NoiseModel.rtk_fixed(), np.random.default_rng(0))
    for tp, rp in zip(nadir.true_poses, noisy):
        e, n = LocalFrame(tp.lon, tp.lat).lonlat_to_enu(rp.lon, rp.lat)
        assert math.hypot(e, n) < 0.15
        assert rp.rtk_flag == 50 and rp.rtk_std_lon_m == 0.02
    clean = apply_noise(nadir.true_poses, frame, NoiseModel.none(), np.random.default_rng(0))
    assert clean[0].lat == pytest.approx(nadir.true_poses[0].lat, abs=1e-12)


# --------------------------------------------------------------------------- ground truth


def test_truth_geojson(nadir):
    data = json.loads((nadir.out_dir / "truth.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    ids = set()
    planted: dict[str, int] = {}
    for f in data["features"]:
        assert f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert abs(lat - 30.52) < 0.05 and abs(lon - 119.97) < 0.05
        p = f["properties"]
        assert p["class"] in class_names()
        assert p["id"] not in ids
        ids.add(p["id"])
        assert p["size_m"] > 0 and len(p["extent_m"]) == 2
        assert p["on_water"] == (p["class"] in ("floating_debris", "sand_dredger", "boat"))
        if p["role"] == "planted":
            planted[p["class"]] = planted.get(p["class"], 0) + 1
            assert p["seen_in"] >= 1, p  # every planted object is in at least one photo
    assert set(planted) == set(class_names())  # a few of each class


def test_truth_agrees_with_river_network(nadir):
    """The truth's segment / bank / zone labels are what pipeline.geo.rivers says for the point."""
    from heyan.pipeline.geo import rivers
    net = rivers.load_network(nadir.out_dir / "rivers.geojson")
    data = json.loads((nadir.out_dir / "truth.geojson").read_text(encoding="utf-8"))
    lons = [f["geometry"]["coordinates"][0] for f in data["features"]]
    lats = [f["geometry"]["coordinates"][1] for f in data["features"]]
    for f, place in zip(data["features"], net.locate(lats, lons)):
        p = f["properties"]
        assert place is not None
        assert place.segment_id == p["segment_id"]
        assert place.in_zone == p["in_zone"]
        assert place.on_water == p["on_water"]
        if not p["on_water"]:
            assert place.bank == p["bank"]


def test_objects_visible_where_projected(nadir):
    """Each planted object changes the photo at its projected pixel (rendered with and
    without the objects, same noise); small debris is centred there to within pixels."""
    world = nadir.world
    bare = replace(world, objects=[])
    planted = [o for o in world.objects if o.role == "planted"]
    lat = np.array([o.lat for o in planted])
    lon = np.array([o.lon for o in planted])
    checked = set()
    for i, pose in enumerate(nadir.true_poses):
        px = ground_to_pixels(pose, lat, lon) - 0.5  # georef pixel -> array index coordinates
        inside = [k for k in range(len(planted)) if 8 <= px[k, 0] < W - 8 and 8 <= px[k, 1] < H - 8]
        if not inside:
            continue
        a = render_photo(world, pose, np.random.default_rng(i)).astype(np.int16)
        b = render_photo(bare, pose, np.random.default_rng(i)).astype(np.int16)
        changed = np.abs(a - b).sum(axis=2) > 12
        gsd = pose.rel_alt_m / pose.focal_px
        for k in inside:
            o = planted[k]
            x, y = px[k]
            size_px = o.size_m / gsd
            r = int(max(2, 0.3 * size_px))
            win = changed[max(int(y) - r, 0):int(y) + r + 1, max(int(x) - r, 0):int(x) + r + 1]
            if size_px < 8:  # a few pixels of debris
                assert win.sum() >= 4, (o.id, o.cls, win.sum())
            else:
                assert win.mean() > 0.25, (o.id, o.cls, win.mean())
            if o.cls == "floating_debris":
                R = int(size_px + 6)
                y0, x0 = int(y) - R, int(x) - R
                ys, xs = np.nonzero(changed[max(y0, 0):int(y) + R + 1, max(x0, 0):int(x) + R + 1])
                cy, cx = ys.mean() + max(y0, 0), xs.mean() + max(x0, 0)
                assert math.hypot(cx - x, cy - y) < 0.3 * size_px + 2.0, (o.id, cx - x, cy - y)
            checked.add(o.id)
    assert {o.cls for o in planted if o.id in checked} == set(class_names())


def test_overlapping_photos_see_the_same_ground(nadir):
    """World-anchored textures: warping one photo into its neighbour with the true poses'
    ground homography lines the two up (low residual where they overlap)."""
    p0, p1 = nadir.true_poses[0], nadir.true_poses[1]
    img0 = cv2.imread(str(nadir.photo_paths[0])).astype(np.float32)
    img1 = cv2.imread(str(nadir.photo_paths[1])).astype(np.float32)
    frame = LocalFrame(p0.lon, p0.lat)
    e, n = np.meshgrid(np.linspace(-30, 30, 5), np.linspace(-20, 20, 5))
    lon, lat = frame.enu_to_lonlat(e.ravel(), n.ravel())
    a = ground_to_pixels(p0, lat, lon) - 0.5
    b = ground_to_pixels(p1, lat, lon) - 0.5
    hmat, _ = cv2.findHomography(a.astype(np.float32), b.astype(np.float32), 0)
    warped = cv2.warpPerspective(img0, hmat, (W, H), borderValue=(-1, -1, -1))
    valid = (warped >= 0).all(axis=2)
    assert valid.mean() > 0.5
    blur = lambda im: cv2.GaussianBlur(im, (0, 0), 1.5)  # noqa: E731
    diff = np.abs(blur(warped) - blur(img1)).mean(axis=2)[valid]
    assert np.median(diff) < 6.0, np.median(diff)
    # Against a photo of somewhere else, the same comparison is far worse.
    shifted = np.roll(img1, 40, axis=1)
    assert np.median(np.abs(blur(warped) - blur(shifted)).mean(axis=2)[valid]) > 2 * np.median(diff)


# --------------------------------------------------------------------------- rivers.geojson


def test_rivers_geojson(nadir):
    from heyan.pipeline.geo.rivers_schema import parse_network

    data = json.loads((nadir.out_dir / "rivers.geojson").read_text(encoding="utf-8"))
    segs = [f for f in data["features"] if f["properties"]["kind"] == "segment"]
    assert 2 <= len(segs) <= 3
    for f in segs:
        p = f["properties"]
        assert f["geometry"]["type"] == "LineString" and len(f["geometry"]["coordinates"]) >= 2
        assert p["id"] and p["name"] and p["river"] == segs[0]["properties"]["river"]
        for level in ("county", "township", "village"):
            chief = p["chiefs"][level]
            assert chief["name"] and chief["phone"] and chief["department"]
        assert p["buffer_m"]["left"] > 0 and p["buffer_m"]["right"] > 0
    # Drawn downstream, end to end.
    for a, b in zip(segs, segs[1:]):
        assert a["geometry"]["coordinates"][-1] == b["geometry"]["coordinates"][0]
    net = parse_network(data, "rivers.geojson")  # raises RiverNetworkError listing every problem
    assert len(net.segments) == len(segs) and not net.warnings
    assert net.mining_areas and net.outfalls
    schema = Path(__file__).resolve().parents[2] / "pipeline" / "schemas" / "rivers.schema.json"
    if schema.is_file():
        import jsonschema

        jsonschema.validate(data, json.loads(schema.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the figure


def test_localisation_of_projected_true_objects(nadir, oblique):
    """Perfect detections of the true objects, georeferenced with the noisy (reported)
    poses: how far from the truth, and is the error estimate honest."""
    noise = nadir.config.noise
    print(f"\nnoise: GNSS {noise.gnss_sigma_m} m/axis (+{noise.gnss_white_m} white, tau {noise.gnss_tau_s:g} s), "
          f"yaw {noise.yaw_sigma_deg:.2f} deg, pitch/roll {noise.pitch_deg}/{noise.roll_deg} deg, "
          f"baro {noise.rel_alt_bias_m} m")
    matched = GeorefSettings(errors=error_model_for(noise))
    for name, flight, med_max, p95_max in (("nadir", nadir, 5.0, 10.0), ("oblique", oblique, 8.0, 25.0)):
        stats = measure_flight(flight.out_dir)
        cal = measure_flight(flight.out_dir, matched)
        print(f"{name:8s} default ErrorModel: {stats.line()}")
        print(f"{name:8s} matched ErrorModel: {cal.line()}")
        assert stats.n >= 10 and stats.missed == 0
        assert stats.median_m < med_max and stats.p95_m < p95_max
        # The pipeline's default error model (3 m GNSS, 2 deg yaw) is conservative here.
        assert stats.within_2sigma >= 0.9
        assert cal.within_2sigma >= 0.75


def test_localisation_pooled_over_flights():
    """The same figure pooled over several flights (poses only, nothing rendered): one
    flight has one GNSS offset and one compass bias, several give the distribution."""
    from heyan.datasets.flight.measure import measure_seeds

    for name, oblique, med_max, p95_max in (("nadir", False, 4.0, 8.0), ("oblique", True, 7.0, 20.0)):
        cfg = FlightConfig(photos=12, oblique=oblique)
        stats, cal = measure_seeds(cfg, [11, 12, 13], [GeorefSettings(), GeorefSettings(errors=error_model_for(cfg.noise))])
        print(f"{name:8s} 3 flights, default ErrorModel: {stats.line()}")
        print(f"{name:8s} 3 flights, matched ErrorModel: {cal.line()}")
        assert stats.median_m < med_max and stats.p95_m < p95_max
        assert stats.within_2sigma > 0.95 and cal.within_2sigma > 0.85


# --------------------------------------------------------------------------- CLI


def test_cli_simulate_flight(tmp_path):
    import typer

    from heyan.commands import simulate

    app = typer.Typer()  # a fresh app: registering on heyan.cli.app would leak into other tests

    @app.callback()
    def _group() -> None:
        """Make ``simulate-flight`` a subcommand."""

    simulate.register(app)
    assert [c.name for c in app.registered_commands] == ["simulate-flight"]
    out = tmp_path / "flight"
    res = CliRunner().invoke(app, ["simulate-flight", "--out", str(out), "--photos", "2", "--width", "400",
                                   "--height", "300", "--seed", "4", "--altitude", "100"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["photos"] == 2 and summary["altitude_m"] == 100.0
    assert len(list((out / "photos").glob("*.jpg"))) == 2
    for name in ("rivers.geojson", "truth.geojson", "poses.jsonl"):
        assert (out / name).is_file()
    res = CliRunner().invoke(app, ["simulate-flight", "--out", str(out), "--width", "400", "--height", "100"])
    assert res.exit_code != 0 and "aspect" in res.output
