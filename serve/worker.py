"""Background processing: worker threads started by the app pull flight jobs from the
``jobs`` table, run the pipeline, and import the result together with marking the job done
(one transaction: a crash before the commit leaves the job to be redone, never half
imported). A heartbeat thread renews the job's lease while it runs; a ticker thread requeues
jobs of dead workers and runs the overdue/escalation check."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import heyan.serve.jobs as jobs
from heyan.pipeline.tickets.dedup import OpenTicket
from heyan.serve.escalation import check_overdue
from heyan.serve.importer import FlightImport
from heyan.serve.processing import JobAborted, PhotoRef
from heyan.serve.sealed import seal_key
from heyan.serve.state import AppState
from heyan.serve.tables import Flight, FlightPhoto, Job, RiverNetworkVersion, Ticket
from heyan.serve.workflow import OPEN_STATES

log = logging.getLogger("heyan.serve.worker")


def open_tickets(db: Any, exclude_flight: str) -> list[OpenTicket]:
    """Open tickets of other flights, for cross-flight matching (id, class, place, error only)."""
    rows = db.execute(sa.select(Ticket.id, Ticket.class_name, Ticket.lat, Ticket.lon, Ticket.error_m, Ticket.state,
                                Ticket.size_m).where(Ticket.state.in_(OPEN_STATES),
                                                     sa.or_(Ticket.flight_id.is_(None), Ticket.flight_id != exclude_flight)))
    return [OpenTicket(id=r.id, class_name=r.class_name, lat=r.lat, lon=r.lon, error_m=r.error_m, state=r.state,
                       size_m=r.size_m) for r in rows]


def import_flight(st: AppState, db: Any, job_id: int, worker_id: str, flight_id: str, out: Path,
                  summary: dict[str, Any], by_path: dict[str, PhotoRef], version: int,
                  before_commit: Callable[[Any], None] | None = None) -> dict[str, Any] | None:
    """Import a processed flight and mark its job done, in the caller's one transaction
    (committed here); None if the job is no longer this worker's (its result is discarded:
    the worker that owns it now redoes it). Shared by the threads and the task queue."""
    if not jobs.owns(db, job_id, worker_id):
        return None
    flight = db.get(Flight, flight_id)
    assert flight is not None
    info = FlightImport(db, st.store, flight, out, by_path, version, st.clock.now(),
                        model=st.processor.model_identity()).run(summary)
    # Nothing usable (every photo corrupt, without GPS, ...): the flight failed, with the
    # per-photo reasons imported above; not "done" as if it had been inspected.
    failed = not summary.get("photos_used")
    db.execute(sa.update(Job).where(Job.id == job_id, Job.worker_id == worker_id).values(
        state="failed" if failed else "done", error=jobs.NO_USABLE_PHOTOS if failed else None,
        finished_at=st.clock.now(), photos_done=summary["photos"], lease_until=None))
    if before_commit is not None:
        before_commit(db)
    db.commit()  # tickets, evidence, detections and "done" together
    log.info("job %s (flight %s) done: %s", job_id, flight_id,
             {k: info.get(k) for k in ("photos", "tickets_created", "seen_again_recorded", "not_seen_recorded")})
    return info


class WorkerPool:
    def __init__(self, st: AppState, threads: int) -> None:
        self.st = st
        self.n = threads
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._tick()  # requeue what a dead worker left before taking new work
        for i in range(self.n):
            t = threading.Thread(target=self._loop, args=(i,), name=f"heyan-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._ticker, name="heyan-ticker", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.wake_event.set()
        for t in self._threads:
            t.join(timeout)

    def wake(self) -> None:
        self.wake_event.set()

    # -- periodic work ------------------------------------------------------------------------
    def _tick(self) -> None:
        with self.st.db.session() as db:
            back = jobs.requeue_stale(db, self.st.clock.now(), self.st.config.job_max_attempts)
        if back:
            log.warning("requeued jobs of stopped workers: %s", back)
            self.wake()

    def _ticker(self) -> None:
        last_escalation = 0.0
        interval = self.st.config.escalation_interval_s
        while not self.stop_event.wait(min(5.0, self.st.config.job_lease_s / 4)):
            try:
                self._tick()
                if interval > 0 and time.monotonic() - last_escalation >= interval:
                    last_escalation = time.monotonic()
                    with self.st.db.session() as db:
                        changed = check_overdue(db, self.st.clock.now())
                        db.commit()
                    if changed:
                        log.info("escalation check: %d tickets overdue or escalated", len(changed))
            except Exception:  # keep ticking: a database hiccup must not stop the checks
                log.exception("periodic check failed")

    # -- jobs ----------------------------------------------------------------------------------
    def _loop(self, index: int) -> None:
        worker_id = jobs.new_worker_id(index)
        while not self.stop_event.is_set():
            try:
                with self.st.db.session() as db:
                    job = jobs.claim(db, worker_id, self.st.config.job_lease_s, self.st.clock.now())
                if job is None:
                    self.wake_event.wait(2.0)
                    self.wake_event.clear()
                    continue
                self.run_job(job.id, job.flight_id, worker_id)
            except Exception:
                log.exception("worker %s: unexpected error", worker_id)
                self.stop_event.wait(2.0)

    def run_job(self, job_id: int, flight_id: str, worker_id: str) -> None:
        st = self.st
        lease = st.config.job_lease_s
        lost = threading.Event()
        done = threading.Event()
        progress = {"n": 0, "written": 0.0}

        def beat() -> None:
            while not done.wait(lease / 4):
                with st.db.session() as db:
                    if not jobs.heartbeat(db, job_id, worker_id, lease, st.clock.now(), progress["n"]):
                        lost.set()
                        return

        def on_photo() -> None:
            progress["n"] += 1
            if self.stop_event.is_set() or lost.is_set():
                raise JobAborted("stopping" if self.stop_event.is_set() else "lease lost")
            if time.monotonic() - progress["written"] > 0.5:
                progress["written"] = time.monotonic()
                with st.db.session() as db:
                    if not jobs.heartbeat(db, job_id, worker_id, lease, st.clock.now(), progress["n"]):
                        lost.set()

        hb = threading.Thread(target=beat, name=f"heyan-heartbeat-{job_id}", daemon=True)
        hb.start()
        # One work folder per flight, never per job: the pipeline's ticket ids hash the photo
        # paths, so the same flight must be laid out at the same place to get the same ids.
        workdir = st.config.data_dir / "work" / flight_id
        try:
            with st.db.session() as db:
                flight = db.get(Flight, flight_id)
                net = db.scalar(sa.select(RiverNetworkVersion).where(RiverNetworkVersion.active.is_(True)))
                if flight is None:
                    raise RuntimeError(f"flight {flight_id} no longer exists")
                if net is None:
                    raise RuntimeError("no river network: upload one (POST /api/rivers), then reprocess the flight")
                photos = [PhotoRef(p.name, p.sha256, st.store.path(p.sha256)) for p in
                          db.scalars(sa.select(FlightPhoto).where(FlightPhoto.flight_id == flight_id).order_by(FlightPhoto.name))]
                earlier = open_tickets(db, flight_id)
                version, geojson = net.version, net.geojson
            network = st.processor.network(version, json.loads(geojson))
            summary, by_path = st.processor.run(flight_id, photos, network, earlier, workdir, on_photo,
                                                seal_key(st.config.data_dir))
            done.set()
            hb.join()
            with st.db.session() as db:
                if lost.is_set() or import_flight(st, db, job_id, worker_id, flight_id, workdir / "out",
                                                  summary.to_dict(), by_path, version) is None:
                    log.warning("job %s: lease lost; result discarded (another worker redoes it)", job_id)
                    return
            shutil.rmtree(workdir, ignore_errors=True)
        except JobAborted as exc:
            with st.db.session() as db:
                if str(exc) == "stopping":
                    jobs.release(db, job_id, worker_id)
            log.warning("job %s stopped: %s", job_id, exc)
        except Exception as exc:
            log.exception("job %s (flight %s) failed", job_id, flight_id)
            with st.db.session() as db:
                jobs.fail(db, job_id, worker_id, f"{type(exc).__name__}: {exc}", st.clock.now())
        finally:
            done.set()
