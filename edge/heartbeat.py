"""Health of the box: what each camera, the detector and the outbox are doing, written to
``<storage>/health.json`` (for whoever is on site) and posted to the server every
``heartbeat_interval_s`` (for whoever is not).

Threads write plain attributes of these objects; the heartbeat reads them. A torn read of a
float costs nothing here, so there is no lock on the hot path.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.outbox import atomic_write
from edge.uploader import auth_message

if TYPE_CHECKING:
    from edge.outbox import Outbox
    from edge.uploader import HttpClient

log = logging.getLogger("heyan.edge.heartbeat")

def _version() -> str:
    # The installed distribution's version; edge does not import the CLI package for it.
    try:
        from importlib.metadata import version

        return version("heyan")
    except Exception:  # pragma: no cover - running from a bare checkout
        return "unknown"


VERSION = _version()


@dataclass
class CameraHealth:
    camera_id: str
    state: str = "starting"  # starting | running | reconnecting | frozen | error | finished | stopped
    last_error: str | None = None
    frames: int = 0  # frames analysed
    frames_read: int = 0
    frames_dropped: int = 0  # live frames dropped because analysis was behind
    reconnects: int = 0
    detector_runs: int = 0
    gate_frames: int = 0
    gate_fired: int = 0
    last_frame_at: float | None = None  # wall time
    _times: deque = field(default_factory=lambda: deque(maxlen=50))

    def frame_done(self) -> None:
        now = time.monotonic()
        self._times.append(now)
        self.frames += 1
        self.last_frame_at = time.time()

    @property
    def fps(self) -> float:
        """Analysed frames per second over the recent frames (0 when stale)."""
        t = list(self._times)
        if len(t) < 2 or time.monotonic() - t[-1] > 5.0:
            return 0.0
        return (len(t) - 1) / max(t[-1] - t[0], 1e-6)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state, "fps": round(self.fps, 2), "frames": self.frames, "frames_read": self.frames_read,
            "frames_dropped": self.frames_dropped, "reconnects": self.reconnects, "detector_runs": self.detector_runs,
            "gate_fire_rate": round(self.gate_fired / self.gate_frames, 4) if self.gate_frames else None,
            "last_frame_at": self.last_frame_at, "last_error": self.last_error,
        }


@dataclass
class Health:
    device_id: str
    started_at: float = field(default_factory=time.time)
    cameras: dict[str, CameraHealth] = field(default_factory=dict)
    detector_ms: float | None = None  # mean over recent runs
    last_error: str | None = None
    auth_error: str | None = None  # set when the server refused the device token
    uploader_error: str | None = None
    delivered: int = 0

    def camera(self, cam_id: str) -> CameraHealth:
        return self.cameras.setdefault(cam_id, CameraHealth(cam_id))

    def error(self, msg: str) -> None:
        self.last_error = msg

    def snapshot(self, outbox: Outbox | None, storage_dir: Path | None) -> dict[str, Any]:
        disk_free = None
        if storage_dir is not None:
            try:
                disk_free = round(shutil.disk_usage(storage_dir).free / 2**20, 1)
            except OSError:
                pass
        return {
            "device_id": self.device_id,
            "version": VERSION,
            "time": time.time(),
            "uptime_s": round(time.time() - self.started_at, 1),
            "fps": {cid: round(c.fps, 2) for cid, c in self.cameras.items()},
            "detector_ms": round(self.detector_ms, 2) if self.detector_ms is not None else None,
            "outbox_depth": outbox.depth() if outbox is not None else None,
            "media_mb": round(outbox.media_bytes() / 2**20, 2) if outbox is not None else None,
            "disk_free_mb": disk_free,
            "last_error": self.auth_error or self.last_error,
            "auth_error": self.auth_error,
            "uploader_error": self.uploader_error,
            "cameras": {cid: c.to_json() for cid, c in self.cameras.items()},
        }


def default_device_id() -> str:
    return socket.gethostname() or "edge"


class Heartbeat(threading.Thread):
    """Writes health.json every few seconds and posts it every ``interval_s``."""

    def __init__(self, health: Health, outbox: Outbox, storage_dir: Path, client: HttpClient | None,
                 interval_s: float, stop: threading.Event, local_every_s: float = 2.0) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.health, self.outbox, self.storage_dir = health, outbox, storage_dir
        self.client, self.interval_s, self.stop_event = client, interval_s, stop
        self.local_every_s = min(local_every_s, interval_s)
        self.sent = 0

    def write_local(self) -> dict[str, Any]:
        snap = self.health.snapshot(self.outbox, self.storage_dir)
        try:
            atomic_write(self.storage_dir / "health.json", json.dumps(snap, ensure_ascii=False, indent=1).encode())
        except OSError as exc:  # a full disk must not stop the cameras
            log.warning("cannot write health.json: %s", exc)
        return snap

    def beat(self) -> None:
        snap = self.write_local()
        if self.client is None:
            return
        res = self.client.post_json("/api/edge/heartbeat", snap)
        if res.auth_failed:  # the same words as the uploader's, whichever of the two noticed last
            self.health.auth_error = auth_message(self.client.base_url, res)
        elif res.ok:
            self.sent += 1

    def run(self) -> None:
        next_post = time.monotonic()
        while not self.stop_event.is_set():
            now = time.monotonic()
            try:
                if now >= next_post:
                    self.beat()
                    next_post = now + self.interval_s
                else:
                    self.write_local()
            except Exception as exc:  # never let health reporting kill the box
                log.warning("heartbeat failed: %s", exc)
            self.stop_event.wait(min(self.local_every_s, max(0.05, next_post - time.monotonic())))
        try:
            self.write_local()
        except Exception:  # pragma: no cover
            pass


def disk_free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


__all__ = ["VERSION", "CameraHealth", "Health", "Heartbeat", "default_device_id", "disk_free_bytes"]
