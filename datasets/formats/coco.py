"""COCO detection JSON (instances_*.json: images, annotations with [x, y, w, h], categories)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from heyan.datasets.labelled import ImportResult, LabelledPhoto, Problem, check_boxes


def read_coco(path: Path, images_dir: Path | None = None) -> ImportResult:
    res = ImportResult()
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cats = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        images = {int(i["id"]): i for i in data["images"]}
        anns = data.get("annotations", [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        res.problems.append(Problem(str(path), f"not a COCO detection file: {exc}"))
        return res
    base = Path(images_dir) if images_dir else path.parent
    per_image: dict[int, list[dict]] = defaultdict(list)
    for a in anns:
        per_image[int(a.get("image_id", -1))].append(a)
    for image_id, info in sorted(images.items()):
        name = str(info.get("file_name", ""))
        image = base / name
        where = f"{path.name}: image {image_id} ({name})"
        if not image.is_file():
            res.problems.append(Problem(where, f"image file {image} not found"))
            continue
        boxes, names, ok = [], [], True
        for a in per_image.get(image_id, []):
            cid = a.get("category_id")
            if cid not in cats:
                res.problems.append(Problem(where, f"annotation {a.get('id')}: unknown category_id {cid}"))
                ok = False
                break
            try:
                x, y, w, h = (float(v) for v in a["bbox"])
            except (KeyError, TypeError, ValueError):
                res.problems.append(Problem(where, f"annotation {a.get('id')}: bbox is not [x, y, w, h]"))
                ok = False
                break
            boxes.append([x, y, x + w, y + h])
            names.append(cats[cid])
        if not ok:
            continue
        photo = LabelledPhoto(image, int(info.get("width", 0)), int(info.get("height", 0)), boxes, names)
        if photo.width <= 0 or photo.height <= 0:
            res.problems.append(Problem(where, "no width/height in the images entry"))
            continue
        bad = check_boxes(photo, where)
        if bad:
            res.problems += bad
            continue
        res.photos.append(photo)
    return res
