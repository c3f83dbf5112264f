"""`heyan demo-server` (the end of `make demo`) and `heyan upload` against a real server:
real processes, the real model, the real database file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.net import free_port, wait_until_healthy

HEYAN = [sys.executable, "-m", "heyan.cli"]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # A wide terminal: Typer's error box would otherwise wrap the message mid-phrase.
    e = dict(os.environ, HEYAN_ORT_THREADS="2", COLUMNS="400", **(env or {}))
    return subprocess.run(HEYAN + args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flight") / "f"
    r = _run(["simulate-flight", "--out", str(out), "--photos", "5", "--seed", "3"], out.parent)
    assert r.returncode == 0, r.stderr[-800:]
    return out


def test_demo_server_processes_the_flight_through_the_api(flight: Path, tmp_path: Path) -> None:
    data = tmp_path / "server"
    r = _run(["demo-server", "--flight", str(flight), "--data", str(data), "--port", str(free_port()), "--no-serve"],
             tmp_path)
    assert r.returncode == 0, r.stderr[-1500:]
    assert "log in as admin / heyan-demo" in r.stdout
    db = sqlite3.connect(data / "heyan.db")
    (state,) = db.execute("SELECT state FROM jobs").fetchone()
    assert state == "done"
    users = dict(db.execute("SELECT username, role FROM users").fetchall())
    assert users == {"admin": "admin", "reviewer": "reviewer", "chief": "chief", "operator": "operator", "viewer": "viewer"}
    (n_photos,) = db.execute("SELECT count(*) FROM flight_photos").fetchone()
    assert n_photos == 5
    (n_tickets,) = db.execute("SELECT count(*) FROM tickets").fetchone()
    printed = int(r.stdout.split(" tickets from ")[0].rsplit(" ", 1)[-1])
    assert printed == n_tickets

    # A second run on the same data folder finds the flight (content hash) and users: no doubles.
    r2 = _run(["demo-server", "--flight", str(flight), "--data", str(data), "--port", str(free_port()), "--no-serve"],
              tmp_path)
    assert r2.returncode == 0, r2.stderr[-1500:]
    assert "already uploaded" in r2.stderr
    assert db.execute("SELECT count(*) FROM flights").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM tickets").fetchone() == (n_tickets,)


def test_upload_streams_a_flight_to_a_running_server(flight: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, HEYAN_ADMIN_PASSWORD="admin-pass-123", HEYAN_ORT_THREADS="2")
    srv = subprocess.Popen(HEYAN + ["serve", "--data", str(tmp_path / "d"), "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_healthy(url, srv, lambda: srv.stderr.read() if srv.stderr and srv.poll() is not None else "")
        # Wrong password: the server's own message, exit 1, nothing uploaded.
        bad = _run(["upload", str(flight / "photos"), "--server", url, "--user", "admin"], tmp_path,
                   env={"HEYAN_PASSWORD": "nope-nope"})
        assert bad.returncode == 1
        assert "wrong username or password" in bad.stderr
        ok = _run(["upload", str(flight / "photos"), "--server", url, "--user", "admin", "--rivers",
                   str(flight / "rivers.geojson"), "--name", "test flight"], tmp_path, env={"HEYAN_PASSWORD": "admin-pass-123"})
        assert ok.returncode == 0, ok.stderr[-1500:]
        out = json.loads(ok.stdout.strip().splitlines()[-1])
        assert out["name"] == "test flight" and out["n_photos"] == 5 and out["job"]["state"] == "done"
        assert out["network_version"] is not None
    finally:
        srv.terminate()
        srv.wait(30)


def test_upload_reports_bad_arguments_clearly(tmp_path: Path) -> None:
    r = _run(["upload", str(tmp_path / "missing"), "--token", "x"], tmp_path)
    assert r.returncode != 0 and "no such file or folder" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run(["upload", str(empty), "--token", "x"], tmp_path)
    assert r.returncode != 0 and "no photos or zip" in r.stderr
    (empty / "a.jpg").write_bytes(b"x")
    r = _run(["upload", str(empty), "--token", "x", "--server", f"http://127.0.0.1:{free_port()}"], tmp_path)
    assert r.returncode == 1 and "cannot reach" in r.stderr
