"""`heyan ingest` end to end on simulated flights with the default model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from heyan.datasets.flight.score import score_tickets
from heyan.models.registry import load_detector
from heyan.models.settings import DetectorSettings
from heyan.pipeline.geo.rivers import load_network
from heyan.pipeline.ingest import FlightIngest, IngestOptions, load_open_tickets
from heyan.pipeline.tickets.rules import load_rules

HEYAN = [sys.executable, "-m", "heyan.cli"]


def simulate(out: Path, *args: str) -> Path:
    res = subprocess.run(HEYAN + ["simulate-flight", "--out", str(out), *args], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="module")
def flight(tmp_path_factory) -> Path:
    return simulate(tmp_path_factory.mktemp("sim") / "flight-a", "--photos", "10", "--seed", "5", "--width", "1600", "--height", "1200")


@pytest.fixture(scope="module")
def detector():
    return load_detector("heyan-det-v1", threads=2)


@pytest.fixture(scope="module")
def ingested(flight, detector, tmp_path_factory) -> tuple[Path, object]:
    photos = tmp_path_factory.mktemp("photos") / "flight-a"
    shutil.copytree(flight / "photos", photos)
    good = sorted(photos.glob("*.jpg"))[0].read_bytes()
    (photos / "zz_truncated.jpg").write_bytes(good[: len(good) // 3])
    (photos / "zz_not_a_photo.jpg").write_bytes(b"hello")
    import cv2
    import numpy as np

    cv2.imwrite(str(photos / "zz_no_gps.jpg"), np.full((300, 400, 3), 90, np.uint8))
    out = tmp_path_factory.mktemp("out")
    ing = FlightIngest(load_network(flight / "rivers.geojson"), load_rules(), detector, DetectorSettings().slice_params(detector.imgsz), IngestOptions())
    summary = ing.run(photos, out, progress=False)
    return out, summary


def test_bad_photos_are_rejected_by_name_and_the_flight_goes_on(ingested):
    out, summary = ingested
    rejected = {Path(r["file"]).name: r["error"] for r in map(json.loads, (out / "rejected.jsonl").read_text().splitlines())}
    assert set(rejected) == {"zz_truncated.jpg", "zz_not_a_photo.jpg", "zz_no_gps.jpg"}
    assert "GPS" in rejected["zz_no_gps.jpg"]
    assert summary.photos == 13 and summary.photos_used == 10 and summary.rejected == 3


def test_outputs_are_complete_and_consistent(ingested):
    out, summary = ingested
    tickets = json.loads((out / "tickets.geojson").read_text())
    assert tickets["type"] == "FeatureCollection" and len(tickets["features"]) == summary.tickets > 0
    ids = set()
    for f in tickets["features"]:
        p = f["properties"]
        assert f["geometry"]["type"] == "Point"
        for key in ("id", "category", "class", "score", "segment_id", "segment_name", "chainage_km", "bank", "deadline",
                    "rule", "error_m", "evidence", "chief_village"):
            assert key in p, key
        assert p["evidence"] and all({"image", "box"} <= set(e) for e in p["evidence"])
        assert (out / p["best_crop"]).is_file()
        ids.add(p["id"])
    dets = [json.loads(x) for x in (out / "detections.jsonl").read_text().splitlines()]
    assert len(dets) == summary.detections
    for d in dets:
        assert {"image", "class", "score", "box", "lat", "lon", "error_m", "ticket"} <= set(d)
        assert d["ticket"] is None or d["ticket"] in ids
        assert d["ticket"] is not None or d["reason"]
    fps = json.loads((out / "footprints.geojson").read_text())["features"]
    assert len(fps) == 10 and all(f["geometry"]["type"] == "Polygon" for f in fps)
    for name in ("tickets.csv", "tickets.xlsx", "tickets.kml", "report.html", "summary.json"):
        assert (out / name).stat().st_size > 0


def test_report_is_self_contained(ingested):
    out, _ = ingested
    html = (out / "report.html").read_text()
    assert "<svg" in html and "工单" in html
    for bad in ('src="http', "src='http", 'href="http', "<script src", "@import", "url(http"):
        assert bad not in html


def test_tickets_match_ground_truth(ingested, flight):
    out, _ = ingested
    when = datetime.fromisoformat(json.loads((flight / "poses.jsonl").read_text().splitlines()[0])["time"])
    s = score_tickets(flight / "truth.geojson", out / "tickets.geojson", network=load_network(flight / "rivers.geojson"),
                      rules=load_rules(), when=when)
    print("ticket score:", json.dumps({k: v for k, v in s.to_dict().items() if k != "per_class"}))
    assert s.objects_seen >= 3
    assert s.recall >= 0.4 and s.precision >= 0.4
    assert s.duplicate_rate <= 1.5
    assert s.median_error_m is not None and s.median_error_m < 6.0


def test_second_flight_over_the_same_place_is_seen_again_not_new(ingested, flight, detector, tmp_path):
    out, summary = ingested
    earlier = load_open_tickets(out / "tickets.geojson")
    again = FlightIngest(load_network(flight / "rivers.geojson"), load_rules(), detector, DetectorSettings().slice_params(detector.imgsz),
                         IngestOptions(flight_id="flight-b")).run(flight / "photos", tmp_path / "b", earlier, progress=False)
    assert again.seen_again >= max(1, summary.tickets // 2)
    assert again.tickets <= summary.tickets // 3, "the same objects became new tickets instead of evidence"
    updates = [json.loads(x) for x in (tmp_path / "b" / "updates.jsonl").read_text().splitlines()]
    assert {u["ticket"] for u in updates if u["event"] == "seen_again"} <= {t.id for t in earlier}


def test_zip_flight_and_unsafe_zip(flight, tmp_path):
    z = tmp_path / "flight.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted((flight / "photos").glob("*.jpg"))[:2]:
            zf.write(p, f"DCIM/{p.name}")
    res = subprocess.run(HEYAN + ["ingest", str(z), "--rivers", str(flight / "rivers.geojson"), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["photos"] == 2 and summary["flight_id"] == "flight"
    assert "report:" in res.stderr
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.jpg", b"x")
    res = subprocess.run(HEYAN + ["ingest", str(evil), "--rivers", str(flight / "rivers.geojson"), "--out", str(tmp_path / "e")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "evil.zip" in res.stderr and "outside" in res.stderr
    assert not (tmp_path / "escape.jpg").exists()


def test_bad_river_network_is_refused_with_the_feature_named(flight, tmp_path):
    bad = tmp_path / "rivers.geojson"
    doc = json.loads((flight / "rivers.geojson").read_text())
    doc["features"][0]["geometry"] = {"type": "Point", "coordinates": [120, 30]}
    bad.write_text(json.dumps(doc))
    res = subprocess.run(HEYAN + ["ingest", str(flight / "photos"), "--rivers", str(bad), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "features[0]" in res.stderr
