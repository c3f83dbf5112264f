"""The web viewer in real headless Chromium against a real server: the whole review
workflow from upload to closure, the keyboard, the language switch, exports, and that the
page loads nothing from outside the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from viewer_helpers import Server, login, logout, shot, wait_processed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _ticket(server: Server, tid: str) -> dict:
    with server.client() as c:
        return c.get(f"/api/tickets/{tid}").json()


def _counter(page) -> tuple[int, int]:
    m = re.match(r"(\d+) / (\d+)", page.inner_text("#review-counter"))
    assert m, page.inner_text("#review-counter")
    return int(m.group(1)), int(m.group(2))


def test_upload_review_dispatch_rectify_close(page, server: Server, tmp_path: Path) -> None:
    # An operator uploads the flight through the page, with a progress bar, and watches it processed.
    login(page, server, "operator")
    assert page.url.endswith("#/home")  # an operator lands on 首页
    page.goto(server.url + "/#/flights")
    page.wait_for_selector("#flight-files")
    photos = sorted((server.flight / "photos").glob("*.jpg"))
    page.set_input_files("#flight-files", [str(p) for p in photos])
    page.fill("#flight-name", "浏览器测试航拍任务")
    shot(page, "flights")
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("document.querySelector('#upload-progress').value === 100", timeout=60_000)
    page.wait_for_selector("#flight-list [data-state=done]", timeout=240_000)
    flight = wait_processed(server, 240)
    assert flight["name"] == "浏览器测试航拍任务" and flight["n_photos"] == len(photos)
    shot(page, "flights")
    logout(page)

    # A reviewer works the queue from the keyboard.
    login(page, server, "reviewer")
    assert page.url.endswith("#/home")
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review")
    first, total = _counter(page)
    assert first == 1 and total >= 3, "the simulated flight should give several tickets to review"
    page.wait_for_function("document.querySelector('.evidence-photo') && document.querySelector('.evidence-photo').complete")
    box = page.eval_on_selector(".photo .box", "b => [b.offsetWidth, b.offsetHeight]")
    assert box[0] > 0 and box[1] > 0, "the detection box is drawn on the photo"
    shot(page, "review")
    t1 = page.get_attribute("#review", "data-ticket")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.querySelector('#review').dataset.ticket !== {json.dumps(t1)}")
    assert _counter(page)[0] == 2
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"document.querySelector('#review').dataset.ticket === {json.dumps(t1)}")

    page.keyboard.press("y")  # confirm the first
    page.wait_for_function(f"document.querySelector('#review').dataset.ticket !== {json.dumps(t1)}")
    assert _counter(page) == (1, total - 1)
    t2 = page.get_attribute("#review", "data-ticket")
    page.keyboard.press("n")  # reject the next
    page.wait_for_function(f"!document.querySelector('#review') || document.querySelector('#review').dataset.ticket !== {json.dumps(t2)}")
    assert _ticket(server, t1)["state"] == "confirmed"
    assert _ticket(server, t2)["state"] == "rejected"

    # 交办 from the ticket page: the dialog offers the segment's chief and the rule's deadline.
    page.goto(f"{server.url}/#/ticket/{t1}")
    page.wait_for_selector("#actions button[data-to=dispatched]")
    assert page.inner_text("#actions button[data-to=dispatched]") == "交办"
    page.click("#actions button[data-to=dispatched]")
    page.wait_for_selector("dialog#jb[open]")
    page.fill("#jb-note", "请尽快处理")
    page.click("#jb-submit")
    page.wait_for_selector("#ticket[data-state=dispatched]")
    d = _ticket(server, t1)
    assert d["state"] == "dispatched" and d["chief_name"] and d["deadline"]
    shot(page, "ticket")
    logout(page)

    # The chief sees it as a card on his phone page and reports rectification with a photo.
    # The flight's own photo was taken in 2025, before the 交办: refused, with the reason in
    # Chinese; a written reason lets it through for the reviewer to judge.
    login(page, server, "chief")
    assert page.url.endswith("#/chief")  # a chief lands on his task cards
    page.wait_for_selector(f".task-card[data-ticket='{t1}']")
    shot(page, "chief")
    page.click(f".task-card[data-ticket='{t1}'] a.go-rectify")
    page.wait_for_selector("#rectify-form")
    page.set_input_files("#rectify-photo", str(photos[0]))
    page.fill("#rectify-comment", "已清理完毕")
    page.click("#rectify-form button[type=submit]")
    page.wait_for_selector("#reason-box:not([hidden])")
    assert "早于交办时间" in page.inner_text("#proof-problems")
    page.fill("#rectify-reason", "用航拍照片说明现场已清理")
    page.click("#rectify-form button[type=submit]")
    page.wait_for_selector("#ticket[data-state=rectified]")
    assert page.inner_text("#proof-reason").endswith("用航拍照片说明现场已清理")
    logout(page)

    # The reviewer closes it; the audit log shows every step.
    login(page, server, "reviewer")
    page.goto(f"{server.url}/#/ticket/{t1}")
    page.wait_for_selector("#actions button[data-to=closed]")
    page.click("#actions button[data-to=closed]")
    page.wait_for_selector("#ticket[data-state=closed]")
    d = _ticket(server, t1)
    assert d["state"] == "closed"
    steps = [a["to_state"] for a in d["audit"] if a["to_state"]]
    assert steps == ["pending_review", "confirmed", "dispatched", "rectified", "closed"]
    assert any(e["kind"] == "rectification" for e in d["evidence"])
    assert page.locator("#audit tbody tr").count() >= 5
    assert page.locator("#evidence li[data-kind=rectification]").count() == 1
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_map_assessment_exports_and_nothing_external(page, server: Server, tmp_path: Path) -> None:
    wait_processed(server, 240)  # the first test uploaded it; alone, this test waits for nothing to upload
    with server.client() as c:
        if not c.get("/api/flights").json()["items"]:
            pytest.skip("needs the flight uploaded by test_upload_review_dispatch_rectify_close")
        all_tickets = c.get("/api/tickets?limit=500").json()["items"]
    login(page, server, "reviewer")
    page.goto(server.url + "/#/map")
    page.wait_for_selector("#map[data-ready]")
    assert page.evaluate("document.getElementById('map').heyanMap.markers.size") == len(all_tickets)
    page.select_option("#filter-state", "pending_review")
    pending = [x for x in all_tickets if x["state"] == "pending_review"]
    page.wait_for_function(f"document.getElementById('map').heyanMap.markers.size === {len(pending)}")
    assert {t["state"] for t in page.evaluate("document.getElementById('map').heyanMap.tickets")} <= {"pending_review"}
    with page.expect_download() as dl:
        page.click("#exports a[data-format=geojson]")
    data = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert len(data["features"]) == len(pending)
    with page.expect_download() as dl:
        page.click("#exports a[data-format=xlsx]")
    assert Path(dl.value.path()).read_bytes()[:2] == b"PK"  # an xlsx is a zip

    page.goto(server.url + "/#/assessment")
    page.wait_for_selector("#assessment table")
    assert page.locator("#assessment table").count() == 2
    shot(page, "assessment")
    external = [u for u in page.requests if not (u.startswith((server.url, "data:", "blob:")))]  # type: ignore[attr-defined]
    assert not external, f"the viewer fetched from outside the server: {external}"
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_language_switch_is_remembered(page, server: Server) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#login-form")
    assert page.inner_text("#login-form h1") == "登录"  # Chinese first
    shot(page, "login")
    page.click("#lang")
    page.wait_for_selector("#login-form")
    assert page.inner_text("#login-form h1") == "Log in"
    page.reload()
    page.wait_for_selector("#login-form")
    assert page.inner_text("#login-form h1") == "Log in"
    assert page.evaluate("document.documentElement.lang") == "en"
    login(page, server, "reviewer")
    assert "Review" in page.inner_text("#nav")
    page.click("#lang")
    page.wait_for_selector("#nav a")
    assert "审核" in page.inner_text("#nav")


def test_wrong_password_and_role_menus(page, server: Server) -> None:
    page.goto(server.url + "/#/login")
    page.wait_for_selector("#login-form")
    page.fill("#username", "reviewer")
    page.fill("#password", "not-the-password")
    page.click("#login-form button[type=submit]")
    page.wait_for_function("document.querySelector('#login-error').textContent.length > 0")
    assert page.inner_text("#login-error") == "登录失败：用户名或密码错误"  # the error code, in Chinese
    login(page, server, "chief")
    pages = page.eval_on_selector_all("#nav a", "as => as.map(a => a.dataset.page)")
    assert pages == ["chief", "home", "patrol", "report", "river", "map", "account"]


def test_csp_holds_and_roles_see_only_what_they_may_do(strict_page, server: Server, tmp_path: Path) -> None:
    """Under the server's content security policy (self only, no inline code) every page
    works with nothing blocked; a reviewer gets no upload form (the server would refuse it);
    a refused upload is explained in Chinese, not with the server's English message."""
    page = strict_page
    r = page.goto(server.url + "/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    login(page, server, "reviewer")
    page.goto(server.url + "/#/flights")
    page.wait_for_selector("#flight-list")
    assert page.locator("#upload-form").count() == 0
    page.goto(server.url + "/#/map")
    page.wait_for_selector("#map[data-ready]")
    assert page.locator("#map-legend .legend-item i.dot").count() >= 5
    assert page.eval_on_selector("#map-legend .legend-item i.dot", "i => getComputedStyle(i).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.goto(server.url + "/#/assessment")
    page.wait_for_selector("#assessment")
    with server.client() as c:
        items = c.get("/api/tickets?limit=1").json()["items"]
    if items:
        page.goto(server.url + "/#/map")
        page.wait_for_selector("#map[data-ready]")
        page.goto(f"{server.url}/#/ticket/{items[0]['id']}")
        page.wait_for_selector("#ticket-back")
        page.click("#ticket-back")
        page.wait_for_url("**/#/map")
        page.wait_for_selector("#map[data-ready]")
    logout(page)

    login(page, server, "operator")
    page.goto(server.url + "/#/flights")
    page.wait_for_selector("#upload-form")
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    page.set_input_files("#flight-files", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#upload-status.error")
    text = page.inner_text("#upload-status")
    assert "文件无法使用" in text and "refused" not in text and "zip file" not in text, text
    assert not page.csp, page.csp  # type: ignore[attr-defined]
    assert not page.errors, page.errors  # type: ignore[attr-defined]
