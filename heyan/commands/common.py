"""Helpers shared by commands: settings -> detector, slicing parameters."""

from __future__ import annotations

from heyan.settings import get_settings
from vision.detector import OnnxDetector
from vision.slicing import SliceParams


def load_detector(model: str | None, conf: float | None = None) -> OnnxDetector:
    from models.registry import load_detector as _load

    s = get_settings()
    return _load(model or s.default_model, extra=s.zoo_dir, threads=s.ort_threads, conf=conf)


def slice_params(detector: OnnxDetector) -> SliceParams:
    s = get_settings()
    return SliceParams(tile=s.tile_size or detector.imgsz, overlap=s.tile_overlap, batch=s.tile_batch,
                       full_frame=s.full_frame_pass, merge=s.merge, match_threshold=s.merge_iou)
