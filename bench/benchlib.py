"""Shared pieces of the benchmarks: arguments, the cached 20 MP test photos with their
ground truth, recall against that ground truth, environment notes, result files.

Scripts in this folder import it as a plain module (``python bench/bench_detect.py`` puts
``bench/`` first on ``sys.path``)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"

DEFAULT_MODEL = "heyan-det-v1"
DEFAULT_PHOTOS = 6
DEFAULT_THREADS = 2
DEFAULT_SEED = 1000
PHOTO_W, PHOTO_H = 5280, 3956  # 20.9 MP, a DJI Mavic 3 / Phantom 4 RTK frame
JPEG_QUALITY = 95
IOU_LEVELS = (0.5, 0.3)


# -- arguments / environment -----------------------------------------------------------------
def add_common_args(p: argparse.ArgumentParser, photos: int = DEFAULT_PHOTOS) -> argparse.ArgumentParser:
    p.add_argument("--photos", type=int, default=photos, help=f"number of generated photos (default {photos})")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"zoo name or model folder (default {DEFAULT_MODEL})")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help="onnxruntime intra-op threads (default 2 = this machine's cores)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the first photo; photo i uses seed+i")
    p.add_argument("--width", type=int, default=PHOTO_W, help="photo width (default 5280)")
    p.add_argument("--height", type=int, default=PHOTO_H, help="photo height (default 3956)")
    p.add_argument("--name", default=None, help="result file name (bench/results/<name>.json)")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    return p


def setup_env(threads: int) -> None:
    """Must run before anything calls ``heyan.settings.get_settings`` (it is cached): the
    detector the CLI's ``heyan.commands.common.detector_settings`` builds takes its threads from
    ``HEYAN_ORT_THREADS``. Subprocesses (``heyan detect``) inherit the variable."""
    os.environ["HEYAN_ORT_THREADS"] = str(threads)
    try:
        from heyan.settings import get_settings

        get_settings.cache_clear()
    except ImportError:
        pass


def log(tag: str, msg: str) -> None:
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


def env_info(threads: int) -> dict:
    import cv2
    import onnxruntime

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "threads": threads, "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__, "opencv": cv2.__version__, "numpy": np.__version__,
        "loadavg_start": list(os.getloadavg()),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def finish_env(env: dict, tag: str) -> dict:
    env["loadavg_end"] = list(os.getloadavg())
    busy = max(env["loadavg_start"][0], env["loadavg_end"][0])
    # Other work on the machine (a training run) steals cores from onnxruntime: say so.
    if busy > 0.5 + 0.25 * (env.get("cores") or 1):
        env["warning"] = (f"machine was busy (1-min load average up to {busy:.1f} on {env.get('cores')} cores): "
                          "absolute figures are unreliable; ratios within this run are less affected")
        log(tag, "WARNING: " + env["warning"])
    return env


def resolve(model: str):
    """(onnx_path, card) through the same zoo folders as the CLI (``HEYAN_ZOO_DIR`` first)."""
    from heyan.models.registry import resolve_model
    from heyan.settings import get_settings

    return resolve_model(model, extra=get_settings().detector.zoo_dir)


def model_info(model: str) -> dict:
    onnx, card = resolve(model)
    return {"name": card.name, "version": card.version, "architecture": card.architecture, "imgsz": card.imgsz,
            "classes": list(card.classes), "thresholds": list(card.thresholds) if card.thresholds else None,
            "onnx": str(onnx), "sha256": card.sha256[:16]}


# -- cached photos ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Photo:
    seed: int
    path: Path
    width: int
    height: int
    boxes: np.ndarray  # (N, 4) xyxy pixels
    class_ids: np.ndarray  # (N,)


def generator_fingerprint() -> str:
    """Hash of the synthetic generator's source: a changed generator re-renders the cache."""
    h = hashlib.sha256()
    for f in sorted((PROJECT_ROOT / "datasets" / "synthetic").glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _photo_stem(seed: int, width: int, height: int) -> str:
    return f"photo-{width}x{height}-q{JPEG_QUALITY}-seed{seed}"


def ensure_photos(n: int, seed: int = DEFAULT_SEED, width: int = PHOTO_W, height: int = PHOTO_H,
                  cache_dir: Path = CACHE_DIR, tag: str = "bench") -> list[Photo]:
    """The ``n`` test photos as JPEG files + ground truth, rendered once (≈13 s each at
    20 MP) and cached under ``bench/.cache/`` keyed by seed and size."""
    import cv2

    if n < 1:
        raise SystemExit("--photos must be at least 1")
    cache_dir.mkdir(parents=True, exist_ok=True)
    fp = generator_fingerprint()
    photos: list[Photo] = []
    for i in range(n):
        s = seed + i
        stem = _photo_stem(s, width, height)
        jpg, gt = cache_dir / f"{stem}.jpg", cache_dir / f"{stem}.json"
        meta = None
        if jpg.is_file() and gt.is_file():
            try:
                meta = json.loads(gt.read_text())
            except ValueError:
                meta = None
            if meta is not None and meta.get("generator") != fp:
                log(tag, f"photo seed {s}: generator changed since it was cached, re-rendering")
                meta = None
        if meta is None:
            from heyan.datasets.synthetic.large import render_large_photo

            log(tag, f"rendering photo {i + 1}/{n} (seed {s}, {width}x{height}) ...")
            t0 = time.perf_counter()
            sample = render_large_photo(np.random.default_rng(s), width, height)
            tmp = jpg.with_suffix(".tmp.jpg")
            if not cv2.imwrite(str(tmp), sample.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
                raise OSError(f"cannot write {tmp}")
            tmp.replace(jpg)
            meta = {"seed": s, "width": width, "height": height, "jpeg_quality": JPEG_QUALITY, "generator": fp,
                    "boxes": np.round(sample.boxes.astype(np.float64), 2).tolist(),
                    "class_ids": [int(c) for c in sample.class_ids]}
            tmp_gt = gt.with_suffix(".json.tmp")
            tmp_gt.write_text(json.dumps(meta))
            tmp_gt.replace(gt)
            log(tag, f"  rendered in {time.perf_counter() - t0:.1f} s: {len(sample.boxes)} objects, "
                     f"{jpg.stat().st_size / 1e6:.1f} MB JPEG")
        boxes = np.asarray(meta["boxes"], np.float32).reshape(-1, 4)
        photos.append(Photo(s, jpg, width, height, boxes, np.asarray(meta["class_ids"], np.int64)))
    return photos


def tiny_photo(cache_dir: Path = CACHE_DIR, size: tuple[int, int] = (640, 480)) -> Path:
    """A small JPEG (run untiled) for baseline figures."""
    import cv2

    cache_dir.mkdir(parents=True, exist_ok=True)
    p = cache_dir / f"tiny-{size[0]}x{size[1]}.jpg"
    if not p.is_file():
        rng = np.random.default_rng(7)
        from heyan.datasets.synthetic.scenes import render_drone_scene

        img = render_drone_scene(rng, size=max(size), oblique=False).image
        img = cv2.resize(img, size)
        tmp = p.with_suffix(".tmp.jpg")
        cv2.imwrite(str(tmp), img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        tmp.replace(p)
    return p


# -- recall against ground truth ------------------------------------------------------------
def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from heyan.vision.nms import pairwise_overlap

    return pairwise_overlap(a.astype(np.float64), b.astype(np.float64))


def match(gt_boxes: np.ndarray, gt_cls: np.ndarray, boxes: np.ndarray, scores: np.ndarray, cls: np.ndarray,
          iou_thr: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one greedy matching (COCO style): predictions by descending score, each takes
    the unmatched same-class GT box it overlaps most, if IoU >= ``iou_thr``.
    Returns (gt_matched bool[N_gt], pred_matched bool[N_pred])."""
    gt_hit = np.zeros(len(gt_boxes), bool)
    pred_hit = np.zeros(len(boxes), bool)
    if len(gt_boxes) == 0 or len(boxes) == 0:
        return gt_hit, pred_hit
    ious = iou_matrix(boxes, gt_boxes)
    ious[cls[:, None] != gt_cls[None, :]] = 0.0
    for p in np.argsort(-scores, kind="stable"):
        row = np.where(gt_hit, -1.0, ious[p])
        g = int(row.argmax())
        if row[g] >= iou_thr:
            gt_hit[g] = True
            pred_hit[p] = True
    return gt_hit, pred_hit


class RecallCounter:
    """Accumulates matches over photos; per class and overall, at each IoU level."""

    def __init__(self, class_names: Sequence[str], iou_levels: Sequence[float] = IOU_LEVELS) -> None:
        self.names = list(class_names)
        self.levels = list(iou_levels)
        k = len(self.names)
        self.gt = np.zeros(k, np.int64)
        self.pred = np.zeros(k, np.int64)
        self.tp = {t: np.zeros(k, np.int64) for t in self.levels}
        self.pred_tp = {t: np.zeros(k, np.int64) for t in self.levels}

    def add(self, gt_boxes: np.ndarray, gt_cls: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
            cls: np.ndarray) -> None:
        k = len(self.names)
        gt_cls = np.asarray(gt_cls, np.int64)
        cls = np.asarray(cls, np.int64)
        self.gt += np.bincount(gt_cls[gt_cls < k], minlength=k)
        self.pred += np.bincount(cls[cls < k], minlength=k)
        for t in self.levels:
            gh, ph = match(gt_boxes, gt_cls, np.asarray(boxes, np.float32), np.asarray(scores, np.float32), cls, t)
            self.tp[t] += np.bincount(gt_cls[gh], minlength=k)[:k]
            self.pred_tp[t] += np.bincount(cls[ph], minlength=k)[:k]

    def result(self) -> dict:
        out: dict = {}
        for t in self.levels:
            per_class = {}
            for i, name in enumerate(self.names):
                per_class[name] = {
                    "gt": int(self.gt[i]), "tp": int(self.tp[t][i]), "predictions": int(self.pred[i]),
                    "recall": ratio(self.tp[t][i], self.gt[i]), "precision": ratio(self.pred_tp[t][i], self.pred[i]),
                }
            gt, tp, pred, ptp = self.gt.sum(), self.tp[t].sum(), self.pred.sum(), self.pred_tp[t].sum()
            out[f"iou_{t:g}"] = {"recall": ratio(tp, gt), "precision": ratio(ptp, pred), "gt": int(gt),
                                 "tp": int(tp), "predictions": int(pred), "per_class": per_class}
        return out


def ratio(a: float, b: float) -> float | None:
    return round(float(a) / float(b), 4) if b else None


# -- output ----------------------------------------------------------------------------------
def write_result(name: str, data: dict, results_dir: Path = RESULTS_DIR) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def table(rows: Sequence[Sequence[object]], header: Sequence[str] | None = None) -> str:
    cells = [[_fmt(c) for c in r] for r in ([header] if header else []) + list(rows)]
    widths = [max(len(r[i]) for r in cells if i < len(r)) for i in range(max(len(r) for r in cells))]
    lines = []
    for j, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
        if header and j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def recall_rows(label: str, rec: dict) -> list[list[object]]:
    """Table rows: overall and per class recall at each IoU level."""
    levels = list(rec)
    first = rec[levels[0]]
    rows = [[f"{label}: all", first["gt"], first["predictions"], *[rec[k]["recall"] for k in levels],
             *[rec[k]["precision"] for k in levels]]]
    for cname, c in first["per_class"].items():
        rows.append([f"  {cname}", c["gt"], c["predictions"], *[rec[k]["per_class"][cname]["recall"] for k in levels],
                     *[rec[k]["per_class"][cname]["precision"] for k in levels]])
    return rows


def recall_header(rec: dict) -> list[str]:
    levels = [k.replace("iou_", "") for k in rec]
    return ["recall vs ground truth", "gt", "pred", *[f"R@{t}" for t in levels], *[f"P@{t}" for t in levels]]


def per_min(n: int, seconds: float) -> float | None:
    return round(60.0 * n / seconds, 3) if seconds > 0 else None


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
