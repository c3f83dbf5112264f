"""Stored files are authorised through what references them (issue 16): a chief cannot
fetch the photo of another segment's ticket or the crop of a rejected one, nor a flight's
photos; an edge box attaches only snapshots it uploaded itself; a rectification photo must
decode as an image (and a refused one leaves nothing in the store)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from serve_helpers import LiveServer, seed_ticket, tiny_jpeg
from test_edge_api import device, event, network, post, put

from heyan.serve.blobdb import ensure_blobs
from heyan.serve.tables import Evidence, Flight, FlightPhoto, Ticket


def _blob(live: LiveServer, data: bytes) -> str:
    st = live.state
    sha, size = st.store.put_bytes(data)
    with st.db.session() as db:
        ensure_blobs(db, [(sha, size, "image/jpeg")])
        db.commit()
    return sha


def test_chief_gets_only_pictures_of_tickets_he_may_see(live_module: LiveServer) -> None:
    live = live_module
    mine, other, rejected, crop, flight_only, rect = (_blob(live, tiny_jpeg(i)) for i in range(100, 106))
    seed_ticket(live, "tk-blob-mine", segment="seg-1", state="dispatched")
    seed_ticket(live, "tk-blob-other", segment="seg-9", state="dispatched")
    seed_ticket(live, "tk-blob-rej", segment="seg-1", state="rejected")
    with live.state.db.session() as db:
        db.get(Ticket, "tk-blob-mine").best_photo_sha = mine
        db.get(Ticket, "tk-blob-other").best_photo_sha = other
        db.get(Ticket, "tk-blob-rej").best_crop_sha = crop
        db.add(Evidence(ticket_id="tk-blob-rej", kind="seen_again", photo_sha=rejected, created_at=datetime.now(UTC)))
        db.add(Evidence(ticket_id="tk-blob-mine", kind="rectification", photo_sha=rect, created_at=datetime.now(UTC)))
        db.add(Flight(id="fl-blobtest", name="f", content_key="k" * 64, source="photos", n_photos=1, bytes=1,
                      uploaded_by="op", created_at=datetime.now(UTC)))
        db.flush()
        db.add(FlightPhoto(flight_id="fl-blobtest", name="p.jpg", sha256=flight_only, size=1))
        db.commit()
    chief, viewer = live.client("chief"), live.client("viewer")
    assert chief.get("/api/tickets/tk-blob-other").status_code == 404  # as before: the ticket is not his
    assert chief.get(f"/api/blobs/{mine}").status_code == 200
    assert chief.get(f"/api/blobs/{rect}").status_code == 200
    for sha in (other, rejected, crop, flight_only):
        r = chief.get(f"/api/blobs/{sha}")
        assert r.status_code == 404, (sha, r.status_code)
    for sha in (mine, other, rejected, crop, flight_only, rect):  # a viewer sees every ticket and flight
        assert viewer.get(f"/api/blobs/{sha}").status_code == 200
    # The flight report (HTML) is served sandboxed, to those who may see flights.
    st = live.state
    report, size = st.store.put_bytes(b"<html><style>b{}</style><b>report</b></html>")
    with st.db.session() as db:
        ensure_blobs(db, [(report, size, "text/html")])
        db.get(Flight, "fl-blobtest").summary = {"report_sha": report}
        db.commit()
    r = viewer.get(f"/api/blobs/{report}")
    assert r.status_code == 200 and r.headers["content-security-policy"].startswith("sandbox;")
    assert "script" not in r.headers["content-security-policy"].replace("frame-ancestors", "")
    assert chief.get(f"/api/blobs/{report}").status_code == 404
    orphan = _blob(live, tiny_jpeg(999))  # referenced by nothing
    assert viewer.get(f"/api/blobs/{orphan}").status_code == 404
    assert live.client("admin").get(f"/api/blobs/{orphan}").status_code == 200


def test_edge_box_attaches_only_its_own_uploads(live: LiveServer) -> None:
    network(live)
    a, _, _ = device(live)
    b, _, _ = device(live)
    theirs = put(a, tiny_jpeg(7))
    flight_photo = _blob(live, tiny_jpeg(8))
    mine = put(b, tiny_jpeg(9))
    got = post(b, event(snapshot_sha256=theirs, crop_sha256=flight_photo), 201)
    t = live.client("admin").get(f"/api/tickets/{got['ticket_id']}").json()
    assert t["best_photo_url"] is None and t["best_crop_url"] is None
    assert all(e["photo_url"] is None and e["crop_url"] is None for e in t["evidence"])
    # Nothing a viewer may see references box A's snapshot through box B's event.
    assert live.client("viewer").get(f"/api/blobs/{theirs}").status_code == 404
    got = post(b, event(east=300.0, snapshot_sha256=mine), 201)
    t = live.client("admin").get(f"/api/tickets/{got['ticket_id']}").json()
    assert t["best_photo_url"] == f"/api/blobs/{mine}"
    assert live.client("viewer").get(f"/api/blobs/{mine}").status_code == 200


def test_rectification_must_be_an_image(live_module: LiveServer) -> None:
    live = live_module
    seed_ticket(live, "tk-rect-img", segment="seg-1", state="dispatched")
    chief = live.client("chief")
    before = live.state.store.files()
    for name, data in (("after.jpg", b"<html><script>alert(1)</script></html>"), ("after.png", b"\xff\xd8not a jpeg\xff\xd9"),
                       ("after.jpg", tiny_jpeg(1)[:200])):
        r = chief.post("/api/tickets/tk-rect-img/rectify", files={"photo": (name, data, "image/jpeg")})
        assert r.status_code == 422 and "not a photo" in r.json()["detail"], r.text
    assert live.state.store.files() == before
    assert chief.get("/api/tickets/tk-rect-img").json()["state"] == "dispatched"
    # A PNG named .jpg is stored as what it is.
    import cv2
    import numpy as np

    png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    r = chief.post("/api/tickets/tk-rect-img/rectify", files={"photo": ("after.jpg", png, "image/jpeg")},
                   data={"reason": "测试照片无拍摄信息"})
    assert r.status_code == 200, r.text
    url = [e for e in r.json()["evidence"] if e["kind"] == "rectification"][0]["photo_url"]
    assert chief.get(url).headers["content-type"] == "image/png"
    with live.state.db.session() as db:
        db.execute(sa.delete(Ticket).where(Ticket.id.in_(["tk-rect-img"])))
        db.commit()
