"""Helpers of the server tests (fixtures are in conftest.py; this module has its own name so
test modules import it reliably beside other folders' conftest.py): a throwaway PostgreSQL
server, a real uvicorn server on a loopback port in a thread with a settable clock, a
stand-in detector, tickets without a flight."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from support.net import free_port

from heyan.models.settings import DetectorSettings
from heyan.pipeline.ingest import IngestOptions
from heyan.serve.app import create_app
from heyan.serve.clock import SettableClock
from heyan.serve.config import ServeConfig
from heyan.serve.processing import FlightProcessor
from heyan.serve.tables import Evidence, Ticket
from heyan.vision.detections import Detections

ADMIN_PASSWORD = "admin-test-password"
ROLES = ("admin", "reviewer", "chief", "operator", "viewer", "trainer")


PG_STATUS = {"why": "no PostgreSQL test server"}  # set by the pg_server fixture


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


def as_user(user: str | None, cmd: list[str]) -> list[str]:
    return cmd if user is None else ["runuser", "-u", user, "--", *cmd]


def start_postgres() -> tuple[PgServer | None, str]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg (the PostgreSQL driver) is not installed: pip install 'psycopg[binary]'"
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
        subprocess.run(as_user(user, [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "heyan", "--auth=trust",
                                  "-E", "UTF8", "--locale=C"]), check=True, capture_output=True, timeout=120)
        opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=100")
        subprocess.run(as_user(user, [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-o", opts, "-l",
                                  str(root / "log"), "-w", "-t", "60", "start"]), check=True, capture_output=True, timeout=90)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        return None, f"could not start a PostgreSQL test server: {exc} {err.decode(errors='replace')[-300:]}"
    return PgServer(port, root, user), ""


def make_db_url(engine: str, pg: PgServer | None, tmp: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp / 'heyan.db'}"
    if pg is None:
        # CI installs PostgreSQL and sets HEYAN_REQUIRE_POSTGRES: there a missing server
        # is a failure, not a quiet skip of every PostgreSQL test.
        if os.environ.get("HEYAN_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required (HEYAN_REQUIRE_POSTGRES) but: {PG_STATUS['why']}")
        pytest.skip(f"PostgreSQL tests skipped: {PG_STATUS['why']}")
    return pg.new_database()


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
    return FlightProcessor(DetectorSettings(model="centre-fake"), detector_loader=lambda _: CentreDetector(),
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
                                                    lifespan="on", proxy_headers=False))  # as `heyan serve` runs it
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


def tiny_jpeg(seed: int = 0) -> bytes:
    """A real (decodable) 32x32 JPEG: rectification photos are checked by decoding."""
    import cv2

    ok, buf = cv2.imencode(".jpg", np.random.default_rng(seed).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    assert ok
    return bytes(buf.tobytes())


# --------------------------------------------------------------------------- tickets without a flight


CHIEFS = {"village": {"name": "村长甲", "phone": None, "department": None},
          "township": {"name": "镇长乙", "phone": None, "department": None},
          "county": {"name": "县长丙", "phone": None, "department": None}}


def seed_ticket(live: LiveServer, tid: str, segment: str = "seg-1", category: str = "floating_debris", days: int = 3,
         lat: float = 30.5, lon: float = 120.0, found: datetime | None = None, state: str = "pending_review",
         chiefs: dict[str, Any] | None = CHIEFS) -> None:
    now = live.clock.now()
    with live.state.db.session() as db:
        db.add(Ticket(id=tid, state=state, category=category, category_zh="漂浮物", class_name="floating_debris",
                      severity="low", score=0.9, lat=lat, lon=lon, error_m=3.0, segment_id=segment,
                      segment_name=f"{segment} name", river="双桥港", chiefs=chiefs, deadline_days=days,
                      found_at=found or now, created_at=now, updated_at=now, properties={"bank_zh": "左岸"}))
        db.flush()
        db.add(Evidence(ticket_id=tid, kind="detection", flight_id=None, find_id=f"{tid}#0", image_name="a.jpg",
                        box=[1, 2, 3, 4], score=0.9, created_at=now))
        db.commit()


# --------------------------------------------------------------------------- a simulated flight
