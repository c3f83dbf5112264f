"""Write photos in the internal form as an Ultralytics dataset: images linked (not copied),
one label file per image, data.yaml with Heyan's class order."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

from heyan.datasets.labelled import LabelledPhoto
from heyan.vision.classes import class_names


def _link(src: Path, dst: Path) -> None:
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    try:
        os.symlink(src.resolve(), dst)
    except OSError:  # no symlinks on this filesystem
        shutil.copyfile(src, dst)


def write_yolo(splits: dict[str, list[LabelledPhoto]], out: Path) -> Path:
    out = Path(out)
    index = {n: i for i, n in enumerate(class_names())}
    for split, photos in splits.items():
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        for p in photos:
            name = p.image.name
            if name in used:  # same file name from two source folders
                name = f"{len(used)}_{name}"
            used.add(name)
            _link(p.image, out / "images" / split / name)
            lines = []
            for (x1, y1, x2, y2), cls in zip(p.boxes, p.names):
                x1, x2 = max(0.0, x1), min(float(p.width), x2)
                y1, y2 = max(0.0, y1), min(float(p.height), y2)
                cx, cy = (x1 + x2) / 2 / p.width, (y1 + y2) / 2 / p.height
                lines.append(f"{index[cls]} {cx:.6f} {cy:.6f} {(x2 - x1) / p.width:.6f} {(y2 - y1) / p.height:.6f}")
            (out / "labels" / split / Path(name).with_suffix(".txt")).write_text("\n".join(lines) + ("\n" if lines else ""))
    data = {"path": str(out.resolve()), **{s: f"images/{s}" for s in splits}, "names": dict(enumerate(class_names()))}
    path = out / "data.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
