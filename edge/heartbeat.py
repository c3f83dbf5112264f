"""The box's health (``edge.health``), written to ``<storage>/health.json`` (for whoever is
on site) and posted to the server every ``heartbeat_interval_s`` (for whoever is not)."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heyan.edge.health import Health
from heyan.edge.uploader import auth_message
from heyan.vision.common import atomic_write

if TYPE_CHECKING:
    from heyan.edge.model_sync import ModelSync
    from heyan.edge.outbox import Outbox
    from heyan.edge.uploader import HttpClient

log = logging.getLogger("heyan.edge.heartbeat")

class Heartbeat(threading.Thread):
    """Writes health.json every few seconds and posts it every ``interval_s``."""

    def __init__(self, health: Health, outbox: Outbox, storage_dir: Path, client: HttpClient | None,
                 interval_s: float, stop: threading.Event, local_every_s: float = 2.0,
                 models: ModelSync | None = None) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.health, self.outbox, self.storage_dir = health, outbox, storage_dir
        self.client, self.interval_s, self.stop_event = client, interval_s, stop
        self.local_every_s = min(local_every_s, interval_s)
        self.sent = 0
        self.models = models  # acts on the answer's `model` (which detector to run)

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
            if self.models is not None and isinstance(res.body, dict):
                self.models.want(res.body.get("model"))

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


__all__ = ["Heartbeat", "disk_free_bytes"]
