"""`heyan serve` under load: ticket-list latency at 100k tickets, and a large flight upload.

    python bench/bench_api.py                                   # 100k tickets, 100 rps x 20 s, 2 GB upload
    python bench/bench_api.py --upload-mb 50                    # quick: a 50 MB upload
    python bench/bench_api.py --tickets 20000 --seconds 5 --upload-mb 0

1. Latency. 100k tickets are bulk-inserted (SQLAlchemy) into a fresh SQLite database, then
   `heyan serve` starts as its own process on a loopback port. An open-loop load generator
   (httpx + asyncio) sends ticket-list requests with filters (state, category, segment,
   chief, bbox, date range, pages) at a fixed rate, each at its scheduled time whether or
   not earlier ones have finished (so a slow server cannot slow the generator down and hide
   its queueing: no coordinated omission). p50/p90/p99 and the achieved rate are reported.
2. Upload. A zip of random-content files named like DJI photos (stored, not deflated) is
   written to a temp folder, then streamed to POST /api/flights in 1 MiB chunks. The
   server's RSS (psutil, process and children) is sampled every 20 ms while it receives,
   checks and unpacks the zip into its content-addressed store. Workers are off: this
   measures the upload, not the processing.

Writes bench/results/api.json and prints a table. Needs the `bench` extra (psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from benchlib import free_port

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-admin-password"
CATEGORIES = ["floating_debris", "illegal_dumping", "illegal_construction", "illegal_mining"]
STATES = ["pending_review", "confirmed", "rejected", "dispatched", "rectified", "closed"]


def seed_tickets(db_url: str, n: int, seed: int = 1) -> float:
    """n tickets over 200 segments and ~15x15 km, found over a year; returns seconds taken."""
    import sqlalchemy as sa

    from heyan.serve.db import Database
    from heyan.serve.migrate import upgrade
    from heyan.serve.tables import Ticket

    t0 = time.perf_counter()
    rng = random.Random(seed)
    d = Database(db_url)
    upgrade(d.engine)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with d.session() as db:
        for i0 in range(0, n, 5000):
            rows = []
            for i in range(i0, min(n, i0 + 5000)):
                seg = rng.randrange(200)
                state = rng.choice(STATES)
                found = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
                chief = f"村长{seg % 60}" if state in ("dispatched", "rectified", "closed") else None
                rows.append(dict(
                    id=f"tk-{i:016x}", flight_id=None, state=state, category=rng.choice(CATEGORIES), category_zh="漂浮物",
                    class_name="floating_debris", severity="low", score=rng.random(), lat=30.45 + rng.random() * 0.14,
                    lon=119.90 + rng.random() * 0.16, error_m=3.0, size_m=None, segment_id=f"seg-{seg:03d}",
                    segment_name=f"河段{seg}", river="双桥港", network_version=None, chainage_km=rng.random() * 5,
                    bank="left", chiefs=None, chief_level="village" if chief else None, chief_name=chief,
                    dispatched_chief=chief, rule="debris-on-water", reason="bench", deadline_days=3,
                    deadline=found + timedelta(days=3) if chief else None, overdue=False, was_overdue=False,
                    escalations=0, n_views=2, best_image="DJI_0001.JPG", best_photo_sha=None, best_crop_sha=None,
                    best_box=[1.0, 2.0, 3.0, 4.0], properties={}, found_at=found, created_at=found, updated_at=found,
                    dispatched_at=None, rectified_at=None, closed_at=None, last_seen_at=found, not_seen_count=0))
            db.execute(sa.insert(Ticket), rows)
            db.commit()
    d.dispose()
    return time.perf_counter() - t0


class Server:
    def __init__(self, data: Path, db_url: str, port: int) -> None:
        env = {**os.environ, "HEYAN_ADMIN_PASSWORD": PASSWORD, "HEYAN_SERVE_WORKERS": "0",
               "HEYAN_SERVE_ESCALATION_INTERVAL_S": "0"}
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(data / "server.log", "w")
        # = `heyan serve --db ... --data ... --port ...`, in its own process (its RSS alone).
        self.proc = subprocess.Popen([sys.executable, "-m", "heyan.commands.serve", "--db", db_url, "--data", str(data),
                                      "--port", str(port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {data / 'server.log'}")
            time.sleep(0.2)
        r = httpx.post(f"{self.url}/api/auth/login", json={"username": "admin", "password": PASSWORD})
        csrf = r.json()["csrf_token"]
        r = httpx.post(f"{self.url}/api/auth/tokens", json={"name": "bench"}, cookies=r.cookies, headers={"X-CSRF-Token": csrf})
        self.token = r.json()["token"]
        self.ps = psutil.Process(self.proc.pid)

    def cpu_seconds(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def rss(self) -> int:
        procs = [self.ps, *self.ps.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def random_query(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(7)
    q: dict[str, Any] = {"limit": 50, "offset": rng.choice([0, 0, 0, 50, 500])}
    if kind == 0:
        q["state"] = rng.choice(STATES)
    elif kind == 1:
        q["category"] = rng.choice(CATEGORIES)
        q["state"] = ["pending_review", "confirmed"]
    elif kind == 2:
        q["segment_id"] = f"seg-{rng.randrange(200):03d}"
    elif kind == 3:
        q["chief"] = f"村长{rng.randrange(60)}"
    elif kind == 4:
        lon, lat = 119.90 + rng.random() * 0.14, 30.45 + rng.random() * 0.12
        q["bbox"] = f"{lon:.5f},{lat:.5f},{lon + 0.02:.5f},{lat + 0.02:.5f}"
    elif kind == 5:
        day = datetime(2025, 1, 1) + timedelta(days=rng.randrange(330))
        q["date_from"], q["date_to"] = day.date().isoformat(), (day + timedelta(days=14)).date().isoformat()
    # kind 6: no filter, newest first
    return q


async def load(url: str, token: str, rps: float, seconds: float, seed: int = 2) -> dict[str, Any]:
    rng = random.Random(seed)
    n = int(rps * seconds)
    lat: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=limits) as c:
        await c.get("/api/tickets", params={"limit": 1})  # warm-up

        async def one(q: dict[str, Any]) -> None:
            t0 = time.perf_counter()
            try:
                r = await c.get("/api/tickets", params=q)
                if r.status_code != 200:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                    return
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            lat.append(time.perf_counter() - t0)
            kind = ",".join(sorted(k for k in q if k not in ("limit", "offset"))) or "none"
            by_kind.setdefault(kind, []).append(lat[-1])

        start = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = start + i / rps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(random_query(rng))))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - start
    lat.sort()

    def pct(p: float) -> float | None:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

    kinds = {}
    for k, v in sorted(by_kind.items()):
        v.sort()
        kinds[k] = {"n": len(v), "p50_ms": round(v[len(v) // 2] * 1000, 1), "p99_ms": round(v[min(len(v) - 1, int(0.99 * len(v)))] * 1000, 1)}
    return {"requests": n, "ok": len(lat), "errors": errors, "target_rps": rps, "achieved_rps": round(len(lat) / wall, 1),
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0), "by_filter": kinds}


def make_zip(path: Path, mb: int, file_mb: int = 8) -> int:
    """A stored zip of random-content 'photos' (random bytes do not compress, like JPEG)."""
    rng = random.Random(3)
    total = mb * 1024 * 1024
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        i, written = 0, 0
        while written < total:
            size = min(file_mb * 1024 * 1024, total - written)
            with zf.open(f"DCIM/100MEDIA/DJI_{i:04d}.JPG", "w", force_zip64=True) as fh:
                fh.write(b"\xff\xd8\xff\xe0")
                left = size - 4
                while left > 0:
                    block = rng.randbytes(min(left, 1 << 20))
                    fh.write(block)
                    left -= len(block)
            written += size
            i += 1
    return path.stat().st_size


def upload(server: Server, zip_path: Path) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{zip_path.name}\"\r\n"
            f"Content-Type: application/zip\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = zip_path.stat().st_size
    length = len(head) + size + len(tail)

    def body() -> Any:
        yield head
        with open(zip_path, "rb") as fh:
            while block := fh.read(1 << 20):
                yield block
        yield tail

    base = server.rss()
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], server.rss())
            except psutil.Error:
                pass
            time.sleep(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    r = httpx.post(f"{server.url}/api/flights", content=body(), timeout=3600,
                   headers={"Authorization": f"Bearer {server.token}", "Content-Type": f"multipart/form-data; boundary={boundary}",
                            "Content-Length": str(length)})
    secs = time.perf_counter() - t0
    stop.set()
    th.join()
    if r.status_code not in (200, 201):
        raise RuntimeError(f"upload failed: {r.status_code} {r.text[:300]}")
    return {"zip_mb": round(size / 2**20, 1), "photos": r.json()["flight"]["n_photos"], "seconds": round(secs, 2),
            "mb_per_s": round(size / 2**20 / secs, 1), "rss_before_mb": round(base / 2**20, 1),
            "rss_peak_mb": round(peak[0] / 2**20, 1), "rss_growth_mb": round((peak[0] - base) / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--rps", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--upload-mb", type=int, default=2048, help="size of the uploaded zip in MiB (0: skip)")
    ap.add_argument("--name", default="api")
    ap.add_argument("--results-dir", type=Path, default=RESULTS)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="heyan-bench-api-"))
    out: dict[str, Any] = {"bench": "api", "tickets": args.tickets, "cpus": os.cpu_count(),
                           "when": datetime.now(UTC).isoformat(timespec="seconds")}
    server = None
    try:
        db_url = f"sqlite:///{tmp / 'data' / 'heyan.db'}"
        (tmp / "data").mkdir()
        print(f"seeding {args.tickets} tickets ...", file=sys.stderr)
        out["seed_seconds"] = round(seed_tickets(db_url, args.tickets), 1)
        server = Server(tmp / "data", db_url, free_port())
        print(f"ticket list at {args.rps} rps for {args.seconds} s ...", file=sys.stderr)
        cpu0 = server.cpu_seconds()
        out["ticket_list"] = asyncio.run(load(server.url, server.token, args.rps, args.seconds))
        tl = out["ticket_list"]
        # Server CPU per request: what the figures cost independent of how busy the machine is.
        tl["server_cpu_ms_per_request"] = round((server.cpu_seconds() - cpu0) * 1000 / max(1, tl["requests"]), 2)
        out["server_rss_mb_after_load"] = round(server.rss() / 2**20, 1)
        if args.upload_mb > 0:
            zpath = tmp / "flight.zip"
            print(f"writing a {args.upload_mb} MiB zip ...", file=sys.stderr)
            make_zip(zpath, args.upload_mb)
            print("uploading ...", file=sys.stderr)
            out["upload"] = upload(server, zpath)
            zpath.unlink()
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{args.name}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    tl = out["ticket_list"]
    print(f"ticket list, {args.tickets} tickets, {tl['target_rps']} rps: p50 {tl['p50_ms']} ms, p90 {tl['p90_ms']} ms, "
          f"p99 {tl['p99_ms']} ms, max {tl['max_ms']} ms, achieved {tl['achieved_rps']} rps, errors {tl['errors']}; "
          f"server CPU {tl['server_cpu_ms_per_request']} ms/request")
    if "upload" in out:
        u = out["upload"]
        print(f"upload {u['zip_mb']} MiB zip ({u['photos']} files): {u['seconds']} s = {u['mb_per_s']} MiB/s; "
              f"server RSS {u['rss_before_mb']} -> peak {u['rss_peak_mb']} MiB (+{u['rss_growth_mb']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
