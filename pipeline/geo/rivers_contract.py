"""The river network contract, stated once: which kinds, which properties, which geometries.

``pipeline.geo.rivers_schema`` reads every feature by walking these tables, and
``json_schema()`` turns the same tables into ``pipeline/schemas/rivers.schema.json`` (the
committed file is generated: ``heyan rivers-schema --out pipeline/schemas/rivers.schema.json``;
a test fails when it is stale). A property added here is therefore validated, documented in
the schema and kept out of the "extra data" warning in one step.

What the JSON Schema cannot say (references between features, duplicate ids, polygon
validity, calendar dates such as 02-30, a permit ending before it starts) is checked by
the loader only; ``BEYOND_SCHEMA`` lists those rules so tests know which verdicts may
differ.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BEYOND_SCHEMA",
    "CONTRACT",
    "DEFAULT_BUFFER_M",
    "GEOMETRY_TYPES",
    "KINDS",
    "LEVELS",
    "MAX_BUFFER_M",
    "Field",
    "Kind",
    "RequiredWhen",
    "json_schema",
    "schema_text",
]

LEVELS = ("county", "township", "village")  # 县/区, 乡镇/街道, 村
CHIEF_KEYS = ("name", "phone", "department", "title")
PHONE_PATTERN = r"[0-9+\-() ]{3,20}"
DEFAULT_BUFFER_M = 50.0
MAX_BUFFER_M = 10_000.0
MAX_KM = 100_000.0
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
MONTH_DAY_PATTERN = r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
GEOMETRY_TYPES = ("Point", "LineString", "MultiLineString", "Polygon", "MultiPolygon")

FieldType = Literal["text", "id", "number", "date", "month_day", "choice", "id_list", "chiefs", "buffer"]


@dataclass(frozen=True)
class Field:
    """One property of a feature.

    ``text`` is a non-coerced string; ``id`` also takes an integer (ids, permit and phone
    numbers typed as numbers in a GIS tool) and reads it as text; ``buffer`` is one number or
    ``{left, right}``; ``chiefs`` is ``{county, township, village}``.
    """

    key: str
    type: FieldType
    required: bool = False
    minimum: float = 0.0
    maximum: float = math.inf
    options: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class RequiredWhen:
    """``fields`` are required when property ``key`` equals ``value``; ``label`` says why."""

    key: str
    value: str
    fields: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    geometry: tuple[str, ...]
    geometry_optional: bool
    fields: tuple[Field, ...]
    required_when: tuple[RequiredWhen, ...] = ()

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset({"kind", *(f.key for f in self.fields)})


_ID = Field("id", "id", required=True, doc="Unique in the file.")
_DESCRIPTION = Field("description", "text")
_SEGMENT_ID = Field("segment_id", "id", doc="The segment this feature belongs to (must exist in the file).")
_AREA = ("Polygon", "MultiPolygon")

CONTRACT: dict[str, Kind] = {k.name: k for k in (
    Kind("segment", "河段: a centreline drawn downstream and who answers for it.",
         ("LineString", "MultiLineString"), False, (
             _ID,
             Field("name", "text", required=True, doc="Segment name (河段名称)."),
             Field("river", "text", required=True, doc="River name (河流名称)."),
             Field("chiefs", "chiefs", doc="River chiefs (河长) by level: county, township, village."),
             Field("buffer_m", "buffer", maximum=MAX_BUFFER_M,
                   doc="Management zone width per bank (m): one number for both banks, or {left, right} facing "
                       "downstream. Measured from the water's edge when width_m is given, else from the "
                       "centreline."),
             Field("width_m", "number", maximum=MAX_KM,
                   doc="Water width (m), for on-water estimates when no water polygon is given."),
             Field("river_start_km", "number", maximum=MAX_KM,
                   doc="Chainage of the segment's start along its river (km)."),
             _DESCRIPTION,
         )),
    Kind("mining_area", "可采区 (permitted, with permit number and period) or 禁采区 (prohibited).",
         _AREA, False, (
             _ID,
             Field("name", "text"),
             Field("area_type", "choice", required=True, options=("permitted", "prohibited"),
                   doc="permitted = 可采区, prohibited = 禁采区"),
             Field("permit_no", "id", doc="Permit number (采砂许可证号)."),
             Field("permit_start", "date", doc="First day of the permit, YYYY-MM-DD."),
             Field("permit_end", "date", doc="Last day of the permit, YYYY-MM-DD."),
             _SEGMENT_ID,
             _DESCRIPTION,
         ),
         (RequiredWhen("area_type", "permitted", ("permit_no", "permit_start", "permit_end"),
                       "a permitted area (可采区)"),)),
    Kind("closed_season", "禁采期: a yearly month-day range (inclusive, may wrap over New Year).",
         _AREA, True, (
             _ID,
             Field("name", "text"),
             Field("start", "month_day", required=True, doc="First day, MM-DD."),
             Field("end", "month_day", required=True, doc="Last day, MM-DD (before start: wraps over 31 Dec)."),
             Field("segment_ids", "id_list", doc="Segments it applies to; none and no rivers: the whole network."),
             Field("rivers", "id_list", doc="Rivers it applies to."),
             Field("reason", "text"),
             _DESCRIPTION,
         )),
    Kind("outfall", "一口一档: a registered outfall.", ("Point",), False, (
        _ID,
        Field("name", "text"),
        Field("outfall_type", "choice", required=True, options=("rain", "sewage", "mixed"),
              doc="rain = 雨水, sewage = 污水, mixed = 合流"),
        _SEGMENT_ID,
        _DESCRIPTION,
    )),
    Kind("registered_structure", "A known or permitted structure (bridge, pump house, permitted dock): not 乱建.",
         ("Point", *_AREA), False, (
             _ID,
             Field("name", "text"),
             Field("permit_no", "id"),
             _SEGMENT_ID,
             _DESCRIPTION,
         )),
    Kind("zone", "A polygon: management (河道管理范围) or water (水域).", _AREA, False, (
        _ID,
        Field("name", "text"),
        Field("zone_type", "choice", required=True, options=("management", "water"),
              doc="management = 河道管理范围, water = 水域"),
        _SEGMENT_ID,
        _DESCRIPTION,
    )),
)}
KINDS = tuple(CONTRACT)

# Rules only the loader checks (the JSON Schema cannot express them).
BEYOND_SCHEMA = (
    "ids unique in the file",
    "segment_id / segment_ids / rivers name a segment or river present in the file",
    "polygons valid (self-intersections are repaired with a warning, or refused)",
    "lines of non-zero length",
    "calendar dates (no 02-30) and permit_start <= permit_end",
    "a legacy crs member names WGS-84 (CRS84, EPSG:4326 or EPSG:4490)",
    "a file in which no feature has kind is read as a plain centreline file",
)


# --------------------------------------------------------------------------- JSON Schema

_GEOMETRY_REF = {"Point": "point", "LineString": "lineString", "MultiLineString": "multiLineString",
                 "Polygon": "polygon", "MultiPolygon": "multiPolygon"}


def _number(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", "minimum": f.minimum}
    if math.isfinite(f.maximum):
        out["maximum"] = f.maximum
    return out


def _property(f: Field) -> dict[str, Any]:
    out: dict[str, Any]
    if f.type == "text":
        out = {"type": "string"}
        if f.required:
            out["pattern"] = r"\S"  # not empty, not only spaces
    elif f.type == "id":
        out = {"$ref": "#/$defs/id"}
    elif f.type == "number":
        out = _number(f)
    elif f.type == "date":
        out = {"$ref": "#/$defs/date"}
    elif f.type == "month_day":
        out = {"$ref": "#/$defs/monthDay"}
    elif f.type == "choice":
        out = {"enum": list(f.options)}
    elif f.type == "id_list":
        out = {"type": "array", "items": {"$ref": "#/$defs/id"}}
    elif f.type == "chiefs":
        out = {"type": "object", "additionalProperties": False,
               "properties": {lv: {"$ref": "#/$defs/chief"} for lv in LEVELS}}
    elif f.type == "buffer":
        side = _number(f)
        out = {"oneOf": [side, {"type": "object", "additionalProperties": False, "minProperties": 1,
                                "properties": {"left": side, "right": side}}]}
    else:  # pragma: no cover - Literal exhausts the types
        raise AssertionError(f.type)
    if f.doc:
        out = {**out, "description": f.doc}
    return out


def _geometry(kind: Kind) -> dict[str, Any]:
    refs: list[dict[str, Any]] = [{"$ref": f"#/$defs/{_GEOMETRY_REF[g]}"} for g in kind.geometry]
    if kind.geometry_optional:
        refs.insert(0, {"type": "null"})
    return refs[0] if len(refs) == 1 else {"oneOf": refs}


def _kind_rule(kind: Kind) -> dict[str, Any]:
    props: dict[str, Any] = {
        "properties": {f.key: _property(f) for f in kind.fields if f.key != "id"},
    }
    required = [f.key for f in kind.fields if f.required and f.key != "id"]
    if required:
        props["required"] = required
    for rule in kind.required_when:  # one rule per kind today; allOf would be needed for two
        props["if"] = {"properties": {rule.key: {"const": rule.value}}, "required": [rule.key]}
        props["then"] = {"required": list(rule.fields)}
    then: dict[str, Any] = {"properties": {"geometry": _geometry(kind), "properties": props}}
    if not kind.geometry_optional:
        then["required"] = ["geometry"]
    return {
        "if": {"properties": {"properties": {"required": ["kind"], "properties": {"kind": {"const": kind.name}}}}},
        "then": then,
        "description": kind.doc,
    }


def _defs() -> dict[str, Any]:
    position = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"},
                "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180},
                                {"type": "number", "minimum": -90, "maximum": 90}]}
    ring = {"type": "array", "minItems": 4, "items": {"$ref": "#/$defs/position"}}

    def geom(name: str, coordinates: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "required": ["type", "coordinates"],
                "properties": {"type": {"const": name}, "coordinates": coordinates}}

    line = {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/position"}}
    chief_props: dict[str, Any] = {k: {"type": "string"} for k in CHIEF_KEYS}
    chief_props["name"] = {"type": "string", "pattern": r"\S"}
    # A phone typed as a number in a GIS tool is read as its digits: at least three of them.
    chief_props["phone"] = {"oneOf": [{"type": "string", "pattern": f"^{PHONE_PATTERN}$"},
                                      {"type": "integer", "minimum": 100}]}
    return {
        "id": {"type": ["string", "integer"], "minLength": 1, "pattern": r"\S"},
        "position": position,
        "point": geom("Point", {"$ref": "#/$defs/position"}),
        "lineString": geom("LineString", line),
        "multiLineString": geom("MultiLineString", {"type": "array", "minItems": 1, "items": line}),
        "ring": ring,
        "polygon": geom("Polygon", {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/ring"}}),
        "multiPolygon": geom("MultiPolygon", {"type": "array", "minItems": 1,
                                              "items": {"type": "array", "minItems": 1,
                                                        "items": {"$ref": "#/$defs/ring"}}}),
        "date": {"type": "string", "pattern": f"^{DATE_PATTERN}$"},
        "monthDay": {"type": "string", "pattern": f"^{MONTH_DAY_PATTERN}$"},
        "chief": {"description": "A river chief (河长): an object, or just a name.",
                  "oneOf": [{"type": "string", "minLength": 1, "pattern": r"\S"},
                            {"type": "object", "required": ["name"], "additionalProperties": False,
                             "properties": chief_props},
                            {"type": "null"}]},
        "feature": {
            "type": "object",
            "required": ["type", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "properties": {"type": "object", "required": ["kind", "id"],
                               "properties": {"kind": {"enum": list(KINDS)}, "id": {"$ref": "#/$defs/id"}}},
            },
            "allOf": [_kind_rule(k) for k in CONTRACT.values()],
        },
    }


def json_schema() -> dict[str, Any]:
    """The contract as a JSON Schema (draft 2020-12) for typed network files."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://heyan.example/schemas/rivers.schema.json",
        "title": "Heyan river network (河长制 river network)",
        "description": (
            "A GeoJSON FeatureCollection in WGS-84 lon/lat. Every feature has properties.kind. Documented in "
            "docs/rivers.md. GENERATED from heyan.pipeline.geo.rivers_contract (heyan rivers-schema): edit the "
            "contract, not this file. The loader also checks what a schema cannot: "
            + "; ".join(BEYOND_SCHEMA) + "."
        ),
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "network": {"type": "object", "description": "Optional foreign member: about the whole network.",
                        "properties": {
                            "name": {"type": "string"},
                            "default_buffer_m": {
                                "type": "number", "minimum": 0, "maximum": MAX_BUFFER_M,
                                "description": "Management zone width per bank for segments without a zone "
                                               f"polygon or buffer_m (default {DEFAULT_BUFFER_M:g})."}}},
            "crs": {"description": "Legacy GeoJSON crs member; if present it must name CRS84 / EPSG:4326 "
                                   "(or EPSG:4490, CGCS2000)."},
            "features": {
                "type": "array", "minItems": 1, "items": {"$ref": "#/$defs/feature"},
                "contains": {"type": "object", "properties": {"properties": {
                    "required": ["kind"], "properties": {"kind": {"const": "segment"}}}}},
            },
        },
        "$defs": _defs(),
    }


def schema_text() -> str:
    """The committed file's exact text."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
