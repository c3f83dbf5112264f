"""The report's map as drawing instructions: the flight's photos warped onto their
footprints in one raster (so the file's size follows the map's size, not the number of
photos), and over it footprint outlines, river centrelines with names, ticket markers,
a scale bar and a north arrow, all in drawing units (y down). The HTML draws it as SVG,
the PDF with PDF paths: one map, two outputs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from shapely.geometry import LineString, box

from heyan.pipeline.report.data import LonLat, ReportData, ticket_state
from heyan.pipeline.report.geometry import Canvas, Extent, LocalFrame, bounds, length_label, map_extent, nice_length
from heyan.pipeline.report.labels import category_colour, category_text

Pt = tuple[float, float]
BACKGROUND_BGR = (236, 232, 226)  # a pale grey-blue where no photo covers the ground


@dataclass
class Marker:
    id: str
    x: float
    y: float
    colour: str
    state: str  # "new", "seen_again" or a workflow state
    label_zh: str
    label_en: str


@dataclass
class Scene:
    canvas: Canvas
    frame: LocalFrame
    photos: list[tuple[str, list[Pt], bool]] = field(default_factory=list)  # (file, outline, off river)
    rivers: list[tuple[str, list[list[Pt]], Pt | None]] = field(default_factory=list)  # (name, parts, label)
    markers: list[Marker] = field(default_factory=list)
    scale_m: float = 0.0
    scale_len: float = 0.0  # drawing units
    scale_label: str = ""
    north_deg: float = 0.0  # true north, clockwise from up
    mosaic: bytes = b""  # JPEG of the photos on their footprints, the canvas's full size
    photos_drawn: int = 0

    @property
    def width(self) -> float:
        return self.canvas.width

    @property
    def height(self) -> float:
        return self.canvas.height


def flight_points(d: ReportData) -> list[LonLat]:
    pts = [p for ph in d.photos for p in ph.ring]
    pts += [(tk.lon, tk.lat) for tk in d.tickets] + [(s.lon, s.lat) for s in d.seen_again]
    return pts


def flight_extent(d: ReportData, frame: LocalFrame) -> Extent:
    """Footprints and tickets; the river only when the flight left nothing to place."""
    pts = flight_points(d)
    if not pts:
        pts = [p for _, line in d.segments for p in line]
    e = bounds(frame.many(pts))
    if e is None:
        raise ValueError("nothing to draw: no footprint, ticket or river")
    return e


def build_scene(d: ReportData, root: Path, width: float = 1000.0, raster_scale: float = 1.6,
                jpeg_quality: int = 72) -> Scene | None:
    """``width`` drawing units; the photo raster has ``width * raster_scale`` pixels. None
    when there is nothing to place (every photo rejected and no river given): the report
    is then its summary, which says why."""
    pts = flight_points(d) or [p for _, line in d.segments for p in line]
    if not pts:
        return None
    frame = LocalFrame.around(pts)
    canvas = Canvas(map_extent(flight_extent(d, frame)), width)
    scene = Scene(canvas=canvas, frame=frame, north_deg=-frame.north_deg)

    for ph in d.photos:
        scene.photos.append((ph.image, [canvas.px(*xy) for xy in frame.many(ph.ring)], ph.off_river))
    view = box(canvas.extent.x0, canvas.extent.y0, canvas.extent.x1, canvas.extent.y1)
    for name, line in d.segments:
        if len(line) < 2:
            continue
        clipped = LineString(frame.many(line)).intersection(view)
        if clipped.is_empty:
            continue
        parts = list(getattr(clipped, "geoms", [clipped]))
        parts = [g for g in parts if g.geom_type == "LineString" and g.length > 0]
        if not parts:
            continue
        longest = max(parts, key=lambda g: g.length)
        mid = longest.interpolate(0.5, normalized=True)
        scene.rivers.append((name, [[canvas.px(x, y) for x, y in g.coords] for g in parts], canvas.px(mid.x, mid.y)))
    for tk in d.tickets:
        x, y = canvas.px(*frame.xy(tk.lon, tk.lat))
        zh, en = category_text(tk.category, tk.category_zh)
        scene.markers.append(Marker(str(tk.id), x, y, category_colour(tk.category), ticket_state(tk), zh, en))
    for s in d.seen_again:
        x, y = canvas.px(*frame.xy(s.lon, s.lat))
        zh, en = category_text(s.category)
        scene.markers.append(Marker(s.ticket, x, y, category_colour(s.category), "seen_again", zh, en))

    scene.scale_m = nice_length(canvas.extent.width * 0.25)
    scene.scale_len = scene.scale_m * canvas.scale
    scene.scale_label = length_label(scene.scale_m)
    scene.mosaic, scene.photos_drawn = render_mosaic(d, root, scene, raster_scale, jpeg_quality)
    return scene


def render_mosaic(d: ReportData, root: Path, scene: Scene, k: float, quality: int) -> tuple[bytes, int]:
    """Each photo's thumbnail warped by the homography from its corners to its footprint's
    corners (exact for a pinhole camera over flat ground) and clipped to the footprint."""
    w, h = max(1, round(scene.width * k)), max(1, round(scene.height * k))
    out = np.empty((h, w, 3), np.uint8)
    out[:] = BACKGROUND_BGR
    drawn = 0
    for ph, (_, ring_px, _) in zip(d.photos, scene.photos):
        if not ph.thumb or not ph.corners or len(ph.corners) != 4:
            continue
        img = cv2.imread(str(root / ph.thumb), cv2.IMREAD_COLOR)
        if img is None:
            continue
        th, tw = img.shape[:2]
        dst = np.array([scene.canvas.px(*xy) for xy in scene.frame.many(ph.corners)], np.float64) * k
        x0, y0 = np.floor(dst.min(0)).astype(int)
        x1, y1 = np.ceil(dst.max(0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
        m = cv2.getPerspectiveTransform(src, (dst - [x0, y0]).astype(np.float32))
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(img, m, size, flags=cv2.INTER_AREA)
        inside = cv2.warpPerspective(np.full((th, tw), 255, np.uint8), m, size, flags=cv2.INTER_NEAREST)
        clip = np.zeros_like(inside)
        poly = np.round(np.array(ring_px, np.float64) * k - [x0, y0]).astype(np.int32)
        cv2.fillPoly(clip, [poly], 255)
        sel = (inside > 0) & (clip > 0)
        out[y0:y1, x0:x1][sel] = warped[sel]
        drawn += 1
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        raise OSError("cannot encode the report map")
    return buf.tobytes(), drawn


def north_arrow(cx: float, cy: float, size: float, deg: float) -> list[Pt]:
    """The arrow's triangle (tip first), turned ``deg`` clockwise."""
    a = math.radians(deg)
    pts = [(0.0, -size), (size * 0.45, size * 0.6), (0.0, size * 0.25), (-size * 0.45, size * 0.6)]
    return [(cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a)) for x, y in pts]



def small_jpeg(path: Path, max_side: int = 200, quality: int = 80) -> bytes | None:
    """An evidence crop downscaled for the report (None if it cannot be read)."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None
    s = max_side / max(img.shape[:2])
    if s < 1:
        img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else None
