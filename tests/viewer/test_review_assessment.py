"""Issue 13 in real headless Chromium against a real server: the review page (loupe at a
readable size, the box labelled, click-to-zoom on the full photo, reject reasons, undo) and
the assessment page (zero rows, totals that add up, the date field, charts drawn by the
vendored ECharts, the XLSX export), at 1440x900 and 390x844, with no API identifier in the
Chinese text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from viewer_helpers import Server, login, logout, shot, upload_flight, wait_processed

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def tickets(server: Server) -> list[dict[str, Any]]:
    """The simulated flight's network plus one segment nobody flew (a zero row with its own
    chief), the flight uploaded and processed; some tickets taken through the workflow."""
    rivers = json.loads((server.flight / "rivers.geojson").read_text(encoding="utf-8"))
    seg = next(f for f in rivers["features"] if f["properties"].get("kind") == "segment")
    far = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x + 0.5, y] for x, y in seg["geometry"]["coordinates"]]},
           "properties": {"kind": "segment", "id": "seg-quiet", "name": "无事段", "river": "远河",
                          "chiefs": {"village": {"name": "村长无事", "phone": "13900000000"}}}}
    rivers["features"].append(far)
    with server.client() as c:
        c.post("/api/rivers", json=rivers).raise_for_status()
    upload_flight(server, "审核考核测试")
    wait_processed(server)
    with server.client() as c:
        found = c.get("/api/tickets?limit=500&sort=-score").json()["items"]
    assert len(found) >= 4, "the simulated flight should give several tickets"
    # Two dispatched (by the admin, so the reviewer's own latest decision stays his), one of
    # them rectified and closed; the rest pending.
    import cv2
    import numpy as np

    photo = cv2.imencode(".jpg", np.full((64, 64, 3), 120, np.uint8))[1].tobytes()
    with server.client() as c:
        for t in found[-2:]:
            c.post(f"/api/tickets/{t['id']}/transition", json={"to": "confirmed"}).raise_for_status()
            c.post(f"/api/tickets/{t['id']}/transition", json={"to": "dispatched"}).raise_for_status()
        last = found[-1]["id"]
        c.post(f"/api/tickets/{last}/rectify", files={"photo": ("done.jpg", photo, "image/jpeg")},
               data={"reason": "航拍照片作证"}).raise_for_status()
        c.post(f"/api/tickets/{last}/transition", json={"to": "closed"}).raise_for_status()
    return found


def _api(server: Server, method: str, path: str, user: str = "reviewer", **kw: Any) -> Any:
    with server.client(user) as c:
        r = c.request(method, path, **kw)
        r.raise_for_status()
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text


def _identifiers() -> set[str]:
    """The API's identifiers the Chinese pages must not show (states, classes, categories,
    rules, levels, audit actions, reject reasons, date fields)."""
    from heyan.serve.ticket_query import DATE_COLUMNS
    from heyan.serve.workflow import LEVELS, REJECT_REASONS, STATES
    from heyan.vision.classes import class_names

    rules = yaml.safe_load((ROOT / "pipeline" / "tickets" / "rules_default.yaml").read_text(encoding="utf-8"))
    cats = {"floating_debris", "illegal_mining", "illegal_dumping", "illegal_construction", "outfall_discharge"}
    actions = {"transition", "escalate", "urge", "undo", "created", "overdue", "seen_again", "not_seen", "system"}
    return (set(STATES) | set(class_names()) | cats | {r["id"] for r in rules["rules"]} | set(LEVELS) | actions
            | set(REJECT_REASONS) | set(DATE_COLUMNS) | {"null", "undefined", "NaN", "low", "medium", "high"})


def _check_words(page, server: Server, where: str) -> None:
    words = _identifiers()
    text = page.inner_text("body")
    ids = {t["id"] for t in _api(server, "GET", "/api/tickets", params={"limit": 500})["items"]}
    for x in ids | set(server.segments) | {"seg-quiet"}:
        text = text.replace(x, "")
    bad = sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))
    assert not bad, f"{where}: untranslated identifiers {bad}"


def _ticket(server: Server, tid: str) -> dict[str, Any]:
    return _api(server, "GET", f"/api/tickets/{tid}")


def _current(page) -> str:
    return page.get_attribute("#review", "data-ticket")


def _wait_on(page, tid: str) -> None:
    page.wait_for_function(f"(document.querySelector('#review') || {{dataset: {{}}}}).dataset.ticket === {json.dumps(tid)}")


def _wait_off(page, tid: str) -> None:
    page.wait_for_function(f"(document.querySelector('#review') || {{dataset: {{ticket: {json.dumps(tid)}}}}}).dataset.ticket !== {json.dumps(tid)}")


def test_review_loupe_zoom_reason_and_undo(page, server: Server, tickets: list[dict[str, Any]]) -> None:
    page.set_viewport_size(DESKTOP)
    login(page, server, "reviewer")
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review")
    # The loupe: a fixed 320 px canvas, drawn from the full photo, not blank.
    page.wait_for_selector("#review canvas.loupe[data-state=drawn]")
    size = page.eval_on_selector("#review canvas.loupe", "c => [c.getBoundingClientRect().width, c.getBoundingClientRect().height]")
    assert size == [320, 320]
    lit = page.eval_on_selector("#review canvas.loupe", """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 30) n++; return n / (d.length / 4); }""")
    assert lit > 0.2, f"the loupe is mostly black ({lit:.0%} lit)"
    # The box is labelled with the Chinese class name and the score.
    tid = _current(page)
    d = _ticket(server, tid)
    label = page.inner_text("#review .photo .box-label")
    assert re.fullmatch(r"\S+ \d\.\d\d", label) and not re.search(r"[a-z_]{3,}", label), label
    assert f"{d['score']:.2f}" in label or any(f"{e['score']:.2f}" in label for e in d["evidence"] if e["score"])
    shot(page, "review")

    # Click to zoom: the whole photo, at its own size, the box outlined; + zooms; Esc closes.
    page.click("#review canvas.loupe")
    page.wait_for_selector("#zoom[data-state=ready]")
    photo = next(e for e in d["evidence"] if e["kind"] == "detection" and e["photo_url"])
    assert page.get_attribute("#zoom-photo", "src") == photo["photo_url"]
    natural = page.eval_on_selector("#zoom-photo", "i => [i.naturalWidth, i.naturalHeight]")
    assert natural[0] >= 1000 and natural[1] >= 700, f"the full photo, not a crop: {natural}"
    assert page.is_visible("#zoom .box") and page.inner_text("#zoom .box-label") == label
    s0 = float(page.get_attribute("#zoom", "data-scale"))
    page.click("#zoom-in")
    assert float(page.get_attribute("#zoom", "data-scale")) > s0
    page.click("#zoom-fit")
    shot(page, "review-zoom")
    page.keyboard.press("Escape")
    page.wait_for_selector("#zoom", state="detached")

    # Reject with a reason (key 3 = 阴影), then undo with Z: back to 待审核, same ticket on screen.
    page.keyboard.press("3")
    assert page.get_attribute("#review-reasons [data-reason=shadow]", "aria-checked") == "true"
    page.click("#btn-reject")
    _wait_off(page, tid)
    t = _ticket(server, tid)
    assert t["state"] == "rejected" and t["audit"][-1]["data"]["reject_reason"] == "shadow"
    lines = [json.loads(x) for x in _api(server, "GET", "/api/exports/hard-negatives.jsonl").splitlines()]
    assert {x["reject_reason"] for x in lines if x["ticket_id"] == tid} == {"shadow"}
    page.keyboard.press("z")
    _wait_on(page, tid)
    t = _ticket(server, tid)
    assert t["state"] == "pending_review" and t["audit"][-1]["action"] == "undo"
    assert page.is_disabled("#btn-undo"), "one undo per decision"

    # Confirm with Y and undo with the button.
    page.keyboard.press("y")
    _wait_off(page, tid)
    assert _ticket(server, tid)["state"] == "confirmed"
    page.click("#btn-undo")
    _wait_on(page, tid)
    assert _ticket(server, tid)["state"] == "pending_review"
    _check_words(page, server, "review")

    # The ticket's audit log says it in words: the reason of the rejection, the undo.
    page.goto(f"{server.url}/#/ticket/{tid}")
    page.wait_for_selector("#audit")
    audit = page.inner_text("#audit")
    assert "误报原因：阴影" in audit and "撤销审核" in audit
    _check_words(page, server, "ticket audit")
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review canvas.loupe[data-state=drawn]")

    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    shot(page, "review-phone")
    assert page.eval_on_selector("#review canvas.loupe", "c => c.getBoundingClientRect().right") <= PHONE["width"]
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_other_views_open_their_own_photo(page, server: Server, tickets: list[dict[str, Any]]) -> None:
    multi = [t for t in tickets if t["n_views"] > 1 and _ticket(server, t["id"])["state"] == "pending_review"]
    if not multi:
        pytest.skip("no pending ticket seen in several photos in this flight")
    login(page, server, "reviewer")
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review")
    for _ in range(len(tickets)):
        if _current(page) == multi[0]["id"]:
            break
        before = _current(page)
        page.keyboard.press("ArrowRight")
        _wait_off(page, before)
    page.wait_for_selector("#review-views canvas.loupe[data-state=drawn]")
    page.click("#review-views canvas.loupe")
    page.wait_for_selector("#zoom[data-state=ready]")
    ev_id = page.eval_on_selector("#review-views figure.view", "f => f.dataset.evidence")
    ev = next(e for e in _ticket(server, multi[0]["id"])["evidence"] if str(e["id"]) == ev_id)
    assert page.get_attribute("#zoom-photo", "src") == ev["photo_url"]


@pytest.mark.parametrize("user", ["operator", "viewer"])
def test_lookers_get_no_decision_buttons(page, server: Server, tickets: list[dict[str, Any]], user: str) -> None:
    login(page, server, user)
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review, #review-empty")
    for sel in ("#btn-confirm", "#btn-reject", "#btn-undo", "#review-reasons"):
        assert page.locator(sel).count() == 0, f"{user} sees {sel}"
    before = _current(page)
    for key in ("y", "n", "z", "1"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert _current(page) == before
    assert _ticket(server, before)["state"] == "pending_review"
    assert "当前角色只能查看" in page.inner_text("#main h1")


def _table(page, sel: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"{sel} tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText))")


def test_assessment_zero_rows_totals_charts_and_xlsx(page, server: Server, tickets: list[dict[str, Any]], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    page.set_viewport_size(DESKTOP)
    login(page, server, "reviewer")
    page.wait_for_selector("#home")  # the landing page (首页) done, before moving on
    page.goto(server.url + "/#/assessment")
    page.wait_for_selector("#assessment[data-ready]")
    api = _api(server, "GET", "/api/stats/assessment")
    # Every segment and chief, zeros included; the footer is the total, and the rows add up to it.
    segs = _table(page, "#assess-segments tbody")
    assert [r[0] for r in segs][:len(api["by_segment"])] == [r["name"] or "（无河段）" for r in api["by_segment"]]
    quiet = next(r for r in segs if r[0] == "无事段")
    head = page.eval_on_selector_all("#assess-segments thead th", "ths => ths.map(t => t.innerText)")
    found_col = head.index("发现问题")
    assert quiet[found_col] == "0"
    chiefs = _table(page, "#assess-chiefs tbody")
    assert any(r[0] == "村长无事" and r[1] == "村级" for r in chiefs)
    for sel, rows in (("#assess-segments", segs), ("#assess-chiefs", chiefs)):
        foot = _table(page, f"{sel} tfoot")[0]
        offset = 0 if sel == "#assess-segments" else -2  # the chief table has two lead columns, not four
        col = found_col + offset
        assert foot[0] == "合计" and int(foot[col]) == sum(int(r[col]) for r in rows) == api["total"]["found"] > 0
    assert "按发现时间统计" in page.inner_text("#assess-basis")
    # Charts: three canvases drawn by ECharts, none blank.
    for cid in ("chart-weekly", "chart-category", "chart-overdue"):
        painted = page.eval_on_selector(f"#{cid} canvas", """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return [c.width, c.height, n]; }""")
        assert painted[0] > 100 and painted[1] > 100 and painted[2] > 500, f"{cid}: {painted}"
    assert any("/vendor/echarts/echarts.esm.min.js" in u for u in page.requests)  # type: ignore[attr-defined]
    shot(page, "assessment")
    _check_words(page, server, "assessment")

    # The date field is chosen, shown and sent.
    page.select_option("#assess-field", "dispatched_at")
    page.wait_for_function("document.querySelector('#assess-basis').innerText.includes('交办时间')")
    page.wait_for_selector("#assessment[data-ready]")
    assert any("date_field=dispatched_at" in u for u in page.requests)  # type: ignore[attr-defined]
    disp = _api(server, "GET", "/api/stats/assessment", params={"date_field": "dispatched_at"})
    page.wait_for_function(f"document.querySelector('#assess-segments tfoot td:nth-child({found_col + 1})').innerText === '{disp['total']['found']}'")

    # XLSX: the same tables, opened with openpyxl, the totals right.
    with page.expect_download() as dl:
        page.click("#assess-export")
    path = tmp_path / "assessment.xlsx"
    dl.value.save_as(path)
    wb = load_workbook(path)
    seg = list(wb["按河段"].iter_rows(values_only=True))
    col = seg[0].index("发现问题")
    assert seg[-1][0] == "合计" and seg[-1][col] == disp["total"]["found"] == sum(r[col] for r in seg[1:-1])
    assert "无事段" in [r[0] for r in seg]
    assert dict(wb["说明"].iter_rows(min_row=2, values_only=True))["统计日期依据"] == "交办时间"
    assert not [u for u in page.requests if not u.startswith(server.url)]  # type: ignore[attr-defined]

    page.select_option("#assess-field", "found_at")
    page.wait_for_function("document.querySelector('#assess-basis').innerText.includes('发现时间')")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    shot(page, "assessment-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width} px); tables scroll in their box"
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    logout(page)


def test_assessment_in_english(page, server: Server, tickets: list[dict[str, Any]]) -> None:
    login(page, server, "viewer")
    page.wait_for_selector("#main h1")
    page.goto(server.url + "/#/assessment")
    page.wait_for_selector("#assessment[data-ready]")
    page.click("#lang")
    page.wait_for_function("document.querySelector('#assess-basis') && document.querySelector('#assess-basis').innerText.startsWith('By date of finding')")
    page.wait_for_selector("#assessment[data-ready]")
    assert "Total" in page.inner_text("#assess-segments tfoot")
    page.click("#lang")


def test_charts_and_zoom_under_the_strict_csp(strict_page, server: Server, tickets: list[dict[str, Any]]) -> None:
    """The vendored ECharts and the zoom dialog under the server's own content security
    policy (no inline style, no eval): charts drawn, a tooltip shown, nothing blocked."""
    page = strict_page
    page.set_viewport_size(DESKTOP)
    login(page, server, "reviewer")
    page.goto(server.url + "/#/review")
    page.wait_for_selector("#review canvas.loupe[data-state=drawn]")
    page.click("#review canvas.loupe")
    page.wait_for_selector("#zoom[data-state=ready]")
    page.keyboard.press("Escape")
    page.goto(server.url + "/#/assessment")
    page.wait_for_selector("#assessment[data-ready]")
    box = page.locator("#chart-category canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)  # a tooltip
    page.wait_for_timeout(500)
    assert not page.csp, page.csp  # type: ignore[attr-defined]
    assert not page.errors, page.errors  # type: ignore[attr-defined]
