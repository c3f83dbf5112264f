"""``heyan upload``: a drone operator sends a flight to the server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("upload")(upload_cmd)


def _bars():  # tqdm is imported late: `heyan --help` stays fast
    from tqdm import tqdm

    return tqdm


def send_and_wait(client, files: list[Path], name: str | None, wait: bool) -> dict:
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
    token: str | None = typer.Option(None, "--token", envvar="HEYAN_TOKEN", help="Personal API token (or HEYAN_TOKEN)."),
    user: str | None = typer.Option(None, "--user", help="Log in with a username instead (password from HEYAN_PASSWORD or a prompt)."),
    name: str | None = typer.Option(None, "--name", help="Flight name shown to reviewers."),
    rivers: Path | None = typer.Option(None, "--rivers", help="Also upload this river network first (admin)."),
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
            flight = send_and_wait(client, files, name, wait)
        except ApiFailure as exc:
            typer.echo(f"heyan upload: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(json.dumps(flight, ensure_ascii=False, default=str))
    if (flight.get("job") or {}).get("state") == "failed":
        raise typer.Exit(1)
