"""Hand labels out as a dataset: YOLO (Ultralytics folder) or COCO (one JSON), zipped with
the frames themselves at full resolution, so the zip is a training set on its own.

The latest version of each frame is exported. By default only frames marked 已完整标注
(complete): on a partly labelled frame an unboxed object would be taught as background.
Class ids are Heyan's order (``vision.classes``) in both formats (COCO ids are 1-based)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.storage import BlobStore
from heyan.serve.tables import Blob, FrameLabel
from heyan.vision.classes import CLASSES, class_index, class_names

Format = Literal["yolo", "coco"]
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/tiff": ".tif", "image/bmp": ".bmp"}


@dataclass(frozen=True)
class LabelledFrame:
    sha: str
    version: int
    width: int
    height: int
    boxes: list[dict[str, Any]]
    complete: bool
    created_by: str
    created_at: datetime
    ext: str
    source: str | None = None

    @property
    def stem(self) -> str:
        return self.sha[:16]


def latest_versions(db: Session, partial: bool = False) -> list[LabelledFrame]:
    """The newest version of every labelled frame (complete ones only unless ``partial``)."""
    newest = (sa.select(FrameLabel.photo_sha, sa.func.max(FrameLabel.version).label("v"))
              .group_by(FrameLabel.photo_sha).subquery())
    q = (sa.select(FrameLabel, Blob.content_type)
         .join(newest, sa.and_(newest.c.photo_sha == FrameLabel.photo_sha, newest.c.v == FrameLabel.version))
         .join(Blob, Blob.sha256 == FrameLabel.photo_sha).order_by(FrameLabel.photo_sha))
    if not partial:
        q = q.where(FrameLabel.complete.is_(True))
    return [LabelledFrame(f.photo_sha, f.version, f.width, f.height, list(f.boxes or []), f.complete, f.created_by,
                          f.created_at, _EXT.get(ct, ".jpg"), f.source) for f, ct in db.execute(q)]


def yolo_lines(frame: LabelledFrame) -> str:
    lines = []
    for b in frame.boxes:
        x1, y1, x2, y2 = b["box"]
        cx, cy = (x1 + x2) / 2 / frame.width, (y1 + y2) / 2 / frame.height
        w, h = (x2 - x1) / frame.width, (y2 - y1) / frame.height
        lines.append(f"{class_index(b['class'])} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines)


def coco(frames: list[LabelledFrame]) -> dict[str, Any]:
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i, f in enumerate(frames, 1):
        images.append({"id": i, "file_name": f"images/{f.stem}{f.ext}", "width": f.width, "height": f.height,
                       "heyan_sha256": f.sha, "heyan_version": f.version, "heyan_complete": f.complete,
                       "heyan_labelled_by": f.created_by, "heyan_labelled_at": f.created_at.isoformat()})
        for b in f.boxes:
            x1, y1, x2, y2 = b["box"]
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": class_index(b["class"]) + 1,
                                "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
                                "area": round((x2 - x1) * (y2 - y1), 2), "iscrowd": 0,
                                **({"heyan_ticket_id": b["ticket_id"]} if b.get("ticket_id") else {})})
    cats = [{"id": i + 1, "name": c.name, "name_zh": c.zh, "supercategory": "heyan"} for i, c in enumerate(CLASSES)]
    return {"info": {"description": "Heyan hand labels"}, "images": images, "annotations": annotations, "categories": cats}


def _data_yaml() -> str:
    names = "".join(f"  {i}: {n}\n" for i, n in enumerate(class_names()))
    return f"path: .\ntrain: images/train\nval: images/train\nnames:\n{names}"


def write_zip(frames: list[LabelledFrame], fmt: Format, store: BlobStore, out: Path) -> Path:
    """The dataset as a zip at ``out``. Photos are stored, not deflated (JPEG does not shrink)."""
    with zipfile.ZipFile(out, "w") as z:
        for f in frames:
            img = f"images/train/{f.stem}{f.ext}" if fmt == "yolo" else f"images/{f.stem}{f.ext}"
            if store.exists(f.sha):
                z.write(store.path(f.sha), img, compress_type=zipfile.ZIP_STORED)
            if fmt == "yolo":
                z.writestr(f"labels/train/{f.stem}.txt", yolo_lines(f), compress_type=zipfile.ZIP_DEFLATED)
        if fmt == "yolo":
            z.writestr("data.yaml", _data_yaml(), compress_type=zipfile.ZIP_DEFLATED)
            z.writestr("labels.jsonl", "".join(json.dumps(_record(f), ensure_ascii=False) + "\n" for f in frames),
                       compress_type=zipfile.ZIP_DEFLATED)
        else:
            z.writestr("annotations.json", json.dumps(coco(frames), ensure_ascii=False, indent=1),
                       compress_type=zipfile.ZIP_DEFLATED)
    return out


def _record(f: LabelledFrame) -> dict[str, Any]:
    return {"image": f"{f.stem}{f.ext}", "sha256": f.sha, "version": f.version, "complete": f.complete,
            "labelled_by": f.created_by, "labelled_at": f.created_at.isoformat(), "boxes": f.boxes}


def tiles(width: int, height: int, size: int) -> Iterator[tuple[int, int, int, int]]:
    """Windows (x0, y0, w, h) of side ``size`` covering a frame, the last row and column
    flush with its far edges (so no window hangs outside and every pixel is in one)."""
    def starts(n: int) -> list[int]:
        if n <= size:
            return [0]
        k = -(-n // size)
        return [round(i * (n - size) / (k - 1)) for i in range(k)]

    for y in starts(height):
        for x in starts(width):
            yield x, y, min(size, width), min(size, height)
