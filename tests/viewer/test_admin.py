"""The admin pages and the home dashboards (issue 13) on the real server in Chromium: a user
created and linked to a chief lands on his dashboard; a river network with two bad features
is refused with both problems in Chinese; a token is created (shown once) and revoked; a
device whose heartbeat went stale shows 离线; an operator opening an admin page gets 无权限;
every page at 1440×900 and 390×844, with no API identifier in the Chinese text."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from viewer_helpers import PASSWORD, Server, login, logout, shot, upload_flight, wait_processed

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
PAGES = ("home", "users", "devices", "rivers", "account")
# The screenshot names the brief fixes, per page (tokens live on the account page).
SHOT = {"home": "home-admin", "users": "users", "devices": "devices", "rivers": "rivers-upload", "account": "tokens"}


def _identifiers() -> set[str]:
    """What a Chinese page must never show: role, state and level ids, every error code the
    viewer knows (i18n.js code.* and river problem rp.*), edge event kinds and outcomes, and
    the server's own English phrases."""
    from heyan.serve.permissions import ROLES
    from heyan.serve.workflow import LEVELS, STATES

    i18n = (ROOT / "serve" / "static" / "js" / "i18n.js").read_text(encoding="utf-8")
    codes = set(re.findall(r'"(?:code|rp|evk|out)\.([\w]+)":', i18n))
    english = {"password refused", "invalid river network", "not logged in", "may not do this", "exists",
               "features[", "properties.", "Forbidden", "HTTP 4", "null", "undefined", "NaN"}
    return set(ROLES) | set(STATES) | set(LEVELS) | codes | english


def _untranslated(text: str, words: set[str]) -> list[str]:
    return sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))


def check_chinese(page, where: str) -> None:  # type: ignore[no-untyped-def]
    """The visible text, usernames aside (the test accounts are named after their roles)."""
    text = page.evaluate("""() => {
        const b = document.body.cloneNode(true);
        b.querySelectorAll('.username, #who, code, option, noscript, script, style').forEach((e) => e.remove());
        b.querySelectorAll('[hidden]').forEach((e) => e.remove());
        return b.textContent; }""")
    bad = _untranslated(text, _identifiers())
    assert not bad, f"{where}: untranslated {bad}"


def api(server: Server, method: str, path: str, user: str = "admin", **kw: Any) -> Any:
    with server.client(user) as c:
        r = c.request(method, path, **kw)
        assert r.status_code < 400, r.text
        return r.json()


@pytest.fixture(scope="module")
def devices(server: Server) -> Iterator[dict[str, str]]:
    """Two edge boxes that sent a heartbeat: one just now, one whose last heartbeat is two
    hours old (its row is aged in the server's SQLite file: the box went quiet)."""
    names = {}
    for name in ("排口-1号", "桥头-2号"):
        out = api(server, "POST", "/api/devices", json={"name": name, "description": "重点排口" if "排口" in name else None})
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {out['token']}"}, timeout=30) as box:
            r = box.post("/api/edge/heartbeat", json={"device_id": name, "version": "0.9.0", "uptime_s": 7200,
                                                      "outbox_depth": 3, "cameras": {"cam-1": {"fps": 2}}})
            assert r.status_code == 200, r.text
            if "排口" in name:
                ev = {"event_id": "5b0c1d8e-0000-4000-8000-000000000001", "seq": 1, "device_id": name, "camera_id": "cam-1",
                      "kind": "object", "phase": "start", "class": "floating_debris", "score": 0.8, "box": [1, 2, 30, 40],
                      "lat": None, "lon": None, "error_m": None, "started_at": datetime.now(UTC).isoformat(),
                      "updated_at": None, "ended_at": None, "snapshot_sha256": None, "crop_sha256": None,
                      "outfall_id": None, "details": {}}
                assert box.post("/api/edge/events", json=ev).status_code == 201
        names[name] = out["device"]["id"]
    db = server.flight.parent / "data" / "heyan.db"
    stale = (datetime.now(UTC) - timedelta(hours=2)).replace(tzinfo=None)
    con = sqlite3.connect(db, timeout=30)
    try:
        with con:
            con.execute("UPDATE devices SET last_heartbeat_at = ? WHERE name = ?", (stale.isoformat(sep=" "), "桥头-2号"))
    finally:
        con.close()
    yield {"online": "排口-1号", "offline": "桥头-2号"}


@pytest.fixture(scope="module")
def flight(server: Server) -> list[dict[str, Any]]:
    """The simulated flight uploaded by the operator and processed; the reviewer confirms
    three of its tickets and assigns two (so every dashboard has work to show)."""
    upload_flight(server, "清水河例行巡查")
    wait_processed(server)
    found = api(server, "GET", "/api/tickets?limit=500&sort=found_at")["items"]
    assert len(found) >= 4
    for i, tk in enumerate(found[:3]):
        api(server, "POST", f"/api/tickets/{tk['id']}/transition", user="reviewer", json={"to": "confirmed"})
        if i < 2:
            api(server, "POST", f"/api/tickets/{tk['id']}/transition", user="reviewer", json={"to": "dispatched"})
    return found


def bad_network(server: Server) -> dict[str, Any]:
    """The test network with two broken features: a segment with no name, and one drawn in
    projected metres instead of longitude/latitude."""
    net = json.loads((server.flight / "rivers.geojson").read_text(encoding="utf-8"))
    segs = [f for f in net["features"] if f["properties"].get("kind") == "segment"]
    assert len(segs) >= 1
    extra = json.loads(json.dumps(segs[0]))
    extra["properties"].update(id="seg-broken-a", name="")
    metres = json.loads(json.dumps(segs[0]))
    metres["properties"].update(id="seg-broken-b", name="投影坐标段")
    metres["geometry"] = {"type": "LineString", "coordinates": [[500000.0, 3340000.0], [500200.0, 3340100.0]]}
    net["features"] += [extra, metres]
    return net


def test_user_linked_to_a_chief_logs_in_to_his_dashboard(page, server: Server, flight: list[dict[str, Any]]) -> None:
    login(page, server, "admin")
    assert page.url.endswith("#/home")
    page.wait_for_selector("#home[data-role=admin] #home-devices")
    page.goto(server.url + "/#/users")
    page.wait_for_selector("#users-table")
    seg = next(t["segment_id"] for t in flight[:2] if t["segment_id"])
    page.fill("#nu-username", "zhang-hz")
    page.fill("#nu-fullname", "张河长")
    page.select_option("#nu-role", "chief")
    page.fill("#nu-password", "qingshui river patrol")
    page.fill("#nu-phone", "139 0571 0000")
    page.select_option("#new-user .u-level", "township")
    page.check(f"#new-user input[data-segment='{seg}']")
    page.click("#nu-submit")
    page.wait_for_selector("tr[data-user='zhang-hz']")
    assert "乡镇级" in page.inner_text("tr[data-user='zhang-hz'] .u-link")
    users = {u["username"]: u for u in api(server, "GET", "/api/users")}
    u = users["zhang-hz"]
    assert (u["role"], u["segments"], u["chief_level"], u["phone"]) == ("chief", [seg], "township", "139 0571 0000")
    # 停用 then 启用 from the table.
    page.click("tr[data-user='zhang-hz'] .u-toggle")
    page.wait_for_selector("tr[data-user='zhang-hz'].inactive")
    assert not {x["username"]: x for x in api(server, "GET", "/api/users")}["zhang-hz"]["active"]
    page.click("tr[data-user='zhang-hz'] .u-toggle")
    page.wait_for_selector("tr[data-user='zhang-hz']:not(.inactive)")
    # 重置密码 with a common password is refused in Chinese; a good one works.
    page.click("tr[data-user='zhang-hz'] .u-reset")
    page.fill("#rp-password", "password123")
    page.click("#rp-submit")
    page.wait_for_function("document.querySelector('#toast').textContent.includes('常见密码')")
    logout(page)

    page.goto(server.url + "/#/login")
    page.wait_for_selector("#login-form")
    page.fill("#username", "zhang-hz")
    page.fill("#password", "qingshui river patrol")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#tasks")  # a chief lands on his task cards (我的工单)
    assert page.url.endswith("#/chief")
    page.goto(server.url + "/#/home")
    page.wait_for_selector("#home[data-role=chief]")
    assert "张河长" in page.inner_text("#main h1")
    assert page.locator("#tile-dispatched").count() == 1
    mine = [t["id"] for t in api(server, "GET", f"/api/tickets?state=dispatched&segment_id={seg}")["items"]]
    assert mine and int(page.get_attribute("#tile-dispatched", "data-count") or 0) == len(mine)
    for tid in mine:  # nearest deadline first, each linking to its ticket
        assert page.locator(f"#home-deadlines li[data-ticket='{tid}'] a").count() == 1
    check_chinese(page, "chief home")


def test_river_network_upload_lists_both_bad_features_in_chinese(page, server: Server, tmp_path: Path) -> None:
    before = len(api(server, "GET", "/api/rivers"))
    bad = tmp_path / "河网-有误.geojson"
    bad.write_text(json.dumps(bad_network(server), ensure_ascii=False), encoding="utf-8")
    n = len(json.loads(bad.read_text(encoding="utf-8"))["features"])
    login(page, server, "admin")
    page.goto(server.url + "/#/rivers")
    page.wait_for_selector("#rivers-versions table")
    page.click("#rivers-form button[type=submit]")  # no file: said, not ignored
    assert page.inner_text("#rivers-result") == "请先选择 GeoJSON 文件"
    page.set_input_files("#rivers-file", str(bad))
    page.click("#rivers-form button[type=submit]")
    page.wait_for_selector("#rivers-problems li")
    items = page.locator("#rivers-problems li")
    assert items.count() == 2
    texts = [items.nth(i).inner_text() for i in range(2)]
    assert texts[0].startswith(f"第 {n - 1} 个要素") and "seg-broken-a" in texts[0] and "名称" in texts[0] and "不能为空" in texts[0]
    assert texts[1].startswith(f"第 {n} 个要素") and "投影坐标段" in texts[1] and "坐标" in texts[1] and "投影坐标（米）" in texts[1]
    assert "2 处问题" in page.inner_text("#rivers-result")
    check_chinese(page, "rivers with problems")
    assert len(api(server, "GET", "/api/rivers")) == before  # nothing was put in force
    # A file that is not JSON at all.
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json", encoding="utf-8")
    page.set_input_files("#rivers-file", str(junk))
    page.click("#rivers-form button[type=submit]")
    page.wait_for_function("document.querySelector('#rivers-result').textContent.includes('不是有效的 JSON')")


def test_token_created_shown_once_and_revoked(page, server: Server) -> None:
    login(page, server, "reviewer")
    page.goto(server.url + "/#/account")
    page.wait_for_selector("#token-form")
    page.fill("#tk-name", "巡查脚本")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#tk-secret")
    token = page.inner_text("#tk-secret").strip()
    page.wait_for_selector("#tokens-mine tr[data-name='巡查脚本']")
    row = page.locator("#tokens-mine tr[data-name='巡查脚本']")
    assert row.count() == 1 and token[:8] in row.inner_text() and token not in page.inner_text("#tokens-mine")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/api/auth/me").json()["username"] == "reviewer"
        row.locator(".t-revoke").click()
        page.wait_for_selector("#tokens-mine tr[data-name='巡查脚本'][data-revoked=true]")
        assert c.get("/api/auth/me").status_code == 401
    check_chinese(page, "account")
    # The password policy speaks Chinese.
    page.fill("#pw-old", PASSWORD)
    page.fill("#pw-new", "qwerty123")
    page.fill("#pw-new2", "qwerty123")
    page.click("#password-form button[type=submit]")
    page.wait_for_function("document.querySelector('#pw-status').textContent.length > 0")
    assert page.inner_text("#pw-status") == "这是常见密码，容易被猜到，请换一个"
    page.fill("#pw-old", "not-my-password")
    page.fill("#pw-new", "kite river lantern")
    page.fill("#pw-new2", "kite river lantern")
    page.click("#password-form button[type=submit]")
    page.wait_for_function("document.querySelector('#pw-status').textContent === '原密码不正确'")
    page.fill("#pw-new2", "kite river lanterns")
    page.click("#password-form button[type=submit]")
    page.wait_for_function("document.querySelector('#pw-status').textContent === '两次输入的新密码不一致'")
    logout(page)
    # The admin sees every user's tokens, the reviewer's revoked one among them.
    login(page, server, "admin")
    page.goto(server.url + "/#/account")
    page.wait_for_selector("#tokens-all, #tk-all p")
    assert page.locator("#tokens-all tr[data-name='巡查脚本'][data-revoked=true]").count() == 1


def test_devices_page_shows_a_stale_box_offline(page, server: Server, devices: dict[str, str]) -> None:
    login(page, server, "admin")
    page.goto(server.url + "/#/devices")
    page.wait_for_selector("#device-list section[data-device]")
    off = page.locator(f"section[data-device='{devices['offline']}']")
    on = page.locator(f"section[data-device='{devices['online']}']")
    assert off.get_attribute("data-silent") == "true" and on.get_attribute("data-silent") == "false"
    assert "离线" in off.locator("h2").inner_text() and "在线" in on.locator("h2").inner_text()
    assert "2 小时前" in off.locator(".hb").inner_text() and "没有心跳" in off.locator(".hb").inner_text()
    assert re.search(r"刚刚|\d+ 分钟前", on.locator(".hb").inner_text())
    assert "待上传 3 条" in on.inner_text()
    assert "发现目标" in on.locator("table.events").inner_text() and "无法定位" in on.locator("table.events").inner_text()
    check_chinese(page, "devices")
    page.goto(server.url + "/#/home")
    page.wait_for_selector("#home-devices")
    assert page.get_attribute("#tile-offline", "data-count") == "1"


def test_operator_gets_no_access_page_and_home_links_to_queues(page, server: Server) -> None:
    login(page, server, "operator")
    page.wait_for_selector("#home[data-role=operator]")
    assert [a for a in page.eval_on_selector_all("#nav a", "as => as.map(a => a.dataset.page)")] == ["home", "flights", "map", "account"]
    for p in ("users", "devices", "rivers"):
        page.goto(f"{server.url}/#/{p}")
        page.wait_for_selector("#forbidden")
        assert page.inner_text("#forbidden h1") == "无权限" and "飞手" in page.inner_text("#forbidden")
        assert "403" not in page.inner_text("#main")
    logout(page)
    login(page, server, "reviewer")
    page.wait_for_selector("#home-queues")
    page.click("#tile-pending_review")
    page.wait_for_selector("#ledger-tabs [data-queue=pending_review].active")
    assert page.url.endswith("#/ledger/pending_review")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_each_page_on_desktop_and_phone_in_chinese(browser, server: Server, devices: dict[str, str],
                                                  flight: list[dict[str, Any]], size: str) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True, is_mobile=size == "phone",
                              has_touch=size == "phone")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(page, server, "admin")
        for name in PAGES:
            page.goto(f"{server.url}/#/{name}")
            page.wait_for_selector({"home": "#home-users", "users": "#users-table", "devices": "#device-list section",
                                    "rivers": "#rivers-versions table", "account": "#tokens-mine, #tk-mine p"}[name])
            if name == "rivers":  # the page as the office meets it after a refused upload
                bad = Path(server.flight.parent / f"bad-{size}.geojson")
                bad.write_text(json.dumps(bad_network(server), ensure_ascii=False), encoding="utf-8")
                page.set_input_files("#rivers-file", str(bad))
                page.click("#rivers-form button[type=submit]")
                page.wait_for_selector("#rivers-problems li")
            if name == "account":  # a token just made: shown once above the list
                page.fill("#tk-name", f"无人机上传脚本-{size}")
                page.click("#token-form button[type=submit]")
                page.wait_for_selector(f"#tokens-mine tr[data-name='无人机上传脚本-{size}']")
                page.evaluate("document.querySelector('#token-form').scrollIntoView()")
            check_chinese(page, f"{name} {size}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"] + 1, f"{name} is {width} px wide on a {viewport['width']} px screen"
            shot(page, f"{SHOT[name]}{'-phone' if size == 'phone' else ''}")
        for role in ("reviewer", "chief", "operator", "viewer"):
            logout(page)
            login(page, server, role)
            if role == "chief":  # he lands on his task cards; 首页 is one tap away
                page.goto(server.url + "/#/home")
            page.wait_for_selector(f"#home[data-role={role}]")
            check_chinese(page, f"home of {role} {size}")
            if size == "desktop":
                shot(page, f"home-{role}")
        assert not errors, errors
    finally:
        ctx.close()


def test_admin_pages_in_english(page, server: Server) -> None:
    """The same pages in English (names from the data stay as the office wrote them)."""
    login(page, server, "admin")
    page.click("#lang")
    page.wait_for_function("document.documentElement.lang === 'en'")
    titles = {"home": "Home", "users": "Users and roles", "devices": "Edge devices", "rivers": "River network",
              "account": "My account"}
    for name, title in titles.items():
        page.goto(f"{server.url}/#/{name}")
        page.wait_for_function(f"document.querySelector('#main h1') && document.querySelector('#main h1').textContent.startsWith({json.dumps(title)})")
        text = page.inner_text("#main")
        assert "undefined" not in text and "NaN" not in text, name
    assert not page.errors, page.errors  # type: ignore[attr-defined]
