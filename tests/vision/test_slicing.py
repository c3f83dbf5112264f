"""``vision.slicing``: tile grids, tile selection by a mask, merging across tiles, and
``sliced_predict`` with a fake batch detector that finds bright-red rectangles."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from heyan.vision.detections import Detections
from heyan.vision.slicing import (
    SliceParams,
    SliceReport,
    merge_detections,
    polygon_mask,
    sliced_predict,
    tile_grid,
    tiles_touching_mask,
)


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# --------------------------------------------------------------------------- tile_grid


@pytest.mark.parametrize(
    "w, h, tile, overlap",
    [(1000, 700, 320, 0.2), (5280, 3956, 640, 0.25), (641, 640, 640, 0.0), (333, 1234, 100, 0.5), (320, 321, 320, 0.2)],
)
def test_tile_grid_covers_every_pixel_with_full_size_tiles(w, h, tile, overlap):
    grid = tile_grid(w, h, tile, overlap)
    assert grid.ndim == 2 and grid.shape[1] == 4
    cover = np.zeros((h, w), np.int32)
    for x1, y1, x2, y2 in grid:
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert (x2 - x1, y2 - y1) == (tile, tile)  # edge tiles are shifted back, not cut
        cover[y1:y2, x1:x2] += 1
    assert (cover > 0).all()
    assert len({tuple(t) for t in grid.tolist()}) == len(grid)  # no duplicate tile
    # Neighbouring tiles overlap by at least the requested fraction (not much more in the
    # interior); a step larger than the tile would leave gaps.
    xs = sorted({int(t[0]) for t in grid})
    steps = np.diff(xs)
    if len(steps):
        assert steps.max() <= round(tile * (1 - overlap))


def test_tile_grid_single_tile_for_small_images():
    grid = tile_grid(200, 150, 320, 0.2)
    assert grid.tolist() == [[0, 0, 200, 150]]
    assert tile_grid(320, 320, 320, 0.2).tolist() == [[0, 0, 320, 320]]


def test_tile_grid_one_dimension_small():
    grid = tile_grid(1000, 100, 320, 0.2)
    assert (grid[:, 1] == 0).all() and (grid[:, 3] == 100).all()
    assert grid[:, 0].min() == 0 and grid[:, 2].max() == 1000


@pytest.mark.parametrize("tile, overlap", [(0, 0.2), (-5, 0.2), (320, 1.0), (320, -0.1), (320, 1.5)])
def test_tile_grid_bad_args(tile, overlap):
    with pytest.raises(ValueError):
        tile_grid(1000, 1000, tile, overlap)


# --------------------------------------------------------------------------- tile selection


def exact_touching(grid: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.array([mask[y1:y2, x1:x2].any() for x1, y1, x2, y2 in grid])


def test_tiles_touching_full_resolution_band_is_exact():
    w, h = 1200, 900
    grid = tile_grid(w, h, 256, 0.25)
    mask = np.zeros((h, w), bool)
    mask[430:470, :] = True  # a horizontal band (a river) across the image
    keep = tiles_touching_mask(grid, mask, w, h)
    np.testing.assert_array_equal(keep, exact_touching(grid, mask))
    assert 0 < keep.sum() < len(grid)
    # Each kept tile's rows reach the band; each dropped tile's rows do not.
    for (_x1, y1, _x2, y2), k in zip(grid, keep):
        assert k == (y1 < 470 and y2 > 430)


def test_tiles_touching_single_pixel_and_empty_masks():
    w, h = 1000, 800
    grid = tile_grid(w, h, 300, 0.2)
    mask = np.zeros((h, w), bool)
    assert not tiles_touching_mask(grid, mask, w, h).any()
    mask[h - 1, w - 1] = True  # corner pixel: only tiles containing it
    keep = tiles_touching_mask(grid, mask, w, h)
    np.testing.assert_array_equal(keep, exact_touching(grid, mask))
    assert keep.sum() == 1
    assert tiles_touching_mask(grid, np.ones((h, w), bool), w, h).all()


def test_tiles_touching_low_resolution_polygon_mask():
    w, h = 1600, 1200
    grid = tile_grid(w, h, 320, 0.2)
    band = np.array([[0, 600], [w, 640], [w, 700], [0, 660]], np.float64)  # slightly slanted band
    low = polygon_mask([band], w, h, scale=0.125)
    assert low.shape == (150, 200) and low.dtype == bool
    full = np.zeros((h, w), np.uint8)
    cv2.fillPoly(full, [band.astype(np.int32).reshape(-1, 1, 2)], 1)
    exact = exact_touching(grid, full.astype(bool))
    keep = tiles_touching_mask(grid, low, w, h)
    # Never miss a tile the band touches; only a tile within a mask cell (8 px) of it may be added.
    assert (keep >= exact).all()
    assert 0 < keep.sum() < len(grid)
    for (x1, y1, x2, y2), k, e in zip(grid, keep, exact):
        if k and not e:
            near = full[max(0, y1 - 16) : y2 + 16, max(0, x1 - 16) : x2 + 16]
            assert near.any()


def test_polygon_mask_rasterises_where_the_polygon_is():
    mask = polygon_mask([np.array([[80, 80], [160, 80], [160, 160], [80, 160]])], 400, 320, scale=0.25)
    assert mask.shape == (80, 100)
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 40, 20, 40)
    assert not polygon_mask([], 400, 320).any()


# --------------------------------------------------------------------------- merge


def two_halves() -> Detections:
    # One object cut by a tile border into two overlapping boxes (IoS 0.67), plus a box of
    # another class on the same place that must survive either merge.
    return Detections(
        [[0, 0, 100, 40], [60, 0, 120, 40], [10, 5, 110, 35]],
        [0.9, 0.8, 0.7],
        [0, 0, 1],
        data={"tile": np.array([3, 4, 5], np.int32)},
    )


def test_merge_nmm_unions_the_parts():
    out = merge_detections(two_halves(), SliceParams(merge="nmm"))
    assert len(out) == 2
    m = out[out.class_ids == 0]
    np.testing.assert_allclose(m.xyxy, [[0, 0, 120, 40]])
    assert m.scores[0] == pytest.approx(0.9)
    assert m.data["tile"].tolist() == [3]  # the kept (best) box's data follows
    np.testing.assert_allclose(out[out.class_ids == 1].xyxy, [[10, 5, 110, 35]])


def test_merge_nms_keeps_the_best_part_only():
    out = merge_detections(two_halves(), SliceParams(merge="nms"))
    assert len(out) == 2
    np.testing.assert_allclose(out[out.class_ids == 0].xyxy, [[0, 0, 100, 40]])


def test_merge_respects_the_threshold_and_rejects_unknown_modes():
    d = two_halves()
    assert len(merge_detections(d, SliceParams(merge="nmm", match_threshold=0.7))) == 3
    assert len(merge_detections(Detections.empty(), SliceParams())) == 0
    with pytest.raises(ValueError, match="merge"):
        merge_detections(d, SliceParams(merge="wbf"))


# --------------------------------------------------------------------------- sliced_predict

RED = (0, 0, 255)


class RedFinder:
    """A batch detector: bright-red connected regions of each image, one box each.
    Regions cut by the image border get a lower score, as a real detector is less sure of
    a partial object; records every batch it sees."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, ...]]] = []

    def __call__(self, images: Sequence[np.ndarray]) -> list[Detections]:
        self.batches.append([im.shape for im in images])
        out = []
        for im in images:
            b, g, r = (im[..., i].astype(np.int16) for i in range(3))
            mask = ((r > 150) & (g < 90) & (b < 90)).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            boxes, scores = [], []
            h, w = mask.shape
            for x, y, bw, bh, area in stats[1:]:
                if area < 4:
                    continue
                boxes.append([x, y, x + bw, y + bh])
                cut = x == 0 or y == 0 or x + bw == w or y + bh == h
                scores.append(0.5 if cut else 0.9)
            out.append(Detections(np.array(boxes, np.float32).reshape(-1, 4), scores, np.zeros(len(boxes))))
        return out


def scene(w: int, h: int, boxes: list[tuple[int, int, int, int]], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(40, 120, (h, w, 3), dtype=np.uint8)  # grey-green noise, nothing red
    img[..., 2] //= 2
    for x1, y1, x2, y2 in boxes:
        img[y1:y2, x1:x2] = RED
    return img


def match(found: Detections, truth: list[tuple[int, int, int, int]]) -> list[float]:
    return [max((iou(t, b) for b in found.xyxy), default=0.0) for t in truth]


@pytest.mark.parametrize("full_frame", [False, True])
def test_object_straddling_a_tile_border_comes_out_as_one_box(full_frame):
    w, h = 1200, 900
    params = SliceParams(tile=320, overlap=0.2, batch=4, full_frame=full_frame, merge="nmm")
    grid = tile_grid(w, h, params.tile, params.overlap)
    # Wider than the overlap, centred on the right edge of the first tile column: no tile sees it whole.
    x_edge = int(grid[0, 2])
    truth = [(x_edge - 80, 100, x_edge + 80, 160)]
    img = scene(w, h, truth)
    out = sliced_predict(img, RedFinder(), params)
    assert len(out) == 1
    assert iou(out.xyxy[0], truth[0]) > 0.9
    np.testing.assert_allclose(out.xyxy[0], truth[0], atol=6)


def test_straddling_object_with_nms_is_cut():
    w, h = 1200, 900
    params = SliceParams(tile=320, overlap=0.2, full_frame=False, merge="nms")
    x_edge = int(tile_grid(w, h, 320, 0.2)[0, 2])
    truth = (x_edge - 80, 100, x_edge + 80, 160)
    out = sliced_predict(scene(w, h, [truth]), RedFinder(), params)
    # NMS throws the other part away: what is left is smaller than the object.
    assert len(out) == 1 and iou(out.xyxy[0], truth) < 0.8


def test_every_object_is_found_once():
    w, h = 1500, 1100
    truth = [(30, 40, 70, 80), (300, 290, 360, 330), (700, 500, 790, 540), (1400, 1000, 1480, 1090),
             (1010, 100, 1040, 250), (500, 1020, 540, 1099), (250, 700, 340, 760)]
    params = SliceParams(tile=320, overlap=0.2, batch=3, full_frame=True)
    finder = RedFinder()
    report: list[SliceReport] = []
    out = sliced_predict(scene(w, h, truth, seed=1), finder, params, report=report)
    assert len(out) == len(truth)
    assert min(match(out, truth)) > 0.85
    assert (out.data["tile"] >= -1).all()
    # Tiles went through in batches of at most 3, plus one downscaled full frame.
    grid = tile_grid(w, h, 320, 0.2)
    tile_shapes = [s for b in finder.batches for s in b if s[:2] == (320, 320)]
    assert len(tile_shapes) == len(grid)
    assert all(len(b) <= 3 for b in finder.batches)
    full = [s for b in finder.batches for s in b if s[:2] != (320, 320)]
    assert len(full) == 1 and max(full[0][:2]) == 320
    assert report == [SliceReport(len(grid), len(grid), True)]


def test_tile_mask_skips_tiles_and_the_report_counts_them():
    w, h = 1500, 1100
    inside = (400, 520, 460, 560)  # in the band
    outside = (1200, 60, 1260, 100)  # far from it
    img = scene(w, h, [inside, outside], seed=2)
    mask = np.zeros((h // 8, w // 8), bool)
    mask[500 // 8 : 600 // 8, :] = True
    params = SliceParams(tile=320, overlap=0.2, full_frame=False)
    finder = RedFinder()
    report: list[SliceReport] = []
    out = sliced_predict(img, finder, params, tile_mask=mask, report=report)
    grid = tile_grid(w, h, 320, 0.2)
    expected_run = int(tiles_touching_mask(grid, mask, w, h).sum())
    assert report[0].tiles_total == len(grid)
    assert report[0].tiles_run == expected_run == sum(len(b) for b in finder.batches)
    assert 0 < expected_run < len(grid)
    assert match(out, [inside])[0] > 0.9
    assert match(out, [outside])[0] == 0.0
    # A mask touching no tile: nothing runs at all, not even the full frame.
    finder = RedFinder()
    report.clear()
    out = sliced_predict(img, finder, SliceParams(tile=320), tile_mask=np.zeros_like(mask), report=report)
    assert len(out) == 0 and finder.batches == []
    assert report[0].tiles_run == 0 and report[0].full_frame is False


def test_full_frame_pass_finds_an_object_larger_than_a_tile():
    w, h = 1600, 1200
    big = (300, 250, 1000, 750)  # 700 x 500 px, larger than a 320 px tile both ways
    img = scene(w, h, [big], seed=3)
    report: list[SliceReport] = []
    out = sliced_predict(img, RedFinder(), SliceParams(tile=320, overlap=0.2, full_frame=True), report=report)
    assert report[0].full_frame
    best = max(range(len(out)), key=lambda i: iou(out.xyxy[i], big))
    assert iou(out.xyxy[best], big) > 0.95
    assert out.data["tile"][best] == -1  # the full-frame box led the merge
    # No tile alone sees the object whole.
    tiles_only = sliced_predict(img, RedFinder(), SliceParams(tile=320, overlap=0.2, full_frame=False, merge="nms"))
    assert max(match(tiles_only, [big])) < 0.5


def test_full_frame_drops_tiny_boxes_and_small_images_use_one_tile():
    # A 6 px object in a 3200 px image is < 1 px in the full frame: only its tile finds it.
    w, h = 3200, 960
    truth = [(1000, 500, 1006, 506)]
    out = sliced_predict(scene(w, h, truth, seed=4), RedFinder(), SliceParams(tile=320, batch=8))
    assert len(out) == 1 and out.data["tile"][0] >= 0
    finder = RedFinder()
    report: list[SliceReport] = []
    small = scene(300, 200, [(10, 10, 50, 50)])
    out = sliced_predict(small, finder, SliceParams(tile=320), report=report)
    assert finder.batches == [[(200, 300, 3)]]  # one tile, no extra full-frame pass
    assert report == [SliceReport(1, 1, False)]
    np.testing.assert_allclose(out.xyxy, [[10, 10, 50, 50]])


def test_merge_nmm_never_unions_a_weak_box_into_a_strong_one():
    """A ripple scored 0.06 beside a bottle scored 0.8 must not stretch the bottle's box:
    it is suppressed. Two halves of one object (similar scores) are still joined."""
    d = Detections(np.array([[100, 100, 120, 110], [110, 100, 160, 130], [0, 0, 50, 40], [40, 0, 90, 40]], np.float32),
                   np.array([0.8, 0.06, 0.7, 0.6], np.float32), np.array([0, 0, 1, 1]))
    out = merge_detections(d, SliceParams(merge="nmm", match_metric="ios", match_threshold=0.1))
    assert len(out) == 2
    np.testing.assert_allclose(out[out.class_ids == 0].xyxy, [[100, 100, 120, 110]])
    np.testing.assert_allclose(out[out.class_ids == 1].xyxy, [[0, 0, 90, 40]])
    # The old behaviour stays reachable: ratio 0 unions everything in the group.
    old = merge_detections(d, SliceParams(merge="nmm", match_metric="ios", match_threshold=0.1,
                                          union_min_score_ratio=0.0))
    np.testing.assert_allclose(old[old.class_ids == 0].xyxy, [[100, 100, 160, 130]])
