"""Draw detections on a copy of an image."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from heyan.vision.classes import CLASSES
from heyan.vision.detections import Detections


def draw_detections(image: np.ndarray, det: Detections, class_names: Sequence[str],
                    colours: dict[str, tuple[int, int, int]] | None = None, thickness: int | None = None) -> np.ndarray:
    out = image.copy()
    h, w = out.shape[:2]
    t = thickness or max(1, round(max(h, w) / 800))
    pal = colours or {c.name: c.colour_bgr for c in CLASSES}
    font_scale = max(0.4, max(h, w) / 2000)
    for box, score, cid in zip(det.xyxy, det.scores, det.class_ids):
        name = class_names[int(cid)] if int(cid) < len(class_names) else str(int(cid))
        col = pal.get(name, (0, 255, 0))
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), col, t, cv2.LINE_AA)
        label = f"{name} {score:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(1, t // 2))
        ty = y1 - 2 if y1 - th - base - 2 > 0 else y2 + th + 2
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw + 2, ty + base - 2), col, -1)
        cv2.putText(out, label, (x1 + 1, ty - 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), max(1, t // 2), cv2.LINE_AA)
    return out
