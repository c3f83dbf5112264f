"""/api/labels: hand labels of frames (标注). A frame is any picture the server holds and
the caller may see (a flight photo, an edge snapshot, a ticket's picture), by its sha256.
Every save is a new version (serve.labels); the latest ones export as YOLO or COCO."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from heyan.pipeline.images import ImageReadError
from heyan.pipeline.tickets.rules import RuleSet, load_rules
from heyan.serve import label_formats, label_queue, labels
from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.frames import Frames
from heyan.serve.permissions import PERMISSIONS
from heyan.serve.routers.blobs import may_read
from heyan.serve.schemas.labels import FrameOut, LabelSaved, LabelSaveIn, LabelVersionOut, QueueItemOut, QueueOut, VersionSummary
from heyan.serve.state import AppState
from heyan.serve.tables import Blob, FrameLabel
from heyan.vision.classes import CLASSES

router = APIRouter(prefix="/api/labels", tags=["labels"])
# The page draws each class in its colour of vision.classes (BGR there).
CLASS_LIST = [{"name": c.name, "colour": "#{2:02x}{1:02x}{0:02x}".format(*c.colour_bgr)} for c in CLASSES]
Sha = PathParam(pattern="^[0-9a-f]{64}$")


def _frames(st: AppState) -> Frames:
    return Frames(st.store, st.config.data_dir / "previews")


def _rules(st: AppState) -> RuleSet:
    if "rules" not in st.cache:
        st.cache["rules"] = load_rules(st.config.rules_path)
    return st.cache["rules"]


def _frame(request: Request, db: Session, p: Principal, sha: str) -> tuple[labels.FrameInfo, int, int]:
    st = app_state(request)
    info = labels.frame_info(db, sha)
    if info is None or db.get(Blob, sha) is None or not st.store.exists(sha) or not may_read(db, p, sha):
        raise ApiError(404, f"no frame {sha} (no photo or snapshot you may see)", code="no_frame")
    try:
        size = _frames(st).size(sha)
    except ImageReadError as exc:
        raise ApiError(422, f"frame {sha}: {exc.reason}", code="frame_unreadable") from None
    return info, size.width, size.height


def _version(f: FrameLabel) -> LabelVersionOut:
    return LabelVersionOut(version=f.version, complete=f.complete, boxes=list(f.boxes or []), created_by=f.created_by,
                           created_at=f.created_at, comment=f.comment)


@router.get("/queue", response_model=QueueOut, summary="待标注: frames to label next, and why each")
def queue(limit: int = Query(50, ge=1, le=500), seed: int | None = Query(None, description="Seed of the random share."),
          p: Principal = Depends(require("labels.read")), db: Session = Depends(get_db)) -> QueueOut:
    items = label_queue.build(db, limit, seed)
    return QueueOut(items=[QueueItemOut(sha256=i.sha, reason=i.reason, name=i.name, source=i.source, low_scores=i.low_scores)
                           for i in items if may_read(db, p, i.sha)], random_share=label_queue.RANDOM_SHARE)


@router.get("/export", response_class=FileResponse, summary="The latest labels as a YOLO or COCO dataset (zip, frames included)",
            responses={200: {"content": {"application/zip": {}}}})
def export(request: Request, format: Literal["yolo", "coco"] = Query("yolo"),
           partial: bool = Query(False, description="Also frames not marked 已完整标注."),
           _: Principal = Depends(require("labels.export")), db: Session = Depends(get_db)) -> FileResponse:
    st = app_state(request)
    frames = label_formats.latest_versions(db, partial)
    db.close()  # the zip may take a while: hold no transaction meanwhile
    with tempfile.NamedTemporaryFile(dir=st.store.tmp_dir, prefix="labels-", suffix=".zip", delete=False) as tmp:
        out = Path(tmp.name)
    label_formats.write_zip(frames, format, st.store, out)
    stamp = st.clock.now().strftime("%Y%m%d-%H%M")
    return FileResponse(out, media_type="application/zip", filename=f"heyan-labels-{format}-{stamp}.zip",
                        background=BackgroundTask(out.unlink, missing_ok=True))


@router.get("/frames/{sha256}", response_model=FrameOut, summary="A frame: size, detections on it, its latest labels and versions")
def get_frame(request: Request, sha256: str = Sha, p: Principal = Depends(require("labels.read")),
              db: Session = Depends(get_db)) -> FrameOut:
    info, w, h = _frame(request, db, p, sha256)
    all_versions = list(db.scalars(sa.select(FrameLabel).where(FrameLabel.photo_sha == sha256)
                                   .order_by(FrameLabel.version.desc())))
    top = all_versions[0] if all_versions else None
    return FrameOut(sha256=sha256, kind=info.kind, name=info.name, source=info.source, width=w, height=h,
                    photo_url=f"/api/blobs/{sha256}", preview_url=f"/api/labels/frames/{sha256}/preview",
                    detections=labels.detections_on(db, sha256), labels=_version(top) if top else None,
                    versions=[VersionSummary(version=v.version, complete=v.complete, n_boxes=len(v.boxes or []),
                                             created_by=v.created_by, created_at=v.created_at) for v in all_versions],
                    classes=CLASS_LIST)


@router.get("/frames/{sha256}/preview", response_class=FileResponse, summary="The frame downscaled (long side 2048 px), JPEG",
            responses={200: {"content": {"image/jpeg": {}}}})
def preview(request: Request, sha256: str = Sha, p: Principal = Depends(require("labels.read")),
            db: Session = Depends(get_db)) -> FileResponse:
    _frame(request, db, p, sha256)
    return FileResponse(_frames(app_state(request)).preview(sha256), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})


@router.get("/frames/{sha256}/versions/{version}", response_model=LabelVersionOut, summary="One saved version of a frame's labels")
def get_version(request: Request, version: int = PathParam(ge=1, le=2**31 - 1), sha256: str = Sha,
                p: Principal = Depends(require("labels.read")), db: Session = Depends(get_db)) -> LabelVersionOut:
    _frame(request, db, p, sha256)
    row = db.scalar(sa.select(FrameLabel).where(FrameLabel.photo_sha == sha256, FrameLabel.version == version))
    if row is None:
        raise ApiError(404, f"frame {sha256[:16]} has no label version {version}", code="no_label_version")
    return _version(row)


@router.post("/frames/{sha256}", response_model=LabelSaved, status_code=201, summary="Save the frame's labels as a new version")
def save(request: Request, body: LabelSaveIn, sha256: str = Sha, p: Principal = Depends(require("labels.write")),
         db: Session = Depends(get_db)) -> LabelSaved:
    st = app_state(request)
    info, w, h = _frame(request, db, p, sha256)
    boxes = [b.model_dump(by_alias=True, exclude_none=True) for b in body.boxes]
    try:
        saved = labels.save(db, sha256, w, h, boxes, body.complete, body.base_version, p.actor, st.clock.now(), _rules(st),
                            may_review=p.role in PERMISSIONS["tickets.review"], source=info.source, comment=body.comment)
    except labels.LabelError as exc:
        db.rollback()
        raise ApiError(exc.status, str(exc), code=exc.code, field=exc.where) from None
    db.commit()
    return LabelSaved(**_version(saved.label).model_dump(), tickets_changed=saved.tickets_changed)
