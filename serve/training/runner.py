"""The server's training thread: runs adaptation jobs one at a time (a fine-tune takes the
machine's cores; two at once would only make both slow), each bounded by its minutes.

A job: the site's frames labelled 已完整标注 (latest versions) -> ``models.adapt.adapt`` from
the model in force (hold back a share, fine-tune, evaluate base and new on the held-back
frames per class, thresholds there) -> the new model stored content-addressed with its card
-> the comparison in the job's result. Nothing is switched: a person presses 启用此模型.

Progress: the stage, and during the fine-tune the share of the time budget used (the
budget is what bounds it). A job found running at start belonged to a stopped server: failed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.label_formats import LabelledFrame, latest_versions
from heyan.serve.state import AppState
from heyan.serve.tables import DetectionRow, EdgeEvent, TrainingJob
from heyan.serve.training import registry

log = logging.getLogger("heyan.serve.training")
MIN_FRAMES = 2  # one to learn from, one to judge on (models.adapt refuses fewer)


def scope_frames(db: Session, scope: str) -> list[LabelledFrame]:
    """The fully labelled frames of a site: ``all``, ``flight:<id>``, ``camera:<device>/<camera>``
    (the frame's source) or ``segment:<id>`` (frames with a detection or an event on it)."""
    frames = latest_versions(db)
    if scope == registry.ALL:
        return frames
    if scope.startswith("segment:"):
        seg = scope.split(":", 1)[1]
        shas = set(db.scalars(sa.select(DetectionRow.photo_sha).where(DetectionRow.segment_id == seg)))
        shas |= set(db.scalars(sa.select(EdgeEvent.snapshot_sha256).where(EdgeEvent.segment_id == seg)))
        return [f for f in frames if f.sha in shas]
    return [f for f in frames if f.source == scope]


class TrainingRunner:
    def __init__(self, st: AppState, poll_s: float = 1.0) -> None:
        self.st, self.poll_s = st, poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self.st.db.session() as db:
            db.execute(sa.update(TrainingJob).where(TrainingJob.state == "running").values(
                state="failed", error="the server stopped during the job; start it again", finished_at=self.st.clock.now()))
            db.commit()
        self._thread = threading.Thread(target=self._loop, name="heyan-training", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)  # a fine-tune in progress is not interrupted; the thread is a daemon

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = self._claim()
            except Exception:  # a busy or unreachable database: try again at the next poll
                log.warning("training: cannot look for queued jobs now", exc_info=True)
                job_id = None
            if job_id is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            try:
                self._run(job_id)
            except Exception as exc:  # a job's failure is the job's, never the thread's
                log.exception("training job %s failed", job_id)
                self._update(job_id, state="failed", error=f"{type(exc).__name__}: {exc}", finished_at=self.st.clock.now())

    def _claim(self) -> int | None:
        # Looked for with a read first: polling must not take SQLite's write lock every second.
        with self.st.db.session(write=False) as db:
            if db.scalar(sa.select(TrainingJob.id).where(TrainingJob.state == "queued").limit(1)) is None:
                return None
        with self.st.db.session() as db:
            job = db.scalar(sa.select(TrainingJob).where(TrainingJob.state == "queued").order_by(TrainingJob.id).limit(1))
            if job is None:
                return None
            job.state, job.stage, job.started_at, job.progress = "running", "preparing", self.st.clock.now(), 0.0
            db.commit()
            return job.id

    def _update(self, job_id: int, **values: Any) -> None:
        with self.st.db.session() as db:
            db.execute(sa.update(TrainingJob).where(TrainingJob.id == job_id).values(**values))
            db.commit()

    def _run(self, job_id: int) -> None:
        from heyan.models.adapt import AdaptError, AdaptParams, adapt, site_photos, write_adapted_model

        st = self.st
        with st.db.session() as db:
            job = db.get(TrainingJob, job_id)
            assert job is not None
            scope, minutes, epochs, actor = job.scope, job.minutes, job.epochs, job.created_by
            frames = scope_frames(db, scope)
        base_model = st.processor.model
        base_name, base_sha = st.processor.model_identity()
        self._update(job_id, base_name=base_name, base_sha256=base_sha)
        if len(frames) < MIN_FRAMES:
            raise AdaptError(f"{len(frames)} fully labelled frame(s) at {scope}: at least {MIN_FRAMES} are needed")
        work = st.config.data_dir / "training" / f"job-{job_id}"
        shutil.rmtree(work, ignore_errors=True)
        photos = site_photos(self._link_frames(frames, work / "frames"))
        params = AdaptParams(minutes=minutes, epochs=epochs, batch=8, holdout=0.25, seed=job_id)
        self._update(job_id, stage="training", progress=0.05)
        done = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(job_id, minutes, done), daemon=True)
        ticker.start()
        try:
            result = adapt(photos, base_model, work / "adapt", params, extra_zoo=st.config.detector.zoo_dir)
        finally:
            done.set()
            ticker.join()
        self._update(job_id, stage="storing", progress=0.97)
        name = f"{base_name.rsplit('/', 1)[-1]}-{_slug(scope)}-job{job_id}"
        folder = write_adapted_model(result, name, work / "zoo", scope, f"heyan serve training job {job_id}",
                                     st.config.detector.zoo_dir)
        card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        now = st.clock.now()
        with st.db.session() as db:
            model = registry.store_model(db, st.config.data_dir, folder / "model.onnx", card, base_name, base_sha,
                                         job_id, actor, now)
            job = db.get(TrainingJob, job_id)
            assert job is not None
            job.result = {**result.to_dict(), "per_class": comparison(result.base_metrics, result.new_metrics),
                          "frames": len(frames)}
            job.new_model_sha256 = model.sha256
            job.state, job.stage, job.progress, job.finished_at = "done", None, 1.0, now
            db.commit()
        shutil.rmtree(work / "adapt" / "chips", ignore_errors=True)  # the chips can be cut again; the run's record stays

    def _tick(self, job_id: int, minutes: float, done: threading.Event) -> None:
        t0 = time.monotonic()
        while not done.wait(1.0):
            share = (time.monotonic() - t0) / (minutes * 60) if minutes else 0.0
            try:
                self._update(job_id, progress=round(0.05 + 0.9 * min(1.0, share), 3))
            except Exception:  # a busy database: the next tick says it
                log.debug("training job %s: progress not written", job_id, exc_info=True)

    def _link_frames(self, frames: list[LabelledFrame], folder: Path) -> list[tuple[Path, int, int, list[list[float]], list[str]]]:
        """The frames under names with their suffix (trainers find images by it), linked from the store."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for f in frames:
            target = folder / f"{f.stem}{f.ext}"
            try:
                os.link(self.st.store.path(f.sha), target)
            except OSError:
                shutil.copyfile(self.st.store.path(f.sha), target)
            out.append((target, f.width, f.height, [list(b["box"]) for b in f.boxes], [str(b["class"]) for b in f.boxes]))
        return out


def comparison(base: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Base vs new per class on the held-back frames: what the page shows side by side."""
    b = {c["name"]: c for c in base.get("per_class", [])}
    rows = []
    for c in new.get("per_class", []):
        o = b.get(c["name"], {})
        rows.append({"class": c["name"], "instances": c.get("instances", 0),
                     "base_ap50": o.get("ap50"), "new_ap50": c.get("ap50"),
                     "base_precision": o.get("precision"), "new_precision": c.get("precision"),
                     "base_recall": o.get("recall"), "new_recall": c.get("recall")})
    rows.append({"class": "all", "instances": sum(r["instances"] or 0 for r in rows),
                 "base_ap50": base.get("map50"), "new_ap50": new.get("map50")})
    return rows


def _slug(scope: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in scope).strip("-")[:60] or "site"
