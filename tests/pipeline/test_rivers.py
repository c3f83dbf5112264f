"""River network: schema validation, locate (chainage, bank, zones, mining areas), plain
centreline files, zone helpers and speed."""

from __future__ import annotations

import json
import math
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from heyan.pipeline.geo.rivers import Place, RiverNetwork, RiverNetworkError, load_network
from heyan.pipeline.geo.utm import LocalFrame

ROOT = Path(__file__).resolve().parents[2]
LON0, LAT0 = 120.0, 30.5  # Zhejiang
F = LocalFrame(LON0, LAT0)


def ll(e: float, n: float) -> list[float]:
    """Local metres east/north of (30.5 N, 120.0 E) -> [lon, lat]."""
    lon, lat = F.enu_to_lonlat(np.array(e, float), np.array(n, float))
    return [float(lon), float(lat)]


def lat_lon(e: float, n: float) -> tuple[float, float]:
    lon, lat = ll(e, n)
    return lat, lon


def feat(props: dict, geom: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geom}


def line(*pts: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [ll(*p) for p in pts]}


def rect(e0: float, n0: float, e1: float, n1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[ll(e0, n0), ll(e1, n0), ll(e1, n1), ll(e0, n1), ll(e0, n0)]]}


def segment(sid: str, geom: dict, river: str = "东苕溪", **props) -> dict:
    chiefs = props.pop("chiefs", {"county": {"name": "王某某", "phone": "0571-00000001", "department": "区水利局"},
                                  "village": "赵某某"})
    return feat({"kind": "segment", "id": sid, "name": f"{river}{sid}段", "river": river, "chiefs": chiefs,
                 **props}, geom)


def fc(*features: dict, **extra) -> dict:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def net(*features: dict, **extra) -> RiverNetwork:
    return RiverNetwork.from_geojson(fc(*features, **extra))


def locate(n: RiverNetwork, e: float, nn: float, **kw) -> Place | None:
    return n.locate_one(*lat_lon(e, nn), **kw)


# A straight river flowing north, 2 km, 40 m wide, zone 30 m left / 60 m right of the water.
def north_river(**props) -> dict:
    props.setdefault("buffer_m", {"left": 30, "right": 60})
    props.setdefault("width_m", 40)
    return segment("S1", line((0, -1000), (0, 1000)), **props)


# --------------------------------------------------------------------------- geometry


def test_chainage_distance_and_bank_on_a_river_flowing_north():
    n = net(north_river())
    assert n.warnings == []
    right = locate(n, 30, 200)
    left = locate(n, -30, 200)
    assert right.segment_id == left.segment_id == "S1"
    assert right.chainage_km == pytest.approx(1.2, abs=0.003)
    assert right.distance_m == pytest.approx(30, abs=0.01)  # ground metres, not UTM grid metres
    # Facing downstream (north), east is on the right hand: 右岸.
    assert (right.bank, right.bank_zh) == ("right", "右岸")
    assert (left.bank, left.bank_zh) == ("left", "左岸")
    assert right.chiefs.county.name == "王某某" and right.chiefs.village.name == "赵某某"
    assert right.chiefs.first_responsible()[0] == "village"
    on_line = locate(n, 0, -500)
    assert on_line.bank is None and on_line.distance_m < 0.05
    assert on_line.chainage_km == pytest.approx(0.5, abs=0.003)
    # Beyond the downstream end: chainage is the full length, distance to the end point.
    past = locate(n, 0, 1100)
    assert past.chainage_km == pytest.approx(2.0, abs=0.005) and past.distance_m == pytest.approx(100, rel=0.01)


def test_bank_flips_with_drawing_direction():
    east = net(segment("E", line((-1000, 0), (1000, 0)), buffer_m=50))
    west = net(segment("W", line((1000, 0), (-1000, 0)), buffer_m=50))
    # River flowing east: north is on the left; drawn the other way, it is on the right.
    assert locate(east, 100, 20).bank == "left"
    assert locate(east, 100, -20).bank == "right"
    assert locate(west, 100, 20).bank == "right"
    assert locate(west, 100, 20).chainage_km == pytest.approx(0.9, abs=0.003)


def test_bank_at_a_bend_including_the_outside_corner():
    # North 500 m, then a right turn to the east.
    n = net(segment("B", line((0, 0), (0, 500), (500, 500)), buffer_m=100))
    assert locate(n, -20, 520).bank == "left"  # outside corner (nearest point: the vertex)
    assert locate(n, -5, 560).bank == "left"
    assert locate(n, 20, 480).bank == "right"  # inside corner
    assert locate(n, 200, 540).bank == "left"  # after the bend: north of an eastward river
    assert locate(n, 200, 460).bank == "right"
    p = locate(n, 200, 540)
    assert p.chainage_km == pytest.approx(0.7, abs=0.003)


def test_nearest_of_several_segments_and_along_river_chainage():
    s1 = segment("S1", line((0, 0), (0, 1000)))
    s2 = segment("S2", line((0, 1000), (0, 3000)))
    other = segment("T1", line((500, 0), (500, 1000)), river="西溪")
    explicit = segment("T2", line((500, 1500), (500, 2500)), river="西溪", river_start_km=12.5)
    n = net(s1, s2, other, explicit)
    p = locate(n, 10, 1500)
    assert p.segment_id == "S2" and p.chainage_km == pytest.approx(0.5, abs=0.003)
    assert p.river_km == pytest.approx(1.5, abs=0.005)  # S2 starts where S1 ends
    q = locate(n, 490, 500)
    assert q.segment_id == "T1" and q.river == "西溪" and q.river_km == pytest.approx(0.5, abs=0.003)
    r = locate(n, 510, 2000)
    assert r.segment_id == "T2" and r.river_km == pytest.approx(13.0, abs=0.003)


def test_zone_by_buffer_per_bank_and_water_band():
    n = net(north_river())  # water 20 m each side; zone: +30 m left, +60 m right of the water
    assert [locate(n, e, 0).in_zone for e in (-45, -55, 75, 85)] == [True, False, True, False]
    assert locate(n, 15, 0).on_water is True
    assert locate(n, -25, 0).on_water is False
    # Without width_m, buffers are from the centreline and water is unknown.
    m = net(segment("S1", line((0, -1000), (0, 1000)), buffer_m={"left": 20, "right": 60}))
    assert [locate(m, e, 0).in_zone for e in (-15, -25, 55, 65)] == [True, False, True, False]
    assert locate(m, 5, 0).on_water is None


def test_default_buffer_with_warning():
    n = net(segment("S1", line((0, -1000), (0, 1000))), network={"default_buffer_m": 40})
    assert any("default 40 m" in w for w in n.warnings)
    assert locate(n, 35, 0).in_zone and not locate(n, 45, 0).in_zone


def test_zone_polygon_wins_over_buffer_and_water_polygon():
    n = net(
        north_river(),
        feat({"kind": "zone", "id": "Z1", "zone_type": "management", "segment_id": "S1"}, rect(0, -1000, 100, 1000)),
        feat({"kind": "zone", "id": "W1", "zone_type": "water", "segment_id": "S1"}, rect(-10, -1000, 10, 1000)),
    )
    assert any("use the polygon" in w for w in n.warnings)
    assert locate(n, -5, 0).in_zone is False  # west of the polygon, although within buffer_m
    assert locate(n, 90, 0).in_zone is True
    # The water polygon (20 m wide) beats the 40 m width band.
    assert locate(n, 5, 0).on_water is True
    assert locate(n, 15, 0).on_water is True  # still within width_m / 2
    bare = net(segment("S1", line((0, -1000), (0, 1000)), buffer_m=50),
               feat({"kind": "zone", "id": "W1", "zone_type": "water"}, rect(-10, -1000, 10, 1000)))
    assert locate(bare, 5, 0).on_water is True
    assert locate(bare, 15, 0).on_water is False  # the water polygon touches the segment: known dry


def test_untagged_management_polygon_covers_segments():
    n = net(segment("S1", line((0, -1000), (0, 1000))),
            feat({"kind": "zone", "id": "Z", "zone_type": "management"}, rect(-200, -1000, 200, 1000)))
    assert not any("default" in w for w in n.warnings)
    assert locate(n, 150, 0).in_zone and not locate(n, 250, 0).in_zone
    assert set(n.zone_polygons_lonlat()) == {"S1"}


def test_mining_areas_closed_seasons_outfalls_structures():
    n = net(
        north_river(),
        segment("S2", line((3000, -1000), (3000, 1000)), river="西溪", buffer_m=50),
        feat({"kind": "mining_area", "id": "KC-01", "name": "可采区一", "area_type": "permitted",
              "permit_no": "浙采砂〔2025〕001号", "permit_start": "2025-10-16", "permit_end": "2026-04-14"},
             rect(-20, -600, 20, -400)),
        feat({"kind": "mining_area", "id": "JC-01", "area_type": "prohibited"}, rect(-20, -500, 20, 0)),
        feat({"kind": "closed_season", "id": "flood", "start": "04-15", "end": "10-15"}, None),
        feat({"kind": "closed_season", "id": "winter", "start": "12-01", "end": "02-28", "segment_ids": ["S2"]}, None),
        feat({"kind": "closed_season", "id": "local", "start": "03-01", "end": "03-31"}, rect(-100, 500, 100, 900)),
        feat({"kind": "outfall", "id": "PK-1", "outfall_type": "rain"}, {"type": "Point", "coordinates": ll(-25, 300)}),
        feat({"kind": "registered_structure", "id": "JZ-1", "name": "泵站"},
             {"type": "Point", "coordinates": ll(40, 700)}),
        feat({"kind": "registered_structure", "id": "JZ-2"}, rect(30, -300, 60, -250)),
    )
    assert n.warnings == []
    both = locate(n, 0, -450)
    assert both.mining_area_ids == ("KC-01", "JC-01") and both.prohibited_area
    permitted = locate(n, 0, -550)
    assert permitted.mining_area_ids == ("KC-01",) and not permitted.prohibited_area
    area = permitted.permitted_areas[0]
    assert area.permit_no == "浙采砂〔2025〕001号"
    assert area.permit_valid_on(date(2026, 1, 1)) and not area.permit_valid_on(date(2026, 4, 15))
    assert locate(n, 0, 100).mining_area_ids == ()

    p = locate(n, 0, 0)
    assert [s.id for s in p.closed_seasons] == ["flood"]
    assert p.closed_season_on(date(2025, 7, 1)).id == "flood"
    assert p.closed_season_on(date(2025, 4, 14)) is None and p.closed_season_on(date(2025, 10, 15)).id == "flood"
    q = locate(n, 3010, 0)
    assert [s.id for s in q.closed_seasons] == ["flood", "winter"]
    assert q.closed_season_on(date(2026, 1, 10)).id == "winter"  # wraps over New Year
    assert q.closed_season_on(date(2025, 11, 30)) is None
    assert [s.id for s in locate(n, 0, 700).closed_seasons] == ["flood", "local"]

    o = locate(n, -20, 300)
    assert o.outfall_id == "PK-1" and o.outfall_distance_m == pytest.approx(5, abs=0.1)
    s = locate(n, 45, 700)
    assert s.registered_structure_id == "JZ-1" and s.registered_structure_distance_m == pytest.approx(5, abs=0.1)
    inside = locate(n, 45, -280)
    assert inside.registered_structure_id == "JZ-2" and inside.registered_structure_distance_m == 0
    assert locate(n, -30, 0).registered_structure_id is None  # nothing within 100 m
    json.dumps(s.to_dict(), ensure_ascii=False)


def test_too_far_and_bad_points_give_none():
    n = net(north_river())
    lat, lon = zip(*(lat_lon(e, 0) for e in (100, 499, 501, 5000)))
    got = n.locate(np.array(lat), np.array(lon), max_distance_m=500)
    assert [g is not None for g in got] == [True, True, False, False]
    assert n.locate([float("nan"), 95.0], [120.0, 120.0]) == [None, None]
    assert n.locate([], []) == []
    with pytest.raises(ValueError):
        n.locate([30.5, 30.6], [120.0])


def test_zone_union_footprints_and_bbox():
    n = net(north_river())
    zone = n.zone_union_lonlat()
    near = Polygon([ll(50, 0), ll(150, 0), ll(150, 100), ll(50, 100)])
    far = Polygon([ll(400, 0), ll(500, 0), ll(500, 100), ll(400, 100)])
    assert zone.intersects(near) and not zone.intersects(far)
    assert n.intersects_zone(near) and not n.intersects_zone(far)
    assert n.intersects_zone(far, margin_m=350)
    minx, miny, maxx, maxy = n.segment_bbox("S1")
    assert box(minx, miny, maxx, maxy).contains(n.segment("S1").line)
    assert maxx - minx == pytest.approx(130 / (111_320 * math.cos(math.radians(30.5))), rel=0.02)  # 20+60 + 20+30
    assert n.segment_bbox("S1", with_zone=False)[0] == pytest.approx(LON0, abs=1e-6)


# --------------------------------------------------------------------------- validation


def _errors(data: dict) -> list[str]:
    with pytest.raises(RiverNetworkError) as exc:
        RiverNetwork.from_geojson(data, source="bad.geojson")
    assert str(exc.value).startswith("bad.geojson: ")
    return exc.value.errors


def test_validation_names_feature_and_field_and_collects_all():
    good = north_river()
    bad_seg = segment("S2", line((0, 0), (10, 10)), chiefs={"county": {"name": "王", "phone": "call me"},
                                                         "province": "x"})
    del bad_seg["properties"]["river"]
    swapped = segment("S3", {"type": "LineString", "coordinates": [[30.5, 120.0], [30.6, 120.1]]})
    projected = segment("S4", {"type": "LineString", "coordinates": [[500000, 3375000], [500100, 3375100]]})
    errors = _errors(fc(
        good,
        bad_seg,
        feat({"kind": "mining_area", "id": "KC-01", "area_type": "permitted", "permit_no": "1",
              "permit_start": "2025-13-01"}, rect(0, 0, 10, 10)),
        feat({"kind": "mining_area", "id": "KC-02", "area_type": "maybe"}, rect(0, 0, 10, 10)),
        feat({"kind": "closed_season", "id": "C1", "start": "4-15", "end": "02-30", "segment_ids": ["nope"]}, None),
        feat({"kind": "outfall", "id": "PK-1", "outfall_type": "storm", "segment_id": "S9"},
             {"type": "Point", "coordinates": ll(0, 0)}),
        feat({"kind": "outfall", "id": "S1", "outfall_type": "rain"}, rect(0, 0, 1, 1)),
        feat({"kind": "lake", "id": "L1"}, None),
        feat({"id": "X"}, None),
        swapped,
        projected,
        feat({"kind": "zone", "id": "Z1", "zone_type": "management"}, None),
    ))
    text = "\n".join(errors)
    expect = [
        r"features\[1\] \(id 'S2', segment\): properties.river: required, missing",
        r"features\[1\] \(id 'S2', segment\): properties.chiefs.county.phone: 'call me' does not look like a phone",
        r"features\[1\] \(id 'S2', segment\): properties.chiefs.province: unknown level",
        r"features\[2\] \(id 'KC-01', mining_area\): properties.permit_start: '2025-13-01' is not a date",
        r"features\[2\] \(id 'KC-01', mining_area\): properties.permit_end: required for a permitted area",
        r"features\[3\] \(id 'KC-02', mining_area\): properties.area_type: 'maybe' is not one of permitted, prohibited",
        r"features\[4\] \(id 'C1', closed_season\): properties.start: '4-15' is not a month-day",
        r"features\[4\] \(id 'C1', closed_season\): properties.end: '02-30' is not a month-day",
        r"features\[5\] \(id 'PK-1', outfall\): properties.outfall_type: 'storm' is not one of rain, sewage, mixed",
        r"features\[6\] \(id 'S1', outfall\): properties.id: duplicate id 'S1' \(also features\[0\]\)",
        r"features\[6\] \(id 'S1', outfall\): geometry.type: 'Polygon' not allowed here \(expected Point\)",
        r"features\[7\] \(id 'L1', lake\): properties.kind: 'lake' is not one of segment, ",
        r"features\[8\] \(id 'X'\): properties.kind: required, missing",
        r"features\[9\] \(id 'S3', segment\): geometry.coordinates: .*lon/lat.*\[longitude, latitude\]",
        r"features\[10\] \(id 'S4', segment\): geometry.coordinates: .*looks projected",
        r"features\[11\] \(id 'Z1', zone\): geometry: required, missing",
    ]
    for pattern in expect:
        assert re.search(pattern, text), f"missing {pattern!r} in:\n{text}"
    # Reference errors need the features themselves to parse; a second file checks them.
    ref_errors = _errors(fc(
        good,
        feat({"kind": "outfall", "id": "PK-1", "outfall_type": "rain", "segment_id": "S9"},
             {"type": "Point", "coordinates": ll(0, 0)}),
        feat({"kind": "closed_season", "id": "C1", "start": "04-15", "end": "06-30", "segment_ids": ["nope"],
              "rivers": ["黄河"]}, None),
    ))
    assert ref_errors == [
        "features[1] (id 'PK-1', outfall): properties.segment_id: no segment 'S9'",
        "features[2] (id 'C1', closed_season): properties.segment_ids: no segment 'nope'",
        "features[2] (id 'C1', closed_season): properties.rivers: no segment on river '黄河'",
    ]


def test_validation_of_collection_level_problems():
    assert _errors({"type": "Feature"})[0].startswith("type: expected a GeoJSON FeatureCollection")
    assert "no segment" in _errors(fc(feat({"kind": "outfall", "id": "P", "outfall_type": "rain"},
                                          {"type": "Point", "coordinates": ll(0, 0)})))[0]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32651"}}
    assert any(e.startswith("crs: ") for e in _errors(fc(north_river(), crs=crs)))
    ok = fc(north_river(), crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}})
    assert RiverNetwork.from_geojson(ok).segments[0].id == "S1"
    assert "network.default_buffer_m" in _errors(fc(north_river(), network={"default_buffer_m": -3}))[0]


def test_invalid_polygon_is_repaired_with_a_warning():
    bowtie = {"type": "Polygon", "coordinates": [[ll(-50, -50), ll(50, 50), ll(50, -50), ll(-50, 50), ll(-50, -50)]]}
    n = net(north_river(), feat({"kind": "mining_area", "id": "JC-9", "area_type": "prohibited"}, bowtie))
    assert any("features[1] (id 'JC-9', mining_area): geometry: invalid polygon" in w for w in n.warnings)
    assert locate(n, 30, 0).prohibited_area and not locate(n, 0, 30).prohibited_area


def test_load_network_file_errors(tmp_path: Path):
    p = tmp_path / "net.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(RiverNetworkError, match=r"(?s)net.geojson: .*not valid JSON: line 1 column 44"):
        load_network(p)
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(fc(north_river()), ensure_ascii=False).encode())  # BOM
    assert load_network(p).segments[0].river == "东苕溪"


# --------------------------------------------------------------------------- plain files, docs


def test_plain_centreline_features_get_defaults_and_warnings():
    data = fc(
        {"type": "Feature", "properties": {"name": "Qiantang", "name_zh": "钱塘江"}, "geometry": line((0, 0), (0, 900))},
        {"type": "Feature", "properties": {}, "geometry": {"type": "MultiLineString", "coordinates": [
            [ll(500, 0), ll(500, 400)], [ll(500, 400), ll(500, 900)]]}},
        {"type": "Feature", "properties": {"name": "gauge"}, "geometry": {"type": "Point", "coordinates": ll(9, 9)}},
    )
    n = RiverNetwork.from_geojson(data)
    assert n.plain and [s.id for s in n.segments] == ["seg-000", "seg-001"]
    assert n.segments[0].river == "钱塘江" and n.segments[0].chiefs.is_empty()
    assert n.segments[1].line.geom_type == "LineString"  # parts merged, direction kept
    text = "\n".join(n.warnings)
    assert "plain centreline file" in text and "no river chiefs" in text and "50 m per bank" in text
    assert "1 non-line feature(s) ignored" in text
    assert locate(n, 45, 100).in_zone and not locate(n, 55, 100).in_zone


def test_natural_earth_china_file_loads_with_warnings(mk):
    path = mk.data_dir("rivers-geojson") / "ne_50m_rivers_china_bbox.geojson"
    n = load_network(path)
    assert len(n.segments) == 80 and n.plain
    assert any("plain centreline file" in w and "80 line feature" in w for w in n.warnings)
    assert any("stretched" in w for w in n.warnings)  # 67..141 E in one UTM zone
    rivers = {s.river for s in n.segments}
    assert {"长江", "黄河", "赣江"} <= rivers
    # Wuhan, on the Yangtze (km-scale data: the 1:50m line is hundreds of metres off).
    p = n.locate_one(30.58, 114.29, max_distance_m=5000)
    assert p is not None and p.river == "长江"
    assert p.river_km > 1000  # chained after the upper 长江 feature
    assert n.locate_one(30.58, 114.29, max_distance_m=10) is None


def _docs_example() -> dict:
    doc = (ROOT / "docs" / "rivers.md").read_text(encoding="utf-8")
    m = re.search(r"## Example.*?```json\n(.*?)```", doc, re.S)
    assert m, "docs/rivers.md has no ```json example"
    return json.loads(m.group(1))


def test_docs_example_loads_cleanly_and_matches_the_json_schema():
    data = _docs_example()
    n = RiverNetwork.from_geojson(data)
    assert n.warnings == [] and n.name == "余杭区河长办 示例河网"
    p = n.locate_one(30.4865, 119.990)
    assert p.segment_id == "DTX-01" and p.mining_area_ids == ("KC-01",) and p.on_water
    q = n.locate_one(30.506, 119.9975)
    assert q.segment_id == "DTX-02" and q.river_km == pytest.approx(2.218 + q.chainage_km, abs=0.01)

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "pipeline" / "schemas" / "rivers.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    assert list(validator.iter_errors(data)) == []
    bad = json.loads(json.dumps(data))
    bad["features"][4]["properties"].pop("permit_end")  # a permitted area without its period
    bad["features"][7]["properties"]["outfall_type"] = "storm"
    assert len(list(validator.iter_errors(bad))) >= 2
    with pytest.raises(RiverNetworkError):
        RiverNetwork.from_geojson(bad)


# --------------------------------------------------------------------------- speed


def test_locate_10000_points_is_fast():
    rng = np.random.default_rng(7)
    feats = []
    for k in range(40):  # 40 meandering segments, 5 km each, in a 20 x 20 km county
        n0 = -10_000 + k * 500
        t = np.linspace(0, 5000, 60)
        pts = [(float(-10_000 + (k % 4) * 5000 + x), float(n0 + 150 * math.sin(x / 400))) for x in t]
        feats.append(segment(f"R{k:02d}", line(*pts), river=f"河{k // 4}", buffer_m=50, width_m=30))
    feats.append(feat({"kind": "mining_area", "id": "JC", "area_type": "prohibited"}, rect(-2000, -2000, 2000, 2000)))
    n = net(*feats)
    e = rng.uniform(-10_000, 10_000, 10_000)
    nn = rng.uniform(-10_000, 10_000, 10_000)
    lon, lat = F.enu_to_lonlat(e, nn)
    t0 = time.perf_counter()
    places = n.locate(lat, lon, max_distance_m=1000)
    dt = time.perf_counter() - t0
    print(f"\nlocate: 10,000 points in {dt:.3f} s ({sum(p is not None for p in places)} placed)")
    assert dt < 10
    assert sum(p is not None for p in places) > 5000


def test_long_chain_of_segments_and_a_loop():
    # 1,500 segments of 20 m, listed downstream-last-first: chaining must not recurse.
    k = 1500
    segs = [segment(f"C{i:04d}", line((0, 20 * i), (0, 20 * (i + 1))), buffer_m=10) for i in reversed(range(k))]
    t0 = time.perf_counter()
    n = net(*segs)
    print(f"\nbuild: {k} segments in {time.perf_counter() - t0:.2f} s")
    p = locate(n, 3, 20 * (k - 1) + 10)
    assert p.segment_id == f"C{k - 1:04d}" and p.river_km == pytest.approx(20 * k / 1000 - 0.01, abs=0.002)
    loop = net(segment("A", line((0, 0), (0, 100))), segment("B", line((0, 100), (100, 100))),
               segment("C", line((100, 100), (0, 0))))
    assert any("loop" in w for w in loop.warnings)
    assert locate(loop, 50, 95).segment_id == "B"
