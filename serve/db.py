"""Engine and sessions. SQLite gets WAL (readers never block the writer), foreign keys on,
and a busy timeout so the worker and request threads wait for each other instead of failing
(past it, the API answers 503 with Retry-After: serve.errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, busy_timeout_s: float = 30.0) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        # Pool as large as the request thread pool (anyio's 40) plus the workers: a request
        # should never wait for a connection to a file database.
        engine = sa.create_engine(u, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}, pool_size=40,
                                  max_overflow=20, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling would defer BEGIN; let SQLAlchemy emit it
            # so BEGIN IMMEDIATE below takes the write lock up front (no upgrade deadlocks).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A deferred transaction that reads and then writes fails at once ("database is
            # locked", no busy wait) if another writer committed in between; sessions that
            # will write therefore take the write lock up front (BEGIN IMMEDIATE).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("heyan_write") else "BEGIN")

        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we install
    # A row lock held too long (another request, the worker) ends in lock_not_available:
    # the API answers 503 with Retry-After instead of waiting without end.
    return sa.create_engine(u, pool_pre_ping=True, pool_size=10, max_overflow=30, pool_timeout=60,
                            connect_args={"options": f"-c lock_timeout={int(busy_timeout_s * 1000)}"})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class Database:
    """The app's engine and session factory (one per app)."""

    def __init__(self, url: str, busy_timeout_s: float = 30.0) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_s)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.engine.execution_options(heyan_write=True), expire_on_commit=False)

    def session(self, write: bool = True) -> Session:
        """A session; ``write=False`` for read-only work (on SQLite it does not take the
        write lock, so readers never wait for each other)."""
        return self.write_sessions() if write else self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()
