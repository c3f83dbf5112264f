"""Every word the flight report prints, Chinese first, English beside it (``zh-en``) or not
at all (``zh``); category colours and marker shapes. One table for the HTML and the PDF."""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["zh", "zh-en"]
LANGS: tuple[Lang, ...] = ("zh", "zh-en")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("航拍任务巡查报告", "Flight inspection report"),
    "flight": ("航拍任务/架次", "Flight"),
    "generated": ("生成时间（北京时间）", "Generated (Beijing time)"),
    "summary": ("概况", "Summary"),
    "map": ("航拍范围与问题位置", "Flight area and finds"),
    "legend": ("图例", "Legend"),
    "no_map": ("没有可以定位的照片，无法绘制地图（原因见\"无法使用的照片及原因\"）",
               "No photo could be placed, so there is no map (see the rejected photos)"),
    "photo": ("照片覆盖范围（航拍照片）", "Photo footprint (the photo)"),
    "photo_off_river": ("远离河道的照片（未检测）", "Photo away from the river (not analysed)"),
    "river": ("河段中心线", "River segment centreline"),
    "state_new": ("新发现问题（待审核）", "New find (pending review)"),
    "state_seen_again": ("已有工单，本次再次发现", "Open ticket seen again"),
    "scale": ("比例尺", "Scale"),
    "north": ("北", "N"),
    "crs": ("坐标系：WGS-84；图面投影 UTM {zone} 带（EPSG:{epsg}）",
            "Coordinates WGS-84; drawn in UTM zone {zone} (EPSG:{epsg})"),
    "photos_total": ("照片总数", "Photos"),
    "photos_used": ("可用照片", "Photos used"),
    "photos_rejected": ("无法使用的照片", "Photos rejected"),
    "photos_off_river": ("其中远离河道、未检测", "of which away from the river"),
    "tiles": ("检测切片（运行/总数）", "Tiles run / total"),
    "detections": ("检测目标", "Detections"),
    "tickets_new": ("新工单", "New tickets"),
    "seen_again": ("已有工单再次发现", "Open tickets seen again"),
    "not_seen": ("已有工单本次未发现", "Open tickets not seen"),
    "by_category": ("按问题类别", "Finds per category"),
    "category": ("问题类别", "Category"),
    "by_segment": ("按河段", "Finds per segment"),
    "segment": ("河段", "Segment"),
    "new": ("新发现", "New"),
    "again": ("再次发现", "Seen again"),
    "rejected": ("无法使用的照片及原因", "Rejected photos and why"),
    "file": ("文件", "File"),
    "reason": ("原因", "Reason"),
    "count": ("数量", "Count"),
    "tickets": ("工单清单", "Tickets"),
    "no_ticket": ("未生成工单的检测", "Detections without a ticket"),
    "col_crop": ("取证截图", "Evidence"),
    "col_id": ("工单编号", "Ticket"),
    "col_state": ("状态", "State"),
    "col_segment": ("河段", "Segment"),
    "col_chainage": ("里程 (km)", "Chainage (km)"),
    "col_bank": ("岸别", "Bank"),
    "col_position": ("位置 (纬度, 经度)", "Position (lat, lon)"),
    "col_error": ("误差 (m)", "Error (m)"),
    "col_score": ("置信度", "Score"),
    "col_views": ("照片数", "Views"),
    "col_found": ("发现时间", "Found"),
    "col_deadline": ("整改期限", "Deadline"),
    "col_chief": ("责任河长", "River chief"),
    "none": ("无", "none"),
    "page": ("第 {n} 页", "page {n}"),
}

CATEGORY_COLOURS = {
    "floating_debris": "#f5a623", "illegal_mining": "#d0021b", "illegal_dumping": "#8b572a",
    "illegal_construction": "#9013fe", "illegal_occupation": "#bd10e0", "outfall_discharge": "#008c8c",
}
OTHER_COLOUR = "#555555"

# Workflow states a ticket may carry (a server export); a flight's own tickets are new.
STATE_TEXT = {
    "new": ("待审核", "pending review"), "pending_review": ("待审核", "pending review"),
    "seen_again": ("再次发现", "seen again"), "confirmed": ("待交办", "confirmed"),
    "dispatched": ("整改中", "dispatched"), "rectified": ("待销号", "rectified"),
    "closed": ("已销号", "closed"), "rejected": ("已驳回", "rejected"),
}

# Why a photo could not be used: the pipeline's English reasons, by the words they contain.
_REJECT_RULES: list[tuple[str, tuple[str, str]]] = [
    (r"GPS position is 0", ("GPS 未定位（坐标为 0, 0）", "no GPS fix")),
    (r"GPS position out of range", ("GPS 位置超出范围", "GPS position out of range")),
    (r"GPS", ("照片没有 GPS 位置", "no GPS position")),
    (r"attitude|gimbal", ("缺少云台姿态，无法定位", "no camera attitude")),
    (r"georeference", ("无法地理定位", "cannot georeference")),
    (r"truncated", ("照片文件不完整（被截断）", "truncated file")),
    (r"decode|corrupt|not a photo|unsupported", ("文件损坏或不是照片", "corrupt or not a photo")),
    (r"empty", ("空文件", "empty file")),
    (r"exceeds the limit|too large", ("照片过大", "photo too large")),
    (r"image size", ("无法读取照片尺寸", "unknown image size")),
    (r"not found|cannot read|directory", ("无法读取文件", "cannot read the file")),
]
_OTHER_REJECT = ("其他错误", "other error")

_NO_TICKET_RULES: list[tuple[str, tuple[str, str]]] = [
    (r"^no ground point", ("无法定位到地面", "no ground point")),
    (r"^merged into an open ticket", ("并入已有工单", "merged into an open ticket")),
]


def t(key: str, lang: Lang, **fmt: object) -> str:
    """Plain text: ``中文`` or ``中文 English``."""
    zh, en = TEXT[key]
    zh, en = zh.format(**fmt), en.format(**fmt)
    return zh if lang == "zh" else f"{zh} {en}"


def pair(zh: str, en: str, lang: Lang) -> str:
    return zh if lang == "zh" or not en else f"{zh} {en}"


def reject_reason(error: str) -> tuple[str, str]:
    for pattern, text in _REJECT_RULES:
        if re.search(pattern, error, re.IGNORECASE):
            return text
    return _OTHER_REJECT


def no_ticket_reason(reason: str) -> tuple[str, str]:
    """Rule reasons are written "中文 / English" in the rules table; the pipeline's own are
    English and translated here."""
    for pattern, text in _NO_TICKET_RULES:
        if re.search(pattern, reason):
            return text
    # The particulars (distance, bank, segment) in brackets would make every find its own row.
    reason = re.sub(r"\s*(（[^）]*）|\([^)]*\))", "", reason)
    parts = re.split(r"\s*/\s+", reason, maxsplit=1)
    if len(parts) == 2:
        return parts[0].strip(), parts[1].strip()
    return reason.strip(), ""


def category_text(category: str | None, category_zh: str | None = None) -> tuple[str, str]:
    """A category's names: the ticket's own Chinese name first (the office's rules made
    it), else the shipped rules table's; English from the shipped table."""
    if not category:
        return "其他", "other"
    from heyan.pipeline.tickets.rules import load_rules  # the table of names; loaded once

    known = load_rules(None).categories.get(category)
    zh = category_zh or (known.name_zh if known else category)
    return zh, known.name_en if known else category.replace("_", " ")


def category_colour(category: str | None) -> str:
    return CATEGORY_COLOURS.get(category or "", OTHER_COLOUR)


def state_text(state: str) -> tuple[str, str]:
    return STATE_TEXT.get(state, (state, state))
