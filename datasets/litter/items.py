"""Floating litter rendered in 2-D: bottles, cans, bags, sheets, styrofoam, food boxes,
paper and clumps of water plants, seen from above (a bridge or a drone) or from the side
(a low bank camera, where calm water mirrors them).

Why render rather than paste real cut-outs: there are almost no labelled pictures of river
litter that may be used here, and what makes litter hard to find is its look at 5-40 px:
a clear bottle is mostly the water behind it plus a bright streak and a coloured label, a
bag is a pale crumpled blob partly under water, a can a short bright bar. Each item is drawn
four times larger than it is pasted and reduced with area averaging, so a 6 px bottle is
the few mixed pixels a camera gives, not a sharp toy.

Every renderer returns a ``Cutout`` (``datasets.copypaste``): colour, the alpha that is
drawn and the alpha that counts for the box (the reflection is drawn, never boxed).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from heyan.datasets.copypaste import Cutout
from heyan.datasets.synthetic.textures import fractal_noise as _fractal_normal

Rng = np.random.Generator

SS = 4  # supersampling factor


def fractal_noise(rng: Rng, h: int, w: int, scale_px: float, octaves: int = 4) -> np.ndarray:
    """Fractal noise mapped to 0..1, about uniform: the generator's noise is roughly normal
    (std ~0.85), and every threshold and shade here is written for a 0..1 range."""
    n = _fractal_normal(rng, h, w, scale_px, octaves)
    return (1.0 / (1.0 + np.exp(-2.0 * n))).astype(np.float32)

# Real lengths (metres) of each kind's long side, and how often it appears in a river.
KINDS: dict[str, tuple[tuple[float, float], float]] = {
    "bottle": ((0.15, 0.35), 0.26),
    "can": ((0.10, 0.17), 0.08),
    "bag": ((0.20, 0.60), 0.20),
    "sheet": ((0.40, 1.50), 0.10),
    "styrofoam": ((0.10, 0.60), 0.12),
    "foodbox": ((0.10, 0.25), 0.07),
    "paper": ((0.10, 0.40), 0.05),
    "plants": ((0.30, 2.00), 0.07),
    "clump": ((0.40, 1.50), 0.05),
}

LABEL_COLOURS = [  # BGR: drink labels and caps are saturated
    (40, 40, 200), (30, 140, 230), (50, 200, 230), (60, 170, 60), (190, 110, 30), (200, 200, 200),
    (30, 30, 30), (150, 60, 150), (230, 230, 240), (40, 90, 180),
]


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 255).astype(np.float32)


def _canvas(length_px: float, aspect: float, pad: float = 0.25) -> tuple[int, int]:
    """Supersampled canvas (h, w) for an item ``length_px`` long lying along x."""
    L = max(3.0, length_px) * SS
    w = int(np.ceil(L * (1 + 2 * pad)))
    h = int(np.ceil(max(L * aspect, 2 * SS) * (1 + 2 * pad) + 2 * pad * L * 0.5))
    return h, w


def _finish(bgr: np.ndarray, alpha: np.ndarray, label: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce from the supersampled canvas to the pasted size (area averaging)."""
    h, w = alpha.shape
    size = (max(1, int(round(w / SS))), max(1, int(round(h / SS))))
    lab = alpha if label is None else label
    pre = bgr * alpha[..., None]  # premultiplied, so edges do not darken
    pre_s = cv2.resize(pre, size, interpolation=cv2.INTER_AREA)
    a_s = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    l_s = cv2.resize(lab, size, interpolation=cv2.INTER_AREA)
    col = pre_s / np.maximum(a_s[..., None], 1e-3)
    return col.astype(np.float32), a_s.astype(np.float32), l_s.astype(np.float32)


def _capsule(h: int, w: int, cx: float, cy: float, length: float, width: float, neck: float = 0.0) -> np.ndarray:
    """Mask of a capsule along x; ``neck`` > 0 narrows the last part into a bottle neck."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx - cx) / (length / 2)  # -1..1 along
    r = np.full_like(u, width / 2)
    if neck > 0:
        t = np.clip((u - (1 - 2 * neck)) / neck, 0, 1)  # shoulder -> neck
        r = r * (1 - 0.62 * np.clip(t, 0, 1) ** 0.8)
    end = np.clip(np.abs(u) - (1 - width / length), 0, None) * (length / 2)
    inside = (np.abs(u) <= 1) & ((yy - cy) ** 2 + end ** 2 <= r ** 2)
    return inside.astype(np.float32)


def _cylinder_shade(h: int, cy: float, width: float, light: float) -> np.ndarray:
    """Brightness across a cylinder lying along x: lit on one side, a highlight line."""
    yy = np.arange(h, dtype=np.float32)[:, None]
    v = np.clip((yy - cy) / max(width / 2, 1), -1, 1)
    shade = 0.55 + 0.45 * np.cos(np.clip(v - light, -np.pi / 2, np.pi / 2) * 1.2)
    return shade.astype(np.float32)


def bottle(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.26, 0.36)
    h, w = _canvas(length_px, aspect)
    L, W = length_px * SS, length_px * SS * aspect
    cx, cy = w / 2, h / 2
    body = _capsule(h, w, cx, cy, L, W, neck=rng.uniform(0.18, 0.3))
    xx = np.arange(w, dtype=np.float32)[None, :]
    u = (xx - cx) / (L / 2)
    kind = rng.choice(["clear", "clear", "tinted", "opaque"])
    if kind == "clear":  # mostly the water behind: low alpha, bright edges
        base = np.array([215, 220, 215], np.float32) + rng.normal(0, 10, 3)
        alpha = body * rng.uniform(0.35, 0.6)
    elif kind == "tinted":
        base = np.array(rng.choice([(70, 140, 60), (40, 90, 140), (150, 110, 60), (60, 60, 60)]), np.float32)
        alpha = body * rng.uniform(0.6, 0.85)
    else:
        base = np.array(LABEL_COLOURS[int(rng.integers(len(LABEL_COLOURS)))], np.float32)
        alpha = body * 0.97
    shade = _cylinder_shade(h, cy, W, rng.uniform(-0.8, 0.8))
    bgr = np.broadcast_to(base, (h, w, 3)) * shade[..., None]
    # Label band round the middle, opaque and coloured.
    if rng.random() < 0.75:
        a, b = sorted(rng.uniform(-0.55, 0.45, 2))
        b = max(b, a + 0.25)
        band = ((u > a) & (u < b)).astype(np.float32) * body
        col = np.array(LABEL_COLOURS[int(rng.integers(len(LABEL_COLOURS)))], np.float32)
        bgr = bgr * (1 - band[..., None]) + (col * shade[..., None]) * band[..., None]
        alpha = np.maximum(alpha, band * 0.97)
    # Cap at the neck end.
    cap = ((u > 0.9) & (u <= 1.0)).astype(np.float32) * body
    cap_col = np.array(LABEL_COLOURS[int(rng.integers(len(LABEL_COLOURS)))], np.float32)
    bgr = bgr * (1 - cap[..., None]) + cap_col * cap[..., None]
    alpha = np.maximum(alpha, cap * 0.95)
    # Specular streak along the body.
    yy = np.arange(h, dtype=np.float32)[:, None]
    off = rng.uniform(-0.3, 0.3) * W
    streak = np.exp(-((yy - cy - off) ** 2) / (2 * (0.07 * W) ** 2)) * body * rng.uniform(0.5, 1.0)
    bgr = bgr + streak[..., None] * 255
    alpha = np.maximum(alpha, streak * 0.9)
    label = body
    if side:  # only the upper part floats above the water
        bgr, alpha, label = _waterline(rng, bgr, alpha, label, cy, W)
    return (*_finish(_u8(bgr), alpha, label),)


def _waterline(rng: Rng, bgr: np.ndarray, alpha: np.ndarray, label: np.ndarray, cy: float, W: float):
    """Cut the lower part of a side view at the waterline (what floats shows its top)."""
    h = alpha.shape[0]
    yy = np.arange(h, dtype=np.float32)[:, None]
    line = cy + rng.uniform(-0.1, 0.3) * W
    keep = np.clip((line - yy) / (0.08 * W + 1) + 0.5, 0, 1)
    faint = 0.25 + 0.75 * keep  # what is under water shows faintly
    return bgr, alpha * faint, label * keep


def can(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.5, 0.62)
    h, w = _canvas(length_px, aspect)
    L, W = length_px * SS, length_px * SS * aspect
    cx, cy = w / 2, h / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    body = ((np.abs(xx - cx) <= L / 2) & (np.abs(yy - cy) <= W / 2)).astype(np.float32)
    base = np.array(rng.choice([(40, 40, 200), (190, 190, 195), (170, 90, 20), (40, 150, 40), (40, 170, 220),
                                (30, 30, 30), (230, 230, 230)]), np.float32)
    shade = _cylinder_shade(h, cy, W, rng.uniform(-0.8, 0.8))
    bgr = np.broadcast_to(base, (h, w, 3)) * shade[..., None]
    rim = ((np.abs(np.abs(xx - cx) - L / 2) < 0.06 * L) & (body > 0)).astype(np.float32)
    bgr = bgr * (1 - rim[..., None]) + 200 * rim[..., None]
    streak = np.exp(-((yy - cy + rng.uniform(-0.3, 0.3) * W) ** 2) / (2 * (0.06 * W) ** 2)) * body
    bgr = bgr + streak[..., None] * 230
    alpha, label = body * 0.98, body
    if rng.random() < 0.3:  # crushed
        k = fractal_noise(rng, h, w, max(3.0, W / 3), 2)
        bgr = bgr * (0.75 + 0.5 * k[..., None])
    if side:
        bgr, alpha, label = _waterline(rng, bgr, alpha, label, cy, W)
    return _finish(_u8(bgr), alpha, label)


def _blob(rng: Rng, h: int, w: int, rx: float, ry: float, n: int, rough: float) -> np.ndarray:
    # Stratified angles: clustered random ones can make a sliver instead of a blob.
    ang = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * (2 * np.pi / n) + rng.uniform(0, 2 * np.pi)
    rad = 1 + rough * rng.uniform(-1, 1, n)
    pts = np.stack([w / 2 + rx * rad * np.cos(ang), h / 2 + ry * rad * np.sin(ang)], 1).astype(np.int32)
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [pts], 1)
    return m.astype(np.float32)


def bag(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.45, 0.9)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(9, 20)), rng.uniform(0.15, 0.4))
    colour = rng.choice(["white", "white", "black", "blue", "red", "yellow", "green", "pink"])
    base = {"white": (225, 228, 230), "black": (40, 40, 45), "blue": (170, 110, 50), "red": (50, 50, 190),
            "yellow": (60, 200, 225), "green": (70, 160, 70), "pink": (170, 140, 220)}[colour]
    creases = fractal_noise(rng, h, w, max(2.0, L / 6), 3)
    shade = 0.6 + 0.6 * creases
    bgr = np.array(base, np.float32) * shade[..., None] + rng.normal(0, 8, 3)
    # Highlights on the crumpled folds.
    hi = np.clip((creases - 0.75) * 4, 0, 1) * rng.uniform(0.3, 0.9)
    bgr = bgr + hi[..., None] * 120
    op = rng.uniform(0.55, 0.95) if colour == "white" else rng.uniform(0.75, 0.97)
    sub = fractal_noise(rng, h, w, max(2.0, L / 4), 2) < rng.uniform(0.0, 0.45)  # parts under water
    alpha = m * np.where(sub, 0.35, 1.0) * op
    label = m * np.where(sub, 0.6, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6 * SS)
    return _finish(_u8(bgr), alpha.astype(np.float32), label.astype(np.float32))


def sheet(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.4, 0.9)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(6, 12)), rng.uniform(0.1, 0.3))
    base = rng.choice([(215, 220, 222), (200, 200, 190), (45, 45, 45), (160, 110, 60), (60, 150, 200),
                       (150, 160, 80)])
    wr = fractal_noise(rng, h, w, max(2.0, L / 10), 3)
    bgr = np.array(base, np.float32) * (0.7 + 0.5 * wr[..., None])
    lines = np.abs(np.sin(wr * rng.uniform(10, 25)))  # wrinkles
    bgr = bgr + (lines[..., None] > 0.96) * 60
    sub = fractal_noise(rng, h, w, max(2.0, L / 5), 2) < rng.uniform(0.1, 0.5)
    alpha = m * np.where(sub, 0.25, rng.uniform(0.6, 0.95))
    label = m * np.where(sub, 0.55, 1.0)
    return _finish(_u8(bgr), cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.5 * SS), label.astype(np.float32))


def styrofoam(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.4, 1.0)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    if rng.random() < 0.5:  # block or broken block
        m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(4, 7)), rng.uniform(0.05, 0.2))
    else:
        m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(8, 14)), rng.uniform(0.2, 0.35))
    tone = rng.uniform(215, 250)
    grain = fractal_noise(rng, h, w, max(1.5, L / 12), 2)
    bgr = np.full((h, w, 3), tone, np.float32) * (0.85 + 0.2 * grain[..., None])
    bgr = bgr * np.array([1.0, 1.0, rng.uniform(0.92, 1.02)], np.float32)  # some yellowed
    alpha = m * 0.98
    label = m
    if side:
        bgr, alpha, label = _waterline(rng, bgr, alpha, label, h / 2, L * aspect)
    return _finish(_u8(bgr), alpha, label)


def foodbox(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.5, 0.9)
    h, w = _canvas(length_px, aspect)
    L, W = length_px * SS, length_px * SS * aspect
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    m = ((np.abs(xx - w / 2) <= L / 2) & (np.abs(yy - h / 2) <= W / 2)).astype(np.float32)
    base = rng.choice([(235, 235, 235), (120, 170, 200), (60, 90, 150), (210, 230, 240), (40, 40, 200)])
    edge = m - cv2.erode(m, np.ones((max(3, SS * 2), max(3, SS * 2)), np.uint8))
    bgr = np.array(base, np.float32) * (0.85 + 0.15 * _cylinder_shade(h, h / 2, W, 0.5))[..., None]
    bgr = bgr * (1 - 0.25 * edge[..., None])
    alpha, label = m * 0.97, m
    if side:
        bgr, alpha, label = _waterline(rng, bgr, alpha, label, h / 2, W)
    return _finish(_u8(np.broadcast_to(bgr, (h, w, 3))), alpha, label)


def paper(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    aspect = rng.uniform(0.5, 0.9)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(5, 9)), rng.uniform(0.1, 0.25))
    base = rng.choice([(200, 205, 210), (110, 150, 185), (150, 170, 190)])
    soggy = fractal_noise(rng, h, w, max(2.0, L / 5), 2)
    bgr = np.array(base, np.float32) * (0.7 + 0.4 * soggy[..., None])
    alpha = m * rng.uniform(0.7, 0.95)
    return _finish(_u8(bgr), alpha, m)


def plants(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A floating mat of water plants (water hyacinth, duckweed, cut grass): cleaning work too."""
    aspect = rng.uniform(0.5, 1.0)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(10, 20)), rng.uniform(0.2, 0.45))
    leaves = fractal_noise(rng, h, w, max(1.5, L / 14), 3)
    green = np.array(rng.choice([(50, 120, 60), (40, 100, 80), (60, 140, 100), (50, 90, 70)]), np.float32)
    bgr = green * (0.55 + 0.8 * leaves[..., None])
    holes = fractal_noise(rng, h, w, max(1.5, L / 10), 2) < 0.2
    alpha = m * np.where(holes, 0.3, 0.95)
    return _finish(_u8(bgr), cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.4 * SS), m)


def clump(rng: Rng, length_px: float, side: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixed litter caught together: sticks, plastic, foam, in one tangled mass."""
    aspect = rng.uniform(0.5, 0.9)
    h, w = _canvas(length_px, aspect)
    L = length_px * SS
    m = _blob(rng, h, w, L / 2, L * aspect / 2, int(rng.integers(12, 22)), rng.uniform(0.25, 0.45))
    n = fractal_noise(rng, h, w, max(1.5, L / 12), 3)
    # Mostly sticks, mud and grey plastic, with a few bright pieces in it.
    pal = np.array([(40, 60, 80), (60, 80, 95), (30, 40, 45), (150, 155, 160), (220, 225, 228),
                    tuple(LABEL_COLOURS[int(rng.integers(len(LABEL_COLOURS)))])], np.float32)
    u = fractal_noise(rng, h, w, max(1.5, L / 5), 2)
    idx = np.digitize(u, [0.3, 0.55, 0.75, 0.88, 0.95])
    bgr = pal[idx] * (0.7 + 0.5 * n[..., None])
    alpha = m * 0.95
    return _finish(_u8(bgr), cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.4 * SS), m)


RENDERERS: dict[str, Callable[[Rng, float, bool], tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
    "bottle": bottle, "can": can, "bag": bag, "sheet": sheet, "styrofoam": styrofoam, "foodbox": foodbox,
    "paper": paper, "plants": plants, "clump": clump,
}


def choose_kind(rng: Rng) -> str:
    names = list(KINDS)
    p = np.array([KINDS[k][1] for k in names])
    return str(rng.choice(names, p=p / p.sum()))


def length_m(rng: Rng, kind: str) -> float:
    lo, hi = KINDS[kind][0]
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def render_item(rng: Rng, kind: str, length_px: float, side: bool = False, squash: float = 1.0) -> Cutout:
    """One item ``length_px`` long, turned at random. ``side``: seen from a low camera
    (cut at the waterline); ``squash`` < 1 foreshortens it vertically as a camera looking
    at the water at a shallow angle sees it."""
    bgr, alpha, label = RENDERERS[kind](rng, float(length_px), side)
    # A thin item reduced to a few pixels keeps no pixel fully covered: its box is where
    # it covers at least half of what it covers most, so nothing drawn goes unlabelled.
    label = np.clip(label / max(float(label.max()), 1e-3), 0, 1)
    angle = float(rng.uniform(-25, 25) if side else rng.uniform(0, 360))
    bgr, alpha, label = _rotate(bgr, alpha, label, angle)
    if squash < 0.999:
        h, w = alpha.shape
        size = (w, max(1, int(round(h * squash))))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        label = cv2.resize(label, size, interpolation=cv2.INTER_AREA)
    return Cutout(bgr.astype(np.float32), alpha.astype(np.float32), label.astype(np.float32), "floating_debris",
                  f"litter:{kind}")


def _rotate(bgr: np.ndarray, alpha: np.ndarray, label: np.ndarray, angle: float):
    h, w = alpha.shape
    d = int(np.ceil(np.hypot(h, w))) + 2
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += (d - w) / 2, (d - h) / 2
    rot = [cv2.warpAffine(x, m, (d, d), flags=cv2.INTER_LINEAR, borderValue=0) for x in (bgr, alpha, label)]
    ys, xs = np.nonzero(rot[1] > 0.01)
    if len(xs) == 0:
        return bgr, alpha, label
    y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return tuple(r[y1:y2, x1:x2] for r in rot)


def reflection(cut: Cutout, rng: Rng, strength: float) -> Cutout:
    """The item's mirror image under it on calm water, wavering and darker (not boxed)."""
    h, w = cut.alpha.shape
    ref_bgr = cut.bgr[::-1].copy() * rng.uniform(0.55, 0.85)
    ref_a = cut.alpha[::-1].copy() * strength
    # Horizontal wobble that grows away from the waterline.
    yy = np.arange(h, dtype=np.float32)
    shift = np.sin(yy * rng.uniform(0.6, 1.6) + rng.uniform(0, 6)) * (yy / max(h, 1)) * rng.uniform(0.5, 2.0)
    mapx = (np.arange(w, dtype=np.float32)[None, :] + shift[:, None]).astype(np.float32)
    mapy = np.repeat(yy[:, None], w, 1).astype(np.float32)
    ref_bgr = cv2.remap(ref_bgr, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    ref_a = cv2.remap(ref_a, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    fade = np.linspace(1.0, 0.2, h, dtype=np.float32)[:, None]
    bgr = np.concatenate([cut.bgr, ref_bgr], 0)
    alpha = np.concatenate([cut.alpha, ref_a * fade], 0)
    label = np.concatenate([cut.label_alpha, np.zeros_like(cut.label_alpha)], 0)
    return Cutout(bgr, alpha, label, cut.name, cut.source, cut.length_m)
