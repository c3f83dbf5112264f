"""DJI SRT telemetry on the 16 real files of ../shared/data/dji-srt, interpolation, and
``heyan frames`` on a generated video paired with a real SRT file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from heyan.pipeline.metadata import read_pose
from heyan.pipeline.metadata.frames import parse_interval, sample_frames
from heyan.pipeline.metadata.srt import SrtError, parse_srt, parse_srt_text

# file -> (cues, samples with a position, first (lat, lon), first t_s, what else the format has)
EXPECTED = {
    "MAVIC3.srt": (12318, 12318, (3.41531, -3.37440), 0.0, {"rel_alt_m": -2.4, "abs_alt_m": 0.401, "focal_35mm": 24.0}),
    "air2s.srt": (17, 17, (41.424724, 2.234156), 0.0, {"abs_alt_m": 117.0, "focal_35mm": 24.0}),
    "m2zoom.SRT": (7113, 7113, (31.452012, 74.398751), 0.0, {"abs_alt_m": 213.983002}),
    "matrice_300.srt": (381, 381, (36.6146, -6.1120), 0.0, {"rel_alt_m": 0.3}),
    "mavic_2_style.SRT": (468, 468, (-20.2533, 149.0251), 0.0, {}),
    "mavic_2pro_new.SRT": (8952, 8952, (-35.080155, -60.286702), 0.0, {"focal_35mm": 28.0}),
    "mavic_air2.srt": (25, 25, (41.420684, 2.162162), 0.0, {"abs_alt_m": 27.3}),
    "mavic_mini.SRT": (117, 117, (48.0771, -121.7458), 0.0, {"rel_alt_m": 200.7}),
    "mavic_pro.SRT": (468, 468, (-20.2533, 149.0251), 1.0, {"rel_alt_m": 1.9}),
    "mavic_pro_buggy.SRT": (546, 530, (42.4668, -1.2218), 1.0, {"rel_alt_m": 0.0}),
    "mix_p4rtk_mavic2pro.srt": (12, 12, (-34.650200, -59.409424), 904.904,
                                {"rel_alt_m": 17.39, "gimbal_pitch": -27.3, "flight_yaw": -75.0}),
    "old_format.SRT": (468, 468, (-20.2533, 149.0251), 1.0, {"rel_alt_m": 1.9}),
    "p4_rtk.SRT": (55, 55, (-34.237922, -58.851745), 0.0,
                   {"rel_alt_m": 85.8, "gimbal_pitch": -24.4, "gimbal_roll": 0.0, "gimbal_yaw": 110.4,
                    "flight_pitch": 2.7, "flight_roll": -7.0, "flight_yaw": 110.1}),
    "p4p_sample.SRT": (5, 5, (47.4692, 8.2090), 0.0, {"rel_alt_m": 45.6}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_srt_formats(srt_dir: Path, name: str) -> None:
    cues, with_position, (lat, lon), t0, fields = EXPECTED[name]
    track = parse_srt(srt_dir / name)
    assert (track.cues, len(track.samples)) == (cues, with_position)
    first = track.samples[0]
    assert (first.lat, first.lon, first.t_s) == (lat, lon, t0)
    for key, value in fields.items():
        assert getattr(first, key) == value, key
    times = [s.t_s for s in track.samples]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_all_sixteen_files_are_covered(srt_dir: Path) -> None:
    names = {p.name for p in srt_dir.iterdir() if p.suffix.lower() == ".srt"}
    assert names == set(EXPECTED) | {"mavic_air.SRT"}, "a new sample file needs an expectation"
    assert len(names) + 1 == 16  # plus the licence file


def test_no_position_at_all_is_an_srt_error(srt_dir: Path) -> None:
    with pytest.raises(SrtError) as err:
        parse_srt(srt_dir / "mavic_air.SRT")
    assert "no GPS position" in err.value.reason and "mavic_air.SRT" in str(err.value)


def test_home_point_and_lon_first_tuples(srt_dir: Path) -> None:
    # DJI_SRT_Parser's own test: the Mavic Pro home is lat -20.2532, lon 149.0251.
    assert parse_srt(srt_dir / "mavic_pro.SRT").home == (-20.2532, 149.0251)
    assert parse_srt(srt_dir / "p4_rtk.SRT").home == (-34.232707, -58.847509)


def test_buggy_file_interpolates_across_the_no_fix_gap(srt_dir: Path) -> None:
    track = parse_srt(srt_dir / "mavic_pro_buggy.SRT")
    # Cues 15..30 say GPS(N/A,N/A,n): the track jumps from t=14 to t=31.
    times = [s.t_s for s in track.samples]
    assert 14.0 in times and 31.0 in times and not any(14 < t < 31 for t in times)
    pose = track.pose_at(22.5)
    assert pose.extra["srt_gap_s"] == 17.0
    a, b = track.samples[times.index(14.0)], track.samples[times.index(31.0)]
    assert pose.lat == pytest.approx(a.lat + (b.lat - a.lat) * 8.5 / 17)


def test_dated_blocks_without_time_codes(srt_dir: Path) -> None:
    track = parse_srt(srt_dir / "mavic_2_style.SRT")
    # 468 numbered blocks over 468 s of dates: ~1 s apart, despite the clock's repeats.
    steps = np.diff([s.t_s for s in track.samples])
    assert steps.min() == pytest.approx(steps.max()) == pytest.approx(468 / 467)
    assert track.samples[0].time == datetime(2017, 8, 5, 14, 11, 51, 393525)


def test_pose_at_interpolates_and_wraps_yaw() -> None:
    text = (
        "1\n00:00:00,000 --> 00:00:01,000\n"
        "F/2.8, GPS (114.30, 30.50, 18), H 100.0m, F.PRY (0.0°, 0.0°, 179.0°), G.PRY (-90.0°, 0.0°, 170.0°)\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\n"
        "F/2.8, GPS (114.40, 30.60, 18), H 110.0m, F.PRY (2.0°, 0.0°, -179.0°), G.PRY (-80.0°, 0.0°, -170.0°)\n"
    )
    track = parse_srt_text(text, "x.SRT")
    mid = track.pose_at(1.0)
    assert (mid.lat, mid.lon, mid.rel_alt_m) == pytest.approx((30.55, 114.35, 105.0))
    assert mid.flight_yaw == pytest.approx(180.0) and mid.gimbal_yaw == pytest.approx(180.0)
    assert mid.flight_pitch == pytest.approx(1.0) and mid.gimbal_pitch == pytest.approx(-85.0)
    assert track.pose_at(0.5).gimbal_yaw == pytest.approx(175.0)
    assert track.pose_at(1.5).gimbal_yaw == pytest.approx(-175.0)
    assert track.end_s == 3.0  # the last cue runs to 3 s
    assert track.pose_at(3.05).lat == 30.6  # the last reading holds; never extrapolated
    for t in (-0.5, 3.5, float("nan")):
        with pytest.raises(SrtError, match="outside the telemetry"):
            track.pose_at(t)


def test_bracket_variants_and_gimbal_keys() -> None:
    text = (
        "1\n00:00:00,000 --> 00:00:00,033\n<font size=\"28\">FrameCnt: 1, DiffTime: 33ms\n"
        "2023-04-01 10:00:00.100\n[iso: 100] [focal_len: 162.00] [latitude: 22.5] [longtitude: 114.0] "
        "[rel_alt: 50.000 abs_alt: 80.5] [gb_yaw: -51.6 gb_pitch: -28.4 gb_roll: 0.0] </font>\n"
    )
    s = parse_srt_text(text, "m30.srt").samples[0]
    assert (s.lat, s.lon, s.rel_alt_m, s.abs_alt_m) == (22.5, 114.0, 50.0, 80.5)
    assert (s.gimbal_yaw, s.gimbal_pitch, s.gimbal_roll) == (-51.6, -28.4, 0.0)
    assert s.focal_35mm == 162.0 and s.time == datetime(2023, 4, 1, 10, 0, 0, 100000)


def test_garbage_is_an_srt_error(tmp_path: Path) -> None:
    for content in (b"", b"\x00\x01\x02 not subtitles", b"1\n00:00:00,000 --> 00:00:01,000\nhello\n"):
        path = tmp_path / "x.SRT"
        path.write_bytes(content)
        with pytest.raises(SrtError):
            parse_srt(path)
    with pytest.raises(SrtError, match="file not found"):
        parse_srt(tmp_path / "missing.SRT")


def test_parse_interval() -> None:
    assert [parse_interval(t) for t in ("2s", "500ms", "1.5", "1m", " 3 S ")] == [2, 0.5, 1.5, 60, 3]
    for bad in ("", "0s", "fast", "-1s"):
        with pytest.raises(ValueError):
            parse_interval(bad)


# --------------------------------------------------------------------------- frames


def _video(path: Path, seconds: float, fps: int = 10, size: tuple[int, int] = (96, 64)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for i in range(int(seconds * fps)):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, : (i * 7) % size[0]] = (0, 160, 255)  # a moving edge, so frames differ
        writer.write(frame)
    writer.release()
    return path


def test_sample_frames_with_real_p4_rtk_telemetry(tmp_path: Path, srt_dir: Path) -> None:
    track = parse_srt(srt_dir / "p4_rtk.SRT")
    video = _video(tmp_path / "flight.avi", seconds=7)
    poses = sample_frames(video, track, 2.0, tmp_path / "out")
    assert [p.extra["video_t_s"] for p in poses] == [0.0, 2.0, 4.0, 6.0]
    lines = [json.loads(x) for x in (tmp_path / "out" / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    for pose, line in zip(poses, lines, strict=True):
        expected = track.pose_at(pose.extra["video_t_s"])
        assert (line["lat"], line["lon"], line["gimbal_pitch"]) == (expected.lat, expected.lon, expected.gimbal_pitch)
        assert (line["width"], line["height"]) == (96, 64)
        # Each frame is a photo in its own right: read_pose gets the same pose back.
        photo = read_pose(line["file"])
        assert photo.lat == pytest.approx(expected.lat, abs=1e-9) and photo.lon == pytest.approx(expected.lon, abs=1e-9)
        assert photo.rel_alt_m == pytest.approx(expected.rel_alt_m)
        assert photo.gimbal_yaw == pytest.approx(expected.gimbal_yaw)
        assert photo.flight_pitch == pytest.approx(expected.flight_pitch)
        assert (photo.width, photo.height) == (96, 64)


def _cli() -> typer.Typer:
    from heyan.commands import metadata as cmd

    app = typer.Typer()
    cmd.register(app)
    return app


def test_cli_frames(tmp_path: Path, srt_dir: Path) -> None:
    video = _video(tmp_path / "clip.avi", seconds=3.2)
    out = tmp_path / "frames"
    srt = srt_dir / "mavic_air2.srt"  # 0.416 s of telemetry at 60 Hz: frames past it are dropped
    args = ["frames", str(video), "--srt", str(srt), "--every", "100ms", "--out", str(out)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    assert [round(x["extra"]["video_t_s"], 3) for x in lines] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert all(Path(x["file"]).is_file() for x in lines)
    # Mavic Air 2 writes focal_len 240 (24 mm equivalent): a focal length for the frames.
    assert lines[0]["focal_px"] == pytest.approx(24 / 36 * 96) and lines[0]["focal_source"] == "srt_focal_35mm"
    assert lines[0]["abs_alt_m"] == 27.3


def test_cli_frames_errors(tmp_path: Path, srt_dir: Path) -> None:
    video = _video(tmp_path / "clip.avi", seconds=1)
    runner = CliRunner()
    no_srt = runner.invoke(_cli(), ["frames", str(video), "--out", str(tmp_path / "o")])
    assert no_srt.exit_code == 2 and "--srt" in no_srt.output
    no_gps = srt_dir / "mavic_air.SRT"
    bad = runner.invoke(_cli(), ["frames", str(video), "--srt", str(no_gps), "--out", str(tmp_path / "o")])
    assert bad.exit_code == 1 and "no GPS position" in bad.output
    not_video = runner.invoke(_cli(), ["frames", str(srt_dir / "p4_rtk.SRT"), "--srt", str(srt_dir / "p4_rtk.SRT"),
                                       "--out", str(tmp_path / "o")])
    assert not_video.exit_code == 1 and "cannot open video" in not_video.output
