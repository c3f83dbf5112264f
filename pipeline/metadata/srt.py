"""DJI video telemetry (``.SRT`` subtitles) -> timed poses, with interpolation.

DJI has changed the subtitle text with nearly every aircraft. The variants handled here:

- bracketed ``[latitude: 41.42] [longitude: 2.16] [rel_alt: 1.2 abs_alt: 140.2]`` (Mavic 3,
  Mini 3, M30/M3E with ``[gb_yaw: .. gb_pitch: .. gb_roll: ..]``); Mavic 2 spells it
  ``longtitude``; Air 2 / 2S / Mavic 2 write ``[altitude: ..]``, an absolute altitude;
- tuples ``GPS(lon,lat,satellites) BAROMETER:1.9`` (Mavic Pro, Phantom 4, ``Hb:`` on the
  oldest firmware) and ``GPS (lon, lat, satellites), H 85.8m, F.PRY (p°, r°, y°),
  G.PRY (p°, r°, y°)`` (Phantom 4 RTK / Pro, Mini). The tuple is longitude first; the one
  exception is the Matrice 300, ``GPS(lat,lon,0.0M)``, recognised by the unit on its
  third field;
- blocks without time codes (early Mavic 2 firmware): the time comes from the date lines.

Cues without a usable position (``GPS(N/A,N/A,3)``, 0/0 before the first fix) are
skipped; :meth:`SrtTrack.pose_at` interpolates across them and reports the gap.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.common import InputError, unreadable_reason

MAX_SRT_BYTES = 256 * 1024 * 1024
# Cue start beyond ~4 days is garbage, not a video.
_MAX_T_S = 4 * 86400.0

_NUM = r"[-+]?\d{1,12}(?:\.\d{1,12})?"
_TIMECODE = re.compile(
    r"(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3})[ \t]*-->[ \t]*(?:(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3}))?")
_DATE = re.compile(
    r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})[ T]{1,3}(\d{1,2}):(\d{2}):(\d{2})(?:[.,:](\d{1,3}))?(?:,(\d{1,3}))?")
_KEYED = re.compile(
    rf"\b(latitude|longt?itude|rel_alt|abs_alt|altitude|gb_yaw|gb_pitch|gb_roll|focal_len)"
    rf"[ \t]{{0,3}}:[ \t]{{0,3}}({_NUM})",
    re.IGNORECASE)
_TUPLE = re.compile(r"\b(GPS|HOME|F\.PRY|G\.PRY)[ \t]{0,3}\(([^()\n]{0,120})\)", re.IGNORECASE)
_REL_ALT = re.compile(rf"(?:\bBAROMETER[ \t]{{0,3}}:|\bHb[ \t]{{0,3}}:|\bH[ \t]{{1,3}}(?=[-+\d]))[ \t]{{0,3}}({_NUM})")
_TAG = re.compile(r"<[^<>\n]{0,200}>")
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_INDEX = re.compile(r"\s{0,8}(\d{1,9})[ \t]*\n")


class SrtError(InputError):
    """A telemetry file that gives no usable track. ``str()`` names file and reason."""

    def __init__(self, file: str | os.PathLike[str], reason: str) -> None:
        self.file = str(file)
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")


@dataclass
class SrtSample:
    t_s: float  # offset into the video
    lat: float
    lon: float
    rel_alt_m: float | None = None
    abs_alt_m: float | None = None
    gimbal_yaw: float | None = None
    gimbal_pitch: float | None = None
    gimbal_roll: float | None = None
    flight_yaw: float | None = None
    flight_pitch: float | None = None
    flight_roll: float | None = None
    time: datetime | None = None
    focal_35mm: float | None = None  # 35 mm equivalent focal length, where given
    until_s: float | None = None  # end of the cue: the reading holds until then


@dataclass
class SrtTrack:
    file: str
    samples: list[SrtSample]  # with a position, sorted by t_s, at least one
    cues: int = 0  # cues read, with or without a position
    home: tuple[float, float] | None = None  # (lat, lon) of the take-off point, if given
    _times: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._times = [s.t_s for s in self.samples]

    @property
    def start_s(self) -> float:
        return self._times[0]

    @property
    def end_s(self) -> float:
        """Where the telemetry stops: the end of the last cue with a position."""
        last = self.samples[-1]
        return max(last.t_s, last.until_s or last.t_s)

    def pose_at(self, t_s: float, tolerance_s: float = 0.1) -> CameraPose:
        """Pose at ``t_s`` seconds into the video, linearly interpolated between cues.

        Never extrapolates: before the first and after the last reading the nearest one
        holds, and only up to ``tolerance_s`` outside the telemetry's time span.
        """
        if not math.isfinite(t_s) or not (self.start_s - tolerance_s <= t_s <= self.end_s + tolerance_s):
            raise SrtError(self.file, f"t={t_s:.3f}s is outside the telemetry "
                                      f"({self.start_s:.3f}s to {self.end_s:.3f}s)")
        i = bisect.bisect_right(self._times, t_s)
        a = self.samples[max(i - 1, 0)]
        b = self.samples[min(i, len(self.samples) - 1)]
        span = b.t_s - a.t_s
        frac = 0.0 if span <= 0 else min(max((t_s - a.t_s) / span, 0.0), 1.0)
        pose = CameraPose(
            file=f"{self.file}#t={t_s:.3f}",
            lat=_lerp(a.lat, b.lat, frac),
            lon=_lerp(a.lon, b.lon, frac),
            rel_alt_m=_lerp_opt(a.rel_alt_m, b.rel_alt_m, frac),
            abs_alt_m=_lerp_opt(a.abs_alt_m, b.abs_alt_m, frac),
            gimbal_yaw=_lerp_angle(a.gimbal_yaw, b.gimbal_yaw, frac),
            gimbal_pitch=_lerp_opt(a.gimbal_pitch, b.gimbal_pitch, frac),
            gimbal_roll=_lerp_opt(a.gimbal_roll, b.gimbal_roll, frac),
            flight_yaw=_lerp_angle(a.flight_yaw, b.flight_yaw, frac),
            flight_pitch=_lerp_opt(a.flight_pitch, b.flight_pitch, frac),
            flight_roll=_lerp_opt(a.flight_roll, b.flight_roll, frac),
            time=_lerp_time(a.time, b.time, frac),
        )
        pose.extra = {"video_t_s": t_s, "srt_gap_s": round(span, 3)}
        f35 = a.focal_35mm if frac < 0.5 else b.focal_35mm
        if f35:
            pose.extra["focal_35mm"] = f35
        return pose


# --------------------------------------------------------------------------- interpolation


def _lerp(a: float, b: float, f: float) -> float:
    return a + (b - a) * f


def _lerp_opt(a: float | None, b: float | None, f: float) -> float | None:
    if a is None or b is None:
        return a if f < 0.5 else b  # nearest known value; None stays None
    return _lerp(a, b, f)


def _lerp_angle(a: float | None, b: float | None, f: float) -> float | None:
    if a is None or b is None:
        return _lerp_opt(a, b, f)
    # Yaw wraps at +-180: going from 179 to -179 is a 2 degree turn, not 358.
    d = (b - a + 180.0) % 360.0 - 180.0
    out = a + d * f
    # Wrap back into (-180, 180] only when needed, so exact readings stay exact.
    if out > 180.0:
        out -= 360.0
    elif out <= -180.0:
        out += 360.0
    return out


def _lerp_time(a: datetime | None, b: datetime | None, f: float) -> datetime | None:
    if a is None or b is None:
        return a if f < 0.5 else b
    return a + (b - a) * f


# --------------------------------------------------------------------------- parsing


def parse_srt(path: str | os.PathLike[str]) -> SrtTrack:
    """Read a DJI ``.SRT`` file; SrtError if it holds no usable position."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SRT_BYTES:
            raise SrtError(p, f"larger than {MAX_SRT_BYTES // 2**20} MB: not a subtitle file")
        data = p.read_bytes()
    except OSError as exc:
        raise SrtError(p, unreadable_reason(exc, "an SRT file")) from None
    return parse_srt_bytes(data, str(p))


def parse_srt_bytes(data: bytes, name: str) -> SrtTrack:
    if len(data) > MAX_SRT_BYTES:
        raise SrtError(name, f"larger than {MAX_SRT_BYTES // 2**20} MB: not a subtitle file")
    text = None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 subtitles exist in the wild (re-saved by Windows editors); DJI writes UTF-8.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    if text is None:
        text = data.decode("utf-8-sig", errors="replace")
    return parse_srt_text(text, name)


def parse_srt_text(text: str, name: str) -> SrtTrack:
    text = _TAG.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks = _timed_blocks(text) or _dated_blocks(text)
    if not blocks:
        raise SrtError(name, "no subtitle cues with a time code or date found")
    samples: dict[float, SrtSample] = {}
    home = None
    for t_s, until_s, block in blocks:
        sample, block_home = _parse_block(t_s, block)
        home = home or block_home
        if sample is not None and t_s not in samples:
            sample.until_s = until_s
            samples[t_s] = sample
    if not samples:
        raise SrtError(name, f"no GPS position in any of {len(blocks)} cues")
    ordered = [samples[t] for t in sorted(samples)]
    return SrtTrack(file=name, samples=ordered, cues=len(blocks), home=home)


def _timed_blocks(text: str) -> list[tuple[float, float | None, str]]:
    marks = list(_TIMECODE.finditer(text))
    blocks = []
    for k, m in enumerate(marks):
        start, until = _seconds(*m.groups()[:4]), _seconds(*m.groups()[4:])
        if start is None:
            continue
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        blocks.append((start, until if until is not None and until >= start else None, text[m.end():end]))
    return blocks


def _seconds(h: str | None, mi: str | None, s: str | None, ms: str | None) -> float | None:
    if h is None or mi is None or s is None or ms is None or int(mi) >= 60 or int(s) >= 60:
        return None
    return int(h) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _dated_blocks(text: str) -> list[tuple[float, float | None, str]]:
    """Blocks separated by blank lines, timed by their date lines.

    The date has one-second jumps and repeats (the clock is not the video's), so when the
    blocks are numbered the number gives the time, at the mean rate of the dates.
    """
    dated: list[tuple[int | None, datetime, str]] = []
    for block in _BLANK_LINES.split(text):
        when = _parse_date(block)
        if when is not None:
            m = _INDEX.match(block)
            dated.append((int(m.group(1)) if m else None, when, block))
    if not dated:
        return []
    first = dated[0][1]
    indices = [i for i, _, _ in dated]
    span_s = (dated[-1][1] - first).total_seconds()
    numbered = None not in indices and len(dated) > 1 and \
        all(a < b for a, b in zip(indices, indices[1:], strict=False)) and span_s > 0  # type: ignore[operator]
    step = span_s / (len(dated) - 1) if len(dated) > 1 else 0.0
    blocks: list[tuple[float, float | None, str]] = []
    for idx, when, block in dated:
        t = ((idx - indices[0]) * span_s / (indices[-1] - indices[0])  # type: ignore[operator]
             if numbered else (when - first).total_seconds())
        if 0 <= t <= _MAX_T_S:
            blocks.append((t, t + step, block))
    return blocks


def _parse_date(block: str) -> datetime | None:
    m = _DATE.search(block)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    ms, us = m.group(7), m.group(8)
    micro = (int(ms.ljust(3, "0")) * 1000 if ms else 0) + (int(us.ljust(3, "0")) if us and ms else 0)
    try:
        return datetime(y, mo, d, h, mi, s) + timedelta(microseconds=micro)
    except (ValueError, OverflowError):
        return None


def _parse_block(t_s: float, block: str) -> tuple[SrtSample | None, tuple[float, float] | None]:
    raw: dict[str, str] = {}
    for m in _KEYED.finditer(block):
        key = m.group(1).lower()
        raw.setdefault("longitude" if key.startswith("long") else key, m.group(2))
    keyed = {k: float(v) for k, v in raw.items()}
    tuples = {m.group(1).upper(): m.group(2) for m in _TUPLE.finditer(block)}
    lat, lon = keyed.get("latitude"), keyed.get("longitude")
    if lat is None or lon is None:
        lat, lon = _gps_tuple(tuples.get("GPS"))
    home = _gps_tuple(tuples.get("HOME"), m300_rule=False)
    if not _valid_position(lat, lon):
        return None, home if _valid_position(*home) else None
    sample = SrtSample(t_s=t_s, lat=lat, lon=lon, time=_parse_date(block))  # type: ignore[arg-type]
    sample.abs_alt_m = _altitude(keyed.get("abs_alt", keyed.get("altitude")))
    rel = keyed.get("rel_alt")
    if rel is None:
        m = _REL_ALT.search(block)
        rel = float(m.group(1)) if m else None
    sample.rel_alt_m = _altitude(rel)
    sample.gimbal_yaw = _angle(keyed.get("gb_yaw"))
    sample.gimbal_pitch = _angle(keyed.get("gb_pitch"))
    sample.gimbal_roll = _angle(keyed.get("gb_roll"))
    _set_pry(sample, tuples.get("F.PRY"), "flight")
    _set_pry(sample, tuples.get("G.PRY"), "gimbal")
    sample.focal_35mm = _focal_35mm(raw.get("focal_len"))
    return sample, home if _valid_position(*home) else None


def _numbers(inner: str | None) -> list[float | None]:
    """``"-58.85, -34.23, 15"`` / ``"36.6,-6.1,0.0M"`` / ``"N/A,N/A,3"`` -> numbers or None."""
    if not inner:
        return []
    out: list[float | None] = []
    for part in inner.split(",")[:4]:
        m = re.match(rf"\s*({_NUM})", part)
        out.append(float(m.group(1)) if m else None)
    return out


def _gps_tuple(inner: str | None, m300_rule: bool = True) -> tuple[float | None, float | None]:
    nums = _numbers(inner)
    if len(nums) < 2 or nums[0] is None or nums[1] is None:
        return None, None
    a, b = nums[0], nums[1]
    parts = inner.split(",") if inner else []
    # Matrice 300: GPS(lat,lon,0.0M). Everyone else: (lon, lat, satellites).
    lat_first = m300_rule and len(parts) >= 3 and re.search(r"\d\s*[Mm]\s*$", parts[2]) is not None
    lat, lon = (a, b) if lat_first else (b, a)
    if abs(lat) > 90 >= abs(lon):  # the order rule failed for this writer; the range can't
        lat, lon = lon, lat
    return lat, lon


def _valid_position(lat: float | None, lon: float | None) -> bool:
    if lat is None or lon is None:
        return False
    if lat == 0 and lon == 0:  # no fix yet
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180


def _set_pry(sample: SrtSample, inner: str | None, which: str) -> None:
    nums = _numbers(inner)
    if len(nums) < 3:
        return
    pitch, roll, yaw = (_angle(v) for v in nums[:3])
    setattr(sample, f"{which}_pitch", pitch)
    setattr(sample, f"{which}_roll", roll)
    setattr(sample, f"{which}_yaw", yaw)


def _angle(x: float | None) -> float | None:
    return x if x is not None and abs(x) <= 360 else None


def _altitude(x: float | None) -> float | None:
    return x if x is not None and abs(x) < 100_000 else None


def _focal_35mm(text: str | None) -> float | None:
    x = float(text) if text else 0.0
    if x <= 0:
        return None
    # Up to the Air 2S DJI writes ten times the focal length as an integer ("240" = 24 mm);
    # from the Mavic 3 on it is a plain decimal ("24.00", "162.00" on the tele camera).
    return x if "." in (text or "") else x / 10
