"""Letterbox preprocessing, identical to Ultralytics' ``LetterBox(auto=False, center=True)``
so our boxes agree with its predict on the same weights."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True)
class LetterboxInfo:
    gain: float  # model pixels per source pixel
    pad_x: float  # left padding in model pixels
    pad_y: float  # top padding
    src_w: int
    src_h: int


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, LetterboxInfo]:
    """Resize keeping aspect ratio and pad to ``size``×``size`` with grey 114."""
    h, w = image.shape[:2]
    r = min(size / h, size / w)
    new_w, new_h = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = (size - new_w) / 2, (size - new_h) / 2
    if (w, h) != (new_w, new_h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    if top or bottom or left or right:
        image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    # Ultralytics' scale_boxes recomputes the padding from the gain: do the same.
    pad_x = round((size - w * r) / 2 - 0.1)
    pad_y = round((size - h * r) / 2 - 0.1)
    return image, LetterboxInfo(r, pad_x, pad_y, w, h)


def to_input(images: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """Stack same-size BGR uint8 images into an NCHW float32 RGB batch in [0, 1].

    ``out`` may be a preallocated buffer (reused across calls to save allocations)."""
    n = len(images)
    h, w = images[0].shape[:2]
    if out is None or out.shape != (n, 3, h, w):
        out = np.empty((n, 3, h, w), np.float32)
    for i, im in enumerate(images):
        # BGR -> RGB by channel index, HWC -> CHW by transpose; one pass each.
        np.multiply(im.transpose(2, 0, 1)[::-1], np.float32(1 / 255), out=out[i], casting="unsafe")
    return out
