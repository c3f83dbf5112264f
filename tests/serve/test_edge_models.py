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
    assert trainer.get("/api/models").json()["in_force"]["sha256"] != sha  # the server's own model did not change
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
