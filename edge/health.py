"""What the box is doing: each camera, the detector, the outbox, the uploader. Threads write
plain attributes of these objects; the heartbeat reads them. A torn read of a float costs
nothing here, so there is no lock on the hot path.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heyan.edge.outbox import Outbox


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
    model_name: str | None = None  # the detector running now (edge.model_sync)
    model_sha256: str | None = None
    model_error: str | None = None  # a model the server named could not be fetched or used

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
            "model": {"name": self.model_name, "sha256": self.model_sha256, "error": self.model_error},
            "cameras": {cid: c.to_json() for cid, c in self.cameras.items()},
        }


def default_device_id() -> str:
    return socket.gethostname() or "edge"
