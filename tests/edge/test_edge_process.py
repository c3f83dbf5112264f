"""``heyan edge`` as real processes against a fake server on loopback: --once summary,
kill -9 mid-upload then restart, wrong token, an unreachable camera, SIGTERM."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

from edge_helpers import (
    SCENES,
    TOKEN,
    fast_camera,
    last_json_line,
    popen_edge,
    run_edge,
    write_config,
)
from support.fake_edge_server import FakeEdgeServer

SUMMARY_KEYS = {"frames", "detector_runs", "events", "delivered", "queued", "fps"}


def _records(data_dir: Path) -> list[tuple[str, int, str]]:
    con = sqlite3.connect(data_dir / "outbox.db")
    try:
        return con.execute("SELECT event_id, seq, status FROM events").fetchall()
    finally:
        con.close()


def _wait(pred, timeout: float, what: str) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_once_with_the_real_model_prints_json_summary_last(tmp_path, videos):
    with FakeEdgeServer(TOKEN) as server:
        cfg = write_config(tmp_path / "box.yaml", server.url, [fast_camera("bridge-1", str(videos("one_object")), SCENES["one_object"])],
                           model="heyan-det-v1")
        res = run_edge(["--config", str(cfg), "--once"], timeout=90)
        assert res.returncode == 0, res.stderr[-3000:]
        summary = last_json_line(res.stdout)
        print("\n", json.dumps(summary))
        assert SUMMARY_KEYS <= set(summary)
        assert summary["frames"] == SCENES["one_object"].n_frames and summary["detector_runs"] > 0
        assert summary["delivered"] >= summary["events"] and summary["queued"] == 0
        assert len(server.state.events) == summary["events"]
        assert len(server.state.heartbeats) >= 1 and "fps" in server.state.heartbeats[0]


def test_kill_9_mid_upload_then_restart_delivers_every_event_exactly_once(tmp_path, videos):
    with FakeEdgeServer(TOKEN) as server:
        server.state.delay_s = 0.15  # slow server: the kill lands while uploads are in flight
        cfg = write_config(tmp_path / "box.yaml", server.url, [fast_camera("cam", str(videos("objects")), SCENES["objects"])])
        p = popen_edge(["--config", str(cfg), "--once"], tmp_path / "run1.log")
        try:
            _wait(lambda: len(server.state.posts) >= 2, 30, "the first uploads")
        finally:
            p.kill()  # SIGKILL: no cleanup of any kind
            p.wait(10)
        first_run = _records(tmp_path / "edge-data")
        delivered_before = len(server.state.events)
        assert first_run and len([r for r in first_run if r[2] != "delivered"]) > 0, "nothing was left to deliver"
        res = run_edge(["--config", str(cfg), "--once"], timeout=90)
        assert res.returncode == 0, res.stderr[-3000:]
        summary = last_json_line(res.stdout)
        records = _records(tmp_path / "edge-data")
    print(f"\nkilled after {delivered_before} event(s) reached the server; {len(first_run)} records then, "
          f"{len(records)} after the restart; summary {summary}")
    assert {r[0] for r in first_run} <= {r[0] for r in records}  # nothing written before the kill is lost
    assert summary["queued"] == 0 and all(r[2] == "delivered" for r in records)
    for eid, seq, _ in records:
        assert server.state.events[eid]["seq"] == seq  # the server has every event's final state
    assert all(n == 1 for n in server.state.stored.values())  # stored exactly once each
    dup = sum(n - 1 for n in server.state.posts.values())
    assert dup <= 1  # at most the one request in flight at the kill was sent again


def test_wrong_token_is_reported_and_the_runner_keeps_running_until_sigterm(tmp_path, videos):
    with FakeEdgeServer("the-right-token") as server:
        cam = fast_camera("cam", str(videos("objects")), SCENES["objects"], loop=True, realtime=True)
        cfg = write_config(tmp_path / "box.yaml", server.url, [cam], token="a-wrong-token")
        log = tmp_path / "run.log"
        p = popen_edge(["--config", str(cfg)], log)
        health_file = tmp_path / "edge-data" / "health.json"
        try:
            def auth_reported() -> bool:
                try:
                    return bool(json.loads(health_file.read_text())["auth_error"])
                except (OSError, ValueError, KeyError):
                    return False

            _wait(auth_reported, 40, "the token error in health.json")
            frames_then = json.loads(health_file.read_text())["cameras"]["cam"]["frames"]
            _wait(lambda: json.loads(health_file.read_text())["cameras"]["cam"]["frames"] > frames_then + 10, 20,
                  "frames after the token error")
            assert p.poll() is None  # still running
            p.send_signal(signal.SIGTERM)
            assert p.wait(30) == 0
        finally:
            if p.poll() is None:
                p.kill()
    text = log.read_text()
    health = json.loads(health_file.read_text())
    assert "wrong device token" in text and "wrong device token" in health["last_error"]
    assert server.state.unauthorized >= 1 and not server.state.events
    records = _records(tmp_path / "edge-data")
    assert records and all(r[2] in ("auth", "pending") for r in records)  # kept for after the fix
    assert health["cameras"]["cam"]["state"] == "stopped"


def test_unreachable_source_does_not_stop_the_other_camera(tmp_path, videos):
    with FakeEdgeServer(TOKEN) as server:
        cams = [
            {"id": "dead", "source": "rtsp://127.0.0.1:9/stream1", "reconnect_max_s": 1.0},
            fast_camera("alive", str(videos("objects")), SCENES["objects"]),
            {"id": "missing", "source": str(tmp_path / "no-such-video.mp4")},
        ]
        cfg = write_config(tmp_path / "box.yaml", server.url, cams)
        res = run_edge(["--config", str(cfg), "--once"], timeout=90)
    assert res.returncode == 0, res.stderr[-3000:]
    s = last_json_line(res.stdout)
    print("\n", json.dumps(s["cameras"]))
    assert s["cameras"]["alive"]["events"] >= 3 and s["cameras"]["alive"]["state"] == "finished"
    assert s["delivered"] >= s["events"] and s["queued"] == 0
    assert "cannot open rtsp://127.0.0.1:9/stream1" in s["cameras"]["dead"]["last_error"]
    assert "video file not found" in s["cameras"]["missing"]["last_error"]
    assert "camera dead: cannot open" in res.stderr


def test_sigterm_ends_open_events_flushes_and_exits_0(tmp_path, videos):
    with FakeEdgeServer(TOKEN) as server:
        cam = fast_camera("cam", str(videos("one_object")), SCENES["one_object"], loop=True, realtime=True,
                          tracker={"min_hits": 2, "window": 3, "end_after_s": 60.0, "follow_up_s": 0.3})
        cfg = write_config(tmp_path / "box.yaml", server.url, [cam])
        p = popen_edge(["--config", str(cfg)], tmp_path / "run.log")
        try:
            _wait(lambda: any(e["phase"] == "start" for e in server.state.events.values()), 40, "an event start")
            p.send_signal(signal.SIGTERM)
            assert p.wait(30) == 0
        finally:
            if p.poll() is None:
                p.kill()
        events = list(server.state.events.values())
    assert events and all(e["phase"] == "end" and e["ended_at"] for e in events)  # ended and delivered before exit
    assert all(r[2] == "delivered" for r in _records(tmp_path / "edge-data"))
    assert "stopping" in (tmp_path / "run.log").read_text()
