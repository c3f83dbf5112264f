"""/api/models: adaptation jobs (fine-tune the model in force on a site's hand labels, run by
the server's training thread), the site models they made, and which model the server runs,
switched only by a person (启用此模型) and switched back in one click (回退)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from heyan.serve.deps import DbId, Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.label_formats import latest_versions
from heyan.serve.schemas.models_admin import (
    ActivateIn,
    AssignmentOut,
    InForce,
    JobIn,
    JobOut,
    JobPage,
    ModelsOut,
    ScopeOut,
    ScopesOut,
    SiteModelOut,
)
from heyan.serve.state import AppState
from heyan.serve.tables import DetectionRow, Device, SiteModel, TrainingJob
from heyan.serve.training import registry

router = APIRouter(prefix="/api/models", tags=["models"])


def _models_out(st: AppState, db: Session, scope: str = registry.ALL) -> ModelsOut:
    hist = registry.history(db, scope)
    force = _in_force(st, db, scope)
    models = list(db.scalars(sa.select(SiteModel).order_by(SiteModel.created_at.desc())))
    targets = [force if scope == registry.ALL else _in_force(st, db, registry.ALL)]
    for name in db.scalars(sa.select(Device.name).where(Device.revoked_at.is_(None)).order_by(Device.name)):
        targets.append(_in_force(st, db, registry.DEVICE + name))
    return ModelsOut(in_force=force, models=[SiteModelOut.model_validate(m) for m in models],
                     history=[AssignmentOut.model_validate(a) for a in hist], may_roll_back=bool(hist), targets=targets)


def _in_force(st: AppState, db: Session, scope: str) -> InForce:
    sha = registry.in_force(db, scope)
    row = db.get(SiteModel, sha) if sha else None
    if row is not None:
        return InForce(scope=scope, name=row.name, sha256=row.sha256, site_model=True)
    if scope == registry.ALL:
        return InForce(scope=scope, name=st.processor.configured_model, sha256=st.processor.model_identity()[1], site_model=False)
    return InForce(scope=scope, name="", sha256=None, site_model=False)  # an edge box's own configured model: unknown here


@router.get("", response_model=ModelsOut, summary="The model in force, the site models, the switch history")
def list_models(request: Request, scope: str = Query(registry.ALL, max_length=256, description="all | device:<name>"),
                _: Principal = Depends(require("models.read")), db: Session = Depends(get_db)) -> ModelsOut:
    return _models_out(app_state(request), db, scope)


@router.get("/scopes", response_model=ScopesOut, summary="Sites with fully labelled frames, to train on")
def scopes(_: Principal = Depends(require("models.read")), db: Session = Depends(get_db)) -> ScopesOut:
    frames = latest_versions(db)
    counts: Counter[str] = Counter()
    for f in frames:
        counts[registry.ALL] += 1
        if f.source:
            counts[f.source] += 1
    by_sha = {f.sha for f in frames}
    for sha, seg in db.execute(sa.select(DetectionRow.photo_sha, DetectionRow.segment_id).distinct()
                               .where(DetectionRow.segment_id.is_not(None))):
        if sha in by_sha:
            counts[f"segment:{seg}"] += 1
    return ScopesOut(items=[ScopeOut(scope=s, frames=n) for s, n in sorted(counts.items(), key=lambda kv: (kv[0] != "all", kv[0]))])


@router.post("/jobs", response_model=JobOut, status_code=201, summary="Start an adaptation job on a site's labels")
def start_job(request: Request, body: JobIn, p: Principal = Depends(require("models.admin")),
              db: Session = Depends(get_db)) -> JobOut:
    st = app_state(request)
    cfg = st.config
    minutes = min(body.minutes or cfg.training_minutes, cfg.training_max_minutes)
    job = TrainingJob(scope=body.scope, state="queued", progress=0.0, minutes=minutes, epochs=body.epochs or cfg.training_epochs,
                      created_by=p.name, created_at=st.clock.now())
    db.add(job)
    db.commit()
    if st.cache.get("training") is not None:
        st.cache["training"].wake()
    return JobOut.model_validate(job)


@router.get("/jobs", response_model=JobPage, summary="Adaptation jobs, newest first")
def list_jobs(_: Principal = Depends(require("models.read")), db: Session = Depends(get_db)) -> JobPage:
    rows = db.scalars(sa.select(TrainingJob).order_by(TrainingJob.id.desc()).limit(100))
    return JobPage(items=[JobOut.model_validate(j) for j in rows])


@router.get("/jobs/{job_id}", response_model=JobOut, summary="One adaptation job: progress, then base vs new per class")
def get_job(job_id: DbId, _: Principal = Depends(require("models.read")), db: Session = Depends(get_db)) -> JobOut:
    job = db.get(TrainingJob, job_id)
    if job is None:
        raise ApiError(404, f"no training job {job_id}", code="no_job")
    return JobOut.model_validate(job)


@router.post("/{sha256}/activate", response_model=ModelsOut, summary="启用此模型: the server processes new flights with it")
def activate(request: Request, body: ActivateIn, sha256: str = PathParam(pattern="^[0-9a-f]{64}$"),
             p: Principal = Depends(require("models.admin")), db: Session = Depends(get_db)) -> ModelsOut:
    st = app_state(request)
    try:
        registry.activate(db, sha256, body.scope, p.name, st.clock.now())
    except registry.ModelError as exc:
        raise ApiError(exc.status, str(exc), code=exc.code) from None
    db.commit()
    registry.apply_in_force(st, db)
    return _models_out(st, db, body.scope)


@router.post("/rollback", response_model=ModelsOut, summary="回退: back to the model in force before the latest switch")
def rollback(request: Request, body: ActivateIn, p: Principal = Depends(require("models.admin")),
             db: Session = Depends(get_db)) -> ModelsOut:
    st = app_state(request)
    try:
        registry.rollback(db, body.scope, p.name, st.clock.now())
    except registry.ModelError as exc:
        raise ApiError(exc.status, str(exc), code=exc.code) from None
    db.commit()
    registry.apply_in_force(st, db)
    return _models_out(st, db, body.scope)
