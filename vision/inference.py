"""One entry point for "detect on this image": whole for small images, sliced for large."""

from __future__ import annotations

import numpy as np

from heyan.vision.detections import Detections
from heyan.vision.detector import OnnxDetector
from heyan.vision.slicing import SliceParams, SliceReport, TileSelector, sliced_predict

# Photos whose longer side is at most this run whole. A 1280x720 camera frame is sliced:
# shrunk whole to a 320-px input, floating litter of 5-40 px is lost.
UNTILED_MAX_SIDE = 720


def detect_image(image: np.ndarray, detector: OnnxDetector, params: SliceParams, tile: bool = True,
                 untiled_max_side: int = UNTILED_MAX_SIDE, tile_mask: np.ndarray | None = None,
                 report: list[SliceReport] | None = None, tile_selector: TileSelector | None = None) -> Detections:
    """Tiles only pay off when the image is much larger than the model input: a 1080p frame
    at 320 px loses small objects, a 640×480 photo does not need 12 tiles."""
    if tile and max(image.shape[:2]) > untiled_max_side:
        return sliced_predict(image, detector.predict_batch, params, tile_mask=tile_mask, report=report,
                              tile_selector=tile_selector)
    return detector(image)
