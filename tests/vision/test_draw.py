"""``vision.draw.draw_detections``: draws on a copy, on the box edges, in the class colour."""

from __future__ import annotations

import numpy as np

from heyan.vision.classes import CLASSES, class_names
from heyan.vision.detections import Detections
from heyan.vision.draw import draw_detections

GREY = 90


def canvas(h: int = 400, w: int = 600) -> np.ndarray:
    return np.full((h, w, 3), GREY, np.uint8)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).any(axis=2)


def near_colour(img: np.ndarray, y: int, x: int, colour: tuple[int, int, int], tol: int = 30) -> bool:
    """Some pixel within 1 px of (x, y) has this colour (lines are anti-aliased)."""
    win = img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).astype(int)
    return bool((np.abs(win - np.array(colour)).max(axis=1) <= tol).any())


def test_draws_box_edges_on_a_copy():
    img = canvas()
    before = img.copy()
    det = Detections([[100, 150, 300, 330]], [0.87], [2])
    out = draw_detections(img, det, class_names())
    np.testing.assert_array_equal(img, before)  # input untouched
    assert out is not img and out.shape == img.shape and out.dtype == np.uint8
    diff = changed(out, before)
    # All four edges are drawn (sample points away from the label and the corners).
    for y, x in [(240, 100), (240, 300), (150, 200), (330, 200)]:
        assert diff[y, x], (y, x)
    # The inside of the box and the far background are untouched.
    assert not diff[170:310, 120:280].any()
    assert not diff[360:, :].any() and not diff[:, 330:].any()
    # The edge is drawn in the class's colour.
    assert near_colour(out, 240, 300, CLASSES[2].colour_bgr)
    assert not near_colour(out, 240, 300, CLASSES[0].colour_bgr)


def test_label_goes_above_or_below_the_box():
    det = Detections([[100, 150, 300, 330]], [0.5], [0])
    diff = changed(draw_detections(canvas(), det, class_names()), canvas())
    assert diff[120:149, 100:200].any()  # room above: label above the top edge
    top = Detections([[100, 0, 300, 200]], [0.5], [0])
    diff = changed(draw_detections(canvas(), top, class_names()), canvas())
    assert diff[202:240, 100:200].any()  # no room above: label below the box
    assert not diff[20:190, 120:280].any()


def test_each_box_drawn_and_nothing_for_no_detections():
    img = canvas()
    assert (draw_detections(img, Detections.empty(), class_names()) == img).all()
    det = Detections([[50, 100, 150, 200], [350, 100, 550, 300]], [0.9, 0.4], [0, 4])
    out = draw_detections(img, det, class_names())
    diff = changed(out, img)
    assert diff[150, 50] and diff[150, 150] and diff[200, 350] and diff[200, 550]
    assert near_colour(out, 150, 50, CLASSES[0].colour_bgr)
    assert near_colour(out, 200, 550, CLASSES[4].colour_bgr)


def test_unknown_class_and_custom_colours():
    img = canvas()
    det = Detections([[100, 150, 300, 330]], [0.9], [7])  # id beyond the names list
    out = draw_detections(img, det, ["a", "b"])
    assert changed(out, img)[240, 300]
    custom = draw_detections(img, Detections([[100, 150, 300, 330]], [0.9], [1]), ["a", "b"],
                             colours={"b": (1, 2, 3)}, thickness=3)
    assert tuple(custom[240, 301]) == (1, 2, 3)
