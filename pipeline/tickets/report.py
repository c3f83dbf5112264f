"""``report.html``: one self-contained page per flight (inline SVG map, inline thumbnails,
no script or style from anywhere else), so it opens on an air-gapped office PC."""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from heyan.pipeline.tickets.ticket import TicketRecord

CATEGORY_COLOURS = {
    "floating_debris": "#f5a623", "illegal_mining": "#d0021b", "illegal_dumping": "#8b572a",
    "illegal_construction": "#9013fe", "illegal_occupation": "#bd10e0",
}


@dataclass
class ReportData:
    flight_id: str
    segments: list[tuple[str, list[tuple[float, float]]]]  # (name, [(lon, lat), ...])
    footprints: list[list[tuple[float, float]]]  # rings (lon, lat)
    tickets: list[TicketRecord]
    photos_total: int
    photos_rejected: int
    detections: int
    no_ticket_reasons: dict[str, int] = field(default_factory=dict)
    tiles_run: int = 0
    tiles_total: int = 0
    seen_again: int = 0
    not_seen: int = 0
    generated_at: str = ""


class _Proj:
    """Equirectangular projection to the SVG box; fine at flight scale."""

    def __init__(self, pts: Sequence[tuple[float, float]], w: int, h: int, pad: int = 20) -> None:
        import math

        lons = [p[0] for p in pts] or [0.0]
        lats = [p[1] for p in pts] or [0.0]
        self.k = math.cos(math.radians(sum(lats) / len(lats)))
        x0, x1 = min(lons) * self.k, max(lons) * self.k
        y0, y1 = min(lats), max(lats)
        span = max(x1 - x0, y1 - y0, 1e-6)
        self.s = min((w - 2 * pad) / max(x1 - x0, 1e-9) if x1 > x0 else 1e12, (h - 2 * pad) / max(y1 - y0, 1e-9) if y1 > y0 else 1e12)
        if self.s > 1e11:
            self.s = (w - 2 * pad) / span
        self.x0, self.y1, self.pad = x0, y1, pad

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (self.pad + (lon * self.k - self.x0) * self.s, self.pad + (self.y1 - lat) * self.s)


def _thumb(path: str | None, max_bytes: int = 60_000) -> str:
    if not path:
        return ""
    p = Path(path)
    if not p.is_file() or p.stat().st_size > max_bytes:
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(p.read_bytes()).decode()


def render_report(data: ReportData, evidence_root: Path) -> str:
    W, H = 900, 560
    pts: list[tuple[float, float]] = [p for _, line in data.segments for p in line]
    pts += [p for ring in data.footprints for p in ring]
    pts += [(t.lon, t.lat) for t in data.tickets]
    proj = _Proj(pts, W, H)
    svg = [f'<svg viewBox="0 0 {W} {H}" width="100%" xmlns="http://www.w3.org/2000/svg" style="background:#eef3f6">']
    for ring in data.footprints:
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(*p) for p in ring))
        svg.append(f'<polygon points="{d}" fill="#4a90e2" fill-opacity="0.06" stroke="#4a90e2" stroke-opacity="0.35" stroke-width="0.7"/>')
    for name, line in data.segments:
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in (proj(*p) for p in line))
        svg.append(f'<polyline points="{d}" fill="none" stroke="#1f6fb2" stroke-width="4" stroke-linecap="round"><title>{html.escape(name)}</title></polyline>')
    for t in data.tickets:
        x, y = proj(t.lon, t.lat)
        col = CATEGORY_COLOURS.get(t.category or "", "#333")
        svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{col}" stroke="#fff" stroke-width="1.5">'
                   f'<title>{html.escape(str(t.id))} {html.escape(str(t.category_zh))}</title></circle>')
    svg.append("</svg>")
    by_cat = Counter(t.category_zh or "?" for t in data.tickets)
    by_seg = Counter(t.segment_name or "?" for t in data.tickets)
    rows = []
    for t in data.tickets:
        img = _thumb(str(evidence_root / t.best_crop) if t.best_crop else None)
        thumb = f'<img src="{img}" alt="" loading="lazy">' if img else ""
        rows.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in [
                thumb, html.escape(str(t.id)), html.escape(str(t.category_zh)),
                html.escape(t.segment_name or ""), f"{t.chainage_km}",
                html.escape(t.bank_zh or ""), f"{t.lat:.6f}, {t.lon:.6f}", f"{t.error_m}",
                f"{t.score}", f"{t.n_views}", html.escape(t.deadline or ""),
                html.escape(t.chief_village or t.chief_township or t.chief_county or ""),
            ]) + "</tr>")
    legend = " ".join(f'<span class="dot" style="background:{c}"></span>{html.escape(k)}' for k, c in CATEGORY_COLOURS.items())
    reasons = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in sorted(data.no_ticket_reasons.items(), key=lambda kv: -kv[1]))
    tiles = (f"{data.tiles_run} / {data.tiles_total}" if data.tiles_total else "—")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>河眼 航次报告 {html.escape(data.flight_id)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222}}
h1{{font-size:22px}} table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccd;padding:4px 6px;vertical-align:middle}}
th{{background:#f0f3f7}} img{{max-width:110px;max-height:110px}} .k{{display:inline-block;margin-right:24px}}
.dot{{display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 4px 0 12px}} .en{{color:#777;font-size:12px}}
</style></head><body>
<h1>河眼 航次巡查报告 <span class="en">Heyan flight report</span> — {html.escape(data.flight_id)}</h1>
<p><span class="k">照片 photos: <b>{data.photos_total}</b></span><span class="k">无法使用 rejected: <b>{data.photos_rejected}</b></span>
<span class="k">检测 detections: <b>{data.detections}</b></span><span class="k">新工单 new tickets: <b>{len(data.tickets)}</b></span>
<span class="k">复现 seen again: <b>{data.seen_again}</b></span><span class="k">未复现 not seen: <b>{data.not_seen}</b></span>
<span class="k">运行切片 tiles run: <b>{tiles}</b></span></p>
<h2>地图 <span class="en">Map</span></h2>{legend}
{''.join(svg)}
<h2>按类别 <span class="en">By category</span></h2><table><tr><th>类别</th><th>数量</th></tr>
{''.join(f'<tr><td>{html.escape(k)}</td><td>{v}</td></tr>' for k, v in by_cat.most_common())}</table>
<h2>按河段 <span class="en">By segment</span></h2><table><tr><th>河段</th><th>数量</th></tr>
{''.join(f'<tr><td>{html.escape(k)}</td><td>{v}</td></tr>' for k, v in by_seg.most_common())}</table>
<h2>工单 <span class="en">Tickets</span></h2>
<table><tr><th>取证</th><th>编号</th><th>类别</th><th>河段</th><th>里程 km</th><th>岸别</th><th>位置 (WGS-84)</th><th>误差 m</th><th>置信度</th><th>照片数</th><th>期限</th><th>河长</th></tr>
{''.join(rows)}</table>
<h2>未生成工单的检测 <span class="en">Detections without a ticket</span></h2><ul>{reasons or '<li>—</li>'}</ul>
<p class="en">Generated {html.escape(data.generated_at)} by Heyan. WGS-84 coordinates.</p>
</body></html>
"""
