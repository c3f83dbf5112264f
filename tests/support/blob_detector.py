"""An ONNX-free detector for the edge runner's tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from heyan.vision.classes import class_names
from heyan.vision.detections import Detections

# The detector.model name that tests/support/edge_main.py answers with a BlobDetector.
BLOB_MODEL = "testing:blobs"


class BlobDetector:
    """Finds strongly saturated blobs (the generator's plastic) as ``floating_debris``.

    Tests inject it (``EdgeRunner(detector=...)``, or ``edge_main.py`` for a config whose
    ``detector.model`` is ``BLOB_MODEL``) so the runner runs end to end, deterministically,
    without an ONNX model. It lives under tests/: no production config can select it.
    """

    imgsz = 320

    def __init__(self, min_saturation: int = 150, min_area_px: int = 12, score: float = 0.9) -> None:
        self.min_saturation = min_saturation
        self.min_area_px = min_area_px
        self.score = score
        self.class_names = tuple(class_names())

    def predict_batch(self, images: Sequence[np.ndarray], **_: Any) -> list[Detections]:
        return [self(im) for im in images]

    def __call__(self, image: np.ndarray) -> Detections:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        mask = ((hsv[..., 1] >= self.min_saturation) & (hsv[..., 2] >= 80)).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes, scores = [], []
        for k in range(1, n):
            x, y, w, h, area = stats[k]
            if area >= self.min_area_px:
                boxes.append((x, y, x + w, y + h))
                scores.append(self.score)
        if not boxes:
            return Detections.empty()
        return Detections(np.array(boxes, np.float32), np.array(scores, np.float32), np.zeros(len(boxes), np.int64))
