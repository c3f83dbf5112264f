"""A frame's size and its downscaled preview, for the labelling page.

A 20 MP photo is 10-20 MB and takes the browser a while to fetch and decode, so the page
first shows a preview (long side ``PREVIEW_SIDE``) and swaps in the full photo when it is
zoomed in. Both are decoded as the pipeline decodes (``pipeline.images``: EXIF orientation
applied), so box pixels mean the same thing everywhere. The size and the preview are made
once per frame and kept beside the store (``<data_dir>/previews``): they are derived, so a
lost cache is only a slower first view."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2

from heyan.pipeline.images import read_image
from heyan.serve.storage import BlobStore
from heyan.vision.common import atomic_write

PREVIEW_SIDE = 2048  # enough for a 1080p screen at fit-to-window; the full photo is loaded on zoom
PREVIEW_QUALITY = 85
_lock = threading.Lock()  # two first views of one frame decode it once


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int


class Frames:
    def __init__(self, store: BlobStore, cache_dir: Path) -> None:
        self.store, self.cache = store, Path(cache_dir)

    def _paths(self, sha: str) -> tuple[Path, Path]:
        d = self.cache / sha[:2]
        return d / f"{sha}.json", d / f"{sha}.jpg"

    def size(self, sha: str) -> FrameSize:
        """Full-resolution size of a stored picture; ImageReadError if it cannot be decoded."""
        meta, _ = self._paths(sha)
        if not meta.exists():
            self._make(sha)
        d = json.loads(meta.read_text())
        return FrameSize(int(d["width"]), int(d["height"]))

    def preview(self, sha: str) -> Path:
        _, jpg = self._paths(sha)
        if not jpg.exists():
            self._make(sha)
        return jpg

    def _make(self, sha: str) -> None:
        meta, jpg = self._paths(sha)
        with _lock:
            if meta.exists() and jpg.exists():
                return
            image = read_image(self.store.path(sha))
            h, w = image.shape[:2]
            scale = min(1.0, PREVIEW_SIDE / max(w, h))
            small = image if scale >= 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)),
                                                          interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_QUALITY])
            if not ok:
                raise OSError(f"cannot encode the preview of {sha}")
            atomic_write(jpg, buf.tobytes(), durable=False)
            atomic_write(meta, json.dumps({"width": w, "height": h}), durable=False)  # written last: it marks both done
