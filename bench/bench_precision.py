"""int8 against float32 for one zoo model, in one run: milliseconds per 640×640 area of a
photo (the model's tiles batched as production batches them), the two sessions timed in
alternation so that load on the machine falls on both alike, and how far the int8 boxes
move from the float ones on real tiles (matched by IoU, in pixels of the tile).

    python bench/bench_precision.py --model heyan-det-v3 --threads 2 --repeats 40

The int8 model is made here with ``heyan.models.quantize`` from ``--calib`` folders (default:
the real training pictures in ../shared/data/train that no validation source uses). Accuracy
on the validation sources is ``heyan eval``'s job: the model card records both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchlib as bl  # noqa: E402

TAG = "precision"
AREA = 640
SHARED_TRAIN = bl.PROJECT_ROOT.parent / "shared" / "data" / "train"
DEFAULT_CALIB = [SHARED_TRAIN / "aerial-maritime" / "train", SHARED_TRAIN / "river-surface" / "RIVeR",
                 SHARED_TRAIN / "river-surface" / "ivy-usgs"]


def session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def timed_pair(paths: dict[str, Path], x: np.ndarray, threads: int, repeats: int) -> dict[str, np.ndarray]:
    sessions = {k: session(p, threads) for k, p in paths.items()}
    for s in sessions.values():
        for _ in range(3):
            s.run(None, {s.get_inputs()[0].name: x})
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for _ in range(repeats):  # A, B, A, B ...: a busy second hits both legs
        for k, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {s.get_inputs()[0].name: x})
            times[k].append(time.perf_counter() - t)
    return {k: np.array(v) * 1000 for k, v in times.items()}


def box_shift(base, other, tiles: list[np.ndarray]) -> dict:
    """Detections of both at the base's operating thresholds, matched one to one by IoU >= 0.5
    within a class: how far the int8 box edges are from the float ones, and what is lost."""
    from heyan.vision.nms import pairwise_overlap

    shifts, scores, lost, gained, total = [], [], 0, 0, 0
    for a, b in zip(base.predict_batch(tiles), other.predict_batch(tiles)):
        total += len(a)
        if len(a) == 0 or len(b) == 0:
            lost += len(a)
            gained += len(b)
            continue
        iou = pairwise_overlap(a.xyxy, b.xyxy)
        iou[a.class_ids[:, None] != b.class_ids[None, :]] = 0
        used: set[int] = set()
        for i in np.argsort(-a.scores):
            j = int(np.argmax(iou[i]))
            if iou[i, j] >= 0.5 and j not in used:
                used.add(j)
                shifts.append(float(np.abs(a.xyxy[i] - b.xyxy[j]).max()))
                scores.append(float(abs(a.scores[i] - b.scores[j])))
            else:
                lost += 1
        gained += len(b) - len(used)
    s = np.array(shifts) if shifts else np.zeros(1)
    return {"base_boxes": total, "matched": len(shifts), "lost": lost, "new": gained,
            "edge_shift_px_p50": round(float(np.median(s)), 2), "edge_shift_px_p95": round(float(np.percentile(s, 95)), 2),
            "edge_shift_px_max": round(float(s.max()), 2),
            "score_diff_p50": round(float(np.median(scores)) if scores else 0.0, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="heyan-det-v3")
    ap.add_argument("--calib", type=Path, action="append", default=None, help="calibration folder (repeat)")
    ap.add_argument("--calib-tiles", type=int, default=256)
    ap.add_argument("--keep-float", default="dfl", choices=["dfl", "outputs", "head"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--results-dir", type=Path, default=bl.RESULTS_DIR)
    ap.add_argument("--name", default="precision")
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)
    from heyan.models.quantize import calibration_tiles, quantize_zoo_model
    from heyan.models.registry import load_detector, resolve_model
    from heyan.vision.preprocess import to_input

    calib = args.calib or [d for d in DEFAULT_CALIB if d.is_dir()]
    if not calib:
        bl.log(TAG, f"no calibration folders (looked for {SHARED_TRAIN}); give --calib")
        return 2
    env = bl.env_info(args.threads)
    onnx_path, card = resolve_model(args.model)
    check_tiles = calibration_tiles(calib, card.imgsz, 64, seed=1)  # other places than the calibration's
    with tempfile.TemporaryDirectory() as tmp:
        bl.log(TAG, f"quantising {card.name} on {args.calib_tiles} tiles from {len(calib)} folder(s) ...")
        t0 = time.perf_counter()
        dest = quantize_zoo_model(args.model, "int8", calib, Path(tmp), args.calib_tiles, seed=0,
                                  keep_float=args.keep_float)
        int8_path = dest / "model.onnx"
        quantise_s = time.perf_counter() - t0
        per_area = (AREA // card.imgsz) ** 2
        x = to_input(check_tiles[:per_area])
        ms = timed_pair({"float32": onnx_path, "int8": int8_path}, x, args.threads, args.repeats)
        base = load_detector(args.model, threads=args.threads)
        other = load_detector(str(int8_path), threads=args.threads)
        agreement = box_shift(base, other, check_tiles)
        int8_mb = int8_path.stat().st_size / 1e6
    f32, i8 = (float(np.median(ms[k])) for k in ("float32", "int8"))
    out = {
        "model": card.name, "imgsz": card.imgsz, "keep_float": args.keep_float, "threads": args.threads, "tiles_per_640_area": per_area,
        "ms_per_640_area_p50": {"float32": round(f32, 1), "int8": round(i8, 1)},
        "int8_speedup": round(f32 / i8, 2),
        "size_mb": {"float32": round(onnx_path.stat().st_size / 1e6, 2), "int8": round(int8_mb, 2)},
        "quantise_seconds": round(quantise_s, 1),
        "calibration": {"folders": [str(c) for c in calib], "tiles": args.calib_tiles},
        "box_agreement_on_real_tiles": {"tiles": len(check_tiles), **agreement},
        "env": bl.finish_env(env, TAG),
    }
    print(bl.table([["float32", round(f32, 1), out["size_mb"]["float32"], ""],
                    ["int8", round(i8, 1), out["size_mb"]["int8"], f"{out['int8_speedup']}x"]],
                   ["precision", "ms / 640x640 area", "MB", "speed-up"]))
    print(f"int8 boxes vs float on {len(check_tiles)} real tiles: {agreement}")
    path = bl.write_result(args.name, out, args.results_dir)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
