"""/api/edge/models: an edge box fetches the site model its heartbeat answer names (device
token). Only a model that was switched on for that box is served; the files never change
(content-addressed), so the box checks the ONNX file against the sha256 in the URL."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, app_state, device_only, get_db
from heyan.serve.errors import ApiError
from heyan.serve.training import registry

router = APIRouter(prefix="/api/edge/models", tags=["edge"])


@router.get("/{sha256}/{file}", response_class=FileResponse, summary="A site model's file for this box (device token)",
            responses={200: {"content": {"application/octet-stream": {}, "application/json": {}}}})
def model_file(request: Request, file: Literal["model.onnx", "model.json"], sha256: str = PathParam(pattern="^[0-9a-f]{64}$"),
               p: Principal = Depends(device_only), db: Session = Depends(get_db)) -> FileResponse:
    assert p.device is not None
    path = registry.model_path(app_state(request).config.data_dir, sha256) / file
    if not registry.ever_assigned(db, sha256, registry.DEVICE + p.device.name) or not path.is_file():
        raise ApiError(404, f"no model {sha256} for device {p.device.name}", code="no_model")
    return FileResponse(path, media_type="application/json" if file.endswith(".json") else "application/octet-stream",
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})
