"""The river network contract is stated once (pipeline/geo/rivers_contract.py); the loader and
the JSON Schema generated from it must give the same verdict on every file the schema can
judge, both ways: what one refuses the other refuses, what one accepts the other accepts."""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from heyan.pipeline.geo.rivers_contract import BEYOND_SCHEMA, CONTRACT, LEVELS, json_schema, schema_text
from heyan.pipeline.geo.rivers_schema import RiverNetworkError, parse_network

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "pipeline" / "schemas" / "rivers.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(json_schema())

Doc = dict[str, Any]


def _example() -> Doc:
    doc = (ROOT / "docs" / "rivers.md").read_text(encoding="utf-8")
    m = re.search(r"## Example.*?```json\n(.*?)```", doc, re.S)
    assert m, "docs/rivers.md has no ```json example"
    return json.loads(m.group(1))


EXAMPLE = _example()


def _loader_errors(data: Doc) -> list[str]:
    try:
        parse_network(data, "test.geojson")
    except RiverNetworkError as exc:
        return list(exc.errors)
    return []


def _schema_errors(data: Doc) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(data)]


def _first(kind: str) -> int:
    return next(i for i, f in enumerate(EXAMPLE["features"]) if f["properties"]["kind"] == kind)


def _set(i: int, key: str, value: Any) -> Callable[[Doc], None]:
    def apply(d: Doc) -> None:
        d["features"][i]["properties"][key] = value
    return apply


def _drop(i: int, key: str) -> Callable[[Doc], None]:
    def apply(d: Doc) -> None:
        d["features"][i]["properties"].pop(key, None)
    return apply


# A value of the wrong shape for each field type, and one that passes.
_WRONG: dict[str, list[Any]] = {
    "text": [5, ["a"]],
    "id": [True, ["a"], "   "],
    "number": ["12", True],
    "date": ["2025/03/01", 20250301],
    "month_day": ["4-15", "13-01", 415],
    "choice": ["bogus", 1],
    "id_list": ["S1", [True], [["a"]]],
    "chiefs": ["张三", {"province": "张三"}, {"village": 5}, {"village": {"phone": "123"}},
               {"village": {"name": "李四", "phone": "call me"}}, {"village": {"name": "李四", "age": 3}},
               {"village": {"name": "   "}}],
    "buffer": ["50", {}, {"top": 5}, {"left": "5"}],
}
_RIGHT: dict[str, list[Any]] = {
    "text": ["", "名称"],
    "id": ["X-1", 17],
    "number": [0, 12.5],
    "date": [],  # per field below: a permit must still start before it ends
    "month_day": ["12-31", "01-01"],
    "id_list": [[], ["DTX-01"]],
    "chiefs": [{}, {"village": "李四"}, {"county": None, "township": {"name": "王五", "phone": 13800000000}},
               {"village": {"name": "李四", "phone": "0571-8888 1234", "department": "村委", "title": "村主任"}}],
    "buffer": [30, {"left": 10}, {"left": 5, "right": 80}],
}


def _cases() -> Iterator[tuple[str, Callable[[Doc], None], bool]]:
    """(name, mutation of the example, the file stays valid?) for every field of every kind."""
    for kind, spec in CONTRACT.items():
        i = _first(kind)
        for f in spec.fields:
            if f.key == "id":
                continue
            for v in _WRONG.get(f.type, []):
                yield f"{kind}.{f.key}={v!r}", _set(i, f.key, v), False
            for v in _RIGHT.get(f.type, []):
                if f.type == "text" and f.required and v == "":
                    continue
                if f.key in ("segment_id", "segment_ids") or (kind == "closed_season" and f.key == "rivers"):
                    continue  # references: checked by the loader only (BEYOND_SCHEMA)
                yield f"{kind}.{f.key}={v!r}", _set(i, f.key, v), True
            if f.type == "date":
                day = "2000-01-01" if f.key.endswith("start") else "2099-12-31"
                yield f"{kind}.{f.key}={day}", _set(i, f.key, day), True
            if f.type == "choice":
                for opt in f.options:
                    yield f"{kind}.{f.key}={opt}", _set(i, f.key, opt), True
            if f.type in ("number", "buffer"):
                yield f"{kind}.{f.key} below minimum", _set(i, f.key, f.minimum - 1), False
                if math.isfinite(f.maximum):
                    yield f"{kind}.{f.key} above maximum", _set(i, f.key, f.maximum + 1), False
            required = f.required or any(f.key in r.fields and EXAMPLE["features"][i]["properties"].get(r.key) == r.value
                                         for r in spec.required_when)
            yield f"{kind}.{f.key} missing", _drop(i, f.key), not required
        yield f"{kind}.id missing", _drop(i, "id"), False
        if kind != "segment":  # other features name the segments by id
            yield f"{kind}.id integer", _set(i, "id", 9000 + i), True
        yield f"{kind}.extra property", _set(i, "owner", "县水利局"), True
        yield f"{kind}.kind unknown", _set(i, "kind", kind + "s"), False

    def geometry(i: int, g: Any) -> Callable[[Doc], None]:
        def apply(d: Doc) -> None:
            d["features"][i]["geometry"] = g
        return apply

    point = {"type": "Point", "coordinates": [119.99, 30.49]}
    for kind, spec in CONTRACT.items():
        i = _first(kind)
        if "Point" not in spec.geometry:
            yield f"{kind} as a Point", geometry(i, point), False
        yield f"{kind} without geometry", geometry(i, None), spec.geometry_optional
    yield "projected coordinates", geometry(_first("outfall"), {"type": "Point", "coordinates": [500000.0, 3370000.0]}), False
    yield "lat/lon swapped", geometry(_first("outfall"), {"type": "Point", "coordinates": [30.49, 119.99]}), False

    def no_segments(d: Doc) -> None:
        d["features"] = [f for f in d["features"] if f["properties"]["kind"] == "outfall"]
        for f in d["features"]:
            f["properties"].pop("segment_id", None)
    yield "no segment at all", no_segments, False
    yield "network.default_buffer_m negative", lambda d: d.setdefault("network", {}).update(default_buffer_m=-1), False
    yield "network.default_buffer_m 80", lambda d: d.setdefault("network", {}).update(default_buffer_m=80), True


CASES = list(_cases())


def test_the_committed_schema_is_the_generated_one():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "pipeline/schemas/rivers.schema.json is stale: run `heyan rivers-schema --out pipeline/schemas/rivers.schema.json`")
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_the_example_is_valid_both_ways():
    assert _loader_errors(EXAMPLE) == [] and _schema_errors(EXAMPLE) == []


def test_the_cases_cover_every_field_of_every_kind():
    names = " ".join(name for name, _m, _ok in CASES)
    for kind, spec in CONTRACT.items():
        for f in spec.fields:
            assert f"{kind}.{f.key}" in names, f"no case for {kind}.{f.key}"
    assert sum(ok for *_x, ok in CASES) >= 30 and sum(not ok for *_x, ok in CASES) >= 60


@pytest.mark.parametrize(("name", "mutate", "valid"), CASES, ids=[c[0] for c in CASES])
def test_loader_and_schema_agree(name: str, mutate: Callable[[Doc], None], valid: bool):
    data = copy.deepcopy(EXAMPLE)
    mutate(data)
    loader, schema = _loader_errors(data), _schema_errors(data)
    assert (not loader) == valid, f"loader on {name}: {loader}"
    assert (not schema) == valid, f"JSON Schema on {name}: {schema}"
    if not valid and "." in name.split()[0] and "=" in name:  # a field's value: the loader names the field
        kind, key = name.split("=")[0].split(".", 1)
        assert any(f"properties.{key}" in e for e in loader), loader


@pytest.mark.parametrize("rule", [
    ("duplicate id", lambda d: d["features"][1]["properties"].update(id="DTX-01")),
    ("segment_id names no segment", lambda d: d["features"][_first("outfall")]["properties"].update(segment_id="X-9")),
    ("closed season 02-30", lambda d: d["features"][_first("closed_season")]["properties"].update(end="02-30")),
    ("permit ends before it starts",
     lambda d: d["features"][_first("mining_area")]["properties"].update(permit_start="2026-01-01", permit_end="2025-01-01")),
    ("zero-length line", lambda d: d["features"][0]["geometry"].update(coordinates=[[119.99, 30.49], [119.99, 30.49]])),
    ("crs not WGS-84", lambda d: d.update(crs={"type": "name", "properties": {"name": "EPSG:4547"}})),
], ids=lambda r: r[0])
def test_rules_beyond_the_schema_are_the_loaders(rule):
    """These the schema accepts and the loader refuses; BEYOND_SCHEMA says so in the schema's
    own description, so a reader of the JSON file knows."""
    _name, mutate = rule
    data = copy.deepcopy(EXAMPLE)
    mutate(data)
    assert _schema_errors(data) == []
    assert _loader_errors(data)
    assert all(r in json_schema()["description"] for r in BEYOND_SCHEMA)


def test_levels_and_kinds_come_from_the_contract():
    schema = json_schema()
    assert schema["$defs"]["feature"]["properties"]["properties"]["properties"]["kind"]["enum"] == list(CONTRACT)
    seg_rule = schema["$defs"]["feature"]["allOf"][0]["then"]["properties"]["properties"]["properties"]
    assert list(seg_rule["chiefs"]["properties"]) == list(LEVELS)


def _heyan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heyan.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_prints_the_schema_and_checks_a_file(tmp_path: Path):
    out = _heyan("rivers-schema")
    assert out.returncode == 0 and out.stdout == schema_text()

    good = tmp_path / "rivers.geojson"
    good.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    ok = _heyan("rivers-check", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "2 segment(s) on" in ok.stdout and "1 outfall(s)" in ok.stdout

    bad_doc = copy.deepcopy(EXAMPLE)
    bad_doc["features"][_first("outfall")]["properties"]["outfall_type"] = "storm"
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(bad_doc, ensure_ascii=False), encoding="utf-8")
    r = _heyan("rivers-check", str(bad))
    assert r.returncode == 2
    assert "bad.geojson" in r.stderr and "properties.outfall_type: 'storm' is not one of rain, sewage, mixed" in r.stderr

    r = _heyan("rivers-check", str(tmp_path))
    assert r.returncode == 2 and "is a directory, not a GeoJSON file" in r.stderr and str(tmp_path) in r.stderr
    latin = tmp_path / "latin1.geojson"
    latin.write_bytes('{"name": "东苕溪"}'.encode("gb18030"))
    r = _heyan("rivers-check", str(latin))
    assert r.returncode == 2 and "not UTF-8" in r.stderr
