"""The flight report (report.html) in real Chromium, opened as an office opens it: a file
on a PC with no network. Nothing is fetched, the map fills its box on a desktop and fits a
phone, and the photos are drawn on it. HEYAN_SCREENSHOTS=docs/img writes docs/img/report.png."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from viewer_helpers import CHROMIUM, CHROMIUM_ARGS, HEYAN, _need_browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_browser()
    tmp = tmp_path_factory.mktemp("report")
    env = dict(os.environ, HEYAN_ORT_THREADS="2")
    sim = subprocess.run(HEYAN + ["simulate-flight", "--out", str(tmp / "flight"), "--photos", "8", "--seed", "1"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert sim.returncode == 0, sim.stderr[-1000:]
    photos = tmp / "flight" / "photos"
    good = sorted(photos.glob("*.jpg"))[0].read_bytes()
    (photos / "DJI_0099.JPG").write_bytes(good[: len(good) // 3])  # a copy cut short
    import cv2
    import numpy as np

    cv2.imwrite(str(photos / "DJI_0100.JPG"), np.full((300, 400, 3), 90, np.uint8))  # no GPS
    ing = subprocess.run(HEYAN + ["ingest", str(tmp / "flight" / "photos"), "--rivers", str(tmp / "flight" / "rivers.geojson"),
                                  "--out", str(tmp / "out"), "--flight-id", "青石港-第1架次"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert ing.returncode == 0, ing.stderr[-2000:]
    return tmp / "out" / "report.html"


@pytest.fixture(scope="module")
def browser(report: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_report_opens_offline_and_shows_the_flight(browser, report: Path, width: int, height: int) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", offline=True)
    page = ctx.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    box = page.locator("#map").bounding_box()
    assert box is not None and box["width"] <= width and box["height"] > 150
    if width > 1000:  # on a desktop the map takes most of the width
        assert box["width"] > 0.55 * width
    # No sideways scroll of the page on a phone: the ticket table scrolls in its own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    # The photos are drawn: the map's pixels are not the empty background.
    png = page.locator("#map").screenshot()
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img.std() > 20
    assert page.locator("#map .marker").count() > 0 and page.locator(".legend li").count() >= 3
    body = page.inner_text("body")
    assert "照片没有 GPS 位置" in body and "照片文件不完整" in body
    out = os.environ.get("HEYAN_SCREENSHOTS")
    if out and width > 1000:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1180})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(out) / "report.png"))
    ctx.close()
