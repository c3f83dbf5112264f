"""Copy-paste composition: objects pasted onto real backgrounds, so the detector learns the
classes it has no real labels for against real water, shore and land.

Steps, each a plain function:
- cut-outs: real ones cut from labelled photos (GrabCut inside the box, soft edge), and
  generated ones rendered by the synthetic sprites with shading, a perspective warp,
  partial submersion, wet edges and (for side views) a reflection;
- scene masks: where the background is open water and where it is land;
- placement that respects the scene (vessels and debris on water, piles and buildings on
  land), sized from the class's real size and the background's ground sampling distance,
  colour and brightness matched to the spot it lands on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from heyan.datasets.synthetic.effects import rotate_sprite
from heyan.datasets.synthetic.scenes import ON_WATER, SIZE_M, SPRITES
from heyan.datasets.synthetic.textures import fractal_noise
from heyan.vision.nms import pairwise_overlap

Rng = np.random.Generator


@dataclass
class Cutout:
    bgr: np.ndarray  # (h, w, 3) 0-255: uint8 (real cut-outs) or float32 (rendered)
    alpha: np.ndarray  # (h, w) float32 0-1: what is drawn
    label_alpha: np.ndarray  # (h, w) float32 0-1: what counts for the box (a boat without its wake)
    name: str
    source: str  # "real:<image>" or "generated"
    length_m: float | None = None  # real size when the source's GSD is known


@dataclass(frozen=True)
class ComposeParams:
    objects_per_chip: tuple[int, int] = (1, 5)
    p_real: float = 0.5  # share of real cut-outs where the class has some
    max_overlap: float = 0.05  # share of either box allowed to overlap a box already in the chip
    colour_match: float = 0.6  # 0: paste as cut, 1: move fully to the spot's mean colour
    min_box_px: float = 4.0
    min_mask_share: float = 0.7  # share of the pasted box that must lie on the right surface


# --------------------------------------------------------------------------- cut-outs
def real_cutout(image: np.ndarray, box: np.ndarray, name: str, source: str, gsd_m: float | None = None,
                grabcut_iters: int = 3) -> Cutout | None:
    """Cut one labelled object out of a photo. GrabCut separates it from the water or
    ground inside its box; when GrabCut keeps too little or nearly everything (flat
    contrast), a feathered ellipse stands in."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    bw, bh = x2 - x1, y2 - y1
    if bw < 6 or bh < 6:
        return None
    m = int(max(4, 0.15 * max(bw, bh)))
    cx1, cy1, cx2, cy2 = max(0, x1 - m), max(0, y1 - m), min(w, x2 + m), min(h, y2 + m)
    crop = image[cy1:cy2, cx1:cx2]
    rect = (x1 - cx1, y1 - cy1, bw, bh)
    mask = np.zeros(crop.shape[:2], np.uint8)
    fg = None
    try:
        cv2.grabCut(crop, mask, rect, np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64),
                    grabcut_iters, cv2.GC_INIT_WITH_RECT)
        fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    except cv2.error:
        fg = None
    box_area = float(bw * bh)
    if fg is None or not (0.15 * box_area <= fg.sum() <= 0.97 * box_area):
        fg = np.zeros(crop.shape[:2], np.float32)
        cv2.ellipse(fg, (rect[0] + bw // 2, rect[1] + bh // 2), (bw // 2, bh // 2), 0, 0, 360, 1.0, -1)
    alpha = cv2.GaussianBlur(fg, (0, 0), max(0.8, 0.02 * max(bw, bh)))
    length = gsd_m * max(bw, bh) if gsd_m else None
    # uint8: hundreds of real cut-outs are held at once
    return Cutout(crop.copy(), alpha, fg, name, f"real:{source}", length)


def _perspective(rng: Rng, bgr: np.ndarray, alphas: list[np.ndarray], amount: float) -> tuple[np.ndarray, list[np.ndarray]]:
    h, w = alphas[0].shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-amount, amount, (4, 2)).astype(np.float32) * np.float32([w, h])
    dst -= dst.min(0)
    size = (int(np.ceil(dst[:, 0].max())) + 1, int(np.ceil(dst[:, 1].max())) + 1)
    m = cv2.getPerspectiveTransform(src, dst)
    return (cv2.warpPerspective(bgr, m, size, flags=cv2.INTER_LINEAR),
            [cv2.warpPerspective(a, m, size, flags=cv2.INTER_LINEAR) for a in alphas])


def reflect(cut: Cutout, strength: float = 0.3) -> Cutout:
    """Add the mirror image below a side-view object, as calm water shows it (not labelled)."""
    h, w = cut.alpha.shape
    bgr = np.concatenate([cut.bgr, cut.bgr[::-1] * 0.8], 0)
    fade = np.linspace(strength, 0.0, h, dtype=np.float32)[:, None]
    alpha = np.concatenate([cut.alpha, cut.alpha[::-1] * fade], 0)
    label = np.concatenate([cut.label_alpha, np.zeros_like(cut.label_alpha)], 0)
    return Cutout(bgr, alpha, label, cut.name, cut.source, cut.length_m)


def generated_cutout(rng: Rng, name: str, size_px: float, side_view: bool = False) -> Cutout:
    """A rendered object made less clean: uneven light, perspective, partly under water,
    dark wet rim where it meets the water."""
    sprite = SPRITES[name](rng, size_px)
    label = sprite.label_alpha if sprite.label_alpha is not None else sprite.alpha
    bgr, (alpha, label) = _perspective(rng, sprite.bgr, [sprite.alpha, label], float(rng.uniform(0.0, 0.15)))
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    shade = 1.0 + rng.uniform(0.05, 0.3) * (np.cos(ang) * (xx / max(w, 1) - 0.5) + np.sin(ang) * (yy / max(h, 1) - 0.5))
    bgr = bgr * shade[..., None]
    if name in ON_WATER:
        if rng.random() < 0.6:  # partial submersion: parts of the object show faintly through water
            under = fractal_noise(rng, h, w, max(2.0, max(h, w) / 4), 2) > rng.uniform(0.1, 0.6)
            alpha = np.where(under, alpha * rng.uniform(0.2, 0.5), alpha).astype(np.float32)
            label = np.where(under, label * 0.4, label).astype(np.float32)
        k = max(1, int(round(max(h, w) / 25)))
        ring = np.clip(alpha - cv2.erode(alpha, np.ones((2 * k + 1, 2 * k + 1), np.uint8)), 0, 1)
        bgr = bgr * (1.0 - 0.35 * ring[..., None])
    cut = Cutout(bgr.astype(np.float32), alpha.astype(np.float32), label.astype(np.float32), name, "generated")
    return reflect(cut) if side_view and name in ON_WATER else cut


# --------------------------------------------------------------------------- scene
def water_land_masks(image: np.ndarray, smooth_max: float = 5.0, work_px: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Open water is smooth, land is textured. On a copy about ``work_px`` wide, water is
    where the local spread of lightness stays under ``smooth_max`` (measured on the
    aerial-maritime lake photos: water 1-4, grass and trees 8-40), not green as lawns are,
    not near-white (smooth
    roofs and boat-lift canopies) and part of a large connected region. Call it on the
    whole photo, not on a chip: a chip may be all water or all land. Coarse, but placement
    only needs 'surely water' and 'surely land'."""
    H, W = image.shape[:2]
    f = work_px / max(H, W)
    small = cv2.resize(image, (max(8, int(W * f)), max(8, int(H * f))), interpolation=cv2.INTER_AREA)
    lum = cv2.cvtColor(small, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    mean = cv2.blur(lum, (7, 7))
    std = np.sqrt(np.maximum(cv2.blur(lum * lum, (7, 7)) - mean * mean, 0))
    std = cv2.GaussianBlur(std, (0, 0), 3)
    # Mown lawns are as smooth as water at this scale; their excess green (2G-R-B, blurred)
    # is 36-48 where lake and river water stay at -35..19 (aerial-maritime, RIVeR, ivy
    # frames), and grass is yellow-green (G well above B) where teal water is not.
    b, g, r = (cv2.blur(small[..., i].astype(np.float32), (7, 7)) for i in range(3))
    vegetation = (2 * g - r - b > 25) & (g - b > 20)
    water = ((std < smooth_max) & (mean < 200) & ~vegetation).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    water = cv2.morphologyEx(cv2.morphologyEx(water, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(water)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 0.03 * water.size
    water = keep[lab]
    land = ~cv2.dilate(water.astype(np.uint8), kernel, iterations=3).astype(bool) & (mean < 200)
    return (cv2.resize(water.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool),
            cv2.resize(land.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST).astype(bool))


def match_colour(cut_bgr: np.ndarray, alpha: np.ndarray, spot_bgr: np.ndarray, strength: float) -> np.ndarray:
    """Move the cut-out's mean lightness and colour part of the way to the spot's, keeping
    its own contrast: the sun and white balance of the background apply to it too."""
    cut = cv2.cvtColor(np.clip(cut_bgr, 0, 255).astype(np.uint8), cv2.COLOR_BGR2LAB).astype(np.float32)
    spot = cv2.cvtColor(spot_bgr.astype(np.uint8), cv2.COLOR_BGR2LAB).astype(np.float32)
    wsum = float(alpha.sum())
    if wsum < 1:
        return cut_bgr
    cut_mean = (cut * alpha[..., None]).reshape(-1, 3).sum(0) / wsum
    shift = (spot.reshape(-1, 3).mean(0) - cut_mean) * np.array([0.5 * strength, strength * 0.6, strength * 0.6])
    out = np.clip(cut + shift, 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_LAB2BGR).astype(np.float32)


def paste(rng: Rng, image: np.ndarray, boxes: np.ndarray, names: list[str], cut: Cutout, length_px: float,
          surface: np.ndarray, p: ComposeParams = ComposeParams(), tries: int = 30
          ) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """Paste ``cut`` scaled so its long side is ``length_px``, rotated at random, where
    ``surface`` (bool mask) holds under most of it and no labelled object is covered.
    None when no such place is found."""
    lh, lw = cut.alpha.shape
    # The object's extent, not the canvas: cut-outs carry a margin, sprites padding.
    oy, ox = np.nonzero(cut.label_alpha > 0.5)
    if len(ox) == 0:
        return None
    extent = max(int(ox.max() - ox.min()) + 1, int(oy.max() - oy.min()) + 1)
    scale = length_px / extent
    if scale <= 0:
        return None
    size = (max(2, int(round(lw * scale))), max(2, int(round(lh * scale))))
    bgr = cv2.resize(cut.bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR).astype(np.float32)
    alpha = cv2.resize(cut.alpha, size, interpolation=cv2.INTER_LINEAR)
    label = cv2.resize(cut.label_alpha, size, interpolation=cv2.INTER_LINEAR)
    bgr, (alpha, label) = rotate_sprite(bgr, [alpha, label], float(rng.uniform(0, 360)))
    ys, xs = np.nonzero(label > 0.5)
    if len(xs) == 0:
        return None
    lx1, ly1, lx2, ly2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    h, w = alpha.shape
    H, W = image.shape[:2]
    if w >= W or h >= H:
        return None
    cand_y, cand_x = np.nonzero(surface)
    if len(cand_x) == 0:
        return None
    for _ in range(tries):
        i = int(rng.integers(len(cand_x)))
        x0, y0 = int(cand_x[i] - w / 2), int(cand_y[i] - h / 2)
        if x0 < 0 or y0 < 0 or x0 + w > W or y0 + h > H:
            continue
        box = np.array([x0 + lx1, y0 + ly1, x0 + lx2, y0 + ly2], np.float32)
        if box[2] - box[0] < p.min_box_px or box[3] - box[1] < p.min_box_px:
            return None
        region = surface[int(box[1]):int(box[3]), int(box[0]):int(box[2])]
        if region.mean() < p.min_mask_share:
            continue
        # Intersection over the smaller box: a small object pasted onto a big one counts.
        if len(boxes) and pairwise_overlap(box[None], boxes, "ios").max() > p.max_overlap:
            continue
        spot = image[y0:y0 + h, x0:x0 + w]
        col = match_colour(bgr, alpha, spot, p.colour_match)
        out = image.astype(np.float32).copy()
        dst = out[y0:y0 + h, x0:x0 + w]
        dst *= 1.0 - alpha[..., None]
        dst += col * alpha[..., None]
        new_boxes = np.concatenate([boxes.reshape(-1, 4), box[None]], 0)
        return np.clip(out, 0, 255).astype(np.uint8), new_boxes, [*names, cut.name]
    return None


def compose_chip(rng: Rng, image: np.ndarray, boxes: np.ndarray, names: list[str], gsd_m: float,
                 real: dict[str, list[Cutout]], p: ComposeParams = ComposeParams(),
                 classes: tuple[str, ...] = tuple(SIZE_M),
                 masks: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Paste a few objects onto one background chip (its existing labels kept). ``masks``:
    water and land of the chip, cut from the whole photo's (computed here if absent)."""
    water, land = masks if masks is not None else water_land_masks(image)
    out, out_boxes, out_names = image, np.asarray(boxes, np.float32).reshape(-1, 4), list(names)
    for _ in range(int(rng.integers(p.objects_per_chip[0], p.objects_per_chip[1] + 1))):
        name = str(rng.choice(classes))
        surface = water if name in ON_WATER else land
        if not surface.any():
            continue
        pool = real.get(name, [])
        lo, hi = SIZE_M[name]
        length_m = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        if pool and rng.random() < p.p_real:
            cut = pool[int(rng.integers(len(pool)))]
            length_m = cut.length_m or length_m  # a real object keeps its real size when known
            length_px = length_m / gsd_m
        else:
            # Rendered at the size it is pasted at: no blurry upscaling, no wasted detail.
            length_px = float(np.clip(length_m / gsd_m, 6, 200))
            cut = generated_cutout(rng, name, length_px)
        res = paste(rng, out, out_boxes, out_names, cut, length_px, surface, p)
        if res is not None:
            out, out_boxes, out_names = res
    return out, out_boxes, out_names
