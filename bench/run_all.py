"""Run every benchmark (``make bench``) and summarise: each script runs in its own process
(clean memory, its own thread settings, SAHI/torch imported only where needed) and writes
``bench/results/<name>.json``; this collects them into ``bench/results/summary.json`` and
prints one table.

    python bench/run_all.py                       # 6 photos, heyan-det-v1, 2 threads
    python bench/run_all.py --photos 2 --model smoke --skip sahi
    python bench/run_all.py --full                # + the 1,000-photo ingest flight for peak memory
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "run_all"
BENCHES = {"detect": "bench_detect.py", "sahi": "bench_sahi.py", "memory": "bench_memory.py", "ingest": "bench_ingest.py",
           "api": "bench_api.py", "edge": "bench_edge.py",
           "model_sizes": "bench_model_sizes.py", "precision": "bench_precision.py", "queue": "bench_queue.py"}
INGEST_BIG_PHOTOS, INGEST_BIG_PHOTOS_FULL = 48, 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap)
    ap.add_argument("--skip", action="append", default=[], choices=sorted(BENCHES), help="leave a benchmark out (repeatable)")
    ap.add_argument("--full", action="store_true",
                    help=f"ingest's peak-memory flight at {INGEST_BIG_PHOTOS_FULL} photos (default {INGEST_BIG_PHOTOS}; "
                         "rendering it once takes ~15 min)")
    ap.add_argument("--big-photos", type=int, default=None, help="ingest's peak-memory flight size (overrides --full)")
    args = ap.parse_args(argv)
    big = args.big_photos if args.big_photos is not None else (INGEST_BIG_PHOTOS_FULL if args.full else INGEST_BIG_PHOTOS)
    common = ["--model", args.model, "--threads", str(args.threads), "--seed", str(args.seed),
              "--width", str(args.width), "--height", str(args.height),
              "--results-dir", str(args.results_dir), "--cache-dir", str(args.cache_dir)]
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    # Render (or find) the photos once, before any timing starts.
    bl.ensure_photos(args.photos, args.seed, args.width, args.height, args.cache_dir, TAG)
    results: dict[str, dict] = {}
    failed: list[str] = []
    for name, script in BENCHES.items():
        if name in args.skip:
            continue
        cmd = [sys.executable, str(bl.BENCH_DIR / script), "--name", name, *common]
        if name == "ingest":  # its own flights (24 photos of 2000x1500 per flight, seeds 1-3), not the 20 MP photos
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--name", name, "--model", args.model,
                   "--threads", str(args.threads), "--big-photos", str(big),
                   "--results-dir", str(args.results_dir), "--cache-dir", str(args.cache_dir)]
        elif name == "api":  # its own data: 100k generated tickets and a generated 2 GiB zip
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--name", name, "--results-dir", str(args.results_dir)]
        elif name == "edge":  # its own generated 1080p25 video
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--model", args.model,
                   "--out", str(args.results_dir / "edge.json")]
        elif name == "queue":  # its own simulated flight, redis-server and `heyan worker` processes
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--name", name, "--results-dir", str(args.results_dir)]
        elif name == "model_sizes":
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--threads", str(args.threads),
                   "--results-dir", str(args.results_dir)]
        elif name == "precision":  # real calibration pictures from ../shared/data, its own tiles
            cmd = [sys.executable, str(bl.BENCH_DIR / script), "--model", args.model, "--threads", str(args.threads),
                   "--results-dir", str(args.results_dir)]
        elif name != "memory":
            cmd += ["--photos", str(args.photos)]
        bl.log(TAG, f"running {script} ...")
        rc = subprocess.call(cmd)
        if rc != 0:
            bl.log(TAG, f"{script} failed with exit code {rc}")
            failed.append(name)
            continue
        results[name] = json.loads((args.results_dir / f"{name}.json").read_text(encoding="utf-8"))

    summary = summarise(results, args, started, time.perf_counter() - t0, failed)
    path = bl.write_result(args.name or "summary", summary, args.results_dir)
    print_summary(summary)
    print(f"\nwritten {path}")
    return 1 if failed else 0


def summarise(res: dict[str, dict], args, started: str, seconds: float, failed: list[str]) -> dict:
    s: dict = {"model": args.model, "photos": args.photos, "photo_wxh": [args.width, args.height],
               "threads": args.threads, "started": started, "seconds": round(seconds, 1), "failed": failed}
    if "detect" in res:
        d = res["detect"]
        th = d["throughput"]
        s["detect"] = {
            "heyan_images_per_min": th["heyan_images_per_min"], "ceiling_images_per_min": th["ceiling_images_per_min"],
            "ratio_to_ceiling": th["ratio_to_ceiling"], "target_ratio": th["target_ratio"],
            "meets_target": th["meets_target"],
            "ratio_to_ceiling_excluding_jpeg_decode": th["ratio_to_ceiling_excluding_jpeg_decode"],
            "breakdown_seconds_per_photo": d["breakdown_seconds_per_photo"],
            "jpeg_decode_seconds_per_photo": {k: v["seconds_per_photo"] for k, v in d["jpeg_decode"].items()},
            "recall_card_thresholds": {k: v["recall"] for k, v in d["recall"].items()},
            "recall_per_class_iou_0.5": {c: v["recall"] for c, v in d["recall"]["iou_0.5"]["per_class"].items()},
        }
    if "sahi" in res:
        r = res["sahi"]
        th = r["throughput"]
        s["sahi"] = {
            "heyan_images_per_min": th["heyan_images_per_min"], "sahi_images_per_min": th["sahi_images_per_min"],
            "speedup_vs_sahi": th["speedup_vs_sahi"], "target_speedup": th["target_speedup"],
            "meets_target": th["meets_target"], "confidence": r["settings"]["confidence"],
            "recall_heyan": {k: v["recall"] for k, v in r["recall"]["heyan"].items()},
            "recall_sahi": {k: v["recall"] for k, v in r["recall"]["sahi"].items()},
            "recall_delta_heyan_minus_sahi": r["recall_delta_heyan_minus_sahi"],
            "agreement_iou_0.5": r["agreement_iou_0.5"],
        }
    if "memory" in res:
        m = res["memory"]
        s["memory"] = {"heyan_detect_photo_peak_rss_mb": m["heyan_detect_photo_peak_rss_mb"],
                       "heyan_detect_tiny_peak_rss_mb": m["heyan_detect_tiny_peak_rss_mb"],
                       "photo_minus_tiny_mb": m["photo_minus_tiny_mb"]}
    if "ingest" in res:
        g = res["ingest"]
        th = g["throughput"]["zone"]
        s["ingest"] = {
            "photos_per_flight": g["settings"]["photos"], "seeds": g["settings"]["seeds"],
            "heyan_images_per_min": th["heyan_images_per_min"], "ceiling_images_per_min": th["ceiling_images_per_min"],
            "ratio_to_ceiling": th["ratio_to_ceiling"],
            "tickets": {k: {f: v["ticketable"][f] for f in ("recall", "precision", "duplicate_rate", "median_error_m",
                                                             "p95_error_m")} | {"recall_all_seen": v["all_seen"]["recall"]}
                        for k, v in g["tickets"].items()},
            "zone": {k: {f: v[f] for f in ("model_inputs_saved", "speedup", "tickets_delta")} for k, v in g["zone"].items()},
            "memory": {f: g["memory"][f] for f in ("small_photos", "big_photos", "small_peak_rss_mb", "big_peak_rss_mb")}
            if g.get("memory") else None,
        }
    if "api" in res:
        a = res["api"]
        s["api"] = {"tickets": a["tickets"],
                    "ticket_list": {f: a["ticket_list"][f] for f in ("target_rps", "achieved_rps", "p50_ms", "p99_ms")},
                    "upload": a.get("upload")}
    if "edge" in res:
        s["edge"] = {"decode_only_fps": res["edge"]["decode_only_fps"], "legs": res["edge"]["legs"]}
    if "queue" in res:
        q = res["queue"]
        s["queue"] = {"photos_per_min": {str(r["workers"]): r["photos_per_min"] for r in q["scaling"]["runs"]},
                      "efficiency_2_workers": q["scaling"]["efficiency_2_workers"],
                      "overhead_ms_per_task": q["queue_overhead"]["overhead_ms_per_task"],
                      "reduce_seconds": {k: v["seconds"] for k, v in q["reduce"].items() if isinstance(v, dict)}}
    if "model_sizes" in res:
        s["model_sizes_ms_per_640_area"] = {k: v["ms_per_640_area_p50"] for k, v in res["model_sizes"]["variants"].items()}
    if "precision" in res:
        p = res["precision"]
        s["int8"] = {"model": p["model"], "ms_per_640_area": p["ms_per_640_area_p50"], "speedup": p["int8_speedup"],
                     "edge_shift_px_p95": p["box_agreement_on_real_tiles"]["edge_shift_px_p95"]}
    s["warnings"] = [f"{k}: {v['env']['warning']}" for k, v in res.items() if "warning" in v.get("env", {})]
    return s


def print_summary(s: dict) -> None:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    rows: list[list[object]] = []
    if "detect" in s:
        d = s["detect"]
        rows += [["heyan detect path, images/min", d["heyan_images_per_min"], "", ""],
                 ["onnxruntime ceiling, images/min", d["ceiling_images_per_min"], "", ""],
                 ["ratio to ceiling", d["ratio_to_ceiling"], f">= {d['target_ratio']}", verdict(d["meets_target"])],
                 ["JPEG decode full / reduced-2 / -4 / -8, s",
                  " / ".join(f"{v:.3f}" for v in d["jpeg_decode_seconds_per_photo"].values()), "", ""],
                 ["recall @IoU0.5 / 0.3 (card thresholds)",
                  " / ".join(_pct(v) for v in d["recall_card_thresholds"].values()), "", ""]]
    if "sahi" in s:
        r = s["sahi"]
        rows += [["SAHI 0.12.8, images/min", r["sahi_images_per_min"], "", ""],
                 ["heyan / SAHI speed", r["speedup_vs_sahi"], f">= {r['target_speedup']:g}x", verdict(r["meets_target"])],
                 [f"recall heyan @0.5 / 0.3 (conf {r['confidence']:g})",
                  " / ".join(_pct(v) for v in r["recall_heyan"].values()), "", ""],
                 [f"recall SAHI  @0.5 / 0.3 (conf {r['confidence']:g})",
                  " / ".join(_pct(v) for v in r["recall_sahi"].values()), "", ""]]
    if "memory" in s:
        m = s["memory"]
        rows += [["heyan detect 20 MP photo, peak RSS MB", m["heyan_detect_photo_peak_rss_mb"], "", ""],
                 ["heyan detect tiny image, peak RSS MB", m["heyan_detect_tiny_peak_rss_mb"], "", ""]]
    if "ingest" in s:
        g = s["ingest"]
        rows += [["heyan ingest, images/min (zone on)", g["heyan_images_per_min"], "", ""],
                 ["heyan ingest / onnxruntime ceiling", g["ratio_to_ceiling"], "", ""]]
        for k, v in g["tickets"].items():
            rows.append([f"ingest {k}: recall / precision / tickets per object",
                         f"{_pct(v['recall'])} / {_pct(v['precision'])} / {v['duplicate_rate'] or '-'}", "", ""])
        for k, v in g["zone"].items():
            sp = "-" if v["speedup"] is None else f"{v['speedup']:.2f}"
            rows.append([f"ingest {k}: river zone saves inputs / speedup", f"{_pct(v['model_inputs_saved'])} / {sp}", "", ""])
        if g["memory"]:
            m = g["memory"]
            rows.append([f"heyan ingest peak RSS MB, {m['small_photos']} / {m['big_photos']} photos",
                         f"{m['small_peak_rss_mb']} / {m['big_peak_rss_mb']}", "", ""])
    if "api" in s:
        a, t = s["api"], s["api"]["ticket_list"]
        rows.append([f"ticket list at {a['tickets']} tickets, {t['achieved_rps']:g} req/s: p50 / p99 ms",
                     f"{t['p50_ms']} / {t['p99_ms']}", "", ""])
        if a.get("upload"):
            u = a["upload"]
            rows.append([f"upload {u['zip_mb']:g} MB zip: MB/s / server RSS growth MB", f"{u['mb_per_s']} / {u['rss_growth_mb']}",
                         "", ""])
    if "edge" in s:
        for r in s["edge"]["legs"]:
            rows.append([f"edge 1080p25 {'paced' if r['paced'] else 'max'} gate {'on' if r['gate'] else 'off'}: fps / cores / latency s",
                         f"{r['analysed_fps']} / {r['cpu_cores']} / {r['latency_s']}", "", ""])
    if "queue" in s:
        q = s["queue"]
        rows += [["task queue photos/min, 1 / 2 workers (efficiency)",
                  f"{q['photos_per_min'].get('1')} / {q['photos_per_min'].get('2')} ({q['efficiency_2_workers']})", "", ""],
                 ["task queue overhead per photo task, ms", q["overhead_ms_per_task"], "", ""],
                 ["reduce step s at " + " / ".join(q["reduce_seconds"]) + " detections",
                  " / ".join(str(v) for v in q["reduce_seconds"].values()), "", ""]]
    print(f"\n== Heyan benchmark summary: {s['model']}, {s['photos']} photo(s) {s['photo_wxh'][0]}x{s['photo_wxh'][1]}, "
          f"{s['threads']} thread(s), {s['seconds']:.0f} s ==")
    print(bl.table(rows, ["figure", "value", "target", ""]))
    if s["failed"]:
        print(f"FAILED to run: {', '.join(s['failed'])}")
    for w in s["warnings"]:
        print(f"WARNING {w}")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
