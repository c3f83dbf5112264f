"""Write a seeded synthetic YOLO dataset: ``images/{train,val}``, ``labels/{train,val}``
and ``data.yaml`` for Ultralytics. Each image's seed is derived from the dataset seed and
its index, so any single image can be regenerated alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from heyan.datasets.synthetic.scenes import render_scene
from heyan.vision.classes import class_names


@dataclass
class DatasetSummary:
    root: Path
    counts: dict[str, int]
    per_class: dict[str, dict[str, int]]

    def to_json(self) -> str:
        return json.dumps({"root": str(self.root), "counts": self.counts, "per_class": self.per_class}, ensure_ascii=False)


def yolo_lines(boxes: np.ndarray, class_ids: np.ndarray, w: int, h: int) -> list[str]:
    lines = []
    for (x1, y1, x2, y2), c in zip(boxes, class_ids):
        cx, cy = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h
        bw, bh = (x2 - x1) / w, (y2 - y1) / h
        lines.append(f"{int(c)} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def _write_one(args: tuple[Path, str, int, int, int, int, float]) -> list[int]:
    out, split, i, offset, seed, size, camera_fraction = args
    # Validation seeds live far from training seeds: no image is in both.
    rng = np.random.default_rng([seed, offset + i])
    s = render_scene(rng, size, camera_fraction)
    stem = f"{split}_{i:06d}"
    cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), s.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    (out / "labels" / split / f"{stem}.txt").write_text("\n".join(yolo_lines(s.boxes, s.class_ids, size, size)) + "\n")
    return [int(c) for c in s.class_ids]


def generate_dataset(out: Path, n_train: int, n_val: int, seed: int = 0, size: int = 320,
                     camera_fraction: float = 0.25, progress: Callable[[int], None] | None = None,
                     workers: int = 1) -> DatasetSummary:
    out = Path(out)
    names = class_names()
    per_class = {split: {n: 0 for n in names} for split in ("train", "val")}
    counts = {"train": n_train, "val": n_val}
    jobs = []
    for split, n, offset in (("train", n_train, 0), ("val", n_val, 10_000_000)):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        jobs += [(out, split, i, offset, seed, size, camera_fraction) for i in range(n)]
    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            results = pool.imap(_write_one, jobs, chunksize=16)
            for job, cids in zip(jobs, results):
                for c in cids:
                    per_class[job[1]][names[c]] += 1
                if progress:
                    progress(1)
    else:
        for job in jobs:
            for c in _write_one(job):
                per_class[job[1]][names[c]] += 1
            if progress:
                progress(1)
    write_data_yaml(out)
    return DatasetSummary(out, counts, per_class)


def write_data_yaml(root: Path) -> Path:
    names = class_names()
    lines = [f"path: {Path(root).resolve()}", "train: images/train", "val: images/val", "names:"]
    lines += [f"  {i}: {n}" for i, n in enumerate(names)]
    p = Path(root) / "data.yaml"
    p.write_text("\n".join(lines) + "\n")
    return p
