"""The on-disk outbox: atomic files, newest-state records with seq, bounded disk (oldest
snapshots go first, records never), and recovery after a crash."""

from __future__ import annotations

import os
import sqlite3
import time

from heyan.edge.outbox import Outbox, atomic_write


def test_atomic_write_replaces_whole_file(tmp_path):
    p = tmp_path / "a" / "f.bin"
    atomic_write(p, b"one")
    atomic_write(p, b"two")
    assert p.read_bytes() == b"two"
    assert [f.name for f in p.parent.iterdir()] == ["f.bin"]  # no temp left behind


def test_wal_mode_and_event_seq(tmp_path):
    ob = Outbox(tmp_path)
    assert ob.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ob.put_event("e1", "cam", "object", {"event_id": "e1", "phase": "start"}, []) == 1
    assert ob.put_event("e1", "cam", "object", {"event_id": "e1", "phase": "end"}, []) == 2
    [item] = ob.due()
    assert item.seq == 2 and item.body["phase"] == "end" and item.body["seq"] == 2
    ob.mark_delivered("e1", 1)  # an older state acknowledged: still pending
    assert ob.depth() == 1
    ob.mark_delivered("e1", 2)
    assert ob.depth() == 0 and ob.due() == []
    ob.put_event("e1", "cam", "object", {"event_id": "e1", "phase": "end"}, [])  # changed again: pending again
    assert ob.depth() == 1


def test_disk_bound_evicts_oldest_media_and_keeps_records(tmp_path):
    ob = Outbox(tmp_path, max_media_bytes=5000, min_free_bytes=0)
    shas = []
    for i in range(8):
        sha = ob.put_media(bytes([i]) * 1000)
        shas.append(sha)
        ob.put_event(f"e{i}", "cam", "object", {"event_id": f"e{i}", "snapshot_sha256": sha}, [sha])
        time.sleep(0.002)
    rows = ob.media_rows()
    evicted = [r["sha256"] for r in rows if r["evicted"]]
    assert evicted == shas[:3]  # oldest first, just enough to get under 5000 bytes
    assert ob.media_bytes() == 5000
    assert all(ob.media_path(s) is None for s in shas[:3]) and all(ob.media_path(s) for s in shas[3:])
    assert len(ob.events()) == 8  # records are never evicted
    assert len(list((tmp_path / "media").rglob("*.jpg"))) == 5


def test_recovery_after_crash(tmp_path):
    ob = Outbox(tmp_path)
    sha = ob.put_media(b"x" * 100)
    ob.put_event("e1", "cam", "object", {"event_id": "e1"}, [sha])
    ob.db.execute("UPDATE events SET status='auth'")  # refused token before the restart
    ob.close()
    # a temp file from a write cut short, a file whose row never made it, a row whose file vanished
    (tmp_path / "media" / "ab").mkdir(parents=True, exist_ok=True)
    (tmp_path / "media" / "ab" / ".abc.jpg.tmp").write_bytes(b"half")
    orphan = tmp_path / "media" / "cd" / ("cd" + "0" * 62 + ".jpg")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"y" * 50)
    os.unlink(tmp_path / "media" / sha[:2] / f"{sha}.jpg")
    ob2 = Outbox(tmp_path)
    assert not (tmp_path / "media" / "ab" / ".abc.jpg.tmp").exists()
    assert ob2.media_path(sha) is None and ob2.media_path(orphan.stem) == orphan
    assert ob2.media_bytes() == 50
    assert [e["status"] for e in ob2.events()] == ["pending"]  # a fixed token gets its chance
    # the database is a plain SQLite file anyone on site can inspect
    con = sqlite3.connect(tmp_path / "outbox.db")
    assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
