"""Real-photo augmentation, copy-paste composition, dataset stats and mixes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from heyan.datasets import augment as aug
from heyan.datasets.compose import dataset_stats, write_mix
from heyan.datasets.copypaste import ComposeParams, Cutout, compose_chip, generated_cutout, match_colour, paste, real_cutout, water_land_masks
from heyan.datasets.export_yolo import write_yolo
from heyan.datasets.labelled import LabelledPhoto
from heyan.datasets.yolo import iter_split


def _lake(h: int = 400, w: int = 600, seed: int = 0) -> np.ndarray:
    """Left half smooth 'water', right half textured 'land' (the distinction the masks make)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (110, 120, 90)
    img[:, : w // 2] += rng.integers(0, 3, (h, w // 2, 3), dtype=np.uint8)
    img[:, w // 2 :] = rng.integers(30, 200, (h, w - w // 2, 3), dtype=np.uint8)
    img[:, w // 2 :] = cv2.GaussianBlur(img[:, w // 2 :], (0, 0), 1.0)
    return img


# --------------------------------------------------------------------------- augment
def test_fisheye_moves_boxes_with_the_pixels() -> None:
    """A bright square warped by the barrel distortion must still sit inside its warped box."""
    img = np.zeros((300, 400, 3), np.uint8)
    box = np.array([[300, 200, 360, 260]], np.float32)  # off centre: moves
    img[200:260, 300:360] = 255
    out, boxes = aug.fisheye(img, box, 0.35)
    ys, xs = np.nonzero(out[..., 0] > 127)
    got = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    assert np.abs(got - boxes[0]).max() <= 3.0, (got, boxes[0])
    assert boxes[0][0] > 300 and boxes[0][1] > 200  # magnified centre pushes it outwards
    assert (out[0, 0] == 0).all() and (out[-1, -1] == 0).all()  # nothing mirrored in at the border


def test_fisheye_box_ignores_the_part_pushed_out_of_the_frame() -> None:
    """Content near the middle of a side leaves the frame; the box must shrink to what stays
    (it once kept the lost part's x-range and came out 3.8x too wide)."""
    img = np.zeros((200, 400, 3), np.uint8)
    img[188:200, 120:400] = 255
    box = np.array([[120, 188, 400, 200]], np.float32)
    out, boxes = aug.fisheye(img, box, 0.3, min_visible=0.1)
    ys, xs = np.nonzero(out[..., 0] > 127)
    got = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    assert np.abs(got - boxes[0]).max() <= 4.0, (got, boxes[0])
    # little of it stays in the frame: under the default 40 % the remnant is not a label,
    # the rule `heyan dataset tile` applies to remnants cut by a chip border
    _, dropped = aug.fisheye(img, box, 0.3)
    assert (dropped[0] == 0).all()


def test_fisheye_points_inverts_the_sampling_map() -> None:
    w, h, k = 640, 480, 0.3
    pts = np.array([[10.0, 10.0], [320, 240], [600, 50], [100, 470]])
    d = aug.fisheye_points(pts, w, h, k)
    cx, cy, norm = w / 2, h / 2, np.hypot(w / 2, h / 2)
    dx, dy = (d[:, 0] - cx) / norm, (d[:, 1] - cy) / norm
    f = (1 + k * (dx * dx + dy * dy)) / (1 + k)
    back = np.stack([cx + dx * f * norm, cy + dy * f * norm], 1)
    assert np.allclose(back, pts, atol=1e-3)


def test_photometric_steps_change_pixels_but_not_shape() -> None:
    rng = np.random.default_rng(0)
    img = _lake()
    for out in (aug.haze(img, 0.6), aug.glint(rng, img, 200), aug.motion_blur(img, 7, 30), aug.jpeg(img, 20),
                aug.exposure(img, 1.2, 0.9)):
        assert out.shape == img.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - img).mean() > 0.2
    hazy = aug.haze(img, 0.9)
    assert hazy.std() < img.std()  # haze lowers contrast
    assert aug.glint(rng, img, 300).max() == 255  # glint saturates


def test_augment_keeps_boxes_and_ids_aligned() -> None:
    rng = np.random.default_rng(3)
    img = _lake()
    boxes = np.array([[10, 10, 60, 40], [300, 300, 305, 304], [500, 20, 590, 90]], np.float32)
    ids = np.array([0, 2, 4])
    p = aug.AugmentParams(p_fisheye=1.0, min_box_px=6)
    out, b, c = aug.augment(rng, img, boxes, ids, p)
    assert out.shape == img.shape
    assert list(c) == [0, 4]  # the 5x4 px box is squeezed below 6 px and dropped with its class
    assert len(b) == 2
    assert (b[:, 2] > b[:, 0]).all() and (b[:, 3] > b[:, 1]).all()
    assert abs((b[0, 2] - b[0, 0]) - 50) < 15 and abs((b[1, 2] - b[1, 0]) - 90) < 25  # moved, not blown up


# --------------------------------------------------------------------------- copy-paste
def test_water_and_land_masks_split_smooth_from_textured() -> None:
    water, land = water_land_masks(_lake())
    assert water[:, :250].mean() > 0.9 and water[:, 350:].mean() < 0.05
    assert land[:, 350:].mean() > 0.9 and land[:, :250].mean() < 0.05


def test_a_smooth_green_lawn_is_not_water() -> None:
    """Mown grass seen from a drone is as smooth as water; litter pasted on it taught the
    detector that things on lawns float. Its colour tells it apart, olive water does not."""
    img = np.zeros((400, 600, 3), np.uint8)
    img[:, :300] = (60, 150, 80)  # lawn (BGR): excess green 160
    img[:, 300:] = (85, 100, 95)   # grey-olive river water: excess green 20
    rng = np.random.default_rng(0)
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    water, _ = water_land_masks(img)
    assert water[:, :280].mean() < 0.05
    assert water[:, 320:].mean() > 0.9


def test_real_cutout_separates_the_object_from_its_background() -> None:
    img = _lake()
    cv2.ellipse(img, (150, 200), (40, 15), 20, 0, 360, (230, 230, 240), -1)  # a white boat on water
    cut = real_cutout(img, np.array([105, 180, 195, 220]), "boat", "x.jpg", gsd_m=0.05)
    assert cut is not None and cut.name == "boat" and cut.source == "real:x.jpg"
    assert cut.length_m == pytest.approx(0.05 * 90)
    bright = cv2.cvtColor(cut.bgr.astype(np.uint8), cv2.COLOR_BGR2GRAY) > 200
    # the mask covers the boat and leaves most of the water around it out
    assert cut.label_alpha[bright].mean() > 0.8
    assert cut.label_alpha[~bright].mean() < 0.5


def test_paste_respects_surface_overlap_and_size() -> None:
    rng = np.random.default_rng(1)
    img = _lake()
    water, _ = water_land_masks(img)
    cut = Cutout(np.full((20, 40, 3), 250, np.float32), np.ones((20, 40), np.float32), np.ones((20, 40), np.float32),
                 "boat", "test")
    existing = np.array([[0, 0, 300, 200]], np.float32)  # the whole upper water is taken
    res = paste(rng, img, existing, ["structure"], cut, 60.0, water)
    assert res is not None
    out, boxes, names = res
    assert names == ["structure", "boat"]
    x1, y1, x2, y2 = boxes[1]
    assert max(x2 - x1, y2 - y1) == pytest.approx(60, abs=4)  # sized to the requested length
    assert x2 <= 305 and y1 >= 195  # on the water, below the taken part
    assert (out != img).any()


def test_paste_sizes_the_object_not_its_canvas() -> None:
    """A cut-out carries a margin around the object; the requested length is the object's."""
    rng = np.random.default_rng(4)
    img = _lake()
    water, _ = water_land_masks(img)
    label = np.zeros((40, 80), np.float32)
    label[10:30, 10:70] = 1.0  # a 60x20 object in an 80x40 canvas
    cut = Cutout(np.full((40, 80, 3), 250, np.float32), label.copy(), label, "boat", "test")
    lengths = []
    for _ in range(10):
        res = paste(rng, img, np.zeros((0, 4), np.float32), [], cut, 60.0, water)
        assert res is not None
        x1, y1, x2, y2 = res[1][0]
        lengths.append(np.hypot(x2 - x1, y2 - y1))
    # rotated at random, the box around a 60x20 object has a diagonal of 63 (axis-aligned)
    # to 80 px (at 45 degrees); sized by the canvas it was 47-60
    assert min(lengths) >= 60 and max(lengths) <= 82


def test_paste_gives_up_when_there_is_no_room() -> None:
    rng = np.random.default_rng(0)
    img = _lake()
    cut = Cutout(np.zeros((10, 10, 3), np.float32), np.ones((10, 10), np.float32), np.ones((10, 10), np.float32), "boat", "t")
    assert paste(rng, img, np.zeros((0, 4), np.float32), [], cut, 30.0, np.zeros(img.shape[:2], bool)) is None


def test_match_colour_moves_toward_the_spot() -> None:
    cut = np.full((10, 10, 3), 200, np.float32)
    spot = np.full((10, 10, 3), 60, np.uint8)
    out = match_colour(cut, np.ones((10, 10), np.float32), spot, 1.0)
    assert 60 < out.mean() < 200


def test_generated_cutouts_have_labels_and_floaters_a_wet_rim() -> None:
    rng = np.random.default_rng(5)
    for name in ("floating_debris", "sand_dredger", "boat", "waste_pile", "structure"):
        cut = generated_cutout(rng, name, 40.0)
        assert cut.bgr.shape[:2] == cut.alpha.shape == cut.label_alpha.shape
        assert (cut.label_alpha > 0.5).sum() > 20, name
    side = generated_cutout(rng, "boat", 40.0, side_view=True)
    h = side.alpha.shape[0]
    assert side.label_alpha[h // 2 + 2 :].max() == 0  # the reflection is drawn, not labelled


def test_compose_chip_places_water_classes_on_water_and_land_classes_on_land() -> None:
    rng = np.random.default_rng(2)
    img = _lake(320, 640)
    masks = water_land_masks(img)
    p = ComposeParams(objects_per_chip=(6, 6))
    placed_water = placed_land = 0
    for _ in range(6):
        out, boxes, names = compose_chip(rng, img, np.zeros((0, 4), np.float32), [], 0.05, {}, p, masks=masks)
        for (x1, _y1, x2, _y2), n in zip(boxes, names):
            cx = (x1 + x2) / 2
            if n in ("floating_debris", "sand_dredger", "boat"):
                assert cx < 330, (n, cx)
                placed_water += 1
            else:
                assert cx > 310, (n, cx)
                placed_land += 1
    assert placed_water > 5 and placed_land > 5


# --------------------------------------------------------------------------- datasets
def _tiny_dataset(root: Path, n: int = 6) -> Path:
    photos = {"train": [], "val": []}
    for i in range(n):
        p = root / "src" / f"DJI_{i:04d}__{i % 2:03d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(p), _lake(200, 300, i))
        split = "val" if i >= n - 2 else "train"
        photos[split].append(LabelledPhoto(p, 300, 200, np.array([[10, 10, 50, 30 + i]], np.float32), ["boat"]))
    return write_yolo(photos, root / "ds")


def test_stats_counts_sizes_and_flags_sources_in_both_splits(tmp_path: Path) -> None:
    data = _tiny_dataset(tmp_path)
    s = dataset_stats(data, group=r"^(DJI_\d+)")
    assert s["splits"]["train"]["boxes"] == {"boat": 4}
    assert s["splits"]["train"]["box_long_side_px"]["boat"]["max"] == pytest.approx(40.0, abs=0.5)
    assert s["sources_in_both_splits"] == 0
    leaky = dataset_stats(data, group=r"__(\d+)")  # by chip index: both splits share "000"/"001"
    assert leaky["sources_in_both_splits"] == 2


def test_mix_takes_counts_and_keeps_labels_readable(tmp_path: Path) -> None:
    a = _tiny_dataset(tmp_path / "a")
    b = _tiny_dataset(tmp_path / "b")
    path = write_mix([(a, "train", None), (b, "train", 2)], [(a, "val")], tmp_path / "mix", seed=0)
    train = iter_split(path, "train")
    assert len(train) == 4 + 2
    assert all(len(it.class_ids) == 1 for it in train)  # labels found beside the listed images
    assert len(iter_split(path, "val")) == 2


def test_cli_compose_augment_stats(tmp_path: Path) -> None:
    data = _tiny_dataset(tmp_path, n=4)

    def run(*args: str) -> dict:
        r = subprocess.run([sys.executable, "-m", "heyan.cli", "dataset", *args], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    comp = run("compose", "--backgrounds", str(data), "--gsd", "0.05", "--out", str(tmp_path / "cp"), "--n", "5",
               "--size", "160", "--seed", "1")
    assert comp["chips"] == 5 and comp["cutouts"] == {"boat": 2}
    assert sum(comp["boxes"].values()) >= 2  # big classes may not fit a 160 px chip at 5 cm/px
    augd = run("augment", comp["data"], "--out", str(tmp_path / "aug"))
    assert augd["images"] == 5
    stats = run("stats", augd["data"])
    assert stats["splits"]["train"]["images"] == 5


def test_compose_reports_bad_backgrounds_and_goes_on(tmp_path: Path) -> None:
    from heyan.datasets.compose import compose_dataset

    good = tmp_path / "good.jpg"
    cv2.imwrite(str(good), _lake(200, 300))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not a jpeg")
    wrong = tmp_path / "wrong.jpg"
    cv2.imwrite(str(wrong), _lake(100, 300))  # labels say 300x200
    bgs = [LabelledPhoto(p, 300, 200, np.zeros((0, 4)), []) for p in (good, broken, wrong)]
    chips, problems = compose_dataset(bgs, 0.05, {}, tmp_path / "out", 30, size=96, seed=3, progress=False)
    reasons = {Path(p.file).name: p.reason for p in problems}
    assert reasons["broken.jpg"] == "unreadable image"
    assert "300x100" in reasons["wrong.jpg"]
    assert 0 < len(chips) < 30 and all(c.image.is_file() for c in chips)
    again, _ = compose_dataset(bgs, 0.05, {}, tmp_path / "out2", 30, size=96, seed=3, progress=False)
    assert [c.image.name for c in again] == [c.image.name for c in chips]
    assert all(np.allclose(a.boxes, b.boxes) for a, b in zip(again, chips))  # seeded: the same chips
