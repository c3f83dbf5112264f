"""Sliced inference for large photos, as plain steps (SAHI's idea): cut a tile grid,
optionally keep only tiles that touch a region of interest, run the tiles through the
detector in batches, add an optional downscaled full-frame pass for objects larger than a
tile, and merge the boxes across tiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from heyan.vision.detections import Detections
from heyan.vision.nms import greedy_nmm, nms

# A batch detector: list of BGR images -> one Detections per image (``OnnxDetector.predict_batch``).
BatchDetector = Callable[[Sequence[np.ndarray]], list[Detections]]


@dataclass(frozen=True)
class SliceParams:
    tile: int = 320
    overlap: float = 0.2
    batch: int = 4
    full_frame: bool = True
    merge: str = "nmm"  # "nmm" (greedy merging, joins objects cut by tile borders) or "nms"
    match_metric: str = "ios"
    match_threshold: float = 0.5
    # Full-frame boxes smaller than this (px in the full frame's input) are dropped: the
    # tiles see small objects at full resolution, the downscaled pass only guesses.
    full_frame_min_px: float = 8.0
    # Greedy merging unions a group's boxes only with members scoring at least this share
    # of the group's best. The halves of an object cut by a tile border score alike; a
    # weak neighbour (a ripple beside a bottle) is suppressed instead of stretching the
    # strong box until it no longer matches the object (measured: at a 0.05 threshold the
    # unconditional union lost a third of the AP of NMS on a bridge camera).
    union_min_score_ratio: float = 0.5


def tile_grid(width: int, height: int, tile: int, overlap: float) -> np.ndarray:
    """Tile windows (x1, y1, x2, y2) covering the image; the last row/column is shifted
    back to end at the border so every tile has the full size (when the image allows)."""
    if tile <= 0:
        raise ValueError("tile size must be positive")
    if not 0 <= overlap < 1:
        raise ValueError("overlap must be in [0, 1)")
    step = max(1, int(round(tile * (1 - overlap))))

    def starts(n: int) -> list[int]:
        if n <= tile:
            return [0]
        s = list(range(0, n - tile, step))
        s.append(n - tile)
        return sorted(set(s))

    xs, ys = starts(width), starts(height)
    return np.array([(x, y, min(x + tile, width), min(y + tile, height)) for y in ys for x in xs], np.int32)


def tiles_touching_mask(grid: np.ndarray, mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boolean per tile: does the tile contain any true pixel of ``mask``? The mask may be
    at a lower resolution than the image (it is scaled to the image's size)."""
    mh, mw = mask.shape[:2]
    sx, sy = mw / width, mh / height
    integ = cv2.integral(mask.astype(np.uint8))
    keep = np.zeros(len(grid), bool)
    for i, (x1, y1, x2, y2) in enumerate(grid):
        a, b = int(np.floor(x1 * sx)), int(np.floor(y1 * sy))
        c, d = max(a + 1, int(np.ceil(x2 * sx))), max(b + 1, int(np.ceil(y2 * sy)))
        c, d = min(c, mw), min(d, mh)
        keep[i] = (integ[d, c] - integ[b, c] - integ[d, a] + integ[b, a]) > 0
    return keep


def polygon_mask(polygons: Sequence[np.ndarray], width: int, height: int, scale: float = 0.125) -> np.ndarray:
    """Rasterise pixel-coordinate polygons into a low-resolution mask for tile selection."""
    mw, mh = max(1, int(width * scale)), max(1, int(height * scale))
    mask = np.zeros((mh, mw), np.uint8)
    for poly in polygons:
        pts = np.round(np.asarray(poly, np.float64) * scale).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def batched(seq: Sequence[int], n: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def merge_detections(det: Detections, params: SliceParams) -> Detections:
    if len(det) == 0:
        return det
    if params.merge == "nms":
        keep = nms(det.xyxy, det.scores, params.match_threshold, class_ids=det.class_ids, metric=params.match_metric)
        return det[keep]
    if params.merge != "nmm":
        raise ValueError(f"unknown merge {params.merge!r} (use 'nms' or 'nmm')")
    groups = greedy_nmm(det.xyxy, det.scores, det.class_ids, params.match_threshold, params.match_metric)
    boxes = np.empty((len(groups), 4), np.float32)
    keep_idx = np.empty(len(groups), np.int64)
    for g, members in enumerate(groups):
        top = det.scores[members[0]]
        joined = [m for m in members if det.scores[m] >= params.union_min_score_ratio * top]
        b = det.xyxy[joined]
        boxes[g] = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        keep_idx[g] = members[0]
    kept = det[keep_idx]
    return Detections(boxes, kept.scores, kept.class_ids, kept.data)


@dataclass
class SliceReport:
    tiles_total: int
    tiles_run: int
    full_frame: bool


# Decides which tiles of a grid (T, 4 xyxy) run at all; the pipeline passes one that keeps
# tiles whose ground footprint touches the river zone.
TileSelector = Callable[[np.ndarray], np.ndarray]


def sliced_predict(image: np.ndarray, detect_batch: BatchDetector, params: SliceParams,
                   tile_mask: np.ndarray | None = None, report: list[SliceReport] | None = None,
                   tile_selector: TileSelector | None = None) -> Detections:
    """Detect on a large image by tiles (plus an optional full-frame pass) and merge.

    ``tile_mask`` (a boolean image, any resolution) or ``tile_selector`` restrict which
    tiles run; the full-frame pass runs whenever any tile does."""
    h, w = image.shape[:2]
    grid = tile_grid(w, h, params.tile, params.overlap)
    keep = np.ones(len(grid), bool)
    if tile_mask is not None:
        keep &= tiles_touching_mask(grid, tile_mask, w, h)
    if tile_selector is not None:
        sel = np.asarray(tile_selector(grid), bool)
        if sel.shape != (len(grid),):
            raise ValueError(f"tile selector returned shape {sel.shape} for {len(grid)} tiles")
        keep &= sel
    selected = np.nonzero(keep)[0]
    parts: list[Detections] = []
    for idx in batched(list(selected), params.batch):
        crops = [image[grid[i, 1] : grid[i, 3], grid[i, 0] : grid[i, 2]] for i in idx]
        for i, d in zip(idx, detect_batch(crops)):
            if len(d):
                x1, y1 = int(grid[i, 0]), int(grid[i, 1])
                parts.append(d.shifted(x1, y1).with_data(tile=np.full(len(d), i, np.int32)))
    ran_full = params.full_frame and len(grid) > 1 and (tile_mask is None or len(selected) > 0)
    if ran_full:
        scale = params.tile / max(h, w)
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        d = detect_batch([small])[0]
        if len(d):
            wh = d.xyxy[:, 2:] - d.xyxy[:, :2]
            d = d.filter(wh.max(1) >= params.full_frame_min_px)
            d = d.scaled(w / small.shape[1], h / small.shape[0]).clipped(w, h)
            parts.append(d.with_data(tile=np.full(len(d), -1, np.int32)))
    if report is not None:
        report.append(SliceReport(len(grid), len(selected), ran_full))
    merged = merge_detections(Detections.concat(parts), params) if parts else Detections.empty()
    return merged
