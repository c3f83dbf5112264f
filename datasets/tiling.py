"""Cut labelled photos into training chips on the same grid sliced inference uses
(`vision.slicing.tile_grid`), so the model learns objects at the scale it will see them.
Boxes are clipped to each chip; remnants too small to learn from are dropped
(``vision.boxes.boxes_in_window``: the same rule as chips of reviewed tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from heyan.datasets.labelled import LabelledPhoto, Problem
from heyan.vision.boxes import MIN_SIDE_PX, MIN_VISIBLE, boxes_in_window
from heyan.vision.slicing import tile_grid


@dataclass(frozen=True)
class ChipParams:
    size: int = 320
    overlap: float = 0.2
    min_visible: float = MIN_VISIBLE  # keep a clipped box if at least this share of its area is in the chip
    min_side_px: float = MIN_SIDE_PX  # ... and both its sides are at least this long
    keep_empty: float = 0.1  # share of chips without boxes kept as background examples


def chip_boxes(boxes: np.ndarray, names: list[str], window: np.ndarray, p: ChipParams) -> tuple[np.ndarray, list[str]]:
    """Boxes (xyxy, photo pixels) labelled in ``window``, in chip pixels, with their names."""
    keep, out = boxes_in_window(boxes, window, p.min_visible, p.min_side_px)
    return out.astype(np.float32), [names[i] for i in keep]


def tile_photos(photos: list[LabelledPhoto], out: Path, p: ChipParams, seed: int = 0
                ) -> tuple[list[LabelledPhoto], list[Problem]]:
    """Write chips as JPEGs into ``out`` and return them as labelled photos."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    chips: list[LabelledPhoto] = []
    problems: list[Problem] = []
    for photo in photos:
        image = cv2.imread(str(photo.image), cv2.IMREAD_COLOR)
        if image is None:
            problems.append(Problem(str(photo.image), "unreadable image"))
            continue
        h, w = image.shape[:2]
        if (w, h) != (photo.width, photo.height):
            problems.append(Problem(str(photo.image), f"labels are for {photo.width}x{photo.height}, the image is {w}x{h}"))
            continue
        for k, win in enumerate(tile_grid(w, h, p.size, p.overlap)):
            boxes, names = chip_boxes(photo.boxes, photo.names, win, p)
            if not names and rng.random() >= p.keep_empty:
                continue
            x1, y1, x2, y2 = (int(v) for v in win)
            name = out / f"{photo.image.stem}__{k:03d}.jpg"
            cv2.imwrite(str(name), image[y1:y2, x1:x2], [cv2.IMWRITE_JPEG_QUALITY, 95])
            chips.append(LabelledPhoto(name, x2 - x1, y2 - y1, boxes, names))
    return chips, problems
