"""Score a flight's tickets against a simulated flight's ground truth (``truth.geojson``).

A ticket matches a true object of the same class when it lies within
``k_sigma · error_m`` of it plus half the object's size (a 30 m dredger's detections centre
anywhere on its hull). Each object takes at most one ticket as a hit; further tickets on
the same object are duplicates. Recall counts the objects that should become tickets: seen
in at least one photo, and made a ticket by the rules at their TRUE position (so the score
measures detection, georeferencing and de-duplication, not the rules table).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

R_EARTH = 6_371_008.8


def _dist_m(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    k = math.cos(math.radians(lat1))
    return np.hypot((lat2 - lat1) * math.pi / 180 * R_EARTH, (lon2 - lon1) * math.pi / 180 * R_EARTH * k)


@dataclass
class ClassScore:
    objects: int = 0
    found: int = 0
    tickets: int = 0
    true_tickets: int = 0


@dataclass
class TicketScore:
    objects_seen: int
    tickets: int
    recall: float
    precision: float
    duplicate_rate: float  # tickets per found object (1.0 = no duplicates)
    median_error_m: float | None
    p95_error_m: float | None
    within_error_estimate: float | None  # share of hits within 1 sigma of their error_m
    per_class: dict[str, ClassScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TicketMatch:
    """What one ticket matched: ``obj`` is the index of the true object (None: no match);
    ``first`` is set on the object's first hit (later ones are duplicates), and only first
    hits carry a location error."""

    ticket_class: str
    obj: int | None = None
    first: bool = False
    error_m: float | None = None
    within_estimate: bool | None = None


def match_tickets(objs: list[dict[str, Any]], tickets: list[dict[str, Any]], k_sigma: float = 2.0
                  ) -> tuple[list[TicketMatch], np.ndarray]:
    """Each ticket (in file order) against the true objects: the nearest object of its class
    within ``k_sigma · error_m`` plus half the object's size. Returns one match per ticket
    and the number of hits per object."""
    o_lat = np.array([o["geometry"]["coordinates"][1] for o in objs])
    o_lon = np.array([o["geometry"]["coordinates"][0] for o in objs])
    o_cls = np.array([o["properties"]["class"] for o in objs])
    o_half = np.array([float(o["properties"].get("size_m") or 1.0) / 2 for o in objs])
    hits = np.zeros(len(objs), int)
    out: list[TicketMatch] = []
    for t in tickets:
        p = t["properties"]
        lon, lat = t["geometry"]["coordinates"][:2]
        m = TicketMatch(ticket_class=p.get("class"))
        out.append(m)
        if not objs:
            continue
        d = _dist_m(lat, lon, o_lat, o_lon)
        err = float(p.get("error_m") or 0)
        ok = (o_cls == m.ticket_class) & (d <= k_sigma * err + o_half)
        if not ok.any():
            continue
        j = int(np.argmin(np.where(ok, d, np.inf)))
        m.obj, m.first = j, bool(hits[j] == 0)
        if m.first:
            m.error_m, m.within_estimate = float(d[j]), bool(d[j] <= err + o_half[j])
        hits[j] += 1
    return out, hits


def ticketable(objs: list[dict[str, Any]], network: Any, rules: Any, when: Any) -> list[dict[str, Any]]:
    """The truth objects the rules turn into tickets at their true position."""
    from heyan.pipeline.tickets.finds import Find

    out = []
    for o in objs:
        lon, lat = o["geometry"]["coordinates"][:2]
        f = Find(id=o["properties"]["id"], image="", class_name=o["properties"]["class"], score=1.0, box=(0, 0, 0, 0),
                 lat=lat, lon=lon, error_m=0.5, size_m=o["properties"].get("size_m"))
        place = network.locate_one(lat, lon)
        if rules.evaluate(f, place, when).ticket:
            out.append(o)
    return out


def score_tickets(truth_geojson: Path, tickets_geojson: Path, k_sigma: float = 2.0,
                  classes: set[str] | None = None, network: Any = None, rules: Any = None, when: Any = None) -> TicketScore:
    """``network`` and ``rules`` given: recall over ticketable objects only (see module doc)."""
    truth = json.loads(Path(truth_geojson).read_text(encoding="utf-8"))["features"]
    tickets = json.loads(Path(tickets_geojson).read_text(encoding="utf-8"))["features"]
    objs = [f for f in truth if (f["properties"].get("seen_in") or 0) > 0]
    if network is not None and rules is not None:
        objs = ticketable(objs, network, rules, when)
    if classes is not None:
        objs = [o for o in objs if o["properties"]["class"] in classes]
    o_cls = [o["properties"]["class"] for o in objs]
    per: dict[str, ClassScore] = {}
    for c in o_cls:
        per.setdefault(c, ClassScore()).objects += 1
    matches, hits_per_obj = match_tickets(objs, tickets, k_sigma)
    for m in matches:
        per.setdefault(m.ticket_class, ClassScore()).tickets += 1
        per[m.ticket_class].true_tickets += int(m.obj is not None)
    n_true = sum(m.obj is not None for m in matches)
    errors = [m.error_m for m in matches if m.error_m is not None]
    within = [m.within_estimate for m in matches if m.within_estimate is not None]
    for j, c in enumerate(o_cls):
        per[c].found += int(hits_per_obj[j] > 0)
    found = int((hits_per_obj > 0).sum())
    return TicketScore(
        objects_seen=len(objs), tickets=len(tickets),
        recall=found / len(objs) if objs else 0.0,
        precision=n_true / len(tickets) if tickets else 0.0,
        duplicate_rate=float(hits_per_obj[hits_per_obj > 0].mean()) if found else 0.0,
        median_error_m=float(np.median(errors)) if errors else None,
        p95_error_m=float(np.percentile(errors, 95)) if errors else None,
        within_error_estimate=float(np.mean(within)) if within else None,
        per_class=per,
    )
