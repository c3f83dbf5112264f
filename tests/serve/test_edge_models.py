"""Which model an edge box runs (issue 14): a site model switched on for one box is named in
that box's heartbeat answer and served to it alone (device token), by hash; 回退 takes it back
(the answer names none: the box runs its configured model again)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from serve_helpers import LiveServer

from heyan.serve.training import registry


def _device(live: LiveServer, name: str) -> str:
    r = live.client("admin").post("/api/devices", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _beat(live: LiveServer, token: str) -> dict:
    r = live.client().post("/api/edge/heartbeat", json={"outbox_depth": 0}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_heartbeat_names_the_box_model_and_serves_it_by_hash(live_sqlite: LiveServer, tmp_path: Path) -> None:
    live = live_sqlite
    bridge, other = _device(live, "bridge-07"), _device(live, "outfall-02")
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"weights of the bridge model " * 64)
    sha = hashlib.sha256(onnx.read_bytes()).hexdigest()
    with live.state.db.session() as db:
        registry.store_model(db, live.config.data_dir, onnx, {"name": "det-v2-bridge-07", "imgsz": 320}, "heyan-det-v2",
                             None, None, "trainer-user", live.clock.now())
        db.commit()
    assert _beat(live, bridge)["model"] is None  # nothing switched on: its own configured model

    trainer = live.client("trainer")
    r = trainer.post(f"/api/models/{sha}/activate", json={"scope": "device:bridge-07"})
    assert r.status_code == 200, r.text
    assert r.json()["in_force"] == {"scope": "device:bridge-07", "name": "det-v2-bridge-07", "sha256": sha, "site_model": True}
    models = trainer.get("/api/models").json()
    assert models["in_force"]["sha256"] != sha  # the server's own model did not change
    targets = {x["scope"]: x for x in models["targets"]}
    assert targets["device:bridge-07"]["sha256"] == sha and targets["device:outfall-02"]["sha256"] is None
    assert next(iter(targets)) == "all"
    m = _beat(live, bridge)["model"]
    assert m == {"name": "det-v2-bridge-07", "sha256": sha, "onnx_url": f"/api/edge/models/{sha}/model.onnx",
                 "card_url": f"/api/edge/models/{sha}/model.json"}
    auth = {"Authorization": f"Bearer {bridge}"}
    got = live.client().get(m["onnx_url"], headers=auth)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    assert live.client().get(m["card_url"], headers=auth).json()["sha256"] == sha
    # Another box, a person's token: not theirs.
    assert live.client().get(m["onnx_url"], headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert _beat(live, other)["model"] is None
    assert live.client("admin").get(m["onnx_url"]).status_code == 403

    r = trainer.post("/api/models/rollback", json={"scope": "device:bridge-07"})
    assert r.status_code == 200 and r.json()["in_force"]["sha256"] is None
    assert _beat(live, bridge)["model"] is None
    assert live.client().get(m["onnx_url"], headers=auth).status_code == 200  # still fetchable: one click to go forward

    assert trainer.post(f"/api/models/{sha}/activate", json={"scope": "device:nobody"}).json()["code"] == "no_device"
    assert trainer.post(f"/api/models/{sha}/activate", json={"scope": "camera:x/y"}).json()["code"] == "scope_not_supported"


def test_box_fetches_verifies_switches_reports_and_keeps_running_on_failure(live_sqlite: LiveServer, tmp_path: Path) -> None:
    """The box's side (edge.model_sync with the real HTTP client, heartbeat and detector
    service) against the real server: the named model is fetched by hash, checked, loaded in
    onnxruntime and swapped in; the next heartbeat reports it; an unusable model is refused
    with the old one still running; 回退 brings the configured model back."""
    import json
    import threading

    from heyan.edge.detection import DetectorService
    from heyan.edge.health import Health
    from heyan.edge.heartbeat import Heartbeat
    from heyan.edge.model_sync import ModelSync
    from heyan.edge.outbox import Outbox
    from heyan.edge.uploader import HttpClient
    from heyan.models.registry import load_detector, resolve_model

    live = live_sqlite
    token = _device(live, "bridge-09")
    onnx, card = resolve_model("heyan-det-v1")  # the site model: a real detector with the same classes
    good = registry.store_model
    with live.state.db.session() as db:
        m = good(db, live.config.data_dir, onnx, {**json.loads(card.model_dump_json()), "name": "det-v1-bridge-09"},
                 "heyan-det-v2", None, None, "trainer-user", live.clock.now())
        broken_file = tmp_path / "broken.onnx"
        broken_file.write_bytes(b"not an onnx model")
        broken = good(db, live.config.data_dir, broken_file, {"name": "broken", "imgsz": 320}, None, None, None, "t", live.clock.now())
        sha, bad_sha = m.sha256, broken.sha256
        db.commit()

    health = Health("bridge-09")
    service = DetectorService(load_detector("heyan-det-v2"))
    configured = service.detector
    switched: list[str | None] = []

    def switch(det: object, name: str, s: str | None) -> None:
        service.swap(det if det is not None else configured)
        health.model_name, health.model_sha256 = name or "heyan-det-v2", s
        switched.append(s)

    client = HttpClient(live.url, token)
    sync = ModelSync(client, tmp_path / "box", health, switch)
    hb = Heartbeat(health, Outbox(tmp_path / "box"), tmp_path / "box", client, 30.0, threading.Event(), models=sync)
    trainer = live.client("trainer")

    hb.beat()
    assert switched == [] and service.detector is configured
    trainer.post(f"/api/models/{sha}/activate", json={"scope": "device:bridge-09"}).raise_for_status()
    hb.beat()
    assert switched == [sha] and service.detector is not configured
    assert Path(service.detector.model_path).resolve() == (tmp_path / "box" / "models" / sha / "model.onnx").resolve()
    hb.beat()  # the next heartbeat says which model runs
    dev = next(d for d in live.client("admin").get("/api/devices").json() if d["name"] == "bridge-09")
    assert live.client("admin").get(f"/api/devices/{dev['id']}").json()["health"]["model"]["sha256"] == sha

    # A model that cannot be used: refused, the running one stays, the health says so.
    trainer.post(f"/api/models/{bad_sha}/activate", json={"scope": "device:bridge-09"}).raise_for_status()
    running = service.detector
    hb.beat()
    assert service.detector is running and switched == [sha]
    assert health.model_error and bad_sha[:12] in health.model_error and sha[:12] in health.model_error

    # 回退 twice: back to the site model (from the box's cache), then once more... and then to none.
    trainer.post("/api/models/rollback", json={"scope": "device:bridge-09"}).raise_for_status()
    hb.beat()
    assert health.model_sha256 == sha and health.model_error is None
    with live.state.db.session() as db:
        registry.activate(db, None, "device:bridge-09", "trainer-user", live.clock.now())
        db.commit()
    hb.beat()
    assert switched[-1] is None and service.detector is configured and health.model_sha256 is None


def test_an_edge_event_names_its_model_and_the_ticket_records_it(live_sqlite: LiveServer, tmp_path: Path) -> None:
    """The box writes the running model into each object event (edge.events via the runner's
    health); the ticket made from the event carries it, as flight tickets do."""
    import numpy as np
    from test_edge_api import device, event, network, post

    from heyan.edge.events import EventSink
    from heyan.edge.outbox import Outbox

    sha = "ab" * 32
    outbox = Outbox(tmp_path / "box")
    sink = EventSink(outbox, "box-x", "bridge-1", model=lambda: {"name": "det-v2-bridge", "sha256": sha})
    sink.start("object", 1.0, np.zeros((64, 64, 3), np.uint8), box=[1, 1, 9, 9], score=0.8, class_name="floating_debris")
    [item] = outbox.due(limit=10)
    assert item.body["details"]["model"] == {"name": "det-v2-bridge", "sha256": sha}
    outbox.close()

    network(live_sqlite)
    c, _, _ = device(live_sqlite)
    got = post(c, event(details={"model": {"name": "det-v2-bridge", "sha256": sha}}), expect=201)
    assert got["outcome"] == "ticket"
    t = live_sqlite.client("admin").get(f"/api/tickets/{got['ticket_id']}").json()
    assert (t["model_name"], t["model_sha256"]) == ("det-v2-bridge", sha)
