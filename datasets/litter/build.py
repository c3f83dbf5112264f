"""Write a YOLO dataset of litter scenes on real water (``heyan dataset litter``).

Backgrounds are read once per worker; each image has its own seed (dataset seed, index),
so any image can be made again alone. Which real photos may serve as backgrounds is the
caller's choice: never a photo that is in a validation set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from heyan.datasets.litter.scenes import Background, SceneParams, background_from, bank_scene, overhead_scene
from heyan.datasets.synthetic.dataset import write_data_yaml, yolo_lines
from heyan.vision.classes import class_index

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class LitterSpec:
    overhead: tuple[str, ...]  # photos whose water takes litter seen from above
    banks: tuple[str, ...]  # photos whose content stands on the far bank and is mirrored
    bank_share: float = 0.45
    empty_share: float = 0.1  # scenes with no litter: look-alikes only
    size: int = 320
    max_side: int = 2000  # photos are reduced to this first (memory; chips stay native below it)


def image_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.suffix.lower() in IMAGE_SUFFIXES:
            out.append(p)
    return out


def _read(path: str, max_side: int) -> np.ndarray | None:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return None
    f = max_side / max(img.shape[:2])
    if f < 1:
        img = cv2.resize(img, (int(img.shape[1] * f), int(img.shape[0] * f)), interpolation=cv2.INTER_AREA)
    return img


_STATE: dict[str, object] = {}


def _init(spec: LitterSpec) -> None:
    overhead: list[Background] = []
    for p in spec.overhead:
        img = _read(p, spec.max_side)
        if img is not None:
            overhead.append(background_from(img, Path(p).name))
    banks = [img for p in spec.banks if (img := _read(p, spec.max_side)) is not None]
    _STATE.update(spec=spec, overhead=overhead, banks=banks)


def _one(job: tuple[Path, str, int, int]) -> dict:
    out, split, i, seed = job
    spec: LitterSpec = _STATE["spec"]  # type: ignore[assignment]
    rng = np.random.default_rng([seed, i])
    empty = rng.random() < spec.empty_share
    p = SceneParams(size=spec.size, items=(0, 0) if empty else (1, 8))
    if rng.random() < spec.bank_share:
        s = bank_scene(rng, _STATE["banks"], p)
    else:
        s = overhead_scene(rng, _STATE["overhead"], p)
    stem = f"{split}_{i:06d}"
    cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), s.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cid = np.full(len(s.boxes), class_index("floating_debris"))
    h, w = s.image.shape[:2]
    (out / "labels" / split / f"{stem}.txt").write_text("\n".join(yolo_lines(s.boxes, cid, w, h)) + "\n")
    return {"view": s.view, "source": s.source, "kinds": s.kinds}


def build_litter_dataset(out: Path, spec: LitterSpec, n_train: int, n_val: int = 0, seed: int = 0,
                         workers: int = 1, progress: Callable[[int], None] | None = None) -> dict:
    out = Path(out)
    jobs = []
    for split, n, offset in (("train", n_train, 0), ("val", n_val, 10_000_000)):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        jobs += [(out, split, offset + i, seed) for i in range(n)]
    summary: dict = {"images": {"train": n_train, "val": n_val}, "views": {}, "kinds": {}, "sources": {}}

    def count(r: dict) -> None:
        summary["views"][r["view"]] = summary["views"].get(r["view"], 0) + 1
        summary["sources"][r["source"]] = summary["sources"].get(r["source"], 0) + 1
        for k in r["kinds"]:
            summary["kinds"][k] = summary["kinds"].get(k, 0) + 1
        if progress:
            progress(1)

    if workers > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers, initializer=_init, initargs=(spec,)) as pool:
            for r in pool.imap(_one, jobs, chunksize=8):
                count(r)
    else:
        _init(spec)
        for job in jobs:
            count(_one(job))
    write_data_yaml(out)
    summary["objects"] = sum(summary["kinds"].values())
    (out / "litter.json").write_text(json.dumps({"spec": {"overhead": list(spec.overhead), "banks": list(spec.banks),
                                                          "bank_share": spec.bank_share, "size": spec.size,
                                                          "empty_share": spec.empty_share},
                                                 "seed": seed, **summary}, indent=1, ensure_ascii=False))
    return summary
