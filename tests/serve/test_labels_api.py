"""Hand labels (/api/labels, issue 14) on a real server: a simulated flight processed by the
real pipeline (stand-in detector), labels saved in versions, a ticket's class and category
following a relabelled box, the YOLO and COCO exports read back, and the 待标注 queue."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from serve_helpers import LiveServer
from test_flights import photos_of, tickets_of, upload_photos, upload_rivers

from heyan.serve.label_formats import tiles
from heyan.vision.classes import class_index


@pytest.fixture(scope="module")
def flight(live_sqlite: LiveServer, sim_flight: Path) -> dict[str, Any]:
    admin = live_sqlite.client("admin")
    upload_rivers(admin, sim_flight)
    r = upload_photos(live_sqlite.client("operator"), photos_of(sim_flight), "标注测试")
    assert r.status_code == 201, r.text
    fid = r.json()["flight"]["id"]
    assert live_sqlite.wait_job(fid)["job"]["state"] == "done"
    tickets = tickets_of(admin, fid)
    assert tickets
    return {"id": fid, "tickets": tickets, "photos": photos_of(sim_flight)}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_frame_save_versions_and_ticket_follows(live_sqlite: LiveServer, flight: dict[str, Any]) -> None:
    rev = live_sqlite.client("reviewer")
    t = flight["tickets"][0]
    sha = t["best_photo_url"].rsplit("/", 1)[1]
    f = rev.get(f"/api/labels/frames/{sha}").json()
    assert (f["width"], f["height"]) == (1000, 750) and f["kind"] == "flight_photo" and f["labels"] is None
    det = next(d for d in f["detections"] if d["ticket_id"] == t["id"])
    assert det["class"] == "floating_debris"
    pv = rev.get(f["preview_url"])
    assert pv.status_code == 200 and pv.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(pv.content, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (750, 1000)

    boxes = [{**det, "class": "sand_dredger"}, {"class": "waste_pile", "box": [10, 10, 60, 50]},
             {"class": "boat", "box": [900, 700, 1000.5, 750]}]
    r = rev.post(f"/api/labels/frames/{sha}", json={"boxes": boxes, "complete": True})
    assert r.status_code == 201, r.text
    v1 = r.json()
    assert v1["version"] == 1 and v1["created_by"] == "reviewer-user" and v1["tickets_changed"] == [t["id"]]
    assert v1["boxes"][2]["box"] == [900, 700, 1000, 750]  # clipped to the frame within the slack
    tk = rev.get(f"/api/tickets/{t['id']}").json()
    assert tk["class_name"] == "sand_dredger" and tk["category"] == "illegal_mining" and tk["category_zh"] == "乱采"
    assert any(a["action"] == "relabel" and a["data"]["from_class"] == "floating_debris" for a in tk["audit"])

    # Someone saved meanwhile: a save from the old base is refused, not silently merged.
    r = rev.post(f"/api/labels/frames/{sha}", json={"boxes": [], "complete": False})
    assert r.status_code == 409 and r.json()["code"] == "label_conflict"
    r = rev.post(f"/api/labels/frames/{sha}", json={"boxes": boxes[:2], "complete": True, "base_version": 1})
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["tickets_changed"] == []
    f = rev.get(f"/api/labels/frames/{sha}").json()
    assert f["labels"]["version"] == 2 and [v["version"] for v in f["versions"]] == [2, 1]
    assert len(rev.get(f"/api/labels/frames/{sha}/versions/1").json()["boxes"]) == 3  # the old version is kept


def test_bad_labels_and_roles(live_sqlite: LiveServer, flight: dict[str, Any]) -> None:
    sha = _sha(flight["photos"][1])
    rev = live_sqlite.client("reviewer")
    cases = [({"class": "cat", "box": [1, 1, 5, 5]}, "unknown_class", "boxes[0].class"),
             ({"class": "boat", "box": [5, 5, 5, 9]}, "bad_box", "boxes[0].box"),
             ({"class": "boat", "box": [900, 10, 1200, 50]}, "bad_box", "boxes[0].box"),
             ({"class": "boat", "box": [1, 1, 5, 5], "ticket_id": "nope"}, "label_ticket_not_on_frame", "boxes[0].ticket_id")]
    for box, code, where in cases:
        r = rev.post(f"/api/labels/frames/{sha}", json={"boxes": [box]})
        assert r.status_code == 422 and r.json()["code"] == code and r.json()["field"] == where, r.text
    assert rev.get(f"/api/labels/frames/{'0' * 64}").json()["code"] == "no_frame"
    assert live_sqlite.client("viewer").post(f"/api/labels/frames/{sha}", json={"boxes": []}).status_code == 403
    assert live_sqlite.client("chief").get(f"/api/labels/frames/{sha}").status_code == 403

    # A trainer labels, but only a reviewer's relabelling changes a ticket.
    t = next(x for x in flight["tickets"] if x["best_photo_url"].endswith(sha)) if any(
        x["best_photo_url"].endswith(sha) for x in flight["tickets"]) else None
    trainer = live_sqlite.client("trainer")
    f = trainer.get(f"/api/labels/frames/{sha}").json()
    boxes = [{**d, "class": "structure"} for d in f["detections"]]
    r = trainer.post(f"/api/labels/frames/{sha}", json={"boxes": boxes, "complete": False})
    assert r.status_code == 201 and r.json()["tickets_changed"] == []
    if t is not None:
        assert rev.get(f"/api/tickets/{t['id']}").json()["class_name"] == t["class_name"]


def test_yolo_and_coco_exports_hold_the_latest_complete_labels(live_sqlite: LiveServer, flight: dict[str, Any]) -> None:
    rev = live_sqlite.client("reviewer")
    sha = _sha(flight["photos"][2])
    boxes = [{"class": "floating_debris", "box": [100, 100, 200, 150]}, {"class": "boat", "box": [500, 300, 700, 450]}]
    base = rev.get(f"/api/labels/frames/{sha}").json()["labels"]
    r = rev.post(f"/api/labels/frames/{sha}", json={"boxes": boxes, "complete": True,
                                                    "base_version": base["version"] if base else None})
    assert r.status_code == 201, r.text

    z = zipfile.ZipFile(io.BytesIO(rev.get("/api/labels/export", params={"format": "yolo"}).content))
    lines = z.read(f"labels/train/{sha[:16]}.txt").decode().split("\n")[:-1]
    assert lines == [f"{class_index('floating_debris')} 0.150000 0.166667 0.100000 0.066667",
                     f"{class_index('boat')} 0.600000 0.500000 0.200000 0.200000"]
    assert z.read(f"images/train/{sha[:16]}.jpg") == flight["photos"][2].read_bytes()
    assert "names:" in z.read("data.yaml").decode()
    partial_sha = _sha(flight["photos"][1])  # the trainer's save above is not complete: left out by default
    assert f"labels/train/{partial_sha[:16]}.txt" not in z.namelist()
    zp = zipfile.ZipFile(io.BytesIO(rev.get("/api/labels/export", params={"format": "yolo", "partial": True}).content))
    assert f"labels/train/{partial_sha[:16]}.txt" in zp.namelist()

    c = zipfile.ZipFile(io.BytesIO(rev.get("/api/labels/export", params={"format": "coco"}).content))
    coco = json.loads(c.read("annotations.json"))
    img = next(i for i in coco["images"] if i["heyan_sha256"] == sha)
    anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
    assert [(a["category_id"], a["bbox"]) for a in anns] == [(class_index("floating_debris") + 1, [100, 100, 100, 50]),
                                                            (class_index("boat") + 1, [500, 300, 200, 150])]
    assert c.read(img["file_name"]) == flight["photos"][2].read_bytes()
    assert live_sqlite.client("viewer").get("/api/labels/export").status_code == 403


def test_queue_reasons_and_random_share(live_sqlite: LiveServer, flight: dict[str, Any]) -> None:
    rev = live_sqlite.client("reviewer")
    # A confirmed find: its photo and its neighbours are worth a look for misses.
    t = flight["tickets"][-1]
    rev.post(f"/api/tickets/{t['id']}/transition", json={"to": "confirmed"}).raise_for_status()
    q = rev.get("/api/labels/queue", params={"limit": 20, "seed": 1}).json()
    assert q["random_share"] == 0.2
    shas = [i["sha256"] for i in q["items"]]
    assert len(shas) == len(set(shas))
    done = {_sha(flight["photos"][2])}  # fully labelled above: not queued again
    assert not done & set(shas)
    reasons = {i["reason"] for i in q["items"]}
    assert "near_find" in reasons and reasons <= {"uncertain", "near_find", "new_source", "random"}
    found_sha = t["best_photo_url"].rsplit("/", 1)[1]
    if found_sha not in done:
        assert any(i["sha256"] == found_sha and i["reason"] == "near_find" for i in q["items"])


def test_tiles_cover_the_frame() -> None:
    w = list(tiles(1000, 750, 320))
    assert w[0] == (0, 0, 320, 320) and w[-1] == (680, 430, 320, 320)
    assert list(tiles(200, 100, 320)) == [(0, 0, 200, 100)]
