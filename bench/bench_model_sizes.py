"""Which model sizes still run on an edge box: milliseconds per 640×640 area of a frame, for
YOLO11n at 320 px input (4 tiles per area, the default), YOLO11n at 640 px and YOLO11s at
640 px (1 tile each), with onnxruntime on this CPU. Latency depends on the architecture and
input size, not on the weights, so the untrained ones are exported from their YAML (nothing
is downloaded); the shipped default model is timed from its own file too, as a check.

    python bench/bench_model_sizes.py --threads 2 --repeats 30
Needs the train extra (Ultralytics exports the ONNX files).
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

TAG = "model_sizes"
AREA = 640
VARIANTS = [("yolo11n", 320), ("yolo11n", 640), ("yolov8n", 320), ("yolov8n", 640), ("yolo11s", 640)]


def export(arch: str, imgsz: int, nc: int, out_dir: Path) -> Path:
    from heyan.models.offline import prepare_offline_ultralytics
    from heyan.models.train import export_onnx

    prepare_offline_ultralytics()
    import torch
    from ultralytics.nn.tasks import DetectionModel

    # The head's width depends on the class count: build it with ours, not COCO's 80.
    net = DetectionModel(f"{arch}.yaml", nc=nc, verbose=False)
    ckpt = out_dir / f"{arch}-{imgsz}.pt"
    torch.save({"model": net, "train_args": {}}, ckpt)
    return export_onnx(ckpt, out_dir / f"{arch}-{imgsz}.onnx", imgsz=imgsz)


def time_model(path: Path, imgsz: int, threads: int, repeats: int) -> dict:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    tiles = (AREA // imgsz) ** 2
    x = np.random.default_rng(0).random((tiles, 3, imgsz, imgsz), dtype=np.float32)
    name = sess.get_inputs()[0].name
    for _ in range(3):
        sess.run(None, {name: x})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        sess.run(None, {name: x})
        times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return {"tiles_per_area": tiles, "ms_per_640_area_p50": round(float(np.median(ms)), 1),
            "ms_per_640_area_p90": round(float(np.percentile(ms, 90)), 1), "repeats": repeats,
            "size_mb": round(path.stat().st_size / 1e6, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--results-dir", type=Path, default=bl.RESULTS_DIR)
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)
    from heyan.models import DEFAULT_MODEL
    from heyan.models.registry import resolve_model
    from heyan.vision.classes import class_names

    env = bl.env_info(args.threads)
    rows, out = [], {"threads": args.threads, "area_px": AREA, "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for arch, imgsz in VARIANTS:
            bl.log(TAG, f"exporting {arch} at {imgsz} px ...")
            path = export(arch, imgsz, len(class_names()), Path(tmp))
            r = time_model(path, imgsz, args.threads, args.repeats)
            out["variants"][f"{arch}@{imgsz}"] = r
            rows.append([f"{arch}@{imgsz}", r["tiles_per_area"], r["ms_per_640_area_p50"], r["ms_per_640_area_p90"], r["size_mb"]])
    onnx_path, card = resolve_model(DEFAULT_MODEL)
    r = time_model(onnx_path, card.imgsz, args.threads, args.repeats)
    out["variants"][f"{card.name} (shipped default, {card.architecture}@{card.imgsz})"] = r
    rows.append([f"{card.name} file", r["tiles_per_area"], r["ms_per_640_area_p50"], r["ms_per_640_area_p90"], r["size_mb"]])
    base = out["variants"]["yolo11n@320"]["ms_per_640_area_p50"]
    for v in out["variants"].values():
        v["ratio_to_yolo11n_320"] = round(v["ms_per_640_area_p50"] / base, 2)
    out["env"] = bl.finish_env(env, TAG)
    print(bl.table(rows, ["model", "tiles/area", "ms p50", "ms p90", "MB"]))
    path = bl.write_result("model_sizes", out, args.results_dir)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
