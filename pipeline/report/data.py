"""What a flight report shows, read back from the files ``heyan ingest`` wrote (so
``heyan report`` can redraw a report, and ingest draws it from the same files), and the
summary figures both the HTML and the PDF print."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from heyan.pipeline.report.labels import Lang, category_text, no_ticket_reason, pair, reject_reason, t
from heyan.pipeline.tickets.ticket import TicketRecord
from heyan.vision.common import BEIJING, InputError

LonLat = tuple[float, float]


class ReportInputError(InputError):
    """An ingest output file the report cannot read; the message names the file."""


@dataclass
class PhotoOnMap:
    image: str  # the photo's file name
    ring: list[LonLat]  # footprint outline
    corners: list[LonLat] | None = None  # image corners TL, TR, BR, BL on the ground
    thumb: str | None = None  # downscaled copy, relative to the output folder
    off_river: bool = False


@dataclass
class SeenAgain:
    ticket: str
    lat: float
    lon: float
    category: str | None = None  # of this flight's detections of it


@dataclass
class ReportData:
    flight_id: str
    segments: list[tuple[str, list[LonLat]]]  # (name, centreline) of the river network
    photos: list[PhotoOnMap]
    tickets: list[TicketRecord]
    photos_total: int
    photos_used: int
    rejected: list[tuple[str, str]]  # (file name, the pipeline's reason)
    detections: int
    photos_off_river: int = 0
    seen_again: list[SeenAgain] = field(default_factory=list)
    not_seen: list[str] = field(default_factory=list)
    no_ticket_reasons: dict[str, int] = field(default_factory=dict)
    tiles_run: int = 0
    tiles_total: int = 0
    generated_at: datetime = field(default_factory=lambda: datetime.now(BEIJING))


# -- reading an ingest folder ----------------------------------------------------------------

def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportInputError(f"{path}: missing (is this a `heyan ingest` output folder?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: not valid JSON ({exc})") from None


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportInputError(f"{path}: line {n} is not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ReportInputError(f"{path}: line {n} is not a JSON object")
        yield row


def _features(path: Path) -> list[dict[str, Any]]:
    data = _json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ReportInputError(f"{path}: not a GeoJSON FeatureCollection")
    return list(data["features"])


def _pairs(value: Any) -> list[LonLat]:
    return [(float(p[0]), float(p[1])) for p in value]


def _no_ticket_reason(det: dict[str, Any]) -> str:
    if det.get("category"):  # the rules wanted a ticket: de-duplication merged or skipped it
        return "merged into an open ticket or skipped"
    return str(det.get("reason") or "?").split(":")[0] if det.get("lat") is None else str(det.get("reason") or "?")


def load_report_data(out: Path, segments: list[tuple[str, list[LonLat]]] | None = None) -> ReportData:
    """The report of the flight whose ``heyan ingest`` output is ``out``."""
    out = Path(out)
    summary = _json(out / "summary.json")
    if not isinstance(summary, dict):
        raise ReportInputError(f"{out / 'summary.json'}: expected a JSON object")
    path = out / "tickets.geojson"
    features = _features(path)
    try:
        tickets = [TicketRecord.from_feature(f) for f in features]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ReportInputError(f"{path}: a ticket is invalid ({type(exc).__name__}: {exc})") from None
    photos = []
    path = out / "footprints.geojson"
    features = _features(path)
    try:
        for f in features:
            p = f.get("properties") or {}
            geom = f.get("geometry") or {}
            if geom.get("type") != "Polygon":
                continue
            photos.append(PhotoOnMap(image=Path(str(p.get("image") or "")).name, ring=_pairs(geom["coordinates"][0]),
                                     corners=_pairs(p["corners"]) if p.get("corners") else None,
                                     thumb=p.get("thumb"), off_river=bool(p.get("off_river"))))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ReportInputError(f"{path}: a footprint is invalid ({type(exc).__name__}: {exc})") from None
    rejected = [(Path(str(r.get("file", "?"))).name, str(r.get("error", ""))) for r in _jsonl(out / "rejected.jsonl")]
    seen, not_seen = [], []
    path = out / "updates.jsonl"
    updates = list(_jsonl(path))
    detections = list(_jsonl(out / "detections.jsonl"))
    category_of = {str(d["ticket"]): str(d["category"]) for d in detections if d.get("ticket") and d.get("category")}
    try:
        for u in updates:
            if u.get("event") == "seen_again":
                seen.append(SeenAgain(str(u["ticket"]), float(u["lat"]), float(u["lon"]), category_of.get(str(u["ticket"]))))
            elif u.get("event") == "not_seen":
                not_seen.append(str(u["ticket"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportInputError(f"{path}: an update is invalid ({type(exc).__name__}: {exc})") from None
    reasons: Counter[str] = Counter(_no_ticket_reason(d) for d in detections if not d.get("ticket"))
    try:
        return ReportData(
            flight_id=str(summary.get("flight_id") or out.name), segments=segments or [], photos=photos, tickets=tickets,
            photos_total=int(summary.get("photos", 0)), photos_used=int(summary.get("photos_used", 0)),
            rejected=rejected, detections=int(summary.get("detections", 0)),
            photos_off_river=int(summary.get("photos_off_river", 0)), seen_again=seen, not_seen=not_seen,
            no_ticket_reasons=dict(reasons), tiles_run=int(summary.get("tiles_run", 0)),
            tiles_total=int(summary.get("tiles_total", 0)))
    except (TypeError, ValueError) as exc:
        raise ReportInputError(f"{out / 'summary.json'}: a count is invalid ({exc})") from None


# -- the summary both renderers print ----------------------------------------------------------

def ticket_state(tk: TicketRecord) -> str:
    return str(tk.extra.get("state") or "new")


def summary_rows(d: ReportData, lang: Lang) -> list[tuple[str, str]]:
    tiles = f"{d.tiles_run} / {d.tiles_total}" if d.tiles_total else "—"
    return [
        (t("photos_total", lang), str(d.photos_total)),
        (t("photos_used", lang), str(d.photos_used)),
        (t("photos_off_river", lang), str(d.photos_off_river)),
        (t("photos_rejected", lang), str(len(d.rejected))),
        (t("tiles", lang), tiles),
        (t("detections", lang), str(d.detections)),
        (t("tickets_new", lang), str(len(d.tickets))),
        (t("seen_again", lang), str(len(d.seen_again))),
        (t("not_seen", lang), str(len(d.not_seen))),
    ]


def category_rows(d: ReportData, lang: Lang) -> list[tuple[str, int, int]]:
    """(category, new tickets, open tickets seen again) per category, most first."""
    new: Counter[str] = Counter()
    again: Counter[str] = Counter()
    for tk in d.tickets:
        new[pair(*category_text(tk.category, tk.category_zh), lang)] += 1
    for s in d.seen_again:
        again[pair(*category_text(s.category), lang)] += 1
    return sorted(((k, new[k], again[k]) for k in set(new) | set(again)), key=lambda r: (-r[1] - r[2], r[0]))


def segment_rows(d: ReportData) -> list[tuple[str, int]]:
    """(segment, new tickets) per river segment, most first."""
    return sorted(Counter(tk.segment_name or "—" for tk in d.tickets).items(), key=lambda r: (-r[1], r[0]))


def rejected_rows(d: ReportData, lang: Lang) -> list[tuple[str, int, str]]:
    """(reason, count, files) per reason of rejection."""
    files: dict[str, list[str]] = {}
    for name, error in d.rejected:
        zh, en = reject_reason(error)
        files.setdefault(pair(zh, en, lang), []).append(name)
    return sorted(((k, len(v), "、".join(v)) for k, v in files.items()), key=lambda r: -r[1])


def no_ticket_rows(d: ReportData, lang: Lang) -> list[tuple[str, int]]:
    n: Counter[str] = Counter()
    for reason, count in d.no_ticket_reasons.items():
        zh, en = no_ticket_reason(reason)
        n[pair(zh, en, lang)] += count
    return n.most_common()


def beijing_time(iso: str | None) -> str:
    """An ISO time as Beijing wall time to the minute; naive times are taken as Beijing
    time already (drone EXIF clocks are set to local time)."""
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if dt.tzinfo is not None:
        dt = dt.astimezone(BEIJING)
    return dt.strftime("%Y-%m-%d %H:%M")
