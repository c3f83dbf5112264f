"""Learning curve of site adaptation: AP50 on a site's held-back frames after fine-tuning
on 10, 25, 50 and 100 of its labelled frames (as many as the source has), and the
minutes each fine-tune took, through the same ``models.adapt`` path as ``heyan adapt``.

    python bench/bench_adapt_curve.py --base heyan-det-v3 --minutes 10
    python bench/bench_adapt_curve.py --source deltares --steps 4 8 12

The held-back frames are the same for every step of a source (one split, fixed seed), so
the curve shows what more labels buy, not a different test. Sources are the real labelled
sets that ship with the project (labels in ``datasets/labels/``, photos in
``../shared/data/train/``). Needs the train extra; takes minutes per step on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import benchlib as bl  # noqa: E402

TAG = "adapt_curve"
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "train"
# name -> (labels, images, class map, frame-group regex)
SOURCES = {
    "deltares": (ROOT / "datasets/labels/deltares-bridge-cam", DATA / "deltares-bridge-cam", None, None),
    "lake-tiles": (DATA / "aerial-maritime", None, ROOT / "datasets/maps/aerial-maritime.yaml", r"^(DJI_\d+)"),
    "dump-thumbs": (ROOT / "datasets/labels/raven-dumpsite-thumbs", DATA / "raven-dumpsite-thumbs", None, None),
}
STEPS = [10, 25, 50, 100]


def load(source: str):
    from heyan.datasets.classmap import apply_class_map, load_class_map
    from heyan.datasets.formats.voc import read_voc

    labels, images, cmap, _ = SOURCES[source]
    res = read_voc(labels, images)
    return apply_class_map(res, load_class_map(cmap)).photos


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=None, help="model to adapt (default: the default model)")
    ap.add_argument("--source", action="append", choices=sorted(SOURCES), help="sources (default: all)")
    ap.add_argument("--steps", type=int, nargs="+", default=STEPS, help="training frames per step")
    ap.add_argument("--minutes", type=float, default=10.0, help="fine-tune budget per step")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--holdout", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from heyan.models import DEFAULT_MODEL
    from heyan.models.adapt import AdaptParams, adapt

    base = args.base or DEFAULT_MODEL
    if not DATA.is_dir():
        bl.log(TAG, f"{DATA} is absent: nothing to measure")
        return 1
    out: dict = {"base": base, "minutes_budget": args.minutes, "sources": {}}
    for source in args.source or sorted(SOURCES):
        photos = load(source)
        group = SOURCES[source][3]
        curve = []
        for n in args.steps:
            p = AdaptParams(holdout=args.holdout, group=group, max_train_frames=n, epochs=args.epochs,
                            minutes=args.minutes, seed=args.seed)
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.monotonic()
                r = adapt(photos, base, Path(tmp), p)
                wall = (time.monotonic() - t0) / 60
            per = {c["name"]: round(c["ap50"], 4) for c in r.new_metrics["per_class"] if c["instances"]}
            row = {"frames": r.train_frames, "holdout_frames": r.holdout_frames, "base_map50": round(r.base_metrics["map50"], 4),
                   "map50": round(r.new_metrics["map50"], 4), "per_class": per, "train_minutes": r.minutes,
                   "wall_minutes": round(wall, 2)}
            bl.log(TAG, f"{source}: {row}")
            curve.append(row)
            if r.train_frames < n:  # the source has no more frames
                break
        out["sources"][source] = curve
    bl.write_result(TAG, out)
    rows = [[s, r["frames"], r["base_map50"], r["map50"], r["train_minutes"]] for s, c in out["sources"].items() for r in c]
    print(bl.table(rows, ["source", "frames", "base mAP50", "adapted mAP50", "minutes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
