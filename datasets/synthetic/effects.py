"""Photometric effects that real drone and camera photos have and drawn scenes lack."""

from __future__ import annotations

import cv2
import numpy as np

from heyan.datasets.augment import jpeg, motion_blur
from heyan.datasets.synthetic.textures import Rng, fractal_noise


def composite(dst: np.ndarray, sprite_bgr: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> tuple[slice, slice, np.ndarray] | None:
    """Alpha-blend ``sprite`` onto ``dst`` (float32, in place) with its top-left at (x0, y0).
    Returns the destination slices and the clipped alpha, or None if fully outside."""
    H, W = dst.shape[:2]
    h, w = alpha.shape
    xa, ya = max(0, x0), max(0, y0)
    xb, yb = min(W, x0 + w), min(H, y0 + h)
    if xa >= xb or ya >= yb:
        return None
    sx, sy = xa - x0, ya - y0
    a = alpha[sy : sy + (yb - ya), sx : sx + (xb - xa)]
    s = sprite_bgr[sy : sy + (yb - ya), sx : sx + (xb - xa)]
    region = dst[ya:yb, xa:xb]
    region *= 1.0 - a[..., None]
    region += s * a[..., None]
    return slice(ya, yb), slice(xa, xb), a


def rotate_sprite(bgr: np.ndarray, alphas: list[np.ndarray], angle_deg: float, scale: float = 1.0) -> tuple[np.ndarray, list[np.ndarray]]:
    h, w = alphas[0].shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, scale)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(bgr, m, (nw, nh), flags=cv2.INTER_LINEAR)
    outs = [cv2.warpAffine(a, m, (nw, nh), flags=cv2.INTER_LINEAR) for a in alphas]
    return out, outs


def photometric(rng: Rng, img: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Cloud shadows, haze, white balance, vignetting, blur, sensor noise. float32 in/out."""
    h, w = img.shape[:2]
    if rng.random() < 0.35 * strength:
        shade = fractal_noise(rng, h, w, max(h, w) / rng.uniform(0.6, 2.0), 2)
        img *= np.clip(1 - 0.25 * np.clip(shade, 0, None), 0.5, 1)[..., None]
    if rng.random() < 0.3 * strength:  # haze / low contrast
        k = rng.uniform(0.1, 0.45)
        img = img * (1 - k) + np.array([rng.uniform(180, 230)] * 3, np.float32) * k
    img *= rng.uniform(0.7, 1.25)  # exposure
    # Colour temperature moves along blue-yellow; magenta casts are rare in real photos.
    t = rng.uniform(0.9, 1.1)
    img *= np.array([1.0 / t, 1.0, t], np.float32)
    if rng.random() < 0.3:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.hypot((xx - w / 2) / w, (yy - h / 2) / h)
        img *= (1 - rng.uniform(0.1, 0.35) * r**2)[..., None]
    r = rng.random()
    if r < 0.25:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    elif r < 0.35:  # motion blur
        k = int(rng.integers(3, 7))
        img = motion_blur(img, k, float(rng.uniform(0, 180)))
    img += rng.normal(0, rng.uniform(0.5, 4.0), img.shape).astype(np.float32)
    return img


def jpeg_roundtrip(rng: Rng, img_u8: np.ndarray) -> np.ndarray:
    return jpeg(img_u8, int(rng.integers(55, 96)))
