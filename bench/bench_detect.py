"""Heyan's tiled detect path on generated 20 MP photos, against the raw onnxruntime ceiling.

Per photo, alternating the order of the two legs to cancel drift:
  heyan    read the JPEG (``pipeline.images.read_image``) + ``vision.inference.detect_image``
           with tiling, detector and slice parameters exactly as ``heyan detect`` builds them;
  ceiling  ``session.run`` alone on the same batches (the same tiles, batch size and the
           full-frame pass input), pre-built as NCHW float32 outside the timer.
Also: JPEG decode cost (full and libjpeg-reduced 1/2, 1/4, 1/8), the per-photo time
breakdown of the heyan leg, and recall against the generated ground truth at the model
card's per-class thresholds.

    python bench/bench_detect.py --photos 6 --model heyan-det-v1 --threads 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "bench_detect"
TARGET_RATIO = 0.85
STAGES = ("decode_jpeg", "preprocess", "session_run", "postprocess", "merge", "other")


class StageTimer:
    """Times the stages of the detect path by wrapping the module-level functions it calls
    (about 5 µs of bookkeeping per tile batch; the path itself is not modified)."""

    def __init__(self) -> None:
        self.t: dict[str, float] = defaultdict(float)

    @contextmanager
    def installed(self) -> Iterator[StageTimer]:
        import cv2

        import heyan.vision.detector as vd
        import heyan.vision.slicing as vs

        saved: list[tuple[object, str, object]] = []

        def timed(fn, key):
            def wrapper(*a, **k):
                t0 = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    self.t[key] += time.perf_counter() - t0
            return wrapper

        def patch(mod, name, key):
            fn = getattr(mod, name)
            saved.append((mod, name, fn))
            setattr(mod, name, timed(fn, key))

        patch(vd, "letterbox", "preprocess")
        patch(vd, "to_input", "preprocess")
        patch(vd, "decode_yolo", "postprocess")
        patch(vd, "unletterbox", "postprocess")
        patch(vs, "merge_detections", "merge")

        class _Cv2:  # the full-frame pass's downscale in sliced_predict
            resize = staticmethod(timed(cv2.resize, "preprocess"))

            def __getattr__(self, name):
                return getattr(cv2, name)

        saved.append((vs, "cv2", vs.cv2))
        vs.cv2 = _Cv2()
        try:
            yield self
        finally:
            for mod, name, fn in reversed(saved):
                setattr(mod, name, fn)

    def take(self) -> dict[str, float]:
        out = dict(self.t)
        self.t.clear()
        return out


def ceiling_batches(image: np.ndarray, detector, params) -> list[np.ndarray]:
    """The NCHW float32 batches ``sliced_predict`` hands to ``detector.run`` for this image:
    tiles of ``tile_grid`` in grid order, ``params.batch`` at a time, then the downscaled
    full-frame pass, each letterboxed to the model input as ``predict_batch`` does."""
    import cv2

    from heyan.vision.preprocess import letterbox, to_input
    from heyan.vision.slicing import batched, tile_grid

    size = detector.imgsz
    h, w = image.shape[:2]
    grid = tile_grid(w, h, params.tile, params.overlap)

    def prep(ims: list[np.ndarray]) -> np.ndarray:
        return to_input([im if im.shape[:2] == (size, size) else letterbox(im, size)[0] for im in ims])

    batches = [prep([image[grid[i, 1]:grid[i, 3], grid[i, 0]:grid[i, 2]] for i in idx])
               for idx in batched(list(range(len(grid))), params.batch)]
    if params.full_frame and len(grid) > 1:
        scale = params.tile / max(h, w)
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        batches.append(prep([small]))
    return batches


def run_ceiling(detector, batches: list[np.ndarray]) -> float:
    sess, name = detector.session, detector.input_name
    if not detector.dynamic_batch:  # a fixed-batch model: detector.run splits the same way
        batches = [b[i:i + 1] for b in batches for i in range(len(b))]
    t0 = time.perf_counter()
    for b in batches:
        sess.run(None, {name: b})
    return time.perf_counter() - t0


def verify_batches(image: np.ndarray, detector, params, untiled_max_side: int) -> dict:
    """Record what the real path sends to ``detector.run`` and check the ceiling's batches
    are the same arrays (also serves as the heyan leg's warm-up)."""
    from heyan.vision.inference import detect_image

    recorded: list[np.ndarray] = []
    real_run = detector.run

    def recording_run(batch):
        recorded.append(batch.copy())
        return real_run(batch)

    detector.run = recording_run
    try:
        detect_image(image, detector, params, tile=True, untiled_max_side=untiled_max_side)
    finally:
        del detector.run
    built = ceiling_batches(image, detector, params)
    same = len(built) == len(recorded) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(built, recorded))
    return {"verified": bool(same), "batches": len(recorded), "batch_sizes": sorted({len(b) for b in recorded}),
            "images": int(sum(len(b) for b in recorded))}


def decode_costs(photos: list[bl.Photo], repeats: int) -> dict:
    from heyan.pipeline.images import read_image

    out: dict[str, list[float]] = {}
    shapes: dict[str, list[int]] = {}
    for ph in photos:
        for r in (1, 2, 4, 8):
            key = "full" if r == 1 else f"reduced_{r}"
            ts = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                img = read_image(ph.path, reduce=r)
                ts.append(time.perf_counter() - t0)
            out.setdefault(key, []).append(float(np.median(ts)))
            shapes[key] = [int(img.shape[1]), int(img.shape[0])]
            del img
    res = {k: {"seconds_per_photo": round(float(np.mean(v)), 4), "decoded_wxh": shapes[k]} for k, v in out.items()}
    full = res["full"]["seconds_per_photo"]
    for v in res.values():
        v["speedup_vs_full"] = round(full / v["seconds_per_photo"], 2) if v["seconds_per_photo"] else None
    return res


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--decode-repeats", type=int, default=3, help="timed decodes per photo and mode (median kept)")
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)

    from heyan.commands.common import detector_settings
    from heyan.pipeline.images import read_image
    from heyan.vision.inference import detect_image

    env = bl.env_info(args.threads)
    photos = bl.ensure_photos(args.photos, args.seed, args.width, args.height, args.cache_dir, TAG)
    settings = detector_settings(args.model)
    detector = settings.load()  # threads from HEYAN_ORT_THREADS, like the CLI
    params = settings.slice_params(detector.imgsz)
    untiled_max_side = settings.min_tile_photo_side
    if max(args.width, args.height) <= untiled_max_side:
        raise SystemExit(f"photos of {args.width}x{args.height} are run untiled (<= {untiled_max_side} px): nothing to tile")
    ort_threads = detector.session.get_session_options().intra_op_num_threads
    names = list(detector.class_names)
    bl.log(TAG, f"model {args.model} ({detector.imgsz} px), ort threads {ort_threads}, tile {params.tile}, "
                f"overlap {params.overlap}, batch {params.batch}, full-frame pass {params.full_frame}, merge {params.merge}")

    # JPEG decode cost first, on its own (page cache warm after the first read).
    bl.log(TAG, "JPEG decode cost (full vs reduced) ...")
    decode = decode_costs(photos, args.decode_repeats)

    # Warm-up both legs on the first photo; check the ceiling's batches are the real ones.
    bl.log(TAG, "warm-up (and checking the ceiling's batches against the real path) ...")
    img0 = read_image(photos[0].path)
    check = verify_batches(img0, detector, params, untiled_max_side)
    if not check["verified"]:
        bl.log(TAG, "WARNING: the ceiling's batches differ from what detect_image sends to session.run")
    run_ceiling(detector, ceiling_batches(img0, detector, params))
    del img0

    timer = StageTimer()
    recall = bl.RecallCounter(names)
    per_photo = []
    for k, ph in enumerate(photos):
        def leg_heyan(ph=ph) -> dict:
            s0 = detector.stats.run_seconds
            with timer.installed():
                t0 = time.perf_counter()
                img = read_image(ph.path)
                t1 = time.perf_counter()
                det = detect_image(img, detector, params, tile=True, untiled_max_side=untiled_max_side)
                t2 = time.perf_counter()
            st = timer.take()
            run = detector.stats.run_seconds - s0
            stages = {"decode_jpeg": t1 - t0, "preprocess": st.get("preprocess", 0.0), "session_run": run,
                      "postprocess": st.get("postprocess", 0.0), "merge": st.get("merge", 0.0)}
            stages["other"] = max(0.0, (t2 - t0) - sum(stages.values()))
            recall.add(ph.boxes, ph.class_ids, det.xyxy, det.scores, det.class_ids)
            return {"seconds": t2 - t0, "stages": stages, "detections": len(det)}

        def leg_ceiling(ph=ph) -> dict:
            batches = ceiling_batches(read_image(ph.path), detector, params)  # built outside the timer
            t = run_ceiling(detector, batches)
            return {"seconds": t, "runs": len(batches), "images": int(sum(len(b) for b in batches))}

        order = ("heyan", "ceiling") if k % 2 == 0 else ("ceiling", "heyan")
        res = {}
        for leg in order:
            res[leg] = leg_heyan() if leg == "heyan" else leg_ceiling()
        per_photo.append({"seed": ph.seed, "gt_objects": len(ph.boxes), "order": list(order),
                          "heyan_seconds": round(res["heyan"]["seconds"], 4),
                          "ceiling_seconds": round(res["ceiling"]["seconds"], 4),
                          "detections": res["heyan"]["detections"], "ceiling_images": res["ceiling"]["images"],
                          "stages": {s: round(v, 4) for s, v in res["heyan"]["stages"].items()}})
        bl.log(TAG, f"photo {k + 1}/{len(photos)} seed {ph.seed}: heyan {res['heyan']['seconds']:.2f} s, "
                    f"ceiling {res['ceiling']['seconds']:.2f} s ({res['ceiling']['images']} images), "
                    f"{res['heyan']['detections']} detections / {len(ph.boxes)} objects")

    n = len(photos)
    t_heyan = sum(p["heyan_seconds"] for p in per_photo)
    t_ceil = sum(p["ceiling_seconds"] for p in per_photo)
    stages = {s: round(sum(p["stages"][s] for p in per_photo) / n, 4) for s in STAGES}
    stages["total"] = round(t_heyan / n, 4)
    t_decode = sum(p["stages"]["decode_jpeg"] for p in per_photo)
    ratio = t_ceil / t_heyan if t_heyan else None
    result = {
        "benchmark": "detect",
        "model": bl.model_info(args.model),
        "settings": {"photos": n, "threads": args.threads, "ort_intra_op_threads": ort_threads, "seed": args.seed,
                     "photo_wxh": [args.width, args.height], "jpeg_quality": bl.JPEG_QUALITY, "tile": params.tile,
                     "overlap": params.overlap, "batch": params.batch, "full_frame": params.full_frame,
                     "merge": params.merge, "match_metric": params.match_metric,
                     "match_threshold": params.match_threshold, "thresholds": "model card (per class)"},
        "per_photo_work": {"tiles_and_full_frame_images": check["images"], "session_runs": check["batches"],
                           "batch_sizes": check["batch_sizes"], "ceiling_batches_verified": check["verified"]},
        "throughput": {
            "heyan_images_per_min": bl.per_min(n, t_heyan),
            "ceiling_images_per_min": bl.per_min(n, t_ceil),
            "ratio_to_ceiling": round(ratio, 4) if ratio else None,
            "target_ratio": TARGET_RATIO,
            "meets_target": bool(ratio is not None and ratio >= TARGET_RATIO),
            # Same, with the JPEG decode taken out of the heyan leg (the ceiling has none).
            "ratio_to_ceiling_excluding_jpeg_decode": round(t_ceil / (t_heyan - t_decode), 4) if t_heyan > t_decode else None,
            # session.run inside the heyan leg vs the same runs alone (>1: the path slows the runs down).
            "session_run_in_path_vs_alone": round(sum(p["stages"]["session_run"] for p in per_photo) / t_ceil, 4) if t_ceil else None,
            "heyan_seconds_per_photo": round(t_heyan / n, 4),
            "ceiling_seconds_per_photo": round(t_ceil / n, 4),
        },
        "breakdown_seconds_per_photo": stages,
        "jpeg_decode": decode,
        "recall": recall.result(),
        "per_photo": per_photo,
        "env": bl.finish_env(env, TAG),
    }
    path = bl.write_result(args.name or "detect", result, args.results_dir)
    print_report(result)
    print(f"\nwritten {path}")
    return result


def print_report(r: dict) -> None:
    th, s = r["throughput"], r["settings"]
    print(f"\n== detect: {r['model']['name']} ({r['model']['imgsz']} px), {s['photos']} photo(s) "
          f"{s['photo_wxh'][0]}x{s['photo_wxh'][1]}, {s['threads']} thread(s), "
          f"{r['per_photo_work']['tiles_and_full_frame_images']} model inputs/photo ==")
    print(bl.table([
        ["heyan detect path (read JPEG + tiled detect)", th["heyan_images_per_min"], th["heyan_seconds_per_photo"]],
        ["onnxruntime ceiling (session.run on same batches)", th["ceiling_images_per_min"], th["ceiling_seconds_per_photo"]],
        [f"ratio to ceiling (target >= {th['target_ratio']})", th["ratio_to_ceiling"],
         "PASS" if th["meets_target"] else "FAIL"],
        ["  same, JPEG decode excluded", th["ratio_to_ceiling_excluding_jpeg_decode"], ""],
        ["  session.run in path / alone", th["session_run_in_path_vs_alone"], ""],
    ], ["throughput", "images/min", "s/photo"]))
    b = r["breakdown_seconds_per_photo"]
    print()
    print(bl.table([[k, v, f"{100 * v / b['total']:.1f}%" if b["total"] else "-"] for k, v in b.items()],
                   ["heyan leg breakdown", "s/photo", "share"]))
    print()
    print(bl.table([[k, v["decoded_wxh"], v["seconds_per_photo"], v["speedup_vs_full"]] for k, v in r["jpeg_decode"].items()],
                   ["JPEG decode", "size", "s/photo", "x faster"]))
    print()
    print(bl.table(bl.recall_rows("heyan (card thresholds)", r["recall"]), bl.recall_header(r["recall"])))
    if "warning" in r["env"]:
        print(f"\nWARNING: {r['env']['warning']}")


if __name__ == "__main__":
    main()
