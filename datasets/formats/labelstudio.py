"""Label Studio JSON export: a list of tasks; rectangles are in percent of the image."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from heyan.datasets.labelled import ImportResult, LabelledPhoto, Problem, check_boxes


def _image_path(ref: str, base: Path) -> Path:
    # "/data/upload/3/abc-photo.jpg", "/data/local-files/?d=photos/a.jpg" or a plain name:
    # the file name is what survives a move to another machine.
    ref = unquote(ref.split("?d=")[-1])
    return base / Path(ref).name


def read_labelstudio(path: Path, images_dir: Path | None = None) -> ImportResult:
    res = ImportResult()
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(tasks, list):
            raise TypeError("expected a list of tasks")
    except (OSError, ValueError, TypeError) as exc:
        res.problems.append(Problem(str(path), f"not a Label Studio JSON export: {exc}"))
        return res
    base = Path(images_dir) if images_dir else path.parent
    for task in tasks:
        ref = str((task.get("data") or {}).get("image", ""))
        where = f"{path.name}: task {task.get('id')} ({ref})"
        image = _image_path(ref, base)
        if not image.is_file():
            res.problems.append(Problem(where, f"image file {image} not found"))
            continue
        boxes, names, w, h = [], [], 0, 0
        results = [r for a in task.get("annotations", []) if not a.get("was_cancelled") for r in a.get("result", [])]
        for r in results:
            if r.get("type") != "rectanglelabels":
                continue
            v = r.get("value", {})
            w, h = int(r.get("original_width", 0)), int(r.get("original_height", 0))
            if v.get("rotation"):
                res.problems.append(Problem(where, "rotated rectangle (not supported): box left out"))
                continue
            x, y, bw, bh = (float(v.get(k, 0)) for k in ("x", "y", "width", "height"))
            boxes.append([x * w / 100, y * h / 100, (x + bw) * w / 100, (y + bh) * h / 100])
            names.append((v.get("rectanglelabels") or [""])[0])
        if not results:
            import cv2  # an image with no boxes still needs its size

            img = cv2.imread(str(image))
            h, w = img.shape[:2] if img is not None else (0, 0)
        photo = LabelledPhoto(image, w, h, boxes, names)
        bad = check_boxes(photo, where) if w > 0 and h > 0 else [Problem(where, "image size unknown")]
        if bad:
            res.problems += bad
            continue
        res.photos.append(photo)
    return res
