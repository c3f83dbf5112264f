"""Login rate limit: failures per account and per client address, each in a sliding window
and each with its own limit. Kept in memory: one server process guards its own door
(several processes would each allow the limit; a shared store is the scale-out answer, not
needed for one county box).

Checking and counting are one step (``begin``): an attempt is counted as a failure before
its password is checked and taken back only if it succeeds, so N parallel guesses cannot
all pass the check before the first of them is counted.

The two keys are separate: failures against one account block that account (from any
address) after ``max_failures``; failures from one address block that address (for any
account) only after the larger ``max_address_failures``, so one person mistyping, or an
attacker locking ``admin``, does not lock out everyone behind the same address (an office
NAT, a reverse proxy)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass
class Attempt:
    """A login attempt counted in advance; ``succeeded`` takes it back."""

    keys: tuple[str, ...]
    stamp: float


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 60.0, max_address_failures: int | None = None) -> None:
        self.max_failures = max_failures
        self.max_address_failures = max_address_failures if max_address_failures is not None else max_failures * 4
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def limit(self, key: str) -> int:
        return self.max_address_failures if key.startswith("ip:") else self.max_failures

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def _wait(self, keys: tuple[str, ...], now: float) -> float:
        wait = 0.0
        for k in keys:
            q = self._prune(k, now)
            if len(q) >= self.limit(k):
                wait = max(wait, q[0] + self.window_s - now)
        return wait

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login may be tried for these keys (0: now)."""
        with self._lock:
            return self._wait(keys, time.monotonic())

    def begin(self, *keys: str) -> tuple[float, Attempt | None]:
        """Atomically: (seconds to wait, None) when a key is at its limit, else (0, an
        attempt already counted as a failure under every key)."""
        now = time.monotonic()
        with self._lock:
            wait = self._wait(keys, now)
            if wait > 0:
                return max(wait, 0.001), None
            for k in keys:
                self._fails[k].append(now)
            return 0.0, Attempt(keys, now)

    def succeeded(self, attempt: Attempt, reset: tuple[str, ...] = ()) -> None:
        """The attempt was right: uncount it, and forget the failures of ``reset`` keys."""
        with self._lock:
            for k in attempt.keys:
                if k in reset:
                    self._fails.pop(k, None)
                    continue
                q = self._fails.get(k)
                if q is not None:
                    try:
                        q.remove(attempt.stamp)
                    except ValueError:
                        pass

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._prune(k, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
