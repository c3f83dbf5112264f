"""Issue 14 in real headless Chromium against a real `heyan serve` (real model, real flight
pipeline): a reviewer labels a photo from the keyboard and mouse — three boxes drawn for
missed objects, a detection's class changed (its ticket's category follows), the frame
marked 已完整标注 — and the YOLO and COCO exports hold exactly those labels. Also the 待标注
queue, zoom onto the full photo, and the page at 1440×900 and 1920×1080."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from viewer_helpers import Server, login, shot, upload_flight, wait_processed

from heyan.vision.classes import class_index, class_names

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def tickets(server: Server) -> list[dict[str, Any]]:
    upload_flight(server, "标注测试")
    with server.client() as c:
        c.post("/api/users", json={"username": "trainer", "password": "viewer-test-pass", "role": "trainer"}).raise_for_status()
    wait_processed(server)
    with server.client() as c:
        found = c.get("/api/tickets?limit=500").json()["items"]
    assert found, "the simulated flight should give tickets"
    return found


def _view(page) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    d = page.eval_on_selector("#label-canvas", "c => [+c.dataset.scale, +c.dataset.ox, +c.dataset.oy]")
    return d[0], d[1], d[2]


def _free_spots(frame: dict[str, Any], n: int, side: float) -> list[list[float]]:
    """n boxes of `side` photo px that touch no detection (a drag starting on a box moves it)."""
    taken = [d["box"] for d in frame["detections"]]
    out: list[list[float]] = []
    step = side * 1.6
    y = side * 0.5
    while y + side < frame["height"] and len(out) < n:
        x = side * 0.5
        while x + side < frame["width"] and len(out) < n:
            cand = [x, y, x + side, y + side * 0.7]
            m = side * 0.3
            if all(cand[2] + m < b[0] or cand[0] - m > b[2] or cand[3] + m < b[1] or cand[1] - m > b[3] for b in taken + out):
                out.append(cand)
            x += step
        y += step
    assert len(out) == n, "no room for the test boxes"
    return out


def _drag(page, view: tuple[float, float, float], box: list[float]) -> None:  # type: ignore[no-untyped-def]
    s, ox, oy = view
    r = page.eval_on_selector("#label-canvas", "c => { const b = c.getBoundingClientRect(); return [b.left, b.top]; }")
    page.mouse.move(r[0] + box[0] * s + ox, r[1] + box[1] * s + oy)
    page.mouse.down()
    page.mouse.move(r[0] + (box[0] + box[2]) / 2 * s + ox, r[1] + (box[1] + box[3]) / 2 * s + oy, steps=3)
    page.mouse.move(r[0] + box[2] * s + ox, r[1] + box[3] * s + oy, steps=3)
    page.mouse.up()


def test_reviewer_labels_a_photo_and_the_exports_hold_exactly_those_labels(page, server: Server,
                                                                           tickets: list[dict[str, Any]]) -> None:
    tk = tickets[0]
    sha = tk["best_photo_url"].rsplit("/", 1)[1]
    with server.client("reviewer") as c:
        frame = c.get(f"/api/labels/frames/{sha}").json()
    assert frame["labels"] is None and any(d["ticket_id"] == tk["id"] for d in frame["detections"])
    new_class = next(n for n in class_names() if n != tk["class_name"] and n in ("sand_dredger", "waste_pile"))

    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "reviewer")
    assert "标注" in page.inner_text("#nav")
    page.goto(f"{server.url}/#/label/{sha}")
    page.wait_for_function("document.querySelector('#label-canvas')?.dataset.scale > 0")
    page.wait_for_function("document.querySelectorAll('#label-boxes li').length > 0")
    # The whole page fits the laptop screen: the canvas ends inside the window.
    bottom = page.eval_on_selector("#label-canvas", "c => c.getBoundingClientRect().bottom")
    assert bottom <= 900

    view = _view(page)
    drawn = _free_spots(frame, 3, min(frame["width"], frame["height"]) / 8)
    page.keyboard.press("Escape")
    page.keyboard.press(str(class_index("waste_pile") + 1))  # nothing selected: the class of new boxes
    for box in drawn:
        _drag(page, view, box)
    assert page.locator("#label-boxes li").count() == len(frame["detections"]) + 3

    # The ticket's box: select it in the list, give it another class from the keyboard.
    idx = next(i for i, d in enumerate(frame["detections"]) if d["ticket_id"] == tk["id"])
    page.click(f"#label-boxes li[data-index='{idx}']")
    page.keyboard.press(str(class_index(new_class) + 1))
    assert page.get_attribute(f"#label-boxes li[data-index='{idx}']", "data-class") == new_class
    shot(page, "label")
    page.keyboard.press("f")  # 已完整标注: saves
    page.wait_for_function("document.querySelector('#label-status').dataset.version === '1'")
    assert page.get_attribute("#label-status", "data-dirty") == "0"

    with server.client("reviewer") as c:
        saved = c.get(f"/api/labels/frames/{sha}").json()["labels"]
        ticket = c.get(f"/api/tickets/{tk['id']}").json()
        yolo = zipfile.ZipFile(io.BytesIO(c.get("/api/labels/export", params={"format": "yolo"}).content))
        coco = json.loads(zipfile.ZipFile(io.BytesIO(c.get("/api/labels/export", params={"format": "coco"}).content))
                          .read("annotations.json"))
    assert saved["complete"] and saved["created_by"] == "reviewer" and saved["version"] == 1
    assert ticket["class_name"] == new_class and any(a["action"] == "relabel" for a in ticket["audit"])
    assert ticket["category"] != tk["category"]

    # Exactly the boxes on the page: the detections (one with its new class) and the three drawn,
    # each where the mouse put it (to within a screen pixel).
    mine = [b for b in saved["boxes"] if b["origin"] == "drawn"]
    assert [b["class"] for b in mine] == ["waste_pile"] * 3
    tol = 1.5 / view[0]
    for got, want in zip(mine, drawn):
        assert all(abs(g - w) <= tol for g, w in zip(got["box"], want)), (got, want)
    assert [b["class"] for b in saved["boxes"] if b.get("ticket_id") == tk["id"]] == [new_class]
    assert len(saved["boxes"]) == len(frame["detections"]) + 3

    W, H = frame["width"], frame["height"]
    expected = sorted((class_index(b["class"]), round((b["box"][0] + b["box"][2]) / 2 / W, 6), round((b["box"][1] + b["box"][3]) / 2 / H, 6),
                       round((b["box"][2] - b["box"][0]) / W, 6), round((b["box"][3] - b["box"][1]) / H, 6)) for b in saved["boxes"])
    lines = yolo.read(f"labels/train/{sha[:16]}.txt").decode().splitlines()
    got = sorted((int(p[0]), *(float(v) for v in p[1:])) for p in (ln.split() for ln in lines))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[0] == e[0] and all(abs(a - b) < 2e-6 for a, b in zip(g[1:], e[1:]))
    img = next(i for i in coco["images"] if i["heyan_sha256"] == sha)
    anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
    assert sorted(a["category_id"] - 1 for a in anns) == sorted(class_index(b["class"]) for b in saved["boxes"])
    assert not page.errors


def test_zoom_loads_the_full_photo_and_the_page_fits_1080p(page, server: Server, tickets: list[dict[str, Any]]) -> None:
    sha = tickets[-1]["best_photo_url"].rsplit("/", 1)[1]
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, server, "trainer")
    page.goto(f"{server.url}/#/label/{sha}")
    page.wait_for_function("document.querySelector('#label-canvas')?.dataset.scale > 0")
    assert page.eval_on_selector("#label-canvas", "c => c.getBoundingClientRect().bottom") <= 1080
    s0 = _view(page)[0]
    box = page.eval_on_selector("#label-canvas", "c => { const b = c.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; }")
    page.mouse.move(*box)
    for _ in range(8):
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(50)
    s1 = _view(page)[0]
    assert s1 > s0 * 4
    # Zoomed past the preview's resolution: the full photo replaces it.
    page.wait_for_function("document.querySelector('#label-canvas').dataset.full === '1'")
    page.keyboard.press("0")
    assert abs(_view(page)[0] - s0) < 1e-6
    assert not page.errors


def test_queue_page_walks_frames_from_the_keyboard(page, server: Server, tickets: list[dict[str, Any]]) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "trainer")
    page.click("#nav a[data-page=label]")
    page.wait_for_selector("#label-queue li")
    text = page.inner_text("#main")
    assert "随机抽样" in text or "低置信度" in text or "附近" in text or "尚无标注" in text
    first = page.get_attribute("#label-queue li a", "href")
    page.click("#btn-start")
    page.wait_for_function("document.querySelector('#label-canvas')?.dataset.scale > 0")
    assert page.url.endswith(first)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"!location.hash.endsWith('{first.split('/')[-1]}') && document.querySelector('#label-canvas')?.dataset.scale > 0")
    assert "/label/" in page.url
    assert not page.errors


def test_label_and_models_pages_hold_under_the_csp(strict_page, server: Server, tickets: list[dict[str, Any]]) -> None:
    """The server's content security policy (self only, no inline code or style attribute):
    nothing on the 标注 and 模型 pages is blocked."""
    page = strict_page
    sha = tickets[0]["best_photo_url"].rsplit("/", 1)[1]
    login(page, server, "reviewer")
    page.goto(f"{server.url}/#/label/{sha}")
    page.wait_for_selector("#label-boxes li")
    page.goto(f"{server.url}/#/label")
    page.wait_for_selector("#label-queue li, #label-empty")
    page.goto(f"{server.url}/#/models")
    page.wait_for_selector("#models-in-force")
    assert not page.csp, page.csp
    assert not page.errors
