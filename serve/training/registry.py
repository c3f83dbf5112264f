"""Site models on disk and which one is in force.

Each model lives in ``<data_dir>/models/<sha256 of model.onnx>/`` with its card: the folder
name is the file's hash, so a model is never overwritten and two jobs that make the same
file share it. Which model runs is a history per scope (``ModelAssignment``): activating
adds a row, 回退 adds a row that goes back to the model in force before the latest one."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.models.card import sha256_file
from heyan.serve.schemas.edge import EdgeModelOut
from heyan.serve.state import AppState
from heyan.serve.tables import Device, ModelAssignment, SiteModel
from heyan.vision.common import atomic_write

ALL = "all"
DEVICE = "device:"  # scope of one edge box: the model its heartbeat answer names


class ModelError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def model_path(data_dir: Path, sha: str) -> Path:
    """The folder `load_detector` takes (model.onnx + model.json)."""
    return models_dir(data_dir) / sha


def store_model(db: Session, data_dir: Path, onnx: Path, card: dict[str, Any], base_name: str | None,
                base_sha: str | None, job_id: int | None, actor: str, now: datetime) -> SiteModel:
    sha = sha256_file(onnx)
    target = model_path(data_dir, sha)
    if not (target / "model.onnx").is_file() or sha256_file(target / "model.onnx") != sha:
        tmp = models_dir(data_dir) / f".{sha}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        shutil.copyfile(onnx, tmp / "model.onnx")
        atomic_write(tmp / "model.json", json.dumps({**card, "sha256": sha}, ensure_ascii=False, indent=1) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    row = db.get(SiteModel, sha)
    if row is None:
        row = SiteModel(sha256=sha, name=str(card.get("name") or sha[:12]), base_name=base_name, base_sha256=base_sha,
                        card={**card, "sha256": sha}, job_id=job_id, created_by=actor, created_at=now)
        db.add(row)
    return row


def history(db: Session, scope: str = ALL) -> list[ModelAssignment]:
    return list(db.scalars(sa.select(ModelAssignment).where(ModelAssignment.scope == scope)
                           .order_by(ModelAssignment.id.desc())))


def in_force(db: Session, scope: str = ALL) -> str | None:
    """sha256 of the site model in force for the scope; None: the model of the settings."""
    rows = history(db, scope)
    return rows[0].model_sha256 if rows else None


def activate(db: Session, sha: str | None, scope: str, actor: str, now: datetime, action: str = "activate") -> ModelAssignment:
    if sha is not None and db.get(SiteModel, sha) is None:
        raise ModelError(404, "no_model", f"no site model {sha}")
    if scope != ALL and not scope.startswith(DEVICE):
        # Flights are processed by one server-wide model; an edge box runs one detector for
        # all its cameras, so a site model goes to a box (``device:<name>``), not a camera.
        raise ModelError(422, "scope_not_supported", f"scope {scope!r}: 'all' (the server's processing) or 'device:<name>'")
    if scope.startswith(DEVICE) and db.scalar(sa.select(Device.id).where(Device.name == scope[len(DEVICE):])) is None:
        raise ModelError(404, "no_device", f"scope {scope!r}: no such device")
    row = ModelAssignment(scope=scope, model_sha256=sha, action=action, actor=actor, at=now)
    db.add(row)
    db.flush()
    return row


def rollback(db: Session, scope: str, actor: str, now: datetime) -> ModelAssignment:
    """Back to the model that was in force before the latest switch."""
    rows = history(db, scope)
    if not rows:
        raise ModelError(409, "nothing_to_roll_back", f"scope {scope!r}: the settings' model is in force, nothing to go back from")
    previous = rows[1].model_sha256 if len(rows) > 1 else None
    return activate(db, previous, scope, actor, now, action="rollback")


def device_model(db: Session, device_name: str) -> EdgeModelOut | None:
    """What the heartbeat answer tells a box to run: the site model switched on for it, or
    None (its own configured model). The server-wide ``all`` model is for flights: a box
    may run a smaller model, so it changes only when a person switches one on for it."""
    sha = in_force(db, DEVICE + device_name)
    row = db.get(SiteModel, sha) if sha else None
    if row is None:
        return None
    base = f"/api/edge/models/{row.sha256}"
    return EdgeModelOut(name=row.name, sha256=row.sha256, onnx_url=f"{base}/model.onnx", card_url=f"{base}/model.json")


def ever_assigned(db: Session, sha: str, scope: str) -> bool:
    return db.scalar(sa.select(ModelAssignment.id).where(ModelAssignment.scope == scope,
                                                         ModelAssignment.model_sha256 == sha).limit(1)) is not None


def apply_in_force(st: AppState, db: Session) -> None:
    """Make this process's flight processor run the model in force for ``all``: at start,
    after a switch, and wherever flights are processed in another process (call it before
    each flight there: the switch is a database row, not a message)."""
    sha = in_force(db)
    row = db.get(SiteModel, sha) if sha else None
    if row is None:
        if st.processor.model != st.processor.configured_model:
            st.processor.use_model(st.processor.configured_model)
    elif st.processor.model != str(model_path(st.config.data_dir, row.sha256)):
        st.processor.use_model(str(model_path(st.config.data_dir, row.sha256)), row.name)
