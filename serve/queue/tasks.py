"""What a ``heyan worker`` process runs: the photo task (detect and georeference one photo,
record its result) and the reduce task (the flight's de-duplication, tickets, cross-flight
matching and import: the single-box pipeline's own reduce step and import).

Both are safe to run twice: a photo's result is keyed by its work and written once (a second
copy finds it, or loses the insert); the reduce claims the job under a lease, as the threads
do, and its import upserts tickets by their deterministic ids."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import heyan.serve.jobs as jobs
from heyan.pipeline.geo.rivers import RiverNetwork
from heyan.pipeline.ingest import PhotoResult, unexpected_error
from heyan.serve.clock import Clock
from heyan.serve.config import ServeConfig
from heyan.serve.db import Database
from heyan.serve.processing import FlightProcessor
from heyan.serve.queue import plan as plans
from heyan.serve.queue.celery_app import PHOTO_TASK, REDUCE, REDUCE_TASK, URGENT
from heyan.serve.ratelimit import LoginLimiter
from heyan.serve.sealed import seal_key
from heyan.serve.state import AppState
from heyan.serve.storage import BlobStore
from heyan.serve.tables import Job, RiverNetworkVersion
from heyan.serve.tables import PhotoResult as PhotoResultRow
from heyan.serve.training.registry import apply_in_force
from heyan.serve.worker import import_flight, open_tickets

log = logging.getLogger("heyan.serve.queue")
HOST = socket.gethostname()


class WrongModel(RuntimeError):
    """This worker's model file is not the one the server keyed the flight's photos with."""


class Runtime:
    """A worker process's server pieces (database, store, processor), built on first use in
    each process: a prefork pool's children must not share the parent's connections."""

    def __init__(self, config: ServeConfig, processor: FlightProcessor | None = None) -> None:
        self.config = config
        self._processor = processor
        self._pid: int | None = None
        self._state: AppState | None = None

    def state(self) -> AppState:
        if self._state is None or self._pid != os.getpid():
            cfg = self.config
            self._state = AppState(config=cfg, db=Database(cfg.database_url, cfg.db_busy_timeout_s),
                                   store=BlobStore(cfg.data_dir / "store"), clock=Clock(),
                                   limiter=LoginLimiter(cfg.login_max_failures, cfg.login_window_s),
                                   processor=self._processor or FlightProcessor(cfg.detector, cfg.rules_path))
            self._pid = os.getpid()
        return self._state


def reduce_queue(urgent: bool) -> str:
    return URGENT if urgent else REDUCE


def backoff(config: ServeConfig, retries: int) -> float:
    """Exponential, with jitter, kept well inside the visibility timeout (a task waiting for
    its retry is held unacknowledged by its worker)."""
    cap = config.queue_visibility_timeout_s / 4
    return min(cap, config.queue_retry_backoff_s * (2 ** retries)) * random.uniform(0.75, 1.0)


def network_of(st: AppState, version: int) -> RiverNetwork:
    net = st.processor.cached_network(version)
    if net is None:
        with st.db.session(write=False) as db:
            geojson = db.scalar(sa.select(RiverNetworkVersion.geojson).where(RiverNetworkVersion.version == version))
        if geojson is None:
            raise RuntimeError(f"river network v{version} is not in the database")
        net = st.processor.network(version, json.loads(geojson))
    return net


def run_photo(rt: Runtime, task: Any, job_id: int, flight_id: str, key: str, path: str, sha: str, version: int,
              model_id: str, urgent: bool) -> str:
    st = rt.state()
    cfg = st.config
    with st.db.session(write=False) as db:
        if db.get(PhotoResultRow, key) is not None:
            return "done before"  # a copy of a task whose result is in: nothing to do
        apply_in_force(st, db)  # a site model switched on in the viewer is a row, not a message
        job = db.get(Job, job_id)
        if job is None or job.state != "running":
            return "job not running"
    t0 = time.perf_counter()
    result: PhotoResult | None = None
    failed: str | None = None
    try:
        mine = st.processor.model_id()
        if mine != model_id:
            raise WrongModel(f"worker {HOST} runs model {mine}, the server keyed this flight for {model_id}: "
                             "give every worker the server's model files")
        photo = Path(path)
        if not photo.is_file():
            raise FileNotFoundError(f"{path} is not on worker {HOST}: mount the shared data folder at {cfg.data_dir} "
                                    "here, the same path as on the server")
        ingest = st.processor.ingest(flight_id, network_of(st, version))
        ingest.begin(photo.parent.parent / "out")  # evidence crops beside the flight's other output
        result = ingest.photo_result(photo, retry_unexpected=True)
    except WrongModel as exc:
        failed = str(exc)
    except Exception as exc:  # transient until the retries are spent: shared folder, database, a worker's hiccup
        if task.request.retries < cfg.queue_retries:
            log.warning("photo %s of flight %s: %s; retry %d", sha[:12], flight_id, exc, task.request.retries + 1)
            raise task.retry(exc=exc, countdown=backoff(cfg, task.request.retries), max_retries=cfg.queue_retries) from exc
        failed = unexpected_error(exc)
        log.error("photo %s of flight %s failed for good: %s", sha[:12], flight_id, failed)
    worker = f"{HOST}:{os.getpid()}"
    with st.db.session() as db:
        counted = plans.record(db, job_id, flight_id, key, sha, result, failed, task.request.retries + 1, worker,
                               time.perf_counter() - t0, st.clock.now(), cfg.queue_stall_s, seal_key(cfg.data_dir))
    if counted is None:
        return "not recorded (done by another copy, or the job stopped)"
    done, total = counted
    if done >= total:  # the count is taken under the job row's lock: one photo task sees it complete
        try:
            task.app.send_task(REDUCE_TASK, args=[job_id, urgent], queue=reduce_queue(urgent))
        except Exception:  # the broker is away: the server's sweep sends it when it is back
            log.exception("flight %s complete but the reduce task could not be sent", flight_id)
    return "failed" if failed else "recorded"


def run_reduce(rt: Runtime, task: Any, job_id: int, urgent: bool) -> dict[str, Any]:
    st = rt.state()
    cfg = st.config
    lease = cfg.job_lease_s
    me = f"reduce:{HOST}:{os.getpid()}:{os.urandom(3).hex()}"
    now = st.clock.now()
    with st.db.session() as db:
        res = db.execute(sa.update(Job).where(
            Job.id == job_id, Job.state == "running", Job.mode == "queue", Job.photos_done >= Job.photos_total,
            sa.or_(Job.worker_id == "queue", Job.lease_until < now)).values(
                worker_id=me, lease_until=now + timedelta(seconds=lease)))
        db.commit()
        if res.rowcount != 1:
            return {"job": job_id, "reduced": False, "why": "not ready, finished, or another worker is reducing it"}
    lost, done = threading.Event(), threading.Event()

    def beat() -> None:
        while not done.wait(lease / 4):
            with st.db.session() as db:
                if not jobs.heartbeat(db, job_id, me, lease, st.clock.now()):
                    lost.set()
                    return

    hb = threading.Thread(target=beat, name=f"heyan-reduce-{job_id}", daemon=True)
    hb.start()
    try:
        with st.db.session(write=False) as db:
            job = db.get(Job, job_id)
            assert job is not None
            apply_in_force(st, db)
            plan = plans.make_plan(db, st.processor, st.store.path, cfg.data_dir, job, job.network_version)
            network = network_of(st, plan.network_version)
            earlier = open_tickets(db, plan.flight_id)
            ingest = st.processor.ingest(plan.flight_id, network)
            ingest.begin(plan.workdir / "out")
            summary = ingest.reduce(plan.flight_id, len(plan.photos), plans.results(db, plan, seal_key(cfg.data_dir)), earlier).to_dict()
            failed = plans.failed_photos(db, plan)
        summary.update(photos_failed=len(failed), failed_photos=failed[:200])
        done.set()
        hb.join()
        with st.db.session() as db:
            info = None if lost.is_set() else import_flight(
                st, db, job_id, me, plan.flight_id, plan.workdir / "out", summary, plan.by_path, plan.network_version,
                before_commit=lambda s: plans.forget(s, plan.flight_id))
        if info is None:
            log.warning("job %s: reduce lease lost; result discarded", job_id)
            return {"job": job_id, "reduced": False, "why": "lease lost"}
        shutil.rmtree(plan.workdir, ignore_errors=True)
        return {"job": job_id, "reduced": True, "tickets": summary.get("tickets"), "photos_failed": len(failed)}
    except Exception as exc:
        done.set()
        with st.db.session() as db:
            if isinstance(exc, (OSError, sa.exc.OperationalError)) and task.request.retries < cfg.queue_retries:
                db.execute(sa.update(Job).where(Job.id == job_id, Job.worker_id == me).values(
                    worker_id="queue", lease_until=st.clock.now()))  # free for the retry
                db.commit()
                raise task.retry(exc=exc, countdown=backoff(cfg, task.request.retries), max_retries=cfg.queue_retries) from exc
            log.exception("job %s: reduce failed", job_id)
            jobs.fail(db, job_id, me, f"{type(exc).__name__}: {exc}", st.clock.now())
        return {"job": job_id, "reduced": False, "why": f"{type(exc).__name__}: {exc}"}
    finally:
        done.set()


def register(app: Any, rt: Runtime) -> None:
    """The worker's tasks on ``app`` (the server only sends them, by name)."""

    @app.task(bind=True, name=PHOTO_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
    def photo(self: Any, job_id: int, flight_id: str, key: str, path: str, sha: str, version: int, model_id: str,
              urgent: bool = False) -> str:
        return run_photo(rt, self, job_id, flight_id, key, path, sha, version, model_id, urgent)

    @app.task(bind=True, name=REDUCE_TASK, acks_late=True, reject_on_worker_lost=True)
    def reduce_flight(self: Any, job_id: int, urgent: bool = False) -> dict[str, Any]:
        return run_reduce(rt, self, job_id, urgent)
