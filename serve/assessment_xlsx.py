"""The assessment tables (考核) as an XLSX workbook an office files: Chinese headers, rates
as percentages, Beijing time, through the pipeline's sheet writer (its formula guard)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from heyan.pipeline.tickets.exports import LEVEL_ZH, Sheet, write_sheets
from heyan.serve.schemas.stats import AssessmentOut, AssessmentRow

DATE_FIELD_ZH = {"found_at": "发现时间", "dispatched_at": "交办时间", "closed_at": "销号时间"}
NO_SEGMENT, NOT_DISPATCHED, TOTAL = "（无河段）", "（未交办）", "合计"

# (header, value of a row, number format)
Column = tuple[str, Callable[[AssessmentRow], Any], str | None]
FIGURES: list[Column] = [
    ("发现问题", lambda r: r.found, None),
    ("已交办", lambda r: r.dispatched, None),
    ("已销号", lambda r: r.closed, None),
    ("销号率", lambda r: r.closure_rate, "0.0%"),
    ("应整改", lambda r: r.due, None),
    ("按期整改", lambda r: r.on_time, None),
    ("整改按期率", lambda r: r.on_time_rate, "0.0%"),
    ("超期", lambda r: r.overdue, None),
    ("当前超期", lambda r: r.open_overdue, None),
    ("平均处理时长（小时）", lambda r: r.avg_handling_hours, "0.0"),
]


def _table(title: str, lead: list[Column], rows: list[AssessmentRow], total: AssessmentRow) -> Sheet:
    cols = lead + FIGURES
    body = [[("" if (v := get(r)) is None else v) for _, get, _ in cols] for r in [*rows, total]]
    return Sheet(title, [h for h, _, _ in cols], body, {i: fmt for i, (_, _, fmt) in enumerate(cols) if fmt})


def write_assessment_xlsx(path: Path, a: AssessmentOut, made_at: datetime) -> Path:
    def seg_name(r: AssessmentRow) -> str:
        return TOTAL if r is a.total else (r.name or r.key or NO_SEGMENT) if r.key else NO_SEGMENT

    def chief_name(r: AssessmentRow) -> str:
        return TOTAL if r is a.total else (r.name or r.key or NOT_DISPATCHED) if r.key else NOT_DISPATCHED

    segments = _table("按河段", [("河段", seg_name, None), ("河流", lambda r: r.river, None),
                                ("长度（公里）", lambda r: r.length_km, "0.00"),
                                ("每公里发现", lambda r: r.finds_per_km, "0.00")], a.by_segment, a.total)
    chiefs = _table("按河长", [("河长", chief_name, None),
                              ("层级", lambda r: LEVEL_ZH.get(r.level or "", r.level), None)], a.by_chief, a.total)
    weeks = Sheet("每周", ["周（周一）", "类别", "发现问题", "已销号"],
                  [[w.week.isoformat(), w.category_zh or w.category or "（无类别）", w.found, w.closed]
                   for w in a.weekly])
    about = Sheet("说明", ["项目", "内容"], [
        ["统计日期依据", DATE_FIELD_ZH[a.date_field]],
        ["自", a.date_from.isoformat() if a.date_from else "（不限）"],
        ["至", a.date_to.isoformat() if a.date_to else "（不限）"],
        ["航拍任务架次", a.flights],
        ["每架次发现", "" if a.finds_per_flight is None else a.finds_per_flight],
        ["导出时间（北京时间）", made_at.strftime("%Y-%m-%d %H:%M:%S")],
        ["发现问题", "审核确认为问题的工单（不含待审核、已驳回）"],
        ["销号率", "已销号 ÷ 发现问题"],
        ["整改按期率", "按期整改 ÷ 应整改；应整改 = 已上报整改或已超期的已交办工单"],
        ["每公里发现", "发现问题 ÷ 河段长度（公里）"],
    ])
    return write_sheets(path, [segments, chiefs, weeks, about])
