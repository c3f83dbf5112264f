"""``report.html``: one self-contained page per flight (inline SVG map over an inline JPEG
of the photos, inline evidence crops, no script and nothing fetched), so it opens on an
air-gapped office PC and prints."""

from __future__ import annotations

import base64
import html
from pathlib import Path

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
from heyan.pipeline.report.scene import Marker, Scene, build_scene, north_arrow, small_jpeg

E = html.escape


def _b64(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def _lbl(key: str, lang: Lang) -> str:
    """A heading or label: Chinese, with the English beside it in grey."""
    from heyan.pipeline.report.labels import TEXT

    zh, en = TEXT[key]
    return E(zh) if lang == "zh" else f'{E(zh)} <span class="en">{E(en)}</span>'


def _marker_svg(m: Marker, r: float = 7.0) -> str:
    title = f"<title>{E(m.id)} {E(m.label_zh)}</title>"
    common = f'fill="{m.colour}" stroke="#fff" stroke-width="1.8"'
    if m.state in ("new", "pending_review"):
        return f'<circle class="marker" cx="{m.x:.1f}" cy="{m.y:.1f}" r="{r}" {common}>{title}</circle>'
    if m.state == "seen_again":
        d = f"M{m.x:.1f},{m.y - r * 1.3:.1f} l{r * 1.3:.1f},{r * 1.3:.1f} l{-r * 1.3:.1f},{r * 1.3:.1f} l{-r * 1.3:.1f},{-r * 1.3:.1f}z"
        return f'<path class="marker" d="{d}" {common}>{title}</path>'
    return f'<rect class="marker" x="{m.x - r:.1f}" y="{m.y - r:.1f}" width="{2 * r}" height="{2 * r}" {common}>{title}</rect>'


def map_svg(s: Scene, lang: Lang) -> str:
    w, h = s.width, s.height
    out = [f'<svg id="map" viewBox="0 0 {w:.0f} {h:.0f}" xmlns="http://www.w3.org/2000/svg" '
           f'data-extent="{s.canvas.extent.x0:.2f} {s.canvas.extent.y0:.2f} {s.canvas.extent.x1:.2f} {s.canvas.extent.y1:.2f}" '
           f'data-epsg="{s.frame.epsg}">',
           f'<image class="photos" href="{_b64(s.mosaic)}" x="0" y="0" width="{w:.0f}" height="{h:.0f}" preserveAspectRatio="none"/>']
    for name, ring, off in s.photos:
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
        dash = ' stroke-dasharray="4 3"' if off else ""
        out.append(f'<polygon class="footprint" points="{d}" fill="none" stroke="#ffffff" stroke-opacity="0.8" '
                   f'stroke-width="0.8"{dash}><title>{E(name)}</title></polygon>')
    for name, parts, _ in s.rivers:
        for part in parts:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in part)
            out.append(f'<polyline class="river" points="{d}" fill="none" stroke="#1f6fb2" stroke-opacity="0.75" '
                       f'stroke-width="3" stroke-linecap="round"><title>{E(name)}</title></polyline>')
    for name, _, at in s.rivers:
        if at is not None:
            out.append(f'<text class="seglabel" x="{at[0]:.1f}" y="{at[1] - 8:.1f}">{E(name)}</text>')
    out += [_marker_svg(m) for m in s.markers]
    # Scale bar (bottom left) and north arrow (top right), on white plates so they read
    # over any photo.
    x0, y0 = 16.0, h - 22.0
    out.append(f'<g class="scalebar"><rect x="{x0 - 8}" y="{y0 - 22}" width="{s.scale_len + 70:.1f}" height="36" '
               f'fill="#fff" fill-opacity="0.85" rx="3"/>'
               f'<rect x="{x0}" y="{y0}" width="{s.scale_len / 2:.1f}" height="6" fill="#222"/>'
               f'<rect x="{x0 + s.scale_len / 2:.1f}" y="{y0}" width="{s.scale_len / 2:.1f}" height="6" fill="#fff" stroke="#222"/>'
               f'<text x="{x0}" y="{y0 - 6}">0</text><text x="{x0 + s.scale_len:.1f}" y="{y0 - 6}" text-anchor="middle">'
               f'{E(s.scale_label)}</text></g>')
    cx, cy = w - 34.0, 44.0
    tri = " ".join(f"{x:.1f},{y:.1f}" for x, y in north_arrow(cx, cy + 6, 16, s.north_deg))
    out.append(f'<g class="north"><circle cx="{cx}" cy="{cy}" r="28" fill="#fff" fill-opacity="0.85"/>'
               f'<polygon points="{tri}" fill="#222"/><text x="{cx}" y="{cy - 14}" text-anchor="middle" '
               f'font-weight="bold">{E(t("north", "zh"))}</text></g>')
    out.append("</svg>")
    return "".join(out)


def legend_html(d: ReportData, s: Scene, lang: Lang) -> str:
    items = [f'<li><span class="sw photo"></span>{_lbl("photo", lang)}</li>']
    if any(off for _, _, off in s.photos):
        items.append(f'<li><span class="sw offriver"></span>{_lbl("photo_off_river", lang)}</li>')
    if s.rivers:
        items.append(f'<li><span class="sw river"></span>{_lbl("river", lang)}</li>')
    seen: dict[str, str] = {}
    for cat, cat_zh in [(tk.category, tk.category_zh) for tk in d.tickets] + [(s.category, None) for s in d.seen_again]:
        seen.setdefault(pair(*category_text(cat, cat_zh), lang), category_colour(cat))
    for name, colour in seen.items():
        items.append(f'<li><svg width="16" height="16"><circle cx="8" cy="8" r="6" fill="{colour}" stroke="#fff"/></svg>{E(name)}</li>')
    states = {m.state for m in s.markers}
    if states & {"new", "pending_review"}:
        items.append(f'<li><svg width="16" height="16"><circle cx="8" cy="8" r="6" fill="#888"/></svg>{_lbl("state_new", lang)}</li>')
    if "seen_again" in states:
        items.append(f'<li><svg width="16" height="16"><path d="M8,0 l8,8 l-8,8 l-8,-8z" fill="#888"/></svg>'
                     f'{_lbl("state_seen_again", lang)}</li>')
    for st in sorted(states - {"new", "pending_review", "seen_again"}):
        zh, en = state_text(st)
        items.append(f'<li><svg width="16" height="16"><rect x="2" y="2" width="12" height="12" fill="#888"/></svg>'
                     f'{E(pair(zh, en, lang))}</li>')
    crs = t("crs", lang, zone=s.frame.epsg % 100, epsg=s.frame.epsg)
    return f'<div class="legend"><h3>{_lbl("legend", lang)}</h3><ul>{"".join(items)}</ul><p class="crs">{E(crs)}</p></div>'


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{c}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def render_html(d: ReportData, root: Path, lang: Lang = "zh-en", scene: Scene | None = None) -> str:
    """The report page; ``root`` is the ingest output folder (thumbnails, evidence crops)."""
    s = scene or build_scene(d, root)
    the_map = f'<div class="mapwrap">{map_svg(s, lang)}{legend_html(d, s, lang)}</div>' if s else f"<p>{_lbl('no_map', lang)}</p>"
    summary = _table([_lbl("summary", lang), _lbl("count", lang)], [[E(k), f"<b>{E(v)}</b>"] for k, v in summary_rows(d, lang)],
                     "summary")
    cats = category_rows(d, lang)
    by_cat = _table([_lbl("category", lang), _lbl("new", lang), _lbl("again", lang)],
                    [[E(k), str(n), str(a)] for k, n, a in cats]) if cats \
        else f"<p>{_lbl('none', lang)}</p>"
    segs = segment_rows(d)
    by_seg = _table([_lbl("segment", lang), _lbl("new", lang)], [[E(k), str(n)] for k, n in segs]) if segs \
        else f"<p>{_lbl('none', lang)}</p>"
    rej = rejected_rows(d, lang)
    rejected = _table([_lbl("reason", lang), _lbl("count", lang), _lbl("file", lang)],
                      [[E(r), str(n), E(f)] for r, n, f in rej]) if rej else f"<p>{_lbl('none', lang)}</p>"
    nt = no_ticket_rows(d, lang)
    no_ticket = _table([_lbl("reason", lang), _lbl("count", lang)], [[E(r), str(n)] for r, n in nt]) if nt \
        else f"<p>{_lbl('none', lang)}</p>"
    rows = []
    for tk in d.tickets:
        crop = small_jpeg(root / tk.best_crop) if tk.best_crop else None
        zh, en = category_text(tk.category, tk.category_zh)
        szh, sen = state_text(ticket_state(tk))
        rows.append([
            f'<img src="{_b64(crop)}" alt="">' if crop else "", f"<b>{E(str(tk.id))}</b>",
            f'<span class="dot" style="background:{category_colour(tk.category)}"></span>{E(pair(zh, en, lang))}',
            E(pair(szh, sen, lang)), E(tk.segment_name or ""),
            "" if tk.chainage_km is None else f"{tk.chainage_km:.3f}", E(tk.bank_zh or ""),
            f"{tk.lat:.6f}, {tk.lon:.6f}", "" if tk.error_m is None else f"{tk.error_m:.1f}",
            "" if tk.score is None else f"{tk.score:.2f}", str(tk.n_views or ""), E(beijing_time(tk.found_at)),
            E(tk.deadline or ""), E(tk.chief_village or tk.chief_township or tk.chief_county or ""),
        ])
    cols = ["col_crop", "col_id", "category", "col_state", "col_segment", "col_chainage", "col_bank", "col_position",
            "col_error", "col_score", "col_views", "col_found", "col_deadline", "col_chief"]
    tickets = _table([_lbl(c, lang) for c in cols], rows, "tickets") if rows else f"<p>{_lbl('none', lang)}</p>"
    title = t("title", "zh")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>河眼 {E(title)} {E(d.flight_id)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC","Source Han Sans SC",sans-serif;margin:20px auto;
max-width:1200px;padding:0 16px;color:#222}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:17px;margin:22px 0 8px;border-bottom:2px solid #1f6fb2;padding-bottom:3px}}
h3{{font-size:14px;margin:0 0 6px}} .en{{color:#777;font-size:0.8em;font-weight:normal}} .meta{{color:#555;margin:0 0 12px}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccd;padding:4px 6px;vertical-align:middle;text-align:left}}
th{{background:#f0f3f7}} table.tickets img{{max-width:120px;max-height:120px;display:block}}
.mapwrap{{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}} #map{{flex:1 1 640px;max-width:100%;
border:1px solid #bbc;background:#e2e8ec}} #map text{{font-size:13px;paint-order:stroke;stroke:#fff;stroke-width:3px}}
#map .seglabel{{font-size:15px;font-weight:bold;fill:#0b4f8a;text-anchor:middle}} .legend{{flex:0 0 240px;font-size:13px}}
.legend ul{{list-style:none;padding:0;margin:0}} .legend li{{display:flex;align-items:center;gap:6px;margin:4px 0}}
.legend svg{{flex:none}} .sw{{display:inline-block;width:16px;height:12px;flex:none}} .sw.photo{{background:#9bb;border:1px solid #fff;
outline:1px solid #889}} .sw.offriver{{border:1px dashed #667}} .sw.river{{height:4px;background:#1f6fb2}} .crs{{color:#666;font-size:12px}}
.scroll{{overflow-x:auto;max-width:100%}}
.dot{{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:5px}} .cols{{display:flex;gap:24px;flex-wrap:wrap}}
@media print{{body{{max-width:none}} h2{{break-after:avoid}} tr{{break-inside:avoid}}}}
</style></head><body>
<h1>河眼 {_lbl("title", lang)}</h1>
<p class="meta">{_lbl("flight", lang)}：<b>{E(d.flight_id)}</b> · {_lbl("generated", lang)}：{E(d.generated_at.strftime("%Y-%m-%d %H:%M"))}</p>
<h2>{_lbl("map", lang)}</h2>
{the_map}
<div class="cols"><div><h2>{_lbl("summary", lang)}</h2>{summary}</div>
<div><h2>{_lbl("by_category", lang)}</h2>{by_cat}</div>
<div><h2>{_lbl("by_segment", lang)}</h2>{by_seg}</div>
<div><h2>{_lbl("rejected", lang)}</h2>{rejected}</div>
<div><h2>{_lbl("no_ticket", lang)}</h2>{no_ticket}</div></div>
<h2>{_lbl("tickets", lang)}</h2>
<div class="scroll">{tickets}</div>
</body></html>
"""
