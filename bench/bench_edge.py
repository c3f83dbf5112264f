"""What the edge runner costs on one 1080p 25 fps camera, with the motion gate on and off.

    .venv/bin/python bench/bench_edge.py                     # 20 s video, ~1.5-2 min
    .venv/bin/python bench/bench_edge.py --seconds 8 --skip-paced   # quick look

A generated fixed-camera video (water with moving ripples and sun glint, one piece of
debris drifting in at ``--appear`` seconds) is written once to ``bench/.cache/`` as MJPG.
The runner (``edge.runner.EdgeRunner``, the real detector ``--model`` with ``--threads``)
processes it in-process, with its server pointing at a closed loopback port: events stop
in the outbox, which is what the latency is measured to.

Legs (gate on / gate off each):

- ``paced``: the file is played at its own 25 fps, as a live camera would deliver it, for
  its whole length. ``cpu_cores`` = process CPU time / wall time (1.0 = one core busy):
  the target is one 1080p25 stream in real time under one core.
- ``max``: as fast as possible (``--once``): the most frames per second this box analyses.

Figures: ``analysed_fps`` (frames decoded and analysed per second), ``detector_runs_per_s``,
``cpu_cores``, ``gate_fire_rate``, ``latency_s`` (paced: wall time from the object's first
frame to its event in the outbox; max: the same in video time), plus ``decode_only_fps``:
the reader alone, the ceiling for analysed_fps. Results go to
``bench/results/edge.json`` (``--out``) and a table to stdout.

Delivery (``--delivery-events``, default 600; 0 skips it): a box that was offline comes
back with a backlog. Outboxes are filled with events of floating debris at a few places of
``datasets.demo_site.DemoSite``'s river (each event with its own ~40 kB snapshot and a crop), a
real ``heyan serve`` (SQLite, its own process) gets the site's river network and one
device per box, and the real uploader (``edge.uploader.Uploader``) of each box drains its
outbox into it. Figures: events/s, snapshot MB/s, the server's CPU (cores, and ms per
event), with 1 box and with ``--delivery-boxes`` boxes at once. Most events land on an
existing ticket (seen again: the server's heaviest path: rules, de-duplication, evidence,
audit). ``--only-delivery`` skips the camera legs.

Do not trust one run on a loaded machine: each result records the load average.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import os
import sys
import time
from pathlib import Path

from benchlib import free_port

from heyan.datasets.synthetic.camera_video import MovingObject, SceneSpec, write_video
from heyan.edge.config import parse_config
from heyan.edge.outbox import Outbox
from heyan.edge.runner import EdgeRunner

ROOT = Path(__file__).resolve().parents[1]

CACHE = ROOT / "bench" / ".cache"


def make_video(seconds: float, appear: float, fps: float, width: int, height: int) -> tuple[Path, SceneSpec, list]:
    spec = SceneSpec(width=width, height=height, fps=fps, seconds=seconds, seed=21, render_scale=0.5,
                     objects=[MovingObject(appear, seconds, (0.15, 0.62), (0.45, 0.7), size=0.03, seed=1)])
    import heyan.datasets.synthetic.camera_video as gen

    key = hashlib.sha256((repr(spec) + inspect.getsource(gen)).encode()).hexdigest()[:12]
    path = CACHE / f"edge-{width}x{height}-{fps:g}fps-{seconds:g}s-{key}.avi"
    truth_path = path.with_suffix(".json")
    if not (path.is_file() and truth_path.is_file()):
        CACHE.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        tmp = path.with_suffix(".tmp.avi")
        truth = write_video(tmp, spec)
        tmp.replace(path)
        truth_path.write_text(json.dumps(truth.boxes))
        print(f"[edge] wrote {path.name} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path, spec, json.loads(truth_path.read_text())


def decode_only(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    n, t0 = 0, time.perf_counter()
    while cap.read()[0]:
        n += 1
    cap.release()
    return n / (time.perf_counter() - t0)


def leg(path: Path, spec: SceneSpec, truth: list, data: Path, gate: bool, paced: bool, model: str, threads: int,
        detect_fps: float) -> dict:
    cfg = parse_config({
        "server": {"url": f"http://127.0.0.1:{free_port()}", "token": "bench", "retry_base_s": 30, "heartbeat_interval_s": 60},
        "storage": {"dir": str(data), "min_free_mb": 0, "flush_timeout_s": 0},
        "detector": {"model": model, "threads": threads},
        "cameras": [{"id": "bench", "source": str(path), "rois": [spec.water_roi()], "detect_fps": detect_fps,
                     "gate": {"enabled": gate}, "realtime": True}],
    })
    runner = EdgeRunner(cfg, once=not paced, deliver_timeout_s=0)
    cpu0, t0 = time.process_time(), time.perf_counter()
    summary = runner.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    w = runner.workers[0]
    runner.close()
    appear_ts = (w.first_ts or 0.0) + spec.objects[0].t0
    objects = [(ts, written, box) for _, kind, ts, written, box in w.sink.start_log if kind == "object"]
    # The debris's event: the first object event whose box overlaps the debris's true box
    # within 2 s of the event's start (the model may also report other things, e.g. glint
    # or ripples, and those are not this latency).
    def on_debris(ts: float, b: list[float] | None) -> bool:
        if not b:
            return False
        i = int(round((ts - (w.first_ts or 0.0)) * spec.fps))
        near = [t[0] for t in truth[max(0, i - int(2 * spec.fps)): i + 1] if t]
        return any(b[0] < t[2] and t[0] < b[2] and b[1] < t[3] and t[1] < b[3] for t in near)

    hits = [(ts, wr) for ts, wr, b in objects if on_debris(ts, b)]
    latency = None
    if hits:
        ts, written = hits[0]
        latency = (written - appear_ts) if paced else (ts - appear_ts)
    return {
        "gate": gate, "paced": paced, "frames": summary.frames, "wall_s": round(wall, 2),
        "analysed_fps": round(summary.frames / wall, 1), "detector_runs": summary.detector_runs,
        "detector_runs_per_s": round(summary.detector_runs / wall, 2),
        "detector_ms_mean": round(1000 * runner.detector.seconds / max(runner.detector.runs, 1), 1),
        "full_passes": runner.detector.full_runs, "crops": runner.detector.crops,
        "cpu_cores": round(cpu / wall, 3), "gate_fire_rate": w.health.to_json()["gate_fire_rate"],
        "events": summary.events, "object_events": len(objects), "events_on_the_debris": len(hits),
        "latency_s": None if latency is None else round(latency, 2),
    }


def _fill_outbox(outbox: Outbox, n: int, places: int, seed: int) -> int:
    """``n`` finished debris events at ``places`` spots of the demo site; returns media bytes."""
    import uuid

    import cv2
    import numpy as np

    from heyan.datasets.demo_site import DemoSite
    from heyan.datasets.synthetic.camera_video import SceneRenderer
    from heyan.edge.events import crop_around, encode_jpeg, iso

    site = DemoSite()
    rng = np.random.default_rng(seed)
    base, _ = SceneRenderer(SceneSpec(seed=seed, seconds=1)).frame(0)
    total = 0
    t = 1.7e9
    for i in range(n):
        frame = cv2.add(base, rng.integers(0, 6, base.shape, dtype=np.uint8))  # every snapshot different
        box = [300.0, 200.0, 340.0, 230.0]
        snap, crop = encode_jpeg(frame, 85), encode_jpeg(crop_around(frame, box), 85)
        total += len(snap) + len(crop)
        s_sha, c_sha = outbox.put_media(snap), outbox.put_media(crop)
        east, north = 120.0 * (i % places) + rng.normal(0, 0.5), rng.normal(0, 0.5)
        lon, lat = site.ll(east, north)
        eid = str(uuid.uuid4())
        body = {"event_id": eid, "device_id": f"bench-{seed}", "camera_id": "bridge-1", "kind": "object", "phase": "end",
                "class": "floating_debris", "score": 0.8, "box": box, "lat": lat, "lon": lon, "error_m": 1.5,
                "started_at": iso(t + 60 * i), "updated_at": iso(t + 60 * i + 20), "ended_at": iso(t + 60 * i + 20),
                "snapshot_sha256": s_sha, "crop_sha256": c_sha, "outfall_id": None, "details": {"best_score": 0.85}}
        outbox.put_event(eid, "bridge-1", "object", body, [s_sha, c_sha])
    return total


def delivery(n_events: int, boxes: int, places: int = 5) -> dict:
    """Drain ``boxes`` outboxes holding ``n_events`` in all into a real ``heyan serve``."""
    import tempfile
    import threading

    import httpx
    from bench_api import Server

    from heyan.datasets.demo_site import DemoSite
    from heyan.edge.health import Health
    from heyan.edge.uploader import HttpClient, Uploader

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "serve").mkdir()
        srv = Server(root / "serve", f"sqlite:///{root / 'serve' / 'heyan.db'}", free_port())
        try:
            admin = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}, timeout=60)
            assert admin.post("/api/rivers", json=DemoSite().network()).status_code == 201
            stop = threading.Event()
            outboxes, uploaders, media = [], [], 0
            for b in range(boxes):
                token = admin.post("/api/devices", json={"name": f"bench-box-{b}"}).json()["token"]
                ob = Outbox(root / f"box-{b}", min_free_bytes=0)
                media += _fill_outbox(ob, n_events // boxes, places, seed=b)
                outboxes.append(ob)
                uploaders.append(Uploader(ob, HttpClient(srv.url, token), Health(f"bench-{b}"), stop, 0.2, 1.0))
            sent = sum(ob.depth() for ob in outboxes)
            cpu0, t0 = srv.cpu_seconds(), time.perf_counter()
            for u in uploaders:
                u.start()
            while any(ob.depth() for ob in outboxes):
                time.sleep(0.02)
            wall, cpu = time.perf_counter() - t0, srv.cpu_seconds() - cpu0
            stop.set()
            for u in uploaders:
                u.join(10)
            stored = admin.get("/api/edge/events", params={"limit": 1}).json()["total"]
            tickets = admin.get("/api/tickets", params={"limit": 1}).json()["total"]
            for ob in outboxes:
                ob.close()
        finally:
            srv.stop()
    return {"boxes": boxes, "events": sent, "events_stored": stored, "tickets": tickets, "wall_s": round(wall, 2),
            "events_per_s": round(sent / wall, 1), "media_mb": round(media / 2**20, 1),
            "media_mb_per_s": round(media / 2**20 / wall, 2), "server_cpu_cores": round(cpu / wall, 2),
            "server_cpu_ms_per_event": round(1000 * cpu / sent, 1)}


def print_legs(result: dict, args: argparse.Namespace) -> None:
    print(f"\n1 camera, {args.width}x{args.height} @ {args.fps:g} fps, {args.seconds:g} s; decode only: "
          f"{result['decode_only_fps']} fps; load average {result['loadavg_before'][0]:.1f} on {result['cpus']} cores")
    print(f"{'leg':<6} {'gate':<4} {'fps':>7} {'det/s':>6} {'det ms':>7} {'cores':>6} {'fire':>6} {'events':>6} {'on debris':>9} {'latency s':>9}")
    for r in result["legs"]:
        print(f"{'paced' if r['paced'] else 'max':<6} {'on' if r['gate'] else 'off':<4} {r['analysed_fps']:>7} "
              f"{r['detector_runs_per_s']:>6} {r['detector_ms_mean']:>7} {r['cpu_cores']:>6} "
              f"{'' if r['gate_fire_rate'] is None else r['gate_fire_rate']:>6} {r['events']:>6} {r['events_on_the_debris']:>9} "
              f"{'' if r['latency_s'] is None else r['latency_s']:>9}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="video length (default 20)")
    ap.add_argument("--appear", type=float, default=8.0, help="when the debris enters (default 8 s, after the gate's warm-up)")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--model", default="heyan-det-v1")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime threads (edge default 1)")
    ap.add_argument("--detect-fps", type=float, default=2.0, help="camera detect_fps (default 2, the config default)")
    ap.add_argument("--skip-paced", action="store_true", help="only the as-fast-as-possible legs")
    ap.add_argument("--delivery-events", type=int, default=600, help="backlog delivered into a real server (0: skip)")
    ap.add_argument("--delivery-boxes", type=int, default=4, help="boxes delivering at once in the second delivery leg")
    ap.add_argument("--only-delivery", action="store_true", help="skip the camera legs")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "edge.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("heyan.edge.outbox").setLevel(logging.ERROR)
    import tempfile

    result: dict = {"model": args.model, "threads": args.threads, "detect_fps": args.detect_fps,
                    "loadavg_before": os.getloadavg(), "cpus": os.cpu_count(), "legs": []}
    plan = [(g, False) for g in (True, False)] + ([] if args.skip_paced else [(g, True) for g in (True, False)])
    if args.only_delivery:
        plan = []
        if args.out.is_file():  # keep the camera legs of the last full run
            old = json.loads(args.out.read_text(encoding="utf-8"))
            result.update({k: old[k] for k in ("video", "legs", "decode_only_fps") if k in old})
    else:
        path, spec, truth = make_video(args.seconds, args.appear, args.fps, args.width, args.height)
        result["video"] = {"file": path.name, "width": args.width, "height": args.height, "fps": args.fps,
                           "seconds": args.seconds, "object_appears_s": args.appear}
        result["decode_only_fps"] = round(decode_only(path), 1)
    for gate, paced in plan:
        with tempfile.TemporaryDirectory() as d:
            r = leg(path, spec, truth, Path(d), gate, paced, args.model, args.threads, args.detect_fps)
        print(f"[edge] {'paced' if paced else 'max  '} gate {'on ' if gate else 'off'}: {json.dumps(r)}", file=sys.stderr)
        result["legs"].append(r)
    result["delivery"] = []
    if args.delivery_events > 0:
        for boxes in sorted({1, max(1, args.delivery_boxes)}):
            r = delivery(args.delivery_events, boxes)
            print(f"[edge] delivery: {json.dumps(r)}", file=sys.stderr)
            result["delivery"].append(r)
    result["loadavg_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if result["legs"]:
        print_legs(result, args)
    if result["delivery"]:
        print(f"\ndelivery of a backlog into heyan serve (SQLite), {args.delivery_events} events, each with 2 snapshots")
        print(f"{'boxes':>5} {'events/s':>9} {'MB/s':>6} {'server cores':>12} {'server ms/event':>15} {'tickets':>7}")
        for r in result["delivery"]:
            print(f"{r['boxes']:>5} {r['events_per_s']:>9} {r['media_mb_per_s']:>6} {r['server_cpu_cores']:>12} "
                  f"{r['server_cpu_ms_per_event']:>15} {r['tickets']:>7}")
    print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
