"""Edge API sizes (issue 16): the JSON limit holds on the bytes read, chunked or not, and
what is stored from a box (event details, heartbeat health) is capped."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from serve_helpers import LiveServer

from heyan.serve.routers.edge import EDGE_JSON_LIMIT
from heyan.serve.schemas.edge import EDGE_DETAILS_MAX, EDGE_HEALTH_MAX


def device(live: LiveServer) -> httpx.Client:
    r = live.client("admin").post("/api/devices", json={"name": f"box-{uuid.uuid4().hex[:8]}"})
    assert r.status_code == 201, r.text
    c = live.client()
    c.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return c


def event(**kw: Any) -> dict[str, Any]:
    body = {"event_id": str(uuid.uuid4()), "seq": 1, "camera_id": "cam-1", "kind": "object", "phase": "start",
            "class": "floating_debris", "score": 0.7, "started_at": "2026-11-23T08:15:02Z", "details": {}}
    body.update(kw)
    return body


def chunked(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_chunked_bodies_are_limited_on_what_is_read(live_sqlite: LiveServer) -> None:
    live = live_sqlite
    box = device(live)
    huge = json.dumps(event(details={"junk": "x" * (20 * EDGE_JSON_LIMIT)})).encode()
    r = box.post("/api/edge/events", content=chunked(huge), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:200]
    assert "limit" in r.json()["detail"]
    hb = json.dumps({"version": "1", "junk": "y" * (3 * EDGE_JSON_LIMIT)}).encode()
    r = box.post("/api/edge/heartbeat", content=chunked(hb), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:200]
    # With a Content-Length, refused before reading.
    r = box.post("/api/edge/events", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # People's JSON endpoints are bounded too.
    r = live.client("admin").post("/api/users", content=chunked(b'{"username": "' + b"a" * (8 << 20) + b'"}'),
                                  headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # Small chunked bodies still work.
    r = box.post("/api/edge/events", content=chunked(json.dumps(event()).encode(), 7),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


def test_stored_fields_are_capped(live_sqlite: LiveServer) -> None:
    live = live_sqlite
    box = device(live)
    body = event(details={"notes": "z" * (EDGE_DETAILS_MAX * 4)})
    assert box.post("/api/edge/events", json=body).status_code == 201
    stored = [e for e in live.client("admin").get("/api/edge/events", params={"limit": 500}).json()["items"]
              if e["event_id"] == body["event_id"]][0]
    assert stored["details"]["truncated"] is True and len(json.dumps(stored["details"])) < 1000
    hb = {"version": "1", "last_error": "e" * 100_000, "cameras": {f"c{i}": {"x": "w" * 2000} for i in range(300)},
          "anything": "q" * 300_000}
    r = box.post("/api/edge/heartbeat", json=hb)
    assert r.status_code == 200, r.text
    devices = live.client("admin").get("/api/devices")
    assert len(devices.content) < 4 * EDGE_HEALTH_MAX, len(devices.content)
    me = [d for d in devices.json() if d["health"] and d["health"].get("truncated")]
    assert me and me[0]["health"]["version"] == "1" and len(me[0]["health"]["last_error"]) <= 2000
