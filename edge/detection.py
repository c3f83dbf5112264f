"""Where the detector looks: crops around what the gate (or the tracker) points at, or a
full pass over the ROI. One detector is shared by all cameras of a box.

Crops are square windows of at least the model's input size around each motion blob, so a
small piece of debris is seen at full resolution (a 1080p frame letterboxed to 320 px
would shrink it six times). A full pass is tiled over the ROI (``tiles``) or one
downscaled look at the frame (``whole``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from heyan.vision.detections import Detections
from heyan.vision.slicing import SliceParams, polygon_mask, sliced_predict

log = logging.getLogger("heyan.edge.detection")

Window = tuple[float, float, float, float]


class BatchDetector(Protocol):
    class_names: Sequence[str]
    imgsz: int

    def predict_batch(self, images: Sequence[np.ndarray]) -> list[Detections]: ...


def default_thresholds(detector: Any) -> dict[str, float]:
    """Per-class thresholds from the model card, else from vision.classes."""
    from heyan.vision.classes import CLASSES

    names = list(detector.class_names)
    spec = getattr(detector, "spec", None)
    card = getattr(spec, "thresholds", None)
    out: dict[str, float] = {}
    for i, n in enumerate(names):
        if card and i < len(card):
            out[n] = float(card[i])
        else:
            out[n] = next((c.threshold for c in CLASSES if c.name == n), 0.5)
    return out


def windows_around(boxes: np.ndarray | Sequence[np.ndarray], frame_w: int, frame_h: int, side: int) -> list[Window]:
    """A square window of at least ``side`` px centred on each box (2x the box when larger),
    shifted inside the frame; a box already inside an earlier window adds none."""
    out: list[Window] = []
    for b in boxes:
        x1, y1, x2, y2 = (float(v) for v in b)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        if any(a <= x1 and c >= x2 and bb <= y1 and d >= y2 for a, bb, c, d in out):
            continue
        s = max(side, 2 * max(x2 - x1, y2 - y1))
        sw, sh = min(s, frame_w), min(s, frame_h)
        a = min(max(0.0, cx - sw / 2), frame_w - sw)
        bb = min(max(0.0, cy - sh / 2), frame_h - sh)
        out.append((a, bb, a + sw, bb + sh))
    return out


class DetectorService:
    """Thread-safe wrapper: runs crops or full passes and keeps timing for health."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.class_names = tuple(detector.class_names)
        self.imgsz = int(getattr(detector, "imgsz", 320))
        self._lock = threading.Lock()
        self.runs = 0
        self.full_runs = 0  # of which full passes (the rest: crops)
        self.crops = 0
        self.seconds = 0.0
        self._recent: deque[float] = deque(maxlen=50)

    def swap(self, detector: Any) -> None:
        """Put another detector in place between two inferences (a site model from the
        server). Its classes must be the running ones: trackers and thresholds are per class."""
        if tuple(detector.class_names) != self.class_names:
            raise ValueError(f"the new model's classes {list(detector.class_names)} differ from the running model's; "
                             "install it in the box's configuration and restart instead")
        with self._lock:
            self.detector = detector
            self.imgsz = int(getattr(detector, "imgsz", 320))

    @property
    def mean_ms(self) -> float | None:
        return 1000 * float(np.mean(self._recent)) if self._recent else None

    def _timed(self, fn: Any, *args: Any) -> Any:
        with self._lock:  # 2 cores: one inference at a time is the fastest anyway
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                dt = time.perf_counter() - t0
                self.runs += 1
                self.seconds += dt
                self._recent.append(dt)

    def detect_windows(self, frame: np.ndarray, windows: list[Window]) -> Detections:
        crops, origins = [], []
        for a, b, c, d in windows:
            ia, ib, ic, id_ = int(a), int(b), int(round(c)), int(round(d))
            crops.append(frame[ib:id_, ia:ic])
            origins.append((ia, ib))
        self.crops += len(crops)
        results = self._timed(self.detector.predict_batch, crops)
        parts = [r.shifted(ox, oy) for r, (ox, oy) in zip(results, origins) if len(r)]
        if not parts:
            return Detections.empty()
        det = Detections.concat(parts)
        if len(windows) > 1:  # overlapping windows see the same object twice
            from heyan.vision.nms import nms

            det = det[nms(det.xyxy, det.scores, 0.5, class_ids=det.class_ids)]
        return det

    def detect_full(self, frame: np.ndarray, rois_px: list[np.ndarray], mode: str) -> Detections:
        h, w = frame.shape[:2]
        self.full_runs += 1
        if mode == "whole" or max(h, w) <= self.imgsz * 1.5:
            return self._timed(lambda im: self.detector.predict_batch([im])[0], frame)
        params = SliceParams(tile=self.imgsz, overlap=0.2, batch=4, full_frame=True)
        mask = polygon_mask(rois_px, w, h) if rois_px else None
        return self._timed(lambda im: sliced_predict(im, self.detector.predict_batch, params, tile_mask=mask), frame)
