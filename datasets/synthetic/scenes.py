"""Scene composition: a river chip seen by a drone (nadir or oblique) or by a fixed camera
on a bank or bridge, with exact boxes for every labelled object.

Sizes come from metres: each object class has a real size range, each scene a ground
sampling distance (GSD), so the detector sees objects at the scales a 20 MP survey photo
gives in its tiles (1-5 cm/px) and in its downscaled full-frame pass (0.2-0.6 m/px).
Boxes are read back from an instance mask after all drawing and warping, so occlusion,
truncation and perspective are accounted for exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

import heyan.datasets.synthetic.sprites as sp
from heyan.datasets.synthetic.effects import composite, jpeg_roundtrip, photometric, rotate_sprite
from heyan.datasets.synthetic.textures import Rng, fractal_noise, land_texture, sky_texture, water_texture
from heyan.vision.classes import class_index

# Real-world size ranges (metres) of each class's characteristic length.
SIZE_M: dict[str, tuple[float, float]] = {
    "floating_debris": (0.3, 3.5),
    "sand_dredger": (15.0, 45.0),
    "boat": (4.0, 14.0),
    "waste_pile": (2.0, 15.0),
    "structure": (4.0, 25.0),
}
ON_WATER = {"floating_debris", "sand_dredger", "boat"}
CLASS_WEIGHTS = {"floating_debris": 0.34, "sand_dredger": 0.15, "boat": 0.15, "waste_pile": 0.17, "structure": 0.19}
SPRITES: dict[str, Callable[[Rng, float], sp.Sprite]] = {
    "floating_debris": sp.floating_debris,
    "sand_dredger": sp.sand_dredger,
    "boat": sp.boat,
    "waste_pile": sp.waste_pile,
    "structure": sp.structure,
}
MIN_BOX_PX = 4


@dataclass
class SceneSample:
    image: np.ndarray  # uint8 BGR
    boxes: np.ndarray  # (N, 4) xyxy pixels
    class_ids: np.ndarray  # (N,)
    view: str  # "nadir" | "oblique" | "camera"
    gsd_m: float | None = None


def _loguniform(rng: Rng, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _boxes_from_mask(inst: np.ndarray, labels: dict[int, int], full_area: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    boxes, cids = [], []
    for iid, cid in labels.items():
        ys, xs = np.nonzero(inst == iid)
        if len(xs) == 0:
            continue
        # An object mostly hidden or cut off is not labelled: a reviewer would not box it.
        if len(xs) < 0.3 * full_area.get(iid, len(xs)):
            continue
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        if x2 - x1 < MIN_BOX_PX or y2 - y1 < MIN_BOX_PX:
            continue
        boxes.append((x1, y1, x2, y2))
        cids.append(cid)
    return np.array(boxes, np.float32).reshape(-1, 4), np.array(cids, np.int64)


def _place_sprite(rng: Rng, img: np.ndarray, inst: np.ndarray, sprite: sp.Sprite, cx: float, cy: float,
                  angle: float, iid: int, sun: float, shadow_px_per_m: float) -> float:
    alphas = [sprite.alpha, sprite.label_alpha if sprite.label_alpha is not None else sprite.alpha]
    bgr, (alpha, lab) = rotate_sprite(sprite.bgr, alphas, angle)
    h, w = alpha.shape
    x0, y0 = int(cx - w / 2), int(cy - h / 2)
    if sprite.casts_shadow and sprite.height_m > 0:
        d = min(sprite.height_m * shadow_px_per_m, 0.6 * max(h, w))
        sx, sy = int(x0 + d * np.cos(sun)), int(y0 + d * np.sin(sun))
        shadow = np.zeros_like(bgr)
        composite(img, shadow, alpha * rng.uniform(0.25, 0.5), sx, sy)
    composite(img, bgr, alpha, x0, y0)
    res = composite(np.zeros((*inst.shape, 1), np.float32), np.ones((h, w, 1), np.float32), lab, x0, y0)
    if res is not None and iid > 0:
        ys, xs, a = res
        region = inst[ys, xs]
        region[a > 0.5] = iid
    return float((lab > 0.5).sum())


def _river_masks(rng: Rng, H: int, W: int, gsd: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Signed distance (px) from the bank line; <0 is water. Also an embankment mask."""
    width_m = _loguniform(rng, 12, 400)
    half = width_m / gsd / 2
    ang = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    u = (xx - W / 2) * np.cos(ang) + (yy - H / 2) * np.sin(ang)
    v = -(xx - W / 2) * np.sin(ang) + (yy - H / 2) * np.cos(ang)
    meander = rng.uniform(0, 0.3) * half * np.sin(u / max(half * rng.uniform(2, 6), 1) + rng.uniform(0, 6.28))
    offset = rng.uniform(-(half + 0.6 * H), half + 0.6 * H) if rng.random() < 0.85 else rng.uniform(-half, half)
    dist = np.abs(v - meander - offset) - half
    dist += fractal_noise(rng, H, W, max(4.0, 8 / gsd), 3) * min(3.0 / gsd, half * 0.2 + 2)
    bank_w = rng.uniform(1.0, 8.0) / gsd
    embankment = (dist >= 0) & (dist < bank_w)
    return dist, embankment, bank_w


def render_drone_scene(rng: Rng, size: int = 320, gsd_m: float | None = None, oblique: bool | None = None,
                       max_objects: int = 10) -> SceneSample:
    oblique = bool(rng.random() < 0.3) if oblique is None else oblique
    gsd = gsd_m if gsd_m is not None else _loguniform(rng, 0.012, 0.6)
    H = W = int(size * 1.6) if oblique else size
    dist, embank, _ = _river_masks(rng, H, W, gsd)
    water = dist < 0
    wimg, glint = water_texture(rng, H, W, gsd)
    limg = land_texture(rng, H, W, gsd)
    bank_col = np.array([(150, 155, 155), (110, 120, 125), (90, 115, 140), (140, 140, 130)][rng.integers(4)], np.float32)
    bimg = bank_col + fractal_noise(rng, H, W, max(2.0, 0.5 / gsd), 3)[..., None] * 18
    img = np.where(water[..., None], wimg, np.where(embank[..., None], bimg, limg)).astype(np.float32)
    # Wet, darker strip along the waterline.
    shore = np.clip(1 - np.abs(dist) / max(2.0, 0.6 / gsd), 0, 1)
    img *= (1 - 0.25 * shore)[..., None]
    inst = np.zeros((H, W), np.int32)
    sun = rng.uniform(0, 2 * np.pi)
    shadow_k = 1.0 / gsd * rng.uniform(0.3, 1.2)

    def sample_point(on_water: bool, tries: int = 30) -> tuple[float, float] | None:
        for _ in range(tries):
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            if water[int(y), int(x)] == on_water:
                return x, y
        return None

    # Distractors first: objects may sit over them.
    for _ in range(int(rng.poisson(4))):
        kind = rng.choice(["rock", "tree", "whitecaps", "car", "algae"], p=[0.25, 0.3, 0.2, 0.1, 0.15])
        on_water = kind in ("whitecaps", "algae")
        p = sample_point(on_water)
        if p is None:
            continue
        size_m = {"rock": (0.3, 2.0), "tree": (3, 10), "whitecaps": (1, 8), "car": (4, 5), "algae": (3, 30)}[kind]
        px = rng.uniform(*size_m) / gsd
        if px < 2 or px > 2 * max(H, W):
            continue
        sprite = {"rock": sp.rock, "tree": sp.tree, "whitecaps": sp.whitecaps, "car": sp.car, "algae": sp.algae}[kind](rng, px)
        _place_sprite(rng, img, inst, sprite, p[0], p[1], rng.uniform(0, 360), 0, sun, shadow_k)
    if rng.random() < 0.08 and water.any():  # a bridge across the river
        ang = rng.uniform(0, 180)
        span = int(2 * max(H, W))
        deck_w = max(3, int(rng.uniform(8, 25) / gsd))
        deck = sp.Sprite(np.full((deck_w, span, 3), rng.uniform(130, 190), np.float32), np.ones((deck_w, span), np.float32), height_m=8)
        p = sample_point(True) or (W / 2, H / 2)
        _place_sprite(rng, img, inst, deck, p[0], p[1], ang, 0, sun, shadow_k)

    labels: dict[int, int] = {}
    areas: dict[int, float] = {}
    names = list(CLASS_WEIGHTS)
    probs = np.array(list(CLASS_WEIGHTS.values()))
    n_obj = int(rng.integers(0, max_objects + 1)) if rng.random() > 0.08 else 0
    for _ in range(n_obj):
        name = str(rng.choice(names, p=probs / probs.sum()))
        lo, hi = SIZE_M[name]
        px = _loguniform(rng, lo, hi) / gsd
        if px < MIN_BOX_PX + 1 or px > 0.8 * size:
            continue
        p = sample_point(name in ON_WATER)
        if p is None:
            continue
        iid = len(labels) + 1
        sprite = SPRITES[name](rng, px)
        if name == "floating_debris" and rng.random() < 0.5:  # partly submerged: fade into water
            sprite.alpha *= rng.uniform(0.6, 0.95)
        areas[iid] = _place_sprite(rng, img, inst, sprite, p[0], p[1], rng.uniform(0, 360), iid, sun, shadow_k)
        labels[iid] = class_index(name)
    img += (glint * rng.uniform(80, 200))[..., None]
    img = photometric(rng, img)
    view = "nadir"
    if oblique:
        img, inst = _oblique_warp(rng, img, inst, size)
        view = "oblique"
    boxes, cids = _boxes_from_mask(inst, labels, areas if not oblique else {})
    out = jpeg_roundtrip(rng, np.clip(img, 0, 255).astype(np.uint8))
    return SceneSample(out, boxes, cids, view, gsd)


def _oblique_warp(rng: Rng, img: np.ndarray, inst: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Perspective of a camera tilted forward: the far (top) edge covers more ground."""
    H, W = inst.shape
    squeeze = rng.uniform(0.15, 0.4) * W
    src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
    dst = np.float32([[0, 0], [size, 0], [size - 0, size], [0, size]])
    src = np.float32([[0, 0], [W, 0], [W - squeeze, H], [squeeze, H]])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    inst_w = cv2.warpPerspective(inst.astype(np.float32), m, (size, size), flags=cv2.INTER_NEAREST).astype(np.int32)
    return out, inst_w


# ----------------------------------------------------------------------- fixed camera
def _side_vessel(rng: Rng, length_px: float, dredger: bool) -> sp.Sprite:
    L = max(6, int(length_px))
    hull_h = max(2, int(L * rng.uniform(0.08, 0.14)))
    top_h = int(L * (0.35 if dredger else 0.2))
    H = hull_h + top_h + 2
    bgr = np.zeros((H, L, 3), np.float32)
    a = np.zeros((H, L), np.float32)
    hull = np.array([[0, H - hull_h], [L - 1, H - hull_h], [int(L * 0.92), H - 1], [int(L * 0.05), H - 1]], np.int32)
    col = sp._colour(rng, (60, 60, 110) if dredger else (200, 200, 200), 25)
    cv2.fillConvexPoly(bgr, hull, col.tolist())
    cv2.fillConvexPoly(a, hull, 1.0)
    cab_w = int(L * rng.uniform(0.15, 0.3))
    cab_x = int(L * rng.uniform(0.6, 0.75)) if dredger else int(L * rng.uniform(0.3, 0.6))
    cab_h = max(1, int(top_h * rng.uniform(0.4, 0.7)))
    cv2.rectangle(bgr, (cab_x, H - hull_h - cab_h), (cab_x + cab_w, H - hull_h), sp._colour(rng, (225, 225, 220), 15).tolist(), -1)
    cv2.rectangle(a, (cab_x, H - hull_h - cab_h), (cab_x + cab_w, H - hull_h), 1.0, -1)
    if dredger:
        heap = np.array([[int(L * 0.08), H - hull_h], [int(L * 0.3), H - hull_h - int(top_h * 0.5)], [int(L * 0.55), H - hull_h]], np.int32)
        cv2.fillConvexPoly(bgr, heap, sp._colour(rng, (110, 160, 195), 10).tolist())
        cv2.fillConvexPoly(a, heap, 1.0)
        t = max(1, L // 60)
        top = (int(L * 0.15), H - hull_h - top_h + 1)
        cv2.line(bgr, (int(L * 0.02), H - hull_h), top, (50, 50, 50), t)
        cv2.line(a, (int(L * 0.02), H - hull_h), top, 1.0, t)
        cv2.line(bgr, top, (int(L * 0.35), H - hull_h), (50, 50, 50), t)
        cv2.line(a, top, (int(L * 0.35), H - hull_h), 1.0, t)
    if rng.random() < 0.5:
        bgr, a = bgr[:, ::-1].copy(), a[:, ::-1].copy()
    return sp.Sprite(bgr, a)


def _side_building(rng: Rng, width_px: float) -> sp.Sprite:
    Wd = max(5, int(width_px))
    Hh = max(4, int(Wd * rng.uniform(0.4, 1.0)))
    bgr = np.zeros((Hh, Wd, 3), np.float32)
    bgr[:] = sp._colour(rng, [(210, 210, 205), (170, 170, 160), (190, 120, 50), (150, 170, 190)][rng.integers(4)], 15)
    roof_h = max(1, Hh // 6)
    bgr[:roof_h] = sp._colour(rng, (190, 120, 40) if rng.random() < 0.5 else (60, 60, 150), 10)
    for _ in range(int(rng.integers(0, 6))):
        x, y = int(rng.uniform(0.1, 0.8) * Wd), int(rng.uniform(0.3, 0.8) * Hh)
        cv2.rectangle(bgr, (x, y), (x + max(1, Wd // 10), y + max(1, Hh // 8)), (60, 60, 60), -1)
    return sp.Sprite(bgr, np.ones((Hh, Wd), np.float32))


def render_camera_scene(rng: Rng, size: int = 320, max_objects: int = 8) -> SceneSample:
    """A fixed camera on a bank or bridge looking along or across the river."""
    H = W = size
    f = W / (2 * np.tan(np.radians(rng.uniform(25, 45))))  # focal px for a 50-90 deg HFOV
    cam_h = rng.uniform(3, 20)
    tilt = np.radians(rng.uniform(3, 35))  # depression of the optical axis
    horizon = H / 2 - f * np.tan(tilt)  # image row of the horizon
    rows = np.arange(H, dtype=np.float32)
    ang_below = tilt + np.arctan((rows - H / 2) / f)  # depression of each row's ray
    with np.errstate(divide="ignore"):
        z = np.where(ang_below > 1e-3, cam_h / np.tan(np.maximum(ang_below, 1e-3)), np.inf)  # ground distance per row
    far_bank_m = rng.uniform(40, 400)
    far_row = int(np.clip(np.searchsorted(-z, -far_bank_m), 0, H))  # first row nearer than the far bank
    img = np.zeros((H, W, 3), np.float32)
    inst = np.zeros((H, W), np.int32)
    # Water: ripples in ground coordinates, remapped into the image.
    tex, glint = water_texture(rng, 512, 512, rng.uniform(0.03, 0.1))
    xx = np.arange(W, dtype=np.float32)
    zz = np.clip(z, 0, 2000)[:, None]
    ground_x = (xx[None, :] - W / 2) / f * zz
    mx = (ground_x * 8 + 256) % 512
    my = (zz * 4 + np.zeros_like(ground_x)) % 512
    water = cv2.remap(tex, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    fresnel = np.clip(1 - (rows - max(horizon, 0)) / H, 0, 1)[:, None, None]
    sky_col = np.array([rng.uniform(190, 235)] * 3, np.float32)
    water = water * (1 - 0.5 * fresnel) + sky_col * 0.5 * fresnel
    img[:] = water
    # Sky and far bank
    hz = int(np.clip(horizon, 0, H))
    if hz > 0:
        img[:hz] = sky_texture(rng, hz, W)
    bank_top = max(0, min(far_row, H) - int(rng.uniform(2, 25)))
    if far_row > 0:
        band = land_texture(rng, max(1, far_row - bank_top), W, 0.5)
        img[bank_top:far_row] = band
        # tree line / buildings silhouettes on the far bank
        for _ in range(int(rng.integers(2, 10))):
            x = int(rng.uniform(0, W))
            tw = int(rng.uniform(5, 40))
            th = int(rng.uniform(3, 30))
            cv2.ellipse(img, (x, bank_top), (tw, th), 0, 180, 360, sp._colour(rng, (50, 90, 55), 15).tolist(), -1)
    near_bank = rng.random() < 0.5
    if near_bank:  # a diagonal strip of near bank in a bottom corner
        pts = np.array([[0, H], [0, int(H * rng.uniform(0.5, 0.9))], [int(W * rng.uniform(0.2, 0.6)), H]], np.int32)
        if rng.random() < 0.5:
            pts[:, 0] = W - pts[:, 0]
        mask = np.zeros((H, W), np.uint8)
        cv2.fillConvexPoly(mask, pts, 1)
        ltex = land_texture(rng, H, W, 0.02)
        img[mask > 0] = ltex[mask > 0]
    else:
        mask = np.zeros((H, W), np.uint8)
    labels: dict[int, int] = {}
    areas: dict[int, float] = {}
    water_rows = np.arange(max(far_row, hz + 1), H)
    n_obj = int(rng.integers(0, max_objects + 1))
    order: list[tuple[float, str, float, float]] = []
    for _ in range(n_obj):
        name = str(rng.choice(["floating_debris", "boat", "sand_dredger", "structure", "waste_pile"], p=[0.5, 0.18, 0.12, 0.1, 0.1]))
        if name in ("structure", "waste_pile"):
            if far_row <= 2 or bank_top >= H:
                continue
            row = float(np.clip(far_row - 1, 1, H - 1))
        else:
            if len(water_rows) == 0:
                continue
            row = float(rng.choice(water_rows))
        order.append((row, name, float(rng.uniform(0, W)), float(z[int(row)])))
    for row, name, x, dist in sorted(order):  # far first, so near objects occlude them
        if not np.isfinite(dist):
            continue
        lo, hi = SIZE_M[name]
        px = _loguniform(rng, lo, hi) * f / max(dist, 1.0)
        if px < MIN_BOX_PX or px > 0.9 * size:
            continue
        iid = len(labels) + 1
        if name == "floating_debris":
            s = sp.floating_debris(rng, px)
            squash = max(0.15, float(np.sin(np.arctan(cam_h / dist))))
            nh = max(2, int(s.alpha.shape[0] * squash))
            s = sp.Sprite(cv2.resize(s.bgr, (s.alpha.shape[1], nh)), cv2.resize(s.alpha, (s.alpha.shape[1], nh)), casts_shadow=False)
            y_anchor = row
        elif name in ("boat", "sand_dredger"):
            s = _side_vessel(rng, px, name == "sand_dredger")
            y_anchor = row - s.alpha.shape[0] / 2
            # reflection in the water below the hull
            refl_a = cv2.GaussianBlur(s.alpha[::-1], (0, 0), 1.0) * 0.25
            composite(img, s.bgr[::-1] * 0.6, refl_a, int(x - s.alpha.shape[1] / 2), int(row))
        elif name == "structure":
            s = _side_building(rng, px)
            y_anchor = row - s.alpha.shape[0] / 2
        else:
            s = sp.waste_pile(rng, px)
            nh = max(2, int(s.alpha.shape[0] * 0.5))
            s = sp.Sprite(cv2.resize(s.bgr, (s.alpha.shape[1], nh)), cv2.resize(s.alpha, (s.alpha.shape[1], nh)))
            y_anchor = row - nh / 2
        s.casts_shadow = False
        areas[iid] = _place_sprite(rng, img, inst, s, x, y_anchor, 0.0, iid, 0.0, 0.0)
        labels[iid] = class_index(name)
    img += (glint_rows(rng, H, W, hz) * rng.uniform(0, 160))[..., None]
    img = photometric(rng, img)
    boxes, cids = _boxes_from_mask(inst, labels, areas)
    out = jpeg_roundtrip(rng, np.clip(img, 0, 255).astype(np.uint8))
    return SceneSample(out, boxes, cids, "camera", None)


def glint_rows(rng: Rng, H: int, W: int, horizon: int) -> np.ndarray:
    """Sun glitter: a column of sparkles on the water under the sun (hard negative)."""
    g = np.zeros((H, W), np.float32)
    if rng.random() < 0.5:
        return g
    cx = rng.uniform(0, W)
    spread = rng.uniform(10, W / 3)
    n = int(rng.integers(20, 300))
    xs = rng.normal(cx, spread, n).astype(int)
    ys = rng.integers(max(horizon, 0), H, n)
    ok = (xs >= 0) & (xs < W)
    for x, y in zip(xs[ok], ys[ok]):
        cv2.ellipse(g, (int(x), int(y)), (int(rng.integers(1, 4)), 1), 0, 0, 360, float(rng.uniform(0.5, 1)), -1)
    return g


def render_scene(rng: Rng, size: int = 320, camera_fraction: float = 0.25) -> SceneSample:
    if rng.random() < camera_fraction:
        return render_camera_scene(rng, size)
    return render_drone_scene(rng, size)
