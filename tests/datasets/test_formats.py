"""Label importers (VOC, COCO, YOLO), the class map, the split by source photo and the
Ultralytics export: on generated fixtures, bad files, and the real aerial-maritime set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from heyan.datasets.classmap import apply_class_map, load_class_map
from heyan.datasets.export_yolo import write_yolo
from heyan.datasets.formats.coco import read_coco
from heyan.datasets.formats.voc import read_voc
from heyan.datasets.formats.yolo_import import read_yolo
from heyan.datasets.labelled import LabelledPhoto
from heyan.datasets.split import group_of, split_by_group
from heyan.datasets.yolo import iter_split

ROOT = Path(__file__).resolve().parents[2]
AERIAL = ROOT.parent / "shared" / "data" / "train" / "aerial-maritime"


def _jpg(path: Path, w: int = 200, h: int = 100) -> Path:
    cv2.imwrite(str(path), np.full((h, w, 3), 90, np.uint8))
    return path


def _voc(path: Path, image: str, objs: list[tuple[str, float, float, float, float]], w: int = 200, h: int = 100) -> None:
    o = "".join(f"<object><name>{n}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
                for n, a, b, c, d in objs)
    path.write_text(f"<annotation><filename>{image}</filename><size><width>{w}</width><height>{h}</height><depth>3</depth></size>{o}</annotation>")


def test_voc_reads_boxes_and_reports_bad_files_by_name(tmp_path: Path) -> None:
    _jpg(tmp_path / "a.jpg")
    _voc(tmp_path / "a.xml", "a.jpg", [("boat", 10, 20, 50, 60), ("dock", 0, 0, 200, 100)])
    _jpg(tmp_path / "b.jpg")
    _voc(tmp_path / "b.xml", "b.jpg", [("boat", 150, 20, 260, 60)])  # beyond the 200 px width
    _voc(tmp_path / "c.xml", "missing.jpg", [("boat", 1, 1, 5, 5)])
    (tmp_path / "d.xml").write_text("<annotation><filename>")  # truncated
    _jpg(tmp_path / "e.jpg")
    (tmp_path / "e.xml").write_text('<!DOCTYPE a [<!ENTITY x "y">]><annotation>&x;</annotation>')  # entities: refused
    res = read_voc(tmp_path)
    assert [p.image.name for p in res.photos] == ["a.jpg"]
    a = res.photos[0]
    assert a.names == ["boat", "dock"] and a.boxes.tolist() == [[10, 20, 50, 60], [0, 0, 200, 100]]
    reasons = {Path(p.file).name: p.reason for p in res.problems}
    assert "outside the 200x100 image" in reasons["b.xml"]
    assert "not found" in reasons["c.xml"]
    assert "not valid VOC XML" in reasons["d.xml"] and "not valid VOC XML" in reasons["e.xml"]


def test_coco_reads_xywh_and_reports_unknown_categories(tmp_path: Path) -> None:
    _jpg(tmp_path / "x.jpg")
    _jpg(tmp_path / "y.jpg")
    data = {"images": [{"id": 1, "file_name": "x.jpg", "width": 200, "height": 100},
                       {"id": 2, "file_name": "y.jpg", "width": 200, "height": 100},
                       {"id": 3, "file_name": "gone.jpg", "width": 200, "height": 100}],
            "categories": [{"id": 7, "name": "litter"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 30, 20]},
                            {"id": 2, "image_id": 2, "category_id": 99, "bbox": [1, 1, 2, 2]}]}
    (tmp_path / "c.json").write_text(json.dumps(data))
    res = read_coco(tmp_path / "c.json")
    assert len(res.photos) == 1 and res.photos[0].boxes.tolist() == [[10, 10, 40, 30]] and res.photos[0].names == ["litter"]
    text = " | ".join(map(str, res.problems))
    assert "unknown category_id 99" in text and "gone.jpg" in text
    (tmp_path / "bad.json").write_text("{")
    assert "not a COCO detection file" in str(read_coco(tmp_path / "bad.json").problems[0])


def test_class_map_maps_drops_and_refuses_unknown_targets(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text("jetski: boat\ncar: drop\ndock: structure\n")
    mapping = load_class_map(m)
    photos = [LabelledPhoto(Path("a.jpg"), 100, 100, [[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 2, 2]], ["jetski", "car", "boat"]),
              LabelledPhoto(Path("b.jpg"), 100, 100, [[0, 0, 10, 10]], ["pier"])]
    from heyan.datasets.labelled import ImportResult

    out = apply_class_map(ImportResult(photos=photos), mapping)
    assert [p.names for p in out.photos] == [["boat", "boat"]]
    assert out.photos[0].boxes.tolist() == [[0, 0, 10, 10], [1, 1, 2, 2]]
    assert "['pier'] are not in the class map" in str(out.problems[0])
    m.write_text("jetski: ship\n")
    with pytest.raises(ValueError, match="neither a Heyan class"):
        load_class_map(m)


def test_split_keeps_each_source_photo_on_one_side() -> None:
    photos = [LabelledPhoto(Path(f"DJI_{g:04d}_JPG.rf.{i}.jpg"), 10, 10, [], []) for g in range(20) for i in range(5)]
    train, val = split_by_group(photos, r"^(DJI_\d+)", 0.25, seed=3)
    gt = {group_of(p.image, r"^(DJI_\d+)") for p in train}
    gv = {group_of(p.image, r"^(DJI_\d+)") for p in val}
    assert not gt & gv and len(gv) == 5 and len(gt) == 15 and len(train) + len(val) == 100
    assert split_by_group(photos, r"^(DJI_\d+)", 0.25, seed=3)[1] == val  # deterministic


def test_export_round_trips_through_the_yolo_reader(tmp_path: Path) -> None:
    img = _jpg(tmp_path / "p.jpg", 400, 200)
    p = LabelledPhoto(img, 400, 200, [[40, 20, 120, 100], [390, 150, 401, 201]], ["boat", "structure"])
    data = write_yolo({"train": [p], "val": []}, tmp_path / "ds")
    items = iter_split(data, "train")
    assert len(items) == 1
    xyxy = items[0].boxes_xyxy(400, 200)
    assert np.allclose(xyxy[0], [40, 20, 120, 100], atol=0.01)
    assert np.allclose(xyxy[1], [390, 150, 400, 200], atol=0.01)  # clipped to the image
    back = read_yolo(data, splits=("train",))
    assert back.photos[0].names == ["boat", "structure"] and not back.problems


@pytest.mark.skipif(not AERIAL.is_dir(), reason=f"{AERIAL} not present (../shared/data)")
def test_aerial_maritime_imports_and_splits_by_photo(tmp_path: Path) -> None:
    out = tmp_path / "am"
    r = subprocess.run([sys.executable, "-m", "heyan.cli", "dataset", "import", str(AERIAL), "--map",
                        str(ROOT / "datasets" / "maps" / "aerial-maritime.yaml"), "--group", r"^(DJI_\d+)",
                        "--val-fraction", "0.25", "--out", str(out)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, COLUMNS="300"))
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["photos"] == 508 and s["skipped"] == 0
    assert s["groups"]["train"] + s["groups"]["val"] == 74
    assert set(s["boxes"]["val"]) == {"boat", "structure"}
    groups = {split: {group_of(p, r"^(DJI_\d+)") for p in (out / "images" / split).iterdir()} for split in ("train", "val")}
    assert not groups["train"] & groups["val"]


def test_chips_use_the_inference_grid_and_clip_boxes(tmp_path: Path) -> None:
    from heyan.datasets.tiling import ChipParams, chip_boxes, tile_photos
    from heyan.vision.slicing import tile_grid

    img = _jpg(tmp_path / "big.jpg", 700, 500)
    boxes = [[10, 10, 60, 60], [300, 200, 340, 240], [315, 100, 330, 110]]
    photo = LabelledPhoto(img, 700, 500, boxes, ["boat", "structure", "floating_debris"])
    p = ChipParams(size=320, overlap=0.2, keep_empty=1.0)
    chips, problems = tile_photos([photo], tmp_path / "chips", p)
    assert not problems
    assert len(chips) == len(tile_grid(700, 500, 320, 0.2))  # keep_empty=1: one chip per grid window
    assert all((c.width, c.height) == (320, 320) for c in chips)
    # A box cut by a chip border: kept when enough of it is inside, dropped as a sliver otherwise.
    b, n = chip_boxes(np.array([[300, 200, 340, 240]], np.float32), ["structure"], np.array([0, 0, 320, 320]), p)
    assert n == ["structure"] and b.tolist() == [[300, 200, 320, 240]]
    b, n = chip_boxes(np.array([[300, 200, 340, 240]], np.float32), ["structure"], np.array([335, 0, 655, 320]), p)
    assert n == []  # 5 px of its 40 inside: a sliver
    # Every original box appears whole in at least one chip (the overlap covers it).
    for (x1, y1, x2, y2), name in zip(boxes, photo.names):
        assert any(name in c.names and any(np.allclose(bb, [x1 - ox, y1 - oy, x2 - ox, y2 - oy]) for bb in c.boxes)
                   for c, (ox, oy, _, _) in zip(chips, tile_grid(700, 500, 320, 0.2)))


def test_cvat_and_label_studio_exports(tmp_path: Path) -> None:
    from heyan.datasets.formats.cvat import read_cvat
    from heyan.datasets.formats.labelstudio import read_labelstudio

    _jpg(tmp_path / "a.jpg", 200, 100)
    (tmp_path / "cvat.xml").write_text(
        '<annotations><version>1.1</version>'
        '<image id="0" name="upload/a.jpg" width="200" height="100"><box label="boat" xtl="10" ytl="20" xbr="50" ybr="60"/></image>'
        '<image id="1" name="nope.jpg" width="200" height="100"/></annotations>')
    res = read_cvat(tmp_path / "cvat.xml")
    assert len(res.photos) == 1 and res.photos[0].boxes.tolist() == [[10, 20, 50, 60]] and res.photos[0].names == ["boat"]
    assert "nope.jpg" in str(res.problems[0])

    tasks = [{"id": 1, "data": {"image": "/data/upload/1/a.jpg"}, "annotations": [{"result": [
        {"type": "rectanglelabels", "original_width": 200, "original_height": 100,
         "value": {"x": 10, "y": 20, "width": 25, "height": 50, "rectanglelabels": ["waste_pile"]}}]}]},
             {"id": 2, "data": {"image": "/data/upload/1/gone.jpg"}, "annotations": []}]
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    res = read_labelstudio(tmp_path / "ls.json")
    assert len(res.photos) == 1 and res.photos[0].names == ["waste_pile"]
    assert np.allclose(res.photos[0].boxes, [[20, 20, 70, 70]])
    assert "gone.jpg" in str(res.problems[0])
