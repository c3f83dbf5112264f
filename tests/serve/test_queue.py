"""The task queue with real processes on loopback: `heyan serve --workers external` (the
app in a uvicorn thread, as `heyan serve` runs it), a private redis-server, and two
`heyan worker` processes on one SQLite file in WAL mode (several processes, one database
file on one machine, as SQLite allows) and, for the kill -9 case, on PostgreSQL too (the
several-boxes database; the PostgreSQL fixtures of conftest.py). The real detector (the
default zoo model on onnxruntime) runs on a simulated flight; the tickets must be those of
the single-box path (threads inside the server) on the same flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serve_helpers import LiveServer, serve_config
from support.redis_server import RedisServer, redis_binary

from heyan.serve.tables import DetectionRow, Job, PhotoResult, Ticket

pytestmark = [pytest.mark.redis, pytest.mark.slow]
PHOTOS = 14


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qflight") / "sim"
    r = subprocess.run([sys.executable, "-m", "heyan.cli", "simulate-flight", "--out", str(out), "--photos", str(PHOTOS),
                        "--seed", "3", "--width", "1600", "--height", "1200"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-800:]
    return out


def upload(live: LiveServer, flight: Path) -> str:
    c = live.client("admin")
    r = c.post("/api/rivers", content=(flight / "rivers.geojson").read_bytes(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted((flight / "photos").glob("*.jpg"))]
    r = c.post("/api/flights", files=files, timeout=120)
    assert r.status_code == 201, r.text
    return str(r.json()["flight"]["id"])


def ticket_set(live: LiveServer, flight_id: str) -> list[tuple[Any, ...]]:
    items = live.client("admin").get("/api/tickets", params={"flight_id": flight_id, "limit": 500}).json()["items"]
    return sorted((t["class_name"], round(t["lat"], 7), round(t["lon"], 7), t["n_views"], t["category"], t["severity"])
                  for t in items)


@pytest.fixture(scope="module")
def single_box(flight: Path, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The reference: the same flight processed by the server's own thread."""
    tmp = tmp_path_factory.mktemp("single")
    live = LiveServer(serve_config(tmp, f"sqlite:///{tmp / 'heyan.db'}", workers=1), None).start()
    try:
        fid = upload(live, flight)
        assert live.wait_job(fid, timeout=600)["job"]["state"] == "done"
        tickets = ticket_set(live, fid)
    finally:
        live.stop()
    assert tickets, "the simulated flight should give tickets"
    return tickets


class Cluster:
    def __init__(self, tmp: Path, db_url: str) -> None:
        self.tmp = tmp
        self.redis = RedisServer(tmp / "redis").start()
        self.config = serve_config(tmp, db_url, workers="external", broker_url=self.redis.url,
                                   queue_visibility_timeout_s=6.0, queue_stall_s=4.0, queue_retry_backoff_s=0.5)
        self.live = LiveServer(self.config, None).start()
        self.workers: list[subprocess.Popen[str]] = []
        self.env = {**os.environ, "HEYAN_SERVE_DATA_DIR": str(self.config.data_dir), "HEYAN_SERVE_DB_URL": db_url,
                    "HEYAN_SERVE_QUEUE_VISIBILITY_TIMEOUT_S": "6", "HEYAN_SERVE_QUEUE_STALL_S": "4",
                    "HEYAN_SERVE_QUEUE_RETRY_BACKOFF_S": "0.5", "HEYAN_ORT_THREADS": "1"}
        self.env.pop("HEYAN_CONFIG", None)

    def start_worker(self, i: int) -> subprocess.Popen[str]:
        log = open(self.tmp / f"worker-{i}.log", "w")
        p = subprocess.Popen([sys.executable, "-m", "heyan.cli", "worker", "--broker", self.redis.url, "--name", f"w{i}@test"],
                             env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT, text=True)
        self.workers.append(p)
        return p

    def logs(self) -> str:
        return "\n".join((self.tmp / f"worker-{i}.log").read_text(errors="replace")[-3000:] for i in range(len(self.workers)))

    def job(self, flight_id: str) -> Job:
        with self.live.state.db.session(write=False) as db:
            job = db.scalar(sa.select(Job).where(Job.flight_id == flight_id).order_by(Job.id.desc()))
            assert job is not None
            return job

    def wait_done(self, flight_id: str, timeout: float = 600) -> dict[str, Any]:
        try:
            return self.live.wait_job(flight_id, timeout=timeout)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def wait_progress(self, flight_id: str, n: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.job(flight_id).photos_done < n:
            assert time.monotonic() < deadline, f"no progress to {n} photos\n{self.logs()}"
            time.sleep(0.1)

    def no_duplicates(self, flight_id: str) -> None:
        with self.live.state.db.session(write=False) as db:
            n_tickets = db.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.flight_id == flight_id))
            n_ids = db.scalar(sa.select(sa.func.count(sa.distinct(Ticket.id))).where(Ticket.flight_id == flight_id))
            dets = db.execute(sa.select(DetectionRow.image_name, DetectionRow.box).where(DetectionRow.flight_id == flight_id)).all()
            left = db.scalar(sa.select(sa.func.count()).select_from(PhotoResult))
        assert n_tickets == n_ids
        assert len(dets) == len({(d.image_name, str(d.box)) for d in dets}), "a detection stored twice"
        assert left == 0, "photo results are dropped with the import"

    def close(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.live.stop()
        self.redis.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    redis_binary()  # skip (or fail under HEYAN_REQUIRE_REDIS) before building anything
    c = Cluster(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}")
    yield c
    c.close()


@pytest.fixture
def any_cluster(tmp_path: Path, db_url: str) -> Iterator[Cluster]:
    """On the SQLite file and on PostgreSQL (the several-boxes database)."""
    redis_binary()
    c = Cluster(tmp_path, db_url)
    yield c
    c.close()


def test_two_workers_give_the_single_box_tickets_and_survive_kill_9(any_cluster: Cluster, flight: Path,
                                                                    single_box: list[tuple[Any, ...]]) -> None:
    cluster = any_cluster
    a = cluster.start_worker(0)
    cluster.start_worker(1)
    fid = upload(cluster.live, flight)
    cluster.wait_progress(fid, 3)
    a.kill()  # kill -9 in the middle of the flight, most likely in the middle of a photo
    a.wait(10)
    done = cluster.wait_done(fid)
    assert done["job"]["state"] == "done", done
    assert done["job"]["photos_done"] == PHOTOS
    assert done["summary"]["photos_failed"] == 0 and done["summary"]["photos"] == PHOTOS
    assert ticket_set(cluster.live, fid) == single_box
    cluster.no_duplicates(fid)
    for i in (0, 1):  # both took photo tasks: the killed one, and the survivor that did the rest
        assert "heyan.photo[" in (cluster.tmp / f"worker-{i}.log").read_text(errors="replace")


def test_flight_finishes_after_redis_restarts_empty(cluster: Cluster, flight: Path,
                                                    single_box: list[tuple[Any, ...]]) -> None:
    cluster.start_worker(0)
    cluster.start_worker(1)
    fid = upload(cluster.live, flight)
    cluster.wait_progress(fid, 2)
    cluster.redis.kill()  # every queued and taken task is gone with it
    time.sleep(2)
    cluster.redis.start()  # same port, empty
    done = cluster.wait_done(fid)
    assert done["job"]["state"] == "done", done
    assert ticket_set(cluster.live, fid) == single_box
    cluster.no_duplicates(fid)


def test_small_flight_overtakes_a_big_one_and_a_lost_photo_fails_for_good(cluster: Cluster, flight: Path) -> None:
    """No worker yet: a big flight (14 photos, one of which the workers will not find on the
    shared folder) and then a small one (3 photos) are queued; one worker then takes the
    small flight's urgent tasks first, and the big flight finishes without the lost photo,
    saying so."""
    cluster.env.update(HEYAN_SERVE_QUEUE_URGENT_PHOTOS="4", HEYAN_SERVE_QUEUE_RETRIES="1")
    cluster.live.state.config.queue_urgent_photos = 4
    big = upload(cluster.live, flight)
    c = cluster.live.client("admin")
    small_files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted((flight / "photos").glob("*.jpg"))[:3]]
    small = c.post("/api/flights", files=small_files).json()["flight"]["id"]
    deadline = time.monotonic() + 60
    while not (cluster.job(big).network_version and cluster.job(small).network_version):  # both dispatched
        assert time.monotonic() < deadline
        time.sleep(0.1)
    lost = sorted((cluster.config.data_dir / "work" / big / "photos").glob("*.jpg"))[-1]
    lost.unlink()  # the shared folder lost it: every attempt fails, the photo fails for good
    cluster.start_worker(0)
    done_small = cluster.wait_done(small)
    assert done_small["job"]["state"] == "done" and done_small["summary"]["photos_failed"] == 0
    assert cluster.job(big).photos_done <= 1, "the urgent flight waited behind the big one"
    done_big = cluster.wait_done(big)
    assert done_big["job"]["state"] == "done", done_big
    assert done_big["job"]["photos_done"] == PHOTOS
    s = done_big["summary"]
    assert s["photos_failed"] == 1 and s["rejected"] == 1 and s["photos_used"] == PHOTOS - 1
    (refused,) = done_big["rejected_photos"]
    assert refused["reason"].startswith("failed after 2 attempts: unexpected error: FileNotFoundError")
    assert "mount the shared data folder" in refused["reason"]
    cluster.no_duplicates(big)
