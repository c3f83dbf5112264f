"""Box overlap, class-aware NMS and SAHI-style greedy non-maximum merging (NMM)."""

from __future__ import annotations

import numpy as np


def pairwise_overlap(a: np.ndarray, b: np.ndarray, metric: str = "iou") -> np.ndarray:
    """IoU or IoS (intersection over the smaller box) between every box in ``a`` and ``b``."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    if metric == "iou":
        denom = area_a[:, None] + area_b[None, :] - inter
    elif metric == "ios":
        denom = np.minimum(area_a[:, None], area_b[None, :])
    else:
        raise ValueError(f"unknown overlap metric {metric!r} (use 'iou' or 'ios')")
    return inter / np.maximum(denom, 1e-9)


def _offset_by_class(boxes: np.ndarray, class_ids: np.ndarray) -> np.ndarray:
    # Shifting each class far apart makes one NMS pass class-aware (Ultralytics' trick).
    # The span must cover the boxes' whole extent: with ``max + 1`` alone, boxes with
    # negative coordinates of different classes could still overlap after the shift.
    if not len(boxes):
        return boxes
    lo = float(boxes.min())
    span = float(boxes.max()) - lo + 1.0
    return (boxes - lo) + (class_ids.astype(np.float64) * span)[:, None]


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, class_ids: np.ndarray | None = None,
        metric: str = "iou", max_det: int | None = None) -> np.ndarray:
    """Indices kept by greedy NMS, highest score first."""
    if len(boxes) == 0:
        return np.zeros((0,), np.int64)
    b = _offset_by_class(boxes, class_ids) if class_ids is not None else boxes
    order = np.argsort(-scores, kind="stable")
    b = b[order].astype(np.float64)
    x1, y1, x2, y2 = b.T
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    suppressed = np.zeros(len(b), bool)
    keep: list[int] = []
    for i in range(len(b)):
        if suppressed[i]:
            continue
        keep.append(i)
        if max_det is not None and len(keep) >= max_det:
            break
        rest = np.arange(i + 1, len(b))
        rest = rest[~suppressed[rest]]
        if len(rest) == 0:
            break
        xx1 = np.maximum(x1[i], x1[rest])
        yy1 = np.maximum(y1[i], y1[rest])
        xx2 = np.minimum(x2[i], x2[rest])
        yy2 = np.minimum(y2[i], y2[rest])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        if metric == "iou":
            ov = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        else:
            ov = inter / np.maximum(np.minimum(areas[i], areas[rest]), 1e-9)
        suppressed[rest[ov > iou]] = True
    return order[np.array(keep, np.int64)]


FULL_MATRIX_MAX = 4096  # boxes; 4096² float64 overlaps = 128 MB


def greedy_nmm(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, threshold: float,
               metric: str = "ios") -> list[list[int]]:
    """Greedy non-maximum merging as in SAHI: walk boxes by score; each kept box absorbs
    the not-yet-taken boxes of its class that overlap it by more than ``threshold``.

    Returns groups of indices; the first index of each group is the kept (highest-scoring)
    box. Unlike NMS, the absorbed boxes are not thrown away: the caller unions them, so an
    object cut in two by a tile border becomes one box again.
    """
    n = len(boxes)
    if n == 0:
        return []
    b = _offset_by_class(boxes, class_ids)[np.argsort(-scores, kind="stable")]
    order = np.argsort(-scores, kind="stable")
    taken = np.zeros(n, bool)
    groups: list[list[int]] = []
    # Up to a few thousand boxes the whole overlap matrix is fastest; beyond that (a 4K
    # photo at an evaluation threshold gives tens of thousands) it would need gigabytes,
    # so each kept box is compared with the boxes still free, one row at a time.
    full = pairwise_overlap(b, b, metric) if n <= FULL_MATRIX_MAX else None
    for i in range(n):
        if taken[i]:
            continue
        if full is not None:
            members = np.nonzero((full[i] > threshold) & ~taken)[0]
        else:
            free = np.nonzero(~taken)[0]
            members = free[pairwise_overlap(b[i : i + 1], b[free], metric)[0] > threshold]
        members = members[members != i]
        taken[i] = True
        taken[members] = True
        groups.append([int(order[i])] + [int(order[m]) for m in members])
    return groups
