"""待标注: which frames a person should label next, to teach the model most per minute.

Four reasons, each a list in its own order:

- ``uncertain``: frames with many low-score detections (score below ``LOW_SCORE``). The
  model is unsure there; a person's boxes settle many borderline cases at once.
- ``near_find``: frames on or beside (``NEIGHBOURS`` photos either side in the same flight)
  a photo with a confirmed ticket, and snapshots of an edge event that made a confirmed
  ticket. Objects come in clusters (a dumping site, a dredger fleet): a miss is likely near
  a find, and reviews alone never show a miss.
- ``new_source``: one frame of every camera, flight or river segment that has no labels
  yet, so no site is left out of the training set.
- ``random``: ``RANDOM_SHARE`` of the queue (one frame in five) drawn uniformly from the
  frames not yet fully labelled. The other three reasons pick hard frames on purpose, so
  figures measured on them (how much the model misses) would be biased; the random share
  is an honest sample to measure on, cheap enough not to slow the learning much.

The queue interleaves the first three reasons round-robin and puts a random frame in
every fifth place. Frames whose latest labels are complete are left out."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from heyan.serve.label_export import POSITIVE_STATES
from heyan.serve.tables import DetectionRow, Device, EdgeEvent, Evidence, FlightPhoto, FrameLabel, Ticket

LOW_SCORE = 0.5
MIN_LOW = 2  # fewer low-score boxes than this is not "many"
NEIGHBOURS = 2
RANDOM_SHARE = 0.2
MAX_CANDIDATES = 50_000  # the newest frames considered; older ones wait their turn
REASONS = ("uncertain", "near_find", "new_source", "random")


@dataclass(frozen=True)
class QueueItem:
    sha: str
    reason: str
    name: str
    source: str
    low_scores: int = 0


@dataclass
class _Frame:
    sha: str
    name: str
    source: str
    segment: str | None = None
    low: int = 0
    boxes: int = 0


def _frames(db: Session) -> dict[str, _Frame]:
    frames: dict[str, _Frame] = {}
    for r in db.execute(sa.select(FlightPhoto.sha256, FlightPhoto.name, FlightPhoto.flight_id)
                        .where(FlightPhoto.rejected.is_(None)).order_by(FlightPhoto.id.desc()).limit(MAX_CANDIDATES)):
        frames.setdefault(r.sha256, _Frame(r.sha256, r.name, f"flight:{r.flight_id}"))
    for r in db.execute(sa.select(EdgeEvent.snapshot_sha256, EdgeEvent.camera_id, EdgeEvent.segment_id, Device.name)
                        .join(Device, Device.id == EdgeEvent.device_id).where(EdgeEvent.snapshot_sha256.is_not(None))
                        .order_by(EdgeEvent.id.desc()).limit(MAX_CANDIDATES)):
        src = f"camera:{r.name}/{r.camera_id}"
        frames.setdefault(r.snapshot_sha256, _Frame(r.snapshot_sha256, f"{r.name}/{r.camera_id}", src, r.segment_id))
    return frames


def _scores(db: Session, frames: dict[str, _Frame]) -> None:
    for sha, score, seg in db.execute(sa.select(DetectionRow.photo_sha, DetectionRow.score, DetectionRow.segment_id)
                                      .where(DetectionRow.photo_sha.is_not(None))):
        f = frames.get(sha)
        if f is None:
            continue
        f.boxes += 1
        f.low += score < LOW_SCORE
        f.segment = f.segment or seg
    for sha, score in db.execute(sa.select(EdgeEvent.snapshot_sha256, EdgeEvent.score)
                                 .where(EdgeEvent.snapshot_sha256.is_not(None), EdgeEvent.score.is_not(None))):
        f = frames.get(sha)
        if f is not None:
            f.boxes += 1
            f.low += score < LOW_SCORE


def _near_finds(db: Session, frames: dict[str, _Frame]) -> list[str]:
    found = set(db.scalars(sa.select(Evidence.photo_sha).join(Ticket, Ticket.id == Evidence.ticket_id)
                           .where(Ticket.state.in_(POSITIVE_STATES), Evidence.photo_sha.is_not(None))))
    found |= set(db.scalars(sa.select(EdgeEvent.snapshot_sha256).join(Ticket, Ticket.id == EdgeEvent.ticket_id)
                            .where(Ticket.state.in_(POSITIVE_STATES), EdgeEvent.snapshot_sha256.is_not(None))))
    by_flight: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for f in frames.values():
        if f.source.startswith("flight:"):
            by_flight[f.source].append((f.name, f.sha))
    out: list[str] = []
    for photos in by_flight.values():
        photos.sort()  # a flight's photos in shooting order (DJI numbers them)
        hits = [i for i, (_, sha) in enumerate(photos) if sha in found]
        near = sorted({j for i in hits for j in range(i - NEIGHBOURS, i + NEIGHBOURS + 1) if 0 <= j < len(photos)},
                      key=lambda j: (min(abs(j - i) for i in hits), j))  # the find's own photo first, then outwards
        out += [photos[j][1] for j in near]
    out += [sha for sha in found if sha in frames and not frames[sha].source.startswith("flight:")]
    return out


def build(db: Session, limit: int = 50, seed: int | None = None) -> list[QueueItem]:
    frames = _frames(db)
    newest = (sa.select(FrameLabel.photo_sha, sa.func.max(FrameLabel.version).label("v"))
              .group_by(FrameLabel.photo_sha).subquery())
    done = set(db.scalars(sa.select(FrameLabel.photo_sha).join(
        newest, sa.and_(newest.c.photo_sha == FrameLabel.photo_sha, newest.c.v == FrameLabel.version))
        .where(FrameLabel.complete.is_(True))))
    labelled_sources = set(db.scalars(sa.select(FrameLabel.source).distinct()))
    labelled_shas = set(db.scalars(sa.select(FrameLabel.photo_sha).distinct()))
    _scores(db, frames)
    labelled_segments = {f.segment for sha, f in frames.items() if sha in labelled_shas and f.segment}
    for sha in done:
        frames.pop(sha, None)

    uncertain = [f.sha for f in sorted(frames.values(), key=lambda f: (-f.low, f.sha)) if f.low >= MIN_LOW]
    near = [s for s in _near_finds(db, frames) if s in frames]
    new_source: list[str] = []
    firsts: dict[str, _Frame] = {}
    for f in sorted(frames.values(), key=lambda f: (-f.boxes, f.name)):  # the busiest frame of a new site first
        for key in (f.source, f"segment:{f.segment}" if f.segment else None):
            if key and key not in labelled_sources and (not key.startswith("segment:") or f.segment not in labelled_segments):
                firsts.setdefault(key, f)
    new_source = [f.sha for _, f in sorted(firsts.items())]
    rng = random.Random(seed)
    pool = sorted(frames)
    rng.shuffle(pool)

    lists = {"uncertain": uncertain, "near_find": near, "new_source": new_source}
    out: list[QueueItem] = []
    taken: set[str] = set()
    every = round(1 / RANDOM_SHARE)

    def take(sha: str, reason: str) -> None:
        f = frames[sha]
        taken.add(sha)
        out.append(QueueItem(sha, reason, f.name, f.source, f.low))

    cursors = dict.fromkeys(lists, 0)
    turn = 0
    while len(out) < limit:
        if len(out) % every == every - 1:
            sha = next((s for s in pool if s not in taken), None)
            if sha is not None:
                take(sha, "random")
                continue
        progressed = False
        for _ in range(len(lists)):
            reason = tuple(lists)[turn % len(lists)]
            turn += 1
            items, i = lists[reason], cursors[reason]
            while i < len(items) and items[i] in taken:
                i += 1
            cursors[reason] = i + 1
            if i < len(items):
                take(items[i], reason)
                progressed = True
                break
        if not progressed:  # the three lists are spent: fill with random frames
            sha = next((s for s in pool if s not in taken), None)
            if sha is None:
                break
            take(sha, "random")
    return out
