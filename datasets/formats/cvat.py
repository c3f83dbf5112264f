"""CVAT "for images 1.1" XML: one file, <image name width height> with <box label xtl ytl xbr ybr>."""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as ET

from heyan.datasets.labelled import ImportResult, LabelledPhoto, Problem, check_boxes


def read_cvat(path: Path, images_dir: Path | None = None) -> ImportResult:
    res = ImportResult()
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except Exception as exc:  # noqa: BLE001 — defusedxml raises several types; all mean "unusable file"
        res.problems.append(Problem(str(path), f"not valid CVAT XML: {exc}"))
        return res
    base = Path(images_dir) if images_dir else path.parent
    for im in root.iter("image"):
        name = im.get("name", "")
        where = f"{path.name}: image {name}"
        image = base / name
        if not image.is_file() and (base / Path(name).name).is_file():
            image = base / Path(name).name  # CVAT keeps the upload's folders in the name
        if not image.is_file():
            res.problems.append(Problem(where, f"image file {image} not found"))
            continue
        try:
            w, h = int(im.get("width", "0")), int(im.get("height", "0"))
            boxes = [[float(b.get(k, "nan")) for k in ("xtl", "ytl", "xbr", "ybr")] for b in im.iter("box")]
        except ValueError as exc:
            res.problems.append(Problem(where, f"bad number: {exc}"))
            continue
        names = [b.get("label", "") for b in im.iter("box")]
        photo = LabelledPhoto(image, w, h, boxes, names)
        bad = check_boxes(photo, where) if w > 0 and h > 0 else [Problem(where, "no width/height")]
        if bad:
            res.problems += bad
            continue
        res.photos.append(photo)
    return res
