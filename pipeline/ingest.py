"""``heyan ingest``: a survey flight (folder or zip of photos) becomes tickets.

Photo by photo, with bounded memory: read the pose, skip photos whose footprint misses the
river zone, detect on the tiles that touch it, place each detection on the ground and on
the river network, decide by the rules; then merge the views of each object into tickets,
match them against earlier open tickets, and write the office's files. A bad photo is
listed in ``rejected.jsonl`` with its reason and the flight goes on.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from shapely.geometry import Polygon, mapping

from heyan.pipeline.geo.gcj02 import wgs84_to_gcj02
from heyan.pipeline.geo.georef import GeorefSettings, GroundPlane, PoseError, footprint, project_pixels
from heyan.pipeline.geo.rivers import Place, RiverNetwork
from heyan.pipeline.images import ImageReadError, expand_inputs, read_image
from heyan.pipeline.metadata import MetadataError, read_pose
from heyan.pipeline.metadata.pose import CameraPose
from heyan.pipeline.report.labels import Lang
from heyan.pipeline.report.write import write_reports
from heyan.pipeline.tickets.dedup import DedupParams, DedupResult, OpenTicket, TicketDraft, dedup_flight
from heyan.pipeline.tickets.exports import write_csv, write_geojson, write_kml, write_xlsx
from heyan.pipeline.tickets.finds import Find
from heyan.pipeline.tickets.rules import Decision, RuleSet
from heyan.pipeline.tickets.ticket import EvidenceRecord, TicketRecord
from heyan.pipeline.zipsafe import extract_images
from heyan.vision.common import atomic_file, atomic_write
from heyan.vision.detections import Detections
from heyan.vision.detector import OnnxDetector
from heyan.vision.inference import UNTILED_MAX_SIDE, detect_image
from heyan.vision.slicing import SliceParams, SliceReport, tile_grid

# Classes lying flat on the ground or water: their box centre is their ground position.
# Upright things (boats, dredgers, buildings) in oblique views stand on the box's lower part.
FLAT_CLASSES = {"floating_debris", "waste_pile"}
OBLIQUE_DEG = 25.0


@dataclass
class IngestOptions:
    ground: GroundPlane = field(default_factory=GroundPlane)
    georef: GeorefSettings = field(default_factory=GeorefSettings)
    tile: bool = True
    untiled_max_side: int = UNTILED_MAX_SIDE
    use_zone: bool = True  # skip photos and tiles that miss the river zone
    zone_margin_m: float = 20.0
    max_river_distance_m: float = 500.0
    gcj02: bool = False
    flight_id: str | None = None
    crop_margin: float = 0.3
    crop_max_side: int = 384
    dedup: DedupParams = field(default_factory=DedupParams)
    thumb_max_side: int = 480  # the copy of each photo the report lays on its footprint
    report_pdf: bool = True  # report.pdf beside report.html
    report_lang: Lang = "zh-en"


@dataclass
class IngestSummary:
    flight_id: str
    out_dir: str
    photos: int = 0
    photos_used: int = 0
    rejected: int = 0
    photos_off_river: int = 0
    detections: int = 0
    tickets: int = 0
    seen_again: int = 0
    not_seen: int = 0
    tiles_total: int = 0
    tiles_run: int = 0
    per_category: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class _PhotoOutcome:
    pose: CameraPose
    footprint: Polygon | None
    finds: list[tuple[Find, Decision, Place | None]]
    other: list[dict[str, Any]]  # detections that could not be placed on the ground
    tiles_total: int
    tiles_run: int
    off_river: bool
    thumb: str | None = None  # downscaled copy, relative to the output folder
    corners: list[tuple[float, float]] | None = None  # image corners TL, TR, BR, BL on the ground (lon, lat)


@dataclass
class PhotoResult:
    """What became of one photo: its outcome, or the reason it could not be used."""

    outcome: _PhotoOutcome | None = None
    error: str | None = None


def off_nadir_deg(pose: CameraPose) -> float | None:
    if pose.gimbal_pitch is None:
        return None
    return float(abs(90.0 + pose.gimbal_pitch))


def ground_pixel(box: np.ndarray, class_name: str, off_nadir: float | None) -> tuple[float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if class_name in FLAT_CLASSES or off_nadir is None or off_nadir < OBLIQUE_DEG:
        return cx, cy
    return cx, y1 + 0.8 * (y2 - y1)


def load_open_tickets(path: Path) -> list[OpenTicket]:
    """Open tickets of earlier flights: a tickets.geojson of an earlier ingest, or a JSON
    list of objects with id, class, lat, lon, error_m (and optionally state, size_m)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows: Iterable[dict[str, Any]]
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        rows = []
        for f in data.get("features", []):
            lon, lat = f["geometry"]["coordinates"][:2]
            rows.append({**f.get("properties", {}), "lat": lat, "lon": lon})
    elif isinstance(data, list):
        rows = data
    else:
        raise ValueError(f"{path}: expected a GeoJSON FeatureCollection or a JSON list of tickets")
    out = []
    for i, r in enumerate(rows):
        try:
            out.append(OpenTicket(id=str(r["id"]), class_name=str(r.get("class") or r["class_name"]), lat=float(r["lat"]),
                                  lon=float(r["lon"]), error_m=float(r.get("error_m") or 5.0),
                                  state=str(r.get("state") or "confirmed"), size_m=r.get("size_m")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: ticket {i} is invalid: missing or bad {exc}") from None
    return out


class FlightIngest:
    """One flight's processing; ``run`` does it all, the steps are methods for testing."""

    def __init__(self, network: RiverNetwork, rules: RuleSet, detector: OnnxDetector, params: SliceParams,
                 options: IngestOptions | None = None) -> None:
        self.network = network
        self.rules = rules
        self.detector = detector
        self.params = params
        self.opt = options or IngestOptions()
        self.names = list(detector.class_names)

    # -- one photo -------------------------------------------------------------------------
    def _tile_selector(self, pose: CameraPose) -> Callable[[np.ndarray], np.ndarray]:
        def select(grid: np.ndarray) -> np.ndarray:
            pts = np.concatenate([grid[:, [0, 1]], grid[:, [2, 1]], grid[:, [2, 3]], grid[:, [0, 3]],
                                  (grid[:, :2] + grid[:, 2:]) / 2]).astype(np.float64)
            res = project_pixels(pose, pts, self.opt.ground, self.opt.georef, with_errors=False)
            t = len(grid)
            keep = np.zeros(t, bool)
            ok = res.ok
            for i in range(t):
                idx = [i + k * t for k in range(5) if ok[i + k * t]]
                if not idx:
                    continue  # the whole tile is sky or beyond range
                pts_ll = list(zip(res.lon[idx], res.lat[idx]))
                geom = Polygon(pts_ll).convex_hull if len(pts_ll) >= 3 else Polygon(pts_ll * 3).convex_hull
                keep[i] = self.network.intersects_zone(geom, self.opt.zone_margin_m)
            return keep

        return select

    def process_photo(self, path: Path) -> _PhotoOutcome:
        pose = read_pose(path)  # MetadataError: the caller rejects the photo
        if pose.gimbal_pitch is None and pose.flight_pitch is None:
            raise MetadataError(path, "no camera attitude (gimbal pitch) in the metadata: cannot place detections")
        try:
            fp = footprint(pose, self.opt.ground, self.opt.georef)
        except PoseError as exc:
            raise MetadataError(path, f"cannot georeference: {exc}") from None
        fp = fp if fp is not None and not fp.is_empty else None
        if self.opt.use_zone and (fp is None or not self.network.intersects_zone(fp, self.opt.zone_margin_m)):
            # Count the tiles this photo would have needed, so the saving is reported in full.
            n_tiles = 0
            if pose.width and pose.height:
                n_tiles = len(tile_grid(pose.width, pose.height, self.params.tile, self.params.overlap)) \
                    if self.opt.tile and max(pose.width, pose.height) > self.opt.untiled_max_side else 1
            return _PhotoOutcome(pose, fp, [], [], n_tiles, 0, off_river=True)
        image = read_image(path)  # ImageReadError: rejected
        report: list[SliceReport] = []
        det = detect_image(image, self.detector, self.params, tile=self.opt.tile,
                           untiled_max_side=self.opt.untiled_max_side, report=report,
                           tile_selector=self._tile_selector(pose) if self.opt.use_zone else None)
        tiles_total = report[0].tiles_total if report else 1
        tiles_run = report[0].tiles_run if report else 1
        finds, other = self._place(path, pose, image, det)
        return _PhotoOutcome(pose, fp, finds, other, tiles_total, tiles_run, off_river=False,
                             thumb=self._save_thumb(image, path), corners=self._corners(pose, image))

    def _corners(self, pose: CameraPose, image: np.ndarray) -> list[tuple[float, float]] | None:
        h, w = image.shape[:2]
        res = project_pixels(pose, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64), self.opt.ground, self.opt.georef,
                             with_errors=False)
        if not res.ok.all():
            return None  # an oblique photo seeing the horizon: its outline is drawn, not the photo
        return [(round(float(lon), 8), round(float(lat), 8)) for lon, lat in zip(res.lon, res.lat)]

    def _save_thumb(self, image: np.ndarray, path: Path) -> str | None:
        s = self.opt.thumb_max_side / max(image.shape[:2])
        small = cv2.resize(image, (max(1, round(image.shape[1] * s)), max(1, round(image.shape[0] * s))),
                           interpolation=cv2.INTER_AREA) if s < 1 else image
        # Photos of one flight may share a name in different folders of a zip.
        name = f"thumbs/{path.stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:6]}.jpg"
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if not ok:
            return None
        atomic_write(self.out / name, buf.tobytes(), durable=False)
        return name

    def _place(self, path: Path, pose: CameraPose, image: np.ndarray, det: Detections
               ) -> tuple[list[tuple[Find, Decision, Place | None]], list[dict[str, Any]]]:
        if len(det) == 0:
            return [], []
        off = off_nadir_deg(pose)
        n = len(det)
        centre = np.array([ground_pixel(b, self.names[int(c)], off) for b, c in zip(det.xyxy, det.class_ids)])
        x1, y1, x2, y2 = det.xyxy.T.astype(np.float64)
        cy, cx = (y1 + y2) / 2, (x1 + x2) / 2
        w_img, h_img = image.shape[1], image.shape[0]
        edges = np.concatenate([np.stack([x1, cy], 1), np.stack([x2, cy], 1), np.stack([cx, y1], 1), np.stack([cx, y2], 1)])
        edges[:, 0] = np.clip(edges[:, 0], 0, w_img)
        edges[:, 1] = np.clip(edges[:, 1], 0, h_img)
        res = project_pixels(pose, centre, self.opt.ground, self.opt.georef)
        eres = project_pixels(pose, edges, self.opt.ground, self.opt.georef, with_errors=False)
        when = pose.time.isoformat() if pose.time else None
        finds: list[tuple[Find, Decision, Place | None]] = []
        other: list[dict[str, Any]] = []
        ok = res.ok
        places = self.network.locate(res.lat[ok], res.lon[ok], self.opt.max_river_distance_m) if ok.any() else []
        place_iter = iter(places)
        for i in range(n):
            cname = self.names[int(det.class_ids[i])]
            box = tuple(round(float(v), 1) for v in det.xyxy[i])
            fid = f"{path.stem}#{i}"
            if not ok[i]:
                other.append({"image": str(path), "class": cname, "score": round(float(det.scores[i]), 4), "box": list(box),
                              "lat": None, "lon": None, "error_m": None, "ticket": None, "reason": f"no ground point: {res.reasons[i]}"})
                continue
            size = _size_m(eres, i, n)
            f = Find(id=fid, image=str(path), class_name=cname, score=float(det.scores[i]), box=box,
                     lat=float(res.lat[i]), lon=float(res.lon[i]), error_m=float(res.error_m[i]), size_m=size,
                     time=when, off_nadir_deg=off)
            place = next(place_iter)
            decision = self.rules.evaluate(f, place, pose.time)
            if decision.ticket:
                f.extra["crop"] = self._save_crop(image, det.xyxy[i], fid)
            finds.append((f, decision, place))
        return finds, other

    def _save_crop(self, image: np.ndarray, box: np.ndarray, fid: str) -> str:
        h, w = image.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in box)
        mx, my = (x2 - x1) * self.opt.crop_margin + 8, (y2 - y1) * self.opt.crop_margin + 8
        a, b = int(max(0, x1 - mx)), int(max(0, y1 - my))
        c, d = int(min(w, x2 + mx)), int(min(h, y2 + my))
        crop = image[b:d, a:c]
        s = self.opt.crop_max_side / max(crop.shape[:2])
        if s < 1:
            crop = cv2.resize(crop, (max(1, int(crop.shape[1] * s)), max(1, int(crop.shape[0] * s))), interpolation=cv2.INTER_AREA)
        else:
            s = 1.0
        crop = crop.copy()
        cv2.rectangle(crop, (int((x1 - a) * s), int((y1 - b) * s)), (int((x2 - a) * s), int((y2 - b) * s)), (0, 0, 255), 2)
        name = "evidence/" + fid.replace("#", "_").replace("/", "_") + ".jpg"
        with atomic_file(self.out / name, keep_suffix=True) as tmp:
            if not cv2.imwrite(str(tmp), crop, [cv2.IMWRITE_JPEG_QUALITY, 88]):
                raise OSError(f"cannot write {tmp}")
        return name

    # -- the flight ------------------------------------------------------------------------
    def begin(self, out: Path) -> None:
        """Point evidence crops at ``out`` (a photo task on another worker calls this too)."""
        self.out = Path(out)
        (self.out / "evidence").mkdir(parents=True, exist_ok=True)
        (self.out / "thumbs").mkdir(exist_ok=True)

    def photo_result(self, path: Path, retry_unexpected: bool = False) -> PhotoResult:
        """One photo's outcome, or why it cannot be used (one bad photo never stops a flight).
        ``retry_unexpected``: errors other than a bad photo propagate, for a caller that
        retries them (the task queue: a shared folder or database that hiccuped)."""
        try:
            return PhotoResult(outcome=self.process_photo(path))
        except (MetadataError, ImageReadError) as exc:
            return PhotoResult(error=getattr(exc, "reason", str(exc)))
        except Exception as exc:
            if retry_unexpected:
                raise
            return PhotoResult(error=unexpected_error(exc))

    def run(self, source: Path, out: Path, open_tickets: list[OpenTicket] | None = None,
            progress: bool = True) -> IngestSummary:
        from tqdm import tqdm

        t0 = time.perf_counter()
        out = Path(out)
        self.begin(out)
        flight_id = self.opt.flight_id or _default_flight_id(Path(source))
        source = Path(source)
        if source.is_file() and source.suffix.lower() == ".zip":
            photos = extract_images(source, out / "photos")  # UnsafeZipError refuses the whole zip
        elif source.is_dir():
            photos = expand_inputs([source])
        else:
            raise FileNotFoundError(f"{source}: not a folder of photos or a .zip")
        results = ((path, self.photo_result(path))
                   for path in tqdm(photos, desc=f"ingest {flight_id}", unit="photo", disable=not progress))
        return self.reduce(flight_id, len(photos), results, open_tickets, t0)

    def reduce(self, flight_id: str, photos_total: int, results: Iterable[tuple[Path, PhotoResult]],
               open_tickets: list[OpenTicket] | None = None, t0: float | None = None) -> IngestSummary:
        """The flight from its photos' results, in photo order: de-duplication across photos,
        tickets, matching against earlier open tickets, and the office's files in ``self.out``.
        ``heyan ingest`` and the server's threads feed it as they detect; the task queue's
        reduce step feeds it the results its photo tasks stored."""
        t0 = time.perf_counter() if t0 is None else t0
        out = self.out
        summary = IngestSummary(flight_id=flight_id, out_dir=str(out))
        summary.photos = photos_total
        rejected_f = open(out / "rejected.jsonl.part", "w", encoding="utf-8")
        det_f = open(out / "detections.jsonl.part", "w", encoding="utf-8")
        all_finds: list[tuple[Find, Decision, Place | None]] = []
        footprints: list[dict[str, Any]] = []
        fp_for_dedup: list[tuple[str, Polygon]] = []
        try:
            for path, res in results:
                o = res.outcome
                if o is None:
                    summary.rejected += 1
                    rejected_f.write(json.dumps({"file": str(path), "error": res.error}, ensure_ascii=False) + "\n")
                    continue
                summary.photos_used += 1
                summary.photos_off_river += int(o.off_river)
                summary.tiles_total += o.tiles_total
                summary.tiles_run += o.tiles_run
                if o.footprint is not None:
                    fp_for_dedup.append((str(path), o.footprint))
                    footprints.append({"type": "Feature", "geometry": mapping(o.footprint), "properties": {
                        "image": str(path), "off_river": o.off_river, "detections": len(o.finds) + len(o.other),
                        "tiles_run": o.tiles_run, "tiles_total": o.tiles_total, "time": o.pose.time.isoformat() if o.pose.time else None,
                        "off_nadir_deg": off_nadir_deg(o.pose), "thumb": o.thumb, "corners": o.corners}})
                for rec in o.other:
                    det_f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                summary.detections += len(o.finds) + len(o.other)
                all_finds.extend(o.finds)
            candidates = [f for f, d, _ in all_finds if d.ticket]
            result = dedup_flight(candidates, flight_id, open_tickets or [], fp_for_dedup, self.opt.dedup)
            ticket_of = _ticket_index(result)
            tickets = [self._ticket(t, all_finds) for t in result.new_tickets]
            for f, d, p in all_finds:
                tid = ticket_of.get(f.id)
                rec = {"image": f.image, "class": f.class_name, "score": round(f.score, 4), "box": list(f.box),
                       "lat": round(f.lat, 8), "lon": round(f.lon, 8), "error_m": round(f.error_m, 2),
                       "ticket": tid, "rule": d.rule_id, "category": d.category,
                       "segment_id": p.segment_id if p else None, "reason": None if tid else d.reason}
                det_f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        finally:
            rejected_f.close()
            det_f.close()
        (out / "rejected.jsonl.part").replace(out / "rejected.jsonl")
        (out / "detections.jsonl.part").replace(out / "detections.jsonl")
        updates = [{"ticket": tid, "event": "seen_again", "lat": d.lat, "lon": d.lon, "error_m": round(d.error_m, 2),
                    "evidence": [_evidence(e).to_dict() for e in d.evidence]} for tid, d in result.seen_again]
        updates += [{"ticket": tid, "event": "not_seen", "images": imgs} for tid, imgs in result.not_seen]
        _write_jsonl(out / "updates.jsonl", updates)
        write_geojson(out / "tickets.geojson", [t.to_feature() for t in tickets], flight_id=flight_id)
        write_geojson(out / "footprints.geojson", footprints, flight_id=flight_id)
        write_csv(out / "tickets.csv", tickets, gcj02=self.opt.gcj02)
        write_xlsx(out / "tickets.xlsx", tickets, gcj02=self.opt.gcj02)
        write_kml(out / "tickets.kml", tickets, name=f"河眼 {flight_id}")
        summary.tickets = len(tickets)
        summary.seen_again = len(result.seen_again)
        summary.not_seen = len(result.not_seen)
        summary.per_category = dict(Counter(str(t.category_zh) for t in tickets))
        summary.files = {k: str(out / v) for k, v in [
            ("tickets", "tickets.geojson"), ("detections", "detections.jsonl"), ("footprints", "footprints.geojson"),
            ("rejected", "rejected.jsonl"), ("updates", "updates.jsonl"), ("report", "report.html"),
            ("csv", "tickets.csv"), ("xlsx", "tickets.xlsx"), ("kml", "tickets.kml")]}
        if self.opt.report_pdf:
            summary.files["report_pdf"] = str(out / "report.pdf")
        summary.seconds = round(time.perf_counter() - t0, 2)  # the reports below are drawn from summary.json
        (out / "summary.json").write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        segments = [(s.name or s.id, [(float(x), float(y)) for x, y, *_ in part.coords])
                    for s in self.network.segments for part in _parts(s.line)]
        write_reports(out, segments, lang=self.opt.report_lang, pdf=self.opt.report_pdf)
        return summary

    def _ticket(self, t: TicketDraft, all_finds: list[tuple[Find, Decision, Place | None]]) -> TicketRecord:
        by_id = {f.id: (d, p) for f, d, p in all_finds}
        decision, place = by_id[t.best.id]
        if place is None:  # the best view had no place; take any member's
            place = next((by_id[e.id][1] for e in t.evidence if by_id[e.id][1] is not None), None)
        if place is not None:
            place = self.network.locate_one(t.lat, t.lon, self.opt.max_river_distance_m) or place
        return ticket_record(t, decision, place, self.opt.gcj02)


def ticket_record(t: TicketDraft, decision: Decision, place: Place | None, gcj02: bool = False) -> TicketRecord:
    """A ticket draft, judged and placed, as the record tickets.geojson carries (the server
    imports it; the edge API builds its tickets with this too)."""
    found = _parse_time(t.best.time)
    deadline = (found.date() if found else date.today()) + timedelta(days=decision.deadline_days or 0)
    chiefs = place.chiefs if place else None
    rec = TicketRecord(
        id=t.id, lat=round(t.lat, 8), lon=round(t.lon, 8), flight_id=t.flight_id, category=decision.category,
        category_zh=decision.category_name, class_name=t.class_name, severity=decision.severity, score=round(t.score, 3),
        segment_id=place.segment_id if place else None, segment_name=place.segment_name if place else None,
        river=place.river if place else None,
        chainage_km=round(place.chainage_km, 3) if place else None, bank=place.bank if place else None,
        bank_zh=place.bank_zh if place else None,
        chief_county=chiefs.county.name if chiefs and chiefs.county else None,
        chief_township=chiefs.township.name if chiefs and chiefs.township else None,
        chief_village=chiefs.village.name if chiefs and chiefs.village else None,
        chiefs=chiefs.to_dict() if chiefs else None,
        found_at=t.best.time, deadline=deadline.isoformat(), deadline_days=decision.deadline_days,
        rule=decision.rule_id, reason=decision.reason, error_m=round(t.error_m, 2),
        size_m=round(t.size_m, 2) if t.size_m else None, n_views=t.n_views,
        best_image=t.best.image, best_crop=t.best.extra.get("crop"), best_box=list(t.best.box),
        evidence=[_evidence(e) for e in t.evidence])
    if gcj02:
        glat, glon = wgs84_to_gcj02(t.lat, t.lon)
        rec.lat_gcj02, rec.lon_gcj02 = round(float(glat), 7), round(float(glon), 7)
    return rec


def unexpected_error(exc: BaseException) -> str:
    """How a photo refused for an error that is not the photo's own is listed."""
    return f"unexpected error: {type(exc).__name__}: {exc}"


def _default_flight_id(source: Path) -> str:
    # Operators hand over ".../<flight>/photos": the flight is the parent folder then.
    p = source.resolve()
    if p.is_dir() and p.name.lower() in {"photos", "images", "dcim", "100media"} and p.parent.name:
        return p.parent.name
    return p.stem


def _parts(geom: Any) -> list[Any]:
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def _evidence(f: Find) -> EvidenceRecord:
    return EvidenceRecord(find=f.id, image=f.image, box=list(f.box), score=round(f.score, 4), crop=f.extra.get("crop"),
                          lat=round(f.lat, 8), lon=round(f.lon, 8), error_m=round(f.error_m, 2), time=f.time,
                          off_nadir_deg=round(f.off_nadir_deg, 1) if f.off_nadir_deg is not None else None)


def _ticket_index(result: DedupResult) -> dict[str, str]:
    out = {}
    for t in result.new_tickets:
        for e in t.evidence:
            out[e.id] = t.id
    for tid, d in result.seen_again:
        for e in d.evidence:
            out[e.id] = tid
    return out


def _size_m(eres: Any, i: int, n: int) -> float | None:
    idx = [i, i + n, i + 2 * n, i + 3 * n]
    if not all(eres.ok[j] for j in idx):
        return None
    e, nn = eres.east, eres.north
    w = math.hypot(e[idx[1]] - e[idx[0]], nn[idx[1]] - nn[idx[0]])
    h = math.hypot(e[idx[3]] - e[idx[2]], nn[idx[3]] - nn[idx[2]])
    return float(max(w, h))


def _parse_time(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
