"""``heyan ingest``: a survey flight (folder or zip) becomes tickets on river segments."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)


def ingest_cmd(
    flight: Path = typer.Argument(..., help="Folder of survey photos, or a .zip of them."),
    rivers: Path = typer.Option(..., "--rivers", help="River network GeoJSON (segments, chiefs, zones)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    model: str | None = typer.Option(None, "--model", help="Zoo name or .onnx path."),
    open_tickets: Path | None = typer.Option(None, "--open-tickets", help="Open tickets of earlier flights (tickets.geojson or JSON list)."),
    rules: Path | None = typer.Option(None, "--rules", help="Rules YAML (default: the shipped table)."),
    ground_height: float = typer.Option(0.0, "--ground-height", help="Water/ground height relative to takeoff, metres."),
    gcj02: bool = typer.Option(False, "--gcj02", help="Add GCJ-02 coordinates to the exports."),
    tile: bool = typer.Option(True, "--tile/--no-tile", help="Sliced inference on large photos."),
    use_zone: bool = typer.Option(True, "--zone/--no-zone", help="Skip photos and tiles away from the river zone."),
    flight_id: str | None = typer.Option(None, "--flight-id", help="Flight id (default: the folder or zip name)."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write report.pdf (A4, for filing and printing)."),
    lang: str = typer.Option("zh-en", "--lang", help="Report language: zh (Chinese only) or zh-en (with English)."),
) -> None:
    """Detect, georeference, apply the rules, merge views into tickets, write the office's files."""
    from heyan.commands.common import detector_settings
    from heyan.pipeline.geo.georef import GroundPlane
    from heyan.pipeline.geo.rivers import RiverNetworkError, load_network
    from heyan.pipeline.ingest import FlightIngest, IngestOptions, load_open_tickets
    from heyan.pipeline.report.labels import LANGS
    from heyan.pipeline.tickets.rules import RulesError, load_rules
    from heyan.pipeline.zipsafe import UnsafeZipError

    if lang not in LANGS:
        typer.echo(f"error: --lang {lang}: expected one of {', '.join(LANGS)}", err=True)
        raise typer.Exit(2)
    try:
        network = load_network(rivers)
        ruleset = load_rules(rules)
        earlier = load_open_tickets(open_tickets) if open_tickets else []
    except (RiverNetworkError, RulesError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for w in network.warnings:
        typer.echo(f"warning: {rivers}: {w}", err=True)
    settings = detector_settings(model)
    detector = settings.load()
    opts = IngestOptions(ground=GroundPlane(ground_height), tile=tile, use_zone=use_zone, gcj02=gcj02, flight_id=flight_id,
                         untiled_max_side=settings.min_tile_photo_side, report_pdf=pdf, report_lang=lang)
    try:
        summary = FlightIngest(network, ruleset, detector, settings.slice_params(detector.imgsz), opts).run(flight, out, earlier)
    except (UnsafeZipError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    d = summary.to_dict()
    typer.echo(f"{summary.photos} photos ({summary.rejected} rejected, {summary.photos_off_river} away from the river), "
               f"{summary.detections} detections -> {summary.tickets} tickets {summary.per_category or ''}", err=True)
    typer.echo(f"report: {summary.files['report']}" + (f", {summary.files['report_pdf']}" if pdf else ""), err=True)
    typer.echo(json.dumps({k: d[k] for k in ("flight_id", "photos", "rejected", "detections", "tickets", "seen_again",
                                             "not_seen", "tiles_run", "tiles_total", "per_category", "seconds")}, ensure_ascii=False))
    if summary.photos_used == 0:
        raise typer.Exit(1)
