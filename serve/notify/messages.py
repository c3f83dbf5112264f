"""The words of each notification, from the ticket as it is now. Times in Beijing time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from heyan.vision.common import BEIJING

EVENTS = ("dispatched", "sent_back", "near_deadline", "overdue")
TITLES = {"dispatched": "交办", "sent_back": "退回整改", "near_deadline": "即将到期", "overdue": "督办"}
LEVELS = {"village": "村级", "township": "乡镇级", "county": "县级"}


@dataclass(frozen=True)
class Message:
    event: str
    ticket_id: str
    title: str
    text: str
    phone: str | None  # the responsible chief's, for @-mentions and SMS


def _when(t: datetime | None) -> str:
    return t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if t else "—"


def compose(event: str, ticket: Any, now: datetime, note: str | None = None) -> Message:
    """``ticket``: a serve.tables.Ticket (or anything with its attributes)."""
    where = f"{ticket.river or ''}{ticket.segment_name or ''}" or "—"
    what = ticket.category_zh or ticket.category or ticket.class_name
    chief = ticket.chief_name or "河长"
    level = LEVELS.get(ticket.chief_level or "", "")
    who = f"{chief}（{level}河长）" if level else chief
    deadline = _when(ticket.deadline)
    head = f"【河眼·{TITLES[event]}】"
    if event == "dispatched":
        text = f"{head}{where}发现{what}（工单 {ticket.id}），请{who}于 {deadline} 前完成整改并上报。"
    elif event == "sent_back":
        text = f"{head}工单 {ticket.id}（{where} {what}）整改未通过审核，请{who}于 {deadline} 前重新整改。"
    elif event == "near_deadline":
        hours = max(0, round((ticket.deadline - now).total_seconds() / 3600)) if ticket.deadline else 0
        text = f"{head}工单 {ticket.id}（{where} {what}）整改期限 {deadline}，剩余约 {hours} 小时，请{who}尽快整改并上报。"
    elif event == "overdue":
        text = f"{head}工单 {ticket.id}（{where} {what}）已超过整改期限 {deadline}，现由{who}督办，请立即整改。"
    else:
        raise ValueError(f"unknown notification event {event!r}")
    if note:
        text += f"意见：{note}"
    phone = ((ticket.chiefs or {}).get(ticket.chief_level or "") or {}).get("phone")
    return Message(event, ticket.id, f"河眼 {TITLES[event]}：工单 {ticket.id}", text, str(phone) if phone else None)
