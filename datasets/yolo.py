"""Read YOLO-format datasets (``images/<split>`` + ``labels/<split>``, or a data.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class LabelledImage:
    image: Path
    class_ids: np.ndarray  # (N,)
    boxes_norm: np.ndarray  # (N, 4) cx, cy, w, h in 0-1

    def boxes_xyxy(self, width: int, height: int) -> np.ndarray:
        b = self.boxes_norm
        out = np.empty_like(b)
        out[:, 0] = (b[:, 0] - b[:, 2] / 2) * width
        out[:, 1] = (b[:, 1] - b[:, 3] / 2) * height
        out[:, 2] = (b[:, 0] + b[:, 2] / 2) * width
        out[:, 3] = (b[:, 1] + b[:, 3] / 2) * height
        return out


def split_images_dir(data: Path, split: str) -> tuple[Path, list[str] | None]:
    """Resolve a data.yaml or a dataset folder to the images folder of ``split``."""
    data = Path(data)
    if data.is_file():
        cfg = yaml.safe_load(data.read_text(encoding="utf-8")) or {}
        root = Path(cfg.get("path") or data.parent)
        if not root.is_absolute():
            root = (data.parent / root).resolve()
        rel = cfg.get(split)
        if rel is None:
            raise ValueError(f"{data}: no {split!r} entry")
        names = cfg.get("names")
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        return root / rel, names
    if (data / "images" / split).is_dir():
        return data / "images" / split, None
    raise ValueError(f"{data}: neither a data.yaml nor a folder with images/{split}")


def read_labels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        return np.zeros((0,), np.int64), np.zeros((0, 4), np.float32)
    rows = []
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise ValueError(f"{path}:{ln}: expected 'class cx cy w h', got {line!r}")
        rows.append([float(v) for v in parts])
    if not rows:
        return np.zeros((0,), np.int64), np.zeros((0, 4), np.float32)
    arr = np.array(rows, np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1:].astype(np.float32)


def iter_split(data: Path, split: str = "val") -> list[LabelledImage]:
    images_dir, _ = split_images_dir(data, split)
    if images_dir.suffix == ".txt" and images_dir.is_file():
        # Ultralytics' list form (a mix of several datasets), read as Ultralytics reads it:
        # `./x` is relative to the list file, other relative paths to the working folder.
        lines = [ln.strip() for ln in images_dir.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
        paths = [images_dir.parent / ln[2:] if ln.startswith("./") else Path(ln) for ln in lines]
        return [LabelledImage(p, *read_labels(label_path(p))) for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images_dir.is_dir():
        raise ValueError(f"{images_dir}: images folder not found")
    items = []
    for img in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        items.append(LabelledImage(img, *read_labels(label_path(img))))
    return items


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last ``/images/`` in the path becomes ``/labels/``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    s = str(image)
    if sa in s:
        s = sb.join(s.rsplit(sa, 1))
    return Path(s).with_suffix(".txt")
