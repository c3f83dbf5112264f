"""``heyan worker``: a flight-processing worker of the task queue (Celery). Runs on any
machine that reaches the broker and the database and mounts the shared data folder at the
server's path; reads the same settings as ``heyan serve``."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_cmd)


def worker_cmd(
    broker: str | None = typer.Option(None, "--broker", help="Broker URL, e.g. redis://queue.intranet:6379/0 "
                                      "(default: settings serve_broker_url)."),
    db: str | None = typer.Option(None, "--db", help="The server's database URL (default: settings serve_db_url, "
                                                      "else the SQLite file in the data folder)."),
    data: Path | None = typer.Option(None, "--data", help="The shared data folder, mounted at the server's path "
                                                          "(default: settings serve_data_dir)."),
    concurrency: int | None = typer.Option(None, "--concurrency", "-c", min=1,
                                           help="Worker processes (default: settings serve_worker_concurrency, 1)."),
    queues: str | None = typer.Option(None, "--queues", "-Q", help="Queues to take tasks from, in this order "
                                      "(default: heyan.urgent,heyan.reduce,heyan.photos)."),
    name: str | None = typer.Option(None, "--name", help="Worker name (default: heyan-<pid>@<host>)."),
) -> None:
    """Process flights from the task queue: one task per photo (detect, georeference), then
    the flight's reduce task (de-duplication, tickets, cross-flight matching, import)."""
    import logging
    import os
    import socket

    import sqlalchemy as sa

    from heyan.models.registry import resolve_model
    from heyan.serve.db import Database
    from heyan.serve.migrate import current_revision, head_revision
    from heyan.serve.queue.celery_app import QUEUES, QueueConfigError, make_celery
    from heyan.serve.queue.tasks import Runtime, register
    from heyan.settings import get_settings
    from heyan.vision.detector import execution_providers

    config = get_settings().serve.with_overrides(db=db, data=data)
    update = {k: v for k, v in (("broker_url", broker), ("worker_concurrency", concurrency)) if v is not None}
    config = config.model_copy(update=update)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = make_celery(config)
    # Say what is wrong before taking a task: the provider, the model, the shared folder, the schema.
    execution_providers(config.detector.provider)
    resolve_model(config.detector.model, config.detector.zoo_dir)
    if not (config.data_dir / "store").is_dir():
        raise QueueConfigError(f"{config.data_dir}: no photo store here; mount the server's shared data folder at "
                               "this path (the same path on every machine)")
    database = Database(config.database_url, config.db_busy_timeout_s)
    try:
        have, want = current_revision(database.engine), head_revision()
        with database.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        database.dispose()
    if have != want:
        raise QueueConfigError(f"database schema is at {have}, this worker needs {want}: start (or upgrade) heyan serve first")
    register(app, Runtime(config))
    chosen = [q.strip() for q in (queues or ",".join(QUEUES)).split(",") if q.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown:
        raise QueueConfigError(f"--queues: unknown {', '.join(unknown)} (known: {', '.join(QUEUES)})")
    n = config.worker_concurrency
    argv = ["worker", "--loglevel=INFO", "-Q", ",".join(chosen), "-n", name or f"heyan-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    argv += ["--pool=solo"] if n == 1 else ["--pool=prefork", f"--concurrency={n}"]
    typer.echo(f"heyan worker: broker {_redact(config.broker_url or '')}, data {config.data_dir}, queues {','.join(chosen)}, "
               f"{n} process(es), provider {config.detector.provider}", err=True)
    app.worker_main(argv)


def _redact(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))
