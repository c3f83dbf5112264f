"""Outfall watch (排口): is water coming out of the mouth, and is its colour abnormal?

Classical vision on a small crop of the mouth ROI, each measure with hysteresis (separate
on/off levels and minimum durations) so a splash or a passing cloud is not an event:

- *flow*: the fraction of ROI pixels whose grey level changed between consecutive analysed
  frames, averaged over ``window_s``. A dry pipe mouth and the wall under it are still; a
  discharge is turbulent and changes every frame.
- *colour*: the ROI's median colour in CIE Lab (the median ignores foam flecks and bubbles;
  optionally relative to the whole frame's mean, so light and white-balance changes cancel)
  against a baseline learnt while normal (plain mean during ``learn_s``, then a slow EMA that
  pauses while abnormal). A dry mouth and a discharging one look different whatever the
  water, so there is one baseline per flow state (dry / flowing), each learnt when that
  state is first seen. CIE76 ΔE is the distance; ΔE ≈ 2 is just noticeable, 10 a clearly
  different colour. The dry-weather event carries the discharge's ΔE against the dry
  baseline too, so a first-ever discharge of black water is visible as such.

Events: ``dry_weather_discharge`` while flow is present at an outfall whose config does
not expect flow (a rain outfall in dry weather), ``abnormal_colour`` at any outfall.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from heyan.edge.config import OutfallConfig

ANALYSIS_WIDTH = 160  # the mouth ROI is analysed at this width at most


class Hysteresis:
    """A boolean that turns on after ``value > on`` for ``min_on_s`` and off after
    ``value < off`` for ``min_off_s``. ``update`` returns "start", "end" or None."""

    def __init__(self, on: float, off: float, min_on_s: float, min_off_s: float) -> None:
        self.on_level, self.off_level = on, off
        self.min_on_s, self.min_off_s = min_on_s, min_off_s
        self.active = False
        self.since: float | None = None  # when the pending transition's condition began
        self.changed_at: float | None = None  # when the condition for the current state began

    def update(self, value: float, ts: float) -> str | None:
        if not self.active:
            if value > self.on_level:
                self.since = ts if self.since is None else self.since
                if ts - self.since >= self.min_on_s:
                    self.active, self.changed_at, self.since = True, self.since, None
                    return "start"
            else:
                self.since = None
        else:
            if value < self.off_level:
                self.since = ts if self.since is None else self.since
                if ts - self.since >= self.min_off_s:
                    self.active, self.changed_at, self.since = False, self.since, None
                    return "end"
            else:
                self.since = None
        return None


def mean_lab(bgr: np.ndarray, mask: np.ndarray | None = None, median: bool = False) -> np.ndarray:
    """Mean (or median) colour in CIE Lab (L 0-100, a/b about -128..127): float input makes
    OpenCV use the real scale, so ΔE numbers mean what the literature says."""
    lab = cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    sel = lab[mask > 0] if mask is not None else lab.reshape(-1, 3)
    if not len(sel):
        sel = lab.reshape(-1, 3)
    return np.median(sel, axis=0) if median else sel.mean(0)


@dataclass
class OutfallChange:
    outfall_id: str
    kind: str  # "dry_weather_discharge" | "abnormal_colour"
    phase: str  # "start" | "end"
    since: float  # when the condition began (the event's start/end time)
    box: tuple[float, float, float, float]  # ROI bounding box, full-frame pixels
    details: dict = field(default_factory=dict)


class OutfallWatch:
    def __init__(self, cfg: OutfallConfig, frame_w: int, frame_h: int) -> None:
        self.cfg = cfg
        pts = np.array([[x * frame_w, y * frame_h] for x, y in cfg.roi], np.float64)
        x1, y1 = np.floor(pts.min(0)).astype(int)
        x2, y2 = np.ceil(pts.max(0)).astype(int)
        self.x1, self.y1 = max(0, x1), max(0, y1)
        self.x2, self.y2 = min(frame_w, max(x2, self.x1 + 2)), min(frame_h, max(y2, self.y1 + 2))
        self.box = (float(self.x1), float(self.y1), float(self.x2), float(self.y2))
        cw = self.x2 - self.x1
        self.scale = min(1.0, ANALYSIS_WIDTH / max(cw, 1))
        self.size = (max(2, round(cw * self.scale)), max(2, round((self.y2 - self.y1) * self.scale)))
        mask = np.zeros((self.size[1], self.size[0]), np.uint8)
        local = (pts - [self.x1, self.y1]) * self.scale
        cv2.fillPoly(mask, [np.round(local).astype(np.int32)], 1)
        self.mask = mask
        self.mask_px = max(1, int(mask.sum()))
        f = cfg.flow
        self.flow = Hysteresis(f.on_fraction, f.off_fraction, f.min_on_s, f.min_off_s)
        c = cfg.colour
        self.colour = Hysteresis(c.on_delta_e, c.off_delta_e, c.min_on_s, c.min_off_s)
        self.prev: np.ndarray | None = None
        self.window: deque[tuple[float, float]] = deque()
        self.activity = 0.0
        self.lab_window: deque[tuple[float, np.ndarray]] = deque()
        self.baselines: dict[bool, np.ndarray] = {}  # flowing? -> baseline Lab
        self.n_base: dict[bool, int] = {False: 0, True: 0}
        self.state_t0: dict[bool, float] = {}  # when this flow state was first seen
        self.flowing = False  # instantaneous (no durations): which baseline applies
        self.t0: float | None = None
        self.t_last: float | None = None
        self.delta_e = 0.0
        self.lab = np.zeros(3)
        self.baseline = np.zeros(3)

    def _crop(self, frame: np.ndarray) -> np.ndarray:
        crop = frame[self.y1 : self.y2, self.x1 : self.x2]
        if self.scale < 1.0:
            crop = cv2.resize(crop, self.size, interpolation=cv2.INTER_AREA)
        return crop

    def update(self, frame: np.ndarray, ts: float, frame_lab: np.ndarray | None = None) -> list[OutfallChange]:
        cfg = self.cfg
        out: list[OutfallChange] = []
        if self.t0 is None:
            self.t0 = ts
        dt = 0.0 if self.t_last is None else max(0.0, ts - self.t_last)
        self.t_last = ts
        crop = self._crop(frame)
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        # -- flow ------------------------------------------------------------------
        if self.prev is not None:
            changed = (cv2.absdiff(grey, self.prev) > cfg.flow.pixel_diff) & (self.mask > 0)
            self.window.append((ts, float(changed.sum()) / self.mask_px))
            while self.window and ts - self.window[0][0] > cfg.flow.window_s:
                self.window.popleft()
            self.activity = float(np.mean([v for _, v in self.window]))
            edge = self.flow.update(self.activity, ts)
            if edge and not cfg.flow_expected:
                since = self.flow.changed_at if self.flow.changed_at is not None else ts
                details = {"flow_activity": round(self.activity, 4), "outfall_type": cfg.type}
                dry = self.baselines.get(False)
                if edge == "start" and dry is not None and cfg.colour.enabled:
                    details["delta_e_vs_dry"] = round(float(np.linalg.norm(self.lab - dry)), 2)
                out.append(OutfallChange(cfg.id, "dry_weather_discharge", edge, since, self.box, details))
            f = cfg.flow
            self.flowing = self.activity > f.on_fraction or (self.flowing and self.activity >= f.off_fraction)
        self.prev = grey
        # -- colour ----------------------------------------------------------------
        c = cfg.colour
        if c.enabled:
            lab = mean_lab(crop, self.mask, median=True)
            if c.relative_to_frame and frame_lab is not None:
                lab = lab - frame_lab
            # Turbulent water flickers from frame to frame: judge a short moving average.
            self.lab_window.append((ts, lab))
            while ts - self.lab_window[0][0] > c.window_s:
                self.lab_window.popleft()
            lab = np.mean([v for _, v in self.lab_window], axis=0)
            self.lab = lab
            st = self.flowing
            if st not in self.baselines:
                self.baselines[st], self.n_base[st], self.state_t0[st] = lab.copy(), 1, ts
            base = self.baselines[st]
            self.baseline = base
            learning = ts - self.state_t0[st] < c.learn_s
            self.delta_e = float(np.linalg.norm(lab - base))
            if learning:
                self.n_base[st] += 1
                base += (lab - base) / self.n_base[st]
                if not self.colour.active:
                    self.colour.since = None  # nothing pending while this state is learnt
            else:
                edge = self.colour.update(self.delta_e, ts)
                if edge:
                    since = self.colour.changed_at if self.colour.changed_at is not None else ts
                    out.append(OutfallChange(cfg.id, "abnormal_colour", edge, since, self.box, {
                        "delta_e": round(self.delta_e, 2), "lab": [round(float(v), 2) for v in lab],
                        "baseline_lab": [round(float(v), 2) for v in base], "outfall_type": cfg.type,
                        "flowing": st, "relative_to_frame": c.relative_to_frame}))
                # Learn only while normal and not drifting towards abnormal: a slow discharge
                # must not teach the baseline its colour.
                if not self.colour.active and self.colour.since is None and self.delta_e < c.off_delta_e:
                    a = 1.0 - np.exp(-dt / c.baseline_tau_s) if dt > 0 else 0.0
                    base += a * (lab - base)
        return out

    def state(self) -> dict:
        return {"flow": self.flow.active, "flow_activity": round(self.activity, 4), "abnormal_colour": self.colour.active,
                "delta_e": round(self.delta_e, 2)}
