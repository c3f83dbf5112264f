"""Floating litter rendered onto water: the boxes hold what was drawn, reflections and
look-alikes are never boxed, sizes follow the camera, the dataset is reproducible."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from heyan.datasets.litter.items import KINDS, reflection, render_item
from heyan.datasets.litter.scenes import SceneParams, background_from, bank_scene, generated_water, overhead_scene


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("side", [False, True])
def test_every_kind_renders_at_the_asked_size(kind, side):
    rng = np.random.default_rng(3)
    for length in (6.0, 24.0, 60.0):
        cut = render_item(rng, kind, length, side=side)
        ys, xs = np.nonzero(cut.label_alpha > 0.5)
        assert len(xs) > 0, f"{kind} at {length}px has nothing to box"
        extent = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        assert 0.35 * length <= extent <= 1.3 * length + 2, (kind, length, extent)
        assert cut.bgr.shape[:2] == cut.alpha.shape == cut.label_alpha.shape
        assert 0.0 <= cut.alpha.min() and cut.alpha.max() <= 1.0
        assert cut.name == "floating_debris" and cut.source == f"litter:{kind}"


def test_reflection_is_drawn_below_and_never_boxed():
    rng = np.random.default_rng(0)
    cut = render_item(rng, "bottle", 30, side=True)
    ref = reflection(cut, rng, 0.6)
    h = cut.alpha.shape[0]
    assert ref.alpha.shape[0] == 2 * h
    assert ref.alpha[h:].sum() > 0  # the mirror is drawn
    assert ref.label_alpha[h:].max() == 0  # and not labelled


def _box_holds_drawing(img_with: np.ndarray, img_without: np.ndarray, box: np.ndarray) -> bool:
    x1, y1, x2, y2 = box.astype(int)
    diff = np.abs(img_with[y1:y2, x1:x2].astype(int) - img_without[y1:y2, x1:x2].astype(int)).sum(-1)
    return bool((diff > 20).mean() > 0.2)


def test_overhead_scene_boxes_lie_on_what_was_pasted():
    water = np.full((400, 500, 3), (70, 100, 110), np.uint8)
    bg = background_from(water, "flat")
    for seed in range(6):
        s = overhead_scene(np.random.default_rng(seed), [bg], SceneParams(size=320, p_generated_water=0.0,
                                                                          p_distractors=0.0))
        assert s.image.shape == (320, 320, 3) and s.image.dtype == np.uint8
        assert len(s.boxes) == len(s.kinds)
        for b in s.boxes:
            assert 0 <= b[0] < b[2] <= 320 and 0 <= b[1] < b[3] <= 320
            assert b[2] - b[0] >= 4
            # Against the flat water, the drawn item stands out inside its box.
            assert _box_holds_drawing(s.image, np.full_like(s.image, (70, 100, 110)), b)


def test_scene_with_no_items_has_no_boxes_and_seeds_repeat():
    p = SceneParams(size=320, items=(0, 0))
    s = bank_scene(np.random.default_rng(5), [], p)
    assert len(s.boxes) == 0
    a = overhead_scene(np.random.default_rng(9), [], SceneParams(size=320))
    b = overhead_scene(np.random.default_rng(9), [], SceneParams(size=320))
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)


def test_bank_scene_items_shrink_toward_the_horizon():
    """The low camera's geometry: an item's size grows with its distance below the horizon."""
    below, sizes = [], []
    banks = [np.random.default_rng(1).integers(0, 255, (300, 400, 3), dtype=np.uint8)]
    p = SceneParams(size=320, items=(6, 6))
    for seed in range(40):
        s = bank_scene(np.random.default_rng(seed), banks, p)
        assert s.horizon is not None
        for b in s.boxes:
            assert b[3] > s.horizon  # nothing floats above the far waterline
            if b[2] - b[0] < p.max_item_px - 2:  # capped ones say nothing of the geometry
                below.append((b[1] + b[3]) / 2 - s.horizon)
                sizes.append(b[2] - b[0])
    assert len(sizes) > 50
    assert np.corrcoef(np.log(below), np.log(sizes))[0, 1] > 0.3


def test_generated_water_is_plain_water():
    w = generated_water(np.random.default_rng(0), 256)
    assert w.shape == (256, 256, 3)
    assert float(w.std()) < 40  # no structure that could pass for an object


def test_litter_command_writes_a_yolo_dataset(tmp_path):
    import cv2

    from heyan.cli import app

    bg = tmp_path / "bg.jpg"
    cv2.imwrite(str(bg), np.full((400, 600, 3), (60, 90, 100), np.uint8))
    out = tmp_path / "litter"
    res = CliRunner().invoke(app, ["dataset", "litter", "--out", str(out), "--overhead", str(bg), "--bank", str(bg),
                                   "--n", "12", "--n-val", "3", "--seed", "1"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output[res.output.rindex('{"data"'):].strip())  # after the progress bar
    assert summary["images"] == {"train": 12, "val": 3}
    labels = sorted((out / "labels" / "train").glob("*.txt"))
    assert len(labels) == 12 and len(list((out / "images" / "val").glob("*.jpg"))) == 3
    every = labels + sorted((out / "labels" / "val").glob("*.txt"))
    rows = [line.split() for f in every for line in f.read_text().splitlines() if line.strip()]
    assert rows and all(r[0] == "0" for r in rows)  # floating_debris only
    assert summary["objects"] == len(rows)
    assert (out / "data.yaml").is_file() and (out / "litter.json").is_file()
    res = CliRunner().invoke(app, ["dataset", "litter", "--out", str(tmp_path / "x"), "--overhead", str(tmp_path / "none")])
    assert res.exit_code != 0 and "no images" in res.output
