"""Files a river-chief office uses, written from ticket records (``pipeline.tickets.ticket``):
CSV and XLSX ledgers (台账, Chinese column headers) and KML. WGS-84 is the truth in every
file; GCJ-02 columns are added only when asked, for consumer basemaps."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from heyan.pipeline.tickets.ticket import TicketRecord
from heyan.vision.common import atomic_file, atomic_write

# (property key, Chinese header, English header). One list: every ledger uses the same order.
LEDGER_COLUMNS: list[tuple[str, str, str]] = [
    ("id", "工单编号", "ticket id"),
    ("category_zh", "问题类别", "category"),
    ("class", "检测类别", "detected class"),
    ("severity", "严重程度", "severity"),
    ("river", "河流", "river"),
    ("segment_id", "河段编号", "segment id"),
    ("segment_name", "河段名称", "segment"),
    ("chainage_km", "里程(km)", "chainage km"),
    ("bank_zh", "岸别", "bank"),
    ("lat", "纬度(WGS-84)", "latitude WGS-84"),
    ("lon", "经度(WGS-84)", "longitude WGS-84"),
    ("error_m", "定位误差(m)", "position error m"),
    ("score", "置信度", "score"),
    ("n_views", "照片数", "views"),
    ("chief_county", "县级河长", "county chief"),
    ("chief_township", "乡级河长", "township chief"),
    ("chief_village", "村级河长", "village chief"),
    ("found_at", "发现时间", "found at"),
    ("deadline", "整改期限", "deadline"),
    ("rule", "判定规则", "rule"),
    ("reason", "判定依据", "reason"),
    ("best_image", "取证照片", "evidence photo"),
    ("flight_id", "航次", "flight"),
]
GCJ_COLUMNS = [("lat_gcj02", "纬度(GCJ-02)", "latitude GCJ-02"), ("lon_gcj02", "经度(GCJ-02)", "longitude GCJ-02")]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula: text starting with = + - @ (or
    their full-width forms, a tab or a line break) gets a leading apostrophe, as Excel's
    own "text" marker (photo names and reasons come from uploads). Numbers are kept."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(t: TicketRecord, key: str) -> Any:
    value = round(getattr(t, key), 7) if key in ("lat", "lon") else t.value(key)
    return "" if value is None else safe_cell(value)


def ledger_rows(tickets: Sequence[TicketRecord], gcj02: bool = False) -> tuple[list[str], list[list[Any]]]:
    cols = LEDGER_COLUMNS + (GCJ_COLUMNS if gcj02 else [])
    rows = [[_cell(t, key) for key, _, _ in cols] for t in tickets]
    return [zh for _, zh, _ in cols], rows


def write_csv(path: Path, tickets: Sequence[TicketRecord], gcj02: bool = False) -> Path:
    header, rows = ledger_rows(tickets, gcj02)
    # UTF-8 with BOM: Excel on Chinese Windows opens it with the right encoding.
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return Path(path)


def write_xlsx(path: Path, tickets: Sequence[TicketRecord], gcj02: bool = False, title: str = "问题台账") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    header, rows = ledger_rows(tickets, gcj02)
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for r in rows:
        ws.append(r)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text (openpyxl reads "=..." as one)
    ws.freeze_panes = "A2"
    for i, h in enumerate(header, 1):
        width = max([len(str(h)) * 2] + [len(str(r[i - 1])) for r in rows[:200]] + [6])
        ws.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    with atomic_file(path, keep_suffix=True) as tmp:
        wb.save(tmp)
    return Path(path)


def write_kml(path: Path, tickets: Sequence[TicketRecord], name: str = "Heyan tickets") -> Path:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<kml xmlns="http://www.opengis.net/kml/2.2">', "<Document>",
             f"<name>{escape(name)}</name>"]
    for t in tickets:
        # The KML names only what the ticket says (lat/lon are the Point's, not repeated).
        p = {key: t.value(key) for key, _, _ in LEDGER_COLUMNS if key not in ("lat", "lon")}
        lon, lat = t.lon, t.lat
        title = f"{t.category_zh or ''} {t.id or ''}".strip()
        desc_lines = [f"{zh}: {p.get(key)}" for key, zh, _ in LEDGER_COLUMNS if p.get(key) not in (None, "")]
        parts += [
            "<Placemark>",
            f"<name>{escape(title)}</name>",
            f"<description>{escape(chr(10).join(desc_lines))}</description>",
            "<ExtendedData>" + "".join(
                f'<Data name="{escape(k)}"><value>{escape(str(p.get(k)))}</value></Data>'
                for k, _, _ in LEDGER_COLUMNS if p.get(k) not in (None, "")) + "</ExtendedData>",
            f"<Point><coordinates>{lon:.7f},{lat:.7f},0</coordinates></Point>",
            "</Placemark>",
        ]
    parts += ["</Document>", "</kml>"]
    atomic_write(path, "\n".join(parts) + "\n")
    return Path(path)


def write_geojson(path: Path, features: Sequence[dict[str, Any]], **extra: Any) -> Path:
    doc = {"type": "FeatureCollection", "features": list(features), **extra}
    atomic_write(path, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return Path(path)
