"""考核 (issue 13): every segment and every chief of the network listed, zeros included; the
per-segment and per-chief tables add up to one grand total; the date range applies to the
chosen workflow time; the rates; the XLSX export with its totals."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from serve_helpers import LiveServer, seed_ticket

COUNTS = ("found", "dispatched", "closed", "due", "on_time", "overdue", "open_overdue")


def _seg(sid: str, name: str, lon0: float, chiefs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"kind": "segment", "id": sid, "name": name, "river": "考核河", "chiefs": chiefs},
            "geometry": {"type": "LineString", "coordinates": [[lon0, 30.5], [lon0 + 0.02, 30.5]]}}


NETWORK = {"type": "FeatureCollection", "name": "考核测试", "features": [
    _seg("seg-1", "一段", 120.00, {"village": {"name": "村长甲"}, "township": {"name": "镇长乙"}, "county": {"name": "县长丙"}}),
    _seg("seg-2", "二段", 120.03, {"village": {"name": "村长甲"}, "township": {"name": "镇长乙"}}),
    _seg("seg-empty", "空段", 120.06, {"village": {"name": "村长无事"}}),
    _seg("seg-formula", "=HYPERLINK(\"http://x\")", 120.09, {"village": {"name": "@SUM(1)"}}),  # names are text, never formulas
]}


def move(c: Any, tid: str, to: str, **kw: Any) -> Any:
    r = c.post(f"/api/tickets/{tid}/transition", json={"to": to, **kw})
    assert r.status_code == 200, r.text
    return r


def _rectify(live: LiveServer, tid: str) -> None:
    from serve_helpers import tiny_jpeg

    r = live.client("admin").post(f"/api/tickets/{tid}/rectify", files={"photo": ("r.jpg", tiny_jpeg(), "image/jpeg")})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def arranged(live_module: LiveServer) -> LiveServer:
    """Tickets in every state on seg-1 and seg-2, one with no segment, none on seg-empty."""
    live = live_module
    assert live.client("admin").post("/api/rivers", json=NETWORK).status_code in (200, 201)
    rev = live.client("reviewer")
    t0 = live.clock.now()
    seed_ticket(live, "as-pending", segment="seg-1")  # not a find: pending
    seed_ticket(live, "as-rejected", segment="seg-1")
    move(rev, "as-rejected", "rejected")
    seed_ticket(live, "as-confirmed", segment="seg-1")
    move(rev, "as-confirmed", "confirmed")  # found, not dispatched
    for tid in ("as-closed", "as-late", "as-open", "as-seg2"):
        seed_ticket(live, tid, segment="seg-2" if tid == "as-seg2" else "seg-1", days=3)
        move(rev, tid, "confirmed")
        move(rev, tid, "dispatched")
    _rectify(live, "as-closed")  # on time
    move(rev, "as-closed", "closed")
    seed_ticket(live, "as-noseg", segment=None)  # type: ignore[arg-type]
    move(rev, "as-noseg", "confirmed")
    live.clock.advance(timedelta(days=4))  # as-late, as-open, as-seg2 now past their deadline
    rev.post("/api/tickets/escalate").raise_for_status()
    _rectify(live, "as-late")  # late
    live.t0 = t0  # type: ignore[attr-defined]
    return live


def _sum(rows: list[dict[str, Any]], key: str) -> int:
    return sum(r[key] for r in rows)


def test_zero_rows_and_totals_add_up(arranged: LiveServer) -> None:
    a = arranged.client("viewer").get("/api/stats/assessment").json()
    segs = {r["key"]: r for r in a["by_segment"]}
    assert list(segs)[:3] == ["seg-1", "seg-2", "seg-empty"], "the network's segments first, in its order"
    assert segs["seg-empty"]["found"] == 0 and segs["seg-empty"]["closure_rate"] is None, "a segment without tickets is listed"
    assert segs[None]["found"] == 1, "tickets with no segment get their own row"
    chiefs = {r["key"]: r for r in a["by_chief"]}
    assert chiefs["村长无事"]["found"] == 0 and chiefs["村长无事"]["level"] == "village", "a chief without tickets is listed"
    assert chiefs["县长丙"]["level"] == "county" and chiefs["县长丙"]["found"] == 0
    assert chiefs[None]["found"] == 2, "found but not yet dispatched: as-confirmed, as-noseg"
    assert chiefs["村长甲"]["found"] == 4 and chiefs["村长甲"]["dispatched"] == 4
    total = a["total"]
    assert total["found"] == 6, "pending and rejected tickets are not finds"
    for key in COUNTS:
        assert _sum(a["by_segment"], key) == total[key] == _sum(a["by_chief"], key), key
    # The rates: 1 closed of 6 found; due = rectified or past the deadline (closed, late,
    # open, seg2) and on time only the one rectified before its deadline.
    assert total["closed"] == 1 and total["closure_rate"] == round(1 / 6, 4)
    assert total["due"] == 4 and total["on_time"] == 1 and total["on_time_rate"] == 0.25
    assert total["overdue"] == 3 and total["open_overdue"] == 2
    assert segs["seg-1"]["length_km"] == pytest.approx(1.917, abs=0.01)  # 0.02 deg of longitude at 30.5 N
    assert segs["seg-1"]["finds_per_km"] == pytest.approx(4 / segs["seg-1"]["length_km"], abs=1e-3)
    assert total["length_km"] == pytest.approx(4 * segs["seg-1"]["length_km"], abs=0.01)
    weekly = a["weekly"]
    assert sum(w["found"] for w in weekly) == 6 and sum(w["closed"] for w in weekly) == 1
    assert all(w["category_zh"] == "漂浮物" for w in weekly)


def test_date_field_switch(arranged: LiveServer) -> None:
    c = arranged.client("reviewer")
    t0 = arranged.t0  # type: ignore[attr-defined]
    day = (t0 + timedelta(hours=8)).date()  # Beijing date of the finds, dispatches and the closure
    later = (arranged.clock.now() + timedelta(hours=8)).date()
    assert later > day

    def total(**params: Any) -> dict[str, Any]:
        r = c.get("/api/stats/assessment", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    found = total(date_from=day.isoformat(), date_to=day.isoformat())
    assert found["date_field"] == "found_at" and found["total"]["found"] == 6
    disp = total(date_field="dispatched_at", date_from=day.isoformat(), date_to=day.isoformat())
    assert disp["date_field"] == "dispatched_at" and disp["total"]["found"] == 4, "undispatched tickets have no 交办 date"
    closed = total(date_field="closed_at", date_from=day.isoformat(), date_to=day.isoformat())
    assert closed["total"]["found"] == 1 and closed["total"]["closed"] == 1
    none = total(date_field="closed_at", date_from=later.isoformat())
    assert none["total"]["found"] == 0
    assert len(none["by_segment"]) >= 4 and len(none["by_chief"]) >= 5, "zero rows even when nothing matches"
    assert c.get("/api/stats/assessment", params={"date_field": "password"}).json()["code"] == "invalid_request"


def test_chief_sees_his_segments_only(arranged: LiveServer) -> None:
    a = arranged.client("chief").get("/api/stats/assessment").json()  # the test chief answers for seg-1, seg-2
    assert {r["key"] for r in a["by_segment"]} == {"seg-1", "seg-2"}
    for key in COUNTS:
        assert _sum(a["by_segment"], key) == a["total"][key] == _sum(a["by_chief"], key)


def test_xlsx_export_with_totals(arranged: LiveServer) -> None:
    from openpyxl import load_workbook

    c = arranged.client("viewer")
    r = c.get("/api/stats/assessment.xlsx", params={"date_field": "dispatched_at"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    a = c.get("/api/stats/assessment", params={"date_field": "dispatched_at"}).json()
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["按河段", "按河长", "每周", "说明"]
    seg = list(wb["按河段"].iter_rows(values_only=True))
    assert seg[0][:5] == ("河段", "河流", "长度（公里）", "每公里发现", "发现问题")
    names = [row[0] for row in seg[1:]]
    assert names[:3] == ["一段", "二段", "空段"] and names[-1] == "合计"
    found = seg[0].index("发现问题")
    assert sum(row[found] for row in seg[1:-1]) == seg[-1][found] == a["total"]["found"]
    chief = list(wb["按河长"].iter_rows(values_only=True))
    assert chief[-1][0] == "合计" and chief[-1][chief[0].index("发现问题")] == a["total"]["found"]
    assert ("村长无事", "村级") == chief[[row[0] for row in chief].index("村长无事")][:2]
    # Names from the uploaded network are text in the workbook, never formulas.
    assert "'=HYPERLINK(\"http://x\")" in names and "'@SUM(1)" in [row[0] for row in chief]
    assert all(c.data_type == "s" for row in wb["按河段"].iter_rows(min_col=1, max_col=1) for c in row)
    rate = wb["按河段"].cell(row=len(seg), column=seg[0].index("销号率") + 1)
    assert rate.number_format == "0.0%"
    about = dict(wb["说明"].iter_rows(min_row=2, values_only=True))
    assert about["统计日期依据"] == "交办时间"
    assert len(str(about["导出时间（北京时间）"])) == 19, "no zone suffix, no microseconds"
