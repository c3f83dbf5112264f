"""Video + SRT telemetry -> geotagged JPEG frames, so a video flight runs like a photo flight.

Each sampled frame is written as a JPEG carrying its interpolated pose in a DJI-style XMP
packet (``drone-dji:GpsLatitude`` ...), so :func:`pipeline.metadata.read_pose` reads it
like any drone photo, and ``frames.jsonl`` lists one pose per frame.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from heyan.pipeline.metadata.pose import CameraPose
from heyan.pipeline.metadata.srt import SrtError, SrtTrack
from heyan.vision.common import InputError, atomic_write

FRAMES_INDEX = "frames.jsonl"
_XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min)?\s*$", re.IGNORECASE)


class FramesError(InputError):
    """The video cannot be sampled. ``str()`` names the file and the reason."""

    def __init__(self, file: str | os.PathLike[str], reason: str) -> None:
        self.file = str(file)
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")


def parse_interval(text: str) -> float:
    """``"2s"``, ``"500ms"``, ``"1.5"`` (seconds), ``"1m"`` -> seconds (> 0)."""
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"cannot read interval {text!r}: use e.g. 2s, 500ms or 1m")
    value = float(m.group(1))
    unit = (m.group(2) or "s").lower()
    seconds = value / 1000 if unit == "ms" else value * 60 if unit in ("m", "min") else value
    if seconds <= 0:
        raise ValueError(f"interval must be positive, got {text!r}")
    return seconds


def sample_frames(video: Path, track: SrtTrack, every_s: float, out_dir: Path,
                  jpeg_quality: int = 92) -> list[CameraPose]:
    """Write one JPEG every ``every_s`` seconds of ``video`` plus ``frames.jsonl``."""
    import cv2  # lazy: only this command needs video decoding

    if every_s <= 0 or not math.isfinite(every_s):
        raise ValueError("every_s must be a positive number of seconds")
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise FramesError(video, "cannot open video (unknown format or damaged file)")
    out_dir.mkdir(parents=True, exist_ok=True)
    poses: list[CameraPose] = []
    try:
        fps = cap.get(cv2.CAP_PROP_FPS)
        if not (fps and math.isfinite(fps) and fps > 0):
            raise FramesError(video, "video reports no frame rate")
        next_t, index = 0.0, 0
        # Read frame by frame rather than seeking: seeking in long-GOP video lands on the
        # nearest key frame in many backends, so the pose would belong to another frame.
        while cap.grab():
            t = index / fps
            index += 1
            if t + 0.5 / fps < next_t:
                continue
            next_t += every_s * max(1, math.floor((t + 0.5 / fps - next_t) / every_s) + 1)
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                continue
            pose = _frame_pose(track, video, t, frame.shape[1], frame.shape[0])
            if pose is None:
                continue
            path = out_dir / f"{video.stem}_{round(t * 1000):08d}ms.jpg"
            pose.file = str(path)
            _write_frame(path, frame, pose, jpeg_quality)
            poses.append(pose)
    finally:
        cap.release()
    _write_index(out_dir / FRAMES_INDEX, poses)
    return poses


def _frame_pose(track: SrtTrack, video: Path, t: float, width: int, height: int) -> CameraPose | None:
    try:
        pose = track.pose_at(t)
    except SrtError:
        return None  # the video runs longer than its telemetry: such frames have no place
    pose.width, pose.height = width, height
    pose.cx, pose.cy = width / 2, height / 2
    f35 = pose.extra.get("focal_35mm")
    if f35:
        pose.focal_px = f35 / 36.0 * max(width, height)
        pose.focal_source = "srt_focal_35mm"
    pose.extra["video"] = str(video)
    return pose


def _write_frame(path: Path, frame: Any, pose: CameraPose, quality: int) -> None:
    import cv2

    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise FramesError(path, "JPEG encoding failed")
    # A crash mid-write must not leave a half JPEG that a later run takes for a frame; no
    # fsync: the video can give the frame again.
    atomic_write(path, insert_xmp(buf.tobytes(), pose_xmp(pose)), durable=False)


def insert_xmp(jpeg: bytes, packet: bytes) -> bytes:
    """Put an XMP APP1 segment right after the JPEG's SOI marker."""
    payload = _XMP_APP1_HEADER + packet
    if not jpeg.startswith(b"\xff\xd8") or len(payload) + 2 > 0xFFFF:
        raise ValueError("not a JPEG, or XMP packet too large for one segment")
    return jpeg[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def pose_xmp(pose: CameraPose) -> bytes:
    """A DJI-style XMP packet with the pose's position, altitudes, angles and time."""
    fields = {
        "GpsLatitude": pose.lat, "GpsLongitude": pose.lon,
        "AbsoluteAltitude": pose.abs_alt_m, "RelativeAltitude": pose.rel_alt_m,
        "GimbalYawDegree": pose.gimbal_yaw, "GimbalPitchDegree": pose.gimbal_pitch,
        "GimbalRollDegree": pose.gimbal_roll, "FlightYawDegree": pose.flight_yaw,
        "FlightPitchDegree": pose.flight_pitch, "FlightRollDegree": pose.flight_roll,
    }
    attrs = [f"drone-dji:{k}={quoteattr(f'{v:+.9f}'.rstrip('0').rstrip('.'))}"
             for k, v in fields.items() if v is not None]
    attrs.append('xmp:CreatorTool="heyan frames"')
    if isinstance(pose.time, datetime):
        attrs.append(f"exif:DateTimeOriginal={quoteattr(pose.time.isoformat())}")
    f35 = pose.extra.get("focal_35mm")
    if f35:
        attrs.append(f"exif:FocalLengthIn35mmFilm={quoteattr(f'{f35:g}')}")
    body = "\n   ".join(attrs)
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"\n'
        '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f"   {body}/>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>"
    ).encode()


def _write_index(path: Path, poses: list[CameraPose]) -> None:
    lines = [json.dumps(p.to_json_dict(), ensure_ascii=False, default=str) for p in poses]
    atomic_write(path, "\n".join(lines) + ("\n" if lines else ""))
