"""Shared helpers for pipeline tests: where the shared real data lives, exiftool readings,
and a tiny EXIF/TIFF/XMP writer to build photos with exactly the metadata a test needs.

The writer is deliberately independent of the code under test (it shares nothing with
``pipeline.metadata.exif`` / ``pipeline.metadata.frames``), so a bug cannot cancel itself out.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def data_dir(name: str) -> Path:
    """A folder of ../shared/data, or skip the test with a clear message."""
    path = DATA / name
    if not path.is_dir():
        pytest.skip(f"shared real data not found at {path} (../shared/data beside the repo)")
    return path


@pytest.fixture
def thermal_dir() -> Path:
    return data_dir("dji-thermal-xmp")


@pytest.fixture
def srt_dir() -> Path:
    return data_dir("dji-srt")


@pytest.fixture(scope="session")
def mk() -> SimpleNamespace:
    """The builders below, as a fixture: test modules here are not a package, so they
    cannot import this file reliably once other folders have a conftest.py too."""
    return SimpleNamespace(
        jpeg=make_jpeg, tiff=make_tiff, exif=exif_block, xmp=xmp_packet, dms=exiftool_dms,
        exiftool=read_exiftool_txt, data_dir=data_dir, ns_dji=NS_DJI,
    )


# --------------------------------------------------------------------------- exiftool text


def read_exiftool_txt(path: Path) -> dict[str, list[str]]:
    """exiftool's default output (UTF-16 or UTF-8) -> tag name -> every value shown."""
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out.setdefault(name.strip(), []).append(value.strip())
    return out


_DMS = re.compile(r"(\d+(?:\.\d+)?) deg (\d+)' (\d+(?:\.\d+)?)\"\s*([NSEW])")


def exiftool_dms(text: str) -> float:
    """``40 deg 33' 49.61" N`` -> 40.5637806."""
    m = _DMS.search(text)
    assert m, text
    value = float(m.group(1)) + float(m.group(2)) / 60 + float(m.group(3)) / 3600
    return -value if m.group(4) in "SW" else value


# --------------------------------------------------------------------------- TIFF / EXIF writer

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10


@dataclass
class Tag:
    tag: int
    type: int
    value: Any  # str/bytes for ASCII/UNDEFINED, list of ints or (num, den) pairs otherwise


def _payload(t: Tag, e: str = "<") -> tuple[bytes, int]:
    if t.type == ASCII:
        data = (t.value.encode() if isinstance(t.value, str) else t.value) + b"\x00"
        return data, len(data)
    if t.type in (BYTE, UNDEFINED):
        return bytes(t.value), len(t.value)
    if t.type in (RATIONAL, SRATIONAL):
        fmt = e + ("II" if t.type == RATIONAL else "ii")
        return b"".join(struct.pack(fmt, n, d) for n, d in t.value), len(t.value)
    fmt = e + ("H" if t.type == SHORT else "I")
    return b"".join(struct.pack(fmt, v) for v in t.value), len(t.value)


def _ifd_size(tags: Sequence[Tag]) -> int:
    extra = 0
    for t in tags:
        data, _ = _payload(t)
        if len(data) > 4:
            extra += len(data) + (len(data) & 1)
    return 2 + 12 * len(tags) + 4 + extra


def _ifd_bytes(tags: Sequence[Tag], base: int, e: str = "<") -> bytes:
    tags = sorted(tags, key=lambda t: t.tag)
    overflow = bytearray()
    data_start = base + 2 + 12 * len(tags) + 4
    out = bytearray(struct.pack(e + "H", len(tags)))
    for t in tags:
        data, count = _payload(t, e)
        if len(data) <= 4:
            field = data.ljust(4, b"\x00")
        else:
            field = struct.pack(e + "I", data_start + len(overflow))
            overflow += data + (b"\x00" if len(data) & 1 else b"")
        out += struct.pack(e + "HHI", t.tag, t.type, count) + field
    out += struct.pack(e + "I", 0) + overflow
    return bytes(out)


def build_tiff(ifd0: list[Tag], exif: list[Tag] | None = None, gps: list[Tag] | None = None,
               pixels: bytes = b"", big_endian: bool = False) -> bytes:
    """A TIFF stream: IFD0 (+ EXIF and GPS sub-IFDs) (+ pixel strip)."""
    e = ">" if big_endian else "<"
    ifd0 = list(ifd0)
    if exif is not None:
        ifd0.append(Tag(34665, LONG, [0]))
    if gps is not None:
        ifd0.append(Tag(34853, LONG, [0]))
    if pixels:
        ifd0.append(Tag(273, LONG, [0]))  # StripOffsets, patched below
    off0 = 8
    off_exif = off0 + _ifd_size(ifd0)
    off_gps = off_exif + (_ifd_size(exif) if exif is not None else 0)
    off_pix = off_gps + (_ifd_size(gps) if gps is not None else 0)
    for t in ifd0:
        if t.tag == 34665:
            t.value = [off_exif]
        elif t.tag == 34853:
            t.value = [off_gps]
        elif t.tag == 273:
            t.value = [off_pix]
    out = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(e + "I", off0) + _ifd_bytes(ifd0, off0, e)
    if exif is not None:
        out += _ifd_bytes(exif, off_exif, e)
    if gps is not None:
        out += _ifd_bytes(gps, off_gps, e)
    assert len(out) == off_pix
    return out + pixels


def dms_rationals(value: float, scale: int = 10_000) -> list[tuple[int, int]]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = (value - deg - minutes / 60) * 3600
    return [(deg, 1), (minutes, 1), (round(seconds * scale), scale)]


def gps_tags(lat: float, lon: float, alt: float | None = None) -> list[Tag]:
    tags = [
        Tag(1, ASCII, "N" if lat >= 0 else "S"), Tag(2, RATIONAL, dms_rationals(lat)),
        Tag(3, ASCII, "E" if lon >= 0 else "W"), Tag(4, RATIONAL, dms_rationals(lon)),
    ]
    if alt is not None:
        tags += [Tag(5, BYTE, bytes([1 if alt < 0 else 0])), Tag(6, RATIONAL, [(round(abs(alt) * 1000), 1000)])]
    return tags


def exif_block(make: str = "DJI", model: str = "FC6310", lat: float | None = None,
               lon: float | None = None, alt: float | None = None,
               time: str | None = "2025:10:02 12:08:47", focal_mm: float | None = None,
               focal_35: int | None = None, pixel_size: tuple[int, int] | None = None) -> bytes:
    """The TIFF stream of an APP1 Exif segment."""
    ifd0 = [Tag(271, ASCII, make), Tag(272, ASCII, model)]
    exif: list[Tag] = []
    if time:
        exif.append(Tag(36867, ASCII, time))
    if focal_mm:
        exif.append(Tag(37386, RATIONAL, [(round(focal_mm * 100), 100)]))
    if focal_35:
        exif.append(Tag(41989, SHORT, [focal_35]))
    if pixel_size:
        exif += [Tag(40962, LONG, [pixel_size[0]]), Tag(40963, LONG, [pixel_size[1]])]
    gps = gps_tags(lat, lon, alt) if lat is not None and lon is not None else None
    return build_tiff(ifd0, exif, gps)


# --------------------------------------------------------------------------- XMP / JPEG writer

NS_DJI = "http://www.dji.com/drone-dji/1.0/"


def xmp_packet(fields: dict[str, str], prefix: str = "drone-dji", ns: str = NS_DJI,
               extra_xmlns: str = "") -> bytes:
    attrs = "\n   ".join(f'{prefix}:{k}="{v}"' for k, v in fields.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="DJI Meta Data" xmlns:{prefix}="{ns}" {extra_xmlns}\n   {attrs}>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _app1(payload: bytes) -> bytes:
    assert len(payload) + 2 <= 0xFFFF
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg(width: int = 64, height: int = 48, exif: bytes | None = None,
              xmp: bytes | None = None) -> bytes:
    import cv2

    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (40, 120, 200)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    jpeg = buf.tobytes()
    segments = b""
    if exif is not None:
        segments += _app1(b"Exif\x00\x00" + exif)
    if xmp is not None:
        segments += _app1(b"http://ns.adobe.com/xap/1.0/\x00" + xmp)
    return jpeg[:2] + segments + jpeg[2:]


def make_tiff(width: int = 32, height: int = 24, make: str = "DJI", model: str = "FC6310",
              lat: float | None = None, lon: float | None = None, alt: float | None = None,
              xmp: bytes | None = None, big_endian: bool = False) -> bytes:
    """A real, decodable 8-bit greyscale TIFF with optional GPS and XMP (tag 700)."""
    ifd0 = [
        Tag(256, LONG, [width]), Tag(257, LONG, [height]), Tag(258, SHORT, [8]),
        Tag(259, SHORT, [1]), Tag(262, SHORT, [1]), Tag(271, ASCII, make), Tag(272, ASCII, model),
        Tag(277, SHORT, [1]), Tag(278, LONG, [height]), Tag(279, LONG, [width * height]),
    ]
    if xmp is not None:
        ifd0.append(Tag(700, UNDEFINED, xmp))
    gps = gps_tags(lat, lon, alt) if lat is not None and lon is not None else None
    pixels = bytes((x * 7 + y * 3) & 0xFF for y in range(height) for x in range(width))
    return build_tiff(ifd0, exif=[Tag(36867, ASCII, "2024:06:01 09:30:00")], gps=gps, pixels=pixels,
                      big_endian=big_endian)
