"""``heyan ingest`` on simulated survey flights: tickets against the simulator's ground truth,
end-to-end speed against the raw onnxruntime ceiling, what the river zone saves, and the
peak memory of a long flight.

Flights come from ``datasets.flight.simulate_flight`` (what ``heyan simulate-flight`` runs)
and are cached under ``bench/.cache/flights/`` keyed by their configuration and the
simulator's source. Per seed, four flights of ``--photos`` photos:

  nadir       river-following route, gimbal -90
  oblique     river-following route, gimbal -50 (looks far beyond the river)
  lawnmower   nadir, straight parallel lanes over the river's wander, banks and bank roads
  lawnmower_wide  the same block widened 150 m beyond the bank roads (land away from the river)

Each is ingested twice in this process, with the river zone (the CLI default) and with
``IngestOptions(use_zone=False)``, through ``FlightIngest.run`` with the detector and slice
parameters ``heyan ingest`` builds (``heyan.commands.common.detector_settings``).
Every batch the run hands to ``detector.run`` also goes to ``detector.session.run`` alone,
timed, right before or after the real run (alternating): the ceiling, on exactly the
arrays the run sent and under the same machine load; that time is taken out of the
ingest's. Tickets are scored with ``datasets.flight.score.score_tickets`` (network + default
rules: ticketable objects only; and with the plain "every seen object" denominator).
Last, ``heyan ingest`` runs as a subprocess on a ``--big-photos`` flight and on the first
nadir flight, for their peak RSS (kernel ``ru_maxrss``, as in ``bench_memory.py``).

    python bench/bench_ingest.py --photos 24 --seeds 3 --big-photos 1000
    python bench/bench_ingest.py --photos 4 --seeds 1 --big-photos 8      # a quick check
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "bench_ingest"
KINDS: dict[str, dict] = {
    "nadir": {"oblique": False, "route": "river"},
    "oblique": {"oblique": True, "route": "river"},
    "lawnmower": {"oblique": False, "route": "lawnmower"},
    # The simulator's lawnmower block only reaches 20 m beyond the bank roads, still inside the
    # management zone (+ the 20 m margin ingest allows): this one is planned 150 m beyond
    # (fields behind the levee), the kind of block where skipping photos and tiles pays.
    "lawnmower_wide": {"oblique": False, "route": "lawnmower", "corridor_margin_m": 150.0},
}
DEFAULT_PHOTOS = 24
DEFAULT_SEEDS = "3"
DEFAULT_BIG_PHOTOS = 100
FLIGHT_W, FLIGHT_H = 2000, 1500
K_SIGMA = 2.0  # score_tickets' default


# -- flights ---------------------------------------------------------------------------------
def flight_fingerprint() -> str:
    """Hash of the flight simulator's source (and what it renders with): a change re-renders."""
    h = hashlib.sha256()
    root = bl.PROJECT_ROOT
    files = sorted((root / "datasets" / "flight").glob("*.py")) + sorted((root / "datasets" / "synthetic").glob("*.py"))
    files += [root / "pipeline" / n for n in ("georef.py", "camera_model.py", "pose.py", "utm.py")]
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def ensure_flight(cache_dir: Path, photos: int, seed: int, width: int, height: int, oblique: bool, route: str,
                  fp: str, corridor_margin_m: float | None = None) -> Path:
    """A simulated flight folder (photos/, rivers.geojson, truth.geojson, poses.jsonl), rendered
    once. ``corridor_margin_m`` widens the lawnmower's corridor beyond the bank roads."""
    from heyan.datasets.flight import FlightConfig, simulate_flight

    margin = "" if corridor_margin_m is None else f"-m{corridor_margin_m:g}"
    name = f"flight-{route}{margin}-{'oblique' if oblique else 'nadir'}-{width}x{height}-n{photos}-seed{seed}-{fp}"
    folder = cache_dir / "flights" / name
    if (folder / "done.json").is_file():
        return folder
    tmp = folder.with_name(folder.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    bl.log(TAG, f"rendering flight {name} ({photos} photos) ...")
    t0 = time.perf_counter()
    extra = {} if corridor_margin_m is None else {"corridor_margin_m": corridor_margin_m}
    res = simulate_flight(tmp, FlightConfig(photos=photos, width=width, height=height, oblique=oblique,
                                            pattern=route, seed=seed, **extra))
    summary = res.summary()
    summary["out"] = str(folder)
    (tmp / "done.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    bl.log(TAG, f"  rendered in {time.perf_counter() - t0:.1f} s: {summary['objects_seen']} objects seen "
                f"of {summary['objects']}")
    return folder


def flight_time(folder: Path) -> datetime | None:
    line = (folder / "poses.jsonl").read_text(encoding="utf-8").splitlines()[0]
    t = json.loads(line).get("time")
    return datetime.fromisoformat(t) if t else None


def parse_seeds(spec: str, first: int) -> list[int]:
    """``3`` = three seeds from ``--seed``; ``1,5,9`` = exactly these."""
    spec = spec.strip()
    if "," in spec:
        return [int(s) for s in spec.split(",") if s.strip()]
    n = int(spec)
    if n < 1:
        raise SystemExit("--seeds must be at least 1")
    return list(range(first, first + n))


# -- what the run sends to onnxruntime ---------------------------------------------------------
class CeilingProbe:
    """Wraps ``detector.run`` on the instance. Every batch the run hands to it is also given to
    ``detector.session.run`` alone, timed: the ceiling, on exactly the arrays the run sent, at
    the same moment (alternately just before and just after the real run, so a busy or
    drifting machine weighs on both legs alike). The time of these extra runs is taken out of
    the ingest time. Shapes are recorded too."""

    def __init__(self, detector) -> None:
        self.detector = detector
        self.shapes: list[tuple[int, ...]] = []
        self.ceiling_seconds = 0.0  # session.run alone
        self.probe_seconds = 0.0  # everything the probe added to the run (to subtract)
        self.probe_cpu_seconds = 0.0  # the same in process CPU time (all threads)

    def __enter__(self) -> CeilingProbe:
        real = self.detector.run
        sess, name = self.detector.session, self.detector.input_name
        dynamic = self.detector.dynamic_batch

        def ceiling(batch: np.ndarray) -> None:
            c0 = time.process_time()
            t0 = time.perf_counter()
            parts = [batch] if dynamic else [batch[i:i + 1] for i in range(len(batch))]  # as OnnxDetector.run splits
            t1 = time.perf_counter()
            for b in parts:
                sess.run(None, {name: b})
            t2 = time.perf_counter()
            self.ceiling_seconds += t2 - t1
            self.probe_seconds += t2 - t0
            self.probe_cpu_seconds += time.process_time() - c0

        def probed_run(batch: np.ndarray) -> np.ndarray:
            t0 = time.perf_counter()
            first = len(self.shapes) % 2 == 1
            self.shapes.append(tuple(batch.shape))
            self.probe_seconds += time.perf_counter() - t0
            if first:
                ceiling(batch)
            out = real(batch)
            if not first:
                ceiling(batch)
            return out

        self.detector.run = probed_run
        return self

    def __exit__(self, *exc) -> None:
        del self.detector.run

    @property
    def model_inputs(self) -> int:
        return int(sum(s[0] for s in self.shapes))


def ingest_once(detector, params, flight: Path, out: Path, use_zone: bool, flight_id: str) -> dict:
    """``FlightIngest.run`` as ``heyan ingest`` builds it (default options but the zone), timed,
    with the ceiling probed on every batch it runs."""
    from heyan.pipeline.geo.georef import GroundPlane
    from heyan.pipeline.geo.rivers import load_network
    from heyan.pipeline.ingest import FlightIngest, IngestOptions
    from heyan.pipeline.tickets.rules import load_rules

    network = load_network(flight / "rivers.geojson")
    rules = load_rules()
    opts = IngestOptions(ground=GroundPlane(0.0), tile=True, use_zone=use_zone, flight_id=flight_id)
    ing = FlightIngest(network, rules, detector, params, opts)
    s0 = detector.stats.run_seconds
    with CeilingProbe(detector) as probe:
        c0 = time.process_time()
        t0 = time.perf_counter()
        summary = ing.run(flight / "photos", out, progress=False)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
    return {"summary": summary.to_dict(), "seconds": wall - probe.probe_seconds, "wall_with_probe": wall,
            "cpu_seconds": cpu - probe.probe_cpu_seconds,
            "session_run_in_path": detector.stats.run_seconds - s0, "ceiling_seconds": probe.ceiling_seconds,
            "session_runs": len(probe.shapes), "model_inputs": probe.model_inputs,
            "batch_shapes": sorted({str(list(x)) for x in probe.shapes}), "network": network, "rules": rules}


def warm_up(detector, params, flight: Path, tmp: Path) -> None:
    """One untimed ingest of two photos, probed (imports, exporters, onnxruntime's first runs)."""
    src = tmp / "warmup" / "photos"
    src.mkdir(parents=True)
    for p in sorted((flight / "photos").glob("*.jpg"))[:2]:
        os.symlink(p.resolve(), src / p.name)
    shutil.copy(flight / "rivers.geojson", tmp / "warmup" / "rivers.geojson")
    ingest_once(detector, params, tmp / "warmup", tmp / "warmup-out", use_zone=False, flight_id="warmup")


# -- scoring -----------------------------------------------------------------------------------
def _new_class() -> dict:
    return {"objects": 0, "found": 0, "tickets": 0, "true_tickets": 0, "errors": [], "within": []}


def match_details(objs: list[dict], tickets: list[dict], k_sigma: float = K_SIGMA) -> dict[str, dict]:
    """``score_tickets``' matching (``match_tickets``), keeping each hit's location error per
    class (``score_tickets`` only returns the pooled median/p95 of one flight). Its counts
    are checked against ``score_tickets``' own (``verified``)."""
    from heyan.datasets.flight.score import match_tickets

    o_cls = [o["properties"]["class"] for o in objs]
    per: dict[str, dict] = {}
    for c in o_cls:
        per.setdefault(str(c), _new_class())["objects"] += 1
    matches, hits = match_tickets(objs, tickets, k_sigma)
    for m in matches:
        cls = per.setdefault(m.ticket_class, _new_class())
        cls["tickets"] += 1
        cls["true_tickets"] += int(m.obj is not None)
        if m.error_m is not None:
            cls["errors"].append(m.error_m)
            cls["within"].append(m.within_estimate)
    for j, c in enumerate(o_cls):
        per[str(c)]["found"] += int(hits[j] > 0)
    return per


def score_flight(flight: Path, tickets_path: Path, network, rules) -> dict:
    """Per-class counts and errors for both denominators, checked against ``score_tickets``."""
    from heyan.datasets.flight.score import score_tickets, ticketable

    when = flight_time(flight)
    truth = json.loads((flight / "truth.geojson").read_text(encoding="utf-8"))["features"]
    tickets = json.loads(tickets_path.read_text(encoding="utf-8"))["features"]
    seen = [f for f in truth if (f["properties"].get("seen_in") or 0) > 0]
    out = {}
    for key, objs, kw in (("ticketable", ticketable(seen, network, rules, when), {"network": network, "rules": rules, "when": when}),
                          ("all_seen", seen, {})):
        per = match_details(objs, tickets)
        ref = score_tickets(flight / "truth.geojson", tickets_path, k_sigma=K_SIGMA, **kw).to_dict()
        verified = ref["objects_seen"] == len(objs) and all(
            ref["per_class"].get(c, {}).get(f) == v[f] for c, v in per.items()
            for f in ("objects", "found", "tickets", "true_tickets"))
        out[key] = {"per_class": per, "verified_against_score_tickets": bool(verified),
                    "score_tickets": {k: v for k, v in ref.items() if k != "per_class"}}
    return out


def summarise_classes(per_list: list[dict[str, dict]]) -> dict:
    """Pool per-class counts and errors over flights: overall and per class."""
    pooled: dict[str, dict] = {}
    for per in per_list:
        for c, v in per.items():
            p = pooled.setdefault(c, _new_class())
            for k in ("objects", "found", "tickets", "true_tickets"):
                p[k] += v[k]
            p["errors"] += v["errors"]
            p["within"] += v["within"]
    total = _new_class()
    for v in pooled.values():
        for k in ("objects", "found", "tickets", "true_tickets"):
            total[k] += v[k]
        total["errors"] += v["errors"]
        total["within"] += v["within"]
    return {**_stats(total), "per_class": {c: _stats(v) for c, v in sorted(pooled.items())}}


def _stats(v: dict) -> dict:
    e = np.asarray(v["errors"], float)
    return {"objects": v["objects"], "found": v["found"], "tickets": v["tickets"], "true_tickets": v["true_tickets"],
            "recall": bl.ratio(v["found"], v["objects"]), "precision": bl.ratio(v["true_tickets"], v["tickets"]),
            # tickets per found true object (1.0 = no duplicates); hits on an object = true tickets
            "duplicate_rate": bl.ratio(v["true_tickets"], v["found"]),
            "median_error_m": round(float(np.median(e)), 2) if len(e) else None,
            "p95_error_m": round(float(np.percentile(e, 95)), 2) if len(e) else None,
            "within_error_estimate": bl.ratio(sum(v["within"]), len(v["within"]))}


# -- peak memory of the CLI --------------------------------------------------------------------
def cli_peak(flight: Path, model: str, threads: int, workdir: Path, key: str) -> dict:
    import bench_memory as bm

    out = workdir / f"out-{key}"
    cmd = [bm.heyan_exe(), "ingest", str(flight / "photos"), "--rivers", str(flight / "rivers.geojson"),
           "--out", str(out), "--model", model]
    env = dict(os.environ, HEYAN_ORT_THREADS=str(threads))
    r = bm.measure(cmd, env, workdir)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    r.update({"photos": s["photos"], "photos_off_river": s["photos_off_river"], "tickets": s["tickets"],
              "detections": s["detections"], "tiles_run": s["tiles_run"], "ingest_seconds": s["seconds"],
              "images_per_min": bl.per_min(s["photos"], s["seconds"])})
    shutil.rmtree(out, ignore_errors=True)
    return r


# -- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_common_args(ap, photos=DEFAULT_PHOTOS)
    ap.set_defaults(width=FLIGHT_W, height=FLIGHT_H, seed=1)
    for act in ap._actions:  # benchlib's help names the 20 MP photos' defaults
        if act.dest in ("width", "height"):
            act.help = f"flight photo {act.dest} (default {act.default})"
        elif act.dest == "seed":
            act.help = "first seed (default 1)"
        elif act.dest == "photos":
            act.help = f"photos per flight (default {DEFAULT_PHOTOS})"
    ap.add_argument("--seeds", default=DEFAULT_SEEDS,
                    help=f"N = N flights of each kind, seeds --seed..--seed+N-1; or a list '1,5,9' (default {DEFAULT_SEEDS})")
    ap.add_argument("--big-photos", type=int, default=DEFAULT_BIG_PHOTOS,
                    help=f"photos of the long flight for peak memory (0 = skip; default {DEFAULT_BIG_PHOTOS}; "
                         "the headline figure is 1000, ~15 min to render once plus the ingest)")
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"flights to run (default {','.join(KINDS)})")
    args = ap.parse_args(argv)
    bl.setup_env(args.threads)
    seeds = parse_seeds(args.seeds, args.seed)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise SystemExit(f"unknown flight kind {k!r}; expected some of {', '.join(KINDS)}")
    if args.photos < 1:
        raise SystemExit("--photos must be at least 1")

    from heyan.commands.common import detector_settings

    env = bl.env_info(args.threads)
    fp = flight_fingerprint()
    flights = {(k, s): ensure_flight(args.cache_dir, args.photos, s, args.width, args.height, KINDS[k]["oblique"],
                                     KINDS[k]["route"], fp, KINDS[k].get("corridor_margin_m"))
               for s in seeds for k in kinds}
    settings = detector_settings(args.model)
    detector = settings.load()  # threads from HEYAN_ORT_THREADS, like the CLI
    params = settings.slice_params(detector.imgsz)
    ort_threads = detector.session.get_session_options().intra_op_num_threads
    bl.log(TAG, f"model {args.model} ({detector.imgsz} px), ort threads {ort_threads}, tile {params.tile}, "
                f"overlap {params.overlap}, batch {params.batch}, full-frame pass {params.full_frame}")

    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="heyan-bench-ingest-") as tmpd:
        tmp = Path(tmpd)
        bl.log(TAG, "warm-up ...")
        warm_up(detector, params, next(iter(flights.values())), tmp)
        n = 0
        for si, s in enumerate(seeds):
            for ki, k in enumerate(kinds):
                flight = flights[(k, s)]
                # Alternate which leg runs first, flight by flight, against drift.
                order = (True, False) if (si + ki) % 2 == 0 else (False, True)
                for use_zone in order:
                    n += 1
                    leg = "zone" if use_zone else "no_zone"
                    out = tmp / f"{k}-{s}-{leg}"
                    r = ingest_once(detector, params, flight, out, use_zone, flight_id=f"{k}-seed{s}")
                    score = score_flight(flight, out / "tickets.geojson", r.pop("network"), r.pop("rules"))
                    sm = r["summary"]
                    run = {"kind": k, "seed": s, "zone": use_zone, "route": KINDS[k]["route"],
                           "oblique": KINDS[k]["oblique"], "photos": sm["photos"], "photos_used": sm["photos_used"],
                           "photos_off_river": sm["photos_off_river"], "rejected": sm["rejected"],
                           "tiles_run": sm["tiles_run"], "tiles_total": sm["tiles_total"],
                           "detections": sm["detections"], "tickets": sm["tickets"],
                           "seconds": round(r["seconds"], 3), "ceiling_seconds": round(r["ceiling_seconds"], 3),
                           "wall_with_probe_seconds": round(r["wall_with_probe"], 3),
                           "cpu_seconds": round(r["cpu_seconds"], 3),
                           "session_run_in_path_seconds": round(r["session_run_in_path"], 3),
                           "session_runs": r["session_runs"], "model_inputs": r["model_inputs"],
                           "batch_shapes": r["batch_shapes"], "score": score}
                    runs.append(run)
                    tk = score["ticketable"]["score_tickets"]
                    bl.log(TAG, f"[{n}/{2 * len(seeds) * len(kinds)}] {k} seed {s} {leg}: {run['seconds']:.1f} s "
                                f"(ceiling {run['ceiling_seconds']:.1f} s), {run['model_inputs']} model inputs, "
                                f"{sm['photos_off_river']} photos off-river, {sm['tickets']} tickets, "
                                f"recall {tk['recall']:.2f} precision {tk['precision']:.2f}")
                    shutil.rmtree(out, ignore_errors=True)
        del detector

        memory = None
        if args.big_photos > 0:
            big = ensure_flight(args.cache_dir, args.big_photos, seeds[0], args.width, args.height, False, "river", fp)
            small = ensure_flight(args.cache_dir, args.photos, seeds[0], args.width, args.height, False, "river", fp)
            memory = {}
            for key, fl in ((f"flight_{args.photos}", small), (f"flight_{args.big_photos}", big)):
                bl.log(TAG, f"heyan ingest {fl.name} (subprocess, peak RSS) ...")
                memory[key] = cli_peak(fl, args.model, args.threads, tmp, key)
                bl.log(TAG, f"  peak RSS {memory[key]['peak_rss_mb']} MB (polled {memory[key]['peak_rss_polled_mb']} MB), "
                            f"{memory[key]['wall_seconds']} s")
            a, b = memory[f"flight_{args.photos}"], memory[f"flight_{args.big_photos}"]
            memory = {"small_photos": args.photos, "big_photos": args.big_photos,
                      "small_peak_rss_mb": a["peak_rss_mb"], "big_peak_rss_mb": b["peak_rss_mb"],
                      "big_minus_small_mb": round(b["peak_rss_mb"] - a["peak_rss_mb"], 1),
                      "big_over_small": bl.ratio(b["peak_rss_mb"], a["peak_rss_mb"]), "runs": memory}

    result = build_result(args, seeds, kinds, runs, memory, ort_threads, params, env)
    path = bl.write_result(args.name or "ingest", result, args.results_dir)
    print_report(result)
    print(f"\nwritten {path}")
    return result


def _throughput(rs: list[dict]) -> dict:
    photos = sum(r["photos"] for r in rs)
    t = sum(r["seconds"] for r in rs)
    c = sum(r["ceiling_seconds"] for r in rs)
    ins = sum(r["session_run_in_path_seconds"] for r in rs)
    return {"photos": photos, "seconds": round(t, 2), "ceiling_seconds": round(c, 2),
            "heyan_images_per_min": bl.per_min(photos, t), "ceiling_images_per_min": bl.per_min(photos, c),
            "ratio_to_ceiling": bl.ratio(c, t),
            "session_run_share_of_ingest": bl.ratio(ins, t),
            "session_run_in_path_vs_alone": bl.ratio(ins, c),
            "model_inputs": sum(r["model_inputs"] for r in rs), "session_runs": sum(r["session_runs"] for r in rs)}


def _zone_counts(rs: list[dict]) -> dict:
    photos = sum(r["photos"] for r in rs)
    tk = summarise_classes([r["score"]["ticketable"]["per_class"] for r in rs])
    return {"photos": photos, "photos_off_river": sum(r["photos_off_river"] for r in rs),
            "tiles_run": sum(r["tiles_run"] for r in rs), "tiles_total": sum(r["tiles_total"] for r in rs),
            "tiles_run_share": bl.ratio(sum(r["tiles_run"] for r in rs), sum(r["tiles_total"] for r in rs)),
            "model_inputs": sum(r["model_inputs"] for r in rs), "seconds": round(sum(r["seconds"] for r in rs), 2),
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in rs), 2),
            "images_per_min": bl.per_min(photos, sum(r["seconds"] for r in rs)),
            "tickets": sum(r["tickets"] for r in rs), "detections": sum(r["detections"] for r in rs),
            "recall": tk["recall"], "precision": tk["precision"], "found": tk["found"], "true_tickets": tk["true_tickets"]}


def build_result(args, seeds, kinds, runs, memory, ort_threads, params, env) -> dict:
    on = [r for r in runs if r["zone"]]
    tickets = {}
    for k in kinds:
        rs = [r for r in on if r["kind"] == k]
        tickets[k] = {
            "route": KINDS[k]["route"], "oblique": KINDS[k]["oblique"],
            "ticketable": summarise_classes([r["score"]["ticketable"]["per_class"] for r in rs]),
            "all_seen": summarise_classes([r["score"]["all_seen"]["per_class"] for r in rs]),
            "per_seed": [{"seed": r["seed"], "ticketable": r["score"]["ticketable"]["score_tickets"],
                          "all_seen": r["score"]["all_seen"]["score_tickets"]} for r in rs],
        }
    zone = {}
    for k in kinds:
        z = _zone_counts([r for r in runs if r["kind"] == k and r["zone"]])
        nz = _zone_counts([r for r in runs if r["kind"] == k and not r["zone"]])
        zone[k] = {"zone": z, "no_zone": nz,
                   "model_inputs_saved": bl.ratio(nz["model_inputs"] - z["model_inputs"], nz["model_inputs"]),
                   # summary.tiles_total leaves out photos skipped as off-river: this is against every tile
                   "tiles_run_of_all_tiles": bl.ratio(z["tiles_run"], nz["tiles_total"]),
                   "time_saved": bl.ratio(nz["seconds"] - z["seconds"], nz["seconds"]),
                   "speedup": bl.ratio(nz["seconds"], z["seconds"]),
                   # process CPU seconds (all threads): less sensitive to other load than wall time
                   "cpu_speedup": bl.ratio(nz["cpu_seconds"], z["cpu_seconds"]),
                   "tickets_delta": z["tickets"] - nz["tickets"],
                   "true_objects_found_delta": z["found"] - nz["found"]}
    verified = all(r["score"][d]["verified_against_score_tickets"] for r in runs for d in ("ticketable", "all_seen"))
    for r in runs:
        r["score"] = {d: {"score_tickets": v["score_tickets"], "verified": v["verified_against_score_tickets"]}
                      for d, v in r["score"].items()}
    return {
        "benchmark": "ingest",
        "model": bl.model_info(args.model),
        "settings": {"photos": args.photos, "seeds": seeds, "kinds": kinds, "photo_wxh": [args.width, args.height],
                     "big_photos": args.big_photos, "threads": args.threads, "ort_intra_op_threads": ort_threads,
                     "tile": params.tile, "overlap": params.overlap, "batch": params.batch,
                     "full_frame": params.full_frame, "k_sigma": K_SIGMA, "flight_fingerprint": flight_fingerprint(),
                     "errors_verified_against_score_tickets": verified},
        "tickets": tickets,
        "throughput": {"zone": _throughput(on), "no_zone": _throughput([r for r in runs if not r["zone"]]),
                       "per_kind": {k: {"zone": _throughput([r for r in on if r["kind"] == k]),
                                        "no_zone": _throughput([r for r in runs if r["kind"] == k and not r["zone"]])}
                                    for k in kinds}},
        "zone": zone,
        "memory": memory,
        "runs": runs,
        "env": bl.finish_env(env, TAG),
    }


def print_report(r: dict) -> None:
    s = r["settings"]
    print(f"\n== heyan ingest: {r['model']['name']} ({r['model']['imgsz']} px), flights of {s['photos']} photo(s) "
          f"{s['photo_wxh'][0]}x{s['photo_wxh'][1]}, seeds {s['seeds']}, {s['threads']} thread(s) ==")
    rows: list[list[object]] = []
    for k, t in r["tickets"].items():
        for label, v in [(f"{k}: all", t["ticketable"]), *[(f"  {c}", v) for c, v in t["ticketable"]["per_class"].items()]]:
            rows.append([label, v["objects"], v["found"], v["tickets"], v["recall"], v["precision"], v["duplicate_rate"],
                         v["median_error_m"], v["p95_error_m"]])
        a = t["all_seen"]
        rows.append(["  (all seen objects)", a["objects"], a["found"], a["tickets"], a["recall"], a["precision"],
                     a["duplicate_rate"], a["median_error_m"], a["p95_error_m"]])
    print(bl.table(rows, ["tickets vs truth (ticketable)", "objects", "found", "tickets", "recall", "precision",
                          "tix/found", "med err m", "p95 err m"]))
    if not s["errors_verified_against_score_tickets"]:
        print("WARNING: the per-class matching here disagrees with score_tickets' counts")
    print()
    rows = []
    for k, v in r["throughput"]["per_kind"].items():
        for leg in ("zone", "no_zone"):
            t, z = v[leg], r["zone"][k][leg]
            rows.append([f"{k} {'zone' if leg == 'zone' else 'no zone'}", t["photos"], t["heyan_images_per_min"],
                         t["ceiling_images_per_min"], t["ratio_to_ceiling"], t["model_inputs"],
                         f"{z['tiles_run']}/{z['tiles_total']}", z["photos_off_river"], z["tickets"], z["recall"]])
    for leg in ("zone", "no_zone"):
        t = r["throughput"][leg]
        rows.append([f"all flights, {'zone (CLI default)' if leg == 'zone' else 'no zone'}", t["photos"],
                     t["heyan_images_per_min"], t["ceiling_images_per_min"], t["ratio_to_ceiling"], t["model_inputs"],
                     "", "", "", ""])
    print(bl.table(rows, ["ingest throughput", "photos", "img/min", "ceiling", "ratio", "inputs", "tiles run",
                          "off-river", "tickets", "recall"]))
    print()
    print(bl.table([[k, f"{v['zone']['photos_off_river']}/{v['zone']['photos']}", v["tiles_run_of_all_tiles"],
                     v["model_inputs_saved"], v["speedup"], v["cpu_speedup"], v["tickets_delta"],
                     v["true_objects_found_delta"]]
                    for k, v in r["zone"].items()],
                   ["river zone vs none", "photos skipped", "tiles run", "inputs saved", "speedup", "cpu speedup",
                    "tickets +/-",
                    "found +/-"]))
    m = r["memory"]
    if m:
        print()
        print(bl.table([[f"{v['photos']} photos", v["peak_rss_mb"], v["peak_rss_polled_mb"], v["wall_seconds"],
                         v["images_per_min"]] for v in m["runs"].values()]
                       + [["big minus small", m["big_minus_small_mb"], None, None, None]],
                       ["heyan ingest (subprocess)", "peak RSS MB", "polled MB", "wall s", "img/min"]))
    if "warning" in r["env"]:
        print(f"\nWARNING: {r['env']['warning']}")


if __name__ == "__main__":
    main()
