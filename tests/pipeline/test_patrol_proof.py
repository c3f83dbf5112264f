"""Pure 巡河 figures (pipeline.geo.patrol) and rectification proof (pipeline.tickets.proof)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import LineString

from heyan.pipeline.geo.patrol import PatrolLimits, TrackPoint, patrol_figures
from heyan.pipeline.tickets.proof import PhotoFacts, check_proof, ground_distance_m, photo_facts

# A straight 1.1 km segment running north at 120 E (0.01 deg of latitude ~ 1109 m).
SEG = LineString([(120.0, 30.0), (120.0, 30.01)])
T0 = 1_760_000_000_000.0


def walk(lat0: float, lat1: float, seconds: float, lon: float = 120.0, step_s: float = 5.0) -> list[TrackPoint]:
    n = int(seconds / step_s) + 1
    return [TrackPoint(T0 + i * step_s * 1000, lat0 + (lat1 - lat0) * i / (n - 1), lon, 5.0) for i in range(n)]


def test_walking_the_whole_segment_covers_it() -> None:
    f = patrol_figures(walk(30.0, 30.01, 900), SEG)  # 1.1 km in 15 min: 4.4 km/h
    assert f.plausible and f.flags == ()
    assert f.length_m == pytest.approx(1109, rel=0.01)
    assert f.duration_s == 900
    assert f.coverage > 0.99 and f.near_river == 1.0
    assert 4.0 < f.max_speed_kmh < 5.0


def test_half_the_segment_covers_half() -> None:
    f = patrol_figures(walk(30.0, 30.005, 450), SEG)
    assert f.plausible
    assert f.coverage == pytest.approx(0.5 + 100 / 1109, abs=0.02)  # plus the near_m reach beyond the end


def test_driving_jumping_and_staying_away_are_flagged() -> None:
    car = patrol_figures(walk(30.0, 30.01, 40), SEG)  # 1.1 km in 40 s: 100 km/h
    assert "too_fast" in car.flags and not car.plausible
    pts = walk(30.0, 30.002, 120) + [TrackPoint(T0 + 200_000, 30.009, 120.0), TrackPoint(T0 + 260_000, 30.0091, 120.0)]
    jumped = patrol_figures(pts, SEG, PatrolLimits(max_jump_m=500))
    assert "jump" in jumped.flags
    assert jumped.coverage < 0.5  # the straight line across the jump passed nothing
    away = patrol_figures(walk(30.0, 30.01, 900, lon=120.01), SEG)  # ~960 m east, parallel
    assert away.flags == ("never_near_river",) and away.coverage == 0 and away.near_river == 0


def test_one_point_is_too_few() -> None:
    f = patrol_figures([TrackPoint(T0, 30.0, 120.0)], SEG)
    assert f.flags == ("too_few_points",) and f.length_m == 0


def test_a_wobbling_fix_standing_still_is_not_fast() -> None:
    pts = [TrackPoint(T0 + i * 1000, 30.0 + (1e-4 if i % 2 else 0), 120.0) for i in range(60)]  # 11 m jitter every second
    f = patrol_figures(pts, SEG)
    assert "too_fast" not in f.flags


DISPATCH = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_proof_of_a_fresh_photo_on_site() -> None:
    ok = PhotoFacts(DISPATCH + timedelta(days=1), 30.5001, 120.0)
    assert check_proof(ok, DISPATCH, 30.5, 120.0, 300) == []


def test_proof_problems_are_named() -> None:
    old = PhotoFacts(DISPATCH - timedelta(days=365), 30.51, 120.0)  # a year old, 1.1 km away
    codes = [p.code for p in check_proof(old, DISPATCH, 30.5, 120.0, 300)]
    assert codes == ["proof_before_dispatch", "proof_too_far"]
    bare = [p.code for p in check_proof(PhotoFacts(), DISPATCH, 30.5, 120.0, 300)]
    assert bare == ["proof_no_time", "proof_no_position"]
    # A few minutes of clock drift is not an old photo.
    assert check_proof(PhotoFacts(DISPATCH - timedelta(minutes=3), 30.5, 120.0), DISPATCH, 30.5, 120.0, 300) == []


def test_ground_distance() -> None:
    assert ground_distance_m(30.0, 120.0, 30.01, 120.0) == pytest.approx(1111.9, rel=0.003)


def test_photo_facts_read_exif(tmp_path: Path) -> None:
    from support.phone_photos import phone_jpeg

    p = tmp_path / "a.jpg"
    p.write_bytes(phone_jpeg(30.5, 120.25, datetime(2026, 12, 2, 10, 30)))  # the phone's local clock: Beijing
    f = photo_facts(p)
    assert f.taken_at == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    assert f.lat == pytest.approx(30.5) and f.lon == pytest.approx(120.25)
    png = tmp_path / "b.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    assert photo_facts(png) == PhotoFacts()
