"""The chief's phone pages in real Chromium at 390x844 with a mocked GPS: 我的工单 cards
by deadline with a countdown and a navigation link, 整改 refused for an old photo and
accepted for a fresh one on site (before/after for the reviewer), and a 巡河 recorded
with the phone offline, queued in IndexedDB and uploaded when back online."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from support.phone_photos import phone_jpeg
from viewer_helpers import Server, login, shot

from heyan.vision.common import BEIJING

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def dispatched(server: Server) -> list[dict]:
    """The simulated flight uploaded and processed; two of its tickets confirmed and 交办."""
    photos = sorted((server.flight / "photos").glob("*.jpg"))
    with server.client() as c:
        r = c.post("/api/flights", files=[("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos],
                   data={"name": "手机测试航线"}, timeout=300)
        assert r.status_code in (200, 201, 202), r.text
        deadline = time.monotonic() + 300
        while True:
            items = c.get("/api/flights").json()["items"]
            if items and items[0]["job"] and items[0]["job"]["state"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, items
            time.sleep(1)
        pending = c.get("/api/tickets?state=pending_review&limit=10&sort=found_at").json()["items"]
        assert len(pending) >= 2, "the simulated flight should make tickets"
        soon = (datetime.now(BEIJING) + timedelta(hours=30)).isoformat()
        out = []
        for tk, deadline_at in zip(pending[:2], (None, soon)):
            c.post(f"/api/tickets/{tk['id']}/transition", json={"to": "confirmed"}).raise_for_status()
            body = {"to": "dispatched", "comment": "请尽快清理"} | ({"deadline": deadline_at} if deadline_at else {})
            out.append(c.post(f"/api/tickets/{tk['id']}/transition", json=body).json())
        return out


def _phone(browser, **kw):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", bypass_csp=True, **kw)


@pytest.fixture
def phone(browser, server: Server) -> Iterator[object]:
    ctx = _phone(browser, permissions=["geolocation"], geolocation={"latitude": 0, "longitude": 0})
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways on a phone"


def test_tasks_and_rectification_with_proof(phone, browser, server: Server, dispatched: list[dict]) -> None:
    page = phone
    login(page, server, "chief")
    assert page.url.endswith("#/chief")
    page.wait_for_selector(".task-card")
    cards = page.eval_on_selector_all(".task-card", "cs => cs.map(c => c.dataset.ticket)")
    due = dispatched[1]  # its deadline is in 30 hours: first, "剩余 2 天"
    assert cards[0] == due["id"] and dispatched[0]["id"] in cards
    first = page.locator(f".task-card[data-ticket='{due['id']}']")
    assert first.locator(".countdown").inner_text() == "剩余 2 天"
    assert "请尽快清理" in first.inner_text()
    _no_sideways_scroll(page)
    shot(page, "phone-tasks")

    # Navigation: GCJ-02 for Chinese map apps by default, WGS-84 (geo: URI) on request.
    assert first.locator("a.go-nav").get_attribute("href").startswith("https://uri.amap.com/marker?position=")
    page.select_option("#datum", "wgs84")
    href = page.locator(f".task-card[data-ticket='{due['id']}'] a.go-nav").get_attribute("href")
    assert href.startswith(f"geo:{due['lat']},{due['lon']}")

    # One tap to the 整改 form, at the top of the page.
    page.locator(f".task-card[data-ticket='{due['id']}'] a.go-rectify").tap()
    page.wait_for_selector("#rectify-form")
    assert page.get_attribute("#rectify-photo", "capture") == "environment"
    assert page.locator("#rectify-form").bounding_box()["y"] < 150
    _no_sideways_scroll(page)
    now_bj = datetime.now(BEIJING).replace(tzinfo=None)
    old = phone_jpeg(due["lat"], due["lon"], now_bj - timedelta(days=365), seed=1, size=320)
    page.set_input_files("#rectify-photo", files=[{"name": "old.jpg", "mimeType": "image/jpeg", "buffer": old}])
    page.click("#rectify-form button[type=submit]")
    page.wait_for_selector("#reason-box:not([hidden])")
    assert "早于交办时间" in page.inner_text("#proof-problems")
    assert page.inner_text("#toast") == "整改照片未通过时间/位置核验"
    shot(page, "phone-rectify-refused")
    with server.client("chief") as c:
        assert c.get(f"/api/tickets/{due['id']}").json()["state"] == "dispatched"

    fresh = phone_jpeg(due["lat"] + 0.0002, due["lon"], now_bj + timedelta(minutes=1), seed=2, size=320)  # 22 m away
    page.set_input_files("#rectify-photo", files=[{"name": "new.jpg", "mimeType": "image/jpeg", "buffer": fresh}])
    page.fill("#rectify-comment", "已清理")
    page.click("#rectify-form button[type=submit]")
    page.wait_for_selector("#ticket[data-state=rectified]")
    assert page.get_attribute("#proof-verdict", "data-ok") == "1"
    assert not page.errors, page.errors  # type: ignore[attr-defined]

    # The reviewer at a desk sees before and after side by side with the check's verdict.
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", bypass_csp=True)
    desk = ctx.new_page()
    try:
        login(desk, server, "reviewer")
        desk.goto(f"{server.url}/#/ticket/{due['id']}")
        desk.wait_for_selector("#before-after .ba-after img")
        assert "核验通过" in desk.inner_text("#proof-verdict")
        desk.locator("#before-after").scroll_into_view_if_needed()
        shot(desk, "phone-before-after")
    finally:
        ctx.close()


def _segment_points(server: Server) -> tuple[str, list[tuple[float, float]]]:
    rivers = json.loads((server.flight / "rivers.geojson").read_text(encoding="utf-8"))
    seg = next(f for f in rivers["features"] if f["properties"].get("kind") == "segment")
    coords = seg["geometry"]["coordinates"]
    if seg["geometry"]["type"] == "MultiLineString":
        coords = coords[0]
    # Six fixes walking the first ~60 m of the centreline (its vertices may be metres apart).
    lon0, lat0 = coords[0]

    def metres(c: list[float]) -> float:
        return 111_000 * ((c[1] - lat0) ** 2 + ((c[0] - lon0) * 0.87) ** 2) ** 0.5

    lon1, lat1 = next((c for c in coords if metres(c) >= 60), coords[-1])
    steps = 6
    return seg["properties"]["id"], [(lat0 + (lat1 - lat0) * i / (steps - 1), lon0 + (lon1 - lon0) * i / (steps - 1))
                                     for i in range(steps)]


def test_patrol_recorded_offline_uploads_when_back(phone, server: Server) -> None:
    page = phone
    ctx = page.context
    segment, fixes = _segment_points(server)
    ctx.set_geolocation({"latitude": fixes[0][0], "longitude": fixes[0][1], "accuracy": 5})
    login(page, server, "chief")
    page.goto(f"{server.url}/#/patrol")
    page.wait_for_selector("#patrol-start")
    page.select_option("#patrol-segment", segment)
    page.tap("#patrol-start")
    page.wait_for_selector("#patrol-stop:not([hidden])")
    for lat, lon in fixes[1:]:
        page.wait_for_timeout(400)
        ctx.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 5})
    page.wait_for_function(f"Number(document.querySelector('#patrol-live').dataset.points) >= {len(fixes)}")
    _no_sideways_scroll(page)
    shot(page, "phone-patrol-recording")

    ctx.set_offline(True)  # no signal on the river bank
    page.tap("#patrol-stop")
    page.wait_for_function("document.querySelector('#patrol-queue').dataset.n === '1'")
    assert "待上传" in page.inner_text("#patrol-queue")
    with server.client("chief") as c:
        assert c.get("/api/patrols", params={"username": "chief"}).json()["total"] == 0
    shot(page, "phone-patrol-offline")

    ctx.set_offline(False)  # back online: the queue empties by itself
    page.wait_for_function("document.querySelector('#patrol-queue').dataset.n === '0'", timeout=30_000)
    page.wait_for_selector(".patrol-card")
    with server.client("chief") as c:
        got = c.get("/api/patrols", params={"username": "chief"}).json()
        assert got["total"] == 1
        p = got["items"][0]
        assert p["segment_id"] == segment and p["n_points"] >= len(fixes) and p["plausible"], p
        assert p["coverage"] > 0 and p["length_m"] > 30
    assert page.inner_text(".patrol-card [data-k=coverage]") == f"{round(p['coverage'] * 100)}%"
    shot(page, "phone-patrol")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    # Nothing in the queue is sent twice: a reload finds it empty and the server still has one.
    page.reload()
    page.wait_for_selector(".patrol-card")
    with server.client("chief") as c:
        assert c.get("/api/patrols", params={"username": "chief"}).json()["total"] == 1


def test_reviewer_reads_patrol_figures_for_the_assessment(server: Server) -> None:
    with server.client("reviewer") as c:
        stats = c.get("/api/patrols/stats").json()
    assert set(stats) == {"by_segment", "by_chief"}



def test_chief_report_with_the_detectors_suggestion(phone, server: Server, dispatched: list[dict]) -> None:
    """A photo with a problem in it (a flight's photo) is looked at by the real model, whose
    best find becomes the suggested class and box; the report becomes a ticket in 待审核 (or
    evidence on the open ticket of the same problem) at the phone's GPS."""
    page = phone
    with server.client() as c:
        tickets = c.get("/api/tickets", params={"limit": 100}).json()["items"]
        src = next(x for x in tickets if x["best_photo_url"])
        crop = c.get(src["best_photo_url"]).content
    segment, fixes = _segment_points(server)
    page.context.set_geolocation({"latitude": fixes[-1][0], "longitude": fixes[-1][1], "accuracy": 6})
    login(page, server, "chief")
    page.goto(f"{server.url}/#/report")
    page.wait_for_selector("#report-where[data-ok='1']")
    page.set_input_files("#report-photo", files=[{"name": "debris.jpg", "mimeType": "image/jpeg", "buffer": crop}])
    page.wait_for_function("document.querySelector('#report-suggest').dataset.cls !== undefined", timeout=60_000)
    suggested = page.get_attribute("#report-suggest", "data-cls")
    assert suggested, page.inner_text("#report-suggest")
    assert page.input_value("#report-class") == suggested and "识别结果" in page.inner_text("#report-suggest")
    assert page.locator(".report-frame .box").is_visible()
    page.fill("#report-note", "桥下漂浮垃圾")
    _no_sideways_scroll(page)
    shot(page, "phone-report")
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelector('#report-result').dataset.outcome", timeout=60_000)
    outcome = page.get_attribute("#report-result", "data-outcome")
    assert outcome in ("ticket", "seen_again"), page.inner_text("#report-result")
    tid = page.get_attribute("#report-result", "data-ticket")
    with server.client("reviewer") as c:
        t = c.get(f"/api/tickets/{tid}").json()
    assert t["class_name"] == suggested and t["segment_id"]
    if outcome == "ticket":
        assert t["state"] == "pending_review" and t["flight_id"] is None
        assert t["audit"][0]["data"]["suggested"] == suggested
    assert any(e["comment"] == "桥下漂浮垃圾" for e in t["evidence"])
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_public_report_page_without_login_is_rate_limited(phone, server: Server) -> None:
    """公众举报 at /report.html with no account: five reports a day from one address are
    taken (the server's default), the sixth is refused in Chinese; the phone number given
    is kept from every page a reviewer or the public sees."""
    page = phone
    segment, fixes = _segment_points(server)
    page.context.set_geolocation({"latitude": fixes[2][0], "longitude": fixes[2][1], "accuracy": 10})
    page.goto(f"{server.url}/report.html")
    page.wait_for_selector("#pub-where[data-ok='1']")
    assert page.locator("#nav").count() == 0 and "登录" not in page.inner_text("body")
    _no_sideways_scroll(page)
    ids = []
    for i in range(6):
        photo = phone_jpeg(None, None, None, seed=20 + i, size=320)
        page.set_input_files("#pub-photo", files=[{"name": f"p{i}.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        page.select_option("#pub-class", "waste_pile")
        page.fill("#pub-text", f"岸边堆放建筑垃圾 {i}")
        page.fill("#pub-phone", "13900001111")
        if i == 0:
            shot(page, "phone-public")
        page.evaluate("document.querySelector('#pub-result').removeAttribute('data-outcome')")
        page.click("#pub-form button[type=submit]")
        page.wait_for_function("document.querySelector('#pub-result').dataset.outcome", timeout=60_000)
        outcome = page.get_attribute("#pub-result", "data-outcome")
        if i < 5:
            assert outcome in ("ticket", "seen_again"), page.inner_text("#pub-result")
            ids.append(page.inner_text("#pub-result"))
        else:
            assert outcome == "error"
            assert page.inner_text("#pub-result") == "今日举报次数已达上限，请明天再试"
    shot(page, "phone-public-limited")
    assert "已收到您的举报" in ids[0]
    with server.client("reviewer") as c:
        mine = [x for x in c.get("/api/tickets", params={"limit": 500, "state": "pending_review"}).json()["items"]
                if x["class_name"] == "waste_pile"]
        assert mine, "the public report is a ticket waiting for review"
        d = c.get(f"/api/tickets/{mine[0]['id']}").json()
        assert d["audit"][0]["actor"] == "public"
        assert "13900001111" not in json.dumps(d) and "13900001111" not in c.get("/api/exports/tickets.csv").text
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_river_archive_page(phone, browser, server: Server, dispatched: list[dict]) -> None:
    """一河一档: the chief's segments, one segment's chiefs, zone, tickets, patrols, outfalls."""
    page = phone
    login(page, server, "chief")
    page.goto(f"{server.url}/#/river")
    page.wait_for_selector("#river-index a[data-segment]")
    seg = dispatched[0]["segment_id"]
    page.click(f"#river-index a[data-segment='{seg}']")
    page.wait_for_selector(f"#river-archive[data-segment='{seg}']")
    text = page.inner_text("#river-archive")
    assert "河长及联系方式" in text and "河道管理范围" in text and "问题工单" in text and "巡河" in text
    assert page.locator("#river-months .month").count() >= 1
    _no_sideways_scroll(page)
    shot(page, "phone-river")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")  # the CSP in force
    desk = ctx.new_page()
    blocked: list[str] = []
    desk.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        login(desk, server, "reviewer")
        desk.goto(f"{server.url}/#/river/{seg}")
        desk.wait_for_selector("#river-archive")
        assert "航拍任务（在本河段有检测）" in desk.inner_text("#river-archive")
        shot(desk, "phone-river-desktop")
        assert not blocked, blocked
    finally:
        ctx.close()
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_installable_and_opens_offline(phone, server: Server) -> None:
    """A PWA: a manifest, a service worker keeping the page itself; with no signal the chief
    still opens the patrol page (the last segment list, the last user) and can record."""
    page = phone
    login(page, server, "chief")
    page.goto(f"{server.url}/#/patrol")
    page.wait_for_selector("#patrol-start")
    manifest = page.evaluate("fetch('/manifest.json').then(r => r.json())")
    assert manifest["short_name"] == "河眼" and manifest["display"] == "standalone"
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the worker's control; its cache holds the page
    page.wait_for_selector("#patrol-start")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    segments = page.eval_on_selector_all("#patrol-segment option", "os => os.map(o => o.value)")
    page.context.set_offline(True)
    try:
        page.reload()
        page.wait_for_selector("#patrol-start", timeout=20_000)
        assert page.eval_on_selector_all("#patrol-segment option", "os => os.map(o => o.value)") == segments
        assert not page.locator("#patrol-start").is_disabled()
    finally:
        page.context.set_offline(False)
