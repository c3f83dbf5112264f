"""River network problems as data (pipeline.geo.rivers_problems): every message the validator
writes for a bad feature gets a code, its feature index, id and field."""

from __future__ import annotations

from typing import Any

import pytest

from heyan.pipeline.geo.rivers_problems import CODES, problem
from heyan.pipeline.geo.rivers_schema import RiverNetworkError, parse_network


def feat(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


LINE = {"type": "LineString", "coordinates": [[120.1, 30.2], [120.11, 30.21]]}
POLY = {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.11, 30.2], [120.11, 30.21], [120.1, 30.2]]]}
BAD_FEATURES = [
    feat({"kind": "segment", "id": "s1", "name": "段一", "river": "河"}, LINE),
    feat({"kind": "segment", "id": "s1", "name": "", "river": 5, "width_m": "wide", "buffer_m": -3,
          "chiefs": {"village": {"name": "张三", "phone": "call me"}, "province": "李四"}}, LINE),
    feat({"kind": "segment", "id": "s3", "name": "n", "river": "r"}, {"type": "Point", "coordinates": [120.1, 30.2]}),
    feat({"kind": "segment", "id": "s4", "name": "n", "river": "r"},
         {"type": "LineString", "coordinates": [[500000, 3340000], [500100, 3340100]]}),
    feat({"kind": "segment", "id": "s5", "name": "n", "river": "r"},
         {"type": "LineString", "coordinates": [[30.2, 120.1], [30.21, 120.11]]}),
    feat({"kind": "segment", "id": "s6", "name": "n", "river": "r"},
         {"type": "LineString", "coordinates": [[120.1, 30.2], [120.1, 30.2]]}),
    feat({"kind": "mining_area", "id": "m1", "area_type": "permitted", "permit_start": "2026-06-01",
          "permit_end": "2020-01-01", "permit_no": "P-1"}, POLY),
    feat({"kind": "mining_area", "id": "m2", "area_type": "prohibited", "permit_start": "2026-13-01"}, POLY),
    feat({"kind": "closed_season", "id": "c1", "start": "13-40", "end": "06-30", "segment_ids": "s1"}, None),
    feat({"kind": "outfall", "id": "o1", "outfall_type": "volcano", "segment_id": "nope"},
         {"type": "Point", "coordinates": [120.1, 30.2]}),
    feat({"kind": "castle", "id": "x"}, None),
    feat({"kind": "zone"}, None),
    "not a feature",
]


def test_every_validator_message_gets_a_code() -> None:
    with pytest.raises(RiverNetworkError) as exc:
        parse_network({"type": "FeatureCollection", "crs": {"properties": {"name": "EPSG:3857"}},
                       "features": BAD_FEATURES})
    problems = [problem(line) for line in exc.value.errors]
    assert len(problems) >= 20
    uncoded = [p.message for p in problems if p.code == "other"]
    assert not uncoded, uncoded
    assert all(p.code in CODES for p in problems)
    codes = {p.code for p in problems}
    assert {"duplicate_id", "empty", "not_text", "not_number", "out_of_range", "bad_phone", "unknown_key",
            "geometry_type", "projected", "not_lonlat", "zero_length", "bad_date", "date_order", "bad_month_day",
            "not_list", "bad_value", "missing", "not_feature", "bad_crs"} <= codes
    dup = next(p for p in problems if p.code == "duplicate_id")
    assert (dup.index, dup.feature_id, dup.kind, dup.field) == (1, "s1", "segment", "properties.id")
    assert next(p for p in problems if p.code == "not_feature").index == len(BAD_FEATURES) - 1


def test_whole_file_problems_have_no_feature() -> None:
    for data, code in (({"type": "Feature"}, "not_feature_collection"),
                       ({"type": "FeatureCollection", "features": []}, "no_segment")):
        with pytest.raises(RiverNetworkError) as exc:
            parse_network(data)
        p = problem(exc.value.errors[0])
        assert (p.code, p.index) == (code, None)
