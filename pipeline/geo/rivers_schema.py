"""River network file: parsing and validation (the data side of ``pipeline.geo.rivers``).

One GeoJSON FeatureCollection (WGS-84 lon/lat) describes the network an office manages. Every
feature says what it is in ``properties.kind``; docs/rivers.md documents each kind with an
example, and ``pipeline/schemas/rivers.schema.json`` is the same contract as a JSON Schema.

A file in which *no* feature has ``kind`` is read as a plain centreline file (e.g. Natural
Earth): every (Multi)LineString becomes a segment with defaults, and warnings say what is
missing. Validation never stops at the first problem: all of them are collected and raised
as one ``RiverNetworkError`` whose lines name the feature (index and id) and the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity, make_valid

from heyan.pipeline.geo.rivers_contract import (
    CHIEF_KEYS,
    CONTRACT,
    DATE_PATTERN,
    DEFAULT_BUFFER_M,
    KINDS,
    LEVELS,
    PHONE_PATTERN,
    Field,
    Kind,
)
from heyan.vision.common import ProblemsError

__all__ = [
    "KINDS",
    "LEVELS",
    "Chief",
    "Chiefs",
    "ClosedSeason",
    "MiningArea",
    "Outfall",
    "ParsedNetwork",
    "RegisteredStructure",
    "RiverNetworkError",
    "Segment",
    "Zone",
    "parse_network",
]

OUTFALL_TYPES = CONTRACT["outfall"].field("outfall_type").options
MINING_TYPES = CONTRACT["mining_area"].field("area_type").options  # 可采区, 禁采区
ZONE_TYPES = CONTRACT["zone"].field("zone_type").options  # 河道管理范围, 水域
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_DATE = re.compile(f"^{DATE_PATTERN}$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class RiverNetworkError(ProblemsError):
    """A river network file that cannot be used; ``errors`` lists every problem found."""

    what = "river network"


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Chief:
    name: str
    phone: str | None = None
    department: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "phone": self.phone, "department": self.department}


@dataclass(frozen=True)
class Chiefs:
    """The responsible river chief (河长) of a segment at each level."""

    county: Chief | None = None  # 县/区级
    township: Chief | None = None  # 乡镇/街道级
    village: Chief | None = None  # 村级

    def first_responsible(self) -> tuple[str, Chief] | None:
        """The lowest level that has a chief (a ticket goes there first), as (level, chief)."""
        for level in ("village", "township", "county"):
            chief = getattr(self, level)
            if chief is not None:
                return level, chief
        return None

    def is_empty(self) -> bool:
        return self.county is None and self.township is None and self.village is None

    def to_dict(self) -> dict[str, Any]:
        return {lv: (c.to_dict() if (c := getattr(self, lv)) is not None else None) for lv in LEVELS}


@dataclass(frozen=True)
class Segment:
    """河段: a centreline drawn downstream (lon/lat) and who answers for it."""

    id: str
    name: str
    river: str
    line: BaseGeometry  # LineString / MultiLineString, lon/lat, drawn downstream
    chiefs: Chiefs = Chiefs()
    buffer_left_m: float | None = None  # management zone width per bank (None: not given)
    buffer_right_m: float | None = None
    width_m: float | None = None  # water width, for an on-water estimate
    river_start_km: float | None = None  # chainage of the segment's start along its river
    index: int = -1  # feature index in the file
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MiningArea:
    """可采区 (``permitted``, with permit number and period) or 禁采区 (``prohibited``)."""

    id: str
    area_type: str  # "permitted" | "prohibited"
    geometry: BaseGeometry  # lon/lat
    name: str | None = None
    permit_no: str | None = None
    permit_start: date | None = None  # inclusive, local date
    permit_end: date | None = None  # inclusive
    segment_id: str | None = None
    index: int = -1

    @property
    def permitted(self) -> bool:
        return self.area_type == "permitted"

    def permit_valid_on(self, day: date) -> bool:
        return (self.permitted and self.permit_start is not None and self.permit_end is not None
                and self.permit_start <= day <= self.permit_end)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "area_type": self.area_type, "permit_no": self.permit_no,
                "permit_start": self.permit_start.isoformat() if self.permit_start else None,
                "permit_end": self.permit_end.isoformat() if self.permit_end else None}


@dataclass(frozen=True)
class ClosedSeason:
    """禁采期: a yearly month-day range (inclusive, may wrap over New Year)."""

    id: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    name: str | None = None
    segment_ids: tuple[str, ...] = ()  # empty and no rivers: the whole network
    rivers: tuple[str, ...] = ()
    reason: str | None = None
    geometry: BaseGeometry | None = None  # optional polygon limit, lon/lat
    index: int = -1

    def contains(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # wraps over 31 Dec

    def applies_to(self, segment: Segment) -> bool:
        if not self.segment_ids and not self.rivers:
            return True
        return segment.id in self.segment_ids or segment.river in self.rivers

    def label(self) -> str:
        s = f"{self.start[0]:02d}-{self.start[1]:02d}..{self.end[0]:02d}-{self.end[1]:02d}"
        return f"{self.name or self.id} ({s})"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "start": f"{self.start[0]:02d}-{self.start[1]:02d}",
                "end": f"{self.end[0]:02d}-{self.end[1]:02d}", "reason": self.reason}


@dataclass(frozen=True)
class Outfall:
    """一口一档: a registered outfall."""

    id: str
    outfall_type: str  # rain | sewage | mixed
    geometry: BaseGeometry  # Point, lon/lat
    name: str | None = None
    segment_id: str | None = None
    index: int = -1


@dataclass(frozen=True)
class RegisteredStructure:
    """A known / permitted structure (bridge, pump house, permitted dock ...): not 乱建."""

    id: str
    geometry: BaseGeometry  # Point or Polygon, lon/lat
    name: str | None = None
    permit_no: str | None = None
    segment_id: str | None = None
    index: int = -1


@dataclass(frozen=True)
class Zone:
    """A polygon: ``management`` (河道管理范围) or ``water`` (水域)."""

    id: str
    zone_type: str
    geometry: BaseGeometry  # lon/lat
    name: str | None = None
    segment_id: str | None = None
    index: int = -1


@dataclass
class ParsedNetwork:
    name: str | None
    default_buffer_m: float
    plain: bool  # read as a plain centreline file
    segments: list[Segment]
    mining_areas: list[MiningArea]
    closed_seasons: list[ClosedSeason]
    outfalls: list[Outfall]
    structures: list[RegisteredStructure]
    zones: list[Zone]
    warnings: list[str]


# --------------------------------------------------------------------------- checking helpers


class _Checker:
    """Reads one feature's properties, collecting errors that name the feature and field."""

    def __init__(self, errors: list[str], where: str, props: dict[str, Any]) -> None:
        self.errors = errors
        self.where = where
        self.props = props

    def err(self, fld: str, msg: str) -> None:
        self.errors.append(f"{self.where}: {fld}: {msg}")

    def string(self, key: str, required: bool = False, obj: dict[str, Any] | None = None,
               prefix: str = "properties.", coerce: bool = False, nonempty: bool = False) -> str | None:
        src = self.props if obj is None else obj
        value = src.get(key)
        if value is None:
            if required:
                self.err(prefix + key, "required, missing")
            return None
        if coerce and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # ids and phone numbers typed as numbers in a GIS tool
        if not isinstance(value, str):
            self.err(prefix + key, f"expected a string, got {_show(value)}")
            return None
        if (required or nonempty) and not value.strip():
            self.err(prefix + key, "must not be empty")
            return None
        return value.strip()

    def number(self, key: str, lo: float = 0.0, hi: float = math.inf, obj: dict[str, Any] | None = None,
               prefix: str = "properties.") -> float | None:
        src = self.props if obj is None else obj
        value = src.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.err(prefix + key, f"expected a number, got {_show(value)}")
            return None
        if not lo <= value <= hi:
            self.err(prefix + key, f"{value} out of range [{lo}, {hi}]")
            return None
        return float(value)

    def choice(self, key: str, options: tuple[str, ...], required: bool = False) -> str | None:
        value = self.string(key, required=required)
        if value is not None and value not in options:
            self.err("properties." + key, f"{value!r} is not one of {', '.join(options)}")
            return None
        return value

    def day(self, key: str) -> date | None:
        value = self.string(key)
        if value is None:
            return None
        try:
            if not _DATE.match(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.err("properties." + key, f"{value!r} is not a date YYYY-MM-DD")
            return None

    def month_day(self, key: str, required: bool = False) -> tuple[int, int] | None:
        value = self.string(key, required=required)
        if value is None:
            return None
        m = _MONTH_DAY.match(value)
        if not m or not (1 <= int(m.group(1)) <= 12) or not (1 <= int(m.group(2)) <= _DAYS_IN_MONTH[int(m.group(1)) - 1]):
            self.err("properties." + key, f"{value!r} is not a month-day MM-DD")
            return None
        return int(m.group(1)), int(m.group(2))

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.props.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            self.err("properties." + key, f"expected a list of strings, got {_show(value)}")
            return ()
        return tuple(str(v) for v in value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _where(i: int, props: dict[str, Any] | None, kind: str | None = None) -> str:
    fid = props.get("id") if isinstance(props, dict) else None
    parts = [f"features[{i}]"]
    if fid is not None:
        parts.append(f"(id {fid!r}{', ' + kind if kind else ''})")
    elif kind:
        parts.append(f"({kind})")
    return " ".join(parts)


def _coords_ok(geom: BaseGeometry) -> str | None:
    """None, or why the coordinates are not WGS-84 lon/lat."""
    xy = shapely.get_coordinates(geom)
    if len(xy) == 0:
        return "has no coordinates"
    if not (abs(xy[:, 0]) <= 180).all() or not (abs(xy[:, 1]) <= 90).all():
        big = xy[(abs(xy[:, 0]) > 180) | (abs(xy[:, 1]) > 90)][0]
        if (abs(big) > 1000).any():
            return (f"coordinate [{big[0]:.6g}, {big[1]:.6g}] looks projected (metres); the file must be "
                    "WGS-84 lon/lat (EPSG:4326)")
        return (f"coordinate [{big[0]:.6g}, {big[1]:.6g}] is not lon/lat (lat > 90?); GeoJSON order is "
                "[longitude, latitude]")
    if not (abs(xy) < 1e9).all():
        return "has non-finite coordinates"
    return None


def _geometry(chk: _Checker, feat: dict[str, Any], allowed: tuple[str | None, ...],
              warnings: list[str]) -> BaseGeometry | None:
    raw = feat.get("geometry")
    if raw is None:
        if None in allowed:
            return None
        chk.err("geometry", f"required, missing (expected {' or '.join(a for a in allowed if a)})")
        return None
    gtype = raw.get("type") if isinstance(raw, dict) else None
    if gtype not in allowed:
        chk.err("geometry.type", f"{gtype!r} not allowed here (expected {' or '.join(a for a in allowed if a)})")
        return None
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        chk.err("geometry.coordinates", f"malformed {gtype}: {exc}")
        return None
    if geom.is_empty:
        chk.err("geometry.coordinates", "empty geometry")
        return None
    bad = _coords_ok(geom)
    if bad:
        chk.err("geometry.coordinates", bad)
        return None
    if gtype in ("LineString", "MultiLineString"):
        if geom.length == 0:
            chk.err("geometry.coordinates", "line has zero length (needs two distinct points)")
            return None
    if gtype in ("Polygon", "MultiPolygon") and not geom.is_valid:
        why = explain_validity(geom)
        fixed = make_valid(geom)
        polys = shapely.get_parts(fixed)
        polys = [p for p in polys if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
        if not polys:
            chk.err("geometry", f"invalid polygon ({why}) and it cannot be repaired")
            return None
        geom = shapely.union_all(polys)
        warnings.append(f"{chk.where}: geometry: invalid polygon ({why}); repaired")
    return geom


# --------------------------------------------------------------------------- parsing


def parse_network(data: Any, source: str = "<network>") -> ParsedNetwork:
    """GeoJSON FeatureCollection (as parsed JSON) -> ParsedNetwork, or RiverNetworkError."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise RiverNetworkError(source, [f"type: expected a GeoJSON FeatureCollection, got {got!r}"])
    features = data.get("features")
    if not isinstance(features, list):
        raise RiverNetworkError(source, ["features: expected a list of features"])
    _check_crs(data.get("crs"), errors)

    meta = data.get("network") or {}
    name: str | None = None
    default_buffer = DEFAULT_BUFFER_M
    if not isinstance(meta, dict):
        errors.append("network: expected an object with name, default_buffer_m")
        meta = {}
    mchk = _Checker(errors, "network", meta)
    name = mchk.string("name", prefix="network.")
    buf = mchk.number("default_buffer_m", 0.0, 10_000.0, prefix="network.")
    if buf is not None:
        default_buffer = buf

    typed = any(isinstance(f, dict) and isinstance(f.get("properties"), dict) and "kind" in f["properties"]
                for f in features)
    if not typed:
        if errors:
            raise RiverNetworkError(source, errors)
        return _parse_plain(features, name, default_buffer, source, warnings)

    out = ParsedNetwork(name, default_buffer, False, [], [], [], [], [], [], warnings)
    seen_ids: dict[str, str] = {}
    unknown_props: dict[str, int] = {}
    for i, feat in enumerate(features):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            errors.append(f"features[{i}]: expected a GeoJSON Feature object")
            continue
        props = feat.get("properties")
        if not isinstance(props, dict):
            errors.append(f"features[{i}]: properties: expected an object with 'kind'")
            continue
        kind = props.get("kind")
        where = _where(i, props, kind if isinstance(kind, str) else None)
        chk = _Checker(errors, where, props)
        if kind not in KINDS:
            chk.err("properties.kind", f"{_show(kind)} is not one of {', '.join(KINDS)}"
                    if kind is not None else f"required, missing (one of {', '.join(KINDS)})")
            continue
        spec = CONTRACT[kind]
        fid = chk.string("id", required=True, coerce=True)
        if fid is not None:
            if fid in seen_ids:
                chk.err("properties.id", f"duplicate id {fid!r} (also {seen_ids[fid]})")
            else:
                seen_ids[fid] = f"features[{i}]"
        for key in props:
            if key not in spec.keys:
                unknown_props[f"{kind}.{key}"] = unknown_props.get(f"{kind}.{key}", 0) + 1
        allowed: tuple[str | None, ...] = spec.geometry + ((None,) if spec.geometry_optional else ())
        geom = _geometry(chk, feat, allowed, warnings)
        values = _read_fields(chk, spec, props)
        _BUILDERS[kind](chk, i, fid, geom, values, props, out)

    if unknown_props:
        shown = ", ".join(f"{k} ({n})" for k, n in sorted(unknown_props.items())[:12])
        warnings.append(f"properties not in the schema were kept as extra data: {shown}")
    _check_references(out, errors)
    if not out.segments and not errors:
        errors.append("features: the network has no segment (kind 'segment')")
    if errors:
        raise RiverNetworkError(source, errors)
    _warn_incomplete(out, warnings)
    return out


def _check_crs(crs: Any, errors: list[str]) -> None:
    if crs is None:
        return
    name = ""
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
    ok = ("CRS84", "4326", "4490")  # 4490 = CGCS2000, treated as WGS-84
    if not any(k in name for k in ok):
        errors.append(f"crs: {name or _show(crs)!s} is not WGS-84 lon/lat; reproject to EPSG:4326 first")


def _read_fields(chk: _Checker, spec: Kind, props: dict[str, Any]) -> dict[str, Any]:
    """Every property of the kind's contract, checked by its type; errors collected in ``chk``."""
    values: dict[str, Any] = {}
    for f in spec.fields:
        if f.key != "id":  # read first, for the duplicate check
            values[f.key] = _READERS[f.type](chk, f, props)
    for rule in spec.required_when:
        if values.get(rule.key) == rule.value:
            for key in rule.fields:
                if props.get(key) is None:
                    chk.err("properties." + key, f"required for {rule.label}, missing")
    return values


def _read_buffer(chk: _Checker, f: Field, props: dict[str, Any]) -> tuple[float | None, float | None]:
    """``buffer_m``: one number for both banks or ``{left, right}`` -> (left, right)."""
    raw = props.get(f.key)
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        both = chk.number(f.key, f.minimum, f.maximum)
        return both, both
    where = f"properties.{f.key}."
    for k in raw:
        if k not in ("left", "right"):
            chk.err(where + k, "unknown key (expected left, right)")
    left = chk.number("left", f.minimum, f.maximum, obj=raw, prefix=where)
    right = chk.number("right", f.minimum, f.maximum, obj=raw, prefix=where)
    if not any(k in raw for k in ("left", "right")):
        chk.err("properties." + f.key, "give left and/or right (metres)")
    if (left is None) != (right is None):  # one bank given: the other has no zone
        left = left if left is not None else 0.0
        right = right if right is not None else 0.0
    return left, right


def _read_chiefs(chk: _Checker, f: Field, props: dict[str, Any]) -> Chiefs:
    raw = props.get(f.key)
    if raw is None:
        return Chiefs()
    if not isinstance(raw, dict):
        chk.err("properties." + f.key, f"expected an object with county/township/village, got {_show(raw)}")
        return Chiefs()
    found: dict[str, Chief] = {}
    for level, c in raw.items():
        where = f"properties.{f.key}.{level}"
        if level not in LEVELS:
            chk.err(where, f"unknown level (expected {', '.join(LEVELS)})")
            continue
        if c is None:
            continue
        if isinstance(c, str):  # just a name
            c = {"name": c}
        if not isinstance(c, dict):
            chk.err(where, f"expected an object with name, phone, department, got {_show(c)}")
            continue
        for k in c:
            if k not in CHIEF_KEYS:
                chk.err(f"{where}.{k}", "unknown key (expected name, phone, department)")
        nm = chk.string("name", required=True, obj=c, prefix=where + ".")
        phone = chk.string("phone", obj=c, prefix=where + ".", coerce=True)
        if phone is not None and not re.fullmatch(PHONE_PATTERN, phone):
            chk.err(f"{where}.phone", f"{phone!r} does not look like a phone number")
        dept = chk.string("department", obj=c, prefix=where + ".")
        chk.string("title", obj=c, prefix=where + ".")  # kept in the file only, but must be text
        if nm:
            found[level] = Chief(nm, phone, dept)
    return Chiefs(**found)


_READERS: dict[str, Callable[[_Checker, Field, dict[str, Any]], Any]] = {
    "text": lambda chk, f, _p: chk.string(f.key, required=f.required),
    "id": lambda chk, f, _p: chk.string(f.key, required=f.required, coerce=True, nonempty=True),
    "number": lambda chk, f, _p: chk.number(f.key, f.minimum, f.maximum),
    "date": lambda chk, f, _p: chk.day(f.key),
    "month_day": lambda chk, f, _p: chk.month_day(f.key, required=f.required),
    "choice": lambda chk, f, _p: chk.choice(f.key, f.options, required=f.required),
    "id_list": lambda chk, f, _p: chk.string_list(f.key),
    "chiefs": _read_chiefs,
    "buffer": _read_buffer,
}


# Each builder turns a kind's checked values into its record; it adds nothing when a
# required value failed (the error is already collected).


def _build_segment(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                   props: dict[str, Any], out: ParsedNetwork) -> None:
    if geom is None or fid is None or v["name"] is None or v["river"] is None:
        return
    merged = shapely.line_merge(geom, directed=True) if geom.geom_type == "MultiLineString" else geom
    if merged.geom_type == "MultiLineString":
        out.warnings.append(f"{chk.where}: geometry: {len(merged.geoms)} disconnected parts; chainage counts "
                            "them end to end in file order")
    extra = {k: val for k, val in props.items() if k not in CONTRACT["segment"].keys}
    left, right = v["buffer_m"]
    out.segments.append(Segment(fid, v["name"], v["river"], merged, v["chiefs"], left, right, v["width_m"],
                                v["river_start_km"], i, extra))


def _build_mining(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                  props: dict[str, Any], out: ParsedNetwork) -> None:
    start, end = v["permit_start"], v["permit_end"]
    if start and end and start > end:
        chk.err("properties.permit_end", f"{end} is before permit_start {start}")
    if geom is None or fid is None or v["area_type"] is None:
        return
    out.mining_areas.append(MiningArea(fid, v["area_type"], geom, v["name"], v["permit_no"], start, end,
                                       v["segment_id"], i))


def _build_season(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                  props: dict[str, Any], out: ParsedNetwork) -> None:
    if fid is None or v["start"] is None or v["end"] is None:
        return
    out.closed_seasons.append(ClosedSeason(fid, v["start"], v["end"], v["name"], v["segment_ids"], v["rivers"],
                                           v["reason"], geom, i))


def _build_outfall(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                   props: dict[str, Any], out: ParsedNetwork) -> None:
    if geom is None or fid is None or v["outfall_type"] is None:
        return
    out.outfalls.append(Outfall(fid, v["outfall_type"], geom, v["name"], v["segment_id"], i))


def _build_structure(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                     props: dict[str, Any], out: ParsedNetwork) -> None:
    if geom is None or fid is None:
        return
    out.structures.append(RegisteredStructure(fid, geom, v["name"], v["permit_no"], v["segment_id"], i))


def _build_zone(chk: _Checker, i: int, fid: str | None, geom: BaseGeometry | None, v: dict[str, Any],
                props: dict[str, Any], out: ParsedNetwork) -> None:
    if geom is None or fid is None or v["zone_type"] is None:
        return
    out.zones.append(Zone(fid, v["zone_type"], geom, v["name"], v["segment_id"], i))


_BUILDERS: dict[str, Callable[..., None]] = {
    "segment": _build_segment,
    "mining_area": _build_mining,
    "closed_season": _build_season,
    "outfall": _build_outfall,
    "registered_structure": _build_structure,
    "zone": _build_zone,
}


def _check_references(out: ParsedNetwork, errors: list[str]) -> None:
    seg_ids = {s.id for s in out.segments}
    rivers = {s.river for s in out.segments}
    items: list[tuple[str, int, str, str | None]] = []
    for coll, kind in ((out.mining_areas, "mining_area"), (out.outfalls, "outfall"),
                       (out.structures, "registered_structure"), (out.zones, "zone")):
        for x in coll:
            items.append((kind, x.index, x.id, x.segment_id))
    for kind, i, fid, seg in items:
        if seg is not None and seg not in seg_ids:
            errors.append(f"features[{i}] (id {fid!r}, {kind}): properties.segment_id: no segment {seg!r}")
    for cs in out.closed_seasons:
        for seg in cs.segment_ids:
            if seg not in seg_ids:
                errors.append(f"features[{cs.index}] (id {cs.id!r}, closed_season): properties.segment_ids: "
                              f"no segment {seg!r}")
        for r in cs.rivers:
            if r not in rivers:
                errors.append(f"features[{cs.index}] (id {cs.id!r}, closed_season): properties.rivers: "
                              f"no segment on river {r!r}")


def _warn_incomplete(out: ParsedNetwork, warnings: list[str]) -> None:
    no_chief = [s.id for s in out.segments if s.chiefs.is_empty()]
    if no_chief:
        warnings.append(f"{len(no_chief)} segment(s) have no river chief, tickets cannot be routed: "
                        f"{_few(no_chief)}")
    tagged = {z.segment_id for z in out.zones if z.zone_type == "management" and z.segment_id}
    both = [s.id for s in out.segments if s.id in tagged and s.buffer_left_m is not None]
    if both:
        warnings.append(f"segment(s) with both a management-zone polygon and buffer_m use the polygon: {_few(both)}")


def _few(ids: list[str], n: int = 8) -> str:
    return ", ".join(ids[:n]) + (f" ... (+{len(ids) - n})" if len(ids) > n else "")


def _parse_plain(features: list[Any], name: str | None, default_buffer: float, source: str,
                 warnings: list[str]) -> ParsedNetwork:
    """A plain centreline file: each line feature -> a segment with defaults."""
    out = ParsedNetwork(name, default_buffer, True, [], [], [], [], [], [], warnings)
    errors: list[str] = []
    skipped: list[str] = []
    multipart = 0
    used_ids: set[str] = set()
    for i, feat in enumerate(features):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            errors.append(f"features[{i}]: expected a GeoJSON Feature object")
            continue
        props = feat.get("properties") if isinstance(feat.get("properties"), dict) else {}
        raw_geom = feat.get("geometry")
        gtype = raw_geom.get("type") if isinstance(raw_geom, dict) else None
        if gtype not in ("LineString", "MultiLineString"):
            skipped.append(f"features[{i}] ({gtype})")
            continue
        chk = _Checker(errors, _where(i, props), props)
        geom = _geometry(chk, feat, ("LineString", "MultiLineString"), warnings)
        if geom is None:
            continue
        merged = shapely.line_merge(geom, directed=True) if geom.geom_type == "MultiLineString" else geom
        multipart += merged.geom_type == "MultiLineString"
        river = _first_str(props, ("river", "name_zh", "name", "name_en", "NAME", "label")) or f"river {i}"
        raw_id = _first_str(props, ("id", "segment_id"))
        fid = raw_id if raw_id and raw_id not in used_ids else f"seg-{i:03d}"
        used_ids.add(fid)
        seg_name = _first_str(props, ("segment_name",)) or f"{river} #{i}"
        width = props.get("width_m")
        width = float(width) if isinstance(width, (int, float)) and not isinstance(width, bool) and width > 0 else None
        out.segments.append(Segment(fid, seg_name, river, merged, Chiefs(), None, None, width, None, i, dict(props)))
    if errors:
        raise RiverNetworkError(source, errors)
    if not out.segments:
        raise RiverNetworkError(source, ["features: no LineString/MultiLineString feature to use as a river "
                                         "segment (and no feature has properties.kind)"])
    n = len(out.segments)
    warnings.append(
        f"plain centreline file (no properties.kind): {n} line feature(s) loaded as segments with defaults: "
        f"segment ids from the feature index (seg-NNN), no river chiefs (tickets cannot be routed), "
        f"management zone = default {default_buffer:g} m per bank, drawing direction not known to be "
        "downstream (left/right bank may be swapped), no mining areas, closed seasons, outfalls or "
        "registered structures")
    if multipart:
        warnings.append(f"{multipart} segment(s) have disconnected parts; chainage counts them end to end")
    if skipped:
        warnings.append(f"{len(skipped)} non-line feature(s) ignored: {_few(skipped)}")
    return out


def _first_str(props: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = props.get(k)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
            return str(v).strip()
    return None
