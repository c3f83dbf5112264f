"""Flight uploads under attack and faults (issue 16): zip bombs made of many small members,
member counts, a damaged member (422 naming it), no file left in the store by any failed or
interrupted upload, unpacking without holding the database's write lock, and a busy
database answering 503 with Retry-After instead of 500."""

from __future__ import annotations

import io
import socket
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from serve_helpers import ADMIN_PASSWORD, LiveServer, fake_processor, serve_config

import heyan.pipeline.zipsafe
from heyan.serve.tables import Blob


def jpeg(seed: int, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return bio.getvalue()


def store_state(live: LiveServer) -> tuple[list[str], list[str]]:
    st = live.state.store
    return st.files(), sorted(p.name for p in st.tmp_dir.iterdir())


def assert_nothing_left(live: LiveServer, before: tuple[list[str], list[str]]) -> None:
    files, tmp = store_state(live)
    assert files == before[0], f"files left in the store: {sorted(set(files) - set(before[0]))}"
    assert not [t for t in tmp if t.endswith(".part")], f"temporary files left: {tmp}"
    with live.state.db.session(write=False) as db:  # and every stored file has its row
        rows = set(db.scalars(sa.select(Blob.sha256)))
    assert set(files) <= rows


@pytest.fixture
def live_small(tmp_path: Path) -> Iterator[LiveServer]:
    cfg = serve_config(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}", max_files=10, db_busy_timeout_s=1.0, workers=0)
    srv = LiveServer(cfg, fake_processor()).start()
    yield srv
    srv.stop()


def post_zip(c: Any, data: bytes, name: str = "flight.zip") -> Any:
    return c.post("/api/flights", files=[("files", (name, data, "application/zip"))])


def test_zip_bomb_of_many_small_members(live_small: LiveServer) -> None:
    live = live_small
    op = live.client("operator")
    before = store_state(live)
    zeros = bytes(1_000_000)  # each member stays at the per-member check's size
    bomb = zip_bytes([(f"p{i:03d}.jpg", zeros) for i in range(120)])
    assert len(bomb) < 2_000_000
    r = post_zip(op, bomb, "bomb.zip")
    assert r.status_code == 422, r.text
    assert "decompression bomb" in r.json()["detail"] and "bomb.zip" in r.json()["detail"]
    assert_nothing_left(live, before)


def test_zip_member_count_bounded(live_small: LiveServer) -> None:
    live = live_small
    before = store_state(live)
    many = zip_bytes([(f"p{i:04d}.jpg", jpeg(i % 3, 8)) for i in range(live.config.max_files + 1001)],
                     zipfile.ZIP_STORED)
    r = post_zip(live.client("operator"), many)
    assert r.status_code == 422 and "members exceed" in r.json()["detail"], r.text
    assert_nothing_left(live, before)


def test_damaged_member_is_named_and_nothing_kept(live_small: LiveServer) -> None:
    live = live_small
    before = store_state(live)
    good, bad = jpeg(1), jpeg(2)
    data = bytearray(zip_bytes([("a_good.jpg", good), ("b_bad.jpg", bad), ("c_good.jpg", jpeg(3))], zipfile.ZIP_STORED))
    at = bytes(data).index(bad[-200:-160])
    data[at:at + 40] = bytes(40)  # damage b_bad.jpg's bytes: its CRC no longer matches
    r = post_zip(live.client("operator"), bytes(data))
    assert r.status_code == 422, r.text
    assert "b_bad.jpg" in r.json()["detail"]
    assert_nothing_left(live, before)  # a_good.jpg, unpacked before it, is not left behind


def _multipart(parts: list[tuple[str, bytes]], boundary: str) -> bytes:
    out = b""
    for name, data in parts:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def test_interrupted_upload_leaves_no_orphan(live_small: LiveServer) -> None:
    live = live_small
    before = store_state(live)
    token = live.token("operator")
    boundary = "heyanboundary42"
    body = _multipart([("one.jpg", jpeg(11, 256)), ("two.jpg", jpeg(12, 256))], boundary)
    cut = body.index(b"two.jpg") + 300  # the first photo complete, the second cut short
    head = (f"POST /api/flights HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", live.port)) as s:
        s.sendall(head + body[:cut])
        time.sleep(0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [t for t in store_state(live)[1] if t.endswith(".part")]:
        time.sleep(0.1)
    time.sleep(0.5)
    assert_nothing_left(live, before)
    with live.state.db.session(write=False) as db:
        assert db.scalar(sa.text("SELECT count(*) FROM flights")) == 0


def test_zip_unpacked_without_holding_the_write_lock(live_small: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a slow zip is unpacked, logins (POSTs that write) still answer at once."""
    live = live_small
    op = live.client("operator")
    real = heyan.pipeline.zipsafe.read_member
    # Ten photos at 0.3 s each: a slow disk, or a zip of thousands of photos.
    monkeypatch.setattr(heyan.pipeline.zipsafe, "read_member", lambda *a, **kw: (time.sleep(0.3), real(*a, **kw))[1])
    big = zip_bytes([(f"p{i:03d}.jpg", jpeg(i, 16)) for i in range(10)])
    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.setdefault("r", post_zip(op, big)))
    t.start()
    time.sleep(0.5)  # the upload is being unpacked now (10 x 0.3 s)
    codes, slowest = [], 0.0
    with live.client() as c:
        while t.is_alive() and len(codes) < 6:
            t0 = time.monotonic()
            codes.append(c.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).status_code)
            slowest = max(slowest, time.monotonic() - t0)
    t.join(60)
    assert result["r"].status_code == 201, result["r"].text
    assert codes and all(code == 200 for code in codes), codes
    assert slowest < 1.0, slowest


def test_busy_database_answers_503_with_retry_after(live_small: LiveServer) -> None:
    live = live_small
    admin = live.client("admin")
    dev = admin.post("/api/devices", json={"name": "busy-box"}).json()
    box = live.client()
    box.headers["Authorization"] = f"Bearer {dev['token']}"
    live.token("operator")
    holder = sqlite3.connect(str(live.config.data_dir.parent / "heyan.db"), isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock longer than the busy timeout
    try:
        r = admin.post("/api/tickets/escalate")
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1, r.text
        assert "busy" in r.json()["detail"]
        r = box.post("/api/edge/heartbeat", json={"version": "x"})
        assert r.status_code == 503 and r.headers.get("Retry-After"), r.text
        assert live.client().get("/api/health").status_code == 200  # reads go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert admin.post("/api/tickets/escalate").status_code == 200


def test_postgres_lock_timeout_answers_503(pg_server: Any, tmp_path: Path) -> None:
    """PostgreSQL: a row lock held longer than serve_db_busy_timeout_s is a 503, not a wait without end."""
    from serve_helpers import make_db_url

    url = make_db_url("postgresql", pg_server, tmp_path)
    live = LiveServer(serve_config(tmp_path, url, db_busy_timeout_s=1.0, workers=0), fake_processor()).start()
    try:
        from serve_helpers import seed_ticket

        seed_ticket(live, "tk-locked", state="pending_review")
        rev = live.client("reviewer")
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as holder:
            holder.execute("SELECT id FROM tickets WHERE id = 'tk-locked' FOR UPDATE")  # another reviewer mid-way
            t0 = time.monotonic()
            r = rev.post("/api/tickets/tk-locked/transition", json={"to": "confirmed"})
            assert r.status_code == 503 and r.headers.get("Retry-After"), r.text
            assert time.monotonic() - t0 < 10
            holder.rollback()
        assert rev.post("/api/tickets/tk-locked/transition", json={"to": "confirmed"}).status_code == 200
    finally:
        live.stop()
