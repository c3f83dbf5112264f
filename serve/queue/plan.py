"""A queued flight's work, the same in the server and in every worker: its photos laid out in
the flight's work folder on the shared data folder (so every machine names them alike, and
the ticket ids, which hash the photo paths, are those of the single-box path), and each
photo's result key. Reading and writing ``photo_results`` and the job's count."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heyan.pipeline.ingest import PhotoResult
from heyan.serve import sealed
from heyan.serve.processing import FlightProcessor, PhotoRef, layout, materialize, network_source
from heyan.serve.tables import Flight, FlightPhoto, Job, RiverNetworkVersion, UTCDateTime
from heyan.serve.tables import PhotoResult as PhotoResultRow

CHUNK = 500  # keys per IN (...) query


class NoRiverNetwork(RuntimeError):
    pass


@dataclass
class PhotoWork:
    key: str
    path: str  # in the flight's work folder on the shared data folder
    ref: PhotoRef


@dataclass
class Plan:
    job_id: int
    flight_id: str
    network_version: int
    workdir: Path
    photos: list[PhotoWork]  # in the pipeline's photo order

    @property
    def by_path(self) -> dict[str, PhotoRef]:
        return {w.path: w.ref for w in self.photos}


def workdir(data_dir: Path, flight_id: str) -> Path:
    # The threads use the same folder: one flight, one layout, the same ticket ids.
    return Path(data_dir) / "work" / flight_id


def make_plan(db: Session, processor: FlightProcessor, store_path: Any, data_dir: Path, job: Job,
              network_version: int | None = None, lay_out: bool = False) -> Plan:
    """The job's photos and keys; ``lay_out`` hard-links the photos into the work folder
    (the dispatcher does it once; workers find them there on the shared folder)."""
    flight = db.get(Flight, job.flight_id)
    if flight is None:
        raise RuntimeError(f"flight {job.flight_id} no longer exists")
    if network_version is None:
        network_version = db.scalar(sa.select(RiverNetworkVersion.version).where(RiverNetworkVersion.active.is_(True)))
        if network_version is None:
            raise NoRiverNetwork("no river network: upload one (POST /api/rivers), then reprocess the flight")
    refs = [PhotoRef(p.name, p.sha256, store_path(p.sha256)) for p in
            db.scalars(sa.select(FlightPhoto).where(FlightPhoto.flight_id == flight.id).order_by(FlightPhoto.name))]
    wd = workdir(data_dir, flight.id)
    by_path = materialize(refs, wd / "photos") if lay_out else layout(refs, wd / "photos")
    options = processor.options(flight.id)
    source = network_source(network_version)
    photos = [PhotoWork(processor.photo_key(flight.content_key, ref.sha256, source, options), path, ref)
              for path, ref in by_path.items()]
    photos.sort(key=lambda w: Path(w.path))  # pipeline.images.expand_inputs' order: what `heyan ingest` and the threads see
    return Plan(job.id, flight.id, network_version, wd, photos)


def existing_keys(db: Session, keys: list[str]) -> set[str]:
    have: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        have.update(db.scalars(sa.select(PhotoResultRow.key).where(PhotoResultRow.key.in_(keys[i:i + CHUNK]))))
    return have


def record(db: Session, job_id: int, flight_id: str, key: str, sha: str, result: PhotoResult | None, failed: str | None,
           attempts: int, worker: str, seconds: float, now: datetime, stall_s: float, seal: bytes) -> tuple[int, int] | None:
    """Store one photo's result and count it on its job, in one transaction; the job's (done,
    total) after it, or None if nothing was written (the result exists already, or the job
    is no longer running: a late copy of a task). ``seal``: the installation's key
    (``serve.sealed``), so that only the server and its workers can write a result."""
    if result is not None and result.outcome is not None:
        state, blob, error = "done", sealed.dumps(result.outcome, seal), None
    elif result is not None:
        state, blob, error = "rejected", None, result.error
    else:
        state, blob, error = "failed", None, failed
    try:
        row = db.execute(sa.update(Job).where(Job.id == job_id, Job.state == "running", Job.mode == "queue").values(
            photos_done=Job.photos_done + 1, lease_until=sa.case(  # progress: the job is not stalled
                (Job.worker_id == "queue", sa.literal(now + timedelta(seconds=stall_s), UTCDateTime())),
                else_=Job.lease_until),
        ).returning(Job.photos_done, Job.photos_total)).first()
        if row is None:
            db.rollback()
            return None
        db.add(PhotoResultRow(key=key, job_id=job_id, flight_id=flight_id, photo_sha=sha, state=state, outcome=blob,
                              error=error, attempts=attempts, worker=worker[:128], seconds=round(seconds, 3), created_at=now))
        db.flush()
        db.commit()
    except IntegrityError:  # another copy of this task wrote it first: its count stands
        db.rollback()
        return None
    return int(row.photos_done), int(row.photos_total)


def results(db: Session, plan: Plan, seal: bytes) -> Iterator[tuple[Path, PhotoResult]]:
    """The photos' results in photo order, as the pipeline's reduce step takes them (read in
    chunks: the pickles of a 2,000-photo flight are never all in memory as bytes)."""
    for i in range(0, len(plan.photos), CHUNK):
        chunk = plan.photos[i:i + CHUNK]
        rows = {r.key: r for r in db.execute(sa.select(
            PhotoResultRow.key, PhotoResultRow.state, PhotoResultRow.outcome, PhotoResultRow.error,
            PhotoResultRow.attempts).where(PhotoResultRow.key.in_([w.key for w in chunk])))}
        for w in chunk:
            r = rows.get(w.key)
            if r is None:
                yield Path(w.path), PhotoResult(error="no result recorded for this photo")
            elif r.state == "done":
                try:
                    outcome = sealed.loads(r.outcome, seal)
                except sealed.SealError as exc:  # a forged or damaged row: that photo is lost, not the flight
                    yield Path(w.path), PhotoResult(error=f"stored result refused: {exc}")
                    continue
                yield Path(w.path), PhotoResult(outcome=outcome)
            elif r.state == "rejected":
                yield Path(w.path), PhotoResult(error=r.error)
            else:
                yield Path(w.path), PhotoResult(error=f"failed after {r.attempts} attempts: {r.error}")


def failed_photos(db: Session, plan: Plan) -> list[dict[str, str]]:
    names = {w.key: w.ref.name for w in plan.photos}
    out = []
    for i in range(0, len(plan.photos), CHUNK):
        keys = [w.key for w in plan.photos[i:i + CHUNK]]
        for r in db.execute(sa.select(PhotoResultRow.key, PhotoResultRow.error, PhotoResultRow.attempts).where(
                PhotoResultRow.key.in_(keys), PhotoResultRow.state == "failed")):
            out.append({"name": names[r.key], "reason": f"failed after {r.attempts} attempts: {r.error}"})
    return out


def forget(db: Session, flight_id: str) -> None:
    """Drop a finished flight's photo results (in the import's transaction): the tickets hold
    what they said, and a reprocess must not reuse results whose crops are gone."""
    db.execute(sa.delete(PhotoResultRow).where(PhotoResultRow.flight_id == flight_id))
