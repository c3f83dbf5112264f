"""The ticket record and tickets.geojson say the same thing both ways."""

from __future__ import annotations

import json

from heyan.pipeline.tickets.ticket import EvidenceRecord, TicketRecord


def _record() -> TicketRecord:
    return TicketRecord(
        id="tk-1", lat=30.5, lon=120.1, flight_id="f1", category="floating_debris", category_zh="漂浮物",
        class_name="floating_debris", severity="low", score=0.91, segment_id="seg-1", segment_name="示范段",
        river="双桥港", chainage_km=1.234, bank="left", bank_zh="左岸", chief_village="村长甲",
        chiefs={"village": {"name": "村长甲"}}, found_at="2026-05-01T10:00:00+08:00", deadline="2026-05-04",
        deadline_days=3, rule="debris", reason="floating debris on the water", error_m=2.5, size_m=1.2, n_views=2,
        best_image="a.jpg", best_crop="evidence/a.jpg", best_box=[1.0, 2.0, 3.0, 4.0],
        evidence=[EvidenceRecord(find="a.jpg#0", image="a.jpg", box=[1.0, 2.0, 3.0, 4.0], score=0.91, lat=30.5,
                                 lon=120.1, error_m=2.5, time="2026-05-01T10:00:00+08:00")],
        extra={"state": "confirmed"})


def test_record_survives_the_file() -> None:
    rec = _record()
    feature = json.loads(json.dumps(rec.to_feature(), ensure_ascii=False))
    assert feature["properties"]["class"] == "floating_debris" and "class_name" not in feature["properties"]
    assert feature["geometry"]["coordinates"] == [120.1, 30.5]
    assert "lat_gcj02" not in feature["properties"], "GCJ-02 columns only when asked for"
    assert TicketRecord.from_feature(feature) == rec


def test_feature_survives_the_record() -> None:
    rec = _record()
    rec.extra = {}
    feature = rec.to_feature()
    feature["properties"]["lat_gcj02"] = 30.497
    feature["properties"]["something_new"] = {"kept": True}
    again = TicketRecord.from_feature(feature).to_feature()
    assert again == feature
    assert list(again["properties"]) == list(feature["properties"]), "property order is the file's (named properties first, then the others)"


def test_partial_features_read_with_defaults() -> None:
    rec = TicketRecord.from_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                                     "properties": {"id": "x", "class": "boat"}})
    assert (rec.id, rec.class_name, rec.lat, rec.lon, rec.evidence, rec.extra) == ("x", "boat", 2.0, 1.0, [], {})
    assert rec.value("class") == "boat" and rec.value("missing") is None
