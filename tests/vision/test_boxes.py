"""The one chip rule (vision.boxes), and that both kinds of chips follow it."""

from __future__ import annotations

import numpy as np

from heyan.datasets.tiling import ChipParams, chip_boxes
from heyan.serve.label_export import boxes_in_chip
from heyan.vision.boxes import MIN_SIDE_PX, boxes_in_window, clip_boxes

BOXES = np.array([
    [10, 10, 12, 12],      # a 2 px object wholly inside: kept, whatever its size
    [90, 10, 130, 50],     # cut by the right edge, a quarter inside: dropped
    [80, 60, 110, 90],     # cut by the right edge, two thirds inside: kept, clipped
    [98, 20, 140, 21],     # a sliver inside (2 px wide): dropped
    [200, 200, 220, 220],  # outside: dropped
    [30, 30, 30, 40],      # no area: dropped
], np.float64)
WINDOW = (0, 0, 100, 100)


def test_the_chip_rule() -> None:
    keep, inside = boxes_in_window(BOXES, WINDOW)
    assert keep.tolist() == [0, 2]
    assert inside.tolist() == [[10, 10, 12, 12], [80, 60, 100, 90]]
    keep, inside = boxes_in_window(BOXES, (50, 50, 150, 150))
    assert keep.tolist() == [2] and inside.tolist() == [[30, 10, 60, 40]]
    assert boxes_in_window(np.zeros((0, 4)), WINDOW)[0].tolist() == []
    assert MIN_SIDE_PX > 2  # the 2 px box above is kept for being inside, not for its size


def test_clip() -> None:
    assert clip_boxes(np.array([[-5, 10, 50, 120]]), WINDOW).tolist() == [[0, 10, 50, 100]]


def test_training_chips_and_reviewed_chips_agree() -> None:
    names = [f"b{i}" for i in range(len(BOXES))]
    for window in (WINDOW, (50, 50, 150, 150), (5, 5, 105, 105)):
        b, n = chip_boxes(BOXES.astype(np.float32), names, np.array(window), ChipParams())
        x0, y0, x2, y2 = window
        served = boxes_in_chip([tuple(map(float, r)) for r in BOXES], (x0, y0, x2 - x0, y2 - y0))
        assert n == [names[i] for i, _ in served]
        assert np.allclose(b, np.array([bb for _, bb in served], np.float32).reshape(-1, 4))
