"""Network helpers for tests."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    """A loopback port free right now (another process may take it before it is bound)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_healthy(url: str, proc: subprocess.Popen[str] | subprocess.Popen[bytes], log: Callable[[], str],
                       timeout: float = 60) -> None:
    """Wait for ``heyan serve`` at ``url`` to answer /api/health; fail with the end of its
    log if the process dies or ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url + "/api/health", timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            assert proc.poll() is None, f"heyan serve exited: {log()[-2000:]}"
            assert time.monotonic() < deadline, f"heyan serve did not start: {log()[-2000:]}"
            time.sleep(0.3)
