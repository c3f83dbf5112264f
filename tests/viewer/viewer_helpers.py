"""Shared pieces of the viewer tests: the browser flags, the demo password, the server handle,
and page steps (log in, log out, screenshots)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORD = "viewer-test-pass"
HEYAN = [sys.executable, "-m", "heyan.cli"]


def _need_browser() -> None:
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} not installed (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright (python) not installed"
    if why:
        if os.environ.get("HEYAN_REQUIRE_CHROMIUM"):
            pytest.fail(f"browser tests required (HEYAN_REQUIRE_CHROMIUM) but {why}")
        pytest.skip(f"browser tests skipped: {why}")


@dataclass
class Server:
    url: str
    flight: Path
    segments: list[str]

    @contextmanager
    def client(self, user: str = "admin") -> Iterator[httpx.Client]:
        """An API session as `user`, for arranging and checking what the browser did."""
        with httpx.Client(base_url=self.url, timeout=30) as c:
            r = c.post("/api/auth/login", json={"username": user, "password": PASSWORD})
            r.raise_for_status()
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            yield c


def login(page, server: Server, user: str) -> None:
    page.goto(server.url + "/#/login")
    page.wait_for_selector("#login-form")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#nav a")


def logout(page) -> None:
    page.click("#logout")
    page.wait_for_selector("#login-form")


def shot(page, name: str) -> None:
    """README screenshots, written only when asked: HEYAN_SCREENSHOTS=docs/img."""
    out = os.environ.get("HEYAN_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(out) / f"viewer-{name}.png"))


def upload_flight(server: Server, name: str) -> None:
    """The simulated flight's photos, uploaded by the operator through the API."""
    photos = sorted((server.flight / "photos").glob("*.jpg"))
    with server.client("operator") as c:
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
        c.post("/api/flights", files=files, data={"name": name}).raise_for_status()


def wait_processed(server: Server, timeout_s: float = 300) -> dict:
    """The newest flight once its job is done (or failed)."""
    import time

    with server.client() as c:
        deadline = time.monotonic() + timeout_s
        while True:
            items = c.get("/api/flights").json()["items"]
            if items and items[0]["job"] and items[0]["job"]["state"] in ("done", "failed"):
                return items[0]
            assert time.monotonic() < deadline, f"flight not processed in {timeout_s:g} s: {items}"
            time.sleep(1)


def stop_server(proc, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """A test server process ended (killed if it does not stop) and its data removed."""
    import shutil
    import subprocess

    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(data_dir, ignore_errors=True)
