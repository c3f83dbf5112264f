"""Box geometry shared by every layer: clipping to a window, overlap (``vision.nms``), and
the rule for which boxes a crop of a photo is labelled with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A box cut by a window's edge is labelled in it when this share of its area is inside ...
MIN_VISIBLE = 0.4
# ... and both of its visible sides are at least this long (pixels): a sliver teaches nothing.
MIN_SIDE_PX = 4.0


def clip_boxes(boxes: np.ndarray, window: Sequence[float]) -> np.ndarray:
    """Boxes (N×4 xyxy) clipped to ``window`` (x1, y1, x2, y2)."""
    x1, y1, x2, y2 = (float(v) for v in window)
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.stack([np.clip(b[:, 0], x1, x2), np.clip(b[:, 1], y1, y2),
                     np.clip(b[:, 2], x1, x2), np.clip(b[:, 3], y1, y2)], 1)


def boxes_in_window(boxes: np.ndarray, window: Sequence[float], min_visible: float = MIN_VISIBLE,
                    min_side_px: float = MIN_SIDE_PX) -> tuple[np.ndarray, np.ndarray]:
    """Which boxes a crop ``window`` (x1, y1, x2, y2) of the photo is labelled with, and
    where: (indices into ``boxes``, boxes clipped and shifted into window pixels).

    The one chip rule of training chips and reviewed-ticket chips: a box wholly inside is
    kept whatever its size (leaving a small real object unlabelled would teach the model it
    is background); a box cut by the edge is kept when at least ``min_visible`` of its area
    and ``min_side_px`` of both sides are inside."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(b) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 4), np.float64)
    clipped = clip_boxes(b, window)
    vw, vh = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    inside = np.all(clipped == b, axis=1)
    area = np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-9)
    enough = (vw >= min_side_px) & (vh >= min_side_px) & (vw * vh >= min_visible * area)
    keep = np.flatnonzero((vw > 0) & (vh > 0) & (inside | enough))
    x1, y1 = float(window[0]), float(window[1])
    return keep, clipped[keep] - np.array([x1, y1, x1, y1])
