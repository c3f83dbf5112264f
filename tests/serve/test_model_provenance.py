"""Every detection and ticket names the model that made it (issue 14): a flight processed
by the real pipeline with a stand-in detector that has a model file; its tickets, detections
and the flight carry the model's name and the sha256 of that file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from serve_helpers import CentreDetector, LiveServer, serve_config
from test_flights import photos_of, tickets_of, upload_photos, upload_rivers

from heyan.models.settings import DetectorSettings
from heyan.pipeline.ingest import IngestOptions
from heyan.serve.processing import FlightProcessor
from heyan.serve.tables import DetectionRow, Flight


def test_tickets_and_detections_record_their_model(tmp_path: Path, sim_flight: Path) -> None:
    model_file = tmp_path / "model.onnx"
    model_file.write_bytes(b"stand-in weights " * 100)
    detector = CentreDetector()
    detector.model_path = str(model_file)  # type: ignore[attr-defined]
    processor = FlightProcessor(DetectorSettings(model="site-a-v2"), detector_loader=lambda _: detector,
                                options=lambda fid: IngestOptions(flight_id=fid, tile=False))
    live = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}"), processor).start()
    try:
        admin = live.client("admin")
        upload_rivers(admin, sim_flight)
        r = upload_photos(live.client("operator"), photos_of(sim_flight), "模型溯源")
        fid = r.json()["flight"]["id"]
        assert live.wait_job(fid)["job"]["state"] == "done"
        sha = hashlib.sha256(model_file.read_bytes()).hexdigest()
        tickets = tickets_of(admin, fid)
        assert tickets
        for t in tickets:
            d = admin.get(f"/api/tickets/{t['id']}").json()
            assert (d["model_name"], d["model_sha256"]) == ("site-a-v2", sha)
        with live.state.db.session() as db:
            rows = db.execute(sa.select(DetectionRow.model_name, DetectionRow.model_sha256)).all()
            assert rows and set(rows) == {("site-a-v2", sha)}
            f = db.get(Flight, fid)
            assert (f.model_name, f.model_sha256) == ("site-a-v2", sha)
    finally:
        live.stop()
