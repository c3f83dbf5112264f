"""Fixtures of the server tests: a throwaway PostgreSQL server for the session (when
Debian's postgresql is installed), database URLs for both engines, live servers, and a
simulated flight. The helpers they use are in serve_helpers.py."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import (
    PG_STATUS,
    LiveServer,
    PgServer,
    as_user,
    fake_processor,
    make_db_url,
    serve_config,
    start_postgres,
)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    server, why = start_postgres()
    if server is None:
        PG_STATUS["why"] = why
        yield None
        return
    yield server
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent
    subprocess.run(as_user(server.user, [str(bindir / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "stop"]),
                   capture_output=True, timeout=60)
    shutil.rmtree(server.root, ignore_errors=True)


# PostgreSQL cases carry the `postgres` mark: `make test-fast` leaves them out.
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, pg_server: PgServer | None, tmp_path: Path) -> str:
    return make_db_url(request.param, pg_server, tmp_path)


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(serve_config(tmp_path, db_url), fake_processor()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=ENGINES)
def live_module(request: pytest.FixtureRequest, pg_server: PgServer | None,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live")
    srv = LiveServer(serve_config(tmp, make_db_url(request.param, pg_server, tmp)), fake_processor()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def live_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("live-sqlite")
    srv = LiveServer(serve_config(tmp, f"sqlite:///{tmp / 'heyan.db'}"), fake_processor()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def sim_flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``heyan simulate-flight --photos 6``: photos, rivers.geojson, truth."""
    out = tmp_path_factory.mktemp("flight") / "sim"
    cmd = [sys.executable, "-m", "heyan.cli", "simulate-flight", "--out", str(out), "--photos", "6", "--seed", "7",
           "--width", "1000", "--height", "750"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"heyan simulate-flight failed: {r.stderr[-500:]}")
    return out
