"""Top-down (nadir) and side-view sprites for the five classes and for distractors.

A sprite is a BGR float32 image with an alpha mask in [0, 1]. Sizes are in pixels; the
scene decides them from real sizes in metres and the ground sampling distance. Shapes are
drawn with some irregularity, shading and texture so the detector cannot learn a single
template: real debris and real dredgers vary a lot.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from heyan.datasets.synthetic.textures import Rng, fractal_noise


@dataclass
class Sprite:
    bgr: np.ndarray  # (h, w, 3) float32 0-255
    alpha: np.ndarray  # (h, w) float32 0-1
    # Part of the sprite that counts as the object for its label (e.g. a boat's wake is
    # drawn but not labelled). None: the whole alpha.
    label_alpha: np.ndarray | None = None
    casts_shadow: bool = True
    height_m: float = 0.0  # for shadow length


def _canvas(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.float32)


def _blob_polygon(rng: Rng, cx: float, cy: float, rx: float, ry: float, n: int = 14, rough: float = 0.3) -> np.ndarray:
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = 1.0 + rng.uniform(-rough, rough, n)
    pts = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)
    return np.round(pts).astype(np.int32)


def _colour(rng: Rng, base: tuple[float, float, float], jitter: float = 12.0) -> np.ndarray:
    return np.clip(np.array(base, np.float32) + rng.normal(0, jitter, 3), 0, 255)


def _shade_dome(h: int, w: int, light: float, strength: float) -> np.ndarray:
    """Brightness field of a mound lit from direction ``light`` (radians)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    nx = (xx - w / 2) / max(w / 2, 1)
    ny = (yy - h / 2) / max(h / 2, 1)
    return 1.0 + strength * (np.cos(light) * nx + np.sin(light) * ny)


# --------------------------------------------------------------------------- classes
def floating_debris(rng: Rng, size_px: float) -> Sprite:
    kind = rng.choice(["plastic", "bottles", "foam", "hyacinth", "mixed"], p=[0.25, 0.15, 0.15, 0.25, 0.2])
    s = max(4, int(size_px))
    h = w = s
    bgr, a = _canvas(h, w)
    if kind == "hyacinth":
        n = int(np.clip(size_px / 3, 4, 80))
        base = _colour(rng, (40, 110, 60), 15)
        for _ in range(n):
            cx, cy = rng.normal(w / 2, w / 5), rng.normal(h / 2, h / 5)
            r = max(1, int(rng.uniform(0.06, 0.16) * s))
            col = base * rng.uniform(0.7, 1.3)
            cv2.circle(bgr, (int(cx), int(cy)), r, col.tolist(), -1, cv2.LINE_AA)
            cv2.circle(a, (int(cx), int(cy)), r, 1.0, -1, cv2.LINE_AA)
        if rng.random() < 0.3:  # flowers
            for _ in range(max(1, n // 8)):
                cx, cy = rng.normal(w / 2, w / 6), rng.normal(h / 2, h / 6)
                cv2.circle(bgr, (int(cx), int(cy)), max(1, s // 20), (200, 140, 190), -1)
        bgr *= (1 + 0.25 * fractal_noise(rng, h, w, max(2, s / 6), 2))[..., None]
    elif kind == "foam":
        n = int(np.clip(size_px / 2, 5, 120))
        for _ in range(n):
            cx, cy = rng.normal(w / 2, w / 4.5), rng.normal(h / 2, h / 7)
            r = max(1, int(rng.uniform(0.03, 0.1) * s))
            cv2.circle(bgr, (int(cx), int(cy)), r, _colour(rng, (225, 228, 228), 8).tolist(), -1, cv2.LINE_AA)
            cv2.circle(a, (int(cx), int(cy)), r, float(rng.uniform(0.7, 1.0)), -1, cv2.LINE_AA)
    else:
        palette = [(235, 235, 235), (200, 120, 40), (40, 40, 200), (30, 30, 30), (60, 160, 220), (230, 200, 150), (90, 160, 90)]
        n_items = 1 if kind == "plastic" else int(rng.integers(2, 9))
        for _ in range(n_items):
            col = _colour(rng, palette[rng.integers(len(palette))], 15)
            cx, cy = rng.normal(w / 2, w / 6 if n_items > 1 else 1), rng.normal(h / 2, h / 6 if n_items > 1 else 1)
            if kind == "bottles" or (kind == "mixed" and rng.random() < 0.5):
                L = rng.uniform(0.15, 0.35) * s * (2.2 if n_items == 1 else 1)
                W = L * rng.uniform(0.28, 0.4)
                ang = rng.uniform(0, 180)
                box = cv2.boxPoints(((cx, cy), (L, W), ang)).astype(np.int32)
                cv2.fillConvexPoly(bgr, box, col.tolist(), cv2.LINE_AA)
                cv2.fillConvexPoly(a, box, float(rng.uniform(0.75, 1.0)), cv2.LINE_AA)
                cv2.circle(bgr, (int(cx), int(cy)), max(1, int(W / 4)), np.clip(col + 60, 0, 255).tolist(), -1)
            else:
                rr = (0.45 if n_items == 1 else rng.uniform(0.1, 0.25)) * s
                poly = _blob_polygon(rng, cx, cy, rr, rr * rng.uniform(0.5, 1.0), rough=0.45)
                cv2.fillPoly(bgr, [poly], col.tolist(), cv2.LINE_AA)
                cv2.fillPoly(a, [poly], float(rng.uniform(0.6, 0.95)), cv2.LINE_AA)
        bgr *= (1 + 0.15 * fractal_noise(rng, h, w, max(2, s / 4), 2))[..., None]
    return Sprite(np.clip(bgr, 0, 255), np.clip(a, 0, 1), casts_shadow=False)


def _hull(rng: Rng, L: int, W: int, bow: float, blunt: bool) -> np.ndarray:
    """Hull outline pointing right (+x)."""
    if blunt:
        pts = [(0, 0.05 * W), (L * 0.95, 0), (L, W * 0.5), (L * 0.95, W), (0, 0.95 * W)]
    else:
        pts = [(0, 0.15 * W), (L * (1 - bow), 0), (L, W * 0.5), (L * (1 - bow), W), (0, 0.85 * W)]
    return np.array(pts, np.float32)


def boat(rng: Rng, length_px: float) -> Sprite:
    L = max(6, int(length_px))
    W = max(3, int(L * rng.uniform(0.22, 0.38)))
    pad = max(2, W // 2)
    h, w = W + 2 * pad, L + 2 * pad
    bgr, a = _canvas(h, w)
    hull = _hull(rng, L, W, rng.uniform(0.15, 0.35), blunt=False) + pad
    hull_col = _colour(rng, [(240, 240, 240), (170, 90, 30), (40, 40, 180), (50, 100, 160), (150, 150, 150), (30, 60, 90)][rng.integers(6)], 12)
    cv2.fillPoly(bgr, [hull.astype(np.int32)], hull_col.tolist(), cv2.LINE_AA)
    cv2.fillPoly(a, [hull.astype(np.int32)], 1.0, cv2.LINE_AA)
    inner = (hull - hull.mean(0)) * 0.8 + hull.mean(0)
    deck = hull_col * rng.uniform(0.6, 0.9) if rng.random() < 0.6 else _colour(rng, (60, 100, 140), 20)
    cv2.fillPoly(bgr, [inner.astype(np.int32)], deck.tolist(), cv2.LINE_AA)
    if rng.random() < 0.7 and L > 10:  # cabin
        cl = L * rng.uniform(0.15, 0.35)
        x0 = pad + L * rng.uniform(0.2, 0.5)
        cv2.rectangle(bgr, (int(x0), int(pad + W * 0.25)), (int(x0 + cl), int(pad + W * 0.75)),
                      _colour(rng, (220, 220, 215), 20).tolist(), -1)
    label = a.copy()
    if rng.random() < 0.4 and L > 12:  # people/cargo dots
        for _ in range(int(rng.integers(1, 4))):
            p = (int(pad + rng.uniform(0.2, 0.8) * L), int(pad + rng.uniform(0.3, 0.7) * W))
            cv2.circle(bgr, p, max(1, W // 8), _colour(rng, (40, 60, 120), 30).tolist(), -1)
    return Sprite(np.clip(bgr, 0, 255), a, label_alpha=label, height_m=1.5)


def sand_dredger(rng: Rng, length_px: float) -> Sprite:
    """Dredger or sand barge: blunt steel hull, sand on deck, often a boom or conveyor."""
    L = max(10, int(length_px))
    W = max(4, int(L * rng.uniform(0.2, 0.32)))
    boom = rng.random() < 0.7
    boom_len = int(L * rng.uniform(0.25, 0.5)) if boom else 0
    pad = max(2, W // 3)
    h, w = W + 2 * pad, L + boom_len + 2 * pad
    bgr, a = _canvas(h, w)
    x_off = pad + boom_len
    hull = _hull(rng, L, W, 0.08, blunt=True)
    hull[:, 0] += x_off
    hull[:, 1] += pad
    steel = _colour(rng, [(50, 60, 110), (60, 60, 60), (40, 70, 40), (90, 80, 70), (40, 40, 120)][rng.integers(5)], 12)
    cv2.fillPoly(bgr, [hull.astype(np.int32)], steel.tolist(), cv2.LINE_AA)
    cv2.fillPoly(a, [hull.astype(np.int32)], 1.0, cv2.LINE_AA)
    rust = fractal_noise(rng, h, w, max(2, W / 3), 3)
    bgr *= (1 + 0.15 * rust)[..., None]
    # Sand hold: one or two mounds of yellow-brown sand with dome shading.
    hold_x0, hold_x1 = x_off + int(L * 0.12), x_off + int(L * rng.uniform(0.6, 0.8))
    hy0, hy1 = pad + int(W * 0.15), pad + int(W * 0.85)
    if hold_x1 - hold_x0 > 2 and hy1 - hy0 > 2:
        sand = _colour(rng, [(120, 170, 200), (100, 150, 180), (90, 130, 160), (140, 180, 205)][rng.integers(4)], 10)
        hh, hw = hy1 - hy0, hold_x1 - hold_x0
        dome = _shade_dome(hh, hw, rng.uniform(0, 2 * np.pi), 0.35)
        grain = 1 + 0.08 * fractal_noise(rng, hh, hw, max(2, hh / 4), 2)
        bgr[hy0:hy1, hold_x0:hold_x1] = sand * (dome * grain)[..., None]
    # Wheelhouse at the stern (left end after the boom side is the bow: boom hangs off the bow)
    ch0 = x_off + int(L * rng.uniform(0.82, 0.88))
    cv2.rectangle(bgr, (ch0, pad + int(W * 0.2)), (x_off + L - 2, pad + int(W * 0.8)),
                  _colour(rng, (230, 230, 225), 15).tolist(), -1)
    if boom:
        by = pad + W // 2 + int(rng.integers(-W // 6, W // 6 + 1))
        thick = max(1, W // 7)
        cv2.line(bgr, (pad, by), (x_off + int(L * 0.2), by), _colour(rng, (40, 40, 40), 10).tolist(), thick, cv2.LINE_AA)
        cv2.line(a, (pad, by), (x_off + int(L * 0.2), by), 1.0, thick, cv2.LINE_AA)
        # Bucket ladder rungs / conveyor segments
        for x in range(pad, x_off, max(2, thick * 2)):
            cv2.line(bgr, (x, by - thick), (x, by + thick), (70, 70, 70), 1)
            cv2.line(a, (x, by - thick), (x, by + thick), 1.0, 1)
    return Sprite(np.clip(bgr, 0, 255), a, height_m=3.0)


def waste_pile(rng: Rng, size_px: float) -> Sprite:
    kind = rng.choice(["garbage", "construction", "soil"], p=[0.45, 0.3, 0.25])
    s = max(5, int(size_px))
    h, w = s, max(5, int(s * rng.uniform(0.8, 1.6)))
    bgr, a = _canvas(h, w)
    poly = _blob_polygon(rng, w / 2, h / 2, w * 0.45, h * 0.45, n=18, rough=0.35)
    cv2.fillPoly(a, [poly], 1.0, cv2.LINE_AA)
    dome = _shade_dome(h, w, rng.uniform(0, 2 * np.pi), 0.3)
    if kind == "soil":
        col = _colour(rng, [(70, 100, 130), (90, 120, 150), (60, 80, 100)][rng.integers(3)], 12)
        tex = 1 + 0.12 * fractal_noise(rng, h, w, max(2, s / 8), 3)
        bgr[:] = col * (dome * tex)[..., None]
    else:
        base = (150, 150, 150) if kind == "construction" else (110, 120, 120)
        bgr[:] = _colour(rng, base, 20) * dome[..., None]
        n = int(np.clip(s * s / 12, 10, 3000))
        palette = ([(235, 235, 235), (200, 120, 40), (40, 40, 200), (20, 20, 20), (60, 160, 220), (180, 60, 160), (90, 180, 90)]
                   if kind == "garbage" else [(170, 170, 170), (60, 80, 170), (120, 120, 120), (200, 200, 195), (90, 110, 140)])
        xs = rng.integers(0, w, n)
        ys = rng.integers(0, h, n)
        rs = np.maximum(1, (rng.uniform(0.01, 0.05, n) * s)).astype(int)
        cols = np.array(palette, np.float32)[rng.integers(len(palette), size=n)]
        for x, y, r, c in zip(xs, ys, rs, cols):
            if r <= 1:
                bgr[y, x] = c
            else:
                cv2.rectangle(bgr, (int(x), int(y)), (int(x + r), int(y + r * rng.uniform(0.5, 1.5))), c.tolist(), -1)
        bgr *= dome[..., None]
    ragged = np.clip(1.2 + 0.8 * fractal_noise(rng, h, w, max(2, s / 6), 2), 0, 1)
    edge = cv2.GaussianBlur(a, (0, 0), max(0.5, s / 30))
    a = np.clip(edge * np.where(edge < 0.9, ragged, 1.0), 0, 1)
    return Sprite(np.clip(bgr, 0, 255), a, label_alpha=(a > 0.3).astype(np.float32), height_m=1.0)


def structure(rng: Rng, size_px: float) -> Sprite:
    """Roof seen from above (blue steel sheds are everywhere along Chinese rivers), or a wall."""
    if rng.random() < 0.15:  # enclosure wall: long and thin
        L = max(8, int(size_px * 1.5))
        W = max(2, int(rng.uniform(0.03, 0.08) * L))
        bgr, a = _canvas(W, L)
        bgr[:] = _colour(rng, (170, 175, 175), 15)
        a[:] = 1.0
        return Sprite(bgr, a, height_m=2.5)
    L = max(5, int(size_px))
    W = max(4, int(L * rng.uniform(0.4, 0.9)))
    bgr, a = _canvas(W, L)
    roof = [(190, 120, 40), (200, 140, 60), (60, 70, 170), (150, 150, 150), (215, 215, 210), (80, 80, 90), (40, 90, 150)]
    col = _colour(rng, roof[rng.integers(len(roof))], 10)
    a[:] = 1.0
    if rng.random() < 0.3 and L > 12:  # L-shaped building
        cut_w, cut_h = int(L * rng.uniform(0.3, 0.6)), int(W * rng.uniform(0.3, 0.6))
        a[:cut_h, L - cut_w :] = 0
    bgr[:] = col
    if rng.random() < 0.7:  # ridge: two roof planes differently lit
        f = rng.uniform(0.7, 0.9)
        bgr[: W // 2] *= f
    if rng.random() < 0.6 and W > 6:  # corrugated steel
        period = max(2, int(rng.uniform(0.02, 0.05) * L))
        stripes = ((np.arange(L) // max(1, period // 2)) % 2).astype(np.float32)
        bgr *= (1 - 0.08 * stripes)[None, :, None]
    bgr *= (1 + 0.05 * fractal_noise(rng, W, L, max(2, L / 5), 2))[..., None]
    cv2.rectangle(bgr, (0, 0), (L - 1, W - 1), (col * 0.6).tolist(), max(1, W // 25))
    return Sprite(np.clip(bgr, 0, 255) * a[..., None], a, height_m=float(rng.uniform(3, 9)))


# ----------------------------------------------------------------------- distractors
def rock(rng: Rng, size_px: float) -> Sprite:
    s = max(3, int(size_px))
    bgr, a = _canvas(s, s)
    cv2.fillPoly(a, [_blob_polygon(rng, s / 2, s / 2, s * 0.45, s * 0.4, n=9, rough=0.25)], 1.0, cv2.LINE_AA)
    bgr[:] = _colour(rng, (120, 125, 130), 25) * _shade_dome(s, s, rng.uniform(0, 6.28), 0.4)[..., None]
    return Sprite(bgr, a, height_m=0.3)


def tree(rng: Rng, size_px: float) -> Sprite:
    s = max(4, int(size_px))
    bgr, a = _canvas(s, s)
    base = _colour(rng, (40, 90, 50), 15)
    for _ in range(int(np.clip(s / 2, 3, 30))):
        c = (int(rng.normal(s / 2, s / 7)), int(rng.normal(s / 2, s / 7)))
        r = max(1, int(rng.uniform(0.15, 0.3) * s))
        cv2.circle(bgr, c, r, (base * rng.uniform(0.7, 1.3)).tolist(), -1, cv2.LINE_AA)
        cv2.circle(a, c, r, 1.0, -1, cv2.LINE_AA)
    bgr *= _shade_dome(s, s, rng.uniform(0, 6.28), 0.35)[..., None]
    return Sprite(np.clip(bgr, 0, 255), a, height_m=float(rng.uniform(4, 12)))


def whitecaps(rng: Rng, size_px: float) -> Sprite:
    """Breaking wavelets and wake lines: white water that is not debris."""
    s = max(6, int(size_px))
    h, w = max(3, s // 4), s
    bgr, a = _canvas(h, w)
    for _ in range(int(rng.integers(2, 8))):
        x0 = int(rng.uniform(0, w * 0.6))
        y0 = int(rng.uniform(0, h))
        x1 = int(x0 + rng.uniform(0.2, 0.4) * w)
        cv2.line(a, (x0, y0), (x1, y0 + int(rng.integers(-1, 2))), float(rng.uniform(0.4, 0.9)), 1, cv2.LINE_AA)
    bgr[:] = 235
    a = cv2.GaussianBlur(a, (0, 0), 0.7)
    return Sprite(bgr, a, casts_shadow=False)


def car(rng: Rng, size_px: float) -> Sprite:
    L = max(4, int(size_px))
    W = max(2, int(L * 0.45))
    bgr, a = _canvas(W, L)
    col = _colour(rng, [(235, 235, 235), (30, 30, 30), (150, 150, 150), (30, 30, 170), (150, 80, 30)][rng.integers(5)], 10)
    a[:] = 1.0
    bgr[:] = col
    x0, x1 = int(L * 0.3), int(L * 0.7)
    bgr[:, x0:x1] *= 0.6  # windows/roof contrast
    return Sprite(bgr, a, height_m=1.4)


def algae(rng: Rng, size_px: float) -> Sprite:
    """Broad, faint green patch on water: a hard negative for water hyacinth."""
    s = max(8, int(size_px))
    bgr, a = _canvas(s, s)
    bgr[:] = _colour(rng, (60, 120, 80), 10)
    a[:] = np.clip(0.5 + 0.6 * fractal_noise(rng, s, s, max(2, s / 3), 3), 0, 1) * rng.uniform(0.2, 0.45)
    yy, xx = np.mgrid[0:s, 0:s]
    fall = np.clip(1 - np.hypot(xx - s / 2, yy - s / 2) / (s / 2), 0, 1)
    return Sprite(bgr, a * fall, casts_shadow=False)
