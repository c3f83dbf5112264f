"""Bookkeeping rows of stored files (``blobs`` table), inserted idempotently: two uploads of
the same photo at the same time must both succeed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.tables import Blob, utcnow

if TYPE_CHECKING:
    from heyan.serve.state import AppState
    from heyan.serve.storage import Staged


def ensure_blobs(db: Session, rows: Iterable[tuple[str, int, str]]) -> None:
    rows = list({sha: (sha, size, ctype) for sha, size, ctype in rows}.values())
    if not rows:
        return
    name = db.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - other engines: check first (racy, but correct on retry)
        have = set(db.scalars(sa.select(Blob.sha256).where(Blob.sha256.in_([r[0] for r in rows]))))
        db.add_all(Blob(sha256=s, size=n, content_type=c) for s, n, c in rows if s not in have)
        db.flush()
        return
    now = utcnow()
    for i in range(0, len(rows), 500):
        chunk = [{"sha256": s, "size": n, "content_type": c, "created_at": now} for s, n, c in rows[i:i + 500]]
        db.execute(insert(Blob).values(chunk).on_conflict_do_nothing(index_elements=["sha256"]))


def take_back(st: AppState, created: Iterable[str]) -> None:
    """After a failed write: remove the files this request put into the store, unless a row
    references them by now (another upload of the same photo). Never raises."""
    created = list(created)
    if not created:
        return
    try:
        with st.db.session(write=False) as db:
            kept = set(db.scalars(sa.select(Blob.sha256).where(Blob.sha256.in_(created))))
    except Exception:  # noqa: BLE001 - the database is the problem: keep the files (harmless duplicates)
        logging.getLogger("heyan.serve").warning("could not check %d new files after a failed upload", len(created))
        return
    for sha in created:
        if sha not in kept:
            st.store.remove(sha)


@contextmanager
def publishing(st: AppState, db: Session, staged: Staged) -> Iterator[None]:
    """One staged file and the rows that reference it land together: when the block ends the
    rows are flushed, the file goes into the store and the transaction commits; when it
    raises, the transaction is rolled back and the file taken back if this request put it
    there. The staged copy is discarded either way."""
    created = False
    try:
        yield
        db.flush()
        created = st.store.publish(staged)  # into the store with its rows, not before
        db.commit()
    except BaseException:
        db.rollback()
        if created:
            take_back(st, [staged.sha256])
        raise
    finally:
        staged.discard()


def content_type(name: str) -> str:
    n = name.lower()
    if n.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    if n.endswith(".png"):
        return "image/png"
    if n.endswith((".tif", ".tiff")):
        return "image/tiff"
    if n.endswith(".webp"):
        return "image/webp"
    if n.endswith(".bmp"):
        return "image/bmp"
    return "application/octet-stream"
