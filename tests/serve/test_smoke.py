"""The server starts on both engines, migrates, creates the admin, serves the placeholder
viewer and the OpenAPI document; login works with cookie + CSRF and with bearer tokens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from serve_helpers import ADMIN_PASSWORD, LiveServer
from support.net import free_port

from heyan.serve.migrate import head_revision


def test_starts_and_serves(live: LiveServer) -> None:
    with live.client() as c:
        h = c.get("/api/health").json()
        assert h["ok"] and h["schema_revision"] == head_revision()
        page = c.get("/")
        assert page.status_code == 200 and "/js/app.js" in page.text  # the viewer shell
        spec = c.get("/openapi.json").json()
        assert "/api/tickets" in spec["paths"] and "/api/flights" in spec["paths"]
        r = c.get("/api/tickets")
        assert r.status_code == 401 and "detail" in r.json()
        r = c.get("/api/nothing-here")
        assert r.status_code == 404 and r.json()["detail"]


def test_cookie_session_needs_csrf(live: LiveServer) -> None:
    c = live.login("admin", ADMIN_PASSWORD)
    assert c.cookies.get("heyan_session") and c.cookies.get("heyan_csrf")
    assert c.get("/api/auth/me").json()["username"] == "admin"
    good = c.headers.pop("X-CSRF-Token")
    r = c.post("/api/auth/tokens", json={"name": "x"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = c.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    r = c.post("/api/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": good})
    assert r.status_code == 201
    token = r.json()["token"]
    # Bearer tokens need no CSRF header (no ambient credential a browser could replay).
    with live.client() as b:
        b.headers["Authorization"] = f"Bearer {token}"
        assert b.post("/api/auth/tokens", json={"name": "y"}).status_code == 201
        c.headers["X-CSRF-Token"] = good
        assert c.delete(f"/api/auth/tokens/{r.json()['id']}").status_code == 200
        assert b.get("/api/auth/me").status_code == 401
    assert c.post("/api/auth/logout").status_code == 200
    assert c.get("/api/auth/me").status_code == 401


def test_cli_first_start_prints_one_time_password(tmp_path: Path) -> None:
    """`heyan serve` as its own process: no HEYAN_ADMIN_PASSWORD -> a printed password that works."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "HEYAN_ADMIN_PASSWORD"}
    env["HEYAN_SERVE_WORKERS"] = "0"
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "heyan.commands.serve", "--data", str(tmp_path / "d"),
                                 "--port", str(port)], stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while "one-time password" not in log.read_text() or "Uvicorn running" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        password = re.search(r"one-time password: (\S+)", log.read_text()).group(1)
        r = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"username": "admin", "password": password})
        assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
        assert (tmp_path / "d" / "heyan.db").is_file()
    finally:
        proc.terminate()
        proc.wait(30)
