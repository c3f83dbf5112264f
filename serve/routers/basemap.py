"""/api/basemap/{z}/{x}/{y}: raster tiles of the office's MBTiles file (serve_basemap_mbtiles),
for the viewer's map when the office has no tile server. The file is the configured one,
never a path from the request."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request, Response

from heyan.serve.deps import Principal, app_state, authenticate
from heyan.serve.errors import ApiError

router = APIRouter(prefix="/api/basemap", tags=["basemap"])

TILE_URL = "/api/basemap/{z}/{x}/{y}"  # the template the viewer is given


@router.get("/{z}/{x}/{y}", summary="One basemap tile (XYZ numbering) from the configured MBTiles file; 404 where it has none",
            response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}})
def basemap_tile(request: Request, z: int = Path(ge=0, le=30), x: int = Path(ge=0), y: int = Path(ge=0),
                 p: Principal = Depends(authenticate)) -> Response:
    if p.user is None:
        raise ApiError(403, "device tokens may only use the edge API")
    tiles = app_state(request).mbtiles
    if tiles is None:
        raise ApiError(404, "no basemap file is configured (serve_basemap_mbtiles)", code="no_basemap")
    data = tiles.tile(z, x, y)
    if data is None:
        raise ApiError(404, f"no basemap tile at {z}/{x}/{y}", code="no_tile")
    # Tiles change only when the office replaces the file: an hour in the browser's cache.
    return Response(data, media_type=tiles.info.media_type, headers={"Cache-Control": "private, max-age=3600"})
