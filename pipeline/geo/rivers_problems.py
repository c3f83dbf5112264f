"""A river network problem line (``RiverNetworkError.errors``, written by
``pipeline.geo.rivers_schema``) as data: which feature (index, id, kind), which field, and a
stable code for the reason, so a user interface can say it in its own language.

The lines keep their English form for the command line; this module reads them back with the
patterns of the messages ``rivers_schema`` writes (a test checks every message it can write
gets a code other than ``other``)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

# "features[3] (id 'seg-2', segment): properties.name: required, missing"
_FEATURE = re.compile(r"^features\[(?P<index>\d+)\]"
                      r"(?: \((?:id (?P<id>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,)]+)(?:, (?P<kind>\w+))?|(?P<kind2>\w+))\))?"
                      r": (?P<rest>.*)$", re.S)
_FIELD = re.compile(r"^(?P<field>(?:properties|geometry|network)(?:\.[\w-]+)*|crs|type|features): (?P<msg>.*)$", re.S)

# (code, pattern in the message), first match wins: the specific before the general.
_CODES: tuple[tuple[str, str], ...] = (
    ("not_feature_collection", r"expected a GeoJSON FeatureCollection"),
    ("not_feature", r"expected a GeoJSON Feature object"),
    ("no_segment", r"the network has no segment|no LineString/MultiLineString feature"),
    ("bad_crs", r"is not WGS-84 lon/lat; reproject"),
    ("projected", r"looks projected"),
    ("not_lonlat", r"is not lon/lat"),
    ("geometry_type", r"not allowed here \(expected"),
    ("geometry_malformed", r"^malformed |non-finite coordinates"),
    ("geometry_empty", r"empty geometry|has no coordinates"),
    ("zero_length", r"zero length"),
    ("invalid_polygon", r"invalid polygon"),
    ("duplicate_id", r"^duplicate id"),
    ("unknown_river", r"^no segment on river"),
    ("unknown_segment", r"^no segment "),
    ("missing", r"required, missing|^required for a permitted area|give left and/or right"),
    ("empty", r"must not be empty"),
    ("not_text", r"expected a string"),
    ("not_number", r"expected a number"),
    ("out_of_range", r"out of range"),
    ("bad_value", r"is not one of"),
    ("bad_date", r"is not a date YYYY-MM-DD"),
    ("bad_month_day", r"is not a month-day MM-DD"),
    ("date_order", r"is before permit_start"),
    ("not_list", r"expected a list of strings"),
    ("unknown_key", r"unknown key|unknown level"),
    ("bad_phone", r"does not look like a phone number"),
    ("not_object", r"expected an object"),
    ("not_json", r"not valid JSON"),
)
CODES = tuple(c for c, _ in _CODES) + ("other",)


@dataclass(frozen=True)
class NetworkProblem:
    code: str  # one of CODES
    message: str  # the English line, as written
    index: int | None = None  # feature index in the file (features[i]); None: the file as a whole
    feature_id: str | None = None
    kind: str | None = None
    field: str | None = None  # properties.name, geometry.coordinates, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unquote(raw: str | None) -> str | None:
    if raw is None:
        return None
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1].replace("\\'", "'").replace('\\"', '"').replace("\\\\", "\\")
    return raw


def code_of(text: str) -> str:
    for code, pattern in _CODES:
        if re.search(pattern, text):
            return code
    return "other"


def problem(line: str) -> NetworkProblem:
    """One problem line -> its feature, field and code."""
    index = feature_id = kind = None
    rest = line
    m = _FEATURE.match(line)
    if m:
        index = int(m.group("index"))
        feature_id = _unquote(m.group("id"))
        kind = m.group("kind") or m.group("kind2")
        rest = m.group("rest")
    field = None
    f = _FIELD.match(rest)
    if f:
        field, rest = f.group("field"), f.group("msg")
    return NetworkProblem(code_of(rest), line, index, feature_id, kind, field)
