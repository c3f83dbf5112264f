"""The photo container (JPEG or TIFF) and the EXIF tags inside it.

Everything here reads untrusted bytes: lengths and offsets are checked against the data
actually present, loops are bounded, and nothing is decoded beyond the headers. The image
size is taken from the stored image itself (JPEG SOF marker, TIFF IFD), never from EXIF
alone: EXIF pixel dimensions often survive a resize unchanged.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any, BinaryIO

import exifread

from heyan.vision.common import InputError

# XMP packets and EXIF blocks larger than this are not metadata any more but an attack or
# a broken file; refusing them keeps memory bounded.
MAX_SEGMENT_BYTES = 4 * 1024 * 1024
# A TIFF is read whole (its IFDs may point anywhere); beyond this size we refuse.
MAX_TIFF_BYTES = 512 * 1024 * 1024
# How far into a JPEG to look for an XMP packet when the segment walk did not find one.
XMP_SCAN_BYTES = 4 * 1024 * 1024

_XMP_APP1_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_EXIF_APP1_HEADER = b"Exif\x00\x00"
# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xD8)])

# exifread logs a warning for every oddity in a damaged file; one bad photo in a flight of
# a thousand should not flood the operator's terminal.
logging.getLogger("exifread").setLevel(logging.ERROR)


class ContainerError(InputError):
    """The bytes are not a JPEG or TIFF we can read the header of."""


@dataclass
class Container:
    kind: str  # "jpeg" or "tiff"
    width: int | None = None  # of the stored (main) image
    height: int | None = None
    exif_tiff: bytes | None = None  # a TIFF stream holding the EXIF IFDs
    xmp: bytes | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ExifFacts:
    make: str | None = None
    model: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    time: datetime | None = None
    focal_mm: float | None = None
    focal_35mm: float | None = None
    pixel_width: int | None = None  # EXIF PixelXDimension: the size as captured
    pixel_height: int | None = None
    orientation: int | None = None
    digital_zoom: float | None = None
    gps_time: datetime | None = None  # UTC, from GPSDateStamp + GPSTimeStamp


# --------------------------------------------------------------------------- container


def read_container(fh: BinaryIO) -> Container:
    """Read the header of a JPEG or TIFF file: stored size, EXIF block, XMP packet."""
    head = fh.read(8)
    if head[:2] == b"\xff\xd8":
        return _read_jpeg(fh)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _read_tiff(head + fh.read(MAX_TIFF_BYTES + 1 - len(head)))
    if not head:
        raise ContainerError("empty file")
    raise ContainerError("not a JPEG or TIFF image")


def _read_jpeg(fh: BinaryIO) -> Container:
    box = Container(kind="jpeg")
    fh.seek(2)
    # A JPEG has a few dozen header segments; the bound stops a crafted file of millions
    # of empty segments from keeping us busy.
    for _ in range(10_000):
        marker = _next_marker(fh)
        if marker is None or marker == 0xD9:  # end of data or EOI before any scan
            break
        if marker in _STANDALONE_MARKERS:
            continue
        raw_len = fh.read(2)
        if len(raw_len) < 2:
            break
        seg_len = struct.unpack(">H", raw_len)[0] - 2
        if seg_len < 0:
            box.notes.append("bad JPEG segment length")
            break
        if marker == 0xDA:  # start of scan: the headers are over
            break
        if marker in _SOF_MARKERS or marker == 0xE1:
            _take_segment(box, marker, fh.read(seg_len))
        else:
            fh.seek(seg_len, io.SEEK_CUR)
    if box.xmp is None:
        # XMP outside a well-formed APP1 (broken segment chain, odd writers): look for
        # the packet itself in the first few megabytes.
        fh.seek(0)
        box.xmp = find_xmp_packet(fh.read(XMP_SCAN_BYTES))
    return box


def _next_marker(fh: BinaryIO) -> int | None:
    b = fh.read(1)
    if b != b"\xff":
        return None
    # Any number of 0xFF fill bytes may precede a marker code.
    for _ in range(65536):
        b = fh.read(1)
        if not b:
            return None
        if b != b"\xff":
            return b[0]
    return None


def _take_segment(box: Container, marker: int, seg: bytes) -> None:
    if marker in _SOF_MARKERS:
        if box.width is None and len(seg) >= 5:
            height, width = struct.unpack(">HH", seg[1:5])
            # Height 0 means "defined later by a DNL marker": leave it to the decoder.
            if width and height:
                box.width, box.height = width, height
    elif seg.startswith(_EXIF_APP1_HEADER) and box.exif_tiff is None:
        box.exif_tiff = seg[len(_EXIF_APP1_HEADER):]
    elif seg.startswith(_XMP_APP1_HEADER) and box.xmp is None:
        box.xmp = seg[len(_XMP_APP1_HEADER):]


def _read_tiff(data: bytes) -> Container:
    if len(data) > MAX_TIFF_BYTES:
        raise ContainerError(f"TIFF larger than {MAX_TIFF_BYTES // 2**20} MB")
    box = Container(kind="tiff", exif_tiff=data)
    try:
        ifd = _TiffReader(data).main_image_tags()
    except (struct.error, IndexError, ValueError) as exc:
        box.notes.append(f"TIFF IFD unreadable: {exc}")
        ifd = {}
    box.width, box.height = ifd.get(256), ifd.get(257)
    xmp = ifd.get(700)
    box.xmp = xmp if isinstance(xmp, bytes) else find_xmp_packet(data[:XMP_SCAN_BYTES])
    return box


class _TiffReader:
    """Just enough of TIFF to find the main image's size and its XMP tag (700)."""

    _TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1, 9: 4, 13: 4, 16: 8}

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.endian = "<" if data[:2] == b"II" else ">"

    def _u(self, fmt: str, offset: int) -> int:
        return struct.unpack_from(self.endian + fmt, self.data, offset)[0]

    def read_ifd(self, offset: int) -> tuple[dict[int, Any], int]:
        if not 8 <= offset < len(self.data):
            raise ValueError(f"IFD offset {offset} outside the file")
        count = self._u("H", offset)
        tags: dict[int, Any] = {}
        for i in range(count):
            entry = offset + 2 + 12 * i
            tag, typ, n = self._u("H", entry), self._u("H", entry + 2), self._u("I", entry + 4)
            size = self._TYPE_SIZES.get(typ)
            if size is None or n == 0:
                continue
            total = size * n
            pos = entry + 8 if total <= 4 else self._u("I", entry + 8)
            if pos + total > len(self.data) or total > MAX_SEGMENT_BYTES:
                continue
            if tag == 700:
                tags[tag] = self.data[pos:pos + total]
            elif typ in (3, 4, 13) and n >= 1:
                fmt = "H" if typ == 3 else "I"
                tags[tag] = [self._u(fmt, pos + size * k) for k in range(min(n, 64))]
                if len(tags[tag]) == 1:
                    tags[tag] = tags[tag][0]
        return tags, self._u("I", offset + 2 + 12 * count)

    def main_image_tags(self) -> dict[int, Any]:
        tags, _ = self.read_ifd(self._u("I", 4))
        # IFD0 of a DNG-like file is a reduced-size preview (NewSubfileType bit 0); the
        # full image is then one of its SubIFDs (tag 330).
        if isinstance(tags.get(254), int) and tags[254] & 1:
            subs = tags.get(330)
            for sub in (subs if isinstance(subs, list) else [subs])[:8]:
                if isinstance(sub, int):
                    sub_tags, _ = self.read_ifd(sub)
                    if not (isinstance(sub_tags.get(254), int) and sub_tags[254] & 1):
                        sub_tags.setdefault(700, tags.get(700))
                        return sub_tags
        return tags


def find_xmp_packet(data: bytes, max_bytes: int = MAX_SEGMENT_BYTES) -> bytes | None:
    """The first ``<x:xmpmeta ...>...</x:xmpmeta>`` in ``data``, if short enough."""
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        return None
    end = data.find(b"</x:xmpmeta>", start, start + max_bytes)
    if end < 0:
        return None
    return data[start:end + len(b"</x:xmpmeta>")]


# --------------------------------------------------------------------------- EXIF tags


def read_exif(tiff_stream: bytes | None) -> tuple[ExifFacts, str | None]:
    """EXIF facts from a TIFF stream; a reason instead when the block is unreadable."""
    facts = ExifFacts()
    if not tiff_stream:
        return facts, None
    if len(tiff_stream) > MAX_TIFF_BYTES:
        return facts, "EXIF block too large"
    try:
        tags = exifread.process_file(io.BytesIO(tiff_stream), details=False, extract_thumbnail=False)
    except Exception as exc:  # noqa: BLE001 - exifread raises anything on crafted input
        return facts, f"EXIF unreadable ({type(exc).__name__})"
    try:
        _fill_facts(facts, tags)
    except (ValueError, TypeError, ArithmeticError, IndexError, OverflowError) as exc:
        return facts, f"EXIF values unreadable ({type(exc).__name__})"
    return facts, None


def _fill_facts(f: ExifFacts, tags: dict[str, Any]) -> None:
    f.make = _text(tags.get("Image Make"))
    f.model = _text(tags.get("Image Model"))
    f.lat = _gps_coord(tags.get("GPS GPSLatitude"), tags.get("GPS GPSLatitudeRef"), "S")
    f.lon = _gps_coord(tags.get("GPS GPSLongitude"), tags.get("GPS GPSLongitudeRef"), "W")
    alt = _number(tags.get("GPS GPSAltitude"))
    if alt is not None and _first_int(tags.get("GPS GPSAltitudeRef")) == 1:
        alt = -alt  # ref 1: below sea level
    f.alt_m = alt
    f.time = _exif_time(tags)
    f.gps_time = _gps_time(tags.get("GPS GPSDate"), tags.get("GPS GPSTimeStamp"))
    f.focal_mm = _positive(_number(tags.get("EXIF FocalLength")))
    f.focal_35mm = _positive(_number(tags.get("EXIF FocalLengthIn35mmFilm")))
    f.pixel_width = _positive_int(tags.get("EXIF ExifImageWidth"))
    f.pixel_height = _positive_int(tags.get("EXIF ExifImageLength"))
    f.orientation = _first_int(tags.get("Image Orientation"))
    f.digital_zoom = _positive(_number(tags.get("EXIF DigitalZoomRatio")))


def _values(tag: Any) -> list[Any]:
    if tag is None:
        return []
    vals = getattr(tag, "values", tag)
    if isinstance(vals, (str, bytes)):
        return [vals]
    try:
        return list(vals)
    except TypeError:
        return [vals]


def _text(tag: Any) -> str | None:
    vals = _values(tag)
    if not vals or not isinstance(vals[0], (str, bytes)):
        return None
    s = vals[0].decode("latin-1") if isinstance(vals[0], bytes) else vals[0]
    s = s.replace("\x00", "").strip()
    return s or None


def _to_float(v: Any) -> float | None:
    try:
        if isinstance(v, Fraction):
            if v.denominator == 0:
                return None
            return v.numerator / v.denominator
        if isinstance(v, (int, float)):
            x = float(v)
            return x if x == x and abs(x) != float("inf") else None
    except (ZeroDivisionError, OverflowError):
        return None
    return None


def _number(tag: Any) -> float | None:
    vals = _values(tag)
    return _to_float(vals[0]) if vals else None


def _first_int(tag: Any) -> int | None:
    vals = _values(tag)
    return vals[0] if vals and isinstance(vals[0], int) else None


def _positive(x: float | None) -> float | None:
    return x if x is not None and x > 0 else None


def _positive_int(tag: Any) -> int | None:
    v = _first_int(tag)
    return v if v is not None and v > 0 else None


def _gps_coord(tag: Any, ref_tag: Any, negative_ref: str) -> float | None:
    parts = [_to_float(v) for v in _values(tag)[:3]]
    if not parts or any(p is None for p in parts):
        return None
    deg = sum(p / 60**i for i, p in enumerate(parts))
    ref = (_text(ref_tag) or "").upper()[:1]
    if ref not in ("N", "S", "E", "W"):
        return deg  # no hemisphere: trust a signed value, as exiftool does
    # Some writers put the sign in the degrees as well as in the ref; the ref decides.
    return -abs(deg) if ref == negative_ref else abs(deg)


def _exif_time(tags: dict[str, Any]) -> datetime | None:
    for key, sub, off in (
        ("EXIF DateTimeOriginal", "EXIF SubSecTimeOriginal", "EXIF OffsetTimeOriginal"),
        ("EXIF DateTimeDigitized", "EXIF SubSecTimeDigitized", "EXIF OffsetTimeDigitized"),
        ("Image DateTime", "EXIF SubSecTime", "EXIF OffsetTime"),
    ):
        t = parse_exif_datetime(_text(tags.get(key)), _text(tags.get(sub)), _text(tags.get(off)))
        if t is not None:
            return t
    return None


def parse_exif_datetime(value: str | None, subsec: str | None = None, offset: str | None = None) -> datetime | None:
    """``2021:05:28 10:33:46`` (+ sub-seconds ``481`` + offset ``+08:00``) -> datetime."""
    if not value:
        return None
    try:
        t = datetime.strptime(value.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if subsec and subsec.strip().isdigit():
        digits = subsec.strip()[:6]
        t = t.replace(microsecond=int(digits.ljust(6, "0")))
    tz = parse_utc_offset(offset)
    return t.replace(tzinfo=tz) if tz else t


def parse_utc_offset(text: str | None) -> timezone | None:
    if not text or len(text.strip()) != 6:
        return None
    s = text.strip()
    if s[0] not in "+-" or s[3] != ":" or not (s[1:3] + s[4:6]).isdigit():
        return None
    minutes = int(s[1:3]) * 60 + int(s[4:6])
    if minutes >= 24 * 60:
        return None
    return timezone(timedelta(minutes=-minutes if s[0] == "-" else minutes))


def _gps_time(date_tag: Any, time_tag: Any) -> datetime | None:
    date = _text(date_tag)
    hms = [_to_float(v) for v in _values(time_tag)[:3]]
    if not date or len(hms) != 3 or any(v is None for v in hms):
        return None
    try:
        day = datetime.strptime(date[:10], "%Y:%m:%d")
        secs = hms[0] * 3600 + hms[1] * 60 + hms[2]  # type: ignore[operator]
        if not 0 <= secs < 86400 + 1:
            return None
        return (day + timedelta(seconds=secs)).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
