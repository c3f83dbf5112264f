"""Large survey-size photos (e.g. 20 MP, 5280×3956) with ground truth, for benchmarks and
sliced-inference tests. Rendering a whole 20 MP scene in one piece needs gigabytes of
float buffers, so the photo is a mosaic of independently rendered nadir chips at one
ground sampling distance; each chip's boxes are offset into the photo."""

from __future__ import annotations

import numpy as np

from heyan.datasets.synthetic.scenes import SceneSample, render_drone_scene


def render_large_photo(rng: np.random.Generator, width: int = 5280, height: int = 3956, chip: int = 660,
                       gsd_m: float = 0.027, max_objects_per_chip: int = 3) -> SceneSample:
    image = np.zeros((height, width, 3), np.uint8)
    boxes: list[np.ndarray] = []
    cids: list[np.ndarray] = []
    for y in range(0, height, chip):
        for x in range(0, width, chip):
            h, w = min(chip, height - y), min(chip, width - x)
            s = render_drone_scene(rng, size=chip, gsd_m=gsd_m * rng.uniform(0.9, 1.1), oblique=False,
                                   max_objects=max_objects_per_chip)
            image[y : y + h, x : x + w] = s.image[:h, :w]
            if len(s.boxes):
                b = s.boxes.copy()
                # Keep only objects that lie (almost) wholly inside the part of the chip used.
                inside = (b[:, 2] <= w + 1) & (b[:, 3] <= h + 1)
                b = b[inside]
                # "Almost" allows one pixel past the cut: clip so no box leaves the photo.
                b[:, 2] = np.minimum(b[:, 2], w)
                b[:, 3] = np.minimum(b[:, 3], h)
                b = b + np.array([x, y, x, y], np.float32)
                boxes.append(b)
                cids.append(s.class_ids[inside])
    allb = np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32)
    allc = np.concatenate(cids) if cids else np.zeros((0,), np.int64)
    return SceneSample(image, allb, allc, "nadir", gsd_m)
