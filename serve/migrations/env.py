"""Alembic environment: run programmatically by ``serve.migrate`` with the app's connection
(``config.attributes["connection"]``); no alembic.ini is needed."""

from __future__ import annotations

from alembic import context

from heyan.serve.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("serve migrations run through serve.migrate.upgrade(engine)")

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
