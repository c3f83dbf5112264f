"""Reviewed tickets -> training chips (serve.label_export, `heyan dataset from-reviews`):
a real database (migrations, both engines), the real blob store, tickets moved through the
real workflow, and the dataset read back from disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from serve_helpers import CHIEFS
from typer.testing import CliRunner

from heyan.commands.reviews_export import from_reviews_cmd
from heyan.serve.db import Database
from heyan.serve.label_export import ChipCutter, collect, place_chip
from heyan.serve.migrate import upgrade
from heyan.serve.storage import BlobStore
from heyan.serve.tables import Blob, Evidence, Ticket
from heyan.serve.workflow import Actor, transition
from heyan.vision.classes import class_index

REVIEWER = Actor("rev-wang", "reviewer")
MAY = datetime(2024, 5, 1, 9, tzinfo=UTC)
JUNE = datetime(2024, 6, 1, 9, tzinfo=UTC)
W, H = 640, 480
# Photo P1: A and B are confirmed, C rejected, D pending, E confirmed but outside the photo.
# The layout makes B fall inside every chip cut around A or C (a 320 chip must contain the
# whole box plus an 8 px margin, so it always covers x 148..320 around A and C).
A = [100.0, 100.0, 140.0, 130.0]
B = [200.0, 200.0, 260.0, 250.0]
C = [150.0, 250.0, 190.0, 290.0]
D = [300.0, 50.0, 330.0, 80.0]
E = [600.0, 400.0, 700.0, 500.0]


def _photo() -> np.ndarray:
    """A smooth gradient (so a misplaced chip shows) with each box painted a flat colour."""
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.stack([(xx * 255 // W), (yy * 255 // H), ((xx + yy) * 255 // (W + H))], -1).astype(np.uint8)
    for box, colour in ((A, (255, 255, 255)), (B, (0, 0, 255)), (C, (0, 255, 0)), (D, (255, 0, 0))):
        x1, y1, x2, y2 = (int(v) for v in box)
        img[y1:y2, x1:x2] = colour
    return img


def _ticket(db, tid: str, cls: str, sha: str | None, box: list[float], image: str = "DJI_0001.JPG") -> Ticket:
    t = Ticket(id=tid, state="pending_review", category=cls, class_name=cls, score=0.8, lat=30.5, lon=120.0,
               error_m=3.0, segment_id="seg-1", chiefs=CHIEFS, found_at=MAY, created_at=MAY, updated_at=MAY)
    db.add(t)
    db.flush()
    db.add(Evidence(ticket_id=tid, kind="detection", flight_id="f1", find_id=f"{tid}#0", image_name=image,
                    photo_sha=sha, box=box, score=0.8, created_at=MAY))
    return t


@pytest.fixture
def reviewed(db_url: str, tmp_path: Path) -> dict[str, object]:
    database = Database(db_url)
    upgrade(database.engine)
    store = BlobStore(tmp_path / "store")
    ok, png = cv2.imencode(".png", _photo())
    p1, _ = store.put_bytes(png.tobytes())
    p3, _ = store.put_bytes(b"\xff\xd8 this is not a jpeg")  # unreadable
    p2 = "ab" * 32  # recorded, never stored: the missing blob
    with database.session() as db:
        for sha in (p1, p3):
            db.add(Blob(sha256=sha, size=1, content_type="image/png"))
        t1 = _ticket(db, "T1-debris", "floating_debris", p1, A)
        t2 = _ticket(db, "T2-boat", "boat", p1, B)
        t3 = _ticket(db, "T3-glint", "floating_debris", p1, C)
        _ticket(db, "T4-pending", "floating_debris", p1, D)
        t5 = _ticket(db, "T5-nofile", "waste_pile", p2, [10, 10, 50, 50], image="DJI_0002.JPG")
        t6 = _ticket(db, "T6-corrupt", "waste_pile", p3, [10, 10, 50, 50], image="DJI_0003.JPG")
        t7 = _ticket(db, "T7-outside", "structure", p1, E)
        transition(db, t1, "confirmed", REVIEWER, MAY, "垃圾漂浮")
        for t in (t2, t5, t6, t7):
            transition(db, t, "confirmed", REVIEWER, JUNE)
        transition(db, t2, "dispatched", REVIEWER, JUNE)  # later states are still confirmed objects
        transition(db, t3, "rejected", REVIEWER, JUNE, "水面反光")
        db.commit()
    database.dispose()
    return {"url": db_url, "store": tmp_path / "store", "p1": p1, "p2": p2, "p3": p3}


def _run(r: dict[str, object], out: Path, *args: str) -> tuple[dict[str, object], str]:
    app = typer.Typer()
    app.command()(from_reviews_cmd)
    res = CliRunner().invoke(app, ["--db", str(r["url"]), "--store", str(r["store"]), "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    last = [line for line in res.stdout.splitlines() if line.startswith("{")][-1]
    return json.loads(last), res.stderr


def _labels(out: Path, chip: str) -> list[tuple[int, list[float]]]:
    text = (out / "labels" / "train" / Path(chip).with_suffix(".txt")).read_text()
    return [(int(p[0]), [float(v) for v in p[1:]]) for p in (line.split() for line in text.splitlines())]


def _yolo(box: list[float], origin: list[int], size: list[int]) -> list[float]:
    """The box shifted by the chip origin, in YOLO's normalised centre/size form."""
    x1, y1, x2, y2 = box[0] - origin[0], box[1] - origin[1], box[2] - origin[0], box[3] - origin[1]
    return [(x1 + x2) / 2 / size[0], (y1 + y2) / 2 / size[1], (x2 - x1) / size[0], (y2 - y1) / size[1]]


def _has(labels: list[tuple[int, list[float]]], cls: str, expected: list[float]) -> bool:
    return any(c == class_index(cls) and np.allclose(v, expected, atol=2e-6) for c, v in labels)


def test_reviewed_tickets_become_chips_labels_and_a_manifest(reviewed: dict[str, object], tmp_path: Path) -> None:
    out = tmp_path / "ds"
    summary, err = _run(reviewed, out)
    manifest = [json.loads(line) for line in (out / "reviews.jsonl").read_text(encoding="utf-8").splitlines()]
    by_ticket = {m["ticket_id"]: m for m in manifest}

    # Confirmed (and dispatched) -> positive chips, rejected -> a hard negative, pending -> nothing.
    assert set(by_ticket) == {"T1-debris", "T2-boat", "T3-glint"}
    assert summary["chips"] == 3 and summary["negatives"] == 1
    assert summary["positives"] == {"boat": 1, "floating_debris": 1}

    # The confirmed ticket's chip: its box where it is in the photo, in YOLO form, with its class,
    # plus the other confirmed box (B) that lies in the same chip; nothing for the rejected or pending ones.
    m1 = by_ticket["T1-debris"]
    assert m1["chip"] == f"{str(reviewed['p1'])[:16]}__0.jpg"
    assert m1["state"] == "confirmed" and m1["label"] == "positive" and m1["class"] == "floating_debris"
    assert m1["reviewer"] == "rev-wang" and m1["reviewed_at"].startswith("2024-05-01")
    assert m1["photo_sha256"] == reviewed["p1"] and m1["box"] == A
    assert m1["chip_size"] == [320, 320]
    labels = _labels(out, m1["chip"])
    assert _has(labels, "floating_debris", _yolo(A, m1["chip_origin"], m1["chip_size"]))
    assert _has(labels, "boat", _yolo(B, m1["chip_origin"], m1["chip_size"]))
    assert len(labels) == 2  # not C (rejected), not D (pending)

    # The chip is the photo at native resolution, cut at the recorded origin.
    chip = cv2.imread(str(out / "images" / "train" / m1["chip"]))
    x0, y0 = m1["chip_origin"]
    assert chip.shape[:2] == (320, 320)
    assert np.abs(chip.astype(int) - _photo()[y0:y0 + 320, x0:x0 + 320].astype(int)).mean() < 3
    cx, cy = (int((A[0] + A[2]) / 2 - x0), int((A[1] + A[3]) / 2 - y0))
    assert chip[cy, cx].min() > 240  # A's white patch is where the label says

    # The dispatched boat keeps its state in the manifest.
    assert by_ticket["T2-boat"]["state"] == "dispatched" and by_ticket["T2-boat"]["class"] == "boat"

    # The rejected ticket: a chip around its box with no label for it, but B is labelled.
    m3 = by_ticket["T3-glint"]
    assert m3["label"] == "hard_negative" and m3["state"] == "rejected" and m3["reviewer"] == "rev-wang"
    x0, y0 = m3["chip_origin"]
    assert x0 <= C[0] and y0 <= C[1] and C[2] <= x0 + 320 and C[3] <= y0 + 320
    labels = _labels(out, m3["chip"])
    assert _has(labels, "boat", _yolo(B, m3["chip_origin"], m3["chip_size"]))
    assert not _has(labels, "floating_debris", _yolo(C, m3["chip_origin"], m3["chip_size"]))
    x0, y0 = m3["chip_origin"]
    a_in_chip = [max(A[0], x0), max(A[1], y0), min(A[2], x0 + 320), min(A[3], y0 + 320)]
    assert all(c != class_index("floating_debris") or np.allclose(v, _yolo(a_in_chip, m3["chip_origin"], m3["chip_size"]),
                                                                  atol=2e-6)
               for c, v in labels)  # a debris label here can only be A (cut by the chip edge, if at all)
    assert [lab["ticket_id"] for lab in m3["labels"]] != [] and "T3-glint" not in [lab["ticket_id"] for lab in m3["labels"]]

    # Bad data is named and skipped; the export went on.
    reasons = {s["name"].split()[1]: s for s in summary["skipped_items"]}
    assert set(reasons) == {"T5-nofile", "T6-corrupt", "T7-outside"}
    assert reasons["T5-nofile"]["kind"] == "missing_blob" and str(reviewed["p2"]) in reasons["T5-nofile"]["reason"]
    assert "DJI_0002.JPG" in reasons["T5-nofile"]["name"]
    assert reasons["T6-corrupt"]["kind"] == "unreadable_photo"
    assert reasons["T7-outside"]["kind"] == "bad_box" and "outside the 640x480 photo" in reasons["T7-outside"]["reason"]
    assert "T5-nofile" in err  # reported on the terminal too
    assert len((out / "skipped.jsonl").read_text().splitlines()) == 3

    # A YOLO dataset with Heyan's class order; every image has its label file, grouped by photo.
    data = (out / "data.yaml").read_text(encoding="utf-8")
    assert "floating_debris" in data and "images/train" in data
    images = sorted(p.name for p in (out / "images" / "train").iterdir())
    assert images == sorted(m["chip"] for m in manifest)
    assert all(not (out / "images" / "train" / n).is_symlink() for n in images)
    assert not (out / "chips").exists()
    from heyan.datasets.compose import dataset_stats

    stats = dataset_stats(out / "data.yaml")  # `heyan dataset stats`: the three chips come from one photo
    assert stats["splits"]["train"]["images"] == 3 and stats["splits"]["train"]["sources"] == 1


def test_a_confirmed_object_seen_again_is_labelled_not_a_chip_of_its_own(db_url: str, tmp_path: Path) -> None:
    """A confirmed object found again by a later flight has only a `seen_again` view on that
    flight's photo: chips cut there must label it, or they teach it as background."""
    database = Database(db_url)
    upgrade(database.engine)
    store = BlobStore(tmp_path / "store")
    ok, png = cv2.imencode(".png", _photo())
    p1, _ = store.put_bytes(png.tobytes())
    with database.session() as db:
        db.add(Blob(sha256=p1, size=1, content_type="image/png"))
        t1 = _ticket(db, "T1-debris", "floating_debris", p1, A)
        t9 = _ticket(db, "T9-boat", "boat", None, B)  # found first on a photo not stored here
        db.add(Evidence(ticket_id="T9-boat", kind="seen_again", flight_id="f2", find_id="T9#1", image_name="DJI_0001.JPG",
                        photo_sha=p1, box=B, score=0.7, created_at=JUNE))
        for t in (t1, t9):
            transition(db, t, "confirmed", REVIEWER, JUNE)
        db.commit()
    database.dispose()
    out = tmp_path / "ds"
    summary, _ = _run({"url": db_url, "store": tmp_path / "store"}, out)
    manifest = [json.loads(line) for line in (out / "reviews.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [m["ticket_id"] for m in manifest] == ["T1-debris"]  # T9's seen-again view is no chip
    m = manifest[0]
    labels = _labels(out, m["chip"])
    assert _has(labels, "floating_debris", _yolo(A, m["chip_origin"], m["chip_size"]))
    assert _has(labels, "boat", _yolo(B, m["chip_origin"], m["chip_size"]))


def test_pending_counted_as_unreviewed_and_since_limits_chips(reviewed: dict[str, object], tmp_path: Path) -> None:
    out = tmp_path / "since"
    summary, _ = _run(reviewed, out, "--since", "2024-05-15", "--seed", "3")
    manifest = [json.loads(line) for line in (out / "reviews.jsonl").read_text(encoding="utf-8").splitlines()]
    # T1 was reviewed in May: no chip around it; June's reviews still are exported.
    assert {m["ticket_id"] for m in manifest} == {"T2-boat", "T3-glint"}
    for m in manifest:  # the pending box D is counted wherever it overlaps a chip (it is never labelled)
        x0, y0 = m["chip_origin"]
        overlaps = D[0] < x0 + 320 and D[2] > x0 and D[1] < y0 + 320 and D[3] > y0
        assert m["unreviewed_boxes"] == int(overlaps)
        assert "T4-pending" not in [lab["ticket_id"] for lab in m["labels"]]


def test_chips_are_seeded(reviewed: dict[str, object], tmp_path: Path) -> None:
    origins = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        _run(reviewed, tmp_path / name, "--seed", seed)
        rows = (tmp_path / name / "reviews.jsonl").read_text().splitlines()
        origins.append([json.loads(r)["chip_origin"] for r in rows])
    assert origins[0] == origins[1]
    assert origins[0] != origins[2]


def test_collect_and_cut_without_the_cli(reviewed: dict[str, object], tmp_path: Path) -> None:
    database = Database(str(reviewed["url"]))
    with database.session(write=False) as db:
        col = collect(db)
    database.dispose()
    chips, skipped = ChipCutter(BlobStore(Path(str(reviewed["store"]))), tmp_path / "chips", size=320).run(col)
    assert sorted(c.record["ticket_id"] for c in chips) == ["T1-debris", "T2-boat", "T3-glint"]
    assert {s.kind for s in skipped} == {"missing_blob", "unreadable_photo", "bad_box"}


def test_refuses_a_non_empty_out_folder(reviewed: dict[str, object], tmp_path: Path) -> None:
    out = tmp_path / "used"
    out.mkdir()
    (out / "old.txt").write_text("x")
    app = typer.Typer()
    app.command()(from_reviews_cmd)
    res = CliRunner().invoke(app, ["--db", str(reviewed["url"]), "--store", str(reviewed["store"]), "--out", str(out)])
    assert res.exit_code == 2
    assert "isnotempty" in "".join(ch for ch in res.output if ch.isalnum())  # rich wraps the message in a box


@pytest.mark.parametrize("box", [(100, 100, 140, 130), (0, 0, 30, 20), (600, 440, 640, 480), (10, 10, 600, 400)])
def test_place_chip_keeps_the_box_inside_the_chip_and_the_chip_inside_the_photo(box: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        x0, y0, w, h = place_chip(tuple(float(v) for v in box), W, H, 320, rng)  # type: ignore[arg-type]
        assert 0 <= x0 and 0 <= y0 and x0 + w <= W and y0 + h <= H
        assert x0 <= box[0] and y0 <= box[1] and box[2] <= x0 + w and box[3] <= y0 + h
    big = place_chip((10.0, 10.0, 600.0, 400.0), 2000, 2000, 320, rng)
    assert big[2] == big[3] == 606  # a box larger than the chip: its size plus the margin


def test_a_processed_flight_reviewed_through_the_api(live_sqlite, sim_flight: Path, tmp_path: Path) -> None:
    """End to end: the real pipeline stores the boxes (stand-in detector), reviewers decide
    through the API, and the chips line up with the photos as uploaded (native scale)."""
    from test_flights import photos_of, tickets_of, upload_photos, upload_rivers

    from heyan.pipeline.images import read_image

    live = live_sqlite
    admin, rev = live.client("admin"), live.client("reviewer")
    upload_rivers(admin, sim_flight)
    fid = upload_photos(live.client("operator"), photos_of(sim_flight), "for labels").json()["flight"]["id"]
    assert live.wait_job(fid)["job"]["state"] == "done"
    tickets = tickets_of(rev, fid)
    assert len(tickets) >= 3
    yes, no = tickets[0]["id"], tickets[1]["id"]
    assert rev.post(f"/api/tickets/{yes}/transition", json={"to": "confirmed"}).status_code == 200
    assert rev.post(f"/api/tickets/{no}/transition", json={"to": "rejected", "comment": "foam"}).status_code == 200
    with live.state.db.session(write=False) as db:
        ev = {e.id: e for e in db.query(Evidence).filter(Evidence.ticket_id.in_([yes, no]), Evidence.kind == "detection")}

    out = tmp_path / "flight-ds"
    summary, _ = _run({"url": live.config.database_url, "store": live.config.data_dir / "store"}, out)
    rows = [json.loads(line) for line in (out / "reviews.jsonl").read_text().splitlines()]
    # One chip per detection view of the two reviewed tickets, nothing for the pending ones.
    assert sorted(r["evidence_id"] for r in rows) == sorted(ev) and summary["skipped"] == 0
    for m in rows:
        e = ev[m["evidence_id"]]
        assert m["ticket_id"] == e.ticket_id and m["photo_sha256"] == e.photo_sha and m["reviewer"] == "reviewer-user"
        expected = _yolo(e.box, m["chip_origin"], m["chip_size"])
        if e.ticket_id == yes:
            assert m["label"] == "positive" and _has(_labels(out, m["chip"]), m["class"], expected)
        else:
            assert m["label"] == "hard_negative" and not _has(_labels(out, m["chip"]), m["class"], expected)
        photo = read_image(next(p for p in photos_of(sim_flight) if p.name == e.image_name))
        x0, y0 = m["chip_origin"]
        w, h = m["chip_size"]
        chip = cv2.imread(str(out / "images" / "train" / m["chip"]))
        assert np.abs(chip.astype(int) - photo[y0:y0 + h, x0:x0 + w].astype(int)).mean() < 4  # native scale, right place


def test_hand_labelled_frames_become_tiles_and_replace_review_chips(reviewed: dict[str, object], tmp_path: Path) -> None:
    """A frame labelled completely in the viewer: the whole photo in tiles with the hand boxes;
    review chips of that photo are left out (the hand labels are the fuller truth)."""
    from heyan.serve.tables import FrameLabel

    database = Database(str(reviewed["url"]))
    hand = [{"class": "boat", "box": [100.0, 100.0, 140.0, 130.0], "origin": "drawn"},
            {"class": "waste_pile", "box": [400.0, 300.0, 460.0, 350.0], "origin": "drawn"}]
    with database.session() as db:
        db.add(FrameLabel(photo_sha=reviewed["p1"], version=1, width=W, height=H, boxes=hand[:1], complete=False,
                          created_by="rev-wang", created_at=JUNE))
        db.add(FrameLabel(photo_sha=reviewed["p1"], version=2, width=W, height=H, boxes=hand, complete=True,
                          created_by="rev-li", created_at=JUNE))
        db.commit()
    database.dispose()
    out = tmp_path / "ds"
    summary, _ = _run(reviewed, out)
    manifest = [json.loads(line) for line in (out / "reviews.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not [m for m in manifest if m["label"] != "hand_labelled" and m["photo_sha256"] == reviewed["p1"]]
    tiles_ = [m for m in manifest if m["label"] == "hand_labelled"]
    assert summary["hand_labelled_chips"] == len(tiles_) == 4  # 640x480 in 320 tiles
    assert {m["label_version"] for m in tiles_} == {2} and {m["labelled_by"] for m in tiles_} == {"rev-li"}
    first = next(m for m in tiles_ if m["chip_origin"] == [0, 0])
    assert len(_labels(out, first["chip"])) == 1
    assert _has(_labels(out, first["chip"]), "boat", _yolo(hand[0]["box"], [0, 0], [320, 320]))
    last = next(m for m in tiles_ if m["chip_origin"] == [320, 160])
    assert _has(_labels(out, last["chip"]), "waste_pile", _yolo(hand[1]["box"], [320, 160], [320, 320]))
