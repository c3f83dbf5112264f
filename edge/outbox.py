"""The on-disk outbox: every event and snapshot is here before anyone tries to send it.

- Event records live in SQLite (WAL, ``synchronous=FULL``): one row per event holding its
  newest state and a ``seq`` that grows with each change; ``delivered_seq`` says how far the
  server has acknowledged. A box that is offline for hours sends each event's newest state
  once it is back, not every intermediate update.
- Snapshots are content-addressed files ``media/ab/<sha256>.jpg`` written atomically
  (temp file, fsync, rename, fsync of the folder), always *before* the record that names
  them, so after a crash no record points at half a file.
- Disk is bounded: past ``max_media_bytes`` (or below ``min_free_bytes`` free) the oldest
  snapshot files are deleted. Event records are never deleted: they are small and they are
  what the river chief's office needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heyan.vision.common import atomic_write

log = logging.getLogger("heyan.edge.outbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    camera_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    media TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_seq INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | rejected | auth
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (status, next_attempt_at, created_at);
CREATE TABLE IF NOT EXISTS media (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at REAL NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    evicted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS media_age ON media (evicted, created_at);
"""


@dataclass
class PendingEvent:
    event_id: str
    seq: int
    body: dict[str, Any]
    media: list[str]
    attempts: int


class Outbox:
    """Thread-safe: camera threads put, the uploader takes, the heartbeat counts."""

    def __init__(self, root: Path, max_media_bytes: int = 2 << 30, min_free_bytes: int = 200 << 20) -> None:
        self.root = Path(root)
        self.media_dir = self.root / "media"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.max_media_bytes = max_media_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.RLock()
        self.db = sqlite3.connect(self.root / "outbox.db", check_same_thread=False, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a record acknowledged to the camera thread survives power loss, not only a
        # crash of this process. Events are few; the fsync per write is affordable.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.evicted_total = 0
        self._wake: list[threading.Event] = []
        self._recover()

    # -- start-up -------------------------------------------------------------------
    def _recover(self) -> None:
        with self._lock:
            # A refused token may have been fixed in the config since: try those again.
            n = self.db.execute("UPDATE events SET status='pending', next_attempt_at=0 WHERE status='auth'").rowcount
            if n:
                log.info("outbox: %d event(s) refused for the device token earlier will be retried", n)
            known = {r[0]: r[1] for r in self.db.execute("SELECT sha256, evicted FROM media")}
            for tmp in self.media_dir.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)  # a write cut short by a crash
            for f in self.media_dir.rglob("*.jpg"):
                sha = f.stem
                if sha not in known:  # written, then the process died before its row
                    st = f.stat()
                    self.db.execute("INSERT OR IGNORE INTO media (sha256, path, bytes, created_at) VALUES (?,?,?,?)",
                                    (sha, str(f.relative_to(self.root)), st.st_size, st.st_mtime))
            for sha, rel in list(self.db.execute("SELECT sha256, path FROM media WHERE evicted=0")):
                if not (self.root / rel).is_file():
                    self.db.execute("UPDATE media SET evicted=1 WHERE sha256=?", (sha,))
            self._media_bytes = int(self.db.execute("SELECT COALESCE(SUM(bytes),0) FROM media WHERE evicted=0").fetchone()[0])

    def add_waker(self, ev: threading.Event) -> None:
        """``ev`` is set whenever there is something new to send (the uploader waits on it)."""
        self._wake.append(ev)

    def _notify(self) -> None:
        for ev in self._wake:
            ev.set()

    # -- media ----------------------------------------------------------------------
    def put_media(self, data: bytes, ext: str = "jpg") -> str:
        sha = hashlib.sha256(data).hexdigest()
        rel = Path("media") / sha[:2] / f"{sha}.{ext}"
        with self._lock:
            row = self.db.execute("SELECT evicted FROM media WHERE sha256=?", (sha,)).fetchone()
            if row is not None and row[0] == 0:
                return sha
        atomic_write(self.root / rel, data)  # outside the lock: fsync is slow
        with self._lock:
            self.db.execute(
                "INSERT INTO media (sha256, path, bytes, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(sha256) DO UPDATE SET evicted=0, created_at=excluded.created_at",
                (sha, str(rel), len(data), time.time()))
            self._media_bytes += len(data)
            self.enforce_limits()
        return sha

    def media_path(self, sha: str) -> Path | None:
        with self._lock:
            row = self.db.execute("SELECT path, evicted FROM media WHERE sha256=?", (sha,)).fetchone()
        if row is None or row[1]:
            return None
        p = self.root / row[0]
        return p if p.is_file() else None

    def media_uploaded(self, sha: str) -> bool:
        with self._lock:
            row = self.db.execute("SELECT uploaded FROM media WHERE sha256=?", (sha,)).fetchone()
        return bool(row and row[0])

    def mark_media_uploaded(self, sha: str) -> None:
        with self._lock:
            self.db.execute("UPDATE media SET uploaded=1 WHERE sha256=?", (sha,))

    def media_bytes(self) -> int:
        return self._media_bytes

    def enforce_limits(self) -> list[str]:
        """Delete the oldest snapshot files until under the size limit and above the free
        space floor. Returns the sha256s evicted. Records are untouched."""
        evicted: list[str] = []
        with self._lock:
            while True:
                over = self._media_bytes > self.max_media_bytes
                low = self.min_free_bytes > 0 and _free(self.root) < self.min_free_bytes
                if not (over or low):
                    break
                row = self.db.execute("SELECT sha256, path, bytes FROM media WHERE evicted=0 ORDER BY created_at, rowid LIMIT 1").fetchone()
                if row is None:
                    if low:
                        log.warning("outbox: disk free below %d MiB and no snapshot left to delete", self.min_free_bytes >> 20)
                    break
                sha, rel, size = row
                try:
                    (self.root / rel).unlink()
                except FileNotFoundError:
                    pass
                self.db.execute("UPDATE media SET evicted=1 WHERE sha256=?", (sha,))
                self._media_bytes -= size
                evicted.append(sha)
            if evicted:
                self.evicted_total += len(evicted)
                log.warning("outbox: storage limit reached, deleted %d oldest snapshot(s) (records are kept)", len(evicted))
        return evicted

    # -- events ---------------------------------------------------------------------
    def put_event(self, event_id: str, camera_id: str, kind: str, body: dict[str, Any], media: list[str]) -> int:
        """Insert or update an event's newest state; returns its new ``seq`` (1, 2, ...)."""
        now = time.time()
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                row = self.db.execute("SELECT seq, media FROM events WHERE event_id=?", (event_id,)).fetchone()
                seq = (row[0] if row else 0) + 1
                all_media = list(dict.fromkeys((json.loads(row[1]) if row else []) + [m for m in media if m]))
                data = json.dumps(dict(body, seq=seq), ensure_ascii=False)
                if row is None:
                    self.db.execute(
                        "INSERT INTO events (event_id, camera_id, kind, seq, body, media, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                        (event_id, camera_id, kind, seq, data, json.dumps(all_media), now, now))
                else:
                    self.db.execute(
                        "UPDATE events SET seq=?, body=?, media=?, updated_at=?, status='pending', next_attempt_at=0 WHERE event_id=?",
                        (seq, data, json.dumps(all_media), now, event_id))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        self._notify()
        return seq

    def due(self, now: float | None = None, limit: int = 20) -> list[PendingEvent]:
        now = time.time() if now is None else now
        with self._lock:
            rows = self.db.execute(
                "SELECT event_id, seq, body, media, attempts FROM events WHERE status='pending' AND delivered_seq < seq "
                "AND next_attempt_at <= ? ORDER BY created_at, rowid LIMIT ?", (now, limit)).fetchall()
        return [PendingEvent(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4]) for r in rows]

    def mark_delivered(self, event_id: str, seq: int) -> None:
        with self._lock:
            self.db.execute(
                "UPDATE events SET delivered_seq=MAX(delivered_seq, ?), attempts=0, last_error=NULL, "
                "status=CASE WHEN seq <= ? THEN 'delivered' ELSE 'pending' END WHERE event_id=?",
                (seq, seq, event_id))

    def mark_retry(self, event_id: str, error: str, next_attempt_at: float) -> None:
        with self._lock:
            self.db.execute("UPDATE events SET attempts=attempts+1, last_error=?, next_attempt_at=? WHERE event_id=?",
                            (error, next_attempt_at, event_id))

    def mark_rejected(self, event_id: str, error: str, auth: bool) -> None:
        """Stop retrying: ``auth`` (401/403) is retried after a restart, other refusals never."""
        with self._lock:
            self.db.execute("UPDATE events SET status=?, last_error=?, attempts=attempts+1 WHERE event_id=?",
                            ("auth" if auth else "rejected", error, event_id))

    def depth(self) -> int:
        """Events whose newest state the server has not acknowledged."""
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM events WHERE status IN ('pending','auth') AND delivered_seq < seq").fetchone()[0])

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {s: n for s, n in self.db.execute("SELECT status, COUNT(*) FROM events GROUP BY status")}

    def events(self) -> list[dict[str, Any]]:
        """Every record (tests, diagnostics)."""
        with self._lock:
            rows = self.db.execute("SELECT event_id, seq, delivered_seq, status, body, last_error FROM events ORDER BY created_at, rowid").fetchall()
        return [{"event_id": r[0], "seq": r[1], "delivered_seq": r[2], "status": r[3], "body": json.loads(r[4]), "last_error": r[5]} for r in rows]

    def media_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.db.execute("SELECT sha256, bytes, created_at, uploaded, evicted FROM media ORDER BY created_at, rowid").fetchall()
        return [{"sha256": r[0], "bytes": r[1], "created_at": r[2], "uploaded": bool(r[3]), "evicted": bool(r[4])} for r in rows]

    def close(self) -> None:
        with self._lock:
            try:
                self.db.close()
            except sqlite3.Error:  # pragma: no cover
                pass


def _free(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 1 << 62
