"""Fixtures for the server tests: a throwaway PostgreSQL server (when Debian's postgresql is
installed), database URLs for both engines, and a real uvicorn server on a loopback port
running in a thread, with a settable clock and, by default, a stand-in detector."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from pipeline.ingest import IngestOptions
from serve.app import create_app
from serve.clock import SettableClock
from serve.config import ServeConfig
from serve.processing import FlightProcessor
from vision.detections import Detections

ADMIN_PASSWORD = "admin-test-password"
ROLES = ("admin", "reviewer", "chief", "operator", "viewer")
REPO = Path(__file__).resolve().parents[2]
HEYAN = REPO / ".venv" / "bin" / "heyan"


_PG_WHY = "no PostgreSQL test server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class PgServer:
    port: int
    root: Path
    user: str | None  # OS user the server runs as (None: ourselves)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_database(self) -> str:
        import psycopg

        name = f"heyan_test_{os.getpid()}_{next(self.counter)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=heyan dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://heyan@127.0.0.1:{self.port}/{name}"


def _as(user: str | None, cmd: list[str]) -> list[str]:
    return cmd if user is None else ["runuser", "-u", user, "--", *cmd]


def _start_postgres() -> tuple[PgServer | None, str]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        return None, "PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)"
    bindir = Path(bins[-1]).parent
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run the test server as"
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="heyan-pg-"))
    if user:
        shutil.chown(root, user)
    port = free_port()
    try:
        subprocess.run(_as(user, [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "heyan", "--auth=trust",
                                  "-E", "UTF8", "--locale=C"]), check=True, capture_output=True, timeout=120)
        opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=100")
        subprocess.run(_as(user, [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", opts, "-l",
                                  str(root / "log"), "-w", "-t", "60", "start"]), check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        return None, f"could not start a PostgreSQL test server: {exc} {err.decode(errors='replace')[-300:]}"
    return PgServer(port, root, user), ""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    global _PG_WHY
    server, why = _start_postgres()
    if server is None:
        _PG_WHY = why
        yield None
        return
    yield server
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent
    subprocess.run(_as(server.user, [str(bindir / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "stop"]),
                   capture_output=True, timeout=60)
    shutil.rmtree(server.root, ignore_errors=True)


def make_db_url(engine: str, pg: PgServer | None, tmp: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp / 'heyan.db'}"
    if pg is None:
        pytest.skip(f"PostgreSQL tests skipped: {_PG_WHY}")
    return pg.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, pg_server: PgServer | None, tmp_path: Path) -> str:
    return make_db_url(request.param, pg_server, tmp_path)


# --------------------------------------------------------------------------- stand-in detector


class CentreDetector:
    """Sees one piece of floating debris in the middle of every photo: the real pipeline
    (pose, georeferencing, rules, dedup) runs on its output, deterministically, with no model."""

    class_names = ("floating_debris", "sand_dredger", "boat", "waste_pile", "structure")
    imgsz = 640

    def __call__(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        box = [w * 0.47, h * 0.47, w * 0.53, h * 0.53]
        return Detections(np.array([box], np.float32), np.array([0.9], np.float32), np.array([0]))

    def predict_batch(self, images: list[np.ndarray], **_: Any) -> list[Detections]:
        return [self(im) for im in images]


def fake_processor() -> FlightProcessor:
    return FlightProcessor("centre-fake", detector_loader=lambda _: CentreDetector(),
                           options=lambda fid: IngestOptions(flight_id=fid, tile=False))


# --------------------------------------------------------------------------- live server


class LiveServer:
    def __init__(self, config: ServeConfig, processor: FlightProcessor | None) -> None:
        import uvicorn

        self.clock = SettableClock()
        self.app = create_app(config, clock=self.clock, processor=processor, announce=False)
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.tokens: dict[str, str] = {}

    @property
    def state(self) -> Any:
        return self.app.state.heyan

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)

    def client(self, role: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(role)}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kw)

    def login(self, username: str, password: str) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=60)
        r = c.post("/api/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def token(self, role: str) -> str:
        """A personal token of a user with this role (user '<role>-user'; chiefs answer for seg-1, seg-2)."""
        if role not in self.tokens:
            admin = self.login("admin", ADMIN_PASSWORD)
            name = "admin" if role == "admin" else f"{role}-user"
            if role != "admin":
                body = {"username": name, "password": f"{role}-password", "role": role}
                if role == "chief":
                    body["segments"] = self.chief_segments
                r = admin.post("/api/users", json=body)
                assert r.status_code in (201, 409), r.text
            c = admin if role == "admin" else self.login(name, f"{role}-password")
            r = c.post("/api/auth/tokens", json={"name": "tests"})
            assert r.status_code == 201, r.text
            self.tokens[role] = r.json()["token"]
        return self.tokens[role]

    chief_segments: list[str] = ["seg-1", "seg-2"]

    def wait_job(self, flight_id: str, timeout: float = 120) -> dict[str, Any]:
        c = self.client("admin")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            f = c.get(f"/api/flights/{flight_id}").json()
            if f["job"] and f["job"]["state"] in ("done", "failed"):
                return f
            time.sleep(0.2)
        raise TimeoutError(f"flight {flight_id} not processed in {timeout} s: {f}")


def serve_config(tmp: Path, db_url: str, **kw: Any) -> ServeConfig:
    base: dict[str, Any] = dict(data_dir=tmp / "data", db_url=db_url, admin_password=ADMIN_PASSWORD, workers=1,
                                job_lease_s=30.0, escalation_interval_s=0.0, login_max_failures=5, login_window_s=60.0)
    base.update(kw)
    return ServeConfig(**base)


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(serve_config(tmp_path, db_url), fake_processor()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
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


# --------------------------------------------------------------------------- a simulated flight


@pytest.fixture(scope="session")
def sim_flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``heyan simulate-flight --photos 6``: photos, rivers.geojson, truth."""
    try:
        import datasets.flight  # noqa: F401
    except ImportError:
        pytest.skip("datasets.flight (the flight simulator) is not available yet")
    out = tmp_path_factory.mktemp("flight") / "sim"
    cmd = [str(HEYAN), "simulate-flight", "--out", str(out), "--photos", "6", "--seed", "7",
           "--width", "1000", "--height", "750"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"heyan simulate-flight failed: {r.stderr[-500:]}")
    return out
