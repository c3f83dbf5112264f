"""``heyan serve``: the tickets server — JSON API, flight processing worker, web viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    db: str | None = typer.Option(None, "--db", help="Database URL (default: SQLite heyan.db in the data folder; "
                                                      "postgresql://user:pass@host/db for PostgreSQL)."),
    data: Path | None = typer.Option(None, "--data", help="Data folder: photos, evidence, database file (default: settings serve_data_dir)."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
    workers: str | None = typer.Option(None, "--workers", help="Flight-processing threads in this process (default: "
                                       "settings serve_workers, 1), or 'external': hand flights to `heyan worker` "
                                       "processes over the task queue (serve_broker_url)."),
    broker: str | None = typer.Option(None, "--broker", help="Task queue broker for --workers external, e.g. "
                                      "redis://127.0.0.1:6379/0 (default: settings serve_broker_url)."),
) -> None:
    """Serve tickets: review workflow, flight uploads and processing, exports, the web viewer.
    First start creates user 'admin' (password from HEYAN_ADMIN_PASSWORD, or printed once)."""
    import logging

    import uvicorn

    from heyan.serve.app import create_app
    from heyan.settings import get_settings

    config = get_settings().serve.with_overrides(db=db, data=data)
    config = with_processing(config, workers, broker)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    h, p = host or config.host, port or config.port
    typer.echo(f"heyan serve: data {config.data_dir}, database {_redact(config.database_url)}, http://{h}:{p}/", err=True)
    uvicorn.run(app, host=h, port=p, log_level="info", proxy_headers=False)


def with_processing(config: Any, workers: str | None, broker: str | None) -> Any:
    """``--workers N|external`` and ``--broker`` over the settings (checked by ServeConfig)."""
    from heyan.serve.config import ServeConfig
    from heyan.vision.common import InputError

    update: dict[str, Any] = {}
    if workers is not None:  # a number means threads, whatever the settings file says
        update["workers"] = workers
        if workers.strip().lower() != "external":
            update["processing"] = "threads"
    if broker is not None:
        update["broker_url"] = broker
    out = config
    if update:
        try:
            out = ServeConfig.model_validate(config.model_dump() | update)
        except ValueError:
            raise InputError(f"--workers {workers!r}: expected a number of threads or 'external'") from None
    if out.processing == "external":
        from heyan.serve.queue.celery_app import make_celery

        make_celery(out)  # a missing broker or Celery is said now, not at the first upload
    return out


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # `python -m heyan.commands.serve`, before the CLI lists the command
    typer.run(serve_cmd)
