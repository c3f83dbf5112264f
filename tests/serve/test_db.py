"""Storage layer on both engines: migrations (and that they match the models), SQLite
settings, the job queue (one claim wins, dead workers' jobs requeued, poison jobs fail),
the state machine's table, and the content-addressed store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from heyan.serve import jobs
from heyan.serve.db import Database
from heyan.serve.migrate import current_revision, head_revision, upgrade
from heyan.serve.storage import BlobStore
from heyan.serve.tables import Base, Flight, Job
from heyan.serve.workflow import TRANSITIONS

NOW = datetime(2025, 6, 18, 12, tzinfo=UTC)


@pytest.fixture
def database(db_url: str) -> Database:
    d = Database(db_url)
    upgrade(d.engine)
    yield d
    d.dispose()


def test_migrations_match_models(database: Database) -> None:
    assert current_revision(database.engine) == head_revision() is not None
    upgrade(database.engine)  # a second start changes nothing
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_upgrade_from_0001_keeps_data_and_downgrades(db_url: str) -> None:
    """0002 (edge events, devices' heartbeat) on a database that already has devices."""
    from alembic import command

    from heyan.serve.migrate import alembic_config
    from heyan.serve.tables import Device

    d = Database(db_url)
    try:
        upgrade(d.engine, "0001")
        with d.engine.begin() as c:
            c.execute(sa.text("INSERT INTO devices (name, created_by, created_at) VALUES ('box-1', 'admin', :t)"),
                      {"t": NOW.replace(tzinfo=None)})
        upgrade(d.engine)
        assert current_revision(d.engine) == head_revision()
        with d.session() as db:
            dev = db.scalar(sa.select(Device))
            assert dev.name == "box-1" and dev.health is None and dev.last_heartbeat_at is None
            dev.health = {"outbox_depth": 0}
            db.commit()
        cfg = alembic_config()
        with d.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert current_revision(d.engine) == "0001"
        assert "edge_events" not in sa.inspect(d.engine).get_table_names()
        upgrade(d.engine)
        assert current_revision(d.engine) == head_revision()
    finally:
        d.dispose()


def test_upgrade_0003_records_which_box_sent_each_snapshot(db_url: str) -> None:
    """0003 (device_media, indexes on blob references): snapshots already named by events
    are their box's; downgrade drops the table."""
    from alembic import command

    from heyan.serve.migrate import alembic_config

    d = Database(db_url)
    t = NOW.replace(tzinfo=None)
    try:
        upgrade(d.engine, "0002")
        with d.engine.begin() as c:
            c.execute(sa.text("INSERT INTO devices (id, name, created_by, created_at) VALUES (1, 'box-1', 'admin', :t)"), {"t": t})
            c.execute(sa.text("INSERT INTO blobs (sha256, size, content_type, created_at) VALUES (:s, 3, 'image/jpeg', :t)"),
                      {"s": "a" * 64, "t": t})
            c.execute(sa.text("INSERT INTO edge_events (device_id, event_id, seq, camera_id, kind, phase, started_at, "
                              "snapshot_sha256, crop_sha256, details, received_at, stored_at, posts) VALUES "
                              "(1, 'e1', 1, 'c', 'object', 'start', :t, :s, :s, '{}', :t, :t, 1)"), {"s": "a" * 64, "t": t})
        upgrade(d.engine)
        with d.engine.connect() as c:
            assert c.execute(sa.text("SELECT device_id, sha256 FROM device_media")).all() == [(1, "a" * 64)]
        cfg = alembic_config()
        with d.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "device_media" not in sa.inspect(d.engine).get_table_names()
    finally:
        d.dispose()


def test_sqlite_settings(tmp_path: Path) -> None:
    d = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with d.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _flight(db: object, fid: str) -> None:
    db.add(Flight(id=fid, name=fid, content_key=fid, source="photos", n_photos=1, bytes=1, uploaded_by="t", created_at=NOW))
    db.flush()


def test_job_queue(database: Database) -> None:
    with database.session() as db:
        _flight(db, "fl-a")
        _flight(db, "fl-b")
        jobs.enqueue(db, "fl-a", 3, NOW)
        jobs.enqueue(db, "fl-b", 3, NOW)
        db.commit()
    got: list[int | None] = []

    def take(i: int) -> None:
        with database.session() as db:
            j = jobs.claim(db, f"w{i}", 60, NOW)
            got.append(j.id if j else None)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [g for g in got if g is not None]
    assert len(claimed) == 2 and len(set(claimed)) == 2  # each job to exactly one worker
    with database.session() as db:
        a = db.scalar(sa.select(Job).where(Job.flight_id == "fl-a"))
        assert jobs.heartbeat(db, a.id, a.worker_id, 60, NOW, photos_done=2)
        assert not jobs.heartbeat(db, a.id, "someone-else", 60, NOW)
        # Leases run out: requeued; after max attempts: failed.
        assert sorted(jobs.requeue_stale(db, NOW + timedelta(seconds=61), max_attempts=2)) == sorted(claimed)
        assert db.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.state == "queued")) == 2
        j = jobs.claim(db, "w9", 60, NOW)
        assert j is not None and j.attempts == 2
        jobs.requeue_stale(db, NOW + timedelta(seconds=200), max_attempts=2)
        db.expire_all()
        assert db.get(Job, j.id).state == "failed" and "not retried" in db.get(Job, j.id).error


def test_state_machine_table() -> None:
    edges = {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts}
    assert edges == {("pending_review", "confirmed"), ("pending_review", "rejected"), ("confirmed", "dispatched"),
                     ("dispatched", "rectified"), ("rectified", "closed"), ("rectified", "dispatched"),
                     ("rejected", "pending_review")}
    assert "system" in TRANSITIONS["rectified"]["closed"] and "chief" in TRANSITIONS["dispatched"]["rectified"]


def test_blob_store(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    a = store.put_bytes(b"photo")
    b = store.put_bytes(b"photo")
    assert a == b and store.path(a[0]).read_bytes() == b"photo"
    assert len(list(store.blob_dir.rglob("*"))) == 3  # ab/, ab/cd/, the file
    with store.writer() as w:
        w.write(b"half")  # no commit: dropped, nothing under a real name
    assert not list(store.tmp_dir.iterdir())
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
