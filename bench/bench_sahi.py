"""Heyan's tiled detect path against SAHI's ``get_sliced_prediction`` on the same photos
and the same ONNX model, in one run, alternating the two legs photo by photo.

  heyan  read the JPEG + ``vision.inference.detect_image`` (tile = model input, overlap 0.2,
         full-frame pass, greedy NMM / IoS 0.5), detector from ``heyan.commands.common.detector_settings``
         with one global confidence threshold;
  sahi   SAHI 0.12.8 ``get_sliced_prediction(path, ...)`` with the ``.onnx`` loaded through
         ``AutoDetectionModel(model_type="ultralytics")`` (Ultralytics' AutoBackend on
         onnxruntime), slice = model input, overlap 0.2, GREEDYNMM / IOS 0.5, other
         arguments at SAHI's defaults (so it also runs its full-frame standard pass).
Both legs start from the JPEG file, use the same confidence threshold (the lowest of the
model card's per-class thresholds) and the same number of onnxruntime threads.

    python bench/bench_sahi.py --photos 6 --model heyan-det-v1 --threads 2
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "bench_sahi"
TARGET_SPEEDUP = 2.0
OVERLAP = 0.2


def load_sahi(onnx: Path, card, conf: float, threads: int):
    """SAHI's model for the ONNX file, offline, with its onnxruntime session on ``threads``."""
    from heyan.models.offline import prepare_offline_ultralytics

    # A config folder of our own: never touch the one a training run is using.
    os.environ.setdefault("YOLO_VERBOSE", "False")  # no "Loading model.onnx ..." lines in the table
    prepare_offline_ultralytics(bl.CACHE_DIR / "yolo")
    logging.getLogger("sahi").setLevel(logging.ERROR)
    import onnxruntime as ort
    import torch
    from sahi import AutoDetectionModel

    torch.set_num_threads(threads)  # Ultralytics' pre/post-processing (letterbox, NMS) runs in torch
    # image_size: without it Ultralytics feeds a dynamic-shape ONNX at its default 640 px,
    # i.e. upsamples every 320 px slice 4x in area; the model's own input size is the fair setting.
    model = AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model_path=str(onnx), confidence_threshold=conf, device="cpu",
        image_size=card.imgsz, category_mapping={str(i): n for i, n in enumerate(card.classes)})
    # The predictor (and its onnxruntime session) is built on the first call.
    model.perform_inference(np.zeros((card.imgsz, card.imgsz, 3), np.uint8))
    note = "ORT default threads"
    try:
        backend = model.model.predictor.model.backend
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        backend.session = ort.InferenceSession(str(onnx), sess_options=opts, providers=["CPUExecutionProvider"])
        note = f"session rebuilt with intra_op_num_threads={threads} (same options as heyan's)"
    except AttributeError as exc:  # another Ultralytics layout: keep its session, say so
        bl.log(TAG, f"WARNING: could not set SAHI's onnxruntime threads ({exc}); it uses ORT's default")
    return model, note


def sahi_tiles(w: int, h: int, size: int) -> int:
    from sahi.slicing import get_slice_bboxes

    return len(get_slice_bboxes(h, w, size, size, False, OVERLAP, OVERLAP))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--conf", type=float, default=None,
                    help="confidence for both legs (default: the lowest of the model card's thresholds)")
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)

    from heyan.commands.common import detector_settings
    from heyan.pipeline.images import read_image
    from heyan.vision.inference import detect_image
    from heyan.vision.slicing import tile_grid

    env = bl.env_info(args.threads)
    photos = bl.ensure_photos(args.photos, args.seed, args.width, args.height, args.cache_dir, TAG)
    onnx, card = bl.resolve(args.model)
    conf = args.conf if args.conf is not None else (float(min(card.thresholds)) if card.thresholds else 0.25)
    settings = detector_settings(args.model)
    detector = settings.load(conf=conf)  # one global threshold, no per-class ones
    params = settings.slice_params(detector.imgsz)
    if params.tile != card.imgsz or params.overlap != OVERLAP:
        bl.log(TAG, f"WARNING: heyan settings give tile {params.tile} / overlap {params.overlap}; SAHI uses "
                    f"{card.imgsz} / {OVERLAP}")
    untiled_max_side = settings.min_tile_photo_side
    sahi_model, sahi_threads = load_sahi(onnx, card, conf, args.threads)
    import sahi
    from sahi.predict import get_sliced_prediction

    names = list(card.classes)
    bl.log(TAG, f"model {args.model} ({card.imgsz} px), confidence {conf:g} for both legs, {args.threads} thread(s); "
                f"SAHI {sahi.__version__}: {sahi_threads}")

    def leg_heyan(ph: bl.Photo) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, dict]:
        t0 = time.perf_counter()
        det = detect_image(read_image(ph.path), detector, params, tile=True, untiled_max_side=untiled_max_side)
        t = time.perf_counter() - t0
        return t, det.xyxy, det.scores, det.class_ids, {}

    def leg_sahi(ph: bl.Photo) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, dict]:
        t0 = time.perf_counter()
        res = get_sliced_prediction(
            str(ph.path), sahi_model, slice_height=card.imgsz, slice_width=card.imgsz,
            overlap_height_ratio=OVERLAP, overlap_width_ratio=OVERLAP,
            postprocess_type="GREEDYNMM", postprocess_match_metric="IOS", postprocess_match_threshold=0.5,
            verbose=0)
        t = time.perf_counter() - t0
        preds = res.object_prediction_list
        boxes = np.array([p.bbox.to_xyxy() for p in preds], np.float32).reshape(-1, 4)
        scores = np.array([p.score.value for p in preds], np.float32)
        cls = np.array([p.category.id for p in preds], np.int64)
        return t, boxes, scores, cls, {k: float(v) for k, v in res.durations_in_seconds.items()}

    legs = {"heyan": leg_heyan, "sahi": leg_sahi}
    bl.log(TAG, "warm-up (one photo per leg) ...")
    for fn in legs.values():
        fn(photos[0])

    recall = {k: bl.RecallCounter(names) for k in legs}
    agree = {"sahi": 0, "heyan": 0, "n_sahi": 0, "n_heyan": 0}
    per_photo = []
    for k, ph in enumerate(photos):
        order = ("heyan", "sahi") if k % 2 == 0 else ("sahi", "heyan")
        row: dict = {"seed": ph.seed, "gt_objects": len(ph.boxes), "order": list(order)}
        out = {}
        for leg in order:
            t, boxes, scores, cls, extra = out[leg] = legs[leg](ph)
            recall[leg].add(ph.boxes, ph.class_ids, boxes, scores, cls)
            row[f"{leg}_seconds"] = round(t, 4)
            row[f"{leg}_detections"] = len(boxes)
            if extra:
                row[f"{leg}_durations"] = {a: round(b, 4) for a, b in extra.items()}
        # Do the two legs find the same boxes? (same model: they should, whatever its quality)
        _, hb, hs, hc, _ = out["heyan"]
        _, sb, ss, sc, _ = out["sahi"]
        s_hit, h_hit = bl.match(sb, sc, hb, hs, hc, 0.5)
        agree["sahi"] += int(s_hit.sum())
        agree["heyan"] += int(h_hit.sum())
        agree["n_sahi"] += len(sb)
        agree["n_heyan"] += len(hb)
        per_photo.append(row)
        bl.log(TAG, f"photo {k + 1}/{len(photos)} seed {ph.seed}: heyan {row['heyan_seconds']:.2f} s "
                    f"({row['heyan_detections']} det), SAHI {row['sahi_seconds']:.2f} s ({row['sahi_detections']} det), "
                    f"{len(ph.boxes)} objects")

    n = len(photos)
    t_h = sum(p["heyan_seconds"] for p in per_photo)
    t_s = sum(p["sahi_seconds"] for p in per_photo)
    speedup = t_s / t_h if t_h else None
    rec = {k: v.result() for k, v in recall.items()}
    w, h = args.width, args.height
    result = {
        "benchmark": "sahi",
        "model": bl.model_info(args.model),
        "settings": {
            "photos": n, "threads": args.threads, "seed": args.seed, "photo_wxh": [w, h],
            "jpeg_quality": bl.JPEG_QUALITY, "confidence": conf, "overlap": OVERLAP,
            "heyan": {"tile": params.tile, "batch": params.batch, "full_frame": params.full_frame,
                      "merge": f"{params.merge}/{params.match_metric}/{params.match_threshold}",
                      "tiles_per_photo": len(tile_grid(w, h, params.tile, params.overlap)),
                      "ort_intra_op_threads": detector.session.get_session_options().intra_op_num_threads},
            "sahi": {"version": sahi.__version__, "slice": card.imgsz, "image_size": card.imgsz, "batch_size": 1,
                     "perform_standard_pred": True, "postprocess": "GREEDYNMM/IOS/0.5",
                     "tiles_per_photo": sahi_tiles(w, h, card.imgsz), "threads": sahi_threads,
                     "input": "JPEG path (SAHI decodes it)"},
        },
        "throughput": {
            "heyan_images_per_min": bl.per_min(n, t_h),
            "sahi_images_per_min": bl.per_min(n, t_s),
            "speedup_vs_sahi": round(speedup, 4) if speedup else None,
            "target_speedup": TARGET_SPEEDUP,
            "meets_target": bool(speedup is not None and speedup >= TARGET_SPEEDUP),
            "heyan_seconds_per_photo": round(t_h / n, 4),
            "sahi_seconds_per_photo": round(t_s / n, 4),
        },
        "recall": rec,
        "recall_delta_heyan_minus_sahi": {
            lvl: (round(rec["heyan"][lvl]["recall"] - rec["sahi"][lvl]["recall"], 4)
                  if rec["heyan"][lvl]["recall"] is not None and rec["sahi"][lvl]["recall"] is not None else None)
            for lvl in rec["heyan"]},
        # Boxes of one leg matched by a same-class box of the other at IoU >= 0.5.
        "agreement_iou_0.5": {
            "sahi_boxes_found_by_heyan": bl.ratio(agree["sahi"], agree["n_sahi"]),
            "heyan_boxes_found_by_sahi": bl.ratio(agree["heyan"], agree["n_heyan"]),
            "sahi_boxes": agree["n_sahi"], "heyan_boxes": agree["n_heyan"]},
        "per_photo": per_photo,
        "env": bl.finish_env(env, TAG),
    }
    path = bl.write_result(args.name or "sahi", result, args.results_dir)
    print_report(result)
    print(f"\nwritten {path}")
    return result


def print_report(r: dict) -> None:
    th, s = r["throughput"], r["settings"]
    print(f"\n== heyan vs SAHI {s['sahi']['version']}: {r['model']['name']} ({r['model']['imgsz']} px), "
          f"{s['photos']} photo(s) {s['photo_wxh'][0]}x{s['photo_wxh'][1]}, {s['threads']} thread(s), "
          f"confidence {s['confidence']:g} ==")
    print(bl.table([
        ["heyan (read JPEG + tiled detect)", th["heyan_images_per_min"], th["heyan_seconds_per_photo"],
         s["heyan"]["tiles_per_photo"]],
        ["SAHI get_sliced_prediction (+ standard pass)", th["sahi_images_per_min"], th["sahi_seconds_per_photo"],
         s["sahi"]["tiles_per_photo"]],
        [f"heyan / SAHI speed (target >= {th['target_speedup']:g}x)", th["speedup_vs_sahi"],
         "PASS" if th["meets_target"] else "FAIL", ""],
    ], ["throughput", "images/min", "s/photo", "tiles"]))
    print()
    rows = bl.recall_rows("heyan", r["recall"]["heyan"]) + bl.recall_rows("SAHI", r["recall"]["sahi"])
    print(bl.table(rows, bl.recall_header(r["recall"]["heyan"])))
    print("recall delta heyan - SAHI: " + ", ".join(f"{k}: {v}" for k, v in r["recall_delta_heyan_minus_sahi"].items()))
    a = r["agreement_iou_0.5"]
    print(f"box agreement (IoU >= 0.5, same class): {a['sahi_boxes_found_by_heyan']} of SAHI's {a['sahi_boxes']} boxes "
          f"found by heyan, {a['heyan_boxes_found_by_sahi']} of heyan's {a['heyan_boxes']} found by SAHI")
    if "warning" in r["env"]:
        print(f"\nWARNING: {r['env']['warning']}")


if __name__ == "__main__":
    main()
