"""The phone part of the API: the chief's 我的工单 (/api/tasks), rectification with proof
(EXIF time after the 交办, GPS near the ticket, else a written reason), and 巡河 patrols
(/api/patrols: figures, flags, idempotent upload, per-chief and per-segment stats)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from serve_helpers import LiveServer, seed_ticket
from support.phone_photos import phone_jpeg

from heyan.vision.common import BEIJING

CHIEFS = {"village": {"name": "村长甲", "phone": "13800000000"}, "township": {"name": "镇长乙"}, "county": {"name": "县长丙"}}
# seg-1 runs 1.1 km north along 120 E; seg-2 lies 10 km east.
NETWORK = {"type": "FeatureCollection", "name": "phone test", "features": [
    {"type": "Feature", "properties": {"kind": "segment", "id": "seg-1", "name": "一号段", "river": "双桥港", "chiefs": CHIEFS,
                                       "buffer_m": 50},
     "geometry": {"type": "LineString", "coordinates": [[120.0, 30.0], [120.0, 30.01]]}},
    {"type": "Feature", "properties": {"kind": "segment", "id": "seg-3", "name": "三号段", "river": "双桥港", "chiefs": CHIEFS,
                                       "buffer_m": 50},
     "geometry": {"type": "LineString", "coordinates": [[120.1, 30.0], [120.1, 30.01]]}},
    {"type": "Feature", "properties": {"kind": "outfall", "id": "of-1", "name": "一号雨水口", "outfall_type": "rain",
                                       "segment_id": "seg-1"},
     "geometry": {"type": "Point", "coordinates": [120.0002, 30.002]}},
]}


@pytest.fixture(scope="module")
def live(live_module: LiveServer) -> LiveServer:
    r = live_module.client("admin").post("/api/rivers", json=NETWORK)
    assert r.status_code in (200, 201), r.text
    return live_module


def dispatch(live: LiveServer, tid: str, lat: float = 30.005, lon: float = 120.0, days: int = 3) -> dict[str, Any]:
    seed_ticket(live, tid, segment="seg-1", lat=lat, lon=lon, days=days, chiefs=CHIEFS)
    rev = live.client("reviewer")
    assert rev.post(f"/api/tickets/{tid}/transition", json={"to": "confirmed"}).status_code == 200
    r = rev.post(f"/api/tickets/{tid}/transition", json={"to": "dispatched", "comment": "请三日内清理"})
    assert r.status_code == 200, r.text
    return r.json()


def test_tasks_sorted_by_deadline_with_countdown(live: LiveServer) -> None:
    dispatch(live, "tk-task-late", days=7)
    dispatch(live, "tk-task-soon", days=2)
    tasks = live.client("chief").get("/api/tasks").json()
    ids = [x["id"] for x in tasks["items"]]
    assert ids.index("tk-task-soon") < ids.index("tk-task-late")
    soon = next(x for x in tasks["items"] if x["id"] == "tk-task-soon")
    assert soon["days_left"] == 2 and not soon["overdue"] and soon["note"] == "请三日内清理" and not soon["sent_back"]
    assert soon["lat"] == 30.005 and soon["lat_gcj02"] != soon["lat"]  # GCJ-02 is shifted in China
    live.clock.advance(timedelta(days=3))
    try:
        soon = next(x for x in live.client("chief").get("/api/tasks").json()["items"] if x["id"] == "tk-task-soon")
        assert soon["days_left"] == -1 and soon["overdue"]
    finally:
        live.clock.advance(timedelta(days=-3))
    assert live.client("reviewer").get("/api/tasks").status_code == 403


def test_rectification_photo_must_prove_the_site_after_dispatch(live: LiveServer) -> None:
    d = dispatch(live, "tk-proof")
    chief = live.client("chief")
    now_bj = live.clock.now().astimezone(BEIJING).replace(tzinfo=None)
    old = phone_jpeg(30.005, 120.0, now_bj - timedelta(days=365))
    r = chief.post("/api/tickets/tk-proof/rectify", files={"photo": ("old.jpg", old, "image/jpeg")})
    assert r.status_code == 422 and r.json()["code"] == "proof_failed", r.text
    assert [p["code"] for p in r.json()["problems"]] == ["proof_before_dispatch"]
    far = phone_jpeg(30.02, 120.0, now_bj + timedelta(minutes=1))  # fresh, 1.7 km away
    r = chief.post("/api/tickets/tk-proof/rectify", files={"photo": ("far.jpg", far, "image/jpeg")})
    assert [p["code"] for p in r.json()["problems"]] == ["proof_too_far"]
    assert r.json()["problems"][0]["values"]["distance_m"] > 1600
    assert chief.get("/api/tickets/tk-proof").json()["state"] == "dispatched"  # nothing changed
    ok = phone_jpeg(30.0051, 120.0001, now_bj + timedelta(minutes=2))  # 15 m from the problem
    r = chief.post("/api/tickets/tk-proof/rectify", files={"photo": ("ok.jpg", ok, "image/jpeg")}, data={"comment": "已清理"})
    assert r.status_code == 200, r.text
    ev = next(e for e in r.json()["evidence"] if e["kind"] == "rectification")
    assert ev["proof"]["problems"] == [] and ev["proof"]["distance_m"] < 30 and ev["lat"] == pytest.approx(30.0051)
    assert ev["taken_at"] and d["dispatched_at"]


def test_a_written_reason_lets_a_doubtful_photo_through_for_the_reviewer(live: LiveServer) -> None:
    dispatch(live, "tk-reason")
    chief = live.client("chief")
    far = phone_jpeg(30.02, 120.0, live.clock.now().astimezone(BEIJING).replace(tzinfo=None))
    r = chief.post("/api/tickets/tk-reason/rectify", files={"photo": ("far.jpg", far, "image/jpeg")},
                   data={"reason": "现场无信号，在对岸高处拍摄"})
    assert r.status_code == 200, r.text
    d = live.client("reviewer").get("/api/tickets/tk-reason").json()
    ev = next(e for e in d["evidence"] if e["kind"] == "rectification")
    assert ev["proof"]["reason"] == "现场无信号，在对岸高处拍摄"
    assert [p["code"] for p in ev["proof"]["problems"]] == ["proof_too_far"]
    audit = next(a for a in d["audit"] if a["to_state"] == "rectified")
    assert audit["data"]["proof_problems"] == ["proof_too_far"]


def _track(lat0: float, lat1: float, seconds: int, lon: float = 120.0, t0_ms: float | None = None) -> list[list[float]]:
    t0 = t0_ms or 1_780_000_000_000.0
    n = seconds // 5 + 1
    return [[t0 + i * 5000, lat0 + (lat1 - lat0) * i / (n - 1), lon, 8.0] for i in range(n)]


def test_patrol_upload_figures_flags_and_stats(live: LiveServer) -> None:
    chief = live.client("chief")
    pid = uuid.uuid4().hex
    body = {"id": pid, "segment_id": "seg-1", "points": _track(30.0, 30.01, 900), "note": "例行巡河"}
    r = chief.post("/api/patrols", json=body)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["plausible"] and p["flags"] == [] and p["coverage"] > 0.99
    assert p["length_m"] == pytest.approx(1112, rel=0.01) and p["duration_s"] == 900 and p["segment_name"] == "一号段"
    again = chief.post("/api/patrols", json=body)  # the offline queue sending it twice
    assert again.status_code == 200 and again.json()["id"] == pid
    car = chief.post("/api/patrols", json={"id": uuid.uuid4().hex, "segment_id": "seg-1", "points": _track(30.0, 30.01, 40)})
    assert car.json()["flags"] == ["too_fast"] and not car.json()["plausible"]
    away = chief.post("/api/patrols", json={"id": uuid.uuid4().hex, "segment_id": "seg-1",
                                            "points": _track(30.0, 30.01, 900, lon=120.02)})
    assert "never_near_river" in away.json()["flags"]
    # Not his segment; not a segment at all; a broken point.
    assert chief.post("/api/patrols", json={**body, "id": uuid.uuid4().hex, "segment_id": "seg-3"}).json()["code"] == "not_your_segment"
    admin = live.client("admin")
    assert admin.post("/api/patrols", json={**body, "id": uuid.uuid4().hex, "segment_id": "nope"}).json()["code"] == "no_segment"
    bad = chief.post("/api/patrols", json={**body, "id": uuid.uuid4().hex, "points": [[1, 2]]})
    assert bad.status_code == 422 and "point 0" in bad.text

    stats = live.client("reviewer").get("/api/patrols/stats").json()
    seg = next(x for x in stats["by_segment"] if x["key"] == "seg-1")
    assert seg["patrols"] == 1 and seg["flagged"] == 2 and seg["length_km"] == pytest.approx(1.112, rel=0.01)
    assert seg["coverage"] > 0.99
    me = next(x for x in stats["by_chief"] if x["key"] == "chief-user")
    assert me["patrols"] == 1 and me["flagged"] == 2
    listed = chief.get("/api/patrols?segment_id=seg-1").json()
    assert listed["total"] == 3
    one = chief.get(f"/api/patrols/{pid}").json()
    assert len(one["points"]) == len(body["points"])


def test_chief_report_becomes_a_ticket_with_the_detectors_suggestion(live: LiveServer) -> None:
    chief = live.client("chief")
    photo = phone_jpeg(None, None, None, seed=5, size=320)
    s = chief.post("/api/reports/suggest", files={"photo": ("p.jpg", photo, "image/jpeg")}).json()
    assert s["width"] == 320 and s["suggestions"][0]["class_name"] == "floating_debris"
    x1, y1, x2, y2 = s["suggestions"][0]["box"]
    assert x1 < 160 < x2 and y1 < 160 < y2  # the stand-in detector sees debris in the middle

    r = chief.post("/api/reports", files={"photo": ("p.jpg", photo, "image/jpeg")},
                   data={"lat": "30.003", "lon": "120.0001", "accuracy_m": "8", "note": "桥下有漂浮垃圾"})
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["outcome"] == "ticket" and rep["class_name"] == "floating_debris" and rep["segment_id"] == "seg-1"
    t = live.client("reviewer").get(f"/api/tickets/{rep['ticket_id']}").json()
    assert t["state"] == "pending_review" and t["flight_id"] is None and t["best_box"] == s["suggestions"][0]["box"]
    assert t["evidence"][0]["comment"] == "桥下有漂浮垃圾" and t["evidence"][0]["created_by"] == "chief-user"
    assert t["audit"][0]["actor"] == "chief-user" and t["audit"][0]["data"]["suggested"] == "floating_debris"

    assert rep["ticket_id"] in {x["id"] for x in live.client("reviewer").get(
        "/api/tickets", params={"source": "report", "limit": 500}).json()["items"]}
    # The same debris reported again 5 m away (position from the photo's own GPS): the same ticket.
    again_photo = phone_jpeg(30.00304, 120.0001, None, seed=6, size=320)
    again = chief.post("/api/reports", files={"photo": ("q.jpg", again_photo, "image/jpeg")}).json()
    assert again["outcome"] == "seen_again" and again["ticket_id"] == rep["ticket_id"] and again["position_source"] == "exif"

    # Off every river: the rules make no ticket, and the page is told why.
    off = chief.post("/api/reports", files={"photo": ("p.jpg", photo, "image/jpeg")}, data={"lat": "30.5", "lon": "121.0"})
    assert off.status_code == 422 and off.json()["code"] == "report_no_ticket" and off.json()["reason"]
    nowhere = chief.post("/api/reports", files={"photo": ("p.jpg", photo, "image/jpeg")})
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "report_no_position"
    bad = chief.post("/api/reports", files={"photo": ("p.jpg", photo, "image/jpeg")},
                     data={"lat": "30.003", "lon": "120.0", "class_name": "unicorn"})
    assert bad.json()["code"] == "report_bad_class"
    assert live.client("viewer").post("/api/reports", files={"photo": ("p.jpg", photo, "image/jpeg")}).status_code == 403

    # A problem found on a patrol names it: the patrol lists what was reported during it.
    pid = uuid.uuid4().hex
    t0 = live.clock.now().timestamp() * 1000 - 600_000
    assert chief.post("/api/patrols", json={"id": pid, "segment_id": "seg-1",
                                            "points": _track(30.0, 30.004, 600, t0_ms=t0)}).status_code == 201
    r = chief.post("/api/reports", files={"photo": ("p.jpg", phone_jpeg(None, None, None, seed=7, size=320), "image/jpeg")},
                   data={"lat": "30.0072", "lon": "120.0", "patrol_id": pid})
    assert r.status_code == 201, r.text
    assert [x["ticket_id"] for x in chief.get(f"/api/patrols/{pid}").json()["reports"]] == [r.json()["ticket_id"]]


def test_public_report_stripped_rate_limited_and_phone_kept_private(live: LiveServer) -> None:
    from heyan.pipeline.metadata.exif import read_container
    from heyan.serve.tables import PublicReport

    live.config.public_reports_per_day = 3
    anon = live.client()
    photo = phone_jpeg(30.006, 120.0002, datetime(2026, 12, 3, 9, 0), seed=8, size=320)
    assert b"Huawei" in photo  # the phone's make, in the EXIF the public must not leak
    r = anon.post("/api/public/reports", files={"photo": ("x.jpg", photo, "image/jpeg")},
                  data={"text": "河边有人倒垃圾", "phone": "138 0013 8000", "category": "floating_debris"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    with live.state.db.session() as db:
        row = db.get(PublicReport, rid)
        assert row is not None and row.phone == "138 0013 8000" and row.taken_at == "2026-12-03T09:00:00+08:00"
        assert row.lat == pytest.approx(30.006) and row.address_hash != "127.0.0.1"
        tid, sha = row.ticket_id, row.photo_sha
    stored = live.state.store.path(sha).read_bytes()
    assert b"Huawei" not in stored and read_container(__import__("io").BytesIO(stored)).exif_tiff is None
    rev = live.client("reviewer")
    t = rev.get(f"/api/tickets/{tid}").json()
    assert t["state"] == "pending_review" and t["audit"][0]["actor"] == "public"
    assert t["evidence"][0]["comment"] == "河边有人倒垃圾"
    assert "0013 8000" not in rev.get(f"/api/tickets/{tid}").text
    assert "0013 8000" not in rev.get("/api/exports/tickets.csv").text  # nor in the ledger export

    # Size and type: refused with a code, counted against the address all the same.
    assert anon.post("/api/public/reports", files={"photo": ("x.gif", b"GIF89a....", "image/gif")}).json()["code"] == "public_bad_type"
    ok = anon.post("/api/public/reports", files={"photo": ("y.jpg", phone_jpeg(30.007, 120.0, None, seed=9), "image/jpeg")},
                   data={"category": "waste_pile"})
    assert ok.status_code == 201, ok.text
    over = anon.post("/api/public/reports", files={"photo": ("z.jpg", photo, "image/jpeg")})  # the 4th of 3
    assert over.status_code == 429 and over.json()["code"] == "public_rate_limited" and int(over.headers["retry-after"]) > 3600
    live.config.public_reports_per_day = 5
    # Its own source in the ledger: public, not a chief's report, not an edge camera.
    assert tid in {x["id"] for x in rev.get("/api/tickets", params={"source": "public", "limit": 500}).json()["items"]}
    assert tid not in {x["id"] for x in rev.get("/api/tickets", params={"source": "report", "limit": 500}).json()["items"]}
    assert tid not in {x["id"] for x in rev.get("/api/tickets", params={"source": "edge", "limit": 500}).json()["items"]}


def test_strip_jpeg_keeps_the_picture(tmp_path: Any) -> None:
    import cv2
    import numpy as np

    from heyan.pipeline.metadata.strip import StripError, strip_jpeg

    photo = phone_jpeg(30.0, 120.0, datetime(2026, 1, 1), seed=3, size=64)
    bare = strip_jpeg(photo)
    assert len(bare) < len(photo) and b"Exif" not in bare
    a = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(bare, np.uint8), cv2.IMREAD_COLOR)
    assert (a == b).all()  # the same pixels: nothing re-encoded
    with pytest.raises(StripError):
        strip_jpeg(photo[:40])


def test_segment_archive(live: LiveServer) -> None:
    """一河一档: chiefs and contacts, zone, tickets over time, patrols, outfalls (一口一档)."""
    dispatch(live, "tk-archive", lat=30.002, lon=120.0002)
    a = live.client("chief").get("/api/archive/segments/seg-1").json()
    assert a["name"] == "一号段" and a["river"] == "双桥港" and a["length_m"] == pytest.approx(1109, rel=0.01)
    assert [(c["level"], c["name"]) for c in a["chiefs"]] == [("village", "村长甲"), ("township", "镇长乙"), ("county", "县长丙")]
    assert a["chiefs"][0]["phone"] == "13800000000"
    zone = a["zones"][0]
    assert zone["kind"] == "management" and zone["source"] == "buffer" and zone["area_m2"] > 1109 * 90
    assert a["tickets_by_state"].get("dispatched", 0) >= 1 and sum(m["found"] for m in a["tickets_by_month"]) >= 1
    assert any(t["id"] == "tk-archive" for t in a["recent_tickets"])
    assert a["flights"] == []  # a chief sees tickets, not the office's flights
    of = a["outfalls"][0]
    assert of["id"] == "of-1" and of["name"] == "一号雨水口" and of["open_tickets"] >= 1 and of["last_inspection_at"]
    assert live.client("chief").get("/api/archive/segments/seg-3").status_code == 404  # not his
    assert live.client("reviewer").get("/api/archive/segments/seg-3").status_code == 200
    idx = live.client("chief").get("/api/archive/rivers").json()
    assert idx == [{"river": "双桥港", "segments": [{"id": "seg-1", "name": "一号段", "chief": "村长甲"}]}]
