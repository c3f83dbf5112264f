"""Ticket workflow over HTTP on both engines: the state machine (409 with the allowed
states), dispatch to the lowest chief with the rule's deadline, rectification with a photo,
closing, the audit log, escalation of overdue tickets with a settable clock, a chief's view
limited to his segments, filters and pagination, exports, and the assessment figures."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from serve_helpers import LiveServer, tiny_jpeg
from serve_helpers import seed_ticket as seed


def move(c: Any, tid: str, to: str, comment: str | None = None) -> Any:
    return c.post(f"/api/tickets/{tid}/transition", json={"to": to, "comment": comment})


def test_review_dispatch_rectify_close(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-flow")
    rev, chief, admin = live.client("reviewer"), live.client("chief"), live.client("admin")

    r = move(rev, "tk-flow", "dispatched")
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == ["confirmed", "rejected"] and body["state"] == "pending_review" and "cannot go" in body["detail"]
    assert chief.get("/api/tickets/tk-flow").status_code == 404  # not reviewed yet: not a chief's business
    assert move(chief, "tk-flow", "confirmed").status_code == 403

    r = move(rev, "tk-flow", "confirmed", "真实问题")
    assert r.status_code == 200 and r.json()["state"] == "confirmed"
    assert move(rev, "tk-flow", "confirmed").status_code == 409

    r = move(rev, "tk-flow", "dispatched")
    d = r.json()
    assert d["state"] == "dispatched" and d["chief_name"] == "村长甲" and d["chief_level"] == "village"
    deadline = datetime.fromisoformat(d["deadline"])
    assert abs((deadline - live.clock.now()) - timedelta(days=3)) < timedelta(minutes=1)

    assert move(admin, "tk-flow", "rectified").status_code == 422  # a photo is required
    seen = chief.get("/api/tickets/tk-flow").json()
    assert seen["allowed_transitions"] == ["rectified"]
    r = chief.post("/api/tickets/tk-flow/rectify", files={"photo": ("after.jpg", tiny_jpeg(), "image/jpeg")},
                   data={"comment": "已清理", "reason": "测试照片无拍摄信息"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["state"] == "rectified"
    rect = [e for e in d["evidence"] if e["kind"] == "rectification"]
    assert len(rect) == 1 and rect[0]["comment"] == "已清理"
    assert chief.get(rect[0]["photo_url"]).content == tiny_jpeg()
    assert chief.post("/api/tickets/tk-flow/rectify", files={"photo": ("x.jpg", b"x", "image/jpeg")}).status_code == 409

    r = move(rev, "tk-flow", "closed", "复核通过")
    assert r.status_code == 200
    audit = r.json()["audit"]
    steps = [(a["actor"], a["from_state"], a["to_state"]) for a in audit if a["action"] == "transition"]
    assert steps == [("reviewer-user", "pending_review", "confirmed"), ("reviewer-user", "confirmed", "dispatched"),
                     ("chief-user", "dispatched", "rectified"), ("reviewer-user", "rectified", "closed")]
    assert audit[-1]["comment"] == "复核通过" and all(a["at"] for a in audit)
    r = move(rev, "tk-flow", "confirmed")
    assert r.status_code == 409 and r.json()["allowed"] == []


def test_reject_and_hard_negatives(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-neg")
    rev = live.client("reviewer")
    assert move(rev, "tk-neg", "rejected", "水面反光").status_code == 200
    lines = [json.loads(x) for x in rev.get("/api/exports/hard-negatives.jsonl").text.splitlines()]
    mine = [x for x in lines if x["ticket_id"] == "tk-neg"]
    assert mine and mine[0]["rejected_comment"] == "水面反光" and mine[0]["box"] == [1, 2, 3, 4]
    assert live.client("viewer").get("/api/exports/hard-negatives.jsonl").status_code == 403
    assert move(rev, "tk-neg", "pending_review", "误判").status_code == 200  # undo


def test_escalation_with_clock(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-late", days=2)
    rev = live.client("reviewer")
    move(rev, "tk-late", "confirmed")
    move(rev, "tk-late", "dispatched")
    assert rev.post("/api/tickets/escalate").json()["changed"] == []
    live.clock.advance(timedelta(days=2, hours=1))
    r = rev.post("/api/tickets/escalate")
    assert "tk-late" in r.json()["changed"]
    t = rev.get("/api/tickets/tk-late").json()
    assert t["overdue"] and t["chief_name"] == "镇长乙" and t["escalations"] == 1
    assert "tk-late" not in rev.post("/api/tickets/escalate").json()["changed"]  # idempotent at the same time
    live.clock.advance(timedelta(days=2))
    rev.post("/api/tickets/escalate")
    t = rev.get("/api/tickets/tk-late").json()
    assert t["chief_name"] == "县长丙" and t["chief_level"] == "county"
    live.clock.advance(timedelta(days=10))
    rev.post("/api/tickets/escalate")
    t = rev.get("/api/tickets/tk-late").json()
    assert t["chief_name"] == "县长丙" and t["escalations"] == 2
    esc = [a for a in t["audit"] if a["action"] == "escalate"]
    assert [a["data"]["to_chief"] for a in esc] == ["镇长乙", "县长丙"] and all(a["actor"] == "system" for a in esc)
    assert rev.get("/api/tickets", params={"overdue": True}).json()["total"] >= 1
    stats = rev.get("/api/stats/assessment").json()
    village = next(r for r in stats["by_chief"] if r["key"] == "村长甲")
    assert village["overdue"] >= 1 and village["open_overdue"] >= 1
    live.clock.set(datetime.now(UTC))


def test_chief_sees_only_his_segments(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-other", segment="seg-9", state="dispatched")
    seed(live, "tk-mine", segment="seg-2", state="dispatched")
    chief = live.client("chief")
    ids = {t["id"] for t in chief.get("/api/tickets", params={"limit": 500}).json()["items"]}
    assert "tk-mine" in ids and "tk-other" not in ids
    assert chief.get("/api/tickets/tk-other").status_code == 404
    r = chief.post("/api/tickets/tk-other/rectify", files={"photo": ("a.jpg", b"x", "image/jpeg")})
    assert r.status_code == 404
    geo = chief.get("/api/exports/tickets.geojson").json()
    assert {f["id"] for f in geo["features"]} <= ids


def test_filters_pagination_and_exports(live_module: LiveServer) -> None:
    live = live_module
    base = datetime(2025, 6, 1, 4, tzinfo=UTC)
    for i in range(12):
        seed(live, f"tk-f{i:02d}", segment="seg-f", category="illegal_dumping" if i % 3 == 0 else "floating_debris",
             lat=30.0 + i * 0.01, lon=121.0 + i * 0.01, found=base + timedelta(days=i))
    c = live.client("viewer")
    page = c.get("/api/tickets", params={"segment_id": "seg-f", "limit": 5, "offset": 0, "sort": "found_at"}).json()
    assert page["total"] == 12 and [t["id"] for t in page["items"]] == [f"tk-f{i:02d}" for i in range(5)]
    page2 = c.get("/api/tickets", params={"segment_id": "seg-f", "limit": 5, "offset": 10, "sort": "found_at"}).json()
    assert [t["id"] for t in page2["items"]] == ["tk-f10", "tk-f11"]
    cat = c.get("/api/tickets", params={"segment_id": "seg-f", "category": "illegal_dumping"}).json()
    assert cat["total"] == 4
    days = c.get("/api/tickets", params={"segment_id": "seg-f", "date_from": "2025-06-03", "date_to": "2025-06-05"}).json()
    assert {t["id"] for t in days["items"]} == {"tk-f02", "tk-f03", "tk-f04"}
    box = c.get("/api/tickets", params={"bbox": "121.015,30.015,121.045,30.045"}).json()
    assert {t["id"] for t in box["items"]} == {"tk-f02", "tk-f03", "tk-f04"}
    assert c.get("/api/tickets", params={"bbox": "1,2,3"}).status_code == 422
    st = c.get("/api/tickets", params={"segment_id": "seg-f", "state": ["confirmed", "closed"]}).json()
    assert st["total"] == 0

    q = {"segment_id": "seg-f"}
    geo = c.get("/api/exports/tickets.geojson", params=q).json()
    assert len(geo["features"]) == 12 and geo["features"][0]["properties"]["state"] == "pending_review"
    text = c.get("/api/exports/tickets.csv", params={**q, "gcj02": True}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "工单编号" and "纬度(GCJ-02)" in rows[0] and len(rows) == 13
    wb = openpyxl.load_workbook(io.BytesIO(c.get("/api/exports/tickets.xlsx", params=q).content))
    assert wb.active.max_row == 13
    kml = ET.fromstring(c.get("/api/exports/tickets.kml", params=q).content)
    assert len(kml.findall(".//{http://www.opengis.net/kml/2.2}Placemark")) == 12
    assert c.get("/api/exports/tickets.pdf").status_code == 422


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_readers_cannot_move_tickets(live_module: LiveServer, role: str) -> None:
    seed(live_module, f"tk-ro-{role}")
    assert move(live_module.client(role), f"tk-ro-{role}", "confirmed").status_code == 403
