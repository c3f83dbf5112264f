"""Flight upload and processing on both engines, with a simulated flight (``heyan
simulate-flight``) and the real pipeline behind a stand-in detector: streaming upload of
photos or a zip, content dedup (retries are harmless), zip-slip and size refusals, job
progress, cross-flight matching (seen again / not seen closes a rectified ticket),
reprocessing without duplicates, and resuming a job whose worker died."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from serve_helpers import LiveServer, fake_processor, seed_ticket, serve_config, tiny_jpeg

from heyan.serve.tables import Evidence, Job, Ticket

MODEL = Path(__file__).resolve().parents[2] / "models" / "zoo" / "heyan-det-v1" / "model.onnx"


def photos_of(flight: Path) -> list[Path]:
    return sorted((flight / "photos").glob("*.jpg"))


def upload_photos(c: Any, paths: list[Path], name: str | None = None) -> Any:
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    return c.post("/api/flights", files=files, data={"name": name} if name else None)


def upload_rivers(c: Any, flight: Path) -> None:
    r = c.post("/api/rivers", content=(flight / "rivers.geojson").read_bytes(), headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


def tickets_of(c: Any, flight_id: str) -> list[dict[str, Any]]:
    return c.get("/api/tickets", params={"flight_id": flight_id, "limit": 500}).json()["items"]


def test_rivers_validated_and_versioned(live: LiveServer, sim_flight: Path) -> None:
    admin = live.client("admin")
    r = admin.post("/api/rivers", json={"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None,
                                                                                  "properties": {"kind": "segment"}}]})
    assert r.status_code == 422 and r.json()["errors"] and "problem" in r.json()["detail"]
    assert admin.get("/api/rivers/current").status_code == 404
    upload_rivers(admin, sim_flight)
    again = admin.post("/api/rivers", content=(sim_flight / "rivers.geojson").read_bytes(),
                       headers={"Content-Type": "application/json"})
    assert again.json()["version"] == 1  # the same network: no new version
    seed_ticket(live, "tk-chief-change", segment="seg-1", state="confirmed")
    doc = json.loads((sim_flight / "rivers.geojson").read_text(encoding="utf-8"))
    seg1 = next(f for f in doc["features"] if f["properties"].get("id") == "seg-1")
    seg1["properties"]["chiefs"]["village"]["name"] = "新村长"  # a new village chief
    assert admin.post("/api/rivers", json=doc).json()["version"] == 2
    # Dispatch goes to the chief in force now, not the one on the ticket's network version.
    r = admin.post("/api/tickets/tk-chief-change/transition", json={"to": "dispatched"})
    assert r.json()["chief_name"] == "新村长", r.text
    versions = admin.get("/api/rivers").json()
    assert [v["version"] for v in versions] == [2, 1] and [v["active"] for v in versions] == [True, False]
    segs = admin.get("/api/rivers/current/segments").json()
    assert segs and segs[0]["chiefs"] and len(segs[0]["bbox"]) == 4
    assert admin.get("/api/rivers/1").status_code == 200
    assert live.client("operator").post("/api/rivers", json=doc).status_code == 403


def test_upload_process_and_cross_flight(live: LiveServer, sim_flight: Path) -> None:
    admin, op, rev = live.client("admin"), live.client("operator"), live.client("reviewer")
    upload_rivers(admin, sim_flight)
    photos = photos_of(sim_flight)
    assert len(photos) == 6

    r = upload_photos(op, photos, "first flight")
    assert r.status_code == 201, r.text
    a = r.json()["flight"]
    assert a["n_photos"] == 6 and a["job"]["state"] in ("queued", "running", "done")
    again = upload_photos(op, photos + photos[:1])  # a retry (with a photo twice): the same flight
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["flight"]["id"] == a["id"]

    fa = live.wait_job(a["id"])
    assert fa["job"]["state"] == "done", fa["job"]
    assert fa["job"]["photos_done"] == fa["job"]["photos_total"] == 6
    assert fa["summary"]["photos"] == 6 and fa["network_version"] == 1
    ta = tickets_of(rev, a["id"])
    assert len(ta) >= 3 and all(t["state"] == "pending_review" and t["network_version"] == 1 for t in ta)
    assert admin.get(ta[0]["best_photo_url"]).headers["content-type"] == "image/jpeg"
    assert admin.get(ta[0]["best_crop_url"]).status_code == 200
    assert admin.get(fa["report_url"]).status_code == 200
    pdf = admin.get(fa["report_pdf_url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["content-disposition"].startswith("attachment;")

    # The ticket made from the first photo is rectified; a later flight without that photo
    # covers its place and does not see it: closed by the flight (销号).
    first = next(t for t in ta if t["best_image"] == photos[0].name)
    for to in ("confirmed", "dispatched"):
        assert rev.post(f"/api/tickets/{first['id']}/transition", json={"to": to}).status_code == 200, to
    segment = rev.get(f"/api/tickets/{first['id']}").json()["segment_id"]
    admin.patch(f"/api/users/{live.client('chief').get('/api/auth/me').json()['id']}", json={"segments": [segment]})
    r = live.client("chief").post(f"/api/tickets/{first['id']}/rectify", files={"photo": ("ok.jpg", tiny_jpeg(), "image/jpeg")})
    assert r.status_code == 200, r.text

    broken = sim_flight / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a photo")
    r = upload_photos(op, [*photos[1:], broken], "second flight")
    b = r.json()["flight"]
    assert r.status_code == 201 and b["id"] != a["id"]
    fb = live.wait_job(b["id"])
    assert fb["job"]["state"] == "done", fb["job"]
    assert tickets_of(rev, b["id"]) == []  # every object was already a ticket
    assert fb["summary"]["seen_again_recorded"] >= 1
    assert [p["name"] for p in fb["rejected_photos"]] == ["broken.jpg"] and fb["rejected_photos"][0]["reason"]
    closed = rev.get(f"/api/tickets/{first['id']}").json()
    assert closed["state"] == "closed", closed["audit"]
    assert any(e["kind"] == "not_seen" and e["flight_id"] == b["id"] for e in closed["evidence"])
    assert closed["audit"][-1]["actor"] == "system" and closed["audit"][-1]["to_state"] == "closed"
    other = next(t for t in ta if t["id"] != first["id"] and t["best_image"] != photos[0].name)
    seen = rev.get(f"/api/tickets/{other['id']}").json()
    assert any(e["kind"] == "seen_again" and e["flight_id"] == b["id"] for e in seen["evidence"])

    # Reprocessing the first flight makes no new tickets and keeps the workflow.
    n_tickets = rev.get("/api/tickets").json()["total"]
    with live.state.db.session() as db:
        n_ev = db.scalar(sa.select(sa.func.count()).select_from(Evidence))
    assert op.post(f"/api/flights/{a['id']}/reprocess").status_code == 202
    assert live.wait_job(a["id"])["job"]["state"] == "done"
    assert rev.get("/api/tickets").json()["total"] == n_tickets
    assert rev.get(f"/api/tickets/{first['id']}").json()["state"] == "closed"
    with live.state.db.session() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Evidence)) == n_ev

    # The same photos in one zip, twice: one flight (zip identity), matched to the open tickets.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for p in photos:
            zf.write(p, f"DCIM/{p.name}")
    z1 = op.post("/api/flights", files={"files": ("flight.zip", buf.getvalue(), "application/zip")})
    z2 = op.post("/api/flights", files={"files": ("flight.zip", buf.getvalue(), "application/zip")})
    assert z1.status_code == 201 and z2.status_code == 200 and z1.json()["flight"]["id"] == z2.json()["flight"]["id"]
    fz = live.wait_job(z1.json()["flight"]["id"])
    assert fz["job"]["state"] == "done" and fz["n_photos"] == 6
    # Open tickets were matched; only the closed one's object, seen again, is a new ticket.
    new = tickets_of(rev, fz["id"])
    assert [t["best_image"] for t in new] == [f"DCIM/{photos[0].name}"]
    assert rev.get("/api/tickets").json()["total"] == n_tickets + 1


def test_upload_refusals(live: LiveServer, sim_flight: Path) -> None:
    op = live.client("operator")
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/evil.jpg", b"\xff\xd8x")
    r = op.post("/api/flights", files={"files": ("evil.zip", evil.getvalue(), "application/zip")})
    assert r.status_code == 422 and "outside" in r.json()["detail"]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.jpg", b"\0" * (30 * 1024 * 1024))
    r = op.post("/api/flights", files={"files": ("bomb.zip", bomb.getvalue(), "application/zip")})
    assert r.status_code == 422 and "bomb" in r.json()["detail"]
    r = op.post("/api/flights", files={"files": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 422 and r.json()["skipped"]
    r = op.post("/api/flights", json={"files": []})
    assert r.status_code == 415
    cfg = live.state.config
    old = cfg.max_photo_bytes, cfg.max_upload_bytes
    try:
        cfg.max_photo_bytes = 1000
        r = upload_photos(op, photos_of(sim_flight)[:1])
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        cfg.max_photo_bytes, cfg.max_upload_bytes = old[0], 5000
        r = upload_photos(op, photos_of(sim_flight)[:2])
        assert r.status_code == 413
    finally:
        cfg.max_photo_bytes, cfg.max_upload_bytes = old
    # Nothing half-written is left behind under a real name.
    assert not list((cfg.data_dir / "store" / "tmp").glob("*.part"))
    assert live.client("viewer").post("/api/flights", files={"files": ("a.jpg", b"x", "image/jpeg")}).status_code == 403


def test_job_of_dead_worker_resumes(db_url: str, tmp_path: Path, sim_flight: Path) -> None:
    """A job left 'running' by a worker that died is requeued at the next start and done once."""
    cfg = serve_config(tmp_path, db_url, workers=0)
    first = LiveServer(cfg, fake_processor()).start()
    try:
        upload_rivers(first.client("admin"), sim_flight)
        fid = upload_photos(first.client("operator"), photos_of(sim_flight)).json()["flight"]["id"]
        with first.state.db.session() as db:  # a worker of this host whose process is gone
            job = db.scalar(sa.select(Job).where(Job.flight_id == fid))
            job.state, job.worker_id, job.attempts = "running", f"{os.uname().nodename}:999999:0:dead", 1
            job.lease_until = first.clock.now().replace(year=2100)
            db.commit()
    finally:
        first.stop()
    cfg.workers = 1
    second = LiveServer(cfg, fake_processor()).start()
    try:
        f = second.wait_job(fid)
        assert f["job"]["state"] == "done" and f["job"]["attempts"] == 2
        with second.state.db.session() as db:
            n = db.scalar(sa.select(sa.func.count()).select_from(Ticket))
            assert n == f["summary"]["tickets_created"] > 0
            assert db.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
    finally:
        second.stop()


@pytest.mark.skipif(not MODEL.is_file(), reason=f"default model heyan-det-v1 not trained yet ({MODEL} absent)")
def test_real_model_flight(tmp_path: Path, sim_flight: Path) -> None:
    srv = LiveServer(serve_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}"), None).start()
    try:
        upload_rivers(srv.client("admin"), sim_flight)
        fid = upload_photos(srv.client("operator"), photos_of(sim_flight)).json()["flight"]["id"]
        f = srv.wait_job(fid, timeout=300)
        assert f["job"]["state"] == "done", f["job"]
        assert f["summary"]["photos"] == 6
    finally:
        srv.stop()
