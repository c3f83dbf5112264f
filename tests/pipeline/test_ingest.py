"""`heyan ingest` end to end on simulated flights with the default model."""

from __future__ import annotations

import json
import re
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
    # The report marks the open tickets seen again on its map (diamonds) and counts them.
    html = (tmp_path / "b" / "report.html").read_text()
    assert html.count('<path class="marker"') == again.seen_again
    assert "已有工单，本次再次发现" in html
    from heyan.pipeline.report.data import category_rows, load_report_data

    data = load_report_data(tmp_path / "b")
    assert all(s.category for s in data.seen_again)  # from this flight's detections of them
    rows = category_rows(data, "zh")
    assert sum(a for _, _, a in rows) == again.seen_again and sum(n for _, n, _ in rows) == again.tickets


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


# -- the flight report (report.html, report.pdf) ------------------------------------------------

def _map_svg(html: str) -> str:
    return html[html.index('<svg id="map"'):html.index("</svg>", html.index('<svg id="map"'))]


def test_report_map_is_zoomed_to_the_flight(ingested):
    from heyan.pipeline.report.data import load_report_data
    from heyan.pipeline.report.geometry import LocalFrame, bounds, map_extent
    from heyan.pipeline.report.scene import flight_points

    out, _ = ingested
    svg = _map_svg((out / "report.html").read_text())
    drawn = [float(v) for v in re.search(r'data-extent="([^"]+)"', svg).group(1).split()]
    # The flight: every footprint corner and ticket, projected into the local UTM zone.
    fps = json.loads((out / "footprints.geojson").read_text())["features"]
    tks = json.loads((out / "tickets.geojson").read_text())["features"]
    pts = [tuple(p) for f in fps for p in f["geometry"]["coordinates"][0]] + [tuple(f["geometry"]["coordinates"]) for f in tks]
    frame = LocalFrame.around(pts)
    flight = bounds(frame.many(pts))
    assert frame.epsg == int(re.search(r'data-epsg="(\d+)"', svg).group(1))
    want = map_extent(flight)
    assert drawn == pytest.approx([want.x0, want.y0, want.x1, want.y1], abs=0.01)
    assert flight_points(load_report_data(out))  # the same points the renderer used
    # Zoomed: the flight fills most of the drawing, no thin strip in an empty box.
    area = (drawn[2] - drawn[0]) * (drawn[3] - drawn[1])
    assert flight.width * flight.height / area > 0.6
    vb = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert vb[3] / vb[2] == pytest.approx((drawn[3] - drawn[1]) / (drawn[2] - drawn[0]), rel=1e-3)


def test_report_lays_the_photos_on_their_footprints(ingested):
    import base64

    import cv2
    import numpy as np

    out, _ = ingested
    html = (out / "report.html").read_text()
    svg = _map_svg(html)
    fps = json.loads((out / "footprints.geojson").read_text())["features"]
    assert svg.count('class="footprint"') == len(fps) == 10
    for f in fps:
        assert (out / f["properties"]["thumb"]).is_file() and len(f["properties"]["corners"]) == 4
    data = re.search(r'class="photos" href="data:image/jpeg;base64,([^"]+)"', svg).group(1)
    mosaic = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    vb = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    k = mosaic.shape[1] / vb[2]
    # At the centre of every footprint the map shows a photo, not the empty background.
    from heyan.pipeline.report.scene import BACKGROUND_BGR
    polys = re.findall(r'<polygon class="footprint" points="([^"]+)"', svg)
    for pts in polys:
        xy = np.array([[float(v) for v in p.split(",")] for p in pts.split()])
        cx, cy = (xy.mean(0) * k).astype(int)
        patch = mosaic[cy - 3:cy + 4, cx - 3:cx + 4].reshape(-1, 3).astype(int)
        assert np.abs(patch - np.array(BACKGROUND_BGR)).sum(1).max() > 12
    size = (out / "report.html").stat().st_size
    print(f"report.html {size / 1e3:.0f} kB for 10 photos")
    assert size < 1_500_000


def test_report_speaks_chinese(ingested):
    from heyan.pipeline.report.data import load_report_data
    from heyan.pipeline.report.html_report import render_html

    out, summary = ingested
    html = (out / "report.html").read_text()
    legend = html[html.index('<div class="legend">'):html.index("</div>", html.index('<div class="legend">'))]
    items = re.findall(r"<li>(.*?)</li>", legend)
    assert len(items) >= 3 and "图例" in legend
    for item in items:  # every legend entry is Chinese (English only beside it)
        assert re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", item)), item
    for zh in summary.per_category:
        assert zh in legend
    for zh in ("照片覆盖范围", "北", "概况", "无法使用的照片及原因", "照片没有 GPS 位置", "工单清单"):
        assert zh in html, zh
    assert "zz_truncated.jpg" in html and "zz_no_gps.jpg" in html
    # --lang zh: no English words in the legend and the tables' headings.
    only = render_html(load_report_data(out), out, lang="zh")
    legend = only[only.index('<div class="legend">'):only.index("</div>", only.index('<div class="legend">'))]
    words = set(re.findall(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", " ", legend))) - {"WGS", "UTM", "EPSG"}
    assert not words, words
    heads = re.findall(r"<th>(.*?)</th>", only)
    assert heads and not [h for h in heads if re.search(r"[A-Za-z]{3,}", h)]


def test_report_pdf(ingested):
    # PDFium (Chrome's PDF engine) reads the text back as a reader's copy and search would.
    import pypdfium2 as pdfium

    out, summary = ingested
    doc = pdfium.PdfDocument(out / "report.pdf")
    pages = [doc[i] for i in range(len(doc))]
    text = re.sub(r"\s+", "", "".join(p.get_textpage().get_text_range() for p in pages))
    for zh in ("航拍任务巡查报告", "图例", "照片覆盖范围", "概况", "工单清单", "照片没有GPS位置", "整改期限", "责任河长", "北"):
        assert zh in text, zh
    for zh in summary.per_category:
        assert zh in text
    tickets = json.loads((out / "tickets.geojson").read_text())["features"]
    for f in tickets:
        assert f["properties"]["id"] in text
    # The map, the summary, then the tickets (at least 3 a page).
    assert 3 <= len(pages) <= 2 + -(-len(tickets) // 3)
    w, h = pages[0].get_size()
    assert w > h and (w, h) == pytest.approx((842, 595), abs=1)  # A4 landscape, points
    raw = (out / "report.pdf").read_bytes()
    assert b"/FontFile3" in raw and b"NotoSansCJKSC" in raw  # the shipped font, embedded (subset)
    print(f"report.pdf {len(raw) / 1e3:.0f} kB, {len(pages)} pages")


def test_report_from_a_corrupt_file_names_it(ingested, tmp_path):
    from heyan.pipeline.report.data import ReportInputError
    from heyan.pipeline.report.write import write_reports

    out, _ = ingested
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "tickets.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ReportInputError, match=r"tickets\.geojson: not valid JSON"):
        write_reports(copy)
    res = subprocess.run(HEYAN + ["report", str(copy), "--no-html"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and f"{copy / 'tickets.geojson'}: not valid JSON" in res.stderr, res.stderr
    (copy / "tickets.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [{"geometry": None}]}))
    with pytest.raises(ReportInputError, match=r"tickets\.geojson: a ticket is invalid"):
        write_reports(copy)
    # A good folder is redrawn by `heyan report`, Chinese only.
    shutil.copy(out / "tickets.geojson", copy / "tickets.geojson")
    (copy / "report.pdf").unlink()
    res = subprocess.run(HEYAN + ["report", str(copy), "--lang", "zh"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (copy / "report.pdf").stat().st_size > 10_000
