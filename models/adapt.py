"""Site adaptation: fit a model to one camera or one reach of river from a few labelled
frames of it, and keep the result only if it is better there.

The steps are plain functions so the command line, the server's jobs and the learning-curve
benchmark run the same path:

1. hold back a share of the site's frames (by source group: frames of one moment stay
   together) — they are never trained on and decide everything;
2. cut the training frames into chips at the model's input size (the scale sliced
   inference sees) and fine-tune the base model for a bounded time;
3. evaluate base and new model on the held-back frames with ``heyan eval``'s code
   (sliced, NMS merge), per class;
4. choose the new model's operating thresholds on those frames (best F1 per class);
5. the caller writes the new model into a zoo only when it is better there.

Training imports torch lazily (``models.train``); nothing here is needed at run time.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from heyan.datasets.export_yolo import write_yolo
from heyan.datasets.labelled import LabelledPhoto
from heyan.datasets.split import split_by_group
from heyan.datasets.tiling import ChipParams, tile_photos
from heyan.models.card import sha256_file
from heyan.models.evaluate import EvalResult, Source, evaluate_sources, score_and_thresholds
from heyan.models.registry import load_detector, resolve_model


class AdaptError(ValueError):
    pass


@dataclass(frozen=True)
class AdaptParams:
    holdout: float = 0.25  # share of frame groups held back
    group: str | None = None  # regex on file names: frames of one moment (burst, minute) stay together
    max_train_frames: int | None = None  # learning curves: use only this many training frames
    epochs: int = 15
    minutes: float | None = 20.0  # wall-clock budget of the fine-tune (overrides epochs when reached)
    batch: int = 16
    seed: int = 0
    keep_empty: float = 0.3  # share of chips with nothing in them kept (the site's own background)
    min_gain: float = 0.0  # mAP50 the new model must gain over the base on the held-back frames


@dataclass
class AdaptResult:
    base: str
    train_frames: int
    holdout_frames: int
    train_chips: int
    base_metrics: dict[str, Any]
    new_metrics: dict[str, Any]
    thresholds: list[float]
    minutes: float
    better: bool
    onnx: str | None = None
    weights: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_site(photos: list[LabelledPhoto], p: AdaptParams) -> tuple[list[LabelledPhoto], list[LabelledPhoto]]:
    """Training and held-back frames. Fewer than two frames cannot be adapted and judged."""
    if len(photos) < 2:
        raise AdaptError(f"{len(photos)} labelled frame(s): a site needs at least 2 (one to learn from, one to judge on)")
    train, hold = split_by_group(photos, p.group, p.holdout, p.seed)
    if not hold or not train:
        raise AdaptError("the frames form a single group: give --group a pattern that separates them, or more frames")
    if p.max_train_frames is not None:
        train = train[: p.max_train_frames]
    return train, hold


def prepare_site_data(train: list[LabelledPhoto], hold: list[LabelledPhoto], work: Path, imgsz: int,
                      p: AdaptParams) -> tuple[Path, Path, int]:
    """Chips of the training frames (train) with the held-back frames whole (val: Ultralytics
    picks the best epoch on them sliced as chips), and the held-back frames as their own
    dataset for the sliced evaluation."""
    work.mkdir(parents=True, exist_ok=True)
    chip_p = ChipParams(size=imgsz, keep_empty=p.keep_empty)
    chips, problems = tile_photos(train, work / "chips" / "train", chip_p, p.seed)
    val_chips, _ = tile_photos(hold, work / "chips" / "val", chip_p, p.seed)
    if problems:
        raise AdaptError("; ".join(f"{x.file}: {x.reason}" for x in problems[:5]))
    if not chips:
        raise AdaptError("no training chip could be cut from the training frames")
    chips_yaml = write_yolo({"train": chips, "val": val_chips or chips[:1]}, work / "chips-data")
    hold_yaml = write_yolo({"val": hold}, work / "holdout")
    return chips_yaml, hold_yaml, len(chips)


def _holdout(hold_yaml: Path) -> Source:
    return Source("holdout", hold_yaml, "val", tile=True, merge="nms")


def evaluate_on_holdout(model: str, hold_yaml: Path, extra_zoo: Path | None = None) -> EvalResult:
    det = load_detector(model, extra=extra_zoo, conf=0.001)
    per, _ = evaluate_sources(det, [_holdout(hold_yaml)])
    return per["holdout"]


def adapt(photos: list[LabelledPhoto], base: str, work: Path, p: AdaptParams = AdaptParams(),
          extra_zoo: Path | None = None) -> AdaptResult:
    """Fine-tune ``base`` on the site's frames and judge it on the held-back ones."""
    from heyan.models.train import export_onnx, train

    onnx_base, card = resolve_model(base, extra_zoo)
    train_frames, hold = split_site(photos, p)
    chips_yaml, hold_yaml, n_chips = prepare_site_data(train_frames, hold, work, card.imgsz, p)
    base_res = evaluate_on_holdout(str(onnx_base), hold_yaml)
    t0 = time.monotonic()
    res = train(chips_yaml, work / "run", model_yaml=str(onnx_base.parent), imgsz=card.imgsz,
                epochs=p.epochs, batch=p.batch, seed=p.seed,
                time_hours=p.minutes / 60 if p.minutes else None, close_mosaic=min(5, max(0, p.epochs - 1)))
    minutes = (time.monotonic() - t0) / 60
    onnx_new = export_onnx(res.best_pt, work / "model" / "model.onnx", imgsz=card.imgsz)
    new_card = card.model_copy(deep=True)
    new_card.sha256 = sha256_file(onnx_new)
    new_card.save(onnx_new.with_name("model.json"))
    # One pass over the held-back frames gives the new model's score and its thresholds.
    fallback = list(card.thresholds or [0.25] * len(card.classes))
    new_res, thresholds = score_and_thresholds(load_detector(str(onnx_new), conf=0.001), [_holdout(hold_yaml)], fallback)
    better = new_res.map50 > base_res.map50 + p.min_gain
    return AdaptResult(base=card.name, train_frames=len(train_frames), holdout_frames=len(hold), train_chips=n_chips,
                       base_metrics=base_res.to_dict(), new_metrics=new_res.to_dict(), thresholds=thresholds,
                       minutes=round(minutes, 2), better=better, onnx=str(onnx_new), weights=str(res.best_pt))


def write_adapted_model(result: AdaptResult, name: str, zoo: Path, site: str, command: str,
                        extra_zoo: Path | None = None) -> Path:
    """Install the adapted model as ``zoo/name`` with its card: base, site, held-back
    figures of both models, thresholds chosen there."""
    if result.onnx is None:
        raise AdaptError("no adapted model to write")
    _, base_card = resolve_model(result.base, extra_zoo)
    out = zoo / name
    if out.exists() and any(out.iterdir()):
        raise AdaptError(f"{out} exists: choose another --name")
    out.mkdir(parents=True, exist_ok=True)
    onnx = out / "model.onnx"
    onnx.write_bytes(Path(result.onnx).read_bytes())
    card = base_card.model_copy(deep=True)
    card.name = name
    card.sha256 = sha256_file(onnx)
    card.created = datetime.now(UTC).isoformat(timespec="seconds")
    card.thresholds = result.thresholds
    card.training = {"base": result.base, "site": site, "command": command, "train_frames": result.train_frames,
                     "holdout_frames": result.holdout_frames, "train_chips": result.train_chips,
                     "minutes": result.minutes, "weights": result.weights}
    card.metrics = {f"site/{site}/holdout": result.new_metrics, f"site/{site}/holdout-base": result.base_metrics}
    card.notes = (f"Adapted from {result.base} to {site} on {result.train_frames} labelled frames; "
                  f"held-back frames: mAP50 {result.new_metrics['map50']:.3f} vs base {result.base_metrics['map50']:.3f}. "
                  "Thresholds chosen on the held-back frames (best F1 per class).")
    card.save(out / "model.json")
    (out / "adapt.json").write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


def comparison_lines(result: AdaptResult) -> list[str]:
    """Base vs new per class on the held-back frames, for the terminal and the server."""
    lines = [f"held-back frames: {result.holdout_frames}  (trained on {result.train_frames} frames, "
             f"{result.train_chips} chips, {result.minutes:.1f} min)",
             f"{'class':<16}{'n':>5}{'base AP50':>11}{'new AP50':>10}"]
    base = {c["name"]: c for c in result.base_metrics["per_class"]}
    for c in result.new_metrics["per_class"]:
        if c["instances"] == 0:
            continue
        lines.append(f"{c['name']:<16}{c['instances']:>5}{base[c['name']]['ap50']:>11.3f}{c['ap50']:>10.3f}")
    lines.append(f"{'mAP50':<16}{'':>5}{result.base_metrics['map50']:>11.3f}{result.new_metrics['map50']:>10.3f}")
    return lines


def site_photos(frames: list[tuple[Path, int, int, list[list[float]], list[str]]]) -> list[LabelledPhoto]:
    """Labelled frames from plain values (image, width, height, xyxy boxes, class names): how
    the server hands its hand-labelled frames over (``serve`` does not import ``datasets``)."""
    return [LabelledPhoto(Path(image), w, h, np.asarray(boxes, np.float32).reshape(-1, 4), list(names))
            for image, w, h, boxes, names in frames]
