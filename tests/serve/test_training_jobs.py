"""Adaptation jobs on a real server (issue 14): a site's fully labelled frames, a job started
through the API and run by the server's training thread (real Ultralytics fine-tune of the
small shipped model, one epoch on six 640 px frames), base vs new per class in its result,
the new model stored content-addressed with its card, 启用此模型 switching the server's flight
processing to it (a flight processed after it carries its sha256), and 回退 switching back."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serve_helpers import LiveServer, serve_config
from test_flights import photos_of, upload_photos, upload_rivers

from heyan.models.settings import DetectorSettings
from heyan.pipeline.ingest import IngestOptions
from heyan.serve.processing import FlightProcessor
from heyan.serve.tables import Blob, Flight, FrameLabel
from heyan.vision.classes import class_names

pytestmark = pytest.mark.slow
pytest.importorskip("ultralytics", reason="adaptation needs the train extra: pip install 'heyan[train]'")
BASE = "heyan-det-v1"  # the small shipped model (320 px input): a fine-tune of it takes seconds


def _site_frames(live: LiveServer, tmp: Path) -> int:
    """Six synthetic 640 px frames of one camera, stored and labelled 已完整标注 from their truth."""
    from heyan.datasets.synthetic.dataset import generate_dataset

    generate_dataset(tmp / "site", n_train=6, n_val=0, seed=3, size=640)
    names = class_names()
    n = 0
    with live.state.db.session() as db:
        for img in sorted((tmp / "site" / "images" / "train").glob("*")):
            sha, size = live.state.store.put_bytes(img.read_bytes())
            db.merge(Blob(sha256=sha, size=size, content_type="image/jpeg" if img.suffix == ".jpg" else "image/png"))
            boxes = []
            for line in (tmp / "site" / "labels" / "train" / f"{img.stem}.txt").read_text().split("\n"):
                if not line.strip():
                    continue
                c, cx, cy, w, h = line.split()
                x, y, bw, bh = float(cx) * 640, float(cy) * 640, float(w) * 640, float(h) * 640
                boxes.append({"class": names[int(c)], "box": [x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2], "origin": "drawn"})
            db.add(FrameLabel(photo_sha=sha, version=1, width=640, height=640, boxes=boxes, complete=True,
                              source="camera:box-1/cam-1", created_by="trainer-user", created_at=live.clock.now()))
            n += 1
        db.commit()
    return n


def _wait(c: Any, job_id: int, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen_progress = set()
    while time.monotonic() < deadline:
        job = c.get(f"/api/models/jobs/{job_id}").json()
        seen_progress.add(job["progress"])
        if job["state"] in ("done", "failed"):
            job["seen_progress"] = sorted(seen_progress)
            return job
        time.sleep(0.5)
    raise TimeoutError(f"training job {job_id} not finished in {timeout} s")


def test_job_evaluates_then_a_person_promotes_and_rolls_back(tmp_path: Path, sim_flight: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    processor = FlightProcessor(DetectorSettings(model=BASE), options=lambda fid: IngestOptions(flight_id=fid, tile=False))
    live = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}", training_minutes=2.0,
                                   training_epochs=1), processor).start()
    try:
        assert _site_frames(live, tmp_path) == 6
        trainer, viewer = live.client("trainer"), live.client("viewer")
        scopes = {s["scope"]: s["frames"] for s in trainer.get("/api/models/scopes").json()["items"]}
        assert scopes["camera:box-1/cam-1"] == 6 and scopes["all"] == 6
        assert viewer.post("/api/models/jobs", json={"scope": "all"}).status_code == 403
        base_sha = trainer.get("/api/models").json()["in_force"]["sha256"]

        r = trainer.post("/api/models/jobs", json={"scope": "camera:box-1/cam-1", "minutes": 2, "epochs": 1})
        assert r.status_code == 201, r.text
        job = _wait(trainer, r.json()["id"])
        assert job["state"] == "done", job["error"]
        assert job["base_name"] == BASE and job["base_sha256"] == base_sha
        res = job["result"]
        assert res["train_frames"] + res["holdout_frames"] == 6 and res["holdout_frames"] >= 1
        rows = {row["class"]: row for row in res["per_class"]}
        assert "all" in rows and rows["all"]["base_ap50"] is not None and rows["all"]["new_ap50"] is not None
        assert any(r_["instances"] for c, r_ in rows.items() if c != "all")

        # The new model: content-addressed with its card, not in force until a person says so.
        sha = job["new_model_sha256"]
        folder = live.config.data_dir / "models" / sha
        assert hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest() == sha
        models = trainer.get("/api/models").json()
        assert models["in_force"]["sha256"] == base_sha and not models["in_force"]["site_model"]
        card = next(m for m in models["models"] if m["sha256"] == sha)["card"]
        assert card["training"]["base"] == BASE and card["sha256"] == sha

        r = trainer.post(f"/api/models/{sha}/activate", json={"scope": "all"})
        assert r.status_code == 200, r.text
        assert r.json()["in_force"] == {"scope": "all", "name": card["name"], "sha256": sha, "site_model": True}
        assert live.state.processor.model_identity() == (card["name"], sha)

        # New detections come from the new model.
        upload_rivers(live.client("admin"), sim_flight)
        fid = upload_photos(live.client("operator"), photos_of(sim_flight)[:2], "新模型").json()["flight"]["id"]
        assert live.wait_job(fid, timeout=600)["job"]["state"] == "done"
        with live.state.db.session() as db:
            f = db.get(Flight, fid)
            assert (f.model_name, f.model_sha256) == (card["name"], sha)

        # 回退: one click back to the model before.
        r = trainer.post("/api/models/rollback", json={"scope": "all"})
        assert r.status_code == 200 and r.json()["in_force"]["sha256"] == base_sha and not r.json()["in_force"]["site_model"]
        assert live.state.processor.model_identity() == (BASE, base_sha)
        assert [h["action"] for h in r.json()["history"]] == ["rollback", "activate"]
        assert trainer.post("/api/models/rollback", json={"scope": "all"}).json()["in_force"]["sha256"] == sha  # and forth
        with live.state.db.session() as db:
            assert db.scalar(sa.select(sa.func.count()).select_from(FrameLabel)) == 6
    finally:
        live.stop()


def test_job_with_too_few_frames_fails_with_a_reason(live_sqlite: LiveServer) -> None:
    c = live_sqlite.client("admin")
    r = c.post("/api/models/jobs", json={"scope": "camera:nobody/none"})
    assert r.status_code == 201
    job = _wait(c, r.json()["id"], timeout=60)
    assert job["state"] == "failed" and "at least 2" in job["error"]
    assert c.post("/api/models/jobs", json={"scope": "everything"}).status_code == 422
    assert c.post(f"/api/models/{'0' * 64}/activate", json={"scope": "all"}).json()["code"] == "no_model"
