"""Write a flight's ``report.html`` (and ``report.pdf``) into its ingest output folder."""

from __future__ import annotations

from pathlib import Path

from heyan.pipeline.report.data import LonLat, load_report_data
from heyan.pipeline.report.html_report import render_html
from heyan.pipeline.report.labels import Lang
from heyan.pipeline.report.pdf_report import render_pdf
from heyan.pipeline.report.scene import build_scene
from heyan.vision.common import atomic_write

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"


def write_reports(out: Path, segments: list[tuple[str, list[LonLat]]] | None = None, lang: Lang = "zh-en",
                  html: bool = True, pdf: bool = True) -> dict[str, Path]:
    """Redraw the reports of the flight in ``out`` (ReportInputError names a bad file);
    the map is laid out once for both."""
    out = Path(out)
    data = load_report_data(out, segments)
    scene = build_scene(data, out)
    written: dict[str, Path] = {}
    if html:
        written["report"] = atomic_write(out / HTML_NAME, render_html(data, out, lang, scene))
    if pdf:
        written["report_pdf"] = atomic_write(out / PDF_NAME, render_pdf(data, out, lang, scene))
    return written
