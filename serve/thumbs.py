"""Downscaled JPEG copies of stored photos, made on first request and kept beside the store
(``<data>/thumbs/<sha256>-<side>.jpg``): the viewer lays a flight's photos on their
footprints, and a 20-megapixel original per photo would be far too heavy for a map."""

from __future__ import annotations

from pathlib import Path

import cv2

from heyan.pipeline.images import ImageReadError, read_image
from heyan.vision.common import InputError, atomic_write


class ThumbnailError(InputError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def thumbnail(source: Path, folder: Path, sha256: str, max_side: int) -> Path:
    """The cached thumbnail of ``source`` (made now if missing); ThumbnailError if unreadable."""
    out = folder / f"{sha256}-{max_side}.jpg"
    if out.is_file():
        return out
    try:
        img = read_image(source)
    except ImageReadError as exc:
        raise ThumbnailError(getattr(exc, "reason", str(exc))) from None
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ThumbnailError("JPEG encoding failed")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(out, buf.tobytes())
    return out
