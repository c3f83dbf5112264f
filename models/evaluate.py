"""Detection metrics computed with Heyan's own ONNX runtime: COCO-style mAP50 and
mAP50-95 (101-point interpolation), per-class precision/recall at the best mean-F1
score, the same definitions as Ultralytics' val so the two can be cross-checked."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heyan.datasets.yolo import iter_split
from heyan.vision.detections import Detections
from heyan.vision.nms import pairwise_overlap

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


@dataclass
class ClassMetrics:
    name: str
    instances: int
    precision: float
    recall: float
    ap50: float
    ap50_95: float


@dataclass
class EvalResult:
    images: int
    instances: int
    map50: float
    map50_95: float
    precision: float
    recall: float
    per_class: list[ClassMetrics] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    # Predictions above the operating threshold that match no object (hard negatives:
    # glint, foam, bare soil), per image.
    false_positives_per_image: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("map50", "map50_95", "precision", "recall"):
            d[k] = round(float(d[k]), 4)
        for c in d["per_class"]:
            for k in ("precision", "recall", "ap50", "ap50_95"):
                c[k] = round(float(c[k]), 4)
        return d


def match_predictions(pred: Detections, gt_boxes: np.ndarray, gt_cls: np.ndarray) -> np.ndarray:
    """(N_pred, 10) bool: is each prediction a true positive at each IoU threshold?
    Highest-IoU pairs first, each ground truth and prediction used once (Ultralytics); a
    prediction that matched nothing better keeps its pair by score order."""
    correct = np.zeros((len(pred), len(IOU_THRESHOLDS)), bool)
    if len(pred) == 0 or len(gt_boxes) == 0:
        return correct
    # Ties between equal IoUs go to the lower index: make that the higher score, whatever
    # order the caller used (Ultralytics relies on NMS output being score-sorted).
    order = np.argsort(-pred.scores, kind="stable")
    if not np.array_equal(order, np.arange(len(pred))):
        return match_predictions(pred[order], gt_boxes, gt_cls)[np.argsort(order)]
    iou = pairwise_overlap(gt_boxes.astype(np.float64), pred.xyxy.astype(np.float64), "iou")
    iou = iou * (gt_cls[:, None] == pred.class_ids[None, :])
    for i, thr in enumerate(IOU_THRESHOLDS):
        matches = np.array(np.nonzero(iou >= thr)).T
        if len(matches):
            if len(matches) > 1:
                matches = matches[iou[matches[:, 0], matches[:, 1]].argsort()[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
            correct[matches[:, 1].astype(int), i] = True
    return correct


def compute_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    mrec = np.concatenate(([0.0], recall, [recall[-1] if len(recall) else 1.0], [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0], [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return float(np.trapezoid(np.interp(x, mrec, mpre), x))


def _smooth(y: np.ndarray, f: float = 0.05) -> np.ndarray:
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]), 0)
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


def ap_per_class(tp: np.ndarray, conf: np.ndarray, pred_cls: np.ndarray, target_cls: np.ndarray, nc: int,
                 eps: float = 1e-16) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class (nc,): precision, recall at the best mean-F1 confidence; AP (nc, 10)."""
    order = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
    x = np.linspace(0, 1, 1000)
    ap = np.zeros((nc, tp.shape[1]))
    p_curve, r_curve = np.zeros((nc, 1000)), np.zeros((nc, 1000))
    present = np.zeros(nc, bool)
    for c in range(nc):
        n_l = int((target_cls == c).sum())
        sel = pred_cls == c
        present[c] = n_l > 0
        if sel.sum() == 0 or n_l == 0:
            continue
        fpc = (1 - tp[sel]).cumsum(0)
        tpc = tp[sel].cumsum(0)
        recall = tpc / (n_l + eps)
        precision = tpc / (tpc + fpc)
        r_curve[c] = np.interp(-x, -conf[sel], recall[:, 0], left=0)
        p_curve[c] = np.interp(-x, -conf[sel], precision[:, 0], left=1)
        for j in range(tp.shape[1]):
            ap[c, j] = compute_ap(recall[:, j], precision[:, j])
    f1 = 2 * p_curve * r_curve / (p_curve + r_curve + eps)
    i = int(_smooth(f1[present].mean(0), 0.1).argmax()) if present.any() else 0
    return p_curve[:, i], r_curve[:, i], ap, present


def confusion_summary(pred: Detections, gt_boxes: np.ndarray, gt_cls: np.ndarray, names: list[str],
                      conf: float, iou: float = 0.5) -> dict[tuple[str, str], int]:
    """Counts of (true class, predicted class) for predictions above ``conf``, with
    'background' for a missed object or a prediction on nothing."""
    out: dict[tuple[str, str], int] = {}
    p = pred.filter(pred.scores >= conf)
    used = np.zeros(len(p), bool)
    if len(p) and len(gt_boxes):
        ov = pairwise_overlap(gt_boxes, p.xyxy, "iou")
    for g in range(len(gt_boxes)):
        j = -1
        if len(p):
            cand = np.where(~used & (ov[g] >= iou))[0]
            if len(cand):
                j = int(cand[np.argmax(ov[g, cand])])
        key = (names[int(gt_cls[g])], names[int(p.class_ids[j])] if j >= 0 else "background")
        if j >= 0:
            used[j] = True
        out[key] = out.get(key, 0) + 1
    for j in np.nonzero(~used)[0]:
        key = ("background", names[int(p.class_ids[j])])
        out[key] = out.get(key, 0) + 1
    return out


@dataclass
class _Stats:
    """What scoring needs from each image, kept so sources can be scored apart and pooled."""
    tp: list[np.ndarray] = field(default_factory=list)
    conf: list[np.ndarray] = field(default_factory=list)
    pred_cls: list[np.ndarray] = field(default_factory=list)
    target_cls: list[np.ndarray] = field(default_factory=list)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    images: int = 0

    def add(self, other: _Stats) -> None:
        self.tp += other.tp
        self.conf += other.conf
        self.pred_cls += other.pred_cls
        self.target_cls += other.target_cls
        self.images += other.images
        for k, v in other.confusion.items():
            self.confusion[k] = self.confusion.get(k, 0) + v


def _collect(detector: Any, data: Path, split: str, tile: bool, progress: bool, batch: int,
             confusion_conf: float, merge: str = "nms", tile_size: int | None = None) -> _Stats:
    import cv2
    from tqdm import tqdm

    names = list(detector.class_names)
    items = iter_split(Path(data), split)
    st = _Stats(images=len(items))
    if tile:
        from heyan.vision.inference import detect_image
        from heyan.vision.slicing import SliceParams

        # Tiles are merged by NMS for mAP by default: greedy merging (the production
        # default) at mAP's 0.001 threshold joins the many low-score boxes into oversized
        # unions and measured 0.03 where NMS measured 0.39 on the same predictions.
        # A tile smaller than the model's input is enlarged to it: small objects get more pixels.
        size = tile_size or detector.imgsz
        if merge == "nms":
            params = SliceParams(tile=size, merge="nms", match_metric="iou", match_threshold=0.5)
        else:
            params = SliceParams(tile=size)
    bar = tqdm(total=len(items), desc=f"eval {Path(data).parent.name}:{split}", unit="img", file=sys.stderr,
               disable=not progress)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        images = [cv2.imread(str(it.image)) for it in chunk]
        for it, im in zip(chunk, images):
            if im is None:
                raise ValueError(f"{it.image}: cannot read image")
        if tile:
            # Slice whatever the image size: `detect_image`'s default leaves photos up to
            # min_tile_photo_side whole, which silently made `--tile` a no-op on 800x600 tiles.
            preds = [detect_image(im, detector, params, untiled_max_side=0) for im in images]
        else:
            preds = detector.predict_batch(images, multi_label=True)
        for it, im, pred in zip(chunk, images, preds):
            h, w = im.shape[:2]
            gt = it.boxes_xyxy(w, h)
            st.tp.append(match_predictions(pred, gt, it.class_ids))
            st.conf.append(pred.scores)
            st.pred_cls.append(pred.class_ids)
            st.target_cls.append(it.class_ids)
            for k, v in confusion_summary(pred, gt, it.class_ids, names, confusion_conf).items():
                st.confusion[k] = st.confusion.get(k, 0) + v
        bar.update(len(chunk))
    bar.close()
    return st


def _score(st: _Stats, names: list[str]) -> EvalResult:
    nc = len(names)
    tp = np.concatenate(st.tp) if st.tp else np.zeros((0, 10), bool)
    conf = np.concatenate(st.conf) if st.conf else np.zeros(0)
    pcls = np.concatenate(st.pred_cls) if st.pred_cls else np.zeros(0, np.int64)
    tcls = np.concatenate(st.target_cls) if st.target_cls else np.zeros(0, np.int64)
    p, r, ap, present = ap_per_class(tp.astype(np.float64), conf, pcls, tcls, nc)
    per_class = [
        ClassMetrics(names[c], int((tcls == c).sum()), float(p[c]), float(r[c]), float(ap[c, 0]), float(ap[c].mean()))
        for c in range(nc)
    ]
    sel = present
    conf_nested: dict[str, dict[str, int]] = {}
    for (t, pr), v in sorted(st.confusion.items()):
        conf_nested.setdefault(t, {})[pr] = v
    false_pos = sum(v for (t, _), v in st.confusion.items() if t == "background")
    return EvalResult(
        images=st.images, instances=int(len(tcls)),
        map50=float(ap[sel, 0].mean()) if sel.any() else 0.0,
        map50_95=float(ap[sel].mean()) if sel.any() else 0.0,
        precision=float(p[sel].mean()) if sel.any() else 0.0,
        recall=float(r[sel].mean()) if sel.any() else 0.0,
        per_class=per_class, confusion=conf_nested,
        false_positives_per_image=round(false_pos / st.images, 3) if st.images else 0.0,
    )


def evaluate_dataset(detector: Any, data: Path, split: str = "val", tile: bool = False, progress: bool = False,
                     batch: int = 8, confusion_conf: float = 0.25, merge: str = "nms") -> EvalResult:
    """Run ``detector`` (an ``OnnxDetector``) on every image of the split and score it.
    ``tile``: sliced inference on every image, tiles merged by ``merge`` (nms | nmm)."""
    st = _collect(detector, data, split, tile, progress, batch, confusion_conf, merge)
    return _score(st, list(detector.class_names))


@dataclass
class Source:
    name: str
    data: Path
    split: str = "val"
    tile: bool = False
    merge: str = "nms"
    tile_size: int | None = None  # None: the model's input size


def evaluate_sources(detector: Any, sources: list[Source], progress: bool = False, batch: int = 8,
                     confusion_conf: float = 0.25) -> tuple[dict[str, EvalResult], EvalResult]:
    """Score each source (a camera, a site, a labelling batch) on its own, and all pooled:
    one mean over different sources hides where the model fails."""
    names = list(detector.class_names)
    pooled = _Stats()
    per: dict[str, EvalResult] = {}
    for src in sources:
        st = _collect(detector, src.data, src.split, src.tile, progress, batch, confusion_conf, src.merge,
                      src.tile_size)
        per[src.name] = _score(st, names)
        pooled.add(st)
    return per, _score(pooled, names)


def confusion_lines(result: EvalResult, top: int = 8) -> list[str]:
    """The confusion summary in words: which classes are taken for which, what is missed,
    and what is found on nothing (glint, foam, bare soil) at the operating threshold."""
    swaps: list[tuple[int, str]] = []
    missed: list[tuple[int, str]] = []
    ghosts: list[tuple[int, str]] = []
    for true, row in result.confusion.items():
        for pred, n in row.items():
            if true == "background":
                ghosts.append((n, f"{n} × {pred} on nothing (background)"))
            elif pred == "background":
                missed.append((n, f"{n} × {true} missed"))
            elif pred != true:
                swaps.append((n, f"{n} × {true} taken for {pred}"))
    lines = [t for _, t in sorted(swaps, reverse=True)[:top]]
    lines += [t for _, t in sorted(missed, reverse=True)[:top]]
    lines += [t for _, t in sorted(ghosts, reverse=True)[:top]]
    return lines


def f1_thresholds(st: _Stats, nc: int, fallback: list[float], floor: float = 0.05, ceiling: float = 0.9) -> list[float]:
    """Per class, the score threshold that maximises F1 (IoU 0.5) on these images: the
    operating point of a model on the frames of its own site. A class with no labelled
    object or no prediction here keeps its ``fallback``."""
    tp = np.concatenate(st.tp)[:, 0] if st.tp else np.zeros(0, bool)
    conf = np.concatenate(st.conf) if st.conf else np.zeros(0)
    pcls = np.concatenate(st.pred_cls) if st.pred_cls else np.zeros(0, np.int64)
    tcls = np.concatenate(st.target_cls) if st.target_cls else np.zeros(0, np.int64)
    out = list(fallback)
    for c in range(nc):
        n_gt = int((tcls == c).sum())
        sel = pcls == c
        if n_gt == 0 or not sel.any():
            continue
        order = np.argsort(-conf[sel], kind="stable")
        c_conf, c_tp = conf[sel][order], tp[sel][order].astype(np.float64)
        tps = np.cumsum(c_tp)
        precision = tps / np.arange(1, len(tps) + 1)
        recall = tps / n_gt
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
        best = int(np.argmax(f1))
        out[c] = float(np.clip(round(float(c_conf[best]), 3), floor, ceiling))
    return out


def score_and_thresholds(detector: Any, sources: list[Source], fallback: list[float],
                         batch: int = 8) -> tuple[EvalResult, list[float]]:
    """The pooled score of the sources and ``f1_thresholds`` over them, from one pass of
    the detector (run at its lowest threshold)."""
    pooled = _Stats()
    for src in sources:
        pooled.add(_collect(detector, src.data, src.split, src.tile, False, batch, 0.25, src.merge, src.tile_size))
    names = list(detector.class_names)
    return _score(pooled, names), f1_thresholds(pooled, len(names), fallback)

