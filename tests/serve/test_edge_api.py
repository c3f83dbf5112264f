"""The edge API (/api/edge) over HTTP on both engines: the contract edge/uploader.py and
edge/heartbeat.py speak (snapshots by sha256, events idempotent by event_id + seq,
heartbeats), device-token auth, events into tickets by the flights' rules and
de-duplication (one place, one ticket, growing evidence), outfall events, events that
cannot be tickets kept with the reason, and devices going silent."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
from serve_helpers import LiveServer, seed_ticket

from heyan.datasets.demo_site import DemoSite

SITE = DemoSite()
T0 = "2026-11-23T08:15:02.120Z"


def device(live: LiveServer, name: str | None = None) -> tuple[httpx.Client, int, str]:
    """A registered device: (client with its token, device id, token)."""
    r = live.client("admin").post("/api/devices", json={"name": name or f"box-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    c = live.client()
    c.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return c, r.json()["device"]["id"], r.json()["token"]


def network(live: LiveServer) -> None:
    r = live.client("admin").post("/api/rivers", json=SITE.network())
    assert r.status_code in (200, 201), r.text


def jpeg(tag: str) -> bytes:
    return b"\xff\xd8\xff\xe0" + tag.encode() + b"\x00" * 64 + b"\xff\xd9"


def put(c: httpx.Client, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    r = c.put(f"/api/edge/media/{sha}", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code in (200, 201), r.text
    return sha


def event(east: float | None = 0.0, north: float | None = 0.0, **kw: Any) -> dict[str, Any]:
    """An event as the box sends it (edge/events.py EventState.body plus seq)."""
    lon, lat = SITE.ll(east, north) if east is not None and north is not None else (None, None)
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "seq": 1, "device_id": "box-07", "camera_id": "bridge-1", "kind": "object",
        "phase": "start", "class": "floating_debris", "score": 0.71, "box": [812.0, 540.5, 870.0, 566.0],
        "lat": lat, "lon": lon, "error_m": 2.4 if lat is not None else None, "started_at": T0, "updated_at": T0,
        "ended_at": None, "snapshot_sha256": None, "crop_sha256": None, "outfall_id": None, "details": {"best_score": 0.83}}
    body.update(kw)
    return body


def post(c: httpx.Client, body: dict[str, Any], expect: int | None = None) -> dict[str, Any]:
    r = c.post("/api/edge/events", json=body)
    if expect is not None:
        assert r.status_code == expect, r.text
    return r.json()


def events(live: LiveServer, **params: Any) -> list[dict[str, Any]]:
    r = live.client("admin").get("/api/edge/events", params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


# --------------------------------------------------------------------------- the contract


def test_media_is_content_addressed_and_idempotent(live: LiveServer) -> None:
    c, _, _ = device(live)
    data = jpeg("snapshot")
    sha = hashlib.sha256(data).hexdigest()
    r = c.put(f"/api/edge/media/{sha}", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201 and r.json() == {"stored": True, "sha256": sha, "size": len(data)}
    again = c.put(f"/api/edge/media/{sha}", content=data, headers={"Content-Type": "image/jpeg"})
    assert again.status_code == 200 and again.json()["stored"] is False
    # Nothing references it yet: only an admin may fetch it (a viewer may once an event does).
    assert live.client("viewer").get(f"/api/blobs/{sha}").status_code == 404
    got = live.client("admin").get(f"/api/blobs/{sha}")
    assert got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/jpeg"
    # A body that is not what its name says, an empty one, a bad name: refused with the reason.
    r = c.put(f"/api/edge/media/{'0' * 64}", content=data)
    assert r.status_code == 422 and "sha256" in r.json()["detail"] and sha in r.json()["detail"]
    assert live.client("admin").get(f"/api/blobs/{'0' * 64}").status_code == 404
    r = c.put(f"/api/edge/media/{hashlib.sha256(b'').hexdigest()}", content=b"")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    assert c.put("/api/edge/media/not-a-hash", content=data).status_code == 422
    # Only image types are served as such: a device cannot plant a page on this origin.
    html = b"<script>alert(1)</script>"
    r = c.put(f"/api/edge/media/{hashlib.sha256(html).hexdigest()}", content=html, headers={"Content-Type": "text/html"})
    assert r.status_code == 201
    got = live.client("admin").get(f"/api/blobs/{hashlib.sha256(html).hexdigest()}")
    assert got.headers["content-type"] == "application/octet-stream"


def test_events_keep_the_newest_state_by_seq(live: LiveServer) -> None:
    network(live)
    c, dev_id, _ = device(live)
    body = event(snapshot_sha256=put(c, jpeg("a")))
    first = post(c, body, 201)
    assert first["stored"] is True and first["seq"] == 1 and first["outcome"] == "ticket" and first["ticket_id"]
    assert post(c, body, 200)["stored"] is False  # the same state again: acknowledged, not stored
    end = dict(body, seq=3, phase="end", ended_at="2026-11-23T08:16:40Z", updated_at="2026-11-23T08:16:40Z")
    assert post(c, end, 200) == {**first, "seq": 3}
    late = dict(body, seq=2, phase="update")  # an older state arriving late: the newest stays
    assert post(c, late, 200)["stored"] is False
    [row] = [e for e in events(live) if e["event_id"] == body["event_id"]]
    assert (row["seq"], row["phase"], row["posts"], row["device_id"]) == (3, "end", 4, dev_id)
    assert row["ended_at"].startswith("2026-11-23T08:16:40") and row["reported_device"] == "box-07"
    assert row["snapshot_url"] == f"/api/blobs/{body['snapshot_sha256']}"
    # The same event id from another device is another event (ids are per device).
    other, _, _ = device(live)
    assert post(other, body, 201)["stored"] is True
    assert len([e for e in events(live) if e["event_id"] == body["event_id"]]) == 2


def test_invalid_events_get_clear_errors_and_odd_values_are_repaired(live: LiveServer) -> None:
    c, _, _ = device(live)
    r = c.post("/api/edge/events", json=event(kind="explosion"))
    assert r.status_code == 422 and "kind" in r.json()["detail"] and r.json()["errors"]
    r = c.post("/api/edge/events", json={k: v for k, v in event().items() if k != "started_at"})
    assert r.status_code == 422 and "started_at" in r.json()["detail"]
    r = c.post("/api/edge/events", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]
    r = c.post("/api/edge/events", content=b"{" + b" " * (1 << 20) + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    # What a box might send that PostgreSQL cannot store is repaired, not refused (a refused
    # event is dropped by the box for good): NaN/inf -> null, NULs removed, an impossible
    # position is no position.
    body = event(lat=95.0, details={"delta_e": float("nan"), "note\x00": "a\x00b"})
    raw = json.dumps(body).encode()  # Python's json writes NaN, as a box's would
    assert b"NaN" in raw
    r = c.post("/api/edge/events", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "no_position"
    [row] = [e for e in events(live) if e["event_id"] == body["event_id"]]
    assert row["details"] == {"delta_e": None, "note": "ab"} and row["lat"] is None


# --------------------------------------------------------------------------- auth


def test_auth_no_token_wrong_token_revoked_token_user_token(live: LiveServer) -> None:
    c, dev_id, token = device(live)
    data = jpeg("auth")
    sha = hashlib.sha256(data).hexdigest()
    calls = [("PUT", f"/api/edge/media/{sha}", {"content": data}), ("POST", "/api/edge/events", {"json": event()}),
             ("POST", "/api/edge/heartbeat", {"json": {"device_id": "box"}})]

    def check(headers: dict[str, str], status: int, words: str) -> None:
        for method, path, kw in calls:
            r = live.client().request(method, path, headers=headers, **kw)
            assert r.status_code == status, (method, path, r.text)
            assert r.headers["content-type"].startswith("application/json") and words in r.json()["detail"], r.text

    check({}, 401, "not logged in")
    check({"Authorization": "Bearer hyd_not-a-real-token"}, 401, "unknown or revoked device token")
    check({"Authorization": "Basic abc"}, 401, "Bearer")
    check({"Authorization": f"Bearer {live.token('admin')}"}, 403, "device tokens")  # a person's token
    check({"Authorization": f"Bearer {live.token('operator')}"}, 403, "device tokens")
    assert c.get("/api/devices/me").json()["id"] == dev_id
    assert live.client("admin").delete(f"/api/devices/{dev_id}/token").status_code == 200
    check({"Authorization": f"Bearer {token}"}, 401, "unknown or revoked device token")
    assert events(live) == [] and not live.state.store.exists(sha)  # nothing was stored
    # A device token is only for the edge API.
    d2, _, _ = device(live)
    r = d2.get("/api/tickets")
    assert r.status_code == 403 and "edge API" in r.json()["detail"]
    r = d2.get("/api/edge/events")
    assert r.status_code == 403


# --------------------------------------------------------------------------- tickets


def test_debris_at_the_same_place_every_minute_is_one_ticket_with_growing_evidence(live: LiveServer) -> None:
    network(live)
    c, _, _ = device(live, "box-07")
    ids = []
    for minute in range(60):
        t = f"2026-11-23T08:{minute:02d}:00Z"
        # the calibration's error (2.4 m) is larger than the scatter of the positions
        body = event(east=0.8 * ((minute * 7) % 5 - 2), north=0.5 * ((minute * 3) % 5 - 2), started_at=t, updated_at=t,
                     snapshot_sha256=put(c, jpeg(f"minute {minute}")), crop_sha256=put(c, jpeg(f"crop {minute}")))
        ids.append(post(c, body, 201)["ticket_id"])
    assert len(set(ids)) == 1
    admin = live.client("admin")
    page = admin.get("/api/tickets", params={"category": "floating_debris"}).json()
    assert page["total"] == 1
    t = admin.get(f"/api/tickets/{ids[0]}").json()
    assert (t["state"], t["category"], t["category_zh"], t["class_name"]) == ("pending_review", "floating_debris", "漂浮物",
                                                                          "floating_debris")
    assert (t["segment_id"], t["river"], t["rule"], t["flight_id"]) == ("seg-1", "双桥港", "debris-on-water", None)
    assert t["chiefs"]["village"]["name"] == "村长甲" and t["deadline_days"] == 3 and t["n_views"] == 60
    assert t["found_at"].startswith("2026-11-23T08:00:00") and t["last_seen_at"].startswith("2026-11-23T08:59:00")
    assert [e["kind"] for e in t["evidence"]] == ["detection"] + ["seen_again"] * 59
    assert len({e["photo_url"] for e in t["evidence"]}) == 60 and all(e["crop_url"] for e in t["evidence"])
    assert all(e["image_name"] == "box-07/bridge-1" and "bridge-1" in e["comment"] for e in t["evidence"])
    assert [a["action"] for a in t["audit"]] == ["created"] + ["seen_again"] * 59
    # 200 m downstream: another object, another ticket.
    far = post(c, event(east=200.0, north=0.0), 201)
    assert far["outcome"] == "ticket" and far["ticket_id"] != ids[0]
    for fmt in ("geojson", "csv", "xlsx", "kml"):  # edge tickets export like flight tickets
        assert admin.get(f"/api/exports/tickets.{fmt}").status_code == 200, fmt
    # Dispatched to the segment's chief like any flight ticket.
    assert admin.post(f"/api/tickets/{ids[0]}/transition", json={"to": "confirmed"}).status_code == 200
    r = admin.post(f"/api/tickets/{ids[0]}/transition", json={"to": "dispatched"})
    assert r.json()["chief_name"] == "村长甲"


def test_an_edge_event_at_a_flight_tickets_place_adds_to_that_ticket(live: LiveServer) -> None:
    network(live)
    lon, lat = SITE.ll(600.0, 5.0)
    seed_ticket(live, "tk-from-a-flight", lat=lat, lon=lon, state="dispatched")  # made by a drone flight
    c, _, _ = device(live)
    got = post(c, event(east=601.0, north=5.5), 201)
    assert (got["outcome"], got["ticket_id"]) == ("seen_again", "tk-from-a-flight")
    t = live.client("admin").get("/api/tickets/tk-from-a-flight").json()
    # In time order: the box's frame (T0) before the seeded view, which has no photo time
    # and counts from when it was added (now).
    assert t["state"] == "dispatched" and [e["kind"] for e in t["evidence"]] == ["seen_again", "detection"]


def test_a_newer_state_refreshes_the_evidence_and_the_picture(live: LiveServer) -> None:
    network(live)
    c, _, _ = device(live)
    a, b = put(c, jpeg("first look")), put(c, jpeg("better look"))
    body = event(snapshot_sha256=a, score=0.5)
    tid = post(c, body, 201)["ticket_id"]
    post(c, dict(body, seq=2, phase="update", snapshot_sha256=b, score=0.9), 200)
    t = live.client("admin").get(f"/api/tickets/{tid}").json()
    assert t["best_photo_url"] == f"/api/blobs/{b}" and t["score"] == 0.9
    assert len(t["evidence"]) == 1 and t["evidence"][0]["photo_url"] == f"/api/blobs/{b}"
    assert "seq 2" in t["evidence"][0]["comment"]


def test_rejected_by_a_reviewer_the_same_camera_does_not_raise_it_again(live: LiveServer) -> None:
    network(live)
    c, _, _ = device(live)
    tid = post(c, event(east=300.0))["ticket_id"]
    rev = live.client("reviewer")
    assert rev.post(f"/api/tickets/{tid}/transition", json={"to": "rejected", "comment": "a buoy"}).status_code == 200
    again = post(c, event(east=300.5), 201)
    assert again["ticket_id"] == tid and again["outcome"] == "seen_again"
    t = rev.get(f"/api/tickets/{tid}").json()
    assert t["state"] == "rejected" and "not reopened" in t["audit"][-1]["comment"]
    # Another camera seeing something there is news: a new ticket.
    other = post(c, event(east=300.5, camera_id="bridge-2"), 201)
    assert other["outcome"] == "ticket" and other["ticket_id"] != tid


def test_outfall_events_become_tickets(live: LiveServer) -> None:
    network(live)
    c, _, _ = device(live)
    dry = post(c, event(east=0.0, north=15.0, kind="dry_weather_discharge", **{"class": None}, score=None,
                        outfall_id=SITE.outfall_id, details={"flow": 0.4}), 201)
    assert dry["outcome"] == "ticket"
    t = live.client("admin").get(f"/api/tickets/{dry['ticket_id']}").json()
    assert (t["category"], t["category_zh"], t["class_name"], t["rule"], t["severity"]) == (
        "outfall_discharge", "排口异常排放", "dry_weather_discharge", "outfall-dry-weather", "high")
    assert "晴天排水" in t["reason"] and t["segment_id"] == "seg-1"
    # No calibration on this camera, but the outfall is registered (一口一档): placed there.
    colour = post(c, event(None, None, kind="abnormal_colour", **{"class": None}, score=None, outfall_id=SITE.outfall_id,
                           details={"delta_e": 23.5}), 201)
    assert colour["outcome"] == "ticket" and colour["ticket_id"] != dry["ticket_id"]
    t = live.client("admin").get(f"/api/tickets/{colour['ticket_id']}").json()
    lon, lat = SITE.ll(0, SITE.width_m / 2 + 1)
    assert abs(t["lat"] - lat) < 1e-6 and abs(t["lon"] - lon) < 1e-6 and t["class_name"] == "abnormal_colour"
    [row] = events(live, outcome="ticket", kind="abnormal_colour")
    assert "registered outfall YS-001" in row["reason"]
    # The same condition at the same outfall later: the same ticket.
    assert post(c, event(east=0.5, north=15.0, kind="dry_weather_discharge", **{"class": None}, score=None,
                         outfall_id=SITE.outfall_id), 201)["ticket_id"] == dry["ticket_id"]


def test_events_that_cannot_be_tickets_are_kept_with_the_reason(live: LiveServer) -> None:
    c, _, _ = device(live)
    early = event()
    assert post(c, early, 201)["outcome"] == "no_network"  # no river network uploaded yet
    network(live)
    cases = {
        "no_position": event(None, None),
        "health": event(None, None, kind="stream_frozen", **{"class": None}, score=None, box=None),
        "boat": event(**{"class": "boat"}),
        "far": event(east=0.0, north=5000.0),  # 5 km from every river
        "unknown outfall": event(None, None, kind="abnormal_colour", **{"class": None}, score=None, outfall_id="NOPE"),
    }
    got = {name: post(c, body, 201) for name, body in cases.items()}
    assert got["no_position"]["outcome"] == "no_position" and got["health"]["outcome"] == "health"
    assert got["boat"]["outcome"] == "no_ticket" and got["far"]["outcome"] == "no_ticket"
    assert got["unknown outfall"]["outcome"] == "no_position"
    assert all(g["ticket_id"] is None for g in got.values())
    rows = {e["event_id"]: e for e in events(live)}
    assert len(rows) == 6
    assert "calibration" in rows[cases["no_position"]["event_id"]]["reason"]
    assert rows[cases["boat"]["event_id"]]["rule"] == "boat-log"
    assert rows[cases["far"]["event_id"]]["rule"] == "too_far" and "too far" in rows[cases["far"]["event_id"]]["reason"]
    assert "river network" in rows[early["event_id"]]["reason"]
    assert live.client("admin").get("/api/tickets").json()["total"] == 0
    assert [e["event_id"] for e in events(live, outcome="no_position")] == [cases["unknown outfall"]["event_id"],
                                                                             cases["no_position"]["event_id"]]
    # The early event's next state, now that there is a network: it becomes a ticket.
    later = post(c, dict(early, seq=2, phase="end", ended_at=T0), 200)
    assert later["outcome"] == "ticket" and later["ticket_id"]


def test_concurrent_deliveries_store_once_and_make_one_ticket(live: LiveServer) -> None:
    network(live)
    _, _, token = device(live)
    same = event(east=-400.0)
    bodies = [same] * 6 + [event(east=-400.0 + 0.3 * i) for i in range(6)]
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(len(bodies))

    def send(b: dict[str, Any]) -> None:
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as cl:
            barrier.wait()
            r = cl.post("/api/edge/events", json=b)
            assert r.status_code in (200, 201), r.text
            results.append(r.json())

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(bodies)
    assert sum(r["stored"] for r in results if r["event_id"] == same["event_id"]) == 1
    assert len({r["ticket_id"] for r in results}) == 1  # 7 events of one object: one ticket
    [row] = [e for e in events(live) if e["event_id"] == same["event_id"]]
    assert row["posts"] == 6


# --------------------------------------------------------------------------- heartbeat


def test_heartbeat_is_shown_on_the_device_and_silence_is_flagged(live: LiveServer) -> None:
    c, dev_id, _ = device(live)
    admin = live.client("admin")
    d = admin.get(f"/api/devices/{dev_id}").json()
    assert d["silent"] is True and d["last_heartbeat_at"] is None and d["health"] is None  # never heard from
    health = {"device_id": "box-07", "version": "0.1", "time": 1.7e9, "uptime_s": 12.5, "fps": {"bridge-1": 9.8},
              "detector_ms": 88.0, "outbox_depth": 3, "media_mb": 1.5, "disk_free_mb": 9000.0, "last_error": None,
              "auth_error": None, "uploader_error": None,
              "cameras": {"bridge-1": {"state": "running", "fps": 9.8, "frames": 100, "gate_fire_rate": 0.02}}}
    r = c.post("/api/edge/heartbeat", json=health)
    assert r.status_code == 200 and r.json()["ok"] and r.json()["silent_after_s"] == 90.0
    d = admin.get(f"/api/devices/{dev_id}").json()
    assert d["silent"] is False and d["health"] == health and d["last_heartbeat_at"] and d["last_seen_at"]
    assert c.get("/api/devices/me").json()["health"]["outbox_depth"] == 3
    live.clock.advance(timedelta(seconds=91))  # three 30 s intervals without a heartbeat
    [listed] = [x for x in admin.get("/api/devices").json() if x["id"] == dev_id]
    assert listed["silent"] is True and listed["health"] == health
    assert c.post("/api/edge/heartbeat", json=dict(health, outbox_depth=0)).status_code == 200
    assert admin.get(f"/api/devices/{dev_id}").json()["silent"] is False
    r = c.post("/api/edge/heartbeat", json={"outbox_depth": "many"})
    assert r.status_code == 422 and "outbox_depth" in r.json()["detail"]


def test_chiefs_see_tickets_not_raw_events(live_sqlite: LiveServer) -> None:
    r = live_sqlite.client("chief").get("/api/edge/events")
    assert r.status_code == 403 and "edge.read" in r.json()["detail"]


def test_tickets_filtered_by_camera_box(live: LiveServer) -> None:
    """The ledger's camera filter: the tickets of one edge box, none of another's."""
    network(live)
    c1, _, _ = device(live, "box-ledger-1")
    c2, _, _ = device(live, "box-ledger-2")
    t1 = post(c1, event(0.0, 0.0), 201)["ticket_id"]
    t2 = post(c2, event(400.0, 0.0, camera_id="bridge-2"), 201)["ticket_id"]
    assert t1 and t2 and t1 != t2
    rev = live.client("reviewer")
    assert [t["id"] for t in rev.get("/api/tickets", params={"device": "box-ledger-1"}).json()["items"]] == [t1]
    assert [t["id"] for t in rev.get("/api/tickets", params={"device": "box-ledger-2"}).json()["items"]] == [t2]
    assert rev.get("/api/tickets", params={"device": "nobody"}).json()["total"] == 0
    assert {t["id"] for t in rev.get("/api/tickets", params={"source": "edge"}).json()["items"]} >= {t1, t2}
