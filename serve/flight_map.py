"""What the viewer draws of one flight: each used photo's footprint, the ground position of
its image corners (to lay the photo itself on the map), the drone's position (the track);
and a stable code for why a photo was rejected, so the viewer can say it in Chinese.

Built once when a flight is imported (the photos are at hand then) and kept in the flight's
summary under ``photos_map``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from heyan.pipeline.geo.georef import GeorefSettings, GroundPlane, PoseError, project_pixels
from heyan.pipeline.metadata import MetadataError, read_pose
from heyan.serve.processing import PhotoRef

MAP_KEY = "photos_map"  # the summary key
OUTLINE_POINTS = 24  # footprint outlines are thinned to about this many points: the summary stays small

# Substrings of the pipeline's reasons (pipeline.images, pipeline.metadata, pipeline.ingest)
# -> the code the viewer translates. First match wins; "other" keeps the server's text.
_REJECT_CODES: tuple[tuple[str, str], ...] = (
    ("file is empty", "corrupt"),
    ("JPEG is truncated", "corrupt"),
    ("cannot decode", "corrupt"),
    ("cannot determine the image size", "corrupt"),
    ("exceeds the limit", "too_large"),
    ("file too large", "too_large"),
    ("no GPS position", "no_gps"),
    ("GPS position is 0, 0", "no_gps"),
    ("GPS position out of range", "bad_gps"),
    ("no camera attitude", "no_attitude"),
    ("cannot georeference", "no_georef"),
    ("cannot read file", "unreadable"),
    ("file not found", "unreadable"),
    ("is a directory", "unreadable"),
)


def reject_code(reason: str | None) -> str:
    """The stable code of a rejection reason (see _REJECT_CODES); 'other' if none matches."""
    text = reason or ""
    for needle, code in _REJECT_CODES:
        if needle in text:
            return code
    return "other"


def _round(points: Any) -> list[list[float]]:
    return [[round(float(lon), 7), round(float(lat), 7)] for lon, lat in points]


def _thin(coords: list[Any]) -> list[Any]:
    step = max(1, len(coords) // OUTLINE_POINTS)
    out = coords[::step]
    return out if out[-1] == coords[-1] else [*out, coords[-1]]


def image_corners(path: Path) -> tuple[list[list[float]] | None, list[float] | None]:
    """Ground (lon, lat) of the image's top-left, top-right, bottom-right and bottom-left
    corners on the default ground plane (as the server's ingest places finds), or None where
    a corner has no ground point (an oblique view above the horizon); and the drone's place."""
    try:
        pose = read_pose(path)
    except MetadataError:
        return None, None
    place = [round(float(pose.lon), 7), round(float(pose.lat), 7)] if pose.has_position else None
    if not pose.width or not pose.height:
        return None, place
    w, h = float(pose.width), float(pose.height)
    try:
        res = project_pixels(pose, np.array([[0, 0], [w, 0], [w, h], [0, h]]), GroundPlane(), GeorefSettings(),
                             with_errors=False)
    except PoseError:
        return None, place
    if not bool(np.all(res.ok)):
        return None, place
    return _round(zip(res.lon, res.lat)), place


def photos_map(footprints_geojson: Path, by_path: dict[str, PhotoRef]) -> list[dict[str, Any]]:
    """One entry per used photo with a footprint, in time order (the track)."""
    if not footprints_geojson.is_file():
        return []
    doc = json.loads(footprints_geojson.read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = []
    for f in doc.get("features", []):
        props = f.get("properties") or {}
        image = str(props.get("image") or "")
        ref = by_path.get(image)
        geom = f.get("geometry") or {}
        if ref is None or geom.get("type") != "Polygon":
            continue
        corners, place = image_corners(Path(image))
        out.append({"name": ref.name, "sha256": ref.sha256, "time": props.get("time"),
                    "off_river": bool(props.get("off_river")), "detections": int(props.get("detections") or 0),
                    "outline": _round(_thin(geom["coordinates"][0])), "corners": corners, "position": place})
    out.sort(key=lambda e: (e["time"] or "", e["name"]))
    return out
