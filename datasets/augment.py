"""Augmentations matched to real river photos, applied to an image together with its boxes.

What Ultralytics' own augmentation lacks and real inspection photos have: haze over wide
rivers, sun glint on water (bright specks that look like floating plastic), heavy JPEG
from cameras and 4G uplinks, motion blur from a moving drone or a shaking bridge, and the
barrel distortion of the wide-angle lenses bridge cameras use. Each step is a pure
function over numpy arrays; ``augment`` draws them at random with ``AugmentParams``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Rng = np.random.Generator


@dataclass(frozen=True)
class AugmentParams:
    p_haze: float = 0.3
    p_glint: float = 0.35
    p_motion_blur: float = 0.2
    p_jpeg: float = 0.6
    p_fisheye: float = 0.15
    p_exposure: float = 0.5
    min_box_px: float = 3.0  # boxes smaller than this after warping are dropped


def haze(img: np.ndarray, strength: float, airlight: float = 215.0) -> np.ndarray:
    """Atmospheric scattering with depth growing up the frame (the far bank is hazier):
    I = J t + A (1 - t), transmission t = exp(-strength * depth)."""
    h = img.shape[0]
    depth = np.linspace(1.0, 0.35, h, dtype=np.float32)[:, None, None]
    t = np.exp(-strength * depth)
    out = img.astype(np.float32) * t + airlight * (1.0 - t)
    return np.clip(out, 0, 255).astype(np.uint8)


def glint(rng: Rng, img: np.ndarray, n_specks: int, band_width: float = 0.35) -> np.ndarray:
    """Sun glitter: short saturated specks scattered in a band, where the sun's reflection
    falls on rippled water. Not labelled: the detector must learn they are not debris."""
    h, w = img.shape[:2]
    out = img.copy()
    centre = rng.uniform(0.2, 0.8) * h
    layer = np.zeros((h, w), np.float32)
    ys = np.clip(rng.normal(centre, band_width * h / 2, n_specks), 0, h - 1).astype(int)
    xs = rng.integers(0, w, n_specks)
    lengths = rng.integers(1, max(2, w // 80), n_specks)
    for x, y, ln in zip(xs, ys, lengths):
        cv2.line(layer, (int(x), int(y)), (int(x + ln), int(y)), float(rng.uniform(0.6, 1.0)), 1, cv2.LINE_AA)
    layer = cv2.GaussianBlur(layer, (0, 0), 0.7)
    out = out.astype(np.float32) + layer[..., None] * 255.0
    return np.clip(out, 0, 255).astype(np.uint8)


def motion_blur(img: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    length = max(1, int(length))
    if length == 1:
        return img.copy()
    kern = np.zeros((length, length), np.float32)
    kern[length // 2, :] = 1.0
    m = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle_deg, 1.0)
    kern = cv2.warpAffine(kern, m, (length, length))
    return cv2.filter2D(img, -1, kern / max(float(kern.sum()), 1e-6))


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img.copy()


def exposure(img: np.ndarray, gain: float, gamma: float) -> np.ndarray:
    x = np.clip(img.astype(np.float32) / 255.0 * gain, 0, 1) ** gamma
    return (x * 255.0 + 0.5).astype(np.uint8)


def _fisheye_norm(w: int, h: int) -> tuple[float, float, float]:
    return w / 2.0, h / 2.0, float(np.hypot(w / 2.0, h / 2.0))


def fisheye_points(xy: np.ndarray, w: int, h: int, k: float) -> np.ndarray:
    """Where undistorted points land in the barrel-distorted image: solve
    r_u = r_d (1 + k r_d²) / (1 + k) for r_d (Newton; monotonic for k >= 0)."""
    cx, cy, norm = _fisheye_norm(w, h)
    d = (xy - np.array([cx, cy])) / norm
    ru = np.hypot(d[:, 0], d[:, 1])
    rd = ru.copy()
    for _ in range(20):
        f = rd * (1 + k * rd**2) / (1 + k) - ru
        rd -= f * (1 + k) / (1 + 3 * k * rd**2)
    scale = np.where(ru > 1e-9, rd / np.maximum(ru, 1e-9), 1.0)
    return d * scale[:, None] * norm + np.array([cx, cy])


def fisheye(img: np.ndarray, boxes: np.ndarray, k: float, min_visible: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Barrel distortion of strength ``k`` (0.1-0.4 looks like a wide bridge camera), scaled
    so the corners stay put: the frame stays full and nothing is sampled from outside it (a
    mirrored border would duplicate objects near the edge without labels). Boxes follow by
    mapping a grid of points inside them; a box with less than ``min_visible`` of its points
    left in the frame comes back as zeros (to be dropped)."""
    h, w = img.shape[:2]
    cx, cy, norm = _fisheye_norm(w, h)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xx - cx) / norm, (yy - cy) / norm
    r2 = dx * dx + dy * dy
    f = (1 + k * r2) / (1 + k)
    map_x = (cx + dx * f * norm).astype(np.float32)
    map_y = (cy + dy * f * norm).astype(np.float32)
    out = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if len(boxes) == 0:
        return out, boxes.reshape(0, 4).astype(np.float32)
    # A grid over each box, not only its edges: the warp pushes content near the middle of
    # the frame's sides out of the frame, and the points that left must not stretch the box.
    new = np.zeros((len(boxes), 4), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        n = int(np.clip(np.ceil(max(x2 - x1, y2 - y1) / 4) + 1, 11, 129))  # points ~4 px apart
        t = np.linspace(0, 1, n)
        gx, gy = np.meshgrid(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t)
        p = fisheye_points(np.stack([gx.ravel(), gy.ravel()], 1), w, h, k)
        inside = (p[:, 0] >= 0) & (p[:, 0] <= w) & (p[:, 1] >= 0) & (p[:, 1] <= h)
        if inside.mean() < min_visible:
            continue  # mostly pushed out of the frame: no label (zero box, dropped by the caller)
        q = p[inside]
        new[i] = [q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()]
    return out, new


def augment(rng: Rng, img: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray,
            p: AugmentParams = AugmentParams()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One random draw of the real-photo augmentations. Returns image, boxes, class ids
    (boxes squeezed below ``min_box_px`` by the fisheye warp are dropped)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    class_ids = np.asarray(class_ids).reshape(-1)
    out = img
    if rng.random() < p.p_fisheye:
        out, boxes = fisheye(out, boxes, float(rng.uniform(0.1, 0.4)))
        keep = ((boxes[:, 2] - boxes[:, 0]) >= p.min_box_px) & ((boxes[:, 3] - boxes[:, 1]) >= p.min_box_px)
        boxes, class_ids = boxes[keep], class_ids[keep]
    if rng.random() < p.p_exposure:
        out = exposure(out, float(rng.uniform(0.7, 1.3)), float(rng.uniform(0.8, 1.25)))
    if rng.random() < p.p_haze:
        out = haze(out, float(rng.uniform(0.15, 0.9)))
    if rng.random() < p.p_glint:
        out = glint(rng, out, int(rng.integers(20, 400)))
    if rng.random() < p.p_motion_blur:
        out = motion_blur(out, int(rng.integers(3, 9)), float(rng.uniform(0, 180)))
    if rng.random() < p.p_jpeg:
        out = jpeg(out, int(rng.integers(30, 90)))
    return out, boxes, class_ids
