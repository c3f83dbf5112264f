from __future__ import annotations

import csv
import json

import numpy as np
from defusedxml import ElementTree

from heyan.pipeline.geo.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from heyan.pipeline.tickets.exports import LEDGER_COLUMNS, write_csv, write_geojson, write_kml, write_xlsx
from heyan.pipeline.tickets.ticket import TicketRecord


def _features():
    return [TicketRecord.from_feature(f) for f in _feature_dicts()]


def _feature_dicts():
    return [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.97, 30.52]},
         "properties": {"id": "tk-1", "category_zh": "漂浮物", "class": "floating_debris", "segment_name": "东苕溪A段",
                        "chainage_km": 1.25, "bank_zh": "左岸", "score": 0.81, "deadline": "2026-11-26",
                        "chief_village": "王村长", "lat_gcj02": 30.5177, "lon_gcj02": 119.9746}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.98, 30.53]},
         "properties": {"id": "tk-2", "category_zh": "乱堆", "class": "waste_pile", "reason": "a <b> & c"}},
    ]


def test_csv_has_chinese_headers_and_opens_in_excel_encoding(tmp_path):
    p = write_csv(tmp_path / "t.csv", _features())
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "BOM so Excel reads UTF-8"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["工单编号", "问题类别", "检测类别"]
    assert rows[1][0] == "tk-1" and "漂浮物" in rows[1]
    lat_col = rows[0].index("纬度(WGS-84)")
    assert float(rows[1][lat_col]) == 30.52
    assert "纬度(GCJ-02)" not in rows[0]
    rows = list(csv.reader(write_csv(tmp_path / "g.csv", _features(), gcj02=True).read_text("utf-8-sig").splitlines()))
    assert "纬度(GCJ-02)" in rows[0]


def test_xlsx_is_a_real_workbook(tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(write_xlsx(tmp_path / "t.xlsx", _features()))
    ws = wb.active
    assert ws.title == "问题台账"
    assert [c.value for c in ws[1]][: len(LEDGER_COLUMNS)] == [zh for _, zh, _ in LEDGER_COLUMNS]
    assert ws.cell(2, 1).value == "tk-1" and ws.max_row == 3


def test_kml_is_valid_xml_with_escaped_text(tmp_path):
    root = ElementTree.parse(write_kml(tmp_path / "t.kml", _features())).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    assert len(marks) == 2
    assert marks[0].find("k:Point/k:coordinates", ns).text.startswith("119.9700000,30.5200000")
    assert "a <b> & c" in marks[1].find("k:description", ns).text


def test_geojson_round_trip(tmp_path):
    p = write_geojson(tmp_path / "t.geojson", _feature_dicts(), flight_id="f1")
    doc = json.loads(p.read_text())
    assert doc["type"] == "FeatureCollection" and doc["flight_id"] == "f1" and len(doc["features"]) == 2


def test_gcj02_offset_size_and_inverse():
    lat = np.array([30.52, 39.9, 22.59, 45.0])
    lon = np.array([119.97, 116.4, 114.0, 126.6])
    glat, glon = wgs84_to_gcj02(lat, lon)
    # The published offset is a few hundred metres across mainland China.
    d = np.hypot((glat - lat) * 111_000, (glon - lon) * 111_000 * np.cos(np.radians(lat)))
    assert ((d > 100) & (d < 800)).all(), d
    blat, blon = gcj02_to_wgs84(glat, glon)
    assert np.abs(blat - lat).max() < 1e-7 and np.abs(blon - lon).max() < 1e-7


def test_gcj02_not_applied_outside_china():
    assert out_of_china(48.85, 2.35)
    glat, glon = wgs84_to_gcj02(48.85, 2.35)
    assert float(glat) == 48.85 and float(glon) == 2.35


def _workflow_records() -> list[TicketRecord]:
    base = {"category_zh": "漂浮物", "class": "floating_debris", "severity": "high", "chief_name": "陈秀英",
            "chief_level": "township", "found_at": "2026-06-01T02:03:04.123456+00:00"}
    return [TicketRecord.from_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [119.97, 30.52]},
                                       "properties": {"id": f"tk-{state}", "state": state, **base, **extra}})
            for state, extra in (("dispatched", {"overdue": True, "dispatched_at": "2026-06-02T00:00:00+00:00",
                                                 "deadline": "2026-06-05T00:00:00+00:00"}),
                                 ("closed", {"dispatched_at": "2026-06-02T00:00:00+00:00",
                                             "rectified_at": "2026-06-03T16:30:00+00:00",
                                             "closed_at": "2026-06-04T01:00:00.5+00:00"}),
                                 ("pending_review", {}))]


def test_workflow_ledger_in_chinese_and_beijing_time(tmp_path):
    from openpyxl import load_workbook

    ws = load_workbook(write_xlsx(tmp_path / "w.xlsx", _workflow_records())).active
    header = [c.value for c in ws[1]]
    assert header[:6] == ["工单编号", "状态", "责任河长", "交办时间", "整改时间", "销号时间"]
    rows = {r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)}
    late, done = rows["tk-dispatched"], rows["tk-closed"]
    assert late["状态"] == "整改中（逾期）" and done["状态"] == "已销号" and rows["tk-pending_review"]["状态"] == "待审核"
    assert late["责任河长"] == "陈秀英（乡镇级）"
    assert late["严重程度"] == "严重" and late["检测类别"] == "漂浮物" and late["问题类别"] == "漂浮物"
    # Beijing time, to the second: 02:03:04 UTC is 10:03:04; 16:30 UTC is 00:30 the next day.
    assert late["发现时间"] == "2026-06-01 10:03:04" and late["交办时间"] == "2026-06-02 08:00:00"
    assert late["整改期限"] == "2026-06-05 08:00:00"
    assert done["整改时间"] == "2026-06-04 00:30:00" and done["销号时间"] == "2026-06-04 09:00:00"
    assert rows["tk-pending_review"]["交办时间"] in (None, "")
    text = " ".join(str(v) for r in rows.values() for v in r.values() if v is not None)
    for raw in ("dispatched", "pending_review", "high", "floating_debris", "+00:00", ".123456", "township"):
        assert raw not in text.replace("tk-dispatched", "").replace("tk-pending_review", ""), raw


def test_drafts_ledger_has_no_workflow_columns(tmp_path):
    rows = list(csv.reader(write_csv(tmp_path / "d.csv", _features()).read_text("utf-8-sig").splitlines()))
    assert "状态" not in rows[0] and "交办时间" not in rows[0]
    assert rows[1][rows[0].index("整改期限")] == "2026-11-26"  # a bare date stays a date


def test_kml_placemarks_styled_by_state(tmp_path):
    root = ElementTree.parse(write_kml(tmp_path / "s.kml", _workflow_records())).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    styles = {s.get("id"): s.find("k:IconStyle/k:color", ns).text for s in root.findall(".//k:Style", ns)}
    assert {"state-dispatched", "state-closed", "state-pending_review"} <= set(styles)
    assert len(set(styles.values())) == len(styles), "each state its own colour"
    marks = {m.find("k:name", ns).text.split()[-1]: m for m in root.findall(".//k:Placemark", ns)}
    assert marks["tk-closed"].find("k:styleUrl", ns).text == "#state-closed"
    assert marks["tk-dispatched"].find("k:styleUrl", ns).text == "#state-dispatched"
    desc = marks["tk-dispatched"].find("k:description", ns).text
    assert "状态: 整改中（逾期）" in desc and "责任河长: 陈秀英（乡镇级）" in desc
    # Drafts of ``heyan ingest`` have no state: styled as waiting for review.
    draft = ElementTree.parse(write_kml(tmp_path / "d.kml", _features())).getroot()
    assert {m.find("k:styleUrl", ns).text for m in draft.findall(".//k:Placemark", ns)} == {"#state-pending_review"}
