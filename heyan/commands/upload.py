"""``heyan upload`` (a drone operator sends a flight to the server) and ``heyan demo-server``
(the end of ``make demo``: a server with the demo flight processed and demo users)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Optional

import typer

DEMO_PASSWORD = "heyan-demo"
# role -> username; the chief answers for every segment of the demo river.
DEMO_USERS = {"reviewer": "reviewer", "chief": "chief", "operator": "operator", "viewer": "viewer"}


def register(app: typer.Typer) -> None:
    app.command("upload")(upload_cmd)
    app.command("demo-server")(demo_server_cmd)


def _bars():  # tqdm is imported late: `heyan --help` stays fast
    from tqdm import tqdm

    return tqdm


def _send_and_wait(client, files: list[Path], name: str | None, wait: bool) -> dict:
    tqdm = _bars()
    total = sum(f.stat().st_size for f in files)
    with tqdm(total=total, unit="B", unit_scale=True, desc="upload") as bar:
        out = client.upload_flight(files, name=name, on_progress=bar.update)
    flight = out["flight"]
    if out.get("duplicate"):
        typer.echo(f"already uploaded as {flight['id']} (the same photos)", err=True)
    for s in out.get("skipped", []):
        typer.echo(f"skipped: {s}", err=True)
    if not wait:
        return flight
    with tqdm(total=flight["n_photos"], unit="photo", desc="processing") as bar:
        def progress(done: int, total_: int) -> None:
            bar.total = total_ or bar.total
            bar.n = done
            bar.refresh()

        return client.wait_flight(flight["id"], on_progress=progress)


def upload_cmd(
    paths: list[Path] = typer.Argument(..., help="Photos, folders of photos, or one .zip of a flight."),
    server: str = typer.Option("http://127.0.0.1:8000", "--server", help="The Heyan server's URL."),
    token: Optional[str] = typer.Option(None, "--token", envvar="HEYAN_TOKEN", help="Personal API token (or HEYAN_TOKEN)."),
    user: Optional[str] = typer.Option(None, "--user", help="Log in with a username instead (password from HEYAN_PASSWORD or a prompt)."),
    name: Optional[str] = typer.Option(None, "--name", help="Flight name shown to reviewers."),
    rivers: Optional[Path] = typer.Option(None, "--rivers", help="Also upload this river network first (admin)."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for processing and print the flight summary."),
) -> None:
    """Upload a flight to a Heyan server (streamed; a re-sent flight is recognised, not doubled)."""
    from heyan.client import ApiFailure, HeyanClient, flight_files

    try:
        files = flight_files(paths)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not files:
        raise typer.BadParameter(f"no photos or zip in {', '.join(map(str, paths))}")
    if not token and not user:
        raise typer.BadParameter("give --token (or HEYAN_TOKEN) or --user")
    with HeyanClient(server, token=token) as client:
        try:
            if user:
                password = os.environ.get("HEYAN_PASSWORD") or typer.prompt(f"password for {user}", hide_input=True)
                client.login(user, password)
            if rivers:
                net = client.upload_rivers(rivers)
                typer.echo(f"river network version {net.get('version')} uploaded", err=True)
            flight = _send_and_wait(client, files, name, wait)
        except ApiFailure as exc:
            typer.echo(f"heyan upload: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(json.dumps(flight, ensure_ascii=False, default=str))
    if (flight.get("job") or {}).get("state") == "failed":
        raise typer.Exit(1)


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
    from heyan.settings import get_settings
    from heyan.serve.app import create_app

    config = get_settings().serve.with_overrides(data=data)
    config.admin_password = config.admin_password or DEMO_PASSWORD
    config.data_dir.mkdir(parents=True, exist_ok=True)
    server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=port, log_level="warning"))
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
            done = _send_and_wait(client, flight_files([flight / "photos"]), "示范航线 demo flight", wait=True)
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
