"""Login rate limit: failures per username and per client IP in a sliding window. Kept in
memory: one server process guards its own door (several processes would each allow the
limit; a shared store is the scale-out answer, not needed for one county box)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried for these keys (0: now)."""
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            for k in keys:
                q = self._prune(k, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, q[0] + self.window_s - now)
            return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._prune(k, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
