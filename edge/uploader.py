"""Sends what the outbox holds to the server, in order, until the server has it.

The contract (edge/README.md has it in full): snapshots first with
``PUT /api/edge/media/{sha256}``, then the event with ``POST /api/edge/events``. Both are
idempotent on the server (content address; ``event_id`` + ``seq``), so sending again after a
crash or a lost reply is harmless: delivery is at-least-once on the wire and exactly-once
in the server's store.

Failures: connection errors, timeouts, 5xx, 408 and 429 are the server's or the network's
problem: retry with exponential backoff and jitter (the whole uploader pauses, since the
next item would fail the same way). 401/403 mean the device token is wrong: that item stops
(until a restart, which may bring a fixed token), the error goes to the log and to health,
and the box keeps watching and queueing. Other 4xx mean the server refuses this item: it
is marked rejected and never retried, so one bad record cannot block the queue.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heyan.edge.health import Health
    from heyan.edge.outbox import Outbox, PendingEvent

log = logging.getLogger("heyan.edge.uploader")

MEDIA_FIELDS = ("snapshot_sha256", "crop_sha256")


@dataclass
class HttpResult:
    status: int | None  # None: no HTTP answer (connection refused, timeout, DNS)
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def auth_failed(self) -> bool:
        return self.status in (401, 403)

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status in (408, 429)


class HttpClient:
    """Minimal JSON/bytes client on urllib: no dependency, one request per call."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0, user_agent: str = "heyan-edge") -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self.user_agent = user_agent

    def _send(self, method: str, path: str, data: bytes, content_type: str) -> HttpResult:
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type, "User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read()
                return HttpResult(resp.status, _json_or_none(raw))
        except urllib.error.HTTPError as exc:
            raw = exc.read() if exc.fp is not None else b""
            body = _json_or_none(raw)
            detail = body.get("detail") if isinstance(body, dict) else None
            return HttpResult(exc.code, body, f"HTTP {exc.code}" + (f": {detail}" if detail else ""))
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            return HttpResult(None, None, f"cannot reach {self.base_url}: {reason}")

    def post_json(self, path: str, body: dict[str, Any]) -> HttpResult:
        return self._send("POST", path, json.dumps(body, ensure_ascii=False).encode(), "application/json")

    def put_bytes(self, path: str, data: bytes, content_type: str = "image/jpeg") -> HttpResult:
        return self._send("PUT", path, data, content_type)

    def get_bytes(self, path: str) -> HttpResult:
        """A file (a model): ``body`` is the raw bytes on success."""
        req = urllib.request.Request(self.base_url + path, method="GET", headers={
            "Authorization": f"Bearer {self.token}", "User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return HttpResult(resp.status, resp.read())
        except urllib.error.HTTPError as exc:
            return HttpResult(exc.code, None, f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            return HttpResult(None, None, f"cannot reach {self.base_url}: {getattr(exc, 'reason', exc)}")


def auth_message(base_url: str, res: HttpResult) -> str:
    """What the log and health say when the server refuses the device token (401/403)."""
    return (f"wrong device token: the server at {base_url} refused it ({res.error or res.status}); "
            "fix server.token in the config and restart. Events stay queued on disk.")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class Uploader(threading.Thread):
    def __init__(self, outbox: Outbox, client: HttpClient, health: Health, stop: threading.Event,
                 retry_base_s: float = 1.0, retry_max_s: float = 300.0) -> None:
        super().__init__(name="uploader", daemon=True)
        self.outbox, self.client, self.health, self.stop_event = outbox, client, health, stop
        self.retry_base_s, self.retry_max_s = retry_base_s, retry_max_s
        self.wake = threading.Event()
        outbox.add_waker(self.wake)
        self.failures = 0
        self.delivered = 0  # event states acknowledged in this process
        self.stored_new = 0  # ... of which the server said it did not have yet
        self._last_auth_log = 0.0
        self._kick = threading.Event()

    def kick(self) -> None:
        """Try now, ignoring the current backoff (start of a flush)."""
        self.failures = 0
        self._kick.set()
        self.wake.set()

    def _backoff(self) -> float:
        self.failures += 1
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** (self.failures - 1))
        return delay * random.uniform(0.5, 1.5)  # jitter: many boxes must not retry in step

    def run(self) -> None:
        while not self.stop_event.is_set():
            batch = self.outbox.due(time.time() + (1e9 if self._kick.is_set() else 0.0))
            self._kick.clear()
            if not batch:
                self.wake.wait(1.0)
                self.wake.clear()
                continue
            for item in batch:
                if self.stop_event.is_set():
                    return
                try:
                    outcome = self.deliver(item)
                except Exception as exc:  # a bug in one item must not stop delivery
                    log.exception("uploader: unexpected error on event %s", item.event_id)
                    outcome = "retry"
                    self.health.uploader_error = repr(exc)
                if outcome == "retry":
                    delay = self._backoff()
                    self.outbox.mark_retry(item.event_id, self.health.uploader_error or "retry", time.time() + delay)
                    log.info("uploader: %s; retrying in %.1f s", self.health.uploader_error, delay)
                    self._sleep(delay)
                    break

    def _sleep(self, delay: float) -> None:
        end = time.monotonic() + delay
        while not self.stop_event.is_set() and not self._kick.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            self.stop_event.wait(min(left, 0.2))

    def _auth(self, item: PendingEvent, res: HttpResult) -> str:
        msg = auth_message(self.client.base_url, res)
        self.health.auth_error = msg
        self.outbox.mark_rejected(item.event_id, res.error or f"HTTP {res.status}", auth=True)
        now = time.monotonic()
        if now - self._last_auth_log > 60 or self._last_auth_log == 0.0:
            log.error(msg)
            self._last_auth_log = now
        return "auth"

    def deliver(self, item: PendingEvent) -> str:
        """One event's newest state (and its snapshots). Returns ok | retry | auth | rejected."""
        body = dict(item.body)
        for fld in MEDIA_FIELDS:
            sha = body.get(fld)
            if not sha or self.outbox.media_uploaded(sha):
                continue
            path = self.outbox.media_path(sha)
            if path is None:  # evicted by the disk limit before it could be sent
                body[fld] = None
                continue
            res = self.client.put_bytes(f"/api/edge/media/{sha}", path.read_bytes())
            if res.ok:
                self.outbox.mark_media_uploaded(sha)
            elif res.auth_failed:
                return self._auth(item, res)
            elif res.retryable:
                self.health.uploader_error = res.error or f"HTTP {res.status}"
                return "retry"
            else:
                log.error("uploader: server refused snapshot %s of event %s: %s", sha[:12], item.event_id, res.error)
                body[fld] = None
        res = self.client.post_json("/api/edge/events", body)
        if res.ok:
            self.outbox.mark_delivered(item.event_id, item.seq)
            self.failures = 0
            self.delivered += 1
            self.health.delivered += 1
            if isinstance(res.body, dict) and res.body.get("stored"):
                self.stored_new += 1
            self.health.uploader_error = None
            self.health.auth_error = None
            return "ok"
        if res.auth_failed:
            return self._auth(item, res)
        if res.retryable:
            self.health.uploader_error = res.error or f"HTTP {res.status}"
            return "retry"
        log.error("uploader: server refused event %s (%s); it will not be retried", item.event_id, res.error)
        self.outbox.mark_rejected(item.event_id, res.error or f"HTTP {res.status}", auth=False)
        return "rejected"
