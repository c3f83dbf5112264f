"""Login limits under attack (issue 16): the check and the count are one step, so parallel
guesses cannot all pass; failures are counted per account and per client address
separately; X-Forwarded-For is believed only from a configured trusted proxy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from serve_helpers import ADMIN_PASSWORD, LiveServer, fake_processor, serve_config


@pytest.fixture
def live_proxy(tmp_path: Path) -> Iterator[LiveServer]:
    """SQLite server behind a 'reverse proxy' on 127.0.0.1 (the test client)."""
    cfg = serve_config(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}", trusted_proxies=("127.0.0.1",),
                       login_max_failures=3, login_max_address_failures=6)
    srv = LiveServer(cfg, fake_processor()).start()
    yield srv
    srv.stop()


def _login(url: str, user: str, password: str, xff: str | None = None) -> int:
    headers = {"X-Forwarded-For": xff} if xff else {}
    with httpx.Client(base_url=url, timeout=120) as c:
        return c.post("/api/auth/login", json={"username": user, "password": password}, headers=headers).status_code


def test_parallel_guesses_cannot_outrun_the_limit(live_sqlite: LiveServer) -> None:
    live = live_sqlite
    live.client("admin").post("/api/users", json={"username": "raced", "password": "raced-right-pass", "role": "viewer"})
    tries = [f"wrong-{i:02d}" for i in range(39)] + ["raced-right-pass"]
    with ThreadPoolExecutor(40) as pool:
        codes = Counter(pool.map(lambda pw: _login(live.url, "raced", pw), tries))
    # At most max_failures (5) attempts reach the password check; the rest are 429.
    assert codes[401] + codes[200] <= live.config.login_max_failures, codes
    assert codes[429] >= 40 - live.config.login_max_failures, codes
    live.state.limiter.reset("user:raced")
    live.state.limiter.reset("ip:127.0.0.1")


def test_account_and_address_limited_separately(live_proxy: LiveServer) -> None:
    live = live_proxy
    admin = live.client("admin")
    for name in ("alice", "bob", "carol"):
        assert admin.post("/api/users", json={"username": name, "password": f"{name}-long-secret",
                                              "role": "viewer"}).status_code == 201
    # Three failures lock alice's account, from any address ...
    for _ in range(3):
        assert _login(live.url, "alice", "nope-nope", xff="10.0.0.1") == 401
    assert _login(live.url, "alice", "alice-long-secret", xff="10.0.0.2") == 429
    # ... but not bob at the same address.
    assert _login(live.url, "bob", "bob-long-secret", xff="10.0.0.1") == 200
    # An address spraying many accounts is stopped at its own (larger) limit ...
    for i in range(3):
        assert _login(live.url, f"ghost{i}", "nope-nope", xff="10.0.0.1") == 401
    assert _login(live.url, "carol", "carol-long-secret", xff="10.0.0.1") == 429
    # ... while everyone else behind the same proxy logs in.
    assert _login(live.url, "carol", "carol-long-secret", xff="10.0.0.3") == 200


def test_forwarded_for_only_from_trusted_proxy(live_sqlite: LiveServer) -> None:
    """No proxy configured: a client cannot pick a fresh address per guess with X-Forwarded-For."""
    live = live_sqlite
    limiter = live.state.limiter
    for i in range(limiter.max_address_failures):
        assert _login(live.url, f"nobody{i}", "nope-nope", xff=f"192.0.2.{i + 1}") == 401
    assert _login(live.url, "admin", ADMIN_PASSWORD, xff="192.0.2.250") == 429
    limiter.reset("ip:127.0.0.1")
    assert not any(k.startswith("ip:192.0.2.") and v for k, v in limiter._fails.items())


def test_forwarded_for_chain_from_trusted_proxy(live_proxy: LiveServer) -> None:
    """Behind the proxy, the address the proxy appended counts, not what the client wrote before it."""
    live = live_proxy
    for i in range(6):
        assert _login(live.url, f"nobody{i}", "nope-nope", xff=f"198.51.100.{i}, 10.9.9.9") == 401
    assert _login(live.url, "admin", ADMIN_PASSWORD, xff="198.51.100.77, 10.9.9.9") == 429
    assert _login(live.url, "admin", ADMIN_PASSWORD, xff="10.9.9.10") == 200
