"""Storing an edge box's events idempotently: one row per (device, event_id) holding the
newest state by ``seq``. The box delivers at least once (a lost reply, a restart after
kill -9); a state the server already has, or an older one, is acknowledged and not stored
again (``stored: false``), so delivery is exactly-once in the database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

import heyan.serve.edge.ingest as edge_ingest
from heyan.serve.processing import FlightProcessor
from heyan.serve.schemas.edge import EdgeEventIn, EdgeEventStored
from heyan.serve.tables import Device, EdgeEvent

# Fields copied from the box's JSON onto the row, as they are.
_FIELDS = ("seq", "camera_id", "kind", "phase", "class_name", "score", "box", "lat", "lon", "error_m", "outfall_id",
           "started_at", "updated_at", "ended_at", "snapshot_sha256", "crop_sha256", "details")


def receive(db: Session, device: Device, body: EdgeEventIn, processor: FlightProcessor, now: datetime
            ) -> tuple[EdgeEventStored, bool]:
    """Store ``body`` if it is newer than what the server has, decide what it means for
    tickets, commit. Returns (answer, created). An IntegrityError means another request
    inserted the same event at the same moment: the caller rolls back and calls again."""
    row = db.scalar(sa.select(EdgeEvent).where(EdgeEvent.device_id == device.id, EdgeEvent.event_id == body.event_id)
                    .with_for_update())
    if row is not None and row.seq >= body.seq:
        row.posts += 1
        db.commit()
        return EdgeEventStored(stored=False, event_id=row.event_id, seq=row.seq, outcome=row.outcome,
                               ticket_id=row.ticket_id), False
    created = row is None
    if row is None:
        row = EdgeEvent(device_id=device.id, event_id=body.event_id, received_at=now, posts=0, details={})
        db.add(row)
    for f in _FIELDS:
        setattr(row, f, getattr(body, f))
    row.reported_device = body.device_id
    row.posts += 1
    row.stored_at = now
    db.flush()  # the id names the event's evidence row; a concurrent insert fails here
    edge_ingest.apply(db, row, device, edge_ingest.context(db, processor, now))
    db.commit()
    return EdgeEventStored(stored=True, event_id=row.event_id, seq=row.seq, outcome=row.outcome,
                           ticket_id=row.ticket_id), created
