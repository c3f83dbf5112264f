"""Delivery through the outbox to a fake server on loopback (in-process runner): server
down then up, 5xx, refused items, a frozen stream, and the uploader's contract."""

from __future__ import annotations

import threading
import time

import pytest
from edge_helpers import SCENES, TOKEN, fast_camera, write_config
from support.blob_detector import BlobDetector
from support.fake_edge_server import FakeEdgeServer
from support.net import free_port

from heyan.datasets.synthetic.camera_video import OutfallSpec, SceneSpec, write_video
from heyan.edge.config import load_config
from heyan.edge.health import Health
from heyan.edge.outbox import Outbox
from heyan.edge.runner import EdgeRunner
from heyan.edge.uploader import HttpClient, Uploader


def _runner(tmp_path, url: str, cameras: list[dict], **kw) -> EdgeRunner:
    cfg = load_config(write_config(tmp_path / "box.yaml", url, cameras, **kw))
    return EdgeRunner(cfg, once=True, deliver_timeout_s=20, detector=BlobDetector())


def test_server_down_then_up_delivers_everything_exactly_once(tmp_path, videos):
    port = free_port()
    runner = _runner(tmp_path, f"http://127.0.0.1:{port}", [fast_camera("cam", str(videos("objects")), SCENES["objects"])])
    server = FakeEdgeServer(TOKEN, port=port)

    def come_back() -> None:
        time.sleep(1.5)  # connection refused until then
        server.state.mode = "503"
        server.start()
        time.sleep(1.0)  # then 503 for a while
        server.state.mode = "ok"

    t = threading.Thread(target=come_back)
    t.start()
    try:
        summary = runner.run()
    finally:
        t.join()
        server.stop()
        runner.close()
    records = Outbox(tmp_path / "edge-data").events()
    print(f"\n{summary.events} events, {len(records)} records, posts {sum(server.state.posts.values())}")
    assert summary.events >= 4 and summary.queued == 0
    assert all(r["status"] == "delivered" and r["delivered_seq"] == r["seq"] for r in records)
    for r in records:
        assert server.state.events[r["event_id"]]["seq"] == r["seq"]
        assert server.state.events[r["event_id"]]["phase"] == "end"
    assert all(n == 1 for n in server.state.stored.values())
    assert all(n == 1 for n in server.state.posts.values())  # no reply was lost: nothing sent twice
    shas = {r["body"]["snapshot_sha256"] for r in records} | {r["body"]["crop_sha256"] for r in records}
    assert shas <= set(server.state.media) and all(n == 1 for n in server.state.media.values())


def test_frozen_stream_is_reported(tmp_path):
    spec = SceneSpec(seconds=6, fps=10, seed=11, freeze_after_s=2.0)
    video = tmp_path / "frozen.avi"
    write_video(video, spec)
    with FakeEdgeServer(TOKEN) as server:
        runner = _runner(tmp_path, server.url, [fast_camera("cam", str(video), spec, frozen_after_s=1.5)])
        try:
            runner.run()
        finally:
            runner.close()
        frozen = [e for e in server.state.events.values() if e["kind"] == "stream_frozen"]
    assert len(frozen) == 1 and frozen[0]["snapshot_sha256"]
    assert runner.workers[0].health.last_error.startswith("stream frozen")
    # the picture stopped changing at 2.0 s (the first repeated frame is 2.1 s)
    first = runner.workers[0].first_ts
    from datetime import datetime

    started = datetime.fromisoformat(frozen[0]["started_at"].replace("Z", "+00:00")).timestamp()
    assert 2.0 <= started - first <= 2.3


def test_uploader_retries_5xx_and_gives_up_on_a_refused_item(tmp_path):
    with FakeEdgeServer(TOKEN) as server:
        ob = Outbox(tmp_path)
        ob.put_event("bad", "cam", "object", {"event_id": "bad", "kind": "not-a-kind"}, [])  # fake answers 422
        ob.put_event("good", "cam", "object", {"event_id": "good", "kind": "object", "phase": "start"}, [])
        server.state.mode = "503"
        stop = threading.Event()
        up = Uploader(ob, HttpClient(server.url, TOKEN, 2.0), Health("t"), stop, retry_base_s=0.1, retry_max_s=0.3)
        up.start()
        time.sleep(0.8)
        assert ob.depth() == 2 and up.failures >= 2  # backing off, nothing lost
        server.state.mode = "ok"
        deadline = time.time() + 10
        while time.time() < deadline and ob.depth():
            time.sleep(0.05)
        stop.set()
        up.join(5)
    status = {e["event_id"]: (e["status"], e["last_error"]) for e in ob.events()}
    assert status["good"][0] == "delivered"
    assert status["bad"][0] == "rejected" and "422" in status["bad"][1]


@pytest.mark.parametrize("code", [401, 403])
def test_uploader_marks_auth_failures_and_reports_them(tmp_path, code):
    with FakeEdgeServer("the-right-token") as server:
        server.state.auth_status = code
        ob = Outbox(tmp_path)
        ob.put_event("e1", "cam", "object", {"event_id": "e1", "kind": "object"}, [])
        health = Health("t")
        up = Uploader(ob, HttpClient(server.url, "a-wrong-token", 2.0), health, threading.Event())
        [item] = ob.due()
        assert up.deliver(item) == "auth"
    assert "wrong device token" in health.auth_error and str(code) in health.auth_error
    assert ob.events()[0]["status"] == "auth" and ob.due() == []  # not retried ...
    assert Outbox(tmp_path).due()[0].event_id == "e1"  # ... until a restart (maybe with a fixed token)


def test_runner_reports_outfall_events_with_snapshots(tmp_path):
    spec = SceneSpec(seconds=14, fps=10, seed=12, outfall=OutfallSpec(x=0.4, flow=[(3.0, 14.0)], colour=[(8.0, 14.0, (30, 35, 40))]))
    video = tmp_path / "outfall.avi"
    write_video(video, spec)
    outfalls = [{"id": "YS-001", "roi": spec.outfall_roi(), "type": "rain",
                 "flow": {"window_s": 1.0, "min_on_s": 2.0, "min_off_s": 3.0},
                 "colour": {"learn_s": 2.0, "min_on_s": 2.0, "min_off_s": 2.0}}]
    with FakeEdgeServer(TOKEN) as server:
        runner = _runner(tmp_path, server.url, [fast_camera("outfall-cam", str(video), spec, outfalls=outfalls)])
        try:
            summary = runner.run()
        finally:
            runner.close()
        got = {e["kind"]: e for e in server.state.events.values()}
        media = dict(server.state.media)
    assert summary.queued == 0
    dry, colour = got["dry_weather_discharge"], got["abnormal_colour"]
    for ev in (dry, colour):
        assert ev["outfall_id"] == "YS-001" and ev["camera_id"] == "outfall-cam" and ev["snapshot_sha256"] in media
        assert ev["phase"] == "end" and ev["details"]["outfall_type"] == "rain"  # ended when the file ended
    assert colour["details"]["delta_e"] >= 10 and dry["details"]["flow_activity"] > 0
