"""``heyan serve``: the tickets server — JSON API, flight processing worker, web viewer."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    db: str | None = typer.Option(None, "--db", help="Database URL (default: SQLite heyan.db in the data folder; "
                                                      "postgresql://user:pass@host/db for PostgreSQL)."),
    data: Path | None = typer.Option(None, "--data", help="Data folder: photos, evidence, database file (default: settings serve_data_dir)."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
) -> None:
    """Serve tickets: review workflow, flight uploads and processing, exports, the web viewer.
    First start creates user 'admin' (password from HEYAN_ADMIN_PASSWORD, or printed once)."""
    import logging

    import uvicorn

    from heyan.serve.app import create_app
    from heyan.settings import get_settings

    config = get_settings().serve.with_overrides(db=db, data=data)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    h, p = host or config.host, port or config.port
    typer.echo(f"heyan serve: data {config.data_dir}, database {_redact(config.database_url)}, http://{h}:{p}/", err=True)
    uvicorn.run(app, host=h, port=p, log_level="info", proxy_headers=False)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # `python -m heyan.commands.serve`, before the CLI lists the command
    typer.run(serve_cmd)
