"""A real `heyan serve` (SQLite, the real flight pipeline and model) on a free loopback
port, a simulated flight, demo users, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest
from support.net import free_port, wait_until_healthy
from viewer_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HEYAN,
    PASSWORD,
    Server,
    _need_browser,
    stop_server,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need_browser()
    tmp = tmp_path_factory.mktemp("viewer")
    env = dict(os.environ, HEYAN_ADMIN_PASSWORD=PASSWORD, HEYAN_ORT_THREADS="2")
    sim = subprocess.run(HEYAN + ["simulate-flight", "--out", str(tmp / "flight"), "--photos", "6", "--seed", "1"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert sim.returncode == 0, sim.stderr[-1000:]
    port = free_port()
    proc = subprocess.Popen(HEYAN + ["serve", "--data", str(tmp / "data"), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, proc, lambda: (tmp / "server.log").read_text())
        rivers = json.loads((tmp / "flight" / "rivers.geojson").read_text(encoding="utf-8"))
        segments = [f["properties"]["id"] for f in rivers["features"] if f["properties"].get("kind") == "segment"]
        srv = Server(url, tmp / "flight", segments)
        with srv.client() as admin:
            admin.post("/api/rivers", json=rivers).raise_for_status()
            for name, role in (("reviewer", "reviewer"), ("chief", "chief"), ("operator", "operator"), ("viewer", "viewer")):
                admin.post("/api/users", json={"username": name, "password": PASSWORD, "role": role,
                                               "segments": segments if role == "chief" else [],
                                               "full_name": "测试河长" if role == "chief" else None}).raise_for_status()
        yield srv
    finally:
        stop_server(proc, tmp / "data")


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _context(browser, bypass_csp: bool):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", accept_downloads=True,
                               bypass_csp=bypass_csp)


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    """A fresh browser context per test; every request it makes is recorded so a test can
    check nothing left the server (air-gapped offices). Playwright's wait_for_function
    evaluates strings, which the server's CSP forbids (no eval): these contexts bypass the
    CSP; ``strict_page`` does not, for the test that checks the viewer under it."""
    yield from _page(_context(browser, True))


@pytest.fixture
def strict_page(browser, server: Server) -> Iterator[object]:
    yield from _page(_context(browser, False))


def _page(ctx) -> Iterator[object]:  # type: ignore[no-untyped-def]
    pg = ctx.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    pg.csp = []  # type: ignore[attr-defined]  # what the content security policy blocked
    pg.on("console", lambda m: pg.csp.append(m.text) if "Content Security Policy" in m.text else None)  # type: ignore[attr-defined]
    yield pg
    ctx.close()


