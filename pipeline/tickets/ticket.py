"""The ticket record: one object a flight (or an edge camera) found, placed on its river
segment and judged by the rules, as ``tickets.geojson`` carries it. The pipeline writes it,
the server's importer, the ledgers, the KML and the flight report read it back: one typed
shape instead of a dictionary whose keys every reader spells again.

GeoJSON stays the file format (``to_feature``/``from_feature``); properties this record
does not name (the server's workflow state, an edge ticket's camera) ride along in
``extra`` so nothing is lost on the way through."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class EvidenceRecord:
    """One view of the object: a detection in one photo (or camera frame)."""

    find: str | None = None
    image: str | None = None
    box: list[float] | None = None
    score: float | None = None
    crop: str | None = None  # evidence crop, relative to the output folder
    lat: float | None = None
    lon: float | None = None
    error_m: float | None = None
    time: str | None = None
    off_nadir_deg: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvidenceRecord:
        return cls(**{f.name: d.get(f.name) for f in fields(cls)})


# Property names that differ from the attribute (``class`` is a Python keyword).
_PROPERTY_NAME = {"class_name": "class"}
_GEOMETRY = ("lat", "lon")
_OPTIONAL = ("lat_gcj02", "lon_gcj02")  # written only when set


@dataclass
class TicketRecord:
    """The Ticket record; attribute order is the property order of tickets.geojson."""

    id: str
    lat: float
    lon: float
    flight_id: str | None = None
    category: str | None = None
    category_zh: str | None = None
    class_name: str | None = None
    severity: str | None = None
    score: float | None = None
    segment_id: str | None = None
    segment_name: str | None = None
    river: str | None = None
    chainage_km: float | None = None
    bank: str | None = None
    bank_zh: str | None = None
    chief_county: str | None = None
    chief_township: str | None = None
    chief_village: str | None = None
    chiefs: dict[str, Any] | None = None
    found_at: str | None = None
    deadline: str | None = None
    deadline_days: int | None = None
    rule: str | None = None
    reason: str | None = None
    error_m: float | None = None
    size_m: float | None = None
    n_views: int | None = None
    best_image: str | None = None
    best_crop: str | None = None
    best_box: list[float] | None = None
    evidence: list[EvidenceRecord] = field(default_factory=list)
    lat_gcj02: float | None = None
    lon_gcj02: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def property_name(attr: str) -> str:
        return _PROPERTY_NAME.get(attr, attr)

    def value(self, prop: str) -> Any:
        """The value of a property by its GeoJSON name (``class``, ``lat`` ...); ledger
        columns and KML data are named so."""
        attr = {v: k for k, v in _PROPERTY_NAME.items()}.get(prop, prop)
        if attr in _FIELD_NAMES:
            return getattr(self, attr)
        return self.extra.get(prop)

    def properties(self, evidence: bool = True) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _GEOMETRY or f.name == "extra" or (f.name == "evidence" and not evidence):
                continue
            value = getattr(self, f.name)
            if f.name in _OPTIONAL and value is None:
                continue
            if f.name == "evidence":
                value = [e.to_dict() for e in value]
            props[self.property_name(f.name)] = value
        props.update(self.extra)
        return props

    def to_feature(self) -> dict[str, Any]:
        return {"type": "Feature", "id": self.id,
                "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
                "properties": self.properties()}

    @classmethod
    def from_feature(cls, feature: dict[str, Any]) -> TicketRecord:
        props = dict(feature.get("properties") or {})
        lon, lat = feature["geometry"]["coordinates"][:2]
        known: dict[str, Any] = {}
        for f in fields(cls):
            name = cls.property_name(f.name)
            if f.name in _GEOMETRY or f.name == "extra" or name not in props:
                continue
            known[f.name] = props.pop(name)
        known["evidence"] = [EvidenceRecord.from_dict(e) for e in known.get("evidence") or []]
        known.setdefault("id", feature.get("id"))
        return cls(lat=float(lat), lon=float(lon), extra=props, **known)


_FIELD_NAMES = frozenset(f.name for f in fields(TicketRecord))
