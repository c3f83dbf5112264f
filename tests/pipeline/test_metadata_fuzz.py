"""Property-based robustness: random and mutated photos and SRT files give a pose (or a
track) or the parser's own error naming the file -- never another exception, never a hang.

Examples are bounded (count and deadline) and derandomised so the module runs in a few
seconds and the same way every time. ``HEYAN_FUZZ_EXAMPLES=5000`` runs a longer, random
search on demand.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heyan.pipeline.metadata import MetadataError, read_pose
from heyan.pipeline.metadata.pose import CameraPose
from heyan.pipeline.metadata.srt import SrtError, SrtTrack, parse_srt_bytes

_DEEP = os.environ.get("HEYAN_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_DEEP or 60), deadline=2000, database=None, derandomize=not _DEEP,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PREFIXES = [b"", b"\xff\xd8", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00II*\x00",
            b"II*\x00", b"MM\x00*", b"II*\x00\x08\x00\x00\x00"]

DJI_XMP_FIELDS = {"GpsLatitude": "+22.596196357", "GpsLongitude": "+114.007268015",
                  "AbsoluteAltitude": "+90.337", "RelativeAltitude": "+42.602",
                  "GimbalPitchDegree": "-32.90", "DewarpData": "2020-01-01;3000,3000,1,2,-0.1,0.01,0,0,0",
                  "CalibratedOpticalCenterX": "320", "CalibratedOpticalCenterY": "256", "RtkFlag": "50"}


def _compact(jpeg: bytes, scan_bytes: int = 4096) -> bytes:
    """A real JPEG without its big private segments (thermal data, previews): every
    metadata segment kept, so mutations land where the parser works."""
    out, pos = bytearray(jpeg[:2]), 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        length = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        segment = jpeg[pos:pos + 2 + length]
        if marker == 0xDA:
            out += jpeg[pos:pos + 2 + length + scan_bytes]
            break
        if not (0xE2 <= marker <= 0xEF and length > 4096):
            out += segment
        pos += 2 + length
    return bytes(out)


@pytest.fixture(scope="module")
def seeds(mk) -> list[bytes]:
    found = [
        mk.jpeg(exif=mk.exif(lat=-8.29, lon=115.46, alt=1131.8, focal_mm=8.8, focal_35=24, pixel_size=(640, 512)),
                xmp=mk.xmp(DJI_XMP_FIELDS)),
        mk.tiff(lat=30.5, lon=114.3, alt=12.0, xmp=mk.xmp(DJI_XMP_FIELDS)),
        mk.jpeg(xmp=mk.xmp(DJI_XMP_FIELDS, prefix="DJI", ns="http://www.dji.com")),
    ]
    for folder, names in (("dji-thermal-xmp", ["DJI_XTS.jpg", "H20N_DJI_0006_R.JPG", "DJI_XT2.jpg"]),
                          ("exif-samples-gps", ["DSCN0010.jpg"])):
        try:
            directory = mk.data_dir(folder)
        except pytest.skip.Exception:
            continue  # synthetic seeds still exercise the parsers
        found += [_compact((directory / n).read_bytes()) for n in names]
    return found


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "photo.jpg"


def _assert_pose_or_metadata_error(path: Path, data: bytes) -> CameraPose | None:
    path.write_bytes(data)
    try:
        pose = read_pose(path)
    except MetadataError as exc:
        assert exc.file == str(path) and str(path) in str(exc) and exc.reason
        return None
    assert isinstance(pose, CameraPose) and pose.file == str(path)
    assert -90 <= pose.lat <= 90 and -180 <= pose.lon <= 180  # type: ignore[operator]
    assert pose.width and pose.height and pose.width > 0 and pose.height > 0
    for value in (pose.focal_px, pose.cx, pose.cy, pose.abs_alt_m, pose.rel_alt_m):
        assert value is None or math.isfinite(value)
    json.dumps(pose.to_json_dict(), default=str)  # what the CLI prints must serialise
    return pose


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=4096))
def test_random_bytes(photo_path: Path, prefix: bytes, body: bytes) -> None:
    _assert_pose_or_metadata_error(photo_path, prefix + body)


mutation = st.tuples(st.integers(min_value=0), st.integers(0, 255))


@FUZZ
@given(data=st.data(), flips=st.lists(mutation, min_size=1, max_size=24),
       cut=st.one_of(st.none(), st.integers(min_value=0)),
       insert=st.one_of(st.none(), st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=64))))
def test_mutated_real_photos(photo_path: Path, seeds: list[bytes], data, flips, cut, insert) -> None:
    seed = bytearray(data.draw(st.sampled_from(seeds)))
    for pos, value in flips:
        seed[pos % len(seed)] = value
    if insert is not None:
        pos = insert[0] % len(seed)
        seed[pos:pos] = insert[1]
    if cut is not None:
        del seed[cut % len(seed):]
    _assert_pose_or_metadata_error(photo_path, bytes(seed))


@FUZZ
@given(data=st.data())
def test_mutated_xmp_never_loses_the_exif_position(photo_path: Path, mk, data) -> None:
    packet = bytearray(mk.xmp(DJI_XMP_FIELDS))
    start = packet.index(b"<x:xmpmeta")
    for _ in range(data.draw(st.integers(1, 12))):
        pos = data.draw(st.integers(start, len(packet) - 1))
        packet[pos] = data.draw(st.sampled_from(b'<>"=:/& \x00\xff+-.0123456789abcxyzDJI'))
    jpeg = mk.jpeg(exif=mk.exif(lat=30.25, lon=120.5), xmp=bytes(packet))
    pose = _assert_pose_or_metadata_error(photo_path, jpeg)
    assert pose is not None and (pose.lat, pose.lon) == pytest.approx((30.25, 120.5), abs=1e-6)


# --------------------------------------------------------------------------- SRT

SRT_TOKENS = [
    "1\n", "12\n", "00:00:01,000 --> 00:00:02,000\n", "00:00:00,033 --> ", "99:99:99,999 --> 00:00:00,000\n",
    "\n\n", "GPS(", "GPS (", "HOME(", ")", ",", "N/A", "BAROMETER:", "Hb:", "H ", "m", "M", "°",
    "F.PRY (", "G.PRY (", "[latitude: ", "[longtitude: ", "[longitude: ", "[rel_alt: ", "abs_alt: ",
    "[altitude: ", "[gb_yaw: ", "[focal_len: ", "]", "<font size=\"28\">", "</font>",
    "2021-12-25 12:27:52.373\n", "2017.8.5 14:11:51\n", "2017.08.05 14:11:51,393,525\n",
    "-", "+", ".", "0", "1", "22.5", "114.3", "-179.9", "1e308", "9" * 30, " ", "\r\n", "\ufeff", "\x00",
]


def _assert_track_or_srt_error(data: bytes) -> None:
    try:
        track = parse_srt_bytes(data, "fuzz.SRT")
    except SrtError as exc:
        assert exc.file == "fuzz.SRT" and "fuzz.SRT" in str(exc) and exc.reason
        return
    assert isinstance(track, SrtTrack) and track.samples
    for s in track.samples:
        assert -90 <= s.lat <= 90 and -180 <= s.lon <= 180 and math.isfinite(s.t_s)
    for t in (track.start_s, (track.start_s + track.end_s) / 2, track.end_s):
        pose = track.pose_at(t)
        assert -90 <= pose.lat <= 90 and -180 <= pose.lon <= 180  # type: ignore[operator]


@FUZZ
@given(tokens=st.lists(st.sampled_from(SRT_TOKENS), max_size=120))
def test_srt_token_soup(tokens: list[str]) -> None:
    _assert_track_or_srt_error("".join(tokens).encode("utf-8"))


@FUZZ
@given(body=st.binary(max_size=4096))
def test_srt_random_bytes(body: bytes) -> None:
    _assert_track_or_srt_error(body)


@pytest.fixture(scope="module")
def srt_seeds(mk) -> list[bytes]:
    try:
        directory = mk.data_dir("dji-srt")
    except pytest.skip.Exception:
        return [b"1\n00:00:00,000 --> 00:00:01,000\nGPS(114.3,30.5,16) BAROMETER:1.9\n"]
    names = ["p4_rtk.SRT", "mavic_pro_buggy.SRT", "MAVIC3.srt", "matrice_300.srt", "mavic_2_style.SRT",
             "mavic_mini.SRT", "mix_p4rtk_mavic2pro.srt"]
    return [(directory / n).read_bytes()[:6000] for n in names]


@FUZZ
@given(data=st.data(),
       flips=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(b"\n :,()[]-.0159NA/\x00\xff")),
                      min_size=1, max_size=40))
def test_mutated_real_srt(srt_seeds: list[bytes], data, flips) -> None:
    seed = bytearray(data.draw(st.sampled_from(srt_seeds)))
    for pos, value in flips:
        seed[pos % len(seed)] = value
    _assert_track_or_srt_error(bytes(seed))
