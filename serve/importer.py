"""A processed flight's files into the database, in the caller's single transaction:
tickets are upserted by their deterministic id (a job that ran twice, or a flight processed
again, never makes duplicates; a ticket's workflow state is never reset), later-flight
updates become evidence on the existing tickets, and every detection is kept."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.tickets.ticket import EvidenceRecord, TicketRecord
from heyan.serve.flight_map import MAP_KEY, photos_map
from heyan.serve.processing import PhotoRef
from heyan.serve.storage import BlobStore
from heyan.serve.tables import Blob, DetectionRow, Evidence, Flight, FlightPhoto, Ticket
from heyan.serve.workflow import SYSTEM_ACTOR, record, transition
from heyan.vision.common import BEIJING

_DETECTION_FIELDS = ("category", "category_zh", "severity", "score", "lat", "lon", "error_m", "size_m", "segment_id",
                     "segment_name", "river", "chainage_km", "bank", "chiefs", "rule", "reason", "deadline_days",
                     "n_views", "best_image", "best_photo_sha", "best_crop_sha", "best_box", "properties", "class_name",
                     "network_version")


def parse_time(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=BEIJING)  # zone-less EXIF times are the office's


def ticket_values(t: TicketRecord, network_version: int | None) -> dict[str, Any]:
    """Ticket columns from a pipeline ticket record, except the pictures (best_image,
    best_photo_sha, best_crop_sha), which the caller knows. The record's properties are kept
    whole but for the evidence (rows of their own) and the deadline (the workflow's)."""
    return dict(
        category=t.category, category_zh=t.category_zh, severity=t.severity,
        score=float(t.score or 0), lat=t.lat, lon=t.lon, error_m=float(t.error_m or 0),
        size_m=t.size_m, segment_id=t.segment_id, segment_name=t.segment_name,
        river=t.river, chainage_km=t.chainage_km, bank=t.bank, chiefs=t.chiefs,
        rule=t.rule, reason=t.reason, deadline_days=t.deadline_days,
        n_views=int(t.n_views or 1), best_box=t.best_box, class_name=str(t.class_name),
        network_version=network_version,
        properties={k: v for k, v in t.properties(evidence=False).items() if k != "deadline"})


def seen_again_note(state: str) -> str:
    """What a reviewer should know when an object is seen again on a ticket in ``state``."""
    if state == "rectified":
        return " — after rectification: check before closing"
    if state == "rejected":
        return " — the ticket was rejected: not reopened"
    return ""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def store_blob(db: Session, store: BlobStore, path: Path, content_type: str) -> str:
    sha, size = store.put_file(path)
    if db.get(Blob, sha) is None:
        db.add(Blob(sha256=sha, size=size, content_type=content_type))
        db.flush()
    return sha


class FlightImport:
    def __init__(self, db: Session, store: BlobStore, flight: Flight, out: Path, by_path: dict[str, PhotoRef],
                 network_version: int, now: datetime, model: tuple[str, str | None] | None = None) -> None:
        self.db, self.store, self.flight, self.out = db, store, flight, out
        self.by_path, self.version, self.now = by_path, network_version, now
        # The detector that made this flight's detections (zoo name, sha256 of its file).
        self.model_name: str | None = model[0] if model else None
        self.model_sha: str | None = model[1] if model else None
        self._crops: dict[str, str] = {}

    def _photo(self, image: str | None) -> PhotoRef | None:
        return self.by_path.get(image) if image else None

    def _crop(self, rel: str | None) -> str | None:
        if not rel:
            return None
        if rel not in self._crops:
            p = self.out / rel
            if not p.is_file():
                return None
            self._crops[rel] = store_blob(self.db, self.store, p, "image/jpeg")
        return self._crops[rel]

    def _evidence(self, ticket_id: str, kind: str, e: EvidenceRecord, have: set[tuple[str, str | None, str | None]]) -> None:
        key = (kind, self.flight.id, e.find)
        if key in have:
            return
        have.add(key)
        photo = self._photo(e.image)
        self.db.add(Evidence(
            ticket_id=ticket_id, kind=kind, flight_id=self.flight.id, find_id=e.find,
            image_name=photo.name if photo else e.image, photo_sha=photo.sha256 if photo else None,
            crop_sha=self._crop(e.crop), box=e.box, score=e.score, lat=e.lat, lon=e.lon,
            error_m=e.error_m, taken_at=e.time, created_at=self.now))

    def _existing_evidence(self, ticket_id: str) -> set[tuple[str, str | None, str | None]]:
        rows = self.db.execute(sa.select(Evidence.kind, Evidence.flight_id, Evidence.find_id).where(Evidence.ticket_id == ticket_id))
        return {(r.kind, r.flight_id, r.find_id) for r in rows}

    def tickets(self, features: list[dict[str, Any]]) -> tuple[int, int]:
        created = updated = 0
        for f in features:
            rec = TicketRecord.from_feature(f)
            photo = self._photo(rec.best_image)
            values = ticket_values(rec, self.version)
            values.update(best_image=photo.name if photo else rec.best_image,
                          best_photo_sha=photo.sha256 if photo else None, best_crop_sha=self._crop(rec.best_crop))
            t = self.db.get(Ticket, rec.id)
            if t is None:
                found = parse_time(rec.found_at) or self.flight.created_at
                t = Ticket(id=rec.id, flight_id=self.flight.id, state="pending_review", found_at=found,
                           created_at=self.now, updated_at=self.now, last_seen_at=found,
                           model_name=self.model_name, model_sha256=self.model_sha, **values)
                self.db.add(t)
                self.db.flush()
                record(self.db, t.id, SYSTEM_ACTOR, "created", self.now, None, "pending_review",
                       f"flight {self.flight.id}: {rec.reason or ''}".strip(),
                       {"flight_id": self.flight.id, "rule": rec.rule, "score": rec.score})
                created += 1
                have: set[tuple[str, str | None, str | None]] = set()
            else:  # the same flight again: refresh what the pipeline says, keep the workflow
                for k in _DETECTION_FIELDS:
                    setattr(t, k, values[k])
                if t.flight_id == self.flight.id:  # its detection was made again, maybe by another model
                    t.model_name, t.model_sha256 = self.model_name, self.model_sha
                t.updated_at = self.now
                updated += 1
                have = self._existing_evidence(t.id)
            for e in rec.evidence:
                self._evidence(t.id, "detection", e, have)
        return created, updated

    def updates(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        seen = not_seen = 0
        for u in rows:
            t = self.db.get(Ticket, u["ticket"])
            if t is None:
                continue
            have = self._existing_evidence(t.id)
            if u["event"] == "seen_again":
                if any(k == "seen_again" and fl == self.flight.id for k, fl, _ in have):
                    continue  # already recorded for this flight
                views = [EvidenceRecord.from_dict(e) for e in u.get("evidence", [])]
                for e in views:
                    self._evidence(t.id, "seen_again", e, have)
                times = [parse_time(e.time) for e in views]
                t.last_seen_at = max([x for x in times if x] or [self.now])
                t.updated_at = self.now
                note = seen_again_note(t.state)
                record(self.db, t.id, SYSTEM_ACTOR, "seen_again", self.now, t.state, t.state,
                       f"seen again by flight {self.flight.id}{note}",
                       {"flight_id": self.flight.id, "lat": u.get("lat"), "lon": u.get("lon"), "views": len(u.get("evidence", []))})
                seen += 1
            elif u["event"] == "not_seen":
                if ("not_seen", self.flight.id, None) in have:
                    continue
                images = [self._photo(i) for i in u.get("images", [])]
                first = next((p for p in images if p), None)
                self.db.add(Evidence(ticket_id=t.id, kind="not_seen", flight_id=self.flight.id, find_id=None,
                                     image_name=first.name if first else None, photo_sha=first.sha256 if first else None,
                                     comment=f"not seen in {len(images)} photo(s) of flight {self.flight.id}",
                                     created_at=self.now))
                t.not_seen_count += 1
                t.updated_at = self.now
                record(self.db, t.id, SYSTEM_ACTOR, "not_seen", self.now, t.state, t.state,
                       f"not seen by flight {self.flight.id} ({len(images)} photos cover it)",
                       {"flight_id": self.flight.id, "photos": [p.name for p in images if p]})
                if t.state == "rectified":  # the later flight verifies the rectification: 销号
                    transition(self.db, t, "closed", SYSTEM_ACTOR, self.now,
                               f"closed: not seen by flight {self.flight.id} after rectification")
                not_seen += 1
        return seen, not_seen

    def detections(self, rows: list[dict[str, Any]]) -> int:
        self.db.execute(sa.delete(DetectionRow).where(DetectionRow.flight_id == self.flight.id))
        for r in rows:
            photo = self._photo(r.get("image"))
            self.db.add(DetectionRow(
                flight_id=self.flight.id, image_name=photo.name if photo else str(r.get("image")),
                photo_sha=photo.sha256 if photo else None, class_name=str(r.get("class")), score=float(r.get("score") or 0),
                box=r.get("box") or [], lat=r.get("lat"), lon=r.get("lon"), error_m=r.get("error_m"),
                ticket_id=r.get("ticket"), rule=r.get("rule"), category=r.get("category"),
                segment_id=r.get("segment_id"), reason=r.get("reason"), model_name=self.model_name,
                model_sha256=self.model_sha))
        return len(rows)

    def rejected(self, rows: list[dict[str, Any]]) -> int:
        by_name = {p.name: p for p in self.db.scalars(sa.select(FlightPhoto).where(FlightPhoto.flight_id == self.flight.id))}
        for p in by_name.values():
            p.rejected = None
        n = 0
        for r in rows:
            ref = self._photo(r.get("file"))
            if ref and ref.name in by_name:
                by_name[ref.name].rejected = str(r.get("error"))
                n += 1
        return n

    def run(self, summary: dict[str, Any]) -> dict[str, Any]:
        doc = json.loads((self.out / "tickets.geojson").read_text(encoding="utf-8"))
        created, updated = self.tickets(doc.get("features", []))
        self.db.flush()
        seen, not_seen = self.updates(_read_jsonl(self.out / "updates.jsonl"))
        n_det = self.detections(_read_jsonl(self.out / "detections.jsonl"))
        n_rej = self.rejected(_read_jsonl(self.out / "rejected.jsonl"))
        report = self.out / "report.html"
        report_pdf = self.out / "report.pdf"
        info = {k: v for k, v in summary.items() if k not in ("files", "out_dir")}
        info.update(tickets_created=created, tickets_updated=updated, seen_again_recorded=seen,
                    not_seen_recorded=not_seen, detections_stored=n_det, photos_rejected=n_rej,
                    report_sha=store_blob(self.db, self.store, report, "text/html") if report.is_file() else None,
                    report_pdf_sha=store_blob(self.db, self.store, report_pdf, "application/pdf") if report_pdf.is_file() else None)
        info[MAP_KEY] = photos_map(self.out / "footprints.geojson", self.by_path)
        self.flight.summary = info
        self.flight.model_name, self.flight.model_sha256 = self.model_name, self.model_sha
        self.flight.network_version = self.version
        return info
