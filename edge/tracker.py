"""A light multi-object tracker with Frigate-style debounce.

Detections of one class are matched to that class's tracks greedily by IoU, or by centre
distance (in box diagonals, growing with the time since the track was last seen, between
boxes of similar size) when boxes no longer overlap (a detector run every few seconds
on slow debris, or a small box that jittered). No motion model: river objects drift slowly
and the detector runs sparsely, so a constant-position guess is as good as a Kalman filter.

Debounce: a track becomes *confirmed* (an event) once it was seen in ``min_hits`` of the last
``window`` detector runs that looked at its place, and the median of its scores reaches the
class threshold. Runs that did not look at a track (a motion crop elsewhere) count neither
as hits nor as misses. A confirmed track ends after ``end_after_s`` without being seen; an
unconfirmed one is dropped as soon as it can no longer reach ``min_hits``.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from heyan.edge.config import TrackerConfig
from heyan.vision.detections import Detections
from heyan.vision.nms import pairwise_overlap


@dataclass
class Track:
    track_id: int
    class_id: int
    box: np.ndarray  # xyxy, full-frame pixels
    first_seen: float
    last_seen: float
    window: int
    hits: deque = field(default_factory=deque)  # bool per detector run that looked here
    scores: deque = field(default_factory=deque)  # scores of the hits
    confirmed: bool = False
    ended: bool = False
    last_checked: float = 0.0
    best_score: float = 0.0
    best_box: np.ndarray | None = None
    best_frame: np.ndarray | None = None  # full frame of the best sighting (for the snapshot)
    best_ts: float = 0.0
    event: object | None = None  # owned by the event layer

    def __post_init__(self) -> None:
        self.hits = deque(self.hits, maxlen=self.window)
        self.scores = deque(self.scores, maxlen=self.window)

    @property
    def median_score(self) -> float:
        return float(np.median(self.scores)) if self.scores else 0.0

    @property
    def n_hits(self) -> int:
        return int(sum(self.hits))

    def centre(self) -> np.ndarray:
        return (self.box[:2] + self.box[2:]) / 2


@dataclass
class TrackerStep:
    confirmed: list[Track] = field(default_factory=list)  # became events in this step
    seen: list[Track] = field(default_factory=list)  # confirmed tracks seen again
    ended: list[Track] = field(default_factory=list)  # confirmed tracks that ended


def _inside(point: np.ndarray, windows: list[tuple[float, float, float, float]]) -> bool:
    x, y = float(point[0]), float(point[1])
    return any(x1 <= x <= x2 and y1 <= y <= y2 for x1, y1, x2, y2 in windows)


class Tracker:
    def __init__(self, cfg: TrackerConfig, thresholds: dict[int, float], keep_frames: bool = True) -> None:
        self.cfg = cfg
        self.thresholds = thresholds
        self.keep_frames = keep_frames
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def threshold(self, class_id: int) -> float:
        return self.thresholds.get(class_id, 0.5)

    def update(self, dets: Detections, ts: float, covered: list[tuple[float, float, float, float]] | None,
               frame: np.ndarray | None = None) -> TrackerStep:
        """One detector run at ``ts`` that looked at ``covered`` windows (None: everywhere)."""
        cfg = self.cfg
        step = TrackerStep()
        live = [t for t in self.tracks if not t.ended]
        matched_tracks: set[int] = set()
        matched_dets: set[int] = set()
        for cid in sorted({int(c) for c in dets.class_ids} | {t.class_id for t in live}):
            ti = [i for i, t in enumerate(live) if t.class_id == cid]
            di = [j for j in range(len(dets)) if int(dets.class_ids[j]) == cid]
            if not ti or not di:
                continue
            tb = np.stack([live[i].box for i in ti])
            db = dets.xyxy[di]
            iou = pairwise_overlap(tb, db)
            tc = (tb[:, :2] + tb[:, 2:]) / 2
            dc = (db[:, :2] + db[:, 2:]) / 2
            diag = np.hypot(tb[:, 2] - tb[:, 0], tb[:, 3] - tb[:, 1])
            dist = np.linalg.norm(tc[:, None, :] - dc[None, :, :], axis=2) / np.maximum(diag[:, None], 1.0)
            # The longer since a track was seen, the farther its object may have drifted.
            gap = np.array([ts - live[i].last_seen for i in ti], np.float32)
            reach = cfg.max_center_dist + cfg.max_speed * gap
            # Matching by distance alone would let a large object's track jump to a small
            # false detection beside it: a distance match also needs a similar size.
            ta = np.maximum((tb[:, 2] - tb[:, 0]) * (tb[:, 3] - tb[:, 1]), 1.0)
            da = np.maximum((db[:, 2] - db[:, 0]) * (db[:, 3] - db[:, 1]), 1.0)
            size = np.minimum(ta[:, None], da[None, :]) / np.maximum(ta[:, None], da[None, :])
            ok = (iou >= cfg.iou_match) | ((dist <= reach[:, None]) & (size >= 0.25))
            # Greedy on a combined affinity: overlap first, nearness (of a like-sized box)
            # breaks ties and covers gaps.
            aff = np.where(ok, iou + 0.5 * (1 - np.minimum(dist / reach[:, None], 1.0)) * size, -1.0)
            for flat in np.argsort(-aff, axis=None):
                a, b = np.unravel_index(flat, aff.shape)
                if aff[a, b] < 0:
                    break
                t_idx, d_idx = ti[a], di[b]
                if t_idx in matched_tracks or d_idx in matched_dets:
                    continue
                matched_tracks.add(t_idx)
                matched_dets.add(d_idx)
                self._hit(live[t_idx], dets.xyxy[d_idx], float(dets.scores[d_idx]), ts, frame)
        for i, t in enumerate(live):
            if i in matched_tracks:
                if t.confirmed:
                    step.seen.append(t)
            elif covered is None or _inside(t.centre(), covered):
                t.hits.append(False)
                t.last_checked = ts
        for j in range(len(dets)):
            if j not in matched_dets:
                t = Track(next(self._ids), int(dets.class_ids[j]), dets.xyxy[j].astype(np.float32).copy(), ts, ts, cfg.window)
                self._hit(t, dets.xyxy[j], float(dets.scores[j]), ts, frame)
                self.tracks.append(t)
        for t in self.tracks:
            if t.ended or t.confirmed:
                continue
            if t.n_hits >= cfg.min_hits and t.median_score >= self.threshold(t.class_id):
                t.confirmed = True
                step.confirmed.append(t)
        self._expire(ts, step)
        return step

    def _hit(self, t: Track, box: np.ndarray, score: float, ts: float, frame: np.ndarray | None) -> None:
        t.box = np.asarray(box, np.float32).copy()
        t.hits.append(True)
        t.scores.append(score)
        t.last_seen = ts
        t.last_checked = ts
        if score > t.best_score:
            t.best_score, t.best_box, t.best_ts = score, t.box.copy(), ts
            if self.keep_frames and frame is not None:
                t.best_frame = frame  # frames are not reused by the reader: no copy needed

    def tick(self, ts: float) -> TrackerStep:
        """No detector run at ``ts``: only age tracks out."""
        step = TrackerStep()
        self._expire(ts, step)
        return step

    def _expire(self, ts: float, step: TrackerStep) -> None:
        cfg = self.cfg
        keep: list[Track] = []
        for t in self.tracks:
            if t.ended:
                continue
            if t.confirmed:
                if ts - t.last_seen >= cfg.end_after_s:
                    t.ended = True
                    step.ended.append(t)
                    continue
            else:
                misses = len(t.hits) - t.n_hits
                hopeless = misses > cfg.window - cfg.min_hits
                if hopeless or ts - t.last_seen >= cfg.end_after_s:
                    t.ended = True
                    continue
            keep.append(t)
        self.tracks = keep

    def end_all(self) -> list[Track]:
        """Shutdown: confirmed tracks end where they were last seen."""
        out = [t for t in self.tracks if t.confirmed and not t.ended]
        for t in self.tracks:
            t.ended = True
        self.tracks = []
        return out

    def follow_up_windows(self, ts: float) -> list[np.ndarray]:
        """Boxes of known objects due for another look: unconfirmed ones every
        ``follow_up_s`` (to confirm or drop them quickly), confirmed ones 2x less often (to
        keep them alive while they drift too slowly to move the gate)."""
        out = []
        for t in self.tracks:
            every = self.cfg.follow_up_s * (2 if t.confirmed else 1)
            if not t.ended and ts - t.last_checked >= every:
                out.append(t.box)
        return out
