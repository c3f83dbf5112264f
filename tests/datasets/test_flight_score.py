"""Flight scoring (datasets.flight.score): one matcher behind the score and the benchmark."""

from __future__ import annotations

import json
from pathlib import Path

from heyan.datasets.flight.score import match_tickets, score_tickets


def _pt(lon: float, lat: float, **props: object) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


TRUTH = [_pt(120.0, 30.0, id="o1", **{"class": "boat"}, size_m=4.0, seen_in=2),
         _pt(120.001, 30.0, id="o2", **{"class": "waste_pile"}, size_m=2.0, seen_in=1),
         _pt(120.002, 30.0, id="o3", **{"class": "boat"}, size_m=4.0, seen_in=0)]
TICKETS = [_pt(120.00001, 30.0, id="t1", **{"class": "boat"}, error_m=3.0),   # o1, ~1 m off
           _pt(120.00002, 30.0, id="t2", **{"class": "boat"}, error_m=3.0),   # o1 again: a duplicate
           _pt(120.001, 30.0, id="t3", **{"class": "boat"}, error_m=3.0),     # wrong class at o2
           _pt(121.0, 30.0, id="t4", **{"class": "waste_pile"}, error_m=3.0)]  # nowhere near


def test_matches_and_the_score_agree(tmp_path: Path) -> None:
    seen = [o for o in TRUTH if o["properties"]["seen_in"]]
    matches, hits = match_tickets(seen, TICKETS)
    assert [m.obj for m in matches] == [0, 0, None, None]
    assert [m.first for m in matches] == [True, False, False, False]
    assert matches[0].error_m is not None and 0.5 < matches[0].error_m < 1.5 and matches[0].within_estimate
    assert hits.tolist() == [2, 0]
    (tmp_path / "truth.geojson").write_text(json.dumps({"features": TRUTH}))
    (tmp_path / "tickets.geojson").write_text(json.dumps({"features": TICKETS}))
    s = score_tickets(tmp_path / "truth.geojson", tmp_path / "tickets.geojson")
    assert (s.objects_seen, s.tickets, s.recall, s.precision, s.duplicate_rate) == (2, 4, 0.5, 0.5, 2.0)  # a duplicate is a true ticket, not a precise one
    assert s.per_class["boat"].true_tickets == 2 and s.per_class["waste_pile"].found == 0
    assert s.median_error_m == matches[0].error_m
