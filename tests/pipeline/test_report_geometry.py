"""The report map's extent: the flight with a margin, aspect kept within what a page holds."""

from __future__ import annotations

import math

import pytest

from heyan.pipeline.report.geometry import (
    MAX_ASPECT,
    MIN_ASPECT,
    Canvas,
    Extent,
    LocalFrame,
    bounds,
    length_label,
    map_extent,
    nice_length,
)


def test_extent_is_the_flight_plus_margin_when_the_aspect_fits():
    flight = Extent(1000.0, 2000.0, 1400.0, 2300.0)  # 400 x 300 m
    e = map_extent(flight, margin_fraction=0.05, min_margin_m=10)
    assert e == Extent(980.0, 1980.0, 1420.0, 2320.0)


def test_margin_has_a_floor():
    e = map_extent(Extent(0.0, 0.0, 100.0, 80.0), margin_fraction=0.05, min_margin_m=25)
    assert e == Extent(-25.0, -25.0, 125.0, 105.0)


@pytest.mark.parametrize("flight", [Extent(0.0, 0.0, 2000.0, 100.0), Extent(0.0, 0.0, 60.0, 3000.0)])
def test_a_thin_flight_is_widened_about_its_centre_in_its_short_direction_only(flight):
    e = map_extent(flight, margin_fraction=0.05, min_margin_m=10)
    m = 0.05 * max(flight.width, flight.height)
    grown = Extent(flight.x0 - m, flight.y0 - m, flight.x1 + m, flight.y1 + m)
    assert e.contains(grown)
    assert MIN_ASPECT - 1e-9 <= e.height / e.width <= MAX_ASPECT + 1e-9
    if flight.width > flight.height:  # the long side is exactly the flight with its margin
        assert (e.x0, e.x1) == pytest.approx((grown.x0, grown.x1))
        assert (e.y0 + e.y1) / 2 == pytest.approx((flight.y0 + flight.y1) / 2)
    else:
        assert (e.y0, e.y1) == pytest.approx((grown.y0, grown.y1))
        assert (e.x0 + e.x1) / 2 == pytest.approx((flight.x0 + flight.x1) / 2)


def test_a_single_point_gets_a_square_around_it():
    e = map_extent(Extent(5.0, 7.0, 5.0, 7.0), min_margin_m=25)
    assert e == Extent(-20.0, -18.0, 30.0, 32.0)


def test_bounds_skip_non_finite_points_and_empty_is_none():
    assert bounds([]) is None
    assert bounds([(1.0, 2.0), (float("nan"), 0.0), (3.0, -1.0)]) == Extent(1.0, -1.0, 3.0, 2.0)


def test_local_frame_is_metric_and_north_is_near_up():
    f = LocalFrame(120.0, 30.5)
    assert f.epsg == 32651
    x0, y0 = f.xy(120.0, 30.5)
    x1, y1 = f.xy(120.0, 30.5 + 1 / 111_000 * 100)  # ~100 m north
    assert y1 - y0 == pytest.approx(100, rel=0.02)
    # 120 E is the west edge of zone 51: grid north is ~1.5 deg off true north there, and
    # the north arrow says so.
    assert f.north_deg == pytest.approx(math.degrees(math.atan2(x1 - x0, y1 - y0)), abs=0.05)
    assert 1.0 < abs(f.north_deg) < 2.0


def test_canvas_keeps_the_aspect_and_puts_north_up():
    c = Canvas(Extent(0.0, 0.0, 400.0, 200.0), 1000.0)
    assert c.height == pytest.approx(500.0)
    assert c.px(0.0, 200.0) == (0.0, 0.0) and c.px(400.0, 0.0) == (1000.0, 500.0)


def test_scale_bar_lengths():
    assert [nice_length(v) for v in (0.7, 9.9, 37, 180, 4321)] == [0.5, 5, 20, 100, 2000]
    assert length_label(50) == "50 m" and length_label(2000) == "2 km"
