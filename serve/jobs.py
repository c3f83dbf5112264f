"""The job queue, in the ``jobs`` table: enqueue, claim (one worker wins, on SQLite and
PostgreSQL alike: a conditional UPDATE whose row count says who got it), heartbeat (the
lease), finish, and requeue of jobs whose worker died. The one queue interface: a
distributed engine would replace this module, not its callers."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.tables import Job

HOST = socket.gethostname()
# The error of a flight none of whose photos could be used; the API gives it the code
# no_usable_photos (schemas.flights.JobOut.error_code), the reasons are per photo.
NO_USABLE_PHOTOS = "no usable photo in the flight: every photo was rejected (see the flight's rejected photos)"


def error_code(error: str | None) -> str | None:
    """A stable code for a failed job's error, for the viewer."""
    if not error:
        return None
    if error == NO_USABLE_PHOTOS:
        return "no_usable_photos"
    if "no river network" in error:
        return "no_river_network"
    return "processing_error"


def new_worker_id(index: int) -> str:
    return f"{HOST}:{os.getpid()}:{index}:{os.urandom(3).hex()}"


def enqueue(db: Session, flight_id: str, photos_total: int, now: datetime) -> Job:
    job = Job(flight_id=flight_id, kind="ingest", state="queued", photos_total=photos_total, photos_done=0, created_at=now)
    db.add(job)
    return job


def active_job(db: Session, flight_id: str) -> Job | None:
    return db.scalar(sa.select(Job).where(Job.flight_id == flight_id, Job.state.in_(("queued", "running"))).limit(1))


def claim(db: Session, worker_id: str, lease_s: float, now: datetime, mode: str = "threads") -> Job | None:
    """Take the oldest queued job for a server thread (mode threads) or for the task queue's
    dispatcher (mode queue: its lease is the flight's stall deadline, see serve.queue)."""
    for _ in range(5):
        cand = db.scalar(sa.select(Job.id).where(Job.state == "queued").order_by(Job.id).limit(1))
        if cand is None:
            db.rollback()
            return None
        res = db.execute(sa.update(Job).where(Job.id == cand, Job.state == "queued").values(
            state="running", mode=mode, worker_id=worker_id, lease_until=now + timedelta(seconds=lease_s),
            attempts=Job.attempts + 1, started_at=now, photos_done=0, error=None))
        db.commit()
        if res.rowcount == 1:  # type: ignore[attr-defined]
            return db.get(Job, cand, populate_existing=True)
    return None


def heartbeat(db: Session, job_id: int, worker_id: str, lease_s: float, now: datetime, photos_done: int | None = None) -> bool:
    """Renew the lease; False if this worker no longer owns the job."""
    values: dict[str, object] = {"lease_until": now + timedelta(seconds=lease_s)}
    if photos_done is not None:
        values["photos_done"] = photos_done
    res = db.execute(sa.update(Job).where(Job.id == job_id, Job.worker_id == worker_id, Job.state == "running").values(**values))
    db.commit()
    return res.rowcount == 1


def owns(db: Session, job_id: int, worker_id: str) -> bool:
    return db.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.id == job_id, Job.worker_id == worker_id, Job.state == "running")) == 1


def release(db: Session, job_id: int, worker_id: str) -> None:
    """Give a running job back to the queue (clean shutdown): it starts over later."""
    db.execute(sa.update(Job).where(Job.id == job_id, Job.worker_id == worker_id, Job.state == "running").values(
        state="queued", worker_id=None, lease_until=None, attempts=sa.case((Job.attempts > 0, Job.attempts - 1), else_=0)))
    db.commit()


def fail(db: Session, job_id: int, worker_id: str, error: str, now: datetime) -> None:
    db.execute(sa.update(Job).where(Job.id == job_id, Job.worker_id == worker_id).values(
        state="failed", error=error[:4000], finished_at=now, lease_until=None))
    db.commit()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(worker_id: str | None) -> bool:
    """A worker of this host whose process is gone (a restart need not wait for the lease)."""
    if not worker_id:
        return True
    parts = worker_id.split(":")
    if len(parts) < 2 or parts[0] != HOST or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and not _pid_alive(pid)


def requeue_stale(db: Session, now: datetime, max_attempts: int) -> list[int]:
    """Running jobs whose lease ran out, or whose worker process on this host is gone, go back
    to the queue (or to failed after ``max_attempts`` tries: a flight that kills its worker).
    Jobs on the task queue are the dispatcher's (serve.queue.dispatch), not these threads'."""
    rows = db.scalars(sa.select(Job).where(Job.state == "running", Job.mode == "threads")).all()
    changed = []
    for job in rows:
        if (job.lease_until is not None and job.lease_until < now) or _dead_here(job.worker_id):
            if job.attempts >= max_attempts:
                job.state, job.finished_at = "failed", now
                job.error = f"its worker stopped {job.attempts} times while processing it; not retried"
            else:
                job.state = "queued"
            job.worker_id, job.lease_until = None, None
            changed.append(job.id)
    db.commit()
    return changed
