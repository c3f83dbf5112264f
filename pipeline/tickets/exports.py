"""Files a river-chief office uses, written from ticket records (``pipeline.tickets.ticket``):
CSV and XLSX ledgers (台账, Chinese column headers) and KML. WGS-84 is the truth in every
file; GCJ-02 columns are added only when asked, for consumer basemaps."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from heyan.pipeline.tickets.ticket import TicketRecord
from heyan.vision.classes import CLASSES
from heyan.vision.common import BEIJING, atomic_file, atomic_write

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
# The workflow's columns: only in a ledger of tickets that have a workflow state (the
# server's exports); ``heyan ingest`` writes drafts, nothing has been assigned yet.
WORKFLOW_COLUMNS: list[tuple[str, str, str]] = [
    ("state", "状态", "state"),
    ("responsible_chief", "责任河长", "responsible chief"),
    ("dispatched_at", "交办时间", "assigned at"),
    ("rectified_at", "整改时间", "rectified at"),
    ("closed_at", "销号时间", "closed at"),
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


# An office reads Chinese words and Beijing time, not the API's ids and UTC ISO stamps.
STATE_ZH = {"pending_review": "待审核", "confirmed": "待交办", "rejected": "已驳回", "dispatched": "整改中",
            "rectified": "待销号", "closed": "已销号"}
SEVERITY_ZH = {"low": "一般", "medium": "较重", "high": "严重"}
LEVEL_ZH = {"village": "村级", "township": "乡镇级", "county": "县级"}
CLASS_ZH = {c.name: c.zh for c in CLASSES}
TIME_KEYS = frozenset({"found_at", "deadline", "dispatched_at", "rectified_at", "closed_at"})


def beijing_text(value: Any) -> Any:
    """A time as "2026-06-01 12:00:00" in Beijing time (no zone suffix, no microseconds).
    A stamp without a zone is already local (a photo's clock); a bare date stays a date."""
    if value in (None, ""):
        return value
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value)
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if len(text) <= 10:
            return text
    if when.tzinfo is not None:
        when = when.astimezone(BEIJING)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def display(t: TicketRecord, key: str) -> Any:
    """The value of a ledger column as an office reads it."""
    if key in ("lat", "lon"):
        return round(getattr(t, key), 7)
    if key == "responsible_chief":
        name, level = t.value("chief_name"), t.value("chief_level")
        return f"{name}（{LEVEL_ZH.get(level, level)}）" if name and level else name
    value = t.value(key)
    if key in TIME_KEYS:
        return beijing_text(value)
    if key == "state" and value:
        overdue = t.value("overdue") and value == "dispatched"
        return STATE_ZH.get(value, value) + ("（逾期）" if overdue else "")
    if key == "severity":
        return SEVERITY_ZH.get(value, value)
    if key == "class":
        return CLASS_ZH.get(value, value)
    return value


def _cell(t: TicketRecord, key: str) -> Any:
    value = display(t, key)
    return "" if value is None else safe_cell(value)


def ledger_columns(tickets: Sequence[TicketRecord], gcj02: bool = False) -> list[tuple[str, str, str]]:
    cols = list(LEDGER_COLUMNS)
    if any(t.value("state") for t in tickets):
        cols[1:1] = WORKFLOW_COLUMNS  # right after the ticket id: what an office sorts on first
    return cols + (GCJ_COLUMNS if gcj02 else [])


def ledger_rows(tickets: Sequence[TicketRecord], gcj02: bool = False) -> tuple[list[str], list[list[Any]]]:
    cols = ledger_columns(tickets, gcj02)
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
    header, rows = ledger_rows(tickets, gcj02)
    return write_sheets(path, [Sheet(title, header, rows)])


@dataclass
class Sheet:
    """One worksheet: a bold header row, then the rows; ``formats`` gives a number format per
    column index (e.g. "0.0%")."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    formats: dict[int, str] = field(default_factory=dict)


def write_sheets(path: Path, sheets: Sequence[Sheet]) -> Path:
    """An XLSX workbook; text goes through ``safe_cell`` and is stored as text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        ws.append(sheet.header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
        for r in sheet.rows:
            ws.append([safe_cell(v) for v in r])
            for i, cell in enumerate(ws[ws.max_row]):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text (openpyxl reads "=..." as one)
                elif i in sheet.formats:
                    cell.number_format = sheet.formats[i]
        ws.freeze_panes = "A2"
        for i, h in enumerate(sheet.header, 1):
            width = max([len(str(h)) * 2] + [len(str(r[i - 1])) for r in sheet.rows[:200] if i <= len(r)] + [6])
            ws.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    with atomic_file(path, keep_suffix=True) as tmp:
        wb.save(tmp)
    return Path(path)


# KML colours are aabbggrr; the viewer's state colours (serve/static/js/i18n.js).
STATE_KML_COLOURS = {"pending_review": "ff20a0f0", "confirmed": "ff4040d0", "rejected": "ff909090",
                     "dispatched": "ff9030c0", "rectified": "ffd08030", "closed": "ff50a030"}


def _kml_styles() -> list[str]:
    return [f'<Style id="state-{state}"><IconStyle><color>{colour}</color><scale>1.1</scale></IconStyle>'
            f"<LabelStyle><scale>0.8</scale></LabelStyle></Style>" for state, colour in STATE_KML_COLOURS.items()]


def write_kml(path: Path, tickets: Sequence[TicketRecord], name: str = "Heyan tickets") -> Path:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<kml xmlns="http://www.opengis.net/kml/2.2">', "<Document>",
             f"<name>{escape(name)}</name>", *_kml_styles()]
    cols = [c for c in ledger_columns(tickets) if c[0] not in ("lat", "lon")]
    for t in tickets:
        # The KML names only what the ticket says (lat/lon are the Point's, not repeated);
        # the description in words, ExtendedData with the raw values for GIS tools.
        shown = {key: display(t, key) for key, _, _ in cols}
        p = {key: t.value(key) for key, _, _ in cols}
        lon, lat = t.lon, t.lat
        state = t.value("state") or "pending_review"  # a draft of ``heyan ingest`` waits for review
        title = f"{t.category_zh or ''} {t.id or ''}".strip()
        desc_lines = [f"{zh}: {shown.get(key)}" for key, zh, _ in cols if shown.get(key) not in (None, "")]
        parts += [
            "<Placemark>",
            f"<name>{escape(title)}</name>",
            f"<styleUrl>#state-{escape(state if state in STATE_KML_COLOURS else 'pending_review')}</styleUrl>",
            f"<description>{escape(chr(10).join(desc_lines))}</description>",
            "<ExtendedData>" + "".join(
                f'<Data name="{escape(k)}"><value>{escape(str(p.get(k)))}</value></Data>'
                for k, _, _ in cols if p.get(k) not in (None, "")) + "</ExtendedData>",
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
