"""The server's idea of "now". Deadlines and escalation read it from here, so tests can
set the time instead of waiting for days to pass."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock(Clock):
    """Real time plus an offset that tests move forward (``advance``) or pin (``set``)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta

    def set(self, when: datetime) -> None:
        with self._lock:
            self._offset = when - datetime.now(UTC)
