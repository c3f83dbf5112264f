"""``datasets.synthetic``: seeded scene rendering (drone, fixed camera, large survey photo)
with ground-truth boxes. Sizes are kept small: the tests check contracts, not realism.

``textures.fractal_noise`` must interpolate only the window it returns (see the memory test
at the end): resizing the whole noise grid took gigabytes at fine ground resolution."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from heyan.datasets.synthetic import SceneSample, large, render_camera_scene, render_drone_scene, render_scene, textures
from heyan.datasets.synthetic.large import render_large_photo
from heyan.vision.classes import class_names

NC = len(class_names())
MIN_BOX_PX = 4


def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def check_sample(s: SceneSample, w: int, h: int) -> None:
    assert isinstance(s, SceneSample)
    assert s.image.shape == (h, w, 3) and s.image.dtype == np.uint8
    assert s.boxes.ndim == 2 and s.boxes.shape[1] == 4
    assert len(s.boxes) == len(s.class_ids)
    if len(s.boxes):
        b = s.boxes
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all()
        assert (b[:, 2] <= w).all() and (b[:, 3] <= h).all()
        assert (b[:, 2] - b[:, 0] >= MIN_BOX_PX).all() and (b[:, 3] - b[:, 1] >= MIN_BOX_PX).all()
        assert ((s.class_ids >= 0) & (s.class_ids < NC)).all()
        assert np.issubdtype(s.class_ids.dtype, np.integer)


def same(a: SceneSample, b: SceneSample) -> bool:
    return (a.image.tobytes() == b.image.tobytes() and np.array_equal(a.boxes, b.boxes)
            and np.array_equal(a.class_ids, b.class_ids) and a.view == b.view)


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize(
    "render, SEEDS",
    [
        (lambda g: render_drone_scene(g, size=160), (7, 8)),
        (lambda g: render_camera_scene(g, size=160), (4, 14)),
        (lambda g: render_scene(g, size=160, camera_fraction=0.5), (124, 121)),
    ],
    ids=["drone", "camera", "scene"],
)
def test_same_seed_same_scene_and_different_seed_different(render, SEEDS):
    a, b = render(rng(SEEDS[0])), render(rng(SEEDS[0]))
    assert same(a, b)
    c = render(rng(SEEDS[1]))
    assert a.image.tobytes() != c.image.tobytes()


def test_seed_sequences_are_independent_streams():
    # The dataset derives each image's generator from [seed, index]: neighbours differ.
    a = render_drone_scene(rng([0, 1]), size=160)
    b = render_drone_scene(rng([0, 2]), size=160)
    assert a.image.tobytes() != b.image.tobytes()
    assert same(a, render_drone_scene(rng([0, 1]), size=160))


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize("seed", [1, 4, 5, 7, 8, 11, 124])
def test_drone_scenes_have_valid_boxes(seed):
    s = render_drone_scene(rng(seed), size=160)
    check_sample(s, 160, 160)
    assert s.view in ("nadir", "oblique")
    assert s.gsd_m is not None and 0.01 <= s.gsd_m <= 0.7


@pytest.mark.parametrize("oblique, view", [(False, "nadir"), (True, "oblique")])
def test_drone_view_and_gsd_can_be_forced(oblique, view):
    s = render_drone_scene(rng(5), size=200, gsd_m=0.15, oblique=oblique)
    assert s.view == view and s.gsd_m == 0.15
    check_sample(s, 200, 200)


def test_drone_scenes_produce_objects_of_several_classes():
    seen: set[int] = set()
    n = 0
    for seed in range(10):
        s = render_drone_scene(rng(seed), size=160, gsd_m=0.15, max_objects=8)
        check_sample(s, 160, 160)
        seen |= set(s.class_ids.tolist())
        n += len(s.boxes)
    assert n >= 10 and len(seen) >= 4


def test_max_objects_zero_gives_no_boxes():
    for seed in (1, 7, 8):
        s = render_drone_scene(rng(seed), size=160, max_objects=0)
        assert len(s.boxes) == 0 and s.boxes.shape == (0, 4)
    s = render_camera_scene(rng(0), size=160, max_objects=0)
    assert len(s.boxes) == 0


@pytest.mark.parametrize("seed", [0, 4, 9, 10])
def test_camera_scenes_have_valid_boxes(seed):
    s = render_camera_scene(rng(seed), size=160)
    check_sample(s, 160, 160)
    assert s.view == "camera" and s.gsd_m is None


def test_camera_scenes_mostly_have_a_brighter_sky_on_top():
    brighter = 0
    for seed in (0, 1, 4, 7, 9, 10, 12, 14):
        grey = render_camera_scene(rng(seed), size=160).image.astype(np.float32).mean(axis=2)
        brighter += grey[:16].mean() > grey[-16:].mean()
    assert brighter >= 6


def test_render_scene_camera_fraction_selects_the_view():
    assert render_scene(rng(1), size=160, camera_fraction=1.0).view == "camera"
    assert render_scene(rng(4), size=160, camera_fraction=0.0).view in ("nadir", "oblique")


# --------------------------------------------------------------------------- large photos


def test_large_photo_small_size_is_valid_and_deterministic():
    a = render_large_photo(rng(7), width=600, height=250, chip=300, gsd_m=0.15)
    check_sample(a, 600, 250)
    assert a.view == "nadir" and a.gsd_m == 0.15
    b = render_large_photo(rng(7), width=600, height=250, chip=300, gsd_m=0.15)
    assert same(a, b)


def test_large_photo_1320x990_mosaic_has_boxes_in_the_image():
    s = render_large_photo(rng(3), width=1320, height=990, gsd_m=0.15, max_objects_per_chip=4)
    check_sample(s, 1320, 990)
    assert len(s.boxes) >= 1
    # The mosaic is filled: no chip left black.
    for y in (0, 660):
        for x in (0, 660):
            assert s.image[y : y + 330, x : x + 660].mean() > 10


def test_large_photo_clips_boxes_of_cut_chips_to_the_photo(monkeypatch):
    """The last row/column of chips is cut to fit the photo; an object ending one pixel past
    the cut is still kept, so its box must be clipped to the photo, not run past it."""

    def fake_chip(g, size, gsd_m, oblique, max_objects):
        img = np.full((size, size, 3), 100, np.uint8)
        return SceneSample(img, np.array([[10, 300, 60, 331], [100, 100, 140, 140]], np.float32),
                           np.array([0, 1]), "nadir", gsd_m)

    monkeypatch.setattr(large, "render_drone_scene", fake_chip)
    s = large.render_large_photo(rng(0), width=660, height=990, chip=660)  # bottom chip: 330 rows used
    assert len(s.boxes) == 4
    check_sample(s, 660, 990)


class _ResizeGuard:
    """Stands in for ``cv2`` inside ``textures``: refuses any resize much larger than the
    noise being made, before it allocates."""

    def __init__(self, limit_px: int) -> None:
        self.limit_px = limit_px

    def __getattr__(self, name):
        return getattr(cv2, name)

    def resize(self, src, dsize, *args, **kwargs):
        if dsize and dsize[0] * dsize[1] > self.limit_px:
            raise MemoryError(f"resize to {dsize[0]}x{dsize[1]} for a small noise field")
        return cv2.resize(src, dsize, *args, **kwargs)


def test_fractal_noise_memory_does_not_grow_with_feature_scale(monkeypatch):
    h = w = 160
    monkeypatch.setattr(textures, "cv2", _ResizeGuard(limit_px=64 * h * w))
    out = textures.fractal_noise(rng(0), h, w, scale_px=80 / 0.012, octaves=2)
    assert out.shape == (h, w) and np.isfinite(out).all()
