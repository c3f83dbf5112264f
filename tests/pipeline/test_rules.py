"""Rules: class + place + time -> category, with the rule id and reason; YAML validation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml

from heyan.pipeline.geo.rivers import Place, RiverNetwork
from heyan.pipeline.geo.rivers_schema import Chiefs
from heyan.pipeline.geo.utm import LocalFrame
from heyan.pipeline.tickets.finds import Find
from heyan.pipeline.tickets.rules import DEFAULT_RULES_PATH, RulesError, RuleSet, evaluate, load_rules, rules_from_dict

F = LocalFrame(120.0, 30.5)
CST = timezone(timedelta(hours=8))
SUMMER = datetime(2025, 7, 1, 10, 0, tzinfo=CST)  # inside the flood-season 禁采期 04-15..10-15
WINTER = datetime(2026, 1, 10, 10, 0, tzinfo=CST)  # inside the permit period, no closed season


def ll(e: float, n: float) -> list[float]:
    lon, lat = F.enu_to_lonlat(np.array(e, float), np.array(n, float))
    return [float(lon), float(lat)]


def feat(props: dict, geom: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geom}


def rect(e0: float, n0: float, e1: float, n1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[ll(e0, n0), ll(e1, n0), ll(e1, n1), ll(e0, n1), ll(e0, n0)]]}


@pytest.fixture(scope="module")
def network() -> RiverNetwork:
    """A river flowing north, 40 m of water, zone 50 m beyond each bank; a permitted area at
    n = -600..-400 (permit 2025-10-16..2026-04-14), a prohibited area at n = 0..200, the
    flood season 04-15..10-15 closed, a registered pump house at (45, 700)."""
    return RiverNetwork.from_geojson({"type": "FeatureCollection", "features": [
        feat({"kind": "segment", "id": "S1", "name": "东苕溪瓶窑段", "river": "东苕溪",
              "chiefs": {"village": "赵某某"}, "buffer_m": 50, "width_m": 40},
             {"type": "LineString", "coordinates": [ll(0, -1000), ll(0, 1000)]}),
        feat({"kind": "mining_area", "id": "KC-01", "name": "瓶窑可采区", "area_type": "permitted",
              "permit_no": "浙采砂〔2025〕001号", "permit_start": "2025-10-16", "permit_end": "2026-04-14"},
             rect(-20, -600, 20, -400)),
        feat({"kind": "mining_area", "id": "JC-01", "name": "大桥禁采区", "area_type": "prohibited"},
             rect(-20, 0, 20, 200)),
        feat({"kind": "closed_season", "id": "flood", "name": "主汛期", "start": "04-15", "end": "10-15"}, None),
        feat({"kind": "registered_structure", "id": "JZ-001", "name": "泵站"},
             {"type": "Point", "coordinates": ll(45, 700)}),
    ]})


def find(cls: str, e: float = 0.0, n: float = 0.0, error_m: float = 2.0, score: float = 0.8,
         time: str | None = None) -> Find:
    lon, lat = ll(e, n)
    return Find(id=f"DJI_0001#{cls}", image="DJI_0001.JPG", class_name=cls, score=score, box=(0, 0, 10, 10),
                lat=lat, lon=lon, error_m=error_m, time=time)


def decide(network: RiverNetwork, cls: str, e: float, n: float, when: datetime = WINTER, **kw):
    f = find(cls, e, n, **kw)
    return evaluate(f, network.locate_one(f.lat, f.lon), when)


def test_default_rules_load_cleanly():
    rules = load_rules()
    assert rules.warnings == []
    assert set(rules.categories) == {"floating_debris", "illegal_mining", "illegal_dumping", "illegal_construction",
                                     "outfall_discharge"}
    assert {c.id: (c.name_zh, c.deadline_days) for c in rules.categories.values()} == {
        "floating_debris": ("漂浮物", 3), "illegal_mining": ("乱采", 1),
        "illegal_dumping": ("乱堆", 7), "illegal_construction": ("乱建", 15), "outfall_discharge": ("排口异常排放", 2)}
    assert load_rules(DEFAULT_RULES_PATH).rules == rules.rules


def test_edge_outfall_conditions(network):
    # An edge camera's outfall watch reports conditions; the rules turn them into tickets.
    for cls, rule in (("dry_weather_discharge", "outfall-dry-weather"), ("abnormal_colour", "outfall-abnormal-colour")):
        d = decide(network, cls, 25, -800)
        assert (d.category, d.rule_id, d.category_name) == ("outfall_discharge", rule, "排口异常排放")


def test_floating_debris(network):
    d = decide(network, "floating_debris", 10, -800)
    assert (d.category, d.category_name, d.rule_id, d.severity, d.deadline_days) == (
        "floating_debris", "漂浮物", "debris-on-water", "low", 3)
    assert d.ticket and "东苕溪瓶窑段" in d.reason and d.find_id == "DJI_0001#floating_debris"
    bank = decide(network, "floating_debris", 40, -800)  # 40 m from the centreline: on the bank
    assert (bank.category, bank.rule_id) == (None, "debris-on-bank")
    assert "右岸" in bank.reason
    # Water unknown (no width, no water polygon): inside the management zone counts.
    f = find("floating_debris", 40, -800)
    p = network.locate_one(f.lat, f.lon)
    unknown = Place(**{**p.__dict__, "on_water": None})
    assert evaluate(f, unknown, WINTER).rule_id == "debris-on-water"
    outside = Place(**{**p.__dict__, "on_water": None, "in_zone": False})
    assert evaluate(f, outside, WINTER).rule_id == "debris-on-bank"


def test_boat_and_far_away(network):
    d = decide(network, "boat", 0, 0)
    assert (d.category, d.rule_id) == (None, "boat-log") and "boat" in d.reason
    far = decide(network, "floating_debris", 2000, 0)
    assert (far.category, far.rule_id) == (None, "too_far") and "too far" in far.reason
    f = find("waste_pile", 0, 0)
    p = network.locate_one(f.lat, f.lon)
    beyond = Place(**{**p.__dict__, "distance_m": 350.0})  # within locate's 500 m, beyond the rules' 300 m
    d = evaluate(f, beyond, WINTER)
    assert d.rule_id == "too_far" and "350 m" in d.reason


def test_outside_zone_is_logged(network):
    for cls in ("waste_pile", "structure", "sand_dredger"):
        d = decide(network, cls, 120, 500)  # 120 m east: beyond 20 + 50 m
        assert (d.category, d.rule_id) == (None, "outside-zone"), cls
        assert "管理范围外" in d.reason and "120 m" in d.reason


def test_waste_pile_in_zone(network):
    d = decide(network, "waste_pile", -60, 500)
    assert (d.category, d.category_name, d.rule_id, d.deadline_days, d.severity) == (
        "illegal_dumping", "乱堆", "dumping-in-zone", 7, "medium")
    assert "左岸" in d.reason


def test_structure_registered_or_not(network):
    d = decide(network, "structure", 60, 300)
    assert (d.category, d.rule_id, d.deadline_days) == ("illegal_construction", "construction-unregistered", 15)
    near = decide(network, "structure", 45, 710)  # 10 m from the registered pump house
    assert (near.category, near.rule_id) == (None, "structure-registered") and "JZ-001" in near.reason
    # 25 m away: beyond 15 m tolerance + 2 m error ...
    assert decide(network, "structure", 45, 725).category == "illegal_construction"
    # ... but within it when the position is uncertain (15 + 12 m).
    assert decide(network, "structure", 45, 725, error_m=12).rule_id == "structure-registered"


def test_sand_dredger_cases(network):
    # Prohibited area: always 乱采, even in the permit period.
    d = decide(network, "sand_dredger", 0, 100, WINTER)
    assert (d.category, d.category_name, d.rule_id, d.severity, d.deadline_days) == (
        "illegal_mining", "乱采", "mining-prohibited-area", "high", 1)
    assert "大桥禁采区" in d.reason
    # Inside the permitted area, in its period, out of the closed season: no ticket.
    ok = decide(network, "sand_dredger", 0, -500, WINTER)
    assert (ok.category, ok.rule_id) == (None, "mining-permitted") and "浙采砂〔2025〕001号" in ok.reason
    # Same place, before the permit started (and not in the closed season).
    early = datetime(2024, 12, 1, 10, 0, tzinfo=CST)
    late = decide(network, "sand_dredger", 0, -500, early)
    assert (late.category, late.rule_id) == ("illegal_mining", "mining-outside-permit")
    # The permit's last day counts; the next day the closed season has begun.
    last = datetime(2026, 4, 14, 23, 0, tzinfo=CST)
    assert decide(network, "sand_dredger", 0, -500, last).rule_id == "mining-permitted"
    assert decide(network, "sand_dredger", 0, -500, last + timedelta(hours=2)).rule_id == "mining-closed-season"
    assert "2025-10-16..2026-04-14" in late.reason
    # Same place in the closed season.
    summer = decide(network, "sand_dredger", 0, -500, SUMMER)
    assert (summer.category, summer.rule_id) == ("illegal_mining", "mining-closed-season")
    assert "主汛期" in summer.reason
    # Outside every permitted area.
    out = decide(network, "sand_dredger", 0, 600, WINTER)
    assert (out.category, out.rule_id) == ("illegal_mining", "mining-outside-permit")
    assert "in no permitted area" in out.reason and "2026-01-10" in out.reason


def test_time_zone_and_find_time(network):
    # 2025-10-15 17:00 UTC is 10-16 01:00 in Beijing: the closed season is over, the permit valid.
    utc = datetime(2025, 10, 15, 17, 0, tzinfo=UTC)
    assert decide(network, "sand_dredger", 0, -500, utc).rule_id == "mining-permitted"
    assert decide(network, "sand_dredger", 0, -500, utc - timedelta(hours=2)).rule_id == "mining-closed-season"
    naive_local = datetime(2025, 10, 16, 0, 30)
    assert decide(network, "sand_dredger", 0, -500, naive_local).rule_id == "mining-permitted"
    f = find("sand_dredger", 0, -500, time="2025-07-01T08:00:00+08:00")
    assert evaluate(f, network.locate_one(f.lat, f.lon)).rule_id == "mining-closed-season"
    with pytest.raises(ValueError, match="no time"):
        evaluate(find("sand_dredger"), network.locate_one(30.5, 120.0))


def test_unknown_class_falls_through(network):
    d = decide(network, "jetski", 0, 0)
    assert (d.category, d.rule_id) == (None, "no_rule") and "jetski" in d.reason


# --------------------------------------------------------------------------- custom tables


def base() -> dict:
    return yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))


def test_custom_rules_first_match_wins_and_conditions(network, tmp_path: Path):
    data = base()
    data["settings"]["max_distance_m"] = 1000
    data["rules"] = [
        {"id": "weak", "class": "*", "when": {"min_score": 0.0, "max_distance_m": 5}, "category": None,
         "reason": "on the line, {distance_m:.1f} m, score {score:.2f}"},
        {"id": "pile-or-shed", "class": ["waste_pile", "structure"], "when": {"in_zone": True, "min_score": 0.5},
         "category": "illegal_dumping"},
        {"id": "registered-explicit", "class": "structure", "when": {"not_registered_structure": False},
         "category": None},
        {"id": "tight", "class": "structure", "when": {"not_registered_structure": 3}, "category": "illegal_construction"},
    ]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rules = load_rules(path)
    assert rules.max_distance_m == 1000 and rules.warnings == []

    def go(cls, e, n, **kw):
        f = find(cls, e, n, **kw)
        return rules.evaluate(f, network.locate_one(f.lat, f.lon, max_distance_m=2000), WINTER)

    d = go("boat", 2, 0)
    assert d.rule_id == "weak" and d.reason == "on the line, 2.0 m, score 0.80"
    assert go("structure", 30, 0).rule_id == "pile-or-shed"
    assert go("structure", 45, 710, score=0.3).rule_id == "registered-explicit"  # within 15 + 2 m
    d = go("structure", 45, 730, score=0.3)
    assert d.rule_id == "tight" and d.category_name == "乱建"
    assert d.reason.startswith("structure @ 东苕溪瓶窑段")  # automatic reason
    assert go("waste_pile", 800, 0).rule_id == "no_rule"


def test_rules_validation_names_rule_and_field():
    data = base()
    data["bogus"] = 1
    data["settings"]["timezone"] = "Asia/Shanghai"
    data["categories"]["illegal_dumping"]["severity"] = "urgent"
    data["categories"]["illegal_dumping"]["deadline_days"] = -1
    data["rules"][1]["when"] = {"on_watr": True}
    data["rules"][2]["category"] = "littering"
    data["rules"][3]["in_zone"] = False  # a condition outside `when`
    data["rules"][4]["when"]["in_prohibited_area"] = "yes"
    data["rules"][5]["id"] = data["rules"][4]["id"]
    data["rules"][6]["reason"] = "permit {licence} ok"
    data["rules"][7]["class"] = []
    data["rules"][8]["when"] = {"max_distance_m": -5}
    del data["rules"][9]["category"]
    with pytest.raises(RulesError) as exc:
        rules_from_dict(data, source="office.yaml")
    errors = exc.value.errors
    text = "\n".join(errors)
    assert str(exc.value).startswith("office.yaml: ")
    expect = [
        r"^bogus: unknown top-level key",
        r"^settings.timezone: expected an offset like '\+08:00'",
        r"^categories.illegal_dumping.severity: 'urgent' is not one of low, medium, high",
        r"^categories.illegal_dumping.deadline_days: expected a whole number",
        r"^rules\[1\] \(id 'debris-on-water'\).when.on_watr: unknown condition \(expected one of on_water,",
        r"^rules\[2\] \(id 'debris-on-bank'\).category: unknown category 'littering'",
        r"^rules\[3\] \(id 'outside-zone'\).in_zone: unknown key \(conditions go under 'when'\)",
        r"^rules\[4\] \(id 'mining-prohibited-area'\).when.in_prohibited_area: expected true or false, got 'yes'",
        r"^rules\[5\] \(id 'mining-prohibited-area'\): id: duplicate \(also rules\[4\]\)",
        r"^rules\[6\] \(id 'mining-outside-permit'\).reason: unknown placeholder \{licence\}",
        r"^rules\[7\] \(id 'mining-permitted'\).class: required",
        r"^rules\[8\] \(id 'dumping-in-zone'\).when.max_distance_m: expected a number >= 0, got -5",
        r"^rules\[9\] \(id 'construction-unregistered'\).category: required",
    ]
    for pattern in expect:
        assert any(re.search(pattern, e) for e in errors), f"missing {pattern!r} in:\n{text}"


def test_rules_file_errors_and_warnings(tmp_path: Path):
    p = tmp_path / "bad.yaml"
    p.write_text("version: 1\nrules: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"(?s)bad.yaml: .*not valid YAML: line \d+ column \d+"):
        load_rules(p)
    with pytest.raises(RulesError, match="version: expected 1"):
        rules_from_dict({**base(), "version": 2})
    data = base()
    data["rules"].insert(0, {"id": "all-boats-and-rafts", "class": ["boat", "raft"], "category": None})
    data["rules"].insert(0, {"id": "everything", "class": "*", "when": {}, "category": None})
    rs = rules_from_dict(data)
    assert isinstance(rs, RuleSet)
    assert any("'raft' is not a class" in w for w in rs.warnings)
    assert any("rules[1] (id 'all-boats-and-rafts') can never match: rules[0] (id 'everything')" in w
               for w in rs.warnings)


def test_decision_to_dict_and_place_without_chiefs():
    place = Place(lat=30.5, lon=120.0, segment_id="S", segment_name="s", river="r", chainage_km=0.1, river_km=0.1,
                  distance_m=3.0, bank="left", in_zone=True, on_water=True, chiefs=Chiefs())
    d = evaluate(find("floating_debris"), place, WINTER)
    assert d.to_dict() == {"category": "floating_debris", "category_name": "漂浮物", "rule_id": "debris-on-water",
                           "reason": d.reason, "severity": "low", "deadline_days": 3,
                           "find_id": "DJI_0001#floating_debris"}
