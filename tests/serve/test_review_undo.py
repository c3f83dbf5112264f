"""审核 (issue 13): undo of a reviewer's last decision, with its refusals; reject reasons
stored on the decision and carried into both hard-negative exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import sqlalchemy as sa
from serve_helpers import LiveServer, seed_ticket

from heyan.serve.label_export import ChipCutter, collect, summarise
from heyan.serve.tables import Evidence
from heyan.serve.workflow import REJECT_REASONS


def move(c: Any, tid: str, to: str, **kw: Any) -> Any:
    return c.post(f"/api/tickets/{tid}/transition", json={"to": to, **kw})


def undo(c: Any, tid: str) -> Any:
    return c.post(f"/api/tickets/{tid}/undo")


def test_undo_restores_pending_with_an_audit_entry(live_module: LiveServer) -> None:
    live = live_module
    rev = live.client("reviewer")
    seed_ticket(live, "un-1")
    assert move(rev, "un-1", "confirmed").status_code == 200
    r = undo(rev, "un-1")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["state"] == "pending_review"
    last = t["audit"][-1]
    assert last["action"] == "undo" and last["from_state"] == "confirmed" and last["to_state"] == "pending_review"
    assert last["actor"] == "reviewer-user" and last["data"]["undone"] == t["audit"][-2]["id"]
    # Undone once: nothing left to undo.
    r = undo(rev, "un-1")
    assert r.status_code == 409 and r.json()["code"] == "undo_nothing"
    # A rejection with its reason, undone: the reason is named in the undo entry.
    assert move(rev, "un-1", "rejected", reject_reason="shadow").status_code == 200
    t = undo(rev, "un-1").json()
    assert t["state"] == "pending_review" and t["audit"][-1]["data"]["reject_reason"] == "shadow"


def test_undo_refusals(live_module: LiveServer) -> None:
    live = live_module
    rev = live.client("reviewer")
    admin = live.client("admin")
    for tid in ("un-a", "un-b", "un-c", "un-d"):
        seed_ticket(live, tid)
    assert undo(rev, "un-a").json()["code"] == "undo_nothing", "never decided"
    # Another reviewer's decision is not mine to undo.
    assert move(admin, "un-a", "confirmed").status_code == 200
    r = undo(rev, "un-a")
    assert r.status_code == 409 and r.json()["code"] == "undo_not_yours"
    # Only my latest decision: after deciding un-c, un-b is history.
    assert move(rev, "un-b", "confirmed").status_code == 200
    assert move(rev, "un-c", "rejected").status_code == 200
    r = undo(rev, "un-b")
    assert r.status_code == 409 and r.json()["code"] == "undo_not_last"
    assert rev.get("/api/tickets/un-b").json()["state"] == "confirmed"
    # Something happened to the ticket since (a dispatch): too late.
    assert move(rev, "un-d", "confirmed").status_code == 200
    assert move(rev, "un-d", "dispatched").status_code == 200
    r = undo(rev, "un-d")
    assert r.status_code == 409 and r.json()["code"] == "undo_nothing"
    assert rev.get("/api/tickets/un-d").json()["state"] == "dispatched"
    # Roles that do not review cannot undo at all.
    seed_ticket(live, "un-e")
    assert move(rev, "un-e", "rejected").status_code == 200
    assert undo(live.client("operator"), "un-e").status_code == 403
    assert undo(live.client("viewer"), "un-e").status_code == 403
    assert undo(rev, "un-e").status_code == 200


def test_reject_reasons_round_trip_into_hard_negatives(live_module: LiveServer, tmp_path: Path) -> None:
    live = live_module
    rev = live.client("reviewer")
    assert live.client().get("/api/config").json()["reject_reasons"] == list(REJECT_REASONS)
    ok, png = cv2.imencode(".png", np.full((200, 300, 3), 90, np.uint8))
    sha, _ = live.state.store.put_bytes(png.tobytes())
    for tid in ("rr-1", "rr-2", "rr-dup"):
        seed_ticket(live, tid)
        with live.state.db.session() as db:  # the seeded view on a real stored photo
            db.execute(sa.update(Evidence).where(Evidence.ticket_id == tid).values(photo_sha=sha, box=[100, 50, 120, 70]))
            db.commit()
    r = move(rev, "rr-1", "rejected", reject_reason="water_glint", comment="反光")
    assert r.status_code == 200 and r.json()["audit"][-1]["data"]["reject_reason"] == "water_glint"
    bad = move(rev, "rr-2", "rejected", reject_reason="ufo")
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_reject_reason"
    bad = move(rev, "rr-2", "confirmed", reject_reason="shadow")
    assert bad.status_code == 422 and bad.json()["code"] == "reason_only_reject"
    assert move(rev, "rr-2", "rejected").status_code == 200, "a reason is optional"
    assert move(rev, "rr-dup", "rejected", reject_reason="duplicate").status_code == 200

    lines = [json.loads(x) for x in rev.get("/api/exports/hard-negatives.jsonl").text.splitlines()]
    by_id = {x["ticket_id"]: x for x in lines}
    assert by_id["rr-1"]["reject_reason"] == "water_glint" and by_id["rr-1"]["rejected_comment"] == "反光"
    assert by_id["rr-2"]["reject_reason"] is None

    with live.state.db.session() as db:
        col = collect(db)
    views = {v.ticket_id: v for v in col.centres}
    assert views["rr-1"].reject_reason == "water_glint" and not views["rr-1"].positive
    assert views["rr-2"].reject_reason is None
    assert "rr-dup" not in views, "a duplicate is a real object: no hard-negative chip"
    assert [s.kind for s in col.skipped if "rr-dup" in s.name] == ["duplicate"]
    assert by_id["rr-dup"]["reject_reason"] == "duplicate"
    col.centres = [v for v in col.centres if v.ticket_id in ("rr-1", "rr-2")]
    chips, skipped = ChipCutter(live.state.store, tmp_path / "chips", size=64).run(col)
    records = {c.record["ticket_id"]: c.record for c in chips}
    assert records["rr-1"]["label"] == "hard_negative" and records["rr-1"]["reject_reason"] == "water_glint"
    assert summarise(chips, [])["negatives_by_reason"] == {"unspecified": 1, "water_glint": 1}
