"""The edge runner: ``source -> motion/ROI gate -> detect -> track/debounce -> event ->
outbox -> upload``, one analysis thread (plus one reader thread) per camera, one uploader
and one heartbeat for the box.

A camera that fails (unreachable source, a bug on one frame) is reported in health and
retried; the other cameras never notice. Shutdown (SIGTERM/SIGINT -> ``request_stop``)
lets each camera finish its current frame, ends open events where they were last seen,
tries for ``storage.flush_timeout_s`` to deliver what is queued, and returns; anything
left stays on disk for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from heyan.edge.config import CameraConfig, EdgeConfig
from heyan.edge.detection import (
    DetectorService,
    default_thresholds,
    windows_around,
)
from heyan.edge.events import EventSink, EventState, ObjectEvents, Projector
from heyan.edge.gate import MotionGate, roi_mask, small_grey
from heyan.edge.health import CameraHealth, Health, default_device_id
from heyan.edge.heartbeat import Heartbeat
from heyan.edge.model_sync import ModelSync
from heyan.edge.outbox import Outbox
from heyan.edge.outfall import OutfallWatch, mean_lab
from heyan.edge.sources import FrameReader, iter_frames, source_kind
from heyan.edge.tracker import Tracker
from heyan.edge.uploader import HttpClient, Uploader
from heyan.vision.nms import nms

log = logging.getLogger("heyan.edge.runner")

FROZEN_PIXEL_FRAC = 0.005  # below this fraction of changed small-frame pixels, "same picture"


@dataclass
class RunSummary:
    frames: int = 0
    detector_runs: int = 0
    events: int = 0
    delivered: int = 0
    queued: int = 0
    fps: float = 0.0
    seconds: float = 0.0
    cameras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _contains(win: tuple[float, float, float, float], box: Any) -> bool:
    return win[0] <= box[0] and win[1] <= box[1] and win[2] >= box[2] and win[3] >= box[3]


class CameraWorker(threading.Thread):
    """Analysis of one camera's frames."""

    def __init__(self, cam: CameraConfig, runner: EdgeRunner) -> None:
        super().__init__(name=f"cam-{cam.id}", daemon=True)
        self.cam, self.runner = cam, runner
        self.health: CameraHealth = runner.health.camera(cam.id)
        self.stop_event = runner.cam_stop
        self.reader = FrameReader(cam, self.health, self.stop_event, runner.once)
        projector = None
        if cam.calibration is not None:
            try:
                projector = Projector(cam.calibration)
            except Exception as exc:  # events without a position beat no events
                msg = f"camera {cam.id}: calibration unusable, events will have no position: {exc}"
                log.error(msg)
                self.health.last_error = msg
        health = runner.health
        self.sink = EventSink(runner.outbox, runner.device_id, cam.id, runner.cfg.storage.jpeg_quality, projector,
                              model=lambda: {"name": health.model_name, "sha256": health.model_sha256})
        det = runner.detector
        names = det.class_names
        self.thresholds: dict[int, float] = {}
        self.retune()
        self.allowed = None if cam.classes is None else {i for i, n in enumerate(names) if n in cam.classes}
        self.tracker = Tracker(cam.tracker, self.thresholds)
        self.objects = ObjectEvents(self.sink, names, cam.tracker.update_interval_s)
        self.size: tuple[int, int] | None = None
        self.gate: MotionGate | None = None
        self.outfalls: list[OutfallWatch] = []
        self.outfall_events: dict[tuple[str, str], EventState] = {}
        self.last_full = -1e18
        self.last_run = -1e18
        self.prev_small: np.ndarray | None = None
        self.same_since: float | None = None
        self.frozen_event: EventState | None = None
        self.first_ts: float | None = None
        self.latencies: list[float] = []

    def retune(self) -> None:
        """Per-class thresholds of the running model (its card) with this camera's own on top;
        updated in place, so the tracker holding the dict sees a swapped model's values."""
        det = self.runner.detector
        thr = default_thresholds(det.detector)
        thr.update(self.cam.thresholds)
        self.thresholds.update({i: thr.get(n, 0.5) for i, n in enumerate(det.class_names)})

    # -- set-up per frame size ------------------------------------------------------
    def _setup(self, w: int, h: int) -> None:
        cam = self.cam
        if self.size is not None:
            log.warning("camera %s: frame size changed %s -> %s; relearning", cam.id, self.size, (w, h))
        self.size = (w, h)
        self.gate = MotionGate(cam.gate, cam.rois, (w, h))
        self.rois_px = [np.array([[x * w, y * h] for x, y in p], np.float32) for p in cam.rois]
        gw = min(w, cam.gate.width)
        self.roi_small = roi_mask(cam.rois, gw, max(1, round(h * gw / w)))
        self.outfalls = [OutfallWatch(o, w, h) for o in cam.outfalls]
        self.need_frame_lab = any(o.colour.enabled and o.colour.relative_to_frame for o in cam.outfalls)

    # -- main loop --------------------------------------------------------------------
    def run(self) -> None:
        self.reader.start()
        try:
            for frame in iter_frames(self.reader, self.stop_event):
                try:
                    self.process(frame.image, frame.ts)
                except Exception as exc:  # one bad frame must not stop the camera
                    log.exception("camera %s: error on a frame", self.cam.id)
                    self.health.last_error = f"analysis error: {exc!r}"
                    self.runner.health.error(f"camera {self.cam.id}: {exc!r}")
                if self.stop_event.is_set():
                    break
        finally:
            self.finish()

    def finish(self) -> None:
        """End what is open where it was last seen (shutdown or end of a file)."""
        try:
            for t in self.tracker.end_all():
                self.objects.finish(t)
            ts = self.last_ts if hasattr(self, "last_ts") else time.time()
            for ev in list(self.outfall_events.values()):
                self.sink.end(ev, ts, details={"reason": "runner stopped"})
            self.outfall_events.clear()
            if self.frozen_event is not None:
                self.sink.end(self.frozen_event, ts, details={"reason": "runner stopped"})
                self.frozen_event = None
        except Exception:
            log.exception("camera %s: error while ending open events", self.cam.id)
        self.health.state = self.reader.end_state or "stopped"

    def process(self, img: np.ndarray, ts: float) -> None:
        cam = self.cam
        h, w = img.shape[:2]
        if self.size != (w, h):
            self._setup(w, h)
        assert self.gate is not None
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts
        small, glint = small_grey(img, cam.gate.width, cam.gate.glint_level)
        if self._frozen(img, small, ts):
            self.health.frame_done()
            return
        # -- where to look -------------------------------------------------------------
        due_full = ts - self.last_full >= cam.full_detect_interval_s
        can_run = ts - self.last_run >= 1.0 / cam.detect_fps - 1e-6
        windows: list[tuple[float, float, float, float]] | None = None
        full = False
        if cam.gate.enabled:
            g = self.gate.update(small, ts, glint)
            self.health.gate_frames = self.gate.frames
            self.health.gate_fired = self.gate.fired_frames
            if due_full:
                full = True
            elif can_run:
                side = self.runner.detector.imgsz
                motion = windows_around(list(g.boxes), w, h, side) if g.fired else []
                if len(motion) > cam.max_crops:
                    full = True  # change all over: one full pass beats many crops
                else:
                    # Known objects due for a look fill the remaining slots; the rest wait
                    # for the next run (they stay due), so they never force a full pass.
                    follow: list[tuple[float, float, float, float]] = []
                    for b in self.tracker.follow_up_windows(ts):
                        if len(motion) + len(follow) >= cam.max_crops:
                            break
                        follow += [win for win in windows_around([b], w, h, side)
                                   if not any(_contains(o, b) for o in motion + follow)]
                    windows = (motion + follow) or None
        elif can_run:
            full = True
        # -- detect, track, report ---------------------------------------------------------
        if full or windows:
            svc = self.runner.detector
            if full:
                dets = svc.detect_full(img, self.rois_px, cam.full_detect)
                self.last_full = ts
                covered = None
            else:
                dets = svc.detect_windows(img, windows or [])
                covered = windows
            self.last_run = ts
            self.health.detector_runs += 1
            self.runner.health.detector_ms = svc.mean_ms
            step = self.tracker.update(self._filter(dets, w, h), ts, covered, img)
        else:
            step = self.tracker.tick(ts)
        self.objects.handle(step, ts)
        for t in step.confirmed:
            if isinstance(t.event, EventState):
                self.latencies.append(ts - t.first_seen)
        # -- outfalls ------------------------------------------------------------------------
        if self.outfalls:
            frame_lab = mean_lab(cv2.resize(img, (64, max(1, round(64 * h / w))), interpolation=cv2.INTER_AREA)) if self.need_frame_lab else None
            for watch in self.outfalls:
                for ch in watch.update(img, ts, frame_lab):
                    key = (ch.outfall_id, ch.kind)
                    if ch.phase == "start":
                        self.outfall_events[key] = self.sink.start(ch.kind, ts, img, ch.box, None, None, ch.outfall_id, ch.details,
                                                                   started_at=ch.since)
                    elif key in self.outfall_events:
                        self.sink.end(self.outfall_events.pop(key), ch.since, img, None, None, ch.details)
        self.health.frame_done()
        if self.health.state not in ("running",):
            self.health.state = "running"

    def _filter(self, dets: Any, w: int, h: int) -> Any:
        """Score floor, class list, the object's waterline point inside the ROI, and one
        class per object: a model unsure between two classes returns the same box twice,
        and per-class tracking would make two events of it."""
        if len(dets) == 0:
            return dets
        if len(dets) > 1:
            dets = dets[nms(dets.xyxy, dets.scores, 0.7)]
        keep = dets.scores >= self.cam.min_score
        if self.allowed is not None:
            keep &= np.isin(dets.class_ids, list(self.allowed))
        if self.cam.rois:
            mh, mw = self.roi_small.shape
            cx = np.clip(((dets.xyxy[:, 0] + dets.xyxy[:, 2]) / 2 * mw / w).astype(int), 0, mw - 1)
            by = np.clip((dets.xyxy[:, 3] * mh / h).astype(int) - 1, 0, mh - 1)
            keep &= self.roi_small[by, cx] > 0
        return dets.filter(keep)

    def _frozen(self, img: np.ndarray, small: np.ndarray, ts: float) -> bool:
        """Same picture for ``frozen_after_s`` -> health + a stream_frozen event (and a
        reconnect for live streams). Returns True while frozen (nothing to analyse)."""
        prev, self.prev_small = self.prev_small, small
        if prev is None or prev.shape != small.shape:
            return False
        changed = np.count_nonzero(cv2.absdiff(prev, small) >= 2) / small.size
        if changed >= FROZEN_PIXEL_FRAC:
            self.same_since = None
            if self.frozen_event is not None:
                log.info("camera %s: stream moving again", self.cam.id)
                self.sink.end(self.frozen_event, ts, details={"frozen_s": round(ts - self.frozen_event.started_at, 1)})
                self.frozen_event = None
                self.health.state = "running"
            return False
        if self.same_since is None:
            self.same_since = ts
        frozen_for = ts - self.same_since
        if frozen_for >= self.cam.frozen_after_s:
            if self.frozen_event is None:
                msg = f"stream frozen: the same picture for {frozen_for:.0f} s"
                log.warning("camera %s: %s", self.cam.id, msg)
                self.health.last_error = msg
                self.frozen_event = self.sink.start("stream_frozen", ts, img, None, started_at=self.same_since,
                                                    details={"frozen_after_s": self.cam.frozen_after_s})
                if self.reader.live:
                    self.reader.request_reconnect()
            self.health.state = "frozen"
            return True
        return False


class EdgeRunner:
    def __init__(self, cfg: EdgeConfig, once: bool = False, detector: Any | None = None,
                 deliver_timeout_s: float | None = None) -> None:
        self.cfg = cfg
        self.once = once
        self.device_id = cfg.device_id or default_device_id()
        self.deliver_timeout_s = cfg.storage.flush_timeout_s if deliver_timeout_s is None else deliver_timeout_s
        self.cam_stop = threading.Event()
        self.svc_stop = threading.Event()
        self.health = Health(self.device_id)
        st = cfg.storage
        st.dir.mkdir(parents=True, exist_ok=True)
        self.outbox = Outbox(st.dir, int(st.max_mb * 2**20), int(st.min_free_mb * 2**20))
        self.detector = DetectorService(detector if detector is not None else cfg.detector.load())
        self.client = HttpClient(cfg.server.url, cfg.server.resolved_token(), cfg.server.timeout_s,
                                 user_agent=f"heyan-edge/{self.device_id}")
        self.uploader = Uploader(self.outbox, self.client, self.health, self.svc_stop, cfg.server.retry_base_s, cfg.server.retry_max_s)
        self.configured_detector = self.detector.detector  # what the box runs when the server names no model
        self.health.model_name = cfg.detector.model if detector is None else type(detector).__name__
        self.models = ModelSync(self.client, st.dir, self.health, self.switch_model)
        self.heartbeat = Heartbeat(self.health, self.outbox, st.dir, self.client, cfg.server.heartbeat_interval_s, self.svc_stop,
                                   models=self.models)
        self.workers = [CameraWorker(c, self) for c in cfg.cameras if c.enabled]
        if not self.workers:
            raise ValueError("no enabled camera in the config")
        if once and all(w.reader.live for w in self.workers):
            raise ValueError("--once needs at least one video file or image folder source (live streams never end)")
        self._stop_requested = threading.Event()

    def switch_model(self, detector: Any | None, name: str, sha: str | None) -> None:
        """The server named another model (None: back to the configured one): swap it in
        between frames and let each camera take the new model's per-class thresholds."""
        self.detector.swap(detector if detector is not None else self.configured_detector)
        for w in self.workers:
            w.retune()
        self.health.model_name = name or self.cfg.detector.model
        self.health.model_sha256 = sha

    def request_stop(self) -> None:
        """Safe from a signal handler: only sets a flag."""
        self._stop_requested.set()

    def run(self) -> RunSummary:
        t0 = time.monotonic()
        log.info("heyan edge %s: %d camera(s), server %s, outbox %s", self.device_id, len(self.workers), self.cfg.server.url,
                 self.cfg.storage.dir)
        self.uploader.start()
        self.heartbeat.start()
        for w in self.workers:
            w.start()
        finite = [w for w in self.workers if source_kind(w.cam.source) in ("file", "folder")]
        while not self._stop_requested.is_set():
            if self.once and all(not w.is_alive() for w in finite):
                break
            if all(not w.is_alive() for w in self.workers):
                log.info("every camera has ended")
                break
            self._stop_requested.wait(0.2)
        analysis_s = time.monotonic() - t0
        self.shutdown()
        return self.summary(analysis_s, time.monotonic() - t0)

    def shutdown(self) -> None:
        self.cam_stop.set()
        for w in self.workers:
            w.join(timeout=30)
            w.reader.join(timeout=5)
        # Flush: deliver what is queued, within the time allowed.
        self.uploader.kick()
        deadline = time.monotonic() + self.deliver_timeout_s
        while time.monotonic() < deadline and self.outbox.counts().get("pending", 0) > 0 and self.uploader.is_alive():
            time.sleep(0.05)
        self.svc_stop.set()
        self.uploader.join(timeout=self.cfg.server.timeout_s + 2)
        self.heartbeat.join(timeout=self.cfg.server.timeout_s + 2)
        left = self.outbox.depth()
        if left:
            log.warning("%d event(s) not delivered yet; they stay in %s for the next start", left, self.cfg.storage.dir)
        self.heartbeat.write_local()

    def summary(self, analysis_s: float, total_s: float) -> RunSummary:
        frames = sum(w.health.frames for w in self.workers)
        s = RunSummary(
            frames=frames,
            detector_runs=self.detector.runs,
            events=sum(w.sink.started for w in self.workers),
            delivered=self.uploader.delivered,
            queued=self.outbox.depth(),
            fps=round(frames / analysis_s, 2) if analysis_s > 0 else 0.0,
            seconds=round(total_s, 2),
            cameras={w.cam.id: {"state": w.health.state, "frames": w.health.frames, "events": w.sink.started,
                                "detector_runs": w.health.detector_runs,
                                "gate_fire_rate": w.health.to_json()["gate_fire_rate"], "last_error": w.health.last_error}
                     for w in self.workers},
        )
        return s

    def close(self) -> None:
        self.outbox.close()
