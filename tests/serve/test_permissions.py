"""Every endpoint x every role: allowed or denied as this table says. The table is checked
against the app's routes, so a new endpoint without an entry here fails the test."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from serve_helpers import ROLES, LiveServer

ALL = set(ROLES)
REVIEW = {"admin", "reviewer"}
ADMIN = {"admin"}
PUBLIC = "public"
LABEL_READ = {"admin", "reviewer", "trainer", "operator", "viewer"}
LABEL_WRITE = {"admin", "reviewer", "trainer"}
MODEL_READ = {"admin", "reviewer", "trainer", "viewer"}
MODEL_ADMIN = {"admin", "trainer"}

# (method, path) -> roles allowed, or PUBLIC (no login needed), or "device" (device tokens only)
EXPECTED: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/config"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): ALL,
    ("GET", "/api/auth/me"): ALL,
    ("POST", "/api/auth/password"): ALL,
    ("GET", "/api/auth/tokens"): ALL,
    ("POST", "/api/auth/tokens"): ALL,
    ("DELETE", "/api/auth/tokens/{token_id}"): ALL,
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("GET", "/api/users/tokens"): ADMIN,
    ("GET", "/api/users/{user_id}"): ADMIN,
    ("PATCH", "/api/users/{user_id}"): ADMIN,
    ("GET", "/api/users/{user_id}/tokens"): ADMIN,
    ("DELETE", "/api/users/{user_id}/tokens"): ADMIN,
    ("GET", "/api/devices"): ADMIN,
    ("POST", "/api/devices"): ADMIN,
    ("GET", "/api/devices/me"): "device",
    ("GET", "/api/devices/{device_id}"): ADMIN,
    ("PUT", "/api/edge/media/{sha256}"): "device",
    ("POST", "/api/edge/events"): "device",
    ("GET", "/api/edge/events"): {"admin", "reviewer", "operator", "viewer", "trainer"},
    ("POST", "/api/edge/heartbeat"): "device",
    ("POST", "/api/devices/{device_id}/token"): ADMIN,
    ("DELETE", "/api/devices/{device_id}/token"): ADMIN,
    ("GET", "/api/rivers"): ALL,
    ("POST", "/api/rivers"): ADMIN,
    ("GET", "/api/rivers/current"): ALL,
    ("GET", "/api/rivers/current/segments"): ALL,
    ("GET", "/api/rivers/{version}"): ALL,
    ("GET", "/api/flights"): {"admin", "reviewer", "operator", "viewer", "trainer"},
    ("POST", "/api/flights"): {"admin", "operator"},
    ("GET", "/api/flights/{flight_id}"): {"admin", "reviewer", "operator", "viewer", "trainer"},
    ("GET", "/api/flights/{flight_id}/photos"): {"admin", "reviewer", "operator", "viewer", "trainer"},
    ("GET", "/api/flights/{flight_id}/thumbs/{sha256}.jpg"): {"admin", "reviewer", "operator", "viewer", "trainer"},
    ("GET", "/api/basemap/{z}/{x}/{y}"): ALL,
    ("POST", "/api/flights/{flight_id}/reprocess"): {"admin", "operator"},
    ("GET", "/api/tickets"): ALL,
    ("POST", "/api/tickets/escalate"): REVIEW,
    ("GET", "/api/tickets/queues"): ALL,
    ("POST", "/api/tickets/{ticket_id}/urge"): REVIEW,
    ("GET", "/api/tickets/{ticket_id}"): ALL,
    ("POST", "/api/tickets/{ticket_id}/transition"): REVIEW,
    ("POST", "/api/tickets/{ticket_id}/rectify"): {"admin", "chief"},
    ("GET", "/api/stats/assessment"): {"admin", "reviewer", "chief", "viewer"},
    ("GET", "/api/stats/assessment.xlsx"): {"admin", "reviewer", "chief", "viewer"},
    ("POST", "/api/tickets/{ticket_id}/undo"): REVIEW,
    ("GET", "/api/exports/tickets.{fmt}"): ALL,
    ("GET", "/api/exports/hard-negatives.jsonl"): REVIEW,
    ("GET", "/api/blobs/{sha256}"): ALL,
    ("GET", "/api/tasks"): {"admin", "chief"},
    ("POST", "/api/public/reports"): PUBLIC,
    ("GET", "/api/notifications"): REVIEW,
    ("GET", "/api/archive/rivers"): {"admin", "reviewer", "chief", "viewer"},
    ("GET", "/api/archive/segments/{segment_id}"): {"admin", "reviewer", "chief", "viewer"},
    ("POST", "/api/notifications/run"): ADMIN,
    ("POST", "/api/reports"): {"admin", "reviewer", "chief", "operator"},
    ("POST", "/api/reports/suggest"): {"admin", "reviewer", "chief", "operator"},
    ("POST", "/api/patrols"): {"admin", "chief"},
    ("GET", "/api/patrols"): {"admin", "reviewer", "chief", "viewer"},
    ("GET", "/api/patrols/stats"): {"admin", "reviewer", "chief", "viewer"},
    ("GET", "/api/patrols/{patrol_id}"): {"admin", "reviewer", "chief", "viewer"},
    ("GET", "/api/labels/queue"): LABEL_READ,
    ("GET", "/api/labels/export"): LABEL_WRITE,
    ("GET", "/api/labels/frames/{sha256}"): LABEL_READ,
    ("GET", "/api/labels/frames/{sha256}/preview"): LABEL_READ,
    ("GET", "/api/labels/frames/{sha256}/versions/{version}"): LABEL_READ,
    ("POST", "/api/labels/frames/{sha256}"): LABEL_WRITE,
    ("GET", "/api/models"): MODEL_READ,
    ("GET", "/api/models/scopes"): MODEL_READ,
    ("POST", "/api/models/jobs"): MODEL_ADMIN,
    ("GET", "/api/models/jobs"): MODEL_READ,
    ("GET", "/api/models/jobs/{job_id}"): MODEL_READ,
    ("POST", "/api/models/{sha256}/activate"): MODEL_ADMIN,
    ("POST", "/api/models/rollback"): MODEL_ADMIN,
    ("GET", "/api/edge/models/{sha256}/{file}"): "device",
}

PARAMS = {"token_id": "999999", "user_id": "999999", "device_id": "999999", "version": "999999", "flight_id": "fl-none",
          "ticket_id": "tk-none", "job_id": "999999", "file": "model.onnx", "fmt": "csv", "sha256": "0" * 64,
          "patrol_id": "pt-none", "segment_id": "seg-none", "z": "0", "x": "0", "y": "0"}


def routes(live: LiveServer) -> list[tuple[str, str]]:
    """Every (method, path) the app serves: its OpenAPI document is built from all its routes
    (none is hidden from the schema; checked below for the app's own top-level routes)."""
    hidden = [r.path for r in live.app.routes if isinstance(r, APIRoute) and not r.include_in_schema]
    assert not hidden, f"routes hidden from OpenAPI escape this test: {hidden}"
    spec = live.app.openapi()
    return [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops]


def url(path: str) -> str:
    for k, v in PARAMS.items():
        path = path.replace("{" + k + "}", v)
    return path


def test_table_covers_every_route(live_sqlite: LiveServer) -> None:
    have = set(routes(live_sqlite))
    missing = have - set(EXPECTED)
    assert not missing, f"endpoints with no entry in the permission table: {sorted(missing)}"
    assert not set(EXPECTED) - have, f"table entries for endpoints that no longer exist: {sorted(set(EXPECTED) - have)}"


@pytest.fixture(scope="module")
def device_token(live_sqlite: LiveServer) -> str:
    r = live_sqlite.client("admin").post("/api/devices", json={"name": "matrix-box"})
    return str(r.json()["token"])


@pytest.mark.parametrize("who", [*ROLES, "anonymous", "device"])
def test_every_endpoint_every_role(live_sqlite: LiveServer, device_token: str, who: str) -> None:
    live = live_sqlite
    if who == "anonymous":
        c = live.client()
    elif who == "device":
        c = live.client()
        c.headers["Authorization"] = f"Bearer {device_token}"
    else:
        c = live.client(who)
    wrong = []
    for method, path in routes(live):
        rule = EXPECTED[(method, path)]
        # An empty JSON body: allowed callers get past the role check and fail validation
        # (or find nothing), so no call here changes anything.
        r = c.request(method, url(path), json={} if method in ("POST", "PATCH", "PUT") else None)
        assert r.headers.get("content-type", "").startswith("application/json") or r.status_code < 400, (method, path, r.text)
        if rule == PUBLIC:
            ok = r.status_code not in (401, 403)
        elif who == "anonymous":
            ok = r.status_code == 401
        elif rule == "device":
            ok = (r.status_code not in (401, 403)) if who == "device" else r.status_code == 403
        elif who == "device":
            ok = r.status_code == 403
        elif who in rule:  # type: ignore[operator]
            ok = r.status_code not in (401, 403)
        else:
            ok = r.status_code == 403
        if not ok:
            wrong.append(f"{method} {path}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"{who}:\n" + "\n".join(wrong)
