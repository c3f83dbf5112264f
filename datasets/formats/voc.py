"""Pascal VOC XML (one .xml per image; LabelImg, Roboflow, CVAT's VOC export)."""

from __future__ import annotations

import math
from pathlib import Path

import defusedxml.ElementTree as ET

from heyan.datasets.labelled import ImportResult, LabelledPhoto, Problem, check_boxes
from heyan.datasets.yolo import IMAGE_SUFFIXES


def _image_for(xml: Path, filename: str | None, images_dir: Path | None = None) -> Path | None:
    # Labels may live apart from the images (we commit labels, not third-party photos).
    for base in (xml.parent, images_dir):
        if base is not None and filename and (base / filename).is_file():
            return base / filename
    for suffix in IMAGE_SUFFIXES:
        for cand in (xml.with_suffix(suffix), xml.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    return None


def read_voc_file(xml: Path, images_dir: Path | None = None) -> ImportResult:
    res = ImportResult()
    try:
        root = ET.parse(xml).getroot()
    except Exception as exc:  # noqa: BLE001 — defusedxml raises several types; all mean "unusable file"
        res.problems.append(Problem(str(xml), f"not valid VOC XML: {exc}"))
        return res
    image = _image_for(xml, root.findtext("filename"), images_dir)
    if image is None:
        res.problems.append(Problem(str(xml), f"image {root.findtext('filename')!r} not found beside it"))
        return res
    try:
        width = int(float(root.findtext("size/width") or 0))
        height = int(float(root.findtext("size/height") or 0))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        res.problems.append(Problem(str(xml), "no image size (size/width, size/height)"))
        return res
    boxes, names = [], []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        try:
            b = [float(obj.findtext(f"bndbox/{k}") or "nan") for k in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError:
            res.problems.append(Problem(str(xml), f"object {name!r}: bndbox is not numbers"))
            continue
        if any(math.isnan(v) for v in b):  # a missing coordinate
            res.problems.append(Problem(str(xml), f"object {name!r}: bndbox incomplete"))
            continue
        boxes.append(b)
        names.append(name)
    photo = LabelledPhoto(image, width, height, boxes, names)
    bad = check_boxes(photo, str(xml))
    if bad:
        res.problems += bad
        return res
    res.photos.append(photo)
    return res


def read_voc(folder: Path, images_dir: Path | None = None) -> ImportResult:
    res = ImportResult()
    for xml in sorted(Path(folder).rglob("*.xml")):
        res.extend(read_voc_file(xml, images_dir))
    return res
