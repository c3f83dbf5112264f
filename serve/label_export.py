"""Reviewed tickets back into training labels ("reviewed tickets -> labels").

A reviewer's decision is a label: a confirmed ticket says "this box is a <class>", a
rejected one says "this box is nothing" (glint, foam, a shadow). This module reads those
decisions through the server's own models and store and cuts one training chip per
reviewed detection view:

- confirmed (and later states) -> a chip containing the box, labelled with the ticket's
  class plus every other confirmed box on the same photo that falls in the chip;
- rejected -> a hard negative: a chip around the box with no label for it (confirmed boxes
  inside the chip are still labelled, or the chip would teach that they are background);
- pending tickets are not reviewed: nothing;
- frames a person labelled completely in the viewer (``serve.labels``) -> the whole frame in
  tiles, with the hand boxes (``cut_labelled``); review chips on those frames are left out,
  the hand labels being the fuller truth there.

Boxes are stored by ``serve.importer`` exactly as the pipeline found them: pixel xyxy in the
photo decoded at full resolution by ``pipeline.images.read_image`` (EXIF orientation applied
by OpenCV), or in the edge box's frame for edge snapshots. Chips are therefore cut from the
same full-resolution decode, never from a downscaled one.

Writing the Ultralytics folder is left to the caller (``heyan``): ``serve`` may not import
``datasets`` (tests/test_layering.py), so this module returns plain chip records.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.pipeline.images import ImageReadError, read_image
from heyan.serve.label_formats import LabelledFrame, tiles
from heyan.serve.storage import BlobStore
from heyan.serve.tables import AuditEntry, DetectionRow, Evidence, Ticket
from heyan.serve.workflow import STATES
from heyan.vision.boxes import boxes_in_window
from heyan.vision.classes import class_names
from heyan.vision.common import atomic_file

# Every state a ticket reaches after a reviewer confirmed it, or the rejected one.
NEGATIVE_STATES = ("rejected",)
POSITIVE_STATES = tuple(s for s in STATES if s not in ("pending_review", *NEGATIVE_STATES))
EDGE_SLACK_PX = 1.0  # tools and detectors may put the right edge one pixel past the image


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ReviewedView:
    """One detection view (Evidence row) of a reviewed ticket."""

    evidence_id: int
    ticket_id: str
    state: str
    positive: bool
    class_name: str
    reviewer: str | None
    reviewed_at: datetime | None
    photo_sha: str | None
    image_name: str | None
    box: Any  # as stored (JSON): validated against the photo once it is decoded
    reject_reason: str | None = None  # a rejection's 误报 type (serve.workflow.REJECT_REASONS), if the reviewer gave one

    @property
    def name(self) -> str:
        """How a problem with this view is reported: enough to find it in the viewer."""
        return f"ticket {self.ticket_id} evidence {self.evidence_id} ({self.image_name or 'no image name'})"


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str
    kind: str  # short key for counting: no_photo | missing_blob | unreadable_photo | bad_box | unknown_class | no_review_time | duplicate

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason, "kind": self.kind}


@dataclass
class Collection:
    """What the database says, before any photo is read."""

    centres: list[ReviewedView]  # views a chip is cut around (after --since)
    context: dict[str, list[ReviewedView]]  # photo sha -> every confirmed view on it (labels of any chip there)
    unreviewed: dict[str, list[Box]]  # photo sha -> boxes nobody reviewed (pending tickets, detections without a ticket)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class Chip:
    """One chip written to disk, with its labels in chip pixels and its manifest record."""

    path: Path
    width: int
    height: int
    boxes: list[Box]
    names: list[str]
    record: dict[str, Any]


# --------------------------------------------------------------------------- pure helpers


def place_chip(box: Box, photo_w: int, photo_h: int, size: int, rng: np.random.Generator,
               margin: float = 8.0) -> tuple[int, int, int, int]:
    """Chip (x0, y0, width, height) in photo pixels containing ``box``, at a random offset.

    The offset is random so the object is not always in the middle (a detector trained only
    on centred objects learns the position). A box wider than the chip gets a chip of its own
    size plus margin (the trainer resizes); a photo smaller than the chip gives its whole side."""
    x1, y1, x2, y2 = box
    side = max(size, math.ceil(max(x2 - x1, y2 - y1) + 2 * margin))
    w, h = min(side, photo_w), min(side, photo_h)
    return _offset(x1, x2, w, photo_w, margin, rng), _offset(y1, y2, h, photo_h, margin, rng), w, h


def _offset(a: float, b: float, chip: int, photo: int, margin: float, rng: np.random.Generator) -> int:
    """Chip start on one axis so [a, b] lies inside [start, start+chip] and inside the photo."""
    for m in (margin, 0.0):  # near the photo edge the margin may not fit: drop it, keep the box inside
        lo, hi = max(0, math.ceil(b + m) - chip), min(math.floor(a - m), photo - chip)
        if lo <= hi:
            return int(rng.integers(lo, hi + 1))
    return int(min(max(0, math.floor(a)), photo - chip))  # box as large as the photo side: best effort


def check_box(box: Any, photo_w: int, photo_h: int) -> tuple[Box | None, str | None]:
    """The stored box as floats clipped to the photo, or why it cannot be used."""
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError):
        return None, f"box {box!r} is not four numbers"
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)) or not (x2 > x1 and y2 > y1):
        return None, f"box {box!r} has no area"
    s = EDGE_SLACK_PX
    if x1 < -s or y1 < -s or x2 > photo_w + s or y2 > photo_h + s:
        return None, f"box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] lies outside the {photo_w}x{photo_h} photo"
    c = (max(0.0, x1), max(0.0, y1), min(float(photo_w), x2), min(float(photo_h), y2))
    if not (c[2] > c[0] and c[3] > c[1]):  # within the slack, yet nothing left inside the photo
        return None, f"box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] has no area inside the {photo_w}x{photo_h} photo"
    return c, None


def boxes_in_chip(boxes: list[Box], chip: tuple[int, int, int, int]) -> list[tuple[int, Box]]:
    """(index, box in chip pixels) of the boxes labelled in this chip (x0, y0, w, h): the
    chip rule of ``heyan dataset tile`` too (``vision.boxes.boxes_in_window``)."""
    x0, y0, w, h = chip
    keep, inside = boxes_in_window(np.array(boxes, np.float64).reshape(-1, 4), (x0, y0, x0 + w, y0 + h))
    return [(int(i), (float(b[0]), float(b[1]), float(b[2]), float(b[3]))) for i, b in zip(keep, inside)]


def _overlaps(box: Box, chip: tuple[int, int, int, int]) -> bool:
    x0, y0, w, h = chip
    return box[0] < x0 + w and box[2] > x0 and box[1] < y0 + h and box[3] > y0


# --------------------------------------------------------------------------- the database


def _decisions(db: Session, ticket_ids: Iterable[str]) -> dict[tuple[str, str], tuple[str, datetime, str | None]]:
    """(ticket, confirmed|rejected) -> (reviewer, when, reject reason) of the latest such
    review. The latest, because a decision can be undone (back to pending_review) and made again."""
    out: dict[tuple[str, str], tuple[str, datetime, str | None]] = {}
    ids = list(ticket_ids)
    for i in range(0, len(ids), 500):  # keep IN lists well under the engines' parameter limits
        rows = db.execute(sa.select(AuditEntry.ticket_id, AuditEntry.to_state, AuditEntry.actor, AuditEntry.at,
                                    AuditEntry.data)
                          .where(AuditEntry.ticket_id.in_(ids[i:i + 500]), AuditEntry.action == "transition",
                                 AuditEntry.to_state.in_(("confirmed", "rejected")))
                          .order_by(AuditEntry.id))
        for r in rows:
            out[(r.ticket_id, r.to_state)] = (r.actor, r.at, (r.data or {}).get("reject_reason"))
    return out


def collect(db: Session, since: datetime | None = None) -> Collection:
    """Every detection view of a reviewed ticket. ``since`` limits the chips to tickets
    reviewed since then; labels inside a chip come from all confirmed tickets whenever they
    were reviewed, or an older confirmed object beside a new one would be taught as background."""
    known = set(class_names())
    # `seen_again` views (a confirmed object found again by a later flight) only label the
    # chips they fall in: without them that object would be taught as background there.
    rows = db.execute(sa.select(Evidence, Ticket.state, Ticket.class_name).join(Ticket, Ticket.id == Evidence.ticket_id)
                      .where(Evidence.kind.in_(("detection", "seen_again")),
                             Ticket.state.in_(POSITIVE_STATES + NEGATIVE_STATES))
                      .order_by(Evidence.id)).all()
    decided = _decisions(db, {ev.ticket_id for ev, _, _ in rows})
    col = Collection(centres=[], context=defaultdict(list), unreviewed=defaultdict(list))
    for ev, state, cls in rows:
        positive = state in POSITIVE_STATES
        if ev.kind == "seen_again" and not positive:
            continue
        # The model has no reviewer-set class: review confirms or rejects the pipeline's
        # class as is, so the ticket's class_name is what the reviewer agreed to.
        who, when, why = decided.get((ev.ticket_id, "confirmed" if positive else "rejected"), (None, None, None))
        v = ReviewedView(evidence_id=ev.id, ticket_id=ev.ticket_id, state=state, positive=positive, class_name=cls,
                         reviewer=who, reviewed_at=when, photo_sha=ev.photo_sha, image_name=ev.image_name, box=ev.box,
                         reject_reason=why)
        if not positive and why == "duplicate":  # a second ticket of a real object: not background
            col.skipped.append(Skipped(v.name, "rejected as a duplicate: the object is real, not a hard negative", "duplicate"))
            continue
        if positive and cls not in known:
            col.skipped.append(Skipped(v.name, f"class {cls!r} is not one of Heyan's classes", "unknown_class"))
            continue
        if v.photo_sha is None:
            col.skipped.append(Skipped(v.name, "no photo stored for this view", "no_photo"))
            continue
        if positive:
            col.context[v.photo_sha].append(v)
        if ev.kind == "seen_again":
            continue  # a label in others' chips, not a chip of its own
        if since is not None and (when is None or when < since):
            if when is None:  # made outside the workflow (no audit entry): cannot tell when
                col.skipped.append(Skipped(v.name, "no review entry in the audit log: cannot apply --since", "no_review_time"))
            continue
        col.centres.append(v)
    _collect_unreviewed(db, col, {ev.ticket_id for ev, _, _ in rows})
    return col


def _collect_unreviewed(db: Session, col: Collection, reviewed: set[str]) -> None:
    """Boxes on the chips' photos that nobody reviewed: they are not labelled, and the
    manifest counts them per chip so a trainer can drop chips that may hide an object."""
    shas = sorted({v.photo_sha for v in col.centres if v.photo_sha})
    for i in range(0, len(shas), 500):
        part = shas[i:i + 500]
        pending = db.execute(sa.select(Evidence.photo_sha, Evidence.box).join(Ticket, Ticket.id == Evidence.ticket_id)
                             .where(Evidence.photo_sha.in_(part), Evidence.kind == "detection",
                                    Ticket.state == "pending_review"))
        loose = db.execute(sa.select(DetectionRow.photo_sha, DetectionRow.box, DetectionRow.ticket_id)
                           .where(DetectionRow.photo_sha.in_(part)))
        for sha, box, *tid in [*pending, *loose]:
            if tid and tid[0] in reviewed:
                continue
            try:
                b = tuple(float(x) for x in box)
            except (TypeError, ValueError):
                continue
            if len(b) == 4 and b not in col.unreviewed[sha]:
                col.unreviewed[sha].append(b)


# --------------------------------------------------------------------------- the chips


class ChipCutter:
    """Cuts the chips of a Collection, one photo at a time (each photo is decoded once)."""

    def __init__(self, store: BlobStore, out: Path, size: int = 320, seed: int = 0, jpeg_quality: int = 95) -> None:
        self.store, self.out, self.size, self.seed, self.quality = store, Path(out), size, seed, jpeg_quality
        self.out.mkdir(parents=True, exist_ok=True)

    def photos(self, col: Collection) -> dict[str, list[ReviewedView]]:
        by_photo: dict[str, list[ReviewedView]] = defaultdict(list)
        for v in col.centres:
            by_photo[str(v.photo_sha)].append(v)
        return dict(sorted(by_photo.items()))

    def run(self, col: Collection, on_photo: Callable[[], None] = lambda: None) -> tuple[list[Chip], list[Skipped]]:
        chips: list[Chip] = []
        skipped = list(col.skipped)
        for sha, views in self.photos(col).items():
            try:
                got, bad = self._photo(sha, views, col)
                chips += got
                skipped += bad
            finally:
                on_photo()
        return chips, skipped

    def _photo(self, sha: str, views: list[ReviewedView], col: Collection) -> tuple[list[Chip], list[Skipped]]:
        if not self.store.exists(sha):
            return [], [Skipped(v.name, f"photo blob {sha} is missing from the store", "missing_blob") for v in views]
        try:
            image = read_image(self.store.path(sha))
        except ImageReadError as exc:
            return [], [Skipped(v.name, f"photo blob {sha} unreadable: {exc.reason}", "unreadable_photo") for v in views]
        h, w = image.shape[:2]
        labels: list[Box] = []
        names: list[str] = []
        owners: list[str] = []
        for c in col.context.get(sha, []):
            b, _ = check_box(c.box, w, h)  # a bad context box is reported when it is a chip centre itself
            if b is not None and (b, c.class_name) not in zip(labels, names):  # one object, two tickets: label once
                labels.append(b)
                names.append(c.class_name)
                owners.append(c.ticket_id)
        chips: list[Chip] = []
        skipped: list[Skipped] = []
        for v in views:
            box, why = check_box(v.box, w, h)
            if box is None:
                skipped.append(Skipped(v.name, f"{why} (photo {sha[:16]})", "bad_box"))
                continue
            rng = np.random.default_rng([self.seed, v.evidence_id])  # stable per view, whatever else is exported
            chip = place_chip(box, w, h, self.size, rng)
            chips.append(self._write(image, sha, len(chips), v, box, chip, labels, names, owners, col.unreviewed.get(sha, [])))
        return chips, skipped

    def _write(self, image: np.ndarray, sha: str, n: int, v: ReviewedView, box: Box, chip: tuple[int, int, int, int],
               labels: list[Box], names: list[str], owners: list[str], unreviewed: list[Box]) -> Chip:
        x0, y0, cw, ch = chip
        # Name `<photo>__<n>`: `heyan dataset stats`/`--group` (CHIP_GROUP) reads the photo back
        # from it, so all chips of one photo stay on one side of a train/val split.
        path = self.out / f"{sha[:16]}__{n}.jpg"
        with atomic_file(path, durable=False, keep_suffix=True) as tmp:  # an export: run it again
            if not cv2.imwrite(str(tmp), image[y0:y0 + ch, x0:x0 + cw], [cv2.IMWRITE_JPEG_QUALITY, self.quality]):
                raise OSError(f"cannot write {tmp}")
        kept = boxes_in_chip(labels, chip)
        in_chip = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
        record = {
            "chip": path.name, "ticket_id": v.ticket_id, "evidence_id": v.evidence_id, "state": v.state,
            "label": "positive" if v.positive else "hard_negative", "class": v.class_name, "reviewer": v.reviewer,
            "reviewed_at": v.reviewed_at.isoformat() if v.reviewed_at else None, "reject_reason": v.reject_reason,
            "photo_sha256": sha,
            "image_name": v.image_name, "box": [round(c, 2) for c in box], "chip_origin": [x0, y0], "chip_size": [cw, ch],
            "box_in_chip": [round(c, 2) for c in in_chip],
            "labels": [{"class": names[i], "ticket_id": owners[i], "box": [round(c, 2) for c in b]} for i, b in kept],
            "unreviewed_boxes": sum(1 for u in unreviewed if _overlaps(u, chip)),
        }
        return Chip(path, cw, ch, [b for _, b in kept], [names[i] for i, _ in kept], record)


def summarise(chips: list[Chip], skipped: list[Skipped]) -> dict[str, Any]:
    """The counts a model maintainer looks at first."""
    positives: dict[str, int] = defaultdict(int)
    labels: dict[str, int] = defaultdict(int)
    for c in chips:
        if c.record["label"] == "positive":
            positives[c.record["class"]] += 1
        for n in c.names:
            labels[n] += 1
    reasons: dict[str, int] = defaultdict(int)
    for c in chips:
        if c.record["label"] == "hard_negative":
            reasons[c.record.get("reject_reason") or "unspecified"] += 1
    by_kind: dict[str, int] = defaultdict(int)
    for s in skipped:
        by_kind[s.kind] += 1
    return {
        "chips": len(chips), "positives": dict(sorted(positives.items())),
        "negatives": sum(1 for c in chips if c.record["label"] == "hard_negative"),
        "negatives_by_reason": dict(sorted(reasons.items())),
        "labels": dict(sorted(labels.items())),
        "chips_with_unreviewed_boxes": sum(1 for c in chips if c.record["unreviewed_boxes"]),
        "hand_labelled_chips": sum(1 for c in chips if c.record["label"] == "hand_labelled"),
        "skipped": len(skipped), "skipped_by_reason": dict(sorted(by_kind.items())),
    }


# --------------------------------------------------------------------------- hand-labelled frames


def cut_labelled(store: BlobStore, out: Path, frames: list[LabelledFrame], size: int = 320,
                 jpeg_quality: int = 95, on_photo: Callable[[], None] = lambda: None) -> tuple[list[Chip], list[Skipped]]:
    """Chips of frames a person labelled completely (``serve.labels``): the whole frame cut
    into ``size`` tiles, each with the hand boxes the chip rule keeps. Unlike review chips,
    a complete frame has no unlabelled object, so every tile may be used, empty ones as
    background."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chips: list[Chip] = []
    skipped: list[Skipped] = []
    for f in frames:
        name = f"hand-labelled frame {f.sha[:16]} v{f.version}"
        try:
            if not store.exists(f.sha):
                skipped.append(Skipped(name, f"photo blob {f.sha} is missing from the store", "missing_blob"))
                continue
            try:
                image = read_image(store.path(f.sha))
            except ImageReadError as exc:
                skipped.append(Skipped(name, f"photo blob {f.sha} unreadable: {exc.reason}", "unreadable_photo"))
                continue
            h, w = image.shape[:2]
            if (w, h) != (f.width, f.height):
                skipped.append(Skipped(name, f"labelled at {f.width}x{f.height}, decodes as {w}x{h}", "bad_box"))
                continue
            boxes: list[Box] = [tuple(float(v) for v in b["box"]) for b in f.boxes]  # type: ignore[misc]
            names = [str(b["class"]) for b in f.boxes]
            for n, chip in enumerate(tiles(w, h, size)):
                x0, y0, cw, ch = chip
                path = out / f"{f.sha[:16]}__hand{n}.jpg"
                with atomic_file(path, durable=False, keep_suffix=True) as tmp:
                    if not cv2.imwrite(str(tmp), image[y0:y0 + ch, x0:x0 + cw], [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]):
                        raise OSError(f"cannot write {tmp}")
                kept = boxes_in_chip(boxes, chip)
                record = {"chip": path.name, "label": "hand_labelled", "class": None, "photo_sha256": f.sha,
                          "label_version": f.version, "labelled_by": f.created_by, "labelled_at": f.created_at.isoformat(),
                          "chip_origin": [x0, y0], "chip_size": [cw, ch], "unreviewed_boxes": 0,
                          "labels": [{"class": names[i], "box": [round(c, 2) for c in b]} for i, b in kept]}
                chips.append(Chip(path, cw, ch, [b for _, b in kept], [names[i] for i, _ in kept], record))
        finally:
            on_photo()
    return chips, skipped
