"""/api/blobs/{sha256}: a stored photo, evidence crop, rectification photo or flight report.
Content-addressed, so it never changes: cached for good by the browser."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from heyan.serve.deps import Principal, app_state, get_db, require
from heyan.serve.errors import ApiError
from heyan.serve.tables import Blob

router = APIRouter(prefix="/api/blobs", tags=["blobs"])


@router.get("/{sha256}", response_class=FileResponse, summary="A stored file by its sha256",
            responses={200: {"content": {"image/jpeg": {}, "application/octet-stream": {}}}})
def get_blob(request: Request, sha256: str = Path(pattern="^[0-9a-f]{64}$"),
             _: Principal = Depends(require("blobs.read")), db: Session = Depends(get_db)) -> FileResponse:
    row = db.get(Blob, sha256)
    store = app_state(request).store
    if row is None or not store.exists(sha256):
        raise ApiError(404, f"no stored file {sha256}")
    return FileResponse(store.path(sha256), media_type=row.content_type,
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})
