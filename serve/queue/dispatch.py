"""The server's side of the task queue (``processing: external``): a thread that takes queued
jobs, lays their photos out on the shared data folder and sends one task per photo, and a
sweep that sends a job's missing tasks again when the job is stalled and the broker holds
nothing that could still run them (a broker restarted empty, a message lost). The server's
ticker (``serve.worker.WorkerPool`` with no threads) keeps running the escalation check."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

import heyan.serve.jobs as jobs
from heyan.serve.queue import plan as plans
from heyan.serve.queue.celery_app import PHOTO_TASK, PHOTOS, QUEUES, REDUCE_TASK, URGENT, make_celery
from heyan.serve.queue.tasks import reduce_queue
from heyan.serve.state import AppState
from heyan.serve.tables import Job
from heyan.serve.worker import WorkerPool

log = logging.getLogger("heyan.serve.queue")
QUEUE_WORKER = "queue"  # the worker_id of a queue job that no reduce task holds


class Dispatcher:
    """``AppState.workers`` of a server whose flights run on ``heyan worker`` processes."""

    def __init__(self, st: AppState, celery: Any | None = None) -> None:
        self.st = st
        self.celery = celery or make_celery(st.config)
        self.ticker = WorkerPool(st, 0)
        self.stop_event = threading.Event()
        self.wake_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.ticker.start()
        self._thread = threading.Thread(target=self._loop, name="heyan-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        self.wake_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.ticker.stop(timeout)

    def wake(self) -> None:
        self.wake_event.set()

    def _loop(self) -> None:
        sweep_every = max(1.0, min(10.0, self.st.config.queue_stall_s / 4))
        waited = 0.0
        while not self.stop_event.is_set():
            try:
                while self.dispatch_next():
                    pass
                if waited >= sweep_every:
                    waited = 0.0
                    self.sweep()
            except Exception:  # the broker or the database is away: try again shortly
                log.exception("task queue dispatch failed")
            self.wake_event.wait(1.0)
            self.wake_event.clear()
            waited += 1.0

    # -- sending --------------------------------------------------------------------------------
    def dispatch_next(self) -> bool:
        st = self.st
        cfg = st.config
        with st.db.session() as db:
            job = jobs.claim(db, QUEUE_WORKER, cfg.queue_stall_s, st.clock.now(), mode="queue")
            if job is None:
                return False
            try:
                plan = plans.make_plan(db, st.processor, st.store.path, cfg.data_dir, job, lay_out=True)
            except Exception as exc:  # no river network, flight gone: the job fails with the reason
                jobs.fail(db, job.id, QUEUE_WORKER, f"{type(exc).__name__}: {exc}", st.clock.now())
                log.warning("job %s (flight %s) not dispatched: %s", job.id, job.flight_id, exc)
                return True
            have = plans.existing_keys(db, [w.key for w in plan.photos])
            db.execute(sa.update(Job).where(Job.id == job.id).values(
                network_version=plan.network_version, photos_done=len(have), photos_total=len(plan.photos)))
            db.commit()
        self.send(plan, have)
        log.info("job %s (flight %s): %d photo tasks sent", plan.job_id, plan.flight_id, len(plan.photos) - len(have))
        return True

    def send(self, plan: plans.Plan, have: set[str]) -> None:
        urgent = len(plan.photos) <= self.st.config.queue_urgent_photos
        missing = [w for w in plan.photos if w.key not in have]
        if not missing:
            self.celery.send_task(REDUCE_TASK, args=[plan.job_id, urgent], queue=reduce_queue(urgent))
            return
        model_id = self.st.processor.model_id()
        queue = URGENT if urgent else PHOTOS
        with self.celery.producer_or_acquire() as producer:
            for w in missing:
                self.celery.send_task(PHOTO_TASK, args=[plan.job_id, plan.flight_id, w.key, w.path, w.ref.sha256,
                                                        plan.network_version, model_id, urgent],
                                      queue=queue, producer=producer)

    # -- recovery -------------------------------------------------------------------------------
    def broker_idle(self) -> bool:
        """Nothing waiting in any queue and nothing taken but unacknowledged: no task that
        could still advance a stalled job exists anywhere."""
        with self.celery.connection_for_write() as conn:
            client = conn.default_channel.client
            waiting = sum(int(client.llen(q)) for q in QUEUES)
            taken = int(client.hlen(conn.default_channel.unacked_key))
        return waiting == 0 and taken == 0

    def sweep(self) -> list[int]:
        """Stalled queue jobs (no progress for queue_stall_s): send what they miss again, but
        only when the broker is idle (a long queue ahead of a job is no stall)."""
        st = self.st
        now = st.clock.now()
        with st.db.session(write=False) as db:
            stalled = db.scalars(sa.select(Job.id).where(Job.state == "running", Job.mode == "queue",
                                                         Job.lease_until < now)).all()
        if not stalled or not self.broker_idle():
            return []
        for job_id in stalled:
            with st.db.session() as db:
                job = db.get(Job, job_id)
                if job is None or job.state != "running" or job.lease_until is None or job.lease_until >= now:
                    continue
                plan = plans.make_plan(db, st.processor, st.store.path, st.config.data_dir, job, job.network_version,
                                       lay_out=True)
                have = plans.existing_keys(db, [w.key for w in plan.photos])
                # A reduce holder whose lease ran out is dead: the job is free for a new reduce.
                db.execute(sa.update(Job).where(Job.id == job_id).values(
                    photos_done=len(have), worker_id=QUEUE_WORKER,
                    lease_until=now + timedelta(seconds=st.config.queue_stall_s)))
                db.commit()
            log.warning("job %s (flight %s) stalled with an idle broker: sending %d photo tasks%s again", job_id,
                        plan.flight_id, len(plan.photos) - len(have), "" if len(have) < len(plan.photos) else " (reduce)")
            self.send(plan, have)
        return list(stalled)
