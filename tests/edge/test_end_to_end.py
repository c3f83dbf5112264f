"""Box to tickets with real processes on loopback: a real ``heyan serve`` (SQLite, temporary
data folder) and real ``heyan edge`` runners on a generated video whose floating debris are
sprites of the synthetic dataset ``heyan-det-v1`` was trained on, so the real ONNX detector
finds them (three objects, three events per pass over the video). The camera is calibrated
onto a river network uploaded to the server (``datasets.demo_site.DemoSite``), so events carry a
ground position and become tickets through the server's rules and de-duplication.

(a) events arrive and become tickets; a second pass over the same video adds evidence to
    the same tickets; (b) the server is stopped for a while and started again: every event
    in the box's outbox is in the server's database exactly once, with its final state;
(c) ``kill -9`` of the runner while uploads are in flight (a slow proxy holds them), then a
    restart: nothing lost, nothing doubled; (d) a wrong token: a clear error, the runner and
    both its cameras keep running, another box delivers meanwhile, and after the token is
    fixed the refused events are delivered; (e) a site model switched on for a box: the
    running box fetches it, swaps it in without stopping, and its next events name it."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from edge_helpers import REPO, fast_camera, last_json_line, popen_edge, run_edge, write_config
from support.net import free_port

from heyan.datasets.demo_site import DemoSite
from heyan.datasets.synthetic.camera_video import MovingObject, SceneSpec, write_video

ADMIN_PASSWORD = "e2e-admin-password"
SITE = DemoSite()
# Three pieces of debris, apart on the water; sprite seeds the model sees at 0.8-0.9.
# They hardly drift (debris caught at a pier, a bend): every pass over the looping video
# reports each at the same place, as a camera would report debris stuck there every minute.
SPEC = SceneSpec(seconds=10, fps=10, seed=3, objects=[
    MovingObject(0.5, 4.5, (0.2, 0.5), (0.22, 0.5), size=0.08, seed=2, sprite="debris"),
    MovingObject(3.5, 8.0, (0.65, 0.7), (0.67, 0.7), size=0.08, seed=8, sprite="debris"),
    MovingObject(6.0, 9.8, (0.1, 0.85), (0.12, 0.85), size=0.08, seed=12, sprite="debris"),
])
OBJECTS = len(SPEC.objects)


# --------------------------------------------------------------------------- processes


class ServeProcess:
    """``heyan serve`` in a subprocess on a fixed port (so a box's config stays valid across
    a restart), its log in ``<root>/serve.log``."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root, self.port = root, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._token: str | None = None

    def start(self, timeout: float = 60) -> ServeProcess:
        env = dict(os.environ, HEYAN_ADMIN_PASSWORD=ADMIN_PASSWORD, HEYAN_SERVE_WORKERS="0",
                   HEYAN_SERVE_ESCALATION_INTERVAL_S="0", PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("HEYAN_CONFIG", None)
        log = open(self.root / "serve.log", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen([sys.executable, "-m", "heyan.cli", "serve", "--data", str(self.root / "data"),
                                      "--port", str(self.port)], cwd=self.root, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.root / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("heyan serve did not start: " + (self.root / "serve.log").read_text()[-3000:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:  # say why in the test output, then make sure it is gone
                print("heyan serve did not stop within 30 s of SIGTERM; its log ends:\n"
                      + (self.root / "serve.log").read_text()[-2000:])
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def admin(self) -> httpx.Client:
        if self._token is None:
            c = httpx.Client(base_url=self.url, timeout=30)
            r = c.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            self._token = c.post("/api/auth/tokens", json={"name": "e2e"}).json()["token"]
        return httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self._token}"})

    def device(self, name: str) -> str:
        r = self.admin().post("/api/devices", json={"name": name})
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def db_events(self) -> dict[str, tuple[int, int, str | None, str | None]]:
        """event_id -> (seq, posts, outcome, ticket_id), read from the server's database file."""
        con = sqlite3.connect(f"file:{self.root / 'data' / 'heyan.db'}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT event_id, seq, posts, outcome, ticket_id FROM edge_events").fetchall()
        finally:
            con.close()
        assert len(rows) == len({r[0] for r in rows}), "an event stored twice"
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


class SlowProxy:
    """TCP proxy that holds each new connection ``delay_s`` before passing it on: the box's
    uploads are in flight long enough to be cut by a kill. ``active``: uploads (snapshot
    PUTs, event POSTs) in flight now."""

    def __init__(self, target_port: int, delay_s: float) -> None:
        self.target_port, self.delay_s = target_port, delay_s
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.active = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upload = False
        try:
            first = conn.recv(65536)
            upload = first.startswith((b"PUT /api/edge/media/", b"POST /api/edge/events"))  # not heartbeats
            if upload:
                with self._lock:
                    self.active += 1
            time.sleep(self.delay_s)
            up = socket.create_connection(("127.0.0.1", self.target_port))
            up.sendall(first)
            t = threading.Thread(target=self._pipe, args=(up, conn), daemon=True)
            t.start()
            self._pipe(conn, up)
            t.join(10)
        except OSError:
            pass
        finally:
            conn.close()
            if upload:
                with self._lock:
                    self.active -= 1

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


# --------------------------------------------------------------------------- helpers


def outbox(data_dir: Path) -> dict[str, tuple[int, int, str]]:
    """event_id -> (seq, delivered_seq, status) from the box's outbox."""
    con = sqlite3.connect(f"file:{data_dir / 'outbox.db'}?mode=ro", uri=True)
    try:
        return {r[0]: (r[1], r[2], r[3]) for r in con.execute("SELECT event_id, seq, delivered_seq, status FROM events")}
    finally:
        con.close()


def wait(pred: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return
        except (OSError, sqlite3.Error, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def box_config(path: Path, url: str, token: str, video: Path, calib: Path, cam_id: str = "bridge-1",
               cameras: list[dict[str, Any]] | None = None, **cam: Any) -> Path:
    cams = cameras or [camera(cam_id, video, calib, **cam)]
    return write_config(path, url, cams, token=token, model="heyan-det-v1", device_id=path.stem)


def camera(cam_id: str, video: Path, calib: Path, **over: Any) -> dict[str, Any]:
    # 0.5: the model's 0.3-0.4 boxes on bare generated water do not become events
    return fast_camera(cam_id, str(video), SPEC, calibration=str(calib), thresholds={"floating_debris": 0.5}, **over)


def assert_exactly_once(box: dict[str, tuple[int, int, str]], server: dict[str, tuple[int, int, str | None, str | None]]) -> None:
    """Every event of the outbox is on the server once, with its final state; nothing else is."""
    assert box and set(box) == set(server), (sorted(set(box) ^ set(server)))
    for eid, (seq, delivered, status) in box.items():
        assert status == "delivered" and delivered == seq, (eid, box[eid])
        assert server[eid][0] == seq, (eid, server[eid], box[eid])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("e2e-site")
    video = root / "river.avi"
    write_video(video, SPEC)
    return video, SITE.calibration(SPEC, root / "bridge-1.calib.json")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    srv = ServeProcess(tmp_path_factory.mktemp("e2e-serve")).start()
    r = srv.admin().post("/api/rivers", json=SITE.network())
    assert r.status_code == 201, r.text
    yield srv
    srv.stop()


def tickets(srv: ServeProcess, camera: str) -> list[dict[str, Any]]:
    items = srv.admin().get("/api/tickets", params={"limit": 500}).json()["items"]
    out = []
    for t in items:
        detail = srv.admin().get(f"/api/tickets/{t['id']}").json()
        if detail["best_image"] and detail["best_image"].endswith("/" + camera):
            out.append(detail)
    return out


# --------------------------------------------------------------------------- the tests


def test_a_events_arrive_and_become_tickets(tmp_path: Path, server: ServeProcess, site: tuple[Path, Path]) -> None:
    video, calib = site
    token = server.device("box-a")
    cfg = box_config(tmp_path / "box-a.yaml", server.url, token, video, calib, "bridge-a")
    res = run_edge(["--config", str(cfg), "--once"], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    first = last_json_line(res.stdout)
    assert first["events"] == OBJECTS and first["queued"] == 0, first
    box, db = outbox(tmp_path / "edge-data"), server.db_events()
    assert_exactly_once(box, {k: v for k, v in db.items() if k in box})
    assert all(db[e][2] == "ticket" for e in box), [db[e] for e in box]  # each object its own ticket
    made = tickets(server, "bridge-a")
    assert len(made) == OBJECTS
    for t in made:
        assert (t["category"], t["segment_id"], t["chief_name"], t["chiefs"]["village"]["name"]) == (
            "floating_debris", "seg-1", None, "村长甲")
        assert t["rule"] == "debris-on-water" and t["state"] == "pending_review" and t["score"] >= 0.5
        # the picture on the ticket is the box's snapshot, byte for byte
        sha = t["best_photo_url"].rsplit("/", 1)[1]
        local = tmp_path / "edge-data" / "media" / sha[:2] / f"{sha}.jpg"
        assert server.admin().get(t["best_photo_url"]).content == local.read_bytes()
    # The same objects seen again (a second pass over the video: new events, same places):
    # the same tickets, each with one more piece of evidence.
    res = run_edge(["--config", str(cfg), "--once"], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert last_json_line(res.stdout)["events"] == OBJECTS
    box, db = outbox(tmp_path / "edge-data"), server.db_events()
    assert_exactly_once(box, {k: v for k, v in db.items() if k in box})
    again = tickets(server, "bridge-a")
    assert {t["id"] for t in again} == {t["id"] for t in made}
    assert sorted(len(t["evidence"]) for t in again) == [2] * OBJECTS
    assert all([e["kind"] for e in t["evidence"]] == ["detection", "seen_again"] for t in again)
    devices = {d["name"]: d for d in server.admin().get("/api/devices").json()}
    assert devices["box-a"]["silent"] is False and "bridge-a" in devices["box-a"]["health"]["cameras"]
    print(f"\n(a) {first}")


def test_b_server_stopped_for_a_while_every_event_arrives_exactly_once(tmp_path: Path, site: tuple[Path, Path]) -> None:
    video, calib = site
    srv = ServeProcess(tmp_path).start()
    srv.admin().post("/api/rivers", json=SITE.network())
    token = srv.device("box-b")
    cfg = box_config(tmp_path / "box-b.yaml", srv.url, token, video, calib, loop=True, realtime=True)
    data = tmp_path / "edge-data"
    p = popen_edge(["--config", str(cfg)], tmp_path / "box.log")
    try:
        wait(lambda: len(srv.db_events()) >= 1, 40, "the first event on the server")
        srv.stop()  # SIGTERM: the server goes away for a while; the box keeps watching
        down_at = set(outbox(data))
        t_down = time.monotonic()
        # Offline into the video's next pass: the same objects reported again meanwhile.
        wait(lambda: len(set(outbox(data)) - down_at) >= OBJECTS + 1, 60, "a pass's worth of events while the server is down")
        wait(lambda: json.loads((data / "health.json").read_text())["uploader_error"], 10, "the uploader noticing")
        srv.start()
        down_s = time.monotonic() - t_down
        wait(lambda: all(s == "delivered" for _, _, s in outbox(data).values()), 40, "the backlog delivered")
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0
        box, db = outbox(data), srv.db_events()
    finally:
        if p.poll() is None:
            p.kill()
        srv.stop()
    assert_exactly_once(box, db)
    # A state is sent again only when its reply was lost (the server stopping mid-reply).
    assert sum(max(0, posts - seq) for seq, posts, _, _ in db.values()) <= 1
    assert all(outcome in ("ticket", "seen_again") for _, _, outcome, _ in db.values())
    # The video looped: each object was reported on every pass, but it is one ticket each.
    assert len({tid for *_, tid in db.values()}) == OBJECTS
    print(f"\n(b) server down {down_s:.1f} s; {len(box)} events ({len(box) - len(down_at)} made while it was down), "
          f"{sum(p for _, p, _, _ in db.values())} POSTs received for {sum(s for s, *_ in db.values())} states, "
          f"{OBJECTS} tickets")


def test_c_kill_9_mid_upload_then_restart_nothing_lost_nothing_doubled(tmp_path: Path, server: ServeProcess,
                                                                       site: tuple[Path, Path]) -> None:
    video, calib = site
    token = server.device("box-c")
    proxy = SlowProxy(server.port, delay_s=0.4)
    data = tmp_path / "edge-data"
    slow = box_config(tmp_path / "box-c.yaml", f"http://127.0.0.1:{proxy.port}", token, video, calib, "bridge-c")
    p = popen_edge(["--config", str(slow), "--once"], tmp_path / "run1.log")
    try:
        wait(lambda: any(e[2] == "delivered" for e in outbox(data).values()) and proxy.active > 0, 60,
             "a delivered event and an upload in flight")
        in_flight = proxy.active
        p.kill()  # SIGKILL: no cleanup of any kind
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
        proxy.close()
    before = outbox(data)
    assert in_flight > 0 and any(s != "delivered" for _, _, s in before.values()), before
    direct = box_config(tmp_path / "box-c.yaml", server.url, token, video, calib, "bridge-c")  # no proxy this time
    res = run_edge(["--config", str(direct), "--once"], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    box, db = outbox(data), server.db_events()
    assert set(before) <= set(box)  # nothing written before the kill is lost
    assert_exactly_once(box, {k: v for k, v in db.items() if k in box})
    dup = sum(max(0, db[e][1] - db[e][0]) for e in box)
    assert dup <= in_flight  # at most the requests cut by the kill were sent again
    # Two passes over the video (one cut short): still one ticket per object.
    assert len({db[e][3] for e in box}) == OBJECTS
    print(f"\n(c) killed with {in_flight} request(s) in flight, {len(before)} records then "
          f"({sum(s != 'delivered' for _, _, s in before.values())} undelivered), {len(box)} after; repeats {dup}")


def test_d_wrong_token_is_reported_and_everything_keeps_running(tmp_path: Path, server: ServeProcess,
                                                                site: tuple[Path, Path]) -> None:
    video, calib = site
    right = server.device("box-d")
    good_token = server.device("box-d2")
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    cams = [camera("bridge-d1", video, calib, loop=True, realtime=True), camera("bridge-d2", video, calib, loop=True, realtime=True)]
    bad_cfg = write_config(tmp_path / "bad" / "box-d.yaml", server.url, cams, token="hyd_wrong-token", model="heyan-det-v1",
                           device_id="box-d")
    p = popen_edge(["--config", str(bad_cfg)], tmp_path / "bad.log")
    health_file = tmp_path / "bad" / "edge-data" / "health.json"
    try:
        wait(lambda: any(s == "auth" for *_, s in outbox(tmp_path / "bad" / "edge-data").values()), 40,
             "an event refused for the token")
        # Meanwhile another box with a good token delivers to the same server.
        good = box_config(tmp_path / "good" / "box-d2.yaml", server.url, good_token, video, calib, "bridge-d3")
        res = run_edge(["--config", str(good), "--once"], timeout=120)
        assert res.returncode == 0 and last_json_line(res.stdout)["queued"] == 0, res.stderr[-3000:]
        frames = {c: v["frames"] for c, v in json.loads(health_file.read_text())["cameras"].items()}
        wait(lambda: all(v["frames"] > frames[c] + 10 for c, v in json.loads(health_file.read_text())["cameras"].items()),
             30, "both cameras analysing after the token error")
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
    health = json.loads(health_file.read_text())
    log = (tmp_path / "bad.log").read_text()
    assert "wrong device token" in health["auth_error"] and "unknown or revoked device token" in health["auth_error"]
    assert "wrong device token" in log and server.url in log
    refused = outbox(tmp_path / "bad" / "edge-data")
    assert refused and all(s in ("auth", "pending") for _, _, s in refused.values())  # kept for after the fix
    db = server.db_events()
    assert not set(refused) & set(db)
    good_box = outbox(tmp_path / "good" / "edge-data")
    assert_exactly_once(good_box, {k: v for k, v in db.items() if k in good_box})
    devices = {d["name"]: d for d in server.admin().get("/api/devices").json()}
    assert devices["box-d"]["silent"] is True and devices["box-d"]["health"] is None  # never heard from
    assert devices["box-d2"]["silent"] is False
    # The token fixed: the refused events go out on the next start.
    fixed = write_config(tmp_path / "bad" / "box-d.yaml", server.url, [camera("bridge-d1", video, calib)], token=right,
                         model="heyan-det-v1", device_id="box-d")
    res = run_edge(["--config", str(fixed), "--once"], timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    box = outbox(tmp_path / "bad" / "edge-data")
    assert set(refused) <= set(box)
    assert_exactly_once(box, {k: v for k, v in server.db_events().items() if k in box})
    print(f"\n(d) {len(refused)} events refused with the wrong token, delivered after the fix")


def test_e_box_runs_the_model_the_server_names_and_its_events_say_so(tmp_path: Path, server: ServeProcess,
                                                                     site: tuple[Path, Path]) -> None:
    """A site model switched on for one box (issue 14): the running `heyan edge` learns it from
    the heartbeat answer, fetches and checks it, swaps it in while its cameras run, reports it
    in its health, and its next events name it; 回退 brings its configured model back."""
    from datetime import UTC, datetime

    from heyan.models.registry import resolve_model
    from heyan.serve.db import Database
    from heyan.serve.training import registry

    video, calib = site
    token = server.device("box-e")
    onnx, card = resolve_model("heyan-det-v1")
    db = Database(f"sqlite:///{server.root / 'data' / 'heyan.db'}")
    try:  # a site model as an adaptation job leaves it (the job itself is tests/serve/test_training_jobs.py)
        with db.session() as s:
            m = registry.store_model(s, server.root / "data", onnx, {**json.loads(card.model_dump_json()), "name": "det-v1-box-e"},
                                     "heyan-det-v1", None, None, "trainer", datetime.now(UTC))
            sha = m.sha256
            s.commit()
    finally:
        db.dispose()
    cfg = box_config(tmp_path / "box-e.yaml", server.url, token, video, calib, "bridge-e", loop=True, realtime=True)
    p = popen_edge(["--config", str(cfg)], tmp_path / "box-e.log")
    health_file = tmp_path / "edge-data" / "health.json"

    def model_events() -> list[Any]:
        items = server.admin().get("/api/edge/events", params={"limit": 500}).json()["items"]
        return [e["details"].get("model", {}).get("sha256") for e in items if e["camera_id"] == "bridge-e"]

    try:
        wait(lambda: len(model_events()) >= 1, 60, "the box's first event")
        assert set(model_events()) == {None}  # its configured model
        r = server.admin().post(f"/api/models/{sha}/activate", json={"scope": "device:box-e"})
        assert r.status_code == 200, r.text
        wait(lambda: json.loads(health_file.read_text())["model"]["sha256"] == sha, 30, "the box running the site model")
        frames = json.loads(health_file.read_text())["cameras"]["bridge-e"]["frames"]
        wait(lambda: sha in model_events(), 60, "an event made by the site model")
        assert json.loads(health_file.read_text())["cameras"]["bridge-e"]["frames"] > frames  # it never stopped
        wait(lambda: {d["name"]: d for d in server.admin().get("/api/devices").json()}["box-e"]["health"]["model"]["sha256"] == sha,
             10, "the server told which model runs")
        assert server.admin().post("/api/models/rollback", json={"scope": "device:box-e"}).status_code == 200
        wait(lambda: json.loads(health_file.read_text())["model"]["sha256"] is None, 30, "the configured model back")
        assert (tmp_path / "edge-data" / "models" / sha / "model.onnx").is_file()  # kept for the next switch
        p.send_signal(signal.SIGTERM)
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
