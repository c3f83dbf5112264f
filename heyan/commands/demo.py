"""``heyan demo-server``: the end of ``make demo``, a server with the demo flight processed
and demo users."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import typer

from heyan.commands.upload import send_and_wait

DEMO_PASSWORD = "heyan-demo"
# role -> username; the chief answers for every segment of the demo river.
DEMO_USERS = {"reviewer": "reviewer", "chief": "chief", "operator": "operator", "viewer": "viewer"}


def register(app: typer.Typer) -> None:
    app.command("demo-server")(demo_server_cmd)


def demo_server_cmd(
    flight: Path = typer.Option(..., "--flight", help="A `heyan simulate-flight` output folder (photos/, rivers.geojson)."),
    data: Path = typer.Option(Path("demo-out/server"), "--data", help="Server data folder."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    serve_forever: bool = typer.Option(True, "--serve/--no-serve", help="Keep serving after the demo data is in (Ctrl-C stops)."),
) -> None:
    """Start `heyan serve` on DATA, upload the demo river and flight through the real API, wait for
    processing, create demo users, print the URL and logins, and keep serving."""
    import uvicorn

    from heyan.client import ApiFailure, HeyanClient, flight_files
    from heyan.serve.app import create_app
    from heyan.settings import get_settings

    config = get_settings().serve.with_overrides(data=data)
    config.admin_password = config.admin_password or DEMO_PASSWORD
    config.data_dir.mkdir(parents=True, exist_ok=True)
    server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    url = f"http://{host}:{port}/"
    rivers = flight / "rivers.geojson"
    try:
        with HeyanClient(url) as client:
            client.wait_until_up(60)
            client.login("admin", config.admin_password)
            client.upload_rivers(rivers)
            segments = [f["properties"]["id"] for f in json.loads(rivers.read_text(encoding="utf-8"))["features"]
                        if f["properties"].get("kind", "segment") == "segment"]
            for role, username in DEMO_USERS.items():
                client.create_user(username, DEMO_PASSWORD, role, segments=segments if role == "chief" else None,
                                   full_name={"chief": "示范河长"}.get(role))
            done = send_and_wait(client, flight_files([flight / "photos"]), "示范航拍任务 demo flight", wait=True)
    except (ApiFailure, TimeoutError) as exc:
        server.should_exit = True
        typer.echo(f"heyan demo-server: {exc}", err=True)
        raise typer.Exit(1) from exc
    summary = done.get("summary") or {}
    typer.echo("")
    typer.echo(f"Heyan server: {url}   (data {config.data_dir})")
    typer.echo(f"  flight {done['id']}: {summary.get('tickets', '?')} tickets from {done['n_photos']} photos")
    typer.echo(f"  log in as admin / {config.admin_password}; reviewer, chief, operator, viewer / {DEMO_PASSWORD}")
    if not serve_forever:
        server.should_exit = True
        thread.join(10)
        return
    typer.echo("  Ctrl-C stops the server.")
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(10)
