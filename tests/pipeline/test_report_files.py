"""The flight report from a hand-made ingest folder: no detector needed."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium

from heyan.pipeline.report.write import write_reports


def _folder(out: Path, rejected: list[dict[str, str]]) -> Path:
    out.mkdir()
    empty = json.dumps({"type": "FeatureCollection", "features": []})
    (out / "tickets.geojson").write_text(empty)
    (out / "footprints.geojson").write_text(empty)
    (out / "rejected.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rejected))
    (out / "summary.json").write_text(json.dumps({"flight_id": "空架次", "photos": len(rejected), "photos_used": 0,
                                                  "rejected": len(rejected), "detections": 0}))
    return out


def test_a_flight_with_no_usable_photo_gets_a_report_that_says_why(tmp_path):
    out = _folder(tmp_path / "out", [{"file": "/x/DJI_0001.JPG", "error": "no GPS position in EXIF or XMP"},
                                     {"file": "/x/DJI_0002.JPG", "error": "JPEG is truncated (no end-of-image marker)"}])
    written = write_reports(out, lang="zh")
    html = written["report"].read_text()
    assert "无法绘制地图" in html and '<svg id="map"' not in html
    assert "照片没有 GPS 位置" in html and "照片文件不完整" in html and "DJI_0002.JPG" in html
    doc = pdfium.PdfDocument(written["report_pdf"])
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "无法绘制地图" in text and "照片没有 GPS 位置" in text and "空架次" in text
