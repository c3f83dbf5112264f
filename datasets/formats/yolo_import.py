"""A YOLO dataset (data.yaml + images/ + labels/) into the internal form, for re-mapping
classes, tiling or merging with other sources."""

from __future__ import annotations

from pathlib import Path

import cv2
import yaml

from heyan.datasets.labelled import ImportResult, LabelledPhoto, Problem, check_boxes
from heyan.datasets.yolo import iter_split


def read_yolo(data_yaml: Path, splits: tuple[str, ...] = ("train", "val")) -> ImportResult:
    res = ImportResult()
    cfg = yaml.safe_load(Path(data_yaml).read_text(encoding="utf-8")) or {}
    names = cfg.get("names") or {}
    names = {i: n for i, n in enumerate(names)} if isinstance(names, list) else {int(k): str(v) for k, v in names.items()}
    for split in splits:
        if split not in cfg:
            continue
        for item in iter_split(Path(data_yaml), split):
            img = cv2.imread(str(item.image), cv2.IMREAD_UNCHANGED)
            if img is None:
                res.problems.append(Problem(str(item.image), "unreadable image"))
                continue
            h, w = img.shape[:2]
            unknown = [int(c) for c in item.class_ids if int(c) not in names]
            if unknown:
                res.problems.append(Problem(str(item.image), f"class ids {sorted(set(unknown))} not in data.yaml names"))
                continue
            photo = LabelledPhoto(item.image, w, h, item.boxes_xyxy(w, h), [names[int(c)] for c in item.class_ids])
            bad = check_boxes(photo, str(item.image), tolerance=0.01 * max(w, h))
            if bad:
                res.problems += bad
                continue
            res.photos.append(photo)
    return res
