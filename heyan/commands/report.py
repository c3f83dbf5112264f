"""``heyan report``: redraw a flight's report (report.html, report.pdf) from its ingest output."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)


def report_cmd(
    out: Path = typer.Argument(..., help="A `heyan ingest` output folder."),
    rivers: Path | None = typer.Option(None, "--rivers", help="River network GeoJSON, to draw the river segments."),
    html: bool = typer.Option(True, "--html/--no-html", help="Write report.html."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Write report.pdf (A4 landscape, for filing and printing)."),
    lang: str = typer.Option("zh-en", "--lang", help="zh: Chinese only; zh-en: Chinese with English beside it."),
) -> None:
    """Draw the flight report again (after a change of river network, or for the PDF alone)."""
    from heyan.pipeline.geo.rivers import RiverNetworkError, load_network
    from heyan.pipeline.report.labels import LANGS
    from heyan.pipeline.report.write import write_reports

    if lang not in LANGS:
        typer.echo(f"error: --lang {lang}: expected one of {', '.join(LANGS)}", err=True)
        raise typer.Exit(2)
    if not out.is_dir():
        typer.echo(f"error: {out}: not a folder (give the --out folder of `heyan ingest`)", err=True)
        raise typer.Exit(2)
    segments = None
    if rivers is not None:
        try:
            network = load_network(rivers)
        except (RiverNetworkError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        segments = [(s.name or s.id, [(float(x), float(y)) for x, y, *_ in part.coords])
                    for s in network.segments for part in getattr(s.line, "geoms", [s.line])]
    written = write_reports(out, segments, lang=lang, html=html, pdf=pdf)
    for path in written.values():
        typer.echo(str(path))
