"""The task queue (issue 17): how a flight scales over `heyan worker` processes.

    python bench/bench_queue.py                      # 16 photos of 2000x1500, 1 and 2 workers
    python bench/bench_queue.py --photos 8 --reduce 1000,10000

1. Scaling. `heyan simulate-flight` renders one flight; `heyan serve --workers external`
   runs in this process (uvicorn thread, SQLite file in WAL mode), a private redis-server
   on a loopback port is the broker, and 1 then 2 `heyan worker` processes (onnxruntime 1
   thread each) process the flight. Photos/min from upload to the job's "done" (the reduce
   and import included); efficiency = rate(2) / (2 x rate(1)).
2. Queue overhead per photo task. The same flight against a river network moved 1 degree
   north: every photo misses the river zone, so a task reads the pose, computes the footprint
   and records its result, with no detector run (an empty detector). Wall time per task on
   one worker, minus the in-process cost of the same photos, is the queue's overhead.
3. Reduce step. The flight's real per-photo results (detector on) replicated and moved to
   1,000 / 10,000 / 50,000 detections; ``FlightIngest.reduce`` (de-duplication, tickets,
   cross-flight matching, the office's files) timed on them in this process.

Writes bench/results/queue.json. Needs redis-server (Debian) and the `queue` extra.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TAG = "queue"
PASSWORD = "bench-queue-password-1"


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench_queue: redis-server not installed (apt-get install redis-server)")
    port = bl.free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


class Server:
    def __init__(self, data: Path, broker: str) -> None:
        import uvicorn

        from heyan.serve.app import create_app
        from heyan.serve.config import ServeConfig

        self.db_url = f"sqlite:///{data / 'heyan.db'}"
        self.config = ServeConfig(data_dir=data, db_url=self.db_url, admin_password=PASSWORD, workers="external",
                                  broker_url=broker, escalation_interval_s=0)  # type: ignore[arg-type]
        self.app = create_app(self.config, announce=False)
        self.port = bl.free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        import httpx

        c = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=300)
        r = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        self.client = c

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)


def run_flight(flight: Path, rivers: bytes, workers: int, threads: int, work: Path) -> dict[str, Any]:
    """One fresh server + broker, `workers` worker processes, one flight: seconds from upload to done."""
    work.mkdir(parents=True)
    redis_proc, broker = start_redis(work)
    srv = Server(work / "data", broker)
    env = {**os.environ, "HEYAN_SERVE_DATA_DIR": str(srv.config.data_dir), "HEYAN_SERVE_DB_URL": srv.db_url,
           "HEYAN_ORT_THREADS": str(threads)}
    env.pop("HEYAN_CONFIG", None)
    procs = [subprocess.Popen([sys.executable, "-m", "heyan.cli", "worker", "--broker", broker, "--name", f"b{i}@bench"],
                              env=env, cwd=work, stdout=open(work / f"worker-{i}.log", "w"), stderr=subprocess.STDOUT)
             for i in range(workers)]
    try:
        time.sleep(4)  # workers up (model loaded on the first task, which is timed: every worker pays it once)
        c = srv.client
        assert c.post("/api/rivers", content=rivers, headers={"Content-Type": "application/json"}).status_code == 201
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted((flight / "photos").glob("*.jpg"))]
        r = c.post("/api/flights", files=files)
        fid = r.json()["flight"]["id"]
        t0 = time.perf_counter()
        while True:
            f = c.get(f"/api/flights/{fid}").json()
            if f["job"]["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        assert f["job"]["state"] == "done", f
        return {"workers": workers, "photos": len(files), "seconds": round(seconds, 2),
                "load_average_1min_after": round(os.getloadavg()[0], 2),  # other work on the machine skews the figures
                "photos_per_min": round(60 * len(files) / seconds, 1), "tickets": f["summary"]["tickets"],
                "photos_off_river": f["summary"]["photos_off_river"]}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        srv.stop()
        redis_proc.terminate()
        redis_proc.wait(10)


def moved_rivers(rivers: bytes, dlat: float) -> bytes:
    doc = json.loads(rivers)

    def move(c: Any) -> Any:
        if isinstance(c, list) and c and isinstance(c[0], (int, float)):
            return [c[0], c[1] + dlat, *c[2:]]
        return [move(x) for x in c] if isinstance(c, list) else c

    for f in doc["features"]:
        if f.get("geometry"):
            f["geometry"]["coordinates"] = move(f["geometry"]["coordinates"])
    return json.dumps(doc).encode()


def ingest_of(flight: Path, threads: int, tmp: Path) -> Any:
    from heyan.models.settings import DetectorSettings
    from heyan.pipeline.geo.rivers import load_network
    from heyan.pipeline.ingest import FlightIngest, IngestOptions
    from heyan.pipeline.tickets.rules import load_rules

    settings = DetectorSettings(threads=threads)
    det = settings.load()
    ing = FlightIngest(load_network(flight / "rivers.geojson"), load_rules(None), det, settings.slice_params(det.imgsz),
                       IngestOptions(flight_id="bench", untiled_max_side=settings.min_tile_photo_side))
    ing.begin(tmp)
    return ing


def reduce_figures(flight: Path, sizes: list[int], threads: int, tmp: Path) -> dict[str, Any]:
    """FlightIngest.reduce on the flight's real photo results, replicated along the river."""
    import numpy as np

    ing = ingest_of(flight, threads, tmp / "reduce")
    photos = sorted((flight / "photos").glob("*.jpg"))
    base = [(p, ing.photo_result(p)) for p in photos]
    per_copy = sum(len(r.outcome.finds) + len(r.outcome.other) for _, r in base if r.outcome)
    if per_copy == 0:
        return {"error": "the flight gave no detections to replicate"}
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"detections_per_flight_copy": per_copy}
    for n in sizes:
        copies = -(-n // per_copy)
        results = []
        for k in range(copies):
            shift = float(rng.uniform(-2e-4, 2e-4))  # a few metres to ~20 m: the copies partly overlap
            for p, r in base:
                if r.outcome is None:
                    results.append((p.with_name(f"{p.stem}_{k}{p.suffix}"), r))
                    continue
                o = copy.copy(r.outcome)
                o.finds = []
                for f, d, pl in r.outcome.finds:
                    g = copy.copy(f)
                    g.id, g.image = f"{p.stem}_{k}#{f.id.split('#')[-1]}", str(p.with_name(f"{p.stem}_{k}{p.suffix}"))
                    g.lat, g.extra = f.lat + shift, dict(f.extra)
                    o.finds.append((g, d, pl))
                results.append((p.with_name(f"{p.stem}_{k}{p.suffix}"), type(r)(outcome=o)))
        dets = sum(len(r.outcome.finds) + len(r.outcome.other) for _, r in results if r.outcome)
        t0 = time.perf_counter()
        summary = ing.reduce("bench", len(results), iter(results), [])
        sec = time.perf_counter() - t0
        out[str(n)] = {"detections": dets, "photos": len(results), "seconds": round(sec, 2), "tickets": summary.tickets}
        bl.log(TAG, f"reduce at {dets} detections ({len(results)} photos): {sec:.2f} s, {summary.tickets} tickets")
    return out


def overhead_in_process(flight: Path, rivers: bytes, tmp: Path) -> float:
    """Seconds per off-river photo in this process (pose, footprint): the task's own work."""
    from heyan.pipeline.geo.rivers import RiverNetwork

    ing = ingest_of(flight, 1, tmp / "inproc")
    ing.network = RiverNetwork.from_geojson(json.loads(rivers), source="moved")
    photos = sorted((flight / "photos").glob("*.jpg"))
    t0 = time.perf_counter()
    for p in photos:
        assert ing.photo_result(p).outcome.off_river
    return (time.perf_counter() - t0) / len(photos)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=16)
    ap.add_argument("--width", type=int, default=2000)
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--overhead-photos", type=int, default=60, help="photos of the off-river flight (queue overhead)")
    ap.add_argument("--reduce", default="1000,10000,50000", help="detections at which the reduce step is timed")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime threads per worker process")
    ap.add_argument("--name", default="queue")
    ap.add_argument("--results-dir", type=Path, default=bl.RESULTS_DIR)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="heyan-bench-queue-"))
    try:
        def simulate(n: int, out: Path) -> Path:
            subprocess.run([sys.executable, "-m", "heyan.cli", "simulate-flight", "--out", str(out), "--photos", str(n),
                            "--seed", "5", "--width", str(args.width), "--height", str(args.height)], check=True,
                           capture_output=True)
            return out

        flight = simulate(args.photos, tmp / "flight")
        rivers = (flight / "rivers.geojson").read_bytes()
        runs = []
        for n in (1, 2):
            bl.log(TAG, f"flight of {args.photos} photos on {n} worker process(es) ...")
            runs.append(run_flight(flight, rivers, n, args.threads, tmp / f"run{n}"))
            bl.log(TAG, f"  {runs[-1]}")
        eff = runs[1]["photos_per_min"] / (2 * runs[0]["photos_per_min"])
        bl.log(TAG, f"off-river flight of {args.overhead_photos} photos (queue overhead) ...")
        small = simulate(args.overhead_photos, tmp / "offriver")
        moved = moved_rivers((small / "rivers.geojson").read_bytes(), 1.0)
        empty = run_flight(small, moved, 1, args.threads, tmp / "overhead")
        assert empty["photos_off_river"] == args.overhead_photos, empty
        wall = empty["seconds"] / args.overhead_photos
        own = overhead_in_process(small, moved, tmp)
        reduce = reduce_figures(flight, [int(x) for x in args.reduce.split(",")], args.threads, tmp)
        result = {
            "settings": {"photos": args.photos, "photo_wxh": [args.width, args.height], "ort_threads_per_worker": args.threads,
                         "database": "SQLite (WAL), one file", "broker": "redis-server on loopback, no persistence"},
            "env": bl.env_info(args.threads),
            "scaling": {"runs": runs, "efficiency_2_workers": round(eff, 3),
                        "seconds_per_photo_1_worker": round(runs[0]["seconds"] / args.photos, 3)},
            "queue_overhead": {"photos": args.overhead_photos, "wall_ms_per_task": round(1000 * wall, 1),
                               "in_process_ms_per_photo": round(1000 * own, 1),
                               "overhead_ms_per_task": round(1000 * (wall - own), 1)},
            "reduce": reduce,
        }
        path = bl.write_result(args.name, result, args.results_dir)
        print(json.dumps(result, indent=2))
        print(f"\nwritten {path}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
