"""Litter on real water, in the two views where river offices meet it most:

- ``bank``: a low camera a metre or two above calm water. The water mirrors the far bank
  (trees, walls, buildings taken from real photos), ripples break the mirror up, and each
  floating item shows its upper part above the waterline with its own wavering reflection.
  Items get smaller toward the horizon as the camera's geometry says.
- ``overhead``: a bridge camera or a drone looking down on a river: real water from the
  river-surface, lake and coast frames, or generated turbid water, with items seen from
  above, their wet rims, and a faint shadow.

Both views add unlabelled look-alikes that the detector must learn to leave alone: foam
streaks, sun glint, leaves and twigs, and natural ripples. All images are chips of
``size`` pixels at native resolution (the scale sliced inference sees).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from heyan.datasets.augment import exposure, glint, haze, jpeg, motion_blur
from heyan.datasets.copypaste import Cutout, water_land_masks
from heyan.datasets.litter.items import choose_kind, fractal_noise, length_m, reflection, render_item

Rng = np.random.Generator


@dataclass
class Background:
    """A real photo and where its open water is (computed once per photo)."""

    image: np.ndarray
    water: np.ndarray  # bool, same size
    source: str


@dataclass
class LitterScene:
    image: np.ndarray
    boxes: np.ndarray  # (N, 4) xyxy
    kinds: list[str] = field(default_factory=list)
    view: str = ""
    source: str = ""
    horizon: int | None = None  # bank scenes: row of the far waterline (may be above the chip)


@dataclass(frozen=True)
class SceneParams:
    size: int = 640
    items: tuple[int, int] = (2, 14)
    min_box_px: float = 4.0
    max_item_px: float = 90.0
    p_generated_water: float = 0.25  # overhead scenes on generated turbid water
    p_distractors: float = 0.8


def background_from(image: np.ndarray, source: str) -> Background:
    water, _ = water_land_masks(image)
    return Background(image, water, source)


# --------------------------------------------------------------------------- pasting
def _paste(img: np.ndarray, cut: Cutout, x0: int, y0: int, shadow: float = 0.0) -> np.ndarray | None:
    """Alpha-blend ``cut`` at (x0, y0); returns the label mask in image coordinates."""
    H, W = img.shape[:2]
    h, w = cut.alpha.shape
    x1, y1, x2, y2 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if x2 <= x1 or y2 <= y1:
        return None
    sx, sy = x1 - x0, y1 - y0
    a = cut.alpha[sy:sy + y2 - y1, sx:sx + x2 - x1, None]
    dst = img[y1:y2, x1:x2]
    if shadow > 0:  # a floating object darkens the water right round it
        ring = cv2.GaussianBlur(cut.label_alpha, (0, 0), max(1.0, 0.12 * max(h, w)))
        r = ring[sy:sy + y2 - y1, sx:sx + x2 - x1, None]
        dst *= 1.0 - shadow * np.clip(r * 1.5, 0, 1)
    dst *= 1.0 - a
    dst += cut.bgr[sy:sy + y2 - y1, sx:sx + x2 - x1] * a
    lab = np.zeros((H, W), np.float32)
    lab[y1:y2, x1:x2] = cut.label_alpha[sy:sy + y2 - y1, sx:sx + x2 - x1]
    return lab


def _box(lab: np.ndarray, min_px: float) -> np.ndarray | None:
    ys, xs = np.nonzero(lab > 0.5)
    if len(xs) == 0:
        return None
    b = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    if b[2] - b[0] < min_px or b[3] - b[1] < min_px * 0.6:
        return None
    return b


def _tone_to(cut: Cutout, spot: np.ndarray, strength: float) -> Cutout:
    """Light the item as the scene is lit: scale its brightness toward the spot's."""
    if spot.size == 0:
        return cut
    m = float(spot.mean())
    gain = (m / 128.0) ** strength
    return Cutout(np.clip(cut.bgr * gain, 0, 255), cut.alpha, cut.label_alpha, cut.name, cut.source)


def _overlaps(box: np.ndarray, boxes: list[np.ndarray], margin: float = 2.0) -> bool:
    for b in boxes:
        if box[0] < b[2] + margin and b[0] < box[2] + margin and box[1] < b[3] + margin and b[1] < box[3] + margin:
            return True
    return False


# --------------------------------------------------------------------------- distractors
def _foam(rng: Rng, img: np.ndarray, mask: np.ndarray, along: float) -> None:
    """Foam: fine bright flecks gathered in streaks along the flow, faint at their edges
    (unlabelled: offices do not ticket natural foam)."""
    H, W = img.shape[:2]
    band = fractal_noise(rng, H, W, rng.uniform(40, 160), 3)
    k = int(rng.integers(15, 61)) | 1
    kern = np.zeros((k, k), np.float32)
    c = k // 2
    dx, dy = np.cos(along), np.sin(along)
    cv2.line(kern, (int(c - dx * c), int(c - dy * c)), (int(c + dx * c), int(c + dy * c)), 1.0, 1)
    band = cv2.filter2D(band, -1, kern / max(kern.sum(), 1))
    bthr = rng.uniform(0.72, 0.88)
    streak = np.clip((band - bthr) / (1 - bthr) * 3, 0, 1)
    fleck = fractal_noise(rng, H, W, rng.uniform(1.5, 4), 2)
    fl = np.clip((fleck - rng.uniform(0.45, 0.7)) * 4, 0, 1)
    f = streak * fl * rng.uniform(0.2, 0.6) * mask
    img *= 1 - f[..., None]
    img += f[..., None] * rng.uniform(190, 240)


def _leaves(rng: Rng, img: np.ndarray, mask: np.ndarray, n: int) -> None:
    """Leaves and twigs: small, dark and brown, the commonest harmless specks."""
    H, W = img.shape[:2]
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return
    for _ in range(n):
        i = int(rng.integers(len(xs)))
        x, y = int(xs[i]), int(ys[i])
        col = tuple(float(v) for v in rng.choice([(30, 50, 70), (20, 40, 50), (40, 80, 90), (25, 35, 35)]))
        if rng.random() < 0.5:
            ln = rng.uniform(4, 25)
            a = rng.uniform(0, np.pi)
            p2 = (int(x + ln * np.cos(a)), int(y + ln * np.sin(a)))
            cv2.line(img, (x, y), p2, col, 1, cv2.LINE_AA)
        else:
            cv2.ellipse(img, (x, y), (int(rng.integers(1, 4)), int(rng.integers(1, 3))), float(rng.uniform(0, 180)),
                        0, 360, col, -1, cv2.LINE_AA)


# --------------------------------------------------------------------------- water
def generated_water(rng: Rng, size: int) -> np.ndarray:
    """Turbid river water: brown, olive or grey, with flow streaks and slow variation."""
    base = np.array(rng.choice([(70, 100, 120), (60, 95, 110), (80, 110, 115), (90, 100, 100), (50, 80, 85),
                                (100, 120, 130), (60, 70, 60)]), np.float32) + rng.normal(0, 8, 3)
    big = fractal_noise(rng, size, size, rng.uniform(80, 300), 3)
    fine = fractal_noise(rng, size, size, rng.uniform(3, 10), 2)
    img = base * (0.8 + 0.35 * big[..., None]) + (fine[..., None] - 0.5) * rng.uniform(4, 18)
    ang = rng.uniform(0, 180)
    img = motion_blur(np.clip(img, 0, 255).astype(np.uint8), int(rng.integers(3, 15)), ang).astype(np.float32)
    return img


def _crop(rng: Rng, bg: Background, size: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    img, water = bg.image, bg.water
    H, W = img.shape[:2]
    if scale != 1.0:
        nw, nh = max(size, int(W * scale)), max(size, int(H * scale))
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        water = cv2.resize(water.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST).astype(bool)
        H, W = nh, nw
    if H < size or W < size:
        f = size / min(H, W)
        img = cv2.resize(img, (int(np.ceil(W * f)), int(np.ceil(H * f))), interpolation=cv2.INTER_LINEAR)
        water = cv2.resize(water.astype(np.uint8), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        H, W = img.shape[:2]
    # Prefer crops with water in them.
    best: tuple[float, int, int] | None = None
    for _ in range(6):
        y0, x0 = int(rng.integers(0, H - size + 1)), int(rng.integers(0, W - size + 1))
        share = water[y0:y0 + size, x0:x0 + size].mean()
        if best is None or share > best[0]:
            best = (share, x0, y0)
        if share > 0.5:
            break
    assert best is not None  # the loop ran at least once
    _, x0, y0 = best
    return img[y0:y0 + size, x0:x0 + size].astype(np.float32), water[y0:y0 + size, x0:x0 + size]


# --------------------------------------------------------------------------- scenes
def overhead_scene(rng: Rng, backgrounds: list[Background], p: SceneParams = SceneParams()) -> LitterScene:
    S = p.size
    if not backgrounds or rng.random() < p.p_generated_water:
        img, water, src = generated_water(rng, S), np.ones((S, S), bool), "generated-water"
    else:
        bg = backgrounds[int(rng.integers(len(backgrounds)))]
        img, water = _crop(rng, bg, S, float(np.exp(rng.uniform(np.log(0.5), np.log(1.3)))))
        src = bg.source
        if water.mean() < 0.05:  # nothing to float on: a negative of this scene
            return _finish(rng, LitterScene(np.clip(img, 0, 255).astype(np.uint8), np.zeros((0, 4), np.float32),
                                            [], "overhead", src))
    flow = rng.uniform(0, np.pi)
    if rng.random() < p.p_distractors:
        if rng.random() < 0.35:
            _foam(rng, img, water.astype(np.float32), flow)
        _leaves(rng, img, water, int(rng.integers(0, 25)))
    gsd_cm = float(np.exp(rng.uniform(np.log(0.6), np.log(4.0))))  # cm per pixel
    boxes: list[np.ndarray] = []
    kinds: list[str] = []
    ys, xs = np.nonzero(water)
    for _ in range(int(rng.integers(p.items[0], p.items[1] + 1))):
        kind = choose_kind(rng)
        L = float(np.clip(length_m(rng, kind) * 100 / gsd_cm, 3, p.max_item_px))
        cut = render_item(rng, kind, L, side=False)
        h, w = cut.alpha.shape
        for _try in range(8):
            i = int(rng.integers(len(xs)))
            x0, y0 = int(xs[i] - w / 2), int(ys[i] - h / 2)
            spot = img[max(0, y0):y0 + h, max(0, x0):x0 + w]
            c = _tone_to(cut, spot, rng.uniform(0.2, 0.6))
            if _overlaps(np.array([x0, y0, x0 + w, y0 + h], np.float32), boxes):
                continue
            _add(img, c, x0, y0, p.min_box_px, boxes, kinds, kind, shadow=rng.uniform(0.05, 0.3))
            break
    return _finish(rng, LitterScene(np.clip(img, 0, 255).astype(np.uint8), _stack(boxes), kinds, "overhead", src))


def _bank_sky(rng: Rng, banks: list[np.ndarray], w: int, h: int) -> np.ndarray:
    """What stands on the far bank (and its mirror): a strip of a real photo."""
    if not banks:
        return np.clip(generated_water(rng, max(w, h))[:h, :w] * 1.3, 0, 255)
    src = banks[int(rng.integers(len(banks)))]
    H, W = src.shape[:2]
    f = max(w / W, h / H) * rng.uniform(1.0, 2.0)
    big = cv2.resize(src, (int(np.ceil(W * f)), int(np.ceil(H * f))), interpolation=cv2.INTER_LINEAR)
    y0, x0 = int(rng.integers(0, big.shape[0] - h + 1)), int(rng.integers(0, big.shape[1] - w + 1))
    return big[y0:y0 + h, x0:x0 + w].astype(np.float32)


def bank_scene(rng: Rng, banks: list[np.ndarray], p: SceneParams = SceneParams()) -> LitterScene:
    """A low camera over calm water: the chip is either the band at the horizon (far bank
    and its reflection) or wholly water nearer the camera."""
    S = p.size
    horizon = int(rng.uniform(-0.6, 0.45) * S)  # row of the far waterline; negative: above the chip
    f_px = float(rng.uniform(900, 2200))  # focal length in pixels of the camera the chip comes from
    cam_h = float(rng.uniform(0.5, 3.0))  # metres above the water
    bank_h = max(1, horizon)
    refl_h = S - max(0, horizon)
    scene_src = _bank_sky(rng, banks, S, max(bank_h, 8) + refl_h)
    img = np.zeros((S, S, 3), np.float32)
    if horizon > 0:
        img[:horizon] = scene_src[-horizon:] if horizon <= scene_src.shape[0] else scene_src[:horizon]
    # Reflection: the bank upside down, darker, tinted by the water, broken by ripples.
    mirror = scene_src[::-1][:refl_h]
    if mirror.shape[0] < refl_h:
        mirror = cv2.resize(mirror, (S, refl_h))
    water_col = np.array(rng.choice([(50, 70, 60), (60, 80, 75), (70, 90, 100), (40, 50, 45), (80, 100, 95)]),
                         np.float32)
    refl = rng.uniform(0.25, 0.7)
    yy = np.arange(refl_h, dtype=np.float32)[:, None]
    depth = (yy + max(0, -horizon)) / S  # 0 at the far waterline
    amp = rng.uniform(0.3, 2.5) * (1 + 4 * depth)  # ripples grow nearer the camera
    # Ripples are long horizontal crests: the mirror shifts sideways row by row and is
    # smeared vertically, it does not swirl.
    rows = fractal_noise(rng, refl_h, 8, rng.uniform(1.5, 4), 2)[:, :1] - 0.5
    along = fractal_noise(rng, refl_h, S, rng.uniform(60, 200), 2) - 0.5
    mapx = (np.arange(S, dtype=np.float32)[None, :] + amp * 3 * (rows + 0.4 * along)).astype(np.float32)
    mapy = np.clip(yy + amp * 0.6 * rows, 0, refl_h - 1).astype(np.float32).repeat(S, 1) if refl_h else yy
    mirror = cv2.remap(mirror.astype(np.float32), mapx, mapy.astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    mirror = cv2.blur(mirror, (int(rng.integers(1, 4)), int(rng.integers(3, 16))))
    water = mirror * refl + water_col * (1 - refl)
    # Ripple highlights: thin bright horizontal dashes where the sky is mirrored.
    dash = fractal_noise(rng, refl_h, S, rng.uniform(2, 5), 2)
    dash = cv2.resize(cv2.resize(dash, (S, max(1, refl_h // 3))), (S, refl_h))
    if rng.random() < 0.5:  # sparse: most calm water shows few
        water += np.clip((dash - rng.uniform(0.9, 0.97)) * 20, 0, 1)[..., None] * rng.uniform(10, 50)
    img[max(0, horizon):] = water
    wmask = np.zeros((S, S), bool)
    wmask[max(0, horizon) + 2:] = True
    if rng.random() < 0.3:
        _foam(rng, img, wmask.astype(np.float32) * rng.uniform(0.3, 0.8), 0.0)
    if rng.random() < 0.6:
        _leaves(rng, img, wmask, int(rng.integers(0, 15)))
    boxes: list[np.ndarray] = []
    kinds: list[str] = []
    for _ in range(int(rng.integers(p.items[0], p.items[1] + 1))):
        y = float(rng.uniform(max(0, horizon) + 3, S - 2))
        d = y - horizon  # rows below the horizon
        kind = choose_kind(rng)
        L = length_m(rng, kind) * d / cam_h
        if L < 3:
            continue
        L = min(L, p.max_item_px)
        volumetric = kind in ("bottle", "can", "styrofoam", "foodbox")
        squash = float(np.clip(0.55 + d / f_px, 0.55, 1.0)) if volumetric else float(np.clip(0.12 + 1.5 * d / f_px, 0.15, 1.0))
        cut = render_item(rng, kind, L, side=volumetric, squash=squash)
        cut = reflection(cut, rng, rng.uniform(0.25, 0.7) * refl)
        h, w = cut.alpha.shape
        x0 = int(rng.uniform(-0.2 * w, S - 0.8 * w))
        y0 = int(y - h / 2)
        trial = np.array([x0, y0, x0 + w, y0 + h / 2], np.float32)
        if _overlaps(trial, boxes):
            continue
        spot = img[max(0, y0):y0 + h, max(0, x0):x0 + w]
        _add(img, _tone_to(cut, spot, rng.uniform(0.1, 0.5)), x0, y0, p.min_box_px, boxes, kinds, kind)
    return _finish(rng, LitterScene(np.clip(img, 0, 255).astype(np.uint8), _stack(boxes), kinds, "bank", "bank",
                                    horizon))


def _add(img: np.ndarray, cut: Cutout, x0: int, y0: int, min_box_px: float, boxes: list[np.ndarray],
         kinds: list[str], kind: str, shadow: float = 0.0) -> None:
    """Paste an item and label it where enough of it shows (an item cut off by the frame
    edge may leave too little to box)."""
    lab = _paste(img, cut, x0, y0, shadow=shadow)
    if lab is None:
        return
    b = _box(lab, min_box_px)
    if b is not None:
        boxes.append(b)
        kinds.append(kind)


def _stack(boxes: list[np.ndarray]) -> np.ndarray:
    return np.stack(boxes).astype(np.float32) if boxes else np.zeros((0, 4), np.float32)


def _finish(rng: Rng, s: LitterScene) -> LitterScene:
    """The camera: softness, noise, exposure, haze, glint, compression."""
    img = s.image
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.1)))
    if rng.random() < 0.3:
        img = motion_blur(img, int(rng.integers(2, 5)), float(rng.uniform(0, 180)))
    if rng.random() < 0.4:
        img = glint(rng, img, int(rng.integers(10, 150)))
    if rng.random() < 0.25:
        img = haze(img, float(rng.uniform(0.1, 0.5)))
    if rng.random() < 0.5:
        img = exposure(img, float(rng.uniform(0.7, 1.3)), float(rng.uniform(0.8, 1.25)))
    if rng.random() < 0.6:
        noisy = img.astype(np.float32) + rng.normal(0, rng.uniform(1, 6), img.shape)
        img = np.clip(noisy, 0, 255).astype(np.uint8)
    img = jpeg(img, int(rng.integers(45, 95)))
    return LitterScene(img, s.boxes, s.kinds, s.view, s.source, s.horizon)
