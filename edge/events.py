"""Events: what the box reports. One lifecycle for every kind: ``start`` -> ``update``* ->
``end``, each change written to the outbox as the event's newest state.

An event's id is a UUID4 made on the box, so a retried upload can never create a second
event on the server. Snapshots (the full frame JPEG at the best sighting, and a crop around
the object) are written to the outbox before the record that names them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from heyan.edge.outbox import Outbox
from heyan.pipeline.tickets.rules import EDGE_EVENT_KINDS

log = logging.getLogger("heyan.edge.events")

KINDS = EDGE_EVENT_KINDS


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 BGR image
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def crop_around(img: np.ndarray, box: np.ndarray | tuple[float, ...], margin: float = 0.5, min_side: int = 64) -> np.ndarray:
    """The object and some of its surroundings (a reviewer needs context)."""
    h, w = img.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    bw, bh = max(x2 - x1, 1) * (1 + margin), max(y2 - y1, 1) * (1 + margin)
    bw, bh = max(bw, min_side), max(bh, min_side)
    a, b = int(max(0, cx - bw / 2)), int(max(0, cy - bh / 2))
    c, d = int(min(w, cx + bw / 2)), int(min(h, cy + bh / 2))
    return img[b:max(d, b + 1), a:max(c, a + 1)]


class Projector:
    """Pixel -> ground (lat, lon, error_m) for a calibrated fixed camera; the bottom centre
    of a box is where a floating object touches the water."""

    def __init__(self, calibration_path: Path) -> None:
        from heyan.pipeline.geo.calibration import load_calibration

        self.calib = load_calibration(calibration_path)

    def project(self, px: float, py: float, frame_w: int, frame_h: int) -> tuple[float | None, float | None, float | None]:
        from heyan.pipeline.geo.calibration import project_with_calibration

        cw, ch = self.calib.image_size
        # A calibration made on a still of another resolution of the same camera still holds.
        p = np.array([[px * cw / frame_w, py * ch / frame_h]], float)
        try:
            res = project_with_calibration(self.calib, p)
        except Exception as exc:  # a bad pixel must not cost the event
            log.debug("projection failed: %s", exc)
            return None, None, None
        lat, lon, err = float(res.lat[0]), float(res.lon[0]), float(res.error_m[0])
        if not (np.isfinite(lat) and np.isfinite(lon)):
            return None, None, None
        return lat, lon, (err if np.isfinite(err) else None)


@dataclass
class EventState:
    event_id: str
    kind: str
    camera_id: str
    started_at: float
    updated_at: float
    class_name: str | None = None
    score: float | None = None
    box: list[float] | None = None
    lat: float | None = None
    lon: float | None = None
    error_m: float | None = None
    ended_at: float | None = None
    phase: str = "start"
    snapshot_sha256: str | None = None
    crop_sha256: str | None = None
    outfall_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sent_score: float = 0.0  # score of the snapshot last sent
    last_sent_ts: float = 0.0  # frame time of the last record written
    written_at: float = 0.0  # wall time the start record reached the outbox (latency)

    def body(self, device_id: str) -> dict[str, Any]:
        """The JSON the server receives (edge/README.md, "HTTP contract")."""
        return {
            "event_id": self.event_id,
            "device_id": device_id,
            "camera_id": self.camera_id,
            "kind": self.kind,
            "phase": self.phase,
            "class": self.class_name,
            "score": None if self.score is None else round(self.score, 4),
            "box": None if self.box is None else [round(float(v), 1) for v in self.box],
            "lat": self.lat,
            "lon": self.lon,
            "error_m": None if self.error_m is None else round(self.error_m, 2),
            "started_at": iso(self.started_at),
            "updated_at": iso(self.updated_at),
            "ended_at": iso(self.ended_at),
            "snapshot_sha256": self.snapshot_sha256,
            "crop_sha256": self.crop_sha256,
            "outfall_id": self.outfall_id,
            "details": self.details,
        }


class EventSink:
    """Writes one camera's events (and their snapshots) to the outbox."""

    def __init__(self, outbox: Outbox, device_id: str, camera_id: str, jpeg_quality: int = 85,
                 projector: Projector | None = None, model: Callable[[], dict[str, Any]] | None = None) -> None:
        self.outbox, self.device_id, self.camera_id = outbox, device_id, camera_id
        self.model = model  # the detector running now: each object event's record names it
        self.jpeg_quality = jpeg_quality
        self.projector = projector
        self.started = 0
        self.records = 0
        self.open: dict[str, EventState] = {}
        # (event_id, kind, frame ts of the start, wall time its record reached the outbox,
        # box): what the latency benchmark reads.
        self.start_log: list[tuple[str, str, float, float, list[float] | None]] = []

    def _snapshots(self, ev: EventState, frame: np.ndarray | None, box: Any | None) -> None:
        if frame is None:
            return
        try:
            ev.snapshot_sha256 = self.outbox.put_media(encode_jpeg(frame, self.jpeg_quality))
            if box is not None:
                ev.crop_sha256 = self.outbox.put_media(encode_jpeg(crop_around(frame, box), self.jpeg_quality))
        except OSError as exc:  # disk trouble: the record matters more than the picture
            log.error("camera %s: cannot store snapshot: %s", self.camera_id, exc)

    def _place(self, ev: EventState, frame_shape: tuple[int, ...] | None) -> None:
        if self.projector is None or ev.box is None or frame_shape is None:
            return
        x1, _, x2, y2 = ev.box
        ev.lat, ev.lon, ev.error_m = self.projector.project((x1 + x2) / 2, y2, frame_shape[1], frame_shape[0])

    def _write(self, ev: EventState) -> None:
        if self.model is not None and ev.class_name is not None:
            ev.details["model"] = self.model()
        self.outbox.put_event(ev.event_id, self.camera_id, ev.kind, ev.body(self.device_id),
                              [ev.snapshot_sha256 or "", ev.crop_sha256 or ""])
        self.records += 1
        ev.last_sent_ts = ev.updated_at

    def start(self, kind: str, ts: float, frame: np.ndarray | None, box: Any | None = None, score: float | None = None,
              class_name: str | None = None, outfall_id: str | None = None, details: dict[str, Any] | None = None,
              started_at: float | None = None) -> EventState:
        assert kind in KINDS, kind
        ev = EventState(str(uuid.uuid4()), kind, self.camera_id, started_at if started_at is not None else ts, ts,
                        class_name=class_name, score=score, box=None if box is None else [float(v) for v in box],
                        outfall_id=outfall_id, details=dict(details or {}))
        ev.sent_score = score or 0.0
        self._snapshots(ev, frame, box)
        self._place(ev, None if frame is None else frame.shape)
        self._write(ev)
        ev.written_at = time.time()
        self.start_log.append((ev.event_id, kind, ts, ev.written_at, ev.box))
        self.open[ev.event_id] = ev
        self.started += 1
        log.info("camera %s: event %s start %s%s", self.camera_id, ev.event_id[:8], kind,
                 f" {class_name} {score:.2f}" if class_name and score is not None else (f" {outfall_id}" if outfall_id else ""))
        return ev

    def update(self, ev: EventState, ts: float, frame: np.ndarray | None = None, box: Any | None = None,
               score: float | None = None, details: dict[str, Any] | None = None) -> None:
        ev.phase = "update"
        ev.updated_at = ts
        if box is not None:
            ev.box = [float(v) for v in box]
        if score is not None:
            ev.score = score
            ev.sent_score = score
        if details:
            ev.details.update(details)
        self._snapshots(ev, frame, box)
        self._place(ev, None if frame is None else frame.shape)
        self._write(ev)

    def end(self, ev: EventState, ended_at: float, frame: np.ndarray | None = None, box: Any | None = None,
            score: float | None = None, details: dict[str, Any] | None = None) -> None:
        ev.phase = "end"
        ev.ended_at = ended_at
        ev.updated_at = max(ev.updated_at, ended_at)
        if box is not None:
            ev.box = [float(v) for v in box]
        if score is not None and score > ev.sent_score:
            ev.score = score
            self._snapshots(ev, frame, box)
            self._place(ev, None if frame is None else frame.shape)
        if details:
            ev.details.update(details)
        self._write(ev)
        self.open.pop(ev.event_id, None)
        log.info("camera %s: event %s end %s", self.camera_id, ev.event_id[:8], ev.kind)


class ObjectEvents:
    """Tracker output -> object events with the best snapshot."""

    def __init__(self, sink: EventSink, class_names: tuple[str, ...] | list[str], update_interval_s: float,
                 min_gain: float = 0.05) -> None:
        self.sink, self.class_names = sink, class_names
        self.update_interval_s, self.min_gain = update_interval_s, min_gain

    def _name(self, t: Any) -> str:
        return self.class_names[t.class_id] if 0 <= t.class_id < len(self.class_names) else str(t.class_id)

    def handle(self, step: Any, ts: float) -> None:
        for t in step.confirmed:
            t.event = self.sink.start("object", ts, t.best_frame, t.best_box, t.median_score, self._name(t),
                                      started_at=t.first_seen, details={"track_id": t.track_id, "best_score": round(t.best_score, 4)})
            t.best_frame_sent = t.best_score
        for t in step.seen:
            ev = t.event
            if not isinstance(ev, EventState):
                continue
            better = t.best_score >= getattr(t, "best_frame_sent", 0.0) + self.min_gain
            if better and ts - ev.last_sent_ts >= self.update_interval_s:
                self.sink.update(ev, ts, t.best_frame, t.best_box, t.median_score, {"best_score": round(t.best_score, 4)})
                t.best_frame_sent = t.best_score
            # the newest box and time are kept in memory and go out with the next record
            ev.updated_at = ts
        for t in step.ended:
            self.finish(t)

    def finish(self, t: Any) -> None:
        ev = t.event
        if not isinstance(ev, EventState):
            return
        improved = t.best_score > getattr(t, "best_frame_sent", 0.0)
        self.sink.end(ev, t.last_seen, t.best_frame if improved else None, t.box, t.median_score if improved else None,
                      {"best_score": round(t.best_score, 4), "last_box": [round(float(v), 1) for v in t.box]})
        t.best_frame = None
