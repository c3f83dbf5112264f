"""What the viewer's ticket ledger and 交办 dialog need from the API (issue 13): sorting on
the ledger's columns with empty values last, the work-queue counts, the source filter, a
dispatch to a chosen level with an edited deadline, 督办/催办 of one ticket, stable error
codes, and the evidence timeline in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from serve_helpers import LiveServer
from serve_helpers import seed_ticket as seed

from heyan.serve.tables import Evidence

CHIEFS_WITH_PHONE = {"village": {"name": "村长丁", "phone": "13800000001", "department": None},
                     "township": {"name": "镇长戊", "phone": "13800000002", "department": None},
                     "county": None}


def move(c: Any, tid: str, to: str, **kw: Any) -> Any:
    return c.post(f"/api/tickets/{tid}/transition", json={"to": to, **kw})


def test_sorts_and_queue_counts(live_module: LiveServer) -> None:
    live = live_module
    rev = live.client("reviewer")
    for i, state in enumerate(["pending_review", "pending_review", "confirmed", "confirmed", "confirmed"]):
        seed(live, f"tk-q{i}", segment="seg-q", state=state)
    for i in range(2):  # two dispatched through the API: they get deadlines 3 and 5 days out
        seed(live, f"tk-qd{i}", segment="seg-q", days=3 + 2 * i, state="confirmed")
        assert move(rev, f"tk-qd{i}", "dispatched").status_code == 200

    q = rev.get("/api/tickets/queues", params={"segment_id": "seg-q", "state": "closed"}).json()
    # The tab's own state and overdue filters do not narrow the counts of the tabs.
    assert q == {"pending_review": 2, "confirmed": 3, "dispatched": 2, "rectified": 0, "overdue": 0}

    by_deadline = rev.get("/api/tickets", params={"segment_id": "seg-q", "sort": "deadline"}).json()["items"]
    assert [t["id"] for t in by_deadline[:2]] == ["tk-qd0", "tk-qd1"], "tickets with a deadline first, soonest first"
    assert all(t["deadline"] is None for t in by_deadline[2:])
    desc = rev.get("/api/tickets", params={"segment_id": "seg-q", "sort": "-deadline"}).json()["items"]
    assert [t["id"] for t in desc[:2]] == ["tk-qd1", "tk-qd0"], "empty deadlines last both ways"
    states = [t["state"] for t in rev.get("/api/tickets", params={"segment_id": "seg-q", "sort": "state"}).json()["items"]]
    assert states == sorted(states)
    bad = rev.get("/api/tickets", params={"sort": "password"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"

    # A chief counts only his reviewed tickets: the queue of 待审核 is not his.
    chief_q = live.client("chief").get("/api/tickets/queues", params={"segment_id": "seg-q"}).json()
    assert chief_q["pending_review"] == 0 and chief_q["confirmed"] == 0  # seg-q is not his


def test_source_filter(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-src", segment="seg-src")  # seeded tickets have no flight: as from an edge camera
    c = live.client("viewer")
    assert c.get("/api/tickets", params={"segment_id": "seg-src", "source": "edge"}).json()["total"] == 1
    assert c.get("/api/tickets", params={"segment_id": "seg-src", "source": "flight"}).json()["total"] == 0
    assert c.get("/api/tickets", params={"source": "satellite"}).status_code == 422


def test_dispatch_to_a_chosen_chief_with_an_edited_deadline(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-jb", state="confirmed", chiefs=CHIEFS_WITH_PHONE)
    rev = live.client("reviewer")
    r = move(rev, "tk-jb", "dispatched", chief_level="county")
    assert r.status_code == 422 and r.json()["code"] == "no_chief", "no county chief on this segment"
    past = (live.clock.now() - timedelta(hours=1)).isoformat()
    r = move(rev, "tk-jb", "dispatched", chief_level="township", deadline=past)
    assert r.status_code == 422 and r.json()["code"] == "deadline_past"
    far = (live.clock.now() + timedelta(days=400)).isoformat()
    r = move(rev, "tk-jb", "dispatched", deadline=far)
    assert r.status_code == 422 and r.json()["code"] == "deadline_too_far"
    r = move(rev, "tk-jb", "dispatched", deadline="9999-12-31T23:59:00-12:00")
    assert r.status_code == 422, "the end of the calendar is refused, not a server error"
    naive = (live.clock.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert move(rev, "tk-jb", "dispatched", deadline=naive).status_code == 422, "a deadline needs its time zone"
    seed(live, "tk-jb-new", chiefs=CHIEFS_WITH_PHONE)
    r = move(rev, "tk-jb-new", "confirmed", chief_level="village")
    assert r.status_code == 422 and r.json()["code"] == "dispatch_only"

    deadline = (live.clock.now() + timedelta(days=10)).replace(microsecond=0)
    r = move(rev, "tk-jb", "dispatched", chief_level="township", deadline=deadline.isoformat(), comment="请尽快清理")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["chief_name"] == "镇长戊" and d["chief_level"] == "township" and d["dispatched_chief"] == "镇长戊"
    assert datetime.fromisoformat(d["deadline"]) == deadline
    last = d["audit"][-1]
    assert last["to_state"] == "dispatched" and last["comment"] == "请尽快清理"
    assert last["data"]["chief"] == "镇长戊" and last["data"]["phone"] == "13800000002"
    assert d["may_urge"] is True
    assert live.client("viewer").get("/api/tickets/tk-jb").json()["may_urge"] is False


def test_urge_one_ticket(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-urge", days=2, state="confirmed")
    rev = live.client("reviewer")
    r = rev.post("/api/tickets/tk-urge/urge", json={"comment": "请加快"})
    assert r.status_code == 409 and r.json()["code"] == "urge_not_dispatched"
    move(rev, "tk-urge", "dispatched")
    assert live.client("viewer").post("/api/tickets/tk-urge/urge", json={}).status_code == 403
    forbidden = live.client("chief").post("/api/tickets/tk-urge/urge", json={})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"

    d = rev.post("/api/tickets/tk-urge/urge", json={"comment": "请加快"}).json()  # in time: a reminder only
    assert d["chief_name"] == "村长甲" and not d["overdue"]
    urge = d["audit"][-1]
    assert urge["action"] == "urge" and urge["actor"] == "reviewer-user" and urge["comment"] == "请加快"
    assert urge["data"]["chief"] == "村长甲"

    live.clock.advance(timedelta(days=2, hours=1))
    try:
        d = rev.post("/api/tickets/tk-urge/urge", json={}).json()  # overdue: escalated one level now
        assert d["overdue"] and d["chief_name"] == "镇长乙" and d["escalations"] == 1
        actions = [a["action"] for a in d["audit"]]
        assert actions[-3:] == ["overdue", "escalate", "urge"]
        assert d["audit"][-1]["data"]["chief"] == "镇长乙"
        q = rev.get("/api/tickets/queues").json()
        assert q["overdue"] >= 1
    finally:
        live.clock.set(datetime.now(UTC))


def test_evidence_in_time_order(live_module: LiveServer) -> None:
    live = live_module
    seed(live, "tk-time")
    now = live.clock.now()
    with live.state.db.session() as db:  # a later flight imported first, an earlier one after it
        db.add(Evidence(ticket_id="tk-time", kind="seen_again", flight_id=None, find_id="late", image_name="b.jpg",
                        taken_at="2025-06-03T10:00:00+08:00", created_at=now))
        db.add(Evidence(ticket_id="tk-time", kind="not_seen", flight_id=None, find_id="early", image_name="c.jpg",
                        taken_at="2025-06-02T01:00:00+00:00", created_at=now))
        db.add(Evidence(ticket_id="tk-time", kind="seen_again", flight_id=None, find_id="local", image_name="d.jpg",
                        taken_at="2025-06-02T10:00:00", created_at=now))  # no zone: Beijing, 02:00 UTC
        db.commit()
    ev = live.client("viewer").get("/api/tickets/tk-time").json()["evidence"]
    assert [e["image_name"] for e in ev] == ["c.jpg", "d.jpg", "b.jpg", "a.jpg"]


def test_ledger_xlsx_and_kml_carry_the_workflow(live_module: LiveServer) -> None:
    import io
    import re
    import xml.etree.ElementTree as ET

    import openpyxl
    from serve_helpers import tiny_jpeg

    live = live_module
    seed(live, "tk-x1", segment="seg-x", chiefs=CHIEFS_WITH_PHONE, state="confirmed")
    seed(live, "tk-x2", segment="seg-x", chiefs=CHIEFS_WITH_PHONE)
    rev = live.client("reviewer")
    move(rev, "tk-x1", "dispatched")
    r = live.client("admin").post("/api/tickets/tk-x1/rectify", files={"photo": ("a.jpg", tiny_jpeg(), "image/jpeg")},
                                  data={"reason": "测试照片无拍摄信息"})
    assert r.status_code == 200, r.text
    move(rev, "tk-x1", "closed")

    wb = openpyxl.load_workbook(io.BytesIO(rev.get("/api/exports/tickets.xlsx", params={"segment_id": "seg-x"}).content))
    ws = wb.active
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)}
    done, new = rows["tk-x1"], rows["tk-x2"]
    assert done["状态"] == "已销号" and new["状态"] == "待审核"
    assert done["责任河长"] == "村长丁（村级）" and done["严重程度"] == "一般"
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")  # Beijing time, no zone, no microseconds
    for col in ("发现时间", "交办时间", "整改时间", "销号时间", "整改期限"):
        assert stamp.match(done[col]), (col, done[col])
    assert not new["交办时间"]

    kml = ET.fromstring(rev.get("/api/exports/tickets.kml", params={"segment_id": "seg-x"}).content)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    urls = {m.find("k:name", ns).text.split()[-1]: m.find("k:styleUrl", ns).text for m in kml.findall(".//k:Placemark", ns)}
    assert urls == {"tk-x1": "#state-closed", "tk-x2": "#state-pending_review"}
