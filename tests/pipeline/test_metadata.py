"""``pipeline.metadata.read_pose`` against real DJI and camera photos (exiftool as the
reference) and against photos built with exactly the metadata quirks seen in the field."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import pytest
import typer
from typer.testing import CliRunner

from heyan.pipeline.metadata import SENSORS, MetadataError, read_pose
from heyan.pipeline.metadata.exif import read_container
from heyan.pipeline.metadata.xmp import parse_xmp

THERMAL = ["DJI_H20T.jpg", "DJI_XT2.jpg", "DJI_XTR.jpg", "DJI_XTS.jpg", "H20N_DJI_0006_R.JPG"]
ANGLES = {
    "gimbal_roll": "Gimbal Roll Degree", "gimbal_yaw": "Gimbal Yaw Degree",
    "gimbal_pitch": "Gimbal Pitch Degree", "flight_roll": "Flight Roll Degree",
    "flight_yaw": "Flight Yaw Degree", "flight_pitch": "Flight Pitch Degree",
}
# exiftool prints seconds of arc to 0.01": half of that is 1.4e-6 degrees.
DMS_TOL_DEG = 2e-6


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _number(text: str) -> float:
    return float(text.split()[0])


def _exiftool_time(text: str) -> datetime:
    """``2018:07:27 14:51:54.481`` or ``2021:05:28 10:33:46`` (zone ignored)."""
    t = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    frac = text[19:23]
    return t.replace(microsecond=int(frac[1:].ljust(6, "0"))) if frac.startswith(".") else t


# --------------------------------------------------------------------------- real DJI photos


@pytest.mark.parametrize("name", THERMAL)
def test_real_dji_photo_matches_exiftool(thermal_dir: Path, name: str, mk) -> None:
    ref = mk.exiftool(thermal_dir / (Path(name).stem + ".txt"))
    pose = read_pose(thermal_dir / name)

    assert pose.lat == pytest.approx(mk.dms(ref["GPS Latitude"][-1]), abs=DMS_TOL_DEG)
    assert pose.lon == pytest.approx(mk.dms(ref["GPS Longitude"][-1]), abs=DMS_TOL_DEG)
    # EXIF GPSAltitude is rounded to 0.1 m on these aircraft; the XMP keeps more digits.
    sign = -1 if "Below" in ref["GPS Altitude"][-1] else 1
    assert pose.abs_alt_m == pytest.approx(sign * _number(ref["GPS Altitude"][-1]), abs=0.1)
    assert pose.abs_alt_m == float(ref["Absolute Altitude"][0])
    assert pose.rel_alt_m == float(ref["Relative Altitude"][0])
    for attr, tag in ANGLES.items():
        assert getattr(pose, attr) == float(ref[tag][0]), attr
    assert pose.make == ref["Make"][0]
    assert pose.model == ref["Camera Model Name"][0]
    assert (pose.width, pose.height) == (int(ref["Image Width"][-1]), int(ref["Image Height"][-1]))
    # The last Date/Time Original exiftool shows is the composite with sub-seconds.
    assert pose.time is not None and pose.time.replace(tzinfo=None) == _exiftool_time(ref["Date/Time Original"][-1])
    if "Rtk Flag" in ref:
        assert pose.rtk_flag == int(ref["Rtk Flag"][0])
    if "Focal Length In 35mm Format" in ref and pose.focal_source == "exif_35mm":
        assert pose.focal_px == pytest.approx(_number(ref["Focal Length In 35mm Format"][0]) / 36 * pose.width)
    assert pose.focal_px and pose.focal_px > 0
    assert (pose.cx, pose.cy) == (pose.width / 2, pose.height / 2)


def test_h20n_shenzhen_reading_from_the_data_readme(thermal_dir: Path) -> None:
    pose = read_pose(thermal_dir / "H20N_DJI_0006_R.JPG")
    assert (round(pose.lat, 4), round(pose.lon, 4)) == (22.5962, 114.0073)
    assert round(pose.rel_alt_m, 1) == 42.6
    assert (pose.gimbal_pitch, pose.gimbal_yaw) == (-32.9, -106.6)
    # EXIF time has no zone; the XMP CreateDate of the same instant says +08:00.
    assert pose.time == datetime(2022, 3, 24, 17, 37, 59, tzinfo=timezone(timedelta(hours=8)))
    assert pose.extra["drone_model"] == "Matrice 300 RTK"


def test_dji_prefix_is_read_by_namespace_uri(thermal_dir: Path) -> None:
    """DJI_XTS.jpg writes DJI:... (http://www.dji.com) and declares the prefix twice."""
    pose = read_pose(thermal_dir / "DJI_XTS.jpg")
    assert pose.rtk_flag == 0
    assert (pose.gimbal_pitch, pose.gimbal_yaw, pose.flight_roll) == (19.9, 91.3, -2.9)
    assert "xmp_error" not in pose.extra
    with open(thermal_dir / "DJI_XTS.jpg", "rb") as fh:
        box = read_container(fh)
    assert parse_xmp(box.xmp).dji("AbsoluteAltitude") == "-29.44"


def test_thermal_focal_comes_from_the_sensor_table(thermal_dir: Path) -> None:
    # H20T thermal: 13.5 mm lens on 640 x 12 um = 7.68 mm -> 1125 px (DJI: DFOV 40.6 deg).
    h20t = read_pose(thermal_dir / "DJI_H20T.jpg")
    assert (h20t.focal_source, h20t.focal_px) == ("sensor_table", pytest.approx(1125.0))
    diag_fov = 2 * math.degrees(math.atan(math.hypot(640, 512) / 2 / h20t.focal_px))
    assert diag_fov == pytest.approx(40.6, abs=1.0)
    # XT2: 19 mm on a 17 um FLIR core, no 35 mm equivalent in EXIF at all.
    assert read_pose(thermal_dir / "DJI_XT2.jpg").focal_px == pytest.approx(19 / 10.88 * 640)


@pytest.mark.parametrize("folder", ["dji-thermal-xmp", "exif-samples-gps", "agung-dji-metadata"])
def test_stored_size_is_the_decoded_size(folder: str, mk) -> None:
    for path in sorted(mk.data_dir(folder).glob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg"):
            continue
        with open(path, "rb") as fh:
            box = read_container(fh)
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert (box.width, box.height) == (img.shape[1], img.shape[0]), path.name


def test_plain_camera_photos_with_exif_gps(mk) -> None:
    folder = mk.data_dir("exif-samples-gps")
    poses = [read_pose(p) for p in sorted(folder.glob("*.jpg"))]
    assert len(poses) == 9
    for pose in poses:
        assert 43.46 < pose.lat < 43.47 and 11.87 < pose.lon < 11.89  # around Bientina, Tuscany
        assert pose.make == "NIKON" and pose.gimbal_pitch is None and pose.rel_alt_m is None
        assert pose.focal_source == "exif_35mm" and pose.extra["position_source"] == "exif"
    first = poses[0]  # DSCN0010: 43 deg 28' 2.814" N, 11 deg 53' 6.456" E, 112 mm equivalent
    assert first.lat == pytest.approx(43 + 28 / 60 + 2.814 / 3600)
    assert first.lon == pytest.approx(11 + 53 / 60 + 6.45599999 / 3600)
    assert first.focal_px == pytest.approx(112 / 36 * 640)
    assert first.time == datetime(2008, 10, 22, 16, 28, 39)


def test_photo_without_gps_is_a_clear_per_file_error(mk) -> None:
    path = mk.data_dir("agung-dji-metadata") / "drone-testdata-agung-2-example.jpg"
    with pytest.raises(MetadataError) as err:
        read_pose(path)
    assert err.value.reason == "no GPS position in EXIF or XMP"
    assert str(path) in str(err.value) and isinstance(err.value, ValueError)


# --------------------------------------------------------------------------- Mt Agung table


def _agung_rows(name: str, mk) -> list[dict[str, str]]:
    with open(mk.data_dir("agung-dji-metadata") / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _agung_photo(tmp_path: Path, row: dict[str, str], mk) -> Path:
    lat = mk.dms(row["GPSLatitude"]) if row["GPSLatitude"] else None
    lon = mk.dms(row["GPSLongitude"]) if row["GPSLongitude"] else None
    xmp_fields = {k: row[k] for k in ("AbsoluteAltitude", "GimbalPitchDegree", "FlightYawDegree") if row[k]}
    exif = mk.exif(model="M3E", lat=lat, lon=lon, time=row["DateTimeOriginal"])
    return _write(tmp_path, row["FileName"], mk.jpeg(exif=exif, xmp=mk.xmp(xmp_fields)))


def test_agung_flight_table_round_trips(tmp_path: Path, mk) -> None:
    """Every 5th of the 1,817 exiftool rows, written into a photo and read back."""
    rows = _agung_rows("image_metadata.csv", mk)[::5]
    assert len(rows) > 300
    for row in rows:
        pose = read_pose(_agung_photo(tmp_path, row, mk))
        assert pose.lat == pytest.approx(mk.dms(row["GPSLatitude"]), abs=1e-7)
        assert pose.lon == pytest.approx(mk.dms(row["GPSLongitude"]), abs=1e-7)
        assert -8.35 < pose.lat < -8.25 and 115.4 < pose.lon < 115.5  # Mt Agung, Bali
        assert pose.abs_alt_m == float(row["AbsoluteAltitude"])  # "+1131.876": leading '+'
        assert pose.gimbal_pitch == float(row["GimbalPitchDegree"])
        assert pose.flight_yaw == float(row["FlightYawDegree"])
        assert pose.time == datetime.strptime(row["DateTimeOriginal"], "%Y:%m:%d %H:%M:%S")


def test_agung_problem_photos(tmp_path: Path, mk) -> None:
    outcomes: dict[str, set[str]] = {}
    for row in _agung_rows("issue_image_metadata.csv", mk):
        kind = row["FileName"].rsplit("_D_", 1)[1].rsplit(".", 1)[0]
        try:
            pose = read_pose(_agung_photo(tmp_path, row, mk))
            outcome = "ok" if pose.gimbal_pitch is not None else "ok, no gimbal"
        except MetadataError as exc:
            assert row["FileName"] in str(exc)
            outcome = exc.reason.split(" (")[0]
        outcomes.setdefault(kind, set()).add(outcome)
    assert outcomes["MISSING_COORDS"] == {"no GPS position in EXIF or XMP"}
    assert outcomes["INVALID_COORD"] == {"GPS position out of range in exif"}
    assert outcomes["MISSING_GIMBAL"] == {"ok, no gimbal"}
    for kind in ("DUP", "FAR_AWAY", "GIMBAL_UP", "GIMBAL_HORIZON", "LENS_CAP", "POOR_SHARPNESS"):
        assert outcomes[kind] == {"ok"}, kind  # metadata is fine: other stages judge these


# --------------------------------------------------------------------------- quirks


DJI_FIELDS = {
    "GpsLatitude": "+30.5928", "GpsLongitude": "+114.3055", "AbsoluteAltitude": "+65.20",
    "RelativeAltitude": "+120.10", "GimbalYawDegree": "-45.50", "GimbalPitchDegree": "-90.00",
    "GimbalRollDegree": "+0.00", "FlightYawDegree": "-44.90", "FlightPitchDegree": "+2.10",
    "FlightRollDegree": "-1.30", "RtkFlag": "50", "RtkStdLon": "0.01274", "RtkStdLat": "0.01122",
    "RtkStdHgt": "0.02394",
}


def _check_dji_fields(pose) -> None:
    assert (pose.lat, pose.lon) == (30.5928, 114.3055)
    assert (pose.abs_alt_m, pose.rel_alt_m) == (65.2, 120.1)
    assert (pose.gimbal_yaw, pose.gimbal_pitch, pose.gimbal_roll) == (-45.5, -90.0, 0.0)
    assert (pose.flight_yaw, pose.flight_pitch, pose.flight_roll) == (-44.9, 2.1, -1.3)
    rtk = (pose.rtk_flag, pose.rtk_std_lon_m, pose.rtk_std_lat_m, pose.rtk_std_hgt_m)
    assert rtk == (50, 0.01274, 0.01122, 0.02394)


def test_gps_only_in_xmp_no_exif_gps_block(tmp_path: Path, mk) -> None:
    path = _write(tmp_path, "a.jpg", mk.jpeg(exif=mk.exif(), xmp=mk.xmp(DJI_FIELDS)))
    pose = read_pose(path)
    _check_dji_fields(pose)
    assert pose.extra["position_source"] == "xmp_dji"


def test_misspelt_gps_longtitude(tmp_path: Path, mk) -> None:
    fields = {("GpsLongtitude" if k == "GpsLongitude" else k): v for k, v in DJI_FIELDS.items()}
    _check_dji_fields(read_pose(_write(tmp_path, "a.jpg", mk.jpeg(xmp=mk.xmp(fields)))))


def test_any_prefix_bound_to_a_dji_namespace(tmp_path: Path, mk) -> None:
    for prefix, ns in (("DJI", "http://www.dji.com"), ("dd", "http://www.dji.com/drone-dji/1.0/")):
        path = _write(tmp_path, f"{prefix}.jpg", mk.jpeg(xmp=mk.xmp(DJI_FIELDS, prefix=prefix, ns=ns)))
        _check_dji_fields(read_pose(path))


def test_drone_dji_prefix_bound_to_another_namespace_is_not_dji(tmp_path: Path, mk) -> None:
    path = _write(tmp_path, "a.jpg", mk.jpeg(xmp=mk.xmp(DJI_FIELDS, ns="http://example.com/not-dji/")))
    with pytest.raises(MetadataError, match="no GPS position"):
        read_pose(path)


@pytest.mark.parametrize("big_endian", [False, True])
def test_tiff_with_exif_gps_and_xmp(tmp_path: Path, mk, big_endian: bool) -> None:
    xmp = mk.xmp({k: v for k, v in DJI_FIELDS.items() if not k.startswith("Gps")})
    tiff = mk.tiff(width=40, height=30, lat=30.5928, lon=114.3055, alt=65.2, xmp=xmp, big_endian=big_endian)
    path = _write(tmp_path, "a.tif", tiff)
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == (30, 40)  # a real TIFF
    pose = read_pose(path)
    _check_dji_fields(pose)
    assert (pose.width, pose.height, pose.make, pose.model) == (40, 30, "DJI", "FC6310")
    assert pose.extra["position_source"] == "exif"


def test_tiff_with_gps_only_in_xmp(tmp_path: Path, mk) -> None:
    path = _write(tmp_path, "a.tiff", mk.tiff(xmp=mk.xmp(DJI_FIELDS)))
    pose = read_pose(path)
    _check_dji_fields(pose)
    assert (pose.width, pose.height) == (32, 24)


def test_southern_western_and_below_sea_level(tmp_path: Path, mk) -> None:
    path = _write(tmp_path, "a.jpg", mk.jpeg(exif=mk.exif(lat=-34.6502, lon=-59.409424, alt=-12.5)))
    pose = read_pose(path)
    assert pose.lat == pytest.approx(-34.6502, abs=1e-7) and pose.lon == pytest.approx(-59.409424, abs=1e-7)
    assert pose.abs_alt_m == -12.5


def test_zero_zero_exif_falls_back_to_xmp_and_alone_is_an_error(tmp_path: Path, mk) -> None:
    both = mk.jpeg(exif=mk.exif(lat=0.0, lon=0.0), xmp=mk.xmp(DJI_FIELDS))
    assert read_pose(_write(tmp_path, "a.jpg", both)).lat == 30.5928
    only = mk.jpeg(exif=mk.exif(lat=0.0, lon=0.0))
    with pytest.raises(MetadataError, match="0, 0"):
        read_pose(_write(tmp_path, "b.jpg", only))


def test_exif_and_xmp_positions_far_apart_are_noted(tmp_path: Path, mk) -> None:
    data = mk.jpeg(exif=mk.exif(lat=30.6, lon=114.3055), xmp=mk.xmp(DJI_FIELDS))
    pose = read_pose(_write(tmp_path, "a.jpg", data))
    assert pose.lat == pytest.approx(30.6) and pose.extra["position_vs_xmp_dji_m"] == pytest.approx(800, rel=0.01)


def test_xmp_with_entities_is_refused_but_exif_still_reads(tmp_path: Path, mk) -> None:
    dtd = b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    rdf = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&b;</rdf:RDF>'
    wrapped = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    for name, xmp, reason in (("a.jpg", dtd + rdf, "refused"), ("b.jpg", dtd + wrapped, "undefined entity")):
        path = _write(tmp_path, name, mk.jpeg(exif=mk.exif(lat=30.0, lon=114.0), xmp=xmp))
        pose = read_pose(path)
        assert pose.lat == 30.0 and reason in pose.extra["xmp_error"]


def test_xmp_found_by_scanning_when_not_in_an_app1_segment(tmp_path: Path, mk) -> None:
    jpeg = mk.jpeg()
    comment = b"\xff\xfe" + (len(mk.xmp(DJI_FIELDS)) + 2).to_bytes(2, "big") + mk.xmp(DJI_FIELDS)
    _check_dji_fields(read_pose(_write(tmp_path, "a.jpg", jpeg[:2] + comment + jpeg[2:])))


def test_standard_xmp_exif_gps_is_a_last_resort(tmp_path: Path, mk) -> None:
    xmp = mk.xmp({"GPSLatitude": "22,35.7772N", "GPSLongitude": "114,0.4361E", "GPSAltitude": "90337/1000"},
                     prefix="exif", ns="http://ns.adobe.com/exif/1.0/")
    pose = read_pose(_write(tmp_path, "a.jpg", mk.jpeg(xmp=xmp)))
    assert pose.lat == pytest.approx(22 + 35.7772 / 60) and pose.lon == pytest.approx(114 + 0.4361 / 60)
    assert pose.abs_alt_m == pytest.approx(90.337) and pose.extra["position_source"] == "xmp_exif"


# --------------------------------------------------------------------------- intrinsics


DEWARP = "2018-09-06;3684.480000000000,3677.570000000000,2.240000000000,22.050000000000," \
         "-0.263482000000,0.106788000000,0.000037110700,-0.000327247000,-0.030078300000"
P4RTK_CAL = {"CalibratedFocalLength": "3666.666504", "CalibratedOpticalCenterX": "2736.000000",
             "CalibratedOpticalCenterY": "1824.000000", "DewarpData": DEWARP, "DewarpFlag": "0"}


def _p4rtk_photo(mk, tmp_path: Path, size: tuple[int, int], exif_size: tuple[int, int] | None,
                 fields: dict[str, str]) -> Path:
    exif = mk.exif(model="FC6310R", lat=30.0, lon=114.0, focal_mm=8.8, focal_35=24, pixel_size=exif_size)
    return _write(tmp_path, f"p{size[0]}.jpg", mk.jpeg(*size, exif=exif, xmp=mk.xmp(fields)))


def test_dewarp_data_at_full_resolution(tmp_path: Path, mk) -> None:
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (5472, 3648), (5472, 3648), P4RTK_CAL))
    assert pose.focal_source == "dji_dewarp"
    assert pose.focal_px == pytest.approx((3684.48 + 3677.57) / 2)
    # DewarpData's cx, cy are offsets from the image centre (DJI manuals).
    assert (pose.cx, pose.cy) == pytest.approx((2736 + 2.24, 1824 + 22.05))
    assert pose.distortion == pytest.approx([-0.263482, 0.106788, 0.0000371107, -0.000327247, -0.0300783])


@pytest.mark.parametrize("exif_size", [(5472, 3648), (1368, 912), None])
def test_resized_photo_gets_scaled_intrinsics(tmp_path: Path, exif_size, mk) -> None:
    """Resized to a quarter after capture; EXIF kept, updated or dropped the pixel size."""
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (1368, 912), exif_size, P4RTK_CAL))
    assert (pose.width, pose.height) == (1368, 912)
    assert pose.focal_px == pytest.approx((3684.48 + 3677.57) / 2 / 4)
    assert (pose.cx, pose.cy) == pytest.approx((684 + 2.24 / 4, 456 + 22.05 / 4))
    assert pose.extra["calibration_scale"] == pytest.approx(0.25)


def test_calibrated_focal_length_when_no_dewarp_data(tmp_path: Path, mk) -> None:
    fields = {k: v for k, v in P4RTK_CAL.items() if k != "DewarpData"}
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (2736, 1824), (5472, 3648), fields))
    assert pose.focal_source == "dji_calibrated"
    assert pose.focal_px == pytest.approx(3666.666504 / 2)
    assert (pose.cx, pose.cy) == (1368, 912) and pose.distortion is None


def test_calibration_scaled_by_exif_size_when_no_optical_centre(tmp_path: Path, mk) -> None:
    fields = {"CalibratedFocalLength": "3666.666504"}
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (1824, 1216), (5472, 3648), fields))
    assert pose.focal_px == pytest.approx(3666.666504 / 3)


def test_dewarped_photo_has_no_distortion_and_the_design_focal(tmp_path: Path, mk) -> None:
    fields = dict(P4RTK_CAL, DewarpFlag="1")
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (5472, 3648), (5472, 3648), fields))
    assert pose.focal_source == "dji_calibrated" and pose.focal_px == pytest.approx(3666.666504)
    assert pose.distortion == [0.0] * 5


def test_sensor_table_then_35mm_equivalent(tmp_path: Path, mk) -> None:
    # FC6310R: 8.8 mm on a 13.2 mm wide 1" sensor; photo resized to 1368 px.
    pose = read_pose(_p4rtk_photo(mk, tmp_path, (1368, 912), (5472, 3648), {}))
    assert (pose.focal_source, pose.focal_px) == ("sensor_table", pytest.approx(8.8 / 13.2 * 1368))
    exif = mk.exif(model="UNKNOWN-CAM", lat=30.0, lon=114.0, focal_mm=4.5, focal_35=24)
    pose = read_pose(_write(tmp_path, "u.jpg", mk.jpeg(400, 300, exif=exif)))
    assert (pose.focal_source, pose.focal_px) == ("exif_35mm", pytest.approx(24 / 36 * 400))
    exif = mk.exif(model="UNKNOWN-CAM", lat=30.0, lon=114.0)
    pose = read_pose(_write(tmp_path, "n.jpg", mk.jpeg(400, 300, exif=exif)))
    assert pose.focal_px is None and pose.focal_source is None and (pose.cx, pose.cy) == (200, 150)


def test_sensor_table_covers_the_cameras_named_in_the_issue() -> None:
    for model in ("FC6310", "FC6310R", "FC330", "FC7303", "L1D-20C", "FC3170", "FC3411", "FC8482", "ZH20T", "M3E"):
        assert SENSORS[model], model


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"hello, not a photo", "not a JPEG or TIFF image"),
    (b"\xff\xd8\xff\xd9", "cannot determine the image size"),
    (b"II*\x00\x08\x00\x00\x00\x00\x00", "cannot determine the image size"),
])
def test_unusable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = _write(tmp_path, "bad.jpg", content)
    if reason.startswith("cannot"):
        # No size and no GPS: the GPS check runs first and is the clearer reason.
        reason = "no GPS position"
    with pytest.raises(MetadataError, match=reason) as err:
        read_pose(path)
    assert str(path) in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="file not found"):
        read_pose(tmp_path / "nope.jpg")
    with pytest.raises(MetadataError, match="directory"):
        read_pose(tmp_path)


def test_gps_but_no_frame_size(tmp_path: Path, mk) -> None:
    jpeg = mk.jpeg(exif=mk.exif(lat=30.0, lon=114.0))
    sof = jpeg.index(b"\xff\xc0")
    with pytest.raises(MetadataError, match="cannot determine the image size"):
        read_pose(_write(tmp_path, "a.jpg", jpeg[:sof]))


# --------------------------------------------------------------------------- CLI


def _cli() -> typer.Typer:
    from heyan.commands import metadata as cmd

    app = typer.Typer()
    cmd.register(app)

    @app.command("noop")  # a second command keeps Typer from collapsing to one
    def _noop() -> None:
        pass

    return app


REQUIRED_KEYS = {"file", "lat", "lon", "rel_alt_m", "abs_alt_m", "flight_yaw", "flight_pitch", "flight_roll",
                 "gimbal_yaw", "gimbal_pitch", "gimbal_roll", "focal_px", "cx", "cy", "width", "height",
                 "make", "model", "rtk_flag", "time"}


def test_cli_metadata_json_lines_and_errors(tmp_path: Path, mk) -> None:
    good = _write(tmp_path, "good.jpg", mk.jpeg(exif=mk.exif(lat=30.0, lon=114.0), xmp=mk.xmp(DJI_FIELDS)))
    bad = _write(tmp_path, "bad.jpg", b"not a photo")
    result = CliRunner().invoke(_cli(), ["metadata", str(bad), str(good), str(tmp_path / "missing.jpg")])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [rec["file"] for rec in lines] == [str(bad), str(good), str(tmp_path / "missing.jpg")]
    assert lines[0] == {"file": str(bad), "error": "not a JPEG or TIFF image"}
    assert REQUIRED_KEYS <= set(lines[1]) and lines[1]["time"] == "2025-10-02T12:08:47"
    assert lines[1]["gimbal_pitch"] == -90.0 and lines[1]["rtk_flag"] == 50
    assert lines[2]["error"] == "file not found"


def test_cli_metadata_fails_only_when_nothing_reads(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.jpg", b"not a photo")
    result = CliRunner().invoke(_cli(), ["metadata", str(bad)])
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["error"]


def test_cli_metadata_on_a_folder(thermal_dir: Path) -> None:
    result = CliRunner().invoke(_cli(), ["metadata", str(thermal_dir)])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5 and all("error" not in r and REQUIRED_KEYS <= set(r) for r in records)
