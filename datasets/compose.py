"""Datasets built from other datasets: copy-paste composites, augmented copies, mixes.
The file I/O around ``copypaste`` and ``augment``; each writes a YOLO dataset."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from heyan.datasets.augment import AugmentParams, augment
from heyan.datasets.copypaste import ComposeParams, Cutout, compose_chip, real_cutout, water_land_masks
from heyan.datasets.labelled import LabelledPhoto, Problem
from heyan.datasets.tiling import ChipParams, chip_boxes
from heyan.datasets.yolo import iter_split
from heyan.vision.classes import class_names


def collect_cutouts(photos: Iterable[LabelledPhoto], gsd_m: float | None, max_per_class: int = 400,
                    seed: int = 0, max_px: float | None = None) -> tuple[dict[str, list[Cutout]], list[Problem]]:
    """Real cut-outs of every labelled object (at most ``max_per_class`` per class; objects
    of ``max_px`` or longer are left out: at the same scale they fit no chip)."""
    rng = np.random.default_rng(seed)
    photos = list(photos)
    rng.shuffle(photos)
    out: dict[str, list[Cutout]] = {}
    problems: list[Problem] = []
    for photo in photos:
        if all(len(out.get(n, [])) >= max_per_class for n in set(photo.names)):
            continue
        img = cv2.imread(str(photo.image), cv2.IMREAD_COLOR)
        if img is None:
            problems.append(Problem(str(photo.image), "unreadable image"))
            continue
        for box, name in zip(photo.boxes, photo.names):
            if len(out.get(name, [])) >= max_per_class:
                continue
            if max_px is not None and max(box[2] - box[0], box[3] - box[1]) >= max_px:
                continue
            cut = real_cutout(img, box, name, photo.image.name, gsd_m)
            if cut is not None:
                out.setdefault(name, []).append(cut)
    return out, problems


def compose_dataset(backgrounds: list[LabelledPhoto], gsd_m: float, cutouts: dict[str, list[Cutout]], out: Path,
                    n: int, size: int = 320, seed: int = 0, params: ComposeParams = ComposeParams(),
                    progress: bool = True) -> tuple[list[LabelledPhoto], list[Problem]]:
    """``n`` chips of ``size`` px cut at random from the backgrounds at native scale (the
    scale sliced inference sees), each with a few pasted objects; the background's own
    labels in the chip are kept."""
    out.mkdir(parents=True, exist_ok=True)
    chips: dict[int, LabelledPhoto] = {}
    problems: list[Problem] = []
    usable = [b for b in backgrounds if b.width >= size and b.height >= size]
    if not usable:
        return [], [Problem("backgrounds", f"no background of at least {size}x{size} px")]
    cp = ChipParams(size=size)
    # Backgrounds are drawn first and the chips made photo by photo, so each photo is
    # decoded and masked once (a 20 MP photo with its masks is ~100 MB: no cache of many).
    # Each chip has its own random stream, so the result does not depend on that order.
    choice = np.random.default_rng(seed).integers(len(usable), size=n)
    bar = tqdm(total=n, desc="compose", unit="chip", file=sys.stderr, disable=not progress)
    for b in np.unique(choice):
        bg = usable[int(b)]
        todo = np.nonzero(choice == b)[0]
        img = cv2.imread(str(bg.image), cv2.IMREAD_COLOR)
        if img is None or img.shape[:2] != (bg.height, bg.width):
            why = "unreadable image" if img is None else \
                f"labels are for {bg.width}x{bg.height}, the decoded image is {img.shape[1]}x{img.shape[0]}"
            problems.append(Problem(str(bg.image), why))
            bar.update(len(todo))
            continue
        water, land = water_land_masks(img)
        for i in todo:
            rng = np.random.default_rng([seed, int(i)])
            x0 = int(rng.integers(0, bg.width - size + 1))
            y0 = int(rng.integers(0, bg.height - size + 1))
            window = np.array([x0, y0, x0 + size, y0 + size], np.float32)
            boxes, names = chip_boxes(bg.boxes, bg.names, window, cp)
            chip = img[y0:y0 + size, x0:x0 + size].copy()
            masks = (water[y0:y0 + size, x0:x0 + size], land[y0:y0 + size, x0:x0 + size])
            chip, boxes, names = compose_chip(rng, chip, boxes, names, gsd_m, cutouts, params, masks=masks)
            path = out / f"cp_{seed}_{int(i):06d}.jpg"
            cv2.imwrite(str(path), chip, [cv2.IMWRITE_JPEG_QUALITY, 92])
            chips[int(i)] = LabelledPhoto(path, size, size, boxes, names)
            bar.update(1)
    bar.close()
    return [chips[i] for i in sorted(chips)], problems


def augment_dataset(data: Path, split: str, out: Path, seed: int = 0, params: AugmentParams = AugmentParams(),
                    progress: bool = True) -> tuple[list[LabelledPhoto], list[Problem]]:
    """An augmented copy of every image of a split (same count, new files); unreadable
    images are reported and left out."""
    rng = np.random.default_rng(seed)
    names = class_names()
    out.mkdir(parents=True, exist_ok=True)
    photos: list[LabelledPhoto] = []
    problems: list[Problem] = []
    items = iter_split(data, split)
    for k, item in enumerate(tqdm(items, desc=f"augment {split}", unit="img", file=sys.stderr, disable=not progress)):
        img = cv2.imread(str(item.image), cv2.IMREAD_COLOR)
        if img is None:
            problems.append(Problem(str(item.image), "unreadable image"))
            continue
        h, w = img.shape[:2]
        aug, boxes, cls = augment(rng, img, item.boxes_xyxy(w, h), item.class_ids, params)
        path = out / f"aug{seed}_{k:06d}_{item.image.stem}.jpg"
        cv2.imwrite(str(path), aug, [cv2.IMWRITE_JPEG_QUALITY, 95])
        photos.append(LabelledPhoto(path, w, h, boxes, [names[int(c)] for c in cls]))
    return photos, problems


def write_mix(parts: list[tuple[Path, str, int | None]], val: list[tuple[Path, str]], out: Path, seed: int = 0) -> Path:
    """A data.yaml whose train (and val) are lists of image paths taken from other datasets:
    all of a part, or ``count`` drawn at random with ``seed``. Labels stay where they are."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)

    def paths(data: Path, split: str, count: int | None) -> list[str]:
        items = [str(it.image.absolute()) for it in iter_split(data, split)]
        if count is not None and count < len(items):
            idx = np.sort(rng.choice(len(items), count, replace=False))
            items = [items[i] for i in idx]
        return items

    train = [p for data, split, count in parts for p in paths(data, split, count)]
    (out / "train.txt").write_text("\n".join(train) + "\n", encoding="utf-8")
    cfg: dict = {"path": str(out.resolve()), "train": "train.txt"}
    if val:
        vals = [p for data, split in val for p in paths(data, split, None)]
        (out / "val.txt").write_text("\n".join(vals) + "\n", encoding="utf-8")
        cfg["val"] = "val.txt"
    cfg["names"] = dict(enumerate(class_names()))
    cfg["sources"] = [{"data": str(d), "split": s, "count": c} for d, s, c in parts]
    path = out / "data.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


CHIP_GROUP = r"^(.*?)(?:__\d+)?\.[^.]+$"  # a chip of `heyan dataset tile` belongs to its photo


def dataset_stats(data: Path, splits: tuple[str, ...] = ("train", "val"), group: str | None = CHIP_GROUP) -> dict:
    """Per split: images, boxes per class, box size distribution (long side in px, as
    percentiles per class) and the source groups, so leakage between splits shows."""
    from heyan.datasets.split import group_of

    cfg = yaml.safe_load(Path(data).read_text(encoding="utf-8")) if Path(data).is_file() else {}
    names = class_names()
    out: dict = {"data": str(data), "splits": {}}
    groups_by_split: dict[str, set[str]] = {}
    for split in splits:
        if cfg and split not in cfg:
            continue
        items = iter_split(data, split)
        counts = {n: 0 for n in names}
        sizes: dict[str, list[float]] = {n: [] for n in names}
        empty = 0
        groups: set[str] = set()
        for item in items:
            groups.add(group_of(item.image, group))
            if len(item.class_ids) == 0:
                empty += 1
                continue
            w, h = _image_size(item.image)
            b = item.boxes_xyxy(w, h)
            for c, bb in zip(item.class_ids, b):
                n = names[int(c)] if 0 <= int(c) < len(names) else f"id{int(c)}"
                counts[n] = counts.get(n, 0) + 1
                sizes.setdefault(n, []).append(float(max(bb[2] - bb[0], bb[3] - bb[1])))
        groups_by_split[split] = groups
        out["splits"][split] = {
            "images": len(items), "empty_images": empty, "boxes": {k: v for k, v in counts.items() if v},
            "box_long_side_px": {k: {"p10": round(float(np.percentile(v, 10)), 1), "p50": round(float(np.percentile(v, 50)), 1),
                                     "p90": round(float(np.percentile(v, 90)), 1), "min": round(min(v), 1), "max": round(max(v), 1)}
                                 for k, v in sizes.items() if v},
            "sources": len(groups), "source_names": sorted(groups)[:50],
        }
    if "train" in groups_by_split and "val" in groups_by_split:
        shared = sorted(groups_by_split["train"] & groups_by_split["val"])
        out["sources_in_both_splits"] = len(shared)
        out["sources_in_both_splits_names"] = shared[:50]
    return out


def _image_size(path: Path) -> tuple[int, int]:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"{path}: unreadable image")
    return img.shape[1], img.shape[0]
