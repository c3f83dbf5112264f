"""Synthetic fixed-camera video for the edge runner's tests, benchmarks and demos.

The generator makes what a camera over a river sees all day: water whose ripples move
and oscillate, sun glint that sparkles, an object drifting across, and an outfall mouth
whose discharge (flow) and colour change on a schedule. Ground truth comes back with it, so
tests can assert when the gate fires and when outfall events start. Written with
``cv2.VideoWriter`` as MJPG in .avi, which every OpenCV build can write and read back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from heyan.datasets.synthetic.textures import directional_ripples, fractal_noise, land_texture

BGR = tuple[int, int, int]


# --------------------------------------------------------------------------- scene spec


@dataclass
class MovingObject:
    """A floating object visible from ``t0`` to ``t1`` seconds, its centre moving linearly
    from ``start`` to ``end`` (relative 0-1 image coordinates)."""

    t0: float
    t1: float
    start: tuple[float, float]
    end: tuple[float, float]
    size: float = 0.05  # diameter, fraction of the image width
    colour_bgr: BGR = (0, 140, 255)  # orange plastic: bright in grey, saturated in colour
    seed: int = 0
    # "blob": the orange clump above (what the tests' blob detector finds); "debris": a floating-debris
    # sprite of datasets.synthetic, what heyan-det-v1 was trained on (colour_bgr unused).
    sprite: str = "blob"


@dataclass
class OutfallSpec:
    """A pipe mouth in the bank at relative x ``x``; discharge during ``flow`` intervals;
    the water at the mouth takes colour ``c`` during ``colour`` intervals (t0, t1, c)."""

    x: float = 0.5
    flow: list[tuple[float, float]] = field(default_factory=list)
    colour: list[tuple[float, float, BGR]] = field(default_factory=list)
    foam_bgr: BGR = (185, 190, 190)


@dataclass
class SceneSpec:
    width: int = 640
    height: int = 360
    fps: float = 10.0
    seconds: float = 10.0
    seed: int = 0
    bank_frac: float = 0.22  # top part of the image is the opposite bank
    ripple_amp: float = 9.0  # grey levels
    ripple_speed: float = 0.03  # image widths per second
    glint: float = 1.0  # 0: none, 1: a sun column with moving highlights and sparkles
    noise: float = 2.0  # sensor noise, grey levels
    objects: list[MovingObject] = field(default_factory=list)
    outfall: OutfallSpec | None = None
    freeze_after_s: float | None = None  # from then on every frame repeats (a frozen stream)
    render_scale: float = 1.0  # draw at this scale and resize (keeps 1080p generation fast)

    @property
    def n_frames(self) -> int:
        return int(round(self.seconds * self.fps))

    def outfall_roi(self) -> list[list[float]] | None:
        """The mouth ROI (relative polygon) a config for this scene should use."""
        if self.outfall is None:
            return None
        x, b = self.outfall.x, self.bank_frac
        return [[x - 0.035, b - 0.03], [x + 0.035, b - 0.03], [x + 0.07, b + 0.12], [x - 0.07, b + 0.12]]

    def water_roi(self) -> list[list[float]]:
        b = self.bank_frac + 0.01
        return [[0.0, b], [1.0, b], [1.0, 1.0], [0.0, 1.0]]


@dataclass
class SceneTruth:
    fps: float
    n_frames: int
    width: int
    height: int
    # per frame: list of (x1, y1, x2, y2) of the visible objects, full-size pixels
    boxes: list[list[tuple[float, float, float, float]]]

    def to_json(self) -> dict[str, Any]:
        return {"fps": self.fps, "n_frames": self.n_frames, "width": self.width, "height": self.height, "boxes": self.boxes}


def _in(t: float, intervals: Sequence[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in intervals)


def _blob_sprite(rng: np.random.Generator, d: int, colour: BGR) -> tuple[np.ndarray, np.ndarray]:
    """A rough plastic/foam clump: irregular polygon, shaded, soft edge."""
    d = max(4, d)
    n = 12
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = d / 2 * (0.75 + 0.25 * rng.uniform(-1, 1, n))
    pts = np.stack([d / 2 + r * np.cos(ang), d / 2 + r * 0.7 * np.sin(ang)], 1).astype(np.int32)
    alpha = np.zeros((d, d), np.float32)
    cv2.fillPoly(alpha, [pts], 1.0, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(0.6, d / 40))
    yy, xx = np.mgrid[0:d, 0:d].astype(np.float32)
    shade = 1.0 + 0.25 * ((xx - d / 2) - (yy - d / 2)) / d
    bgr = np.clip(np.array(colour, np.float32)[None, None, :] * shade[..., None], 0, 255)
    return bgr, alpha


class SceneRenderer:
    """Frames of a ``SceneSpec``; ``frame(i)`` -> (BGR uint8 full size, boxes)."""

    def __init__(self, spec: SceneSpec) -> None:
        self.spec = spec
        s = spec.render_scale
        self.w, self.h = max(16, int(round(spec.width * s))), max(16, int(round(spec.height * s)))
        w, h = self.w, self.h
        rng = np.random.default_rng(spec.seed)
        self.rng = rng
        self.bank_y = int(spec.bank_frac * h)
        # Static parts: the far bank with a concrete edge, and the water's slow patterns.
        self.bank = land_texture(rng, max(1, self.bank_y), w, 0.05)
        edge = max(2, h // 60)
        self.bank[-edge:] = (150, 152, 150)
        base = np.array([95, 108, 92], np.float32) + rng.normal(0, 4, 3)
        self.water_base = np.empty((h - self.bank_y, w, 3), np.float32)
        self.water_base[:] = base
        self.water_base += fractal_noise(rng, h - self.bank_y, w, max(8.0, w / 8), 3)[..., None] * 6
        # Moving ripples: two fields wide enough to slide across for the whole video without
        # wrapping (a wrap seam would be a moving edge the gate rightly fires on).
        wh = h - self.bank_y
        travel = int(spec.ripple_speed * w * spec.seconds * 1.6) + 8
        wl = max(3.0, w / 90)
        self.r1 = directional_ripples(rng, wh, w + travel, wl, 0.3)
        self.r2 = directional_ripples(rng, wh, w + travel, wl * 1.7, 1.2)
        self.travel = travel
        # Ripples are smaller far away (top of the water) than near the camera.
        self.depth_amp = np.linspace(0.45, 1.0, wh, dtype=np.float32)[:, None]
        sun_x = rng.uniform(0.3, 0.7) * w
        xs = np.arange(w, dtype=np.float32)
        self.sun = np.exp(-0.5 * ((xs - sun_x) / (0.12 * w)) ** 2)[None, :] * spec.glint
        self.sun_x = sun_x
        self.noise_frames = [rng.normal(0, spec.noise, (h, w, 1)).astype(np.float32) for _ in range(5)] if spec.noise > 0 else []
        self.sprites = []
        for obj in spec.objects:
            orng = np.random.default_rng([spec.seed, obj.seed, 7])
            if obj.sprite == "debris":
                from heyan.datasets.synthetic.sprites import floating_debris

                sprite = floating_debris(orng, obj.size * w)
                self.sprites.append((sprite.bgr, sprite.alpha))
            elif obj.sprite == "blob":
                self.sprites.append(_blob_sprite(orng, int(obj.size * w), obj.colour_bgr))
            else:
                raise ValueError(f"MovingObject.sprite: {obj.sprite!r} is not 'blob' or 'debris'")
        if spec.outfall is not None:
            self._init_outfall(spec.outfall)
        self._frozen: tuple[np.ndarray, list] | None = None

    def _init_outfall(self, of: OutfallSpec) -> None:
        w, h = self.w, self.h
        self.mouth = (int(of.x * w), self.bank_y - max(2, h // 60))
        self.mouth_r = max(3, int(0.025 * w))
        plume = np.zeros((h, w), np.float32)
        cx, y0 = self.mouth[0], self.bank_y
        pts = np.array([[cx - self.mouth_r, y0], [cx + self.mouth_r, y0], [cx + int(0.07 * w), y0 + int(0.13 * h)],
                        [cx - int(0.07 * w), y0 + int(0.13 * h)]], np.int32)
        cv2.fillConvexPoly(plume, pts, 1.0, cv2.LINE_AA)
        self.plume = cv2.GaussianBlur(plume, (0, 0), max(1.0, w / 200))[..., None]
        self.foam_noise = fractal_noise(self.rng, h * 2, w, max(2.0, w / 120), 3)

    def frame(self, i: int) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
        spec = self.spec
        t = i / spec.fps
        if spec.freeze_after_s is not None and t >= spec.freeze_after_s and self._frozen is not None:
            return self._frozen
        w, h = self.w, self.h
        img = np.empty((h, w, 3), np.float32)
        img[: self.bank_y] = self.bank
        o1 = int(spec.ripple_speed * w * t) % self.travel
        o2 = int(spec.ripple_speed * w * t * 0.6) % self.travel
        # Moving crests plus a standing oscillation: the hardest case for frame differencing.
        rip = self.r1[:, o1 : o1 + w] * np.cos(2 * np.pi * t / 1.7) + self.r2[:, o2 : o2 + w] * 0.8
        rip *= self.depth_amp
        water = self.water_base + (rip * spec.ripple_amp)[..., None]
        if spec.glint > 0:
            # Specular: each highlight is an image of the sun, far brighter than the water, so
            # it saturates; away from the sun's column highlights get rarer, not dimmer
            # (fewer wave facets are tilted right), as in the Cox-Munk glitter model.
            hi = np.clip((rip - (1.6 + 2.0 * (1.0 - self.sun))) * 4.0, 0, 1) * 220.0
            water += hi[..., None]
        img[self.bank_y :] = water
        if spec.glint > 0:  # short-lived sparkles in the sun column
            n = int(30 * spec.glint * (w / 640) ** 2) + 1
            rng = np.random.default_rng([spec.seed, i, 3])
            xs = rng.normal(self.sun_x, 0.1 * w, n).astype(int)
            ys = rng.integers(self.bank_y, h, n)
            for x, y in zip(xs, ys):
                if 0 <= x < w:
                    cv2.circle(img, (int(x), int(y)), max(1, w // 640), (255, 255, 255), -1)
        if spec.outfall is not None:
            self._draw_outfall(img, t, i)
        boxes: list[tuple[float, float, float, float]] = []
        sx, sy = spec.width / w, spec.height / h
        for obj, (sbgr, salpha) in zip(spec.objects, self.sprites):
            if not obj.t0 <= t < obj.t1:
                continue
            f = (t - obj.t0) / max(obj.t1 - obj.t0, 1e-6)
            cx = (obj.start[0] + f * (obj.end[0] - obj.start[0])) * w
            cy = (obj.start[1] + f * (obj.end[1] - obj.start[1])) * h + 0.003 * h * np.sin(2 * np.pi * t / 2.3)
            b = _composite(img, sbgr, salpha, int(round(cx - sbgr.shape[1] / 2)), int(round(cy - sbgr.shape[0] / 2)))
            if b is not None:
                boxes.append((b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy))
        if self.noise_frames:
            img += self.noise_frames[i % len(self.noise_frames)]
        out = np.clip(img, 0, 255).astype(np.uint8)
        if (w, h) != (spec.width, spec.height):
            out = cv2.resize(out, (spec.width, spec.height), interpolation=cv2.INTER_LINEAR)
        if spec.freeze_after_s is not None and t >= spec.freeze_after_s:
            self._frozen = (out, boxes)
        return out, boxes

    def _draw_outfall(self, img: np.ndarray, t: float, i: int) -> None:
        of = self.spec.outfall
        assert of is not None
        cv2.ellipse(img, self.mouth, (self.mouth_r, max(2, self.mouth_r * 2 // 3)), 0, 0, 360, (35, 38, 40), -1, cv2.LINE_AA)
        colour = next((np.array(c, np.float32) for a, b, c in of.colour if a <= t < b), None)
        if colour is not None:
            a = self.plume * 0.85
            img[:] = img * (1 - a) + colour[None, None, :] * a
        if _in(t, of.flow):
            h, w = self.h, self.w
            off = int((t * 0.8 * h) % h)  # foam streams away from the mouth
            nz = self.foam_noise[h - off : 2 * h - off, :w]
            jitter = np.random.default_rng([self.spec.seed, i, 5]).normal(0, 0.35, (h // 4 + 1, w // 4 + 1)).astype(np.float32)
            jitter = cv2.resize(jitter, (w, h), interpolation=cv2.INTER_LINEAR)
            foam = np.clip(0.55 + 0.35 * nz + jitter, 0, 1)[..., None]
            base = colour if colour is not None else np.array(of.foam_bgr, np.float32)
            a = self.plume * foam
            # Turbulence shows as light and shade whatever the water's colour, and even a
            # dark discharge carries white foam and bubbles where it falls.
            img[:] = img * (1 - a) + base[None, None, :] * (0.5 + foam) * a
            fleck = self.plume * np.clip((foam - 0.7) * 3.0, 0, 1)
            img[:] = img * (1 - fleck) + 215.0 * fleck
            # the jet leaving the pipe
            cv2.ellipse(img, (self.mouth[0], self.mouth[1] + self.mouth_r // 2), (self.mouth_r, self.mouth_r),
                        0, 0, 180, (base * (0.8 + 0.2 * np.sin(i))).tolist(), -1)


def _composite(dst: np.ndarray, bgr: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> tuple[int, int, int, int] | None:
    h, w = alpha.shape
    H, W = dst.shape[:2]
    x1, y1, x2, y2 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if x2 <= x1 or y2 <= y1:
        return None
    a = alpha[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0, None]
    dst[y1:y2, x1:x2] = dst[y1:y2, x1:x2] * (1 - a) + bgr[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0] * a
    ys, xs = np.nonzero(a[..., 0] > 0.3)
    if len(xs) == 0:
        return None
    return (x1 + int(xs.min()), y1 + int(ys.min()), x1 + int(xs.max()) + 1, y1 + int(ys.max()) + 1)


def iter_frames(spec: SceneSpec) -> Iterator[tuple[np.ndarray, list[tuple[float, float, float, float]]]]:
    r = SceneRenderer(spec)
    for i in range(spec.n_frames):
        yield r.frame(i)


def write_video(path: str | Path, spec: SceneSpec) -> SceneTruth:
    """Render ``spec`` to an MJPG .avi and return the per-frame ground truth."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), spec.fps, (spec.width, spec.height))
    if not writer.isOpened():
        raise RuntimeError(f"{path}: OpenCV cannot write MJPG video here")
    boxes: list[list[tuple[float, float, float, float]]] = []
    try:
        for frame, b in iter_frames(spec):
            writer.write(frame)
            boxes.append(b)
    finally:
        writer.release()
    return SceneTruth(spec.fps, len(boxes), spec.width, spec.height, boxes)
