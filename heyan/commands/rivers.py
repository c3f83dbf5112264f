"""``heyan rivers-check`` and ``heyan rivers-schema``: the river network file on its own,
before a flight depends on it."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("rivers-check")(rivers_check_cmd)
    app.command("rivers-schema")(rivers_schema_cmd)


def rivers_check_cmd(
    path: Path = typer.Argument(..., help="River network GeoJSON (docs/rivers.md)."),
) -> None:
    """Read a river network file as `heyan ingest` and `heyan serve` would: every problem
    (feature index, id and field) and every warning, then what it holds."""
    from heyan.pipeline.geo.rivers import RiverNetworkError, load_network

    try:
        net = load_network(path)
    except RiverNetworkError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    # The loader has already logged each warning.
    typer.echo(f"{path}: {len(net.segments)} segment(s) on {len({s.river for s in net.segments})} river(s), "
               f"{len(net.mining_areas)} mining area(s), {len(net.closed_seasons)} closed season(s), "
               f"{len(net.outfalls)} outfall(s), {len(net.structures)} registered structure(s), "
               f"{len(net.zones)} zone(s), {len(net.warnings)} warning(s)")


def rivers_schema_cmd(
    out: Path | None = typer.Option(None, "--out", help="Write here (default: print)."),
) -> None:
    """The river network contract as a JSON Schema, generated from the loader's own tables
    (pipeline/schemas/rivers.schema.json is this output)."""
    from heyan.pipeline.geo.rivers_contract import schema_text
    from heyan.vision.common import atomic_write

    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(out, text)
        typer.echo(f"wrote {out}")
