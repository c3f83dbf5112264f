"""Procedural textures: fractal noise, water, land covers and sky.

Everything is driven by an explicit ``numpy.random.Generator`` so a seed reproduces a scene
bit for bit. Scales are given in pixels; callers convert from metres with the ground
sampling distance, so ripples shrink into smooth water when the drone flies high.
"""

from __future__ import annotations

import cv2
import numpy as np

Rng = np.random.Generator


def fractal_noise(rng: Rng, h: int, w: int, scale_px: float, octaves: int = 4, persistence: float = 0.5) -> np.ndarray:
    """Value noise summed over octaves, zero mean, roughly unit std. ``scale_px`` is the
    size of the coarsest features."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    scale = max(scale_px, 1.0)
    for _ in range(octaves):
        gh = max(2, int(np.ceil(h / scale)) + 2)
        gw = max(2, int(np.ceil(w / scale)) + 2)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        lh, lw = int(gh * scale), int(gw * scale)
        oy = int(rng.integers(0, max(1, lh - h + 1)))
        ox = int(rng.integers(0, max(1, lw - w + 1)))
        # Interpolate only the h×w window we keep (what resizing the whole grid to lh×lw and
        # cropping would give): at fine GSD the full layer would be gigabytes.
        sx, sy = gw / max(lw, 1), gh / max(lh, 1)
        xs = ((np.arange(ox, ox + w, dtype=np.float32) + 0.5) * sx - 0.5)
        ys = ((np.arange(oy, oy + h, dtype=np.float32) + 0.5) * sy - 0.5)
        map_x = np.broadcast_to(xs[None, :], (h, w)).astype(np.float32)
        map_y = np.broadcast_to(ys[:, None], (h, w)).astype(np.float32)
        layer = cv2.remap(grid, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        out += amp * layer
        total += amp * amp
        amp *= persistence
        scale /= 2.0
        if scale < 1.0:
            break
    out /= np.sqrt(total) + 1e-6
    return out


def directional_ripples(rng: Rng, h: int, w: int, wavelength_px: float, angle: float) -> np.ndarray:
    """Wind ripples: noise stretched across the wind direction, in [-1, 1]-ish."""
    if wavelength_px < 1.5:
        return np.zeros((h, w), np.float32)
    big = int(np.ceil(np.hypot(h, w))) + 4
    n = fractal_noise(rng, big, big, wavelength_px, octaves=3, persistence=0.55)
    stretch = cv2.resize(n, (big, big * 1), interpolation=cv2.INTER_LINEAR)
    k = max(3, int(wavelength_px * 3) | 1)
    stretch = cv2.blur(stretch, (k, 1))  # long crests
    m = cv2.getRotationMatrix2D((big / 2, big / 2), float(np.degrees(angle)), 1.0)
    rot = cv2.warpAffine(stretch, m, (big, big), borderMode=cv2.BORDER_REFLECT)
    y0, x0 = (big - h) // 2, (big - w) // 2
    r = rot[y0 : y0 + h, x0 : x0 + w]
    return r / (r.std() + 1e-6)


WATER_COLOURS_BGR = np.array(
    [
        (90, 130, 150),   # Yangtze-like silty yellow-brown
        (70, 110, 120),   # muddy brown
        (80, 110, 80),    # green, eutrophic
        (110, 120, 90),   # teal-green
        (120, 115, 100),  # grey-blue
        (60, 70, 60),     # dark, shaded
        (140, 135, 125),  # bright overcast sky reflection
        (95, 100, 75),    # olive canal
    ],
    np.float32,
)

LAND_COLOURS_BGR = {
    "grass": [(60, 120, 80), (50, 100, 70), (70, 140, 110), (40, 90, 60)],
    "soil": [(80, 110, 140), (70, 95, 120), (100, 130, 160), (90, 120, 135)],
    "concrete": [(160, 165, 165), (140, 145, 150), (120, 125, 125)],
    "field": [(60, 130, 110), (70, 150, 140), (90, 160, 170)],
    "road": [(100, 100, 100), (130, 130, 128), (80, 82, 85)],
}


def water_texture(rng: Rng, h: int, w: int, gsd_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Water surface (BGR float32 0-255) and its glint weight map (0-1)."""
    base = WATER_COLOURS_BGR[rng.integers(len(WATER_COLOURS_BGR))] + rng.normal(0, 10, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    low = fractal_noise(rng, h, w, scale_px=max(8.0, 40.0 / gsd_m), octaves=3)
    img += low[..., None] * rng.uniform(3, 12)
    # Ripple wavelength 0.2-1.5 m on the ground: visible only at fine resolution.
    wl = rng.uniform(0.2, 1.5) / gsd_m
    angle = rng.uniform(0, np.pi)
    rip = directional_ripples(rng, h, w, wl, angle)
    amp = rng.uniform(2, 14) * float(np.clip(wl / 4.0, 0.0, 1.0))
    img += rip[..., None] * amp
    # Sky reflection gradient
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    grad = (np.cos(a) * gx + np.sin(a) * gy) / max(h, w)
    img += grad[..., None] * rng.uniform(-20, 20)
    glint = np.zeros((h, w), np.float32)
    if rng.random() < 0.45 and wl > 1.5:
        thr = rng.uniform(1.6, 2.6)
        glint = np.clip((rip + 0.5 * fractal_noise(rng, h, w, max(2.0, wl / 2), 2) - thr) * 2.0, 0, 1)
        sun = fractal_noise(rng, h, w, max(h, w) / 2, 1)
        glint *= np.clip(sun + rng.uniform(0.0, 1.0), 0, 1)
    return img, glint


def land_texture(rng: Rng, h: int, w: int, gsd_m: float) -> np.ndarray:
    """Patchwork of land covers (grass, soil, fields, concrete) at a realistic scale."""
    kinds = list(LAND_COLOURS_BGR)
    n_kinds = int(rng.integers(1, 4))
    chosen = rng.choice(len(kinds), size=n_kinds, replace=False)
    patch_scale = max(6.0, rng.uniform(15, 80) / gsd_m)
    selector = fractal_noise(rng, h, w, patch_scale, octaves=2)
    edges = np.quantile(selector, np.linspace(0, 1, n_kinds + 1)[1:-1]) if n_kinds > 1 else []
    label = np.digitize(selector, edges)
    img = np.zeros((h, w, 3), np.float32)
    for i, k in enumerate(chosen):
        kind = kinds[int(k)]
        pal = LAND_COLOURS_BGR[kind]
        col = np.array(pal[rng.integers(len(pal))], np.float32) + rng.normal(0, 8, 3)
        layer = np.empty((h, w, 3), np.float32)
        layer[:] = col
        grain = fractal_noise(rng, h, w, max(2.0, rng.uniform(0.1, 1.0) / gsd_m), octaves=3)
        layer += grain[..., None] * rng.uniform(5, 18)
        if kind == "field" and 0.5 / gsd_m > 2:
            gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
            a = rng.uniform(0, np.pi)
            period = rng.uniform(0.8, 2.0) / gsd_m
            rows = np.sin((np.cos(a) * gx + np.sin(a) * gy) * 2 * np.pi / period)
            layer += rows[..., None] * 10
        img[label == i] = layer[label == i]
    mottled = fractal_noise(rng, h, w, max(4.0, 5.0 / gsd_m), octaves=2)
    img += mottled[..., None] * 6
    return img


def sky_texture(rng: Rng, h: int, w: int) -> np.ndarray:
    top = np.array([rng.uniform(170, 230), rng.uniform(140, 200), rng.uniform(110, 180)], np.float32)
    horizon = np.array([rng.uniform(200, 245)] * 3, np.float32) + rng.normal(0, 5, 3)
    t = np.linspace(0, 1, max(h, 1), dtype=np.float32)[:, None, None]
    img = top * (1 - t) + horizon * t
    img = np.broadcast_to(img, (h, w, 3)).copy()
    clouds = np.clip(fractal_noise(rng, h, w, max(8.0, w / 3), 4), 0, None)
    img += clouds[..., None] * rng.uniform(0, 30)
    return img
