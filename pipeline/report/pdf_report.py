"""``report.pdf``: the flight report for filing and printing, A4 landscape. Page 1 is the
map (the same scene as the HTML: photos on their footprints, rivers, ticket markers, scale
bar, north arrow) with its legend; page 2 the summary; then the ticket table with evidence
crops. Made with fpdf2 (no browser); the Chinese font ships in ``fonts/`` and the PDF embeds
the subset of glyphs it uses, so it prints the same on any PC."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from heyan.pipeline.report.data import (
    ReportData,
    beijing_time,
    category_rows,
    no_ticket_rows,
    rejected_rows,
    segment_rows,
    summary_rows,
    ticket_state,
)
from heyan.pipeline.report.labels import Lang, category_colour, category_text, pair, state_text, t
from heyan.pipeline.report.scene import Scene, build_scene, north_arrow, small_jpeg

FONT_FILE = Path(__file__).with_name("fonts") / "NotoSansSC-Report.otf"
FONT = "NotoSansSC"
PAGE_W, PAGE_H, MARGIN = 297.0, 210.0, 10.0


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class _Report(FPDF):
    def __init__(self, d: ReportData, lang: Lang) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.d, self.lang = d, lang
        self.add_font(FONT, "", str(FONT_FILE))
        self.set_auto_page_break(True, margin=14)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_title(f"河眼 {t('title', 'zh')} {d.flight_id}")
        self.set_creator("Heyan 河眼")
        self.set_creation_date(d.generated_at)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"河眼 · {t('flight', 'zh')} {self.d.flight_id} · {t('page', 'zh', n=self.page_no())}", align="C")
        self.set_text_color(0)

    def heading(self, key: str, size: float = 13) -> None:
        self.set_font(FONT, size=size)
        self.set_text_color(20, 70, 120)
        self.cell(0, 8, t(key, self.lang), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.set_font(FONT, size=9)


def _draw_map(pdf: _Report, s: Scene, x: float, y: float, w: float, h: float) -> float:
    """The scene fitted into the box (x, y, w, h), aspect kept, centred across; returns
    the height it took."""
    k = min(w / s.width, h / s.height)
    ox, oy = x + (w - s.width * k) / 2, y  # top-aligned: the legend beside it starts at the top too
    mw, mh = s.width * k, s.height * k

    def p(px: float, py: float) -> tuple[float, float]:
        return ox + px * k, oy + py * k

    pdf.image(io.BytesIO(s.mosaic), x=ox, y=oy, w=mw, h=mh)
    with pdf.rect_clip(ox, oy, mw, mh):
        pdf.set_line_width(0.15)
        pdf.set_draw_color(255, 255, 255)
        for _, ring, off in s.photos:
            if off:
                pdf.set_dash_pattern(1, 0.8)
            pdf.polygon([p(*q) for q in ring], style="D")
            pdf.set_dash_pattern()
        pdf.set_line_width(0.8)
        pdf.set_draw_color(31, 111, 178)
        for _, parts, _ in s.rivers:
            for part in parts:
                pdf.polyline([p(*q) for q in part], style="D")
        pdf.set_font(FONT, size=8)
        pdf.set_text_color(11, 79, 138)
        for name, _, at in s.rivers:
            if at is not None:
                tx, ty = p(*at)
                tw = pdf.get_string_width(name)
                pdf.set_fill_color(255, 255, 255)
                pdf.rect(tx - tw / 2 - 0.8, ty - 5.2, tw + 1.6, 3.8, style="F")
                pdf.text(tx - tw / 2, ty - 2.2, name)
        pdf.set_text_color(0)
        pdf.set_line_width(0.3)
        pdf.set_draw_color(255, 255, 255)
        r = 1.6
        for m in s.markers:
            mx, my = p(m.x, m.y)
            pdf.set_fill_color(*_rgb(m.colour))
            if m.state in ("new", "pending_review"):
                pdf.circle(mx, my, r, style="DF")
            elif m.state == "seen_again":
                pdf.polygon([(mx, my - r * 1.3), (mx + r * 1.3, my), (mx, my + r * 1.3), (mx - r * 1.3, my)], style="DF")
            else:
                pdf.rect(mx - r, my - r, 2 * r, 2 * r, style="DF")
    pdf.set_draw_color(120)
    pdf.set_line_width(0.2)
    pdf.rect(ox, oy, mw, mh)
    # Scale bar and north arrow on white plates.
    sl = s.scale_len * k
    bx, by = ox + 5, oy + mh - 7
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(bx - 2, by - 5, sl + 16, 9, style="F")
    pdf.set_draw_color(30)
    pdf.set_fill_color(30, 30, 30)
    pdf.rect(bx, by, sl / 2, 1.5, style="DF")
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(bx + sl / 2, by, sl / 2, 1.5, style="DF")
    pdf.set_font(FONT, size=7)
    pdf.text(bx - 0.6, by - 1, "0")
    pdf.text(bx + sl - pdf.get_string_width(s.scale_label) / 2, by - 1, s.scale_label)
    nx, ny = ox + mw - 10, oy + 11
    pdf.set_fill_color(255, 255, 255)
    pdf.circle(nx, ny, 7.5, style="F")
    pdf.set_fill_color(30, 30, 30)
    pdf.polygon(north_arrow(nx, ny + 1.8, 4.5, s.north_deg), style="F")
    pdf.set_font(FONT, size=7)
    label = t("north", "zh")
    pdf.text(nx - pdf.get_string_width(label) / 2, ny - 3.6, label)
    return mh


def _legend(pdf: _Report, d: ReportData, s: Scene, x: float, y: float, w: float) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, size=11)
    pdf.cell(w, 7, t("legend", pdf.lang), new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, size=8)

    def row(draw: str, colour: str, text: str) -> None:
        cx, cy = pdf.get_x() + 2.5, pdf.get_y() + 2.6
        pdf.set_fill_color(*_rgb(colour))
        pdf.set_draw_color(*_rgb(colour))
        if draw == "circle":
            pdf.circle(cx, cy, 1.6, style="F")
        elif draw == "diamond":
            pdf.polygon([(cx, cy - 2), (cx + 2, cy), (cx, cy + 2), (cx - 2, cy)], style="F")
        elif draw == "square":
            pdf.rect(cx - 1.6, cy - 1.6, 3.2, 3.2, style="F")
        elif draw == "line":
            pdf.set_line_width(0.8)
            pdf.line(cx - 2.5, cy, cx + 2.5, cy)
        else:  # outline
            pdf.set_draw_color(110)
            pdf.set_line_width(0.2)
            pdf.rect(cx - 2.5, cy - 1.6, 5, 3.2, style="D")
        pdf.set_x(x + 7)
        pdf.multi_cell(w - 7, 5.2, text, align="L", new_x="LEFT", new_y="NEXT")
        pdf.set_x(x)

    row("outline", "#999999", t("photo", pdf.lang))
    if s.rivers:
        row("line", "#1f6fb2", t("river", pdf.lang))
    cats: dict[str, str] = {}
    for cat, cat_zh in [(tk.category, tk.category_zh) for tk in d.tickets] + [(s.category, None) for s in d.seen_again]:
        cats.setdefault(pair(*category_text(cat, cat_zh), pdf.lang), category_colour(cat))
    for name, colour in cats.items():
        row("circle", colour, name)
    states = {m.state for m in s.markers}
    if states & {"new", "pending_review"}:
        row("circle", "#888888", t("state_new", pdf.lang))
    if "seen_again" in states:
        row("diamond", "#888888", t("state_seen_again", pdf.lang))
    for st in sorted(states - {"new", "pending_review", "seen_again"}):
        zh, en = state_text(st)
        row("square", "#888888", pair(zh, en, pdf.lang))
    pdf.ln(2)
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(100)
    pdf.set_x(x)
    pdf.multi_cell(w, 4, t("crs", pdf.lang, zone=s.frame.epsg % 100, epsg=s.frame.epsg), align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(0)


def _simple_table(pdf: _Report, head: list[str], rows: list[list[str]], widths: tuple[float, ...]) -> None:
    pdf.set_font(FONT, size=9)
    pdf.set_fill_color(255, 255, 255)
    head_style = FontFace(fill_color=(232, 238, 245))
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", headings_style=head_style, text_align="LEFT",
                   line_height=5.5, first_row_as_headings=True) as table:
        table.row(head)
        for r in rows:
            table.row(r)
    pdf.ln(3)


def render_pdf(d: ReportData, root: Path, lang: Lang = "zh-en", scene: Scene | None = None) -> bytes:
    s = scene or build_scene(d, root)
    pdf = _Report(d, lang)
    # Page 1: the map.
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 8, f"河眼 {t('title', lang)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(80)
    pdf.cell(0, 5, f"{t('flight', lang)}：{d.flight_id}    {t('generated', lang)}：{d.generated_at:%Y-%m-%d %H:%M}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    legend_w = 62.0
    top = pdf.get_y() + 2
    if s is not None:
        map_h = _draw_map(pdf, s, MARGIN, top, PAGE_W - 2 * MARGIN - legend_w - 4, PAGE_H - top - 14)
        _legend(pdf, d, s, PAGE_W - MARGIN - legend_w, top, legend_w)
    else:
        pdf.set_xy(MARGIN, top + 4)
        pdf.multi_cell(0, 6, t("no_map", lang), align="L", new_x="LMARGIN", new_y="NEXT")
        map_h = 12.0
    rows = summary_rows(d, lang)
    half = -(-len(rows) // 2)
    if PAGE_H - 14 - (top + map_h) >= 10 + half * 5.5:  # a wide flight leaves room: the key figures under the map
        pdf.set_xy(MARGIN, top + map_h + 3)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_font(FONT, size=8.5)
        with pdf.table(col_widths=(80, 20, 80, 20), width=200, align="LEFT", line_height=5.5, text_align="LEFT",
                       first_row_as_headings=False) as table:
            for i in range(half):
                right = rows[i + half] if i + half < len(rows) else ("", "")
                table.row([rows[i][0], rows[i][1], right[0], right[1]])
    # Page 2: the summary; figures on the left, what was left out (and why) on the right.
    pdf.add_page()
    summary_page, top = pdf.page, pdf.get_y()
    pdf.set_right_margin(PAGE_W - 145)
    pdf.heading("summary")
    _simple_table(pdf, [t("summary", lang), t("count", lang)], [[k, v] for k, v in summary_rows(d, lang)], (100, 30))
    pdf.heading("by_category")
    cats = category_rows(d, lang)
    _simple_table(pdf, [t("category", lang), t("new", lang), t("again", lang)],
                  [[k, str(n), str(a)] for k, n, a in cats] or [[t("none", lang), "0", "0"]], (80, 25, 25))
    segs = segment_rows(d)
    if segs:
        pdf.heading("by_segment")
        _simple_table(pdf, [t("segment", lang), t("new", lang)], [[k, str(n)] for k, n in segs], (100, 30))
    # The right column beside it, unless the left one ran onto another page: then below.
    pdf.set_right_margin(MARGIN)
    side_by_side = pdf.page == summary_page
    if side_by_side:
        pdf.set_left_margin(152)
        pdf.set_xy(152, top)
    pdf.heading("rejected")
    rej = rejected_rows(d, lang)
    _simple_table(pdf, [t("reason", lang), t("count", lang), t("file", lang)],
                  [[r, str(n), f] for r, n, f in rej] or [[t("none", lang), "0", ""]], (62, 18, 55))
    pdf.heading("no_ticket")
    nt = no_ticket_rows(d, lang)
    _simple_table(pdf, [t("reason", lang), t("count", lang)], [[r, str(n)] for r, n in nt] or [[t("none", lang), "0"]], (117, 18))
    pdf.set_left_margin(MARGIN)
    # Then the tickets, with their evidence crops.
    pdf.add_page()
    pdf.heading("tickets")
    if not d.tickets:
        pdf.cell(0, 6, t("none", lang), new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font(FONT, size=8)
        cols = ["col_crop", "col_id", "category", "col_state", "col_segment", "col_chainage", "col_bank", "col_position",
                "col_error", "col_found", "col_deadline", "col_chief"]
        widths = (22, 33, 26, 18, 27, 16, 11, 24, 12, 24, 20, 44)
        pdf.set_fill_color(255, 255, 255)
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=4.5, text_align="LEFT",
                       headings_style=FontFace(fill_color=(232, 238, 245))) as table:
            table.row([t(c, lang) for c in cols])
            for tk in d.tickets:
                crop = small_jpeg(root / tk.best_crop, 240) if tk.best_crop else None
                zh, en = category_text(tk.category, tk.category_zh)
                szh, sen = state_text(ticket_state(tk))
                row = table.row()
                if crop:
                    row.cell(img=io.BytesIO(crop), img_fill_width=True)
                else:
                    row.cell("")
                for value in (str(tk.id), pair(zh, en, lang), pair(szh, sen, lang), tk.segment_name or "",
                              "" if tk.chainage_km is None else f"{tk.chainage_km:.3f}", tk.bank_zh or "",
                              f"{tk.lat:.6f}\n{tk.lon:.6f}", "" if tk.error_m is None else f"{tk.error_m:.1f}",
                              beijing_time(tk.found_at), tk.deadline or "",
                              tk.chief_village or tk.chief_township or tk.chief_county or ""):
                    row.cell(value)
    return bytes(pdf.output())
