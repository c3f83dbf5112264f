"""Motion gate: decide, on a small grey frame, where something changed enough to be worth a
detector run.

Water is the hard background: ripples move everywhere all the time and sun glint sparkles.
Plain frame differencing fires on every frame. What this gate does instead, each step for
one reason:

1. small grey frame (INTER_AREA): averages away ripples finer than a few full-res pixels;
2. temporal median of the last 3 small frames: a sparkle that lasts one frame vanishes;
3. pixels at or above ``glint_level`` are ignored (specular highlights, not objects);
4. per-pixel running mean *and variance* of the background: a pixel changed only when it
   leaves its own normal range by ``k_sigma`` standard deviations (and ``min_diff`` grey
   levels), so rippling water, which has a large variance, needs a large change;
5. morphological opening, then persistence: a pixel must be changed in ``persistence`` of
   the last ``persistence_window`` frames (glint and crest flicker do not persist; debris does);
6. a clutter map (how often each pixel changed over the last ``clutter_tau_s``) masks the
   places where glint and breaking crests keep changing the same pixels;
7. blobs smaller than ``min_blob_px`` are dropped;
8. when a large part of the ROI changes at once (exposure, a cloud), the background is
   relearnt instead of firing.

The background learns slowly even under changed pixels, so an object that stops becomes
background within a minute or so: the periodic full detection catches those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from heyan.edge.config import GateConfig


@dataclass
class GateResult:
    fired: bool
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))  # full-res xyxy
    changed_frac: float = 0.0  # fraction of the ROI changed (after persistence)
    relearn: bool = False  # a global change reset the background


def small_grey(frame: np.ndarray, width: int, glint_level: int = 255) -> tuple[np.ndarray, np.ndarray]:
    """Small grey frame and its glint mask.

    Grey first, then INTER_AREA down to ``width``: both cheap, and area averaging is what
    removes fine ripple texture. Glint is found at full resolution, where specular
    highlights saturate; after averaging they are only "bright", like white foam.
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    h, w = grey.shape
    sat = (grey >= glint_level).astype(np.uint8)
    if w <= width:
        return grey, sat
    size = (width, max(1, round(h * width / w)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    # Any saturated full-res pixel marks its small pixel (max-pooling via a non-zero average).
    glint = (cv2.resize(sat, size, interpolation=cv2.INTER_AREA) > 0) if sat.any() else np.zeros(small.shape, bool)
    return small, glint.astype(np.uint8)


def roi_mask(polygons: list[list[tuple[float, float]]] | list[list[list[float]]], width: int, height: int) -> np.ndarray:
    """Relative polygons -> uint8 mask (1 inside) of size ``width``×``height``; no polygons = all."""
    if not polygons:
        return np.ones((height, width), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    for poly in polygons:
        pts = np.array([[x * width, y * height] for x, y in poly], np.float64)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask


class MotionGate:
    """One per camera. ``update(small, ts)`` on every analysed frame."""

    def __init__(self, cfg: GateConfig, rois: list, frame_size: tuple[int, int]) -> None:
        self.cfg = cfg
        self.rois = rois
        self.full_w, self.full_h = frame_size
        self.reset()

    def reset(self) -> None:
        self.mean: np.ndarray | None = None
        self.var: np.ndarray | None = None
        self.hist: list[np.ndarray] = []  # last 3 small frames, for the temporal median
        self.persist: np.ndarray | None = None
        self.t_start: float | None = None
        self.t_last: float | None = None
        self.mask: np.ndarray | None = None
        self.frames = 0
        self.fired_frames = 0
        self.n_seen = 0

    def _median3(self, g: np.ndarray) -> np.ndarray:
        self.hist.append(g)
        if len(self.hist) > 3:
            self.hist.pop(0)
        if len(self.hist) < 3:
            return g
        a, b, c = self.hist
        return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))

    def update(self, small: np.ndarray, ts: float, glint: np.ndarray | None = None) -> GateResult:
        """``small``: grey small frame; ``glint``: its mask of saturated (specular) pixels."""
        cfg = self.cfg
        h, w = small.shape
        if self.mask is None or self.mask.shape != (h, w):
            self.reset()
            self.mask = roi_mask(self.rois, w, h)
            self.roi_px = max(1, int(self.mask.sum()))
        med = self._median3(small).astype(np.float32)
        if self.mean is None:
            self.mean = med.copy()
            self.var = np.full_like(med, 16.0)  # σ=4 grey levels until learnt
            self.persist = np.zeros((h, w), np.uint8)
            self.clutter = np.zeros((h, w), np.float32)
            self.glint_freq = np.zeros((h, w), np.float32)
            self.t_start = self.t_last = ts
            return GateResult(False)
        assert self.var is not None and self.persist is not None and self.t_start is not None
        dt = max(1e-3, ts - (self.t_last or ts))
        self.t_last = ts
        self.n_seen += 1
        # 1/n for the first frames: a plain average learns the mean and variance of the water
        # within the warm-up instead of over several time constants.
        alpha = max(float(1.0 - np.exp(-dt / cfg.background_tau_s)), 1.0 / self.n_seen)
        diff = med - self.mean
        # Smooth the *signed* residual: ripple crests and troughs lie side by side and cancel,
        # an object is a patch of one sign and survives. The variance below is that of the
        # smoothed residual.
        sdiff = cv2.GaussianBlur(diff, (0, 0), cfg.smooth_px) if cfg.smooth_px > 0 else diff
        thr = np.maximum(cfg.min_diff, cfg.k_sigma * np.sqrt(self.var))
        # Glint: saturated pixels and a pixel around them (their halo is bright too).
        sat = (med >= cfg.glint_level).astype(np.uint8)
        if glint is not None:
            sat |= glint
        glint = cv2.dilate(sat, np.ones((5, 5), np.uint8))
        changed = (np.abs(sdiff) > thr) & (self.mask > 0) & (glint == 0)
        changed = cv2.morphologyEx(changed.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        # Clutter map (as radar does for sea clutter): how often each pixel changed lately.
        # Sun glint and breaking crests change the same pixels again and again; a passing
        # object changes a pixel once, briefly. Heavy-tailed flicker defeats the variance
        # test above, this does not.
        ca = max(float(1.0 - np.exp(-dt / cfg.clutter_tau_s)), 1.0 / self.n_seen)
        self.clutter += ca * (changed.astype(np.float32) - self.clutter)
        # Sun-glint zone: where specular highlights keep appearing. Its fringe has highlights
        # too faint to saturate that look just like bright debris, so the whole zone (blurred
        # wide) is left to the periodic full detection.
        self.glint_freq += ca * (sat.astype(np.float32) - self.glint_freq)
        # Background update: the mean learns slowly under changed pixels, so a stopped object
        # fades in over ~10 time constants. The variance always learns at the normal rate:
        # if it learnt slowly where pixels changed, a rippling pixel flagged once would keep
        # its too-small variance and stay flagged.
        a = np.where(changed > 0, alpha * 0.1, alpha).astype(np.float32)
        self.mean += a * diff
        # Winsorised: an outlier adds at most (k·σ)², so an object passing over a pixel does
        # not inflate its variance within a few frames (and hide itself), while a pixel
        # that keeps producing outliers (heavy-tailed flicker) still widens its range.
        cap = (cfg.k_sigma * cfg.k_sigma) * self.var
        va = np.where(changed > 0, alpha * 0.3, alpha).astype(np.float32)
        self.var += va * (np.minimum(sdiff * sdiff, cap) - self.var)
        np.clip(self.var, 4.0, 60.0**2, out=self.var)
        # Persistence as a leaky counter over the window: +1 when changed, decays otherwise.
        win = cfg.persistence_window
        self.persist = np.where(changed > 0, np.minimum(self.persist + 1, win),
                                np.maximum(self.persist.astype(np.int16) - 1, 0)).astype(np.uint8)
        # Spatially smoothed: glint patches wander, so the whole patch of water they wander
        # over is clutter, not just the pixels they happened to hit.
        k = max(3, w // 24) | 1
        clutter = cv2.blur(self.clutter, (k, k))
        kg = max(3, w // 10) | 1
        self.glint_zone = cv2.blur(self.glint_freq, (kg, kg)) > cfg.glint_zone_level
        steady = (self.persist >= cfg.persistence) & (changed > 0) & (clutter < cfg.clutter_max) & ~self.glint_zone
        frac = float(steady.sum()) / self.roi_px
        raw_frac = float(changed.sum()) / self.roi_px
        warm = ts - self.t_start < cfg.warmup_s
        if raw_frac > cfg.global_change_frac:
            # Light changed everywhere: relearn fast instead of firing on the whole frame.
            self.mean = med.copy()
            self.persist[:] = 0
            return GateResult(False, changed_frac=raw_frac, relearn=True)
        if warm:
            return GateResult(False, changed_frac=frac)
        self.frames += 1
        if not steady.any():
            return GateResult(False, changed_frac=frac)
        n, _, stats, _ = cv2.connectedComponentsWithStats(steady.astype(np.uint8), connectivity=8)
        keep = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= cfg.min_blob_px]
        if not keep:
            return GateResult(False, changed_frac=frac)
        sx, sy = self.full_w / w, self.full_h / h
        boxes = np.array([(stats[k, 0] * sx, stats[k, 1] * sy, (stats[k, 0] + stats[k, 2]) * sx, (stats[k, 1] + stats[k, 3]) * sy)
                          for k in keep], np.float32)
        self.fired_frames += 1
        return GateResult(True, boxes, frac)

    @property
    def firing_rate(self) -> float:
        """Fraction of analysed frames (after warm-up) on which the gate fired."""
        return self.fired_frames / self.frames if self.frames else 0.0
