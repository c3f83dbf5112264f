"""XMP packets, parsed with defusedxml because their text comes from untrusted files.

Properties are keyed by namespace URI, never by prefix: DJI writes the same fields under
``drone-dji:`` on most aircraft and under ``DJI:`` (``http://www.dji.com``) on the Zenmuse
XT S, and any writer may pick its own prefixes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from heyan.pipeline.metadata.exif import MAX_SEGMENT_BYTES, find_xmp_packet
from heyan.vision.common import InputError

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_EXIF = "http://ns.adobe.com/exif/1.0/"
NS_TIFF = "http://ns.adobe.com/tiff/1.0/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DRONE_DJI = "http://www.dji.com/drone-dji/1.0/"
# Every namespace DJI has used starts with this (drone-dji, FLIR, and the bare one on XT S).
DJI_NS_ROOT = "http://www.dji.com"

_START_TAG = re.compile(rb"<[A-Za-z_][^<>]*>")
_ATTRIBUTE = re.compile(rb"""\s([^\s=<>/"']+)\s*=\s*("[^"]*"|'[^']*')""")


class XmpError(InputError):
    """The XMP packet is not well-formed XML or is refused (DTD, entities, too large)."""


@dataclass
class Xmp:
    props: dict[tuple[str, str], str] = field(default_factory=dict)  # (namespace, name) -> value
    _dji: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # drone-dji goes last so it wins over the FLIR and bare DJI namespaces.
        ordered = sorted(self.props.items(), key=lambda kv: kv[0][0] == NS_DRONE_DJI)
        for (ns, name), value in ordered:
            if ns.startswith(DJI_NS_ROOT):
                self._dji[name.lower()] = value

    def get(self, ns: str, name: str) -> str | None:
        return self.props.get((ns, name))

    def dji(self, *names: str) -> str | None:
        """The first present DJI property among ``names`` (case-insensitive local names)."""
        for name in names:
            value = self._dji.get(name.lower())
            if value not in (None, ""):
                return value
        return None

    def dji_float(self, *names: str) -> float | None:
        return parse_float(self.dji(*names))

    @property
    def dji_names(self) -> list[str]:
        return sorted(self._dji)


def parse_xmp(data: bytes) -> Xmp:
    """Parse an XMP packet (or an APP1 payload that contains one) into properties."""
    packet = find_xmp_packet(data) or data.strip(b"\x00 \t\r\n")
    if len(packet) > MAX_SEGMENT_BYTES:
        raise XmpError("XMP packet too large")
    try:
        root = _parse(packet)
    except ParseError as exc:
        if "duplicate attribute" not in str(exc):
            raise XmpError(f"XMP is not well-formed XML ({exc})") from None
        # The XT S declares xmlns:DJI twice on one element; keeping the first of each
        # repeated attribute is what every lenient reader (exiftool included) does.
        try:
            root = _parse(_drop_duplicate_attributes(packet))
        except ParseError as exc2:
            raise XmpError(f"XMP is not well-formed XML ({exc2})") from None
    return Xmp(props=_collect(root))


def _parse(packet: bytes) -> Element:
    try:
        return fromstring(packet)
    except DefusedXmlException as exc:
        raise XmpError(f"XMP refused ({type(exc).__name__})") from None
    except (ValueError, UnicodeError, RecursionError) as exc:
        # expat reports some encoding trouble as ValueError rather than ParseError.
        raise XmpError(f"XMP is not well-formed XML ({type(exc).__name__})") from None


def _drop_duplicate_attributes(packet: bytes) -> bytes:
    def fix_tag(m: re.Match[bytes]) -> bytes:
        seen: set[bytes] = set()

        def keep_first(a: re.Match[bytes]) -> bytes:
            if a.group(1) in seen:
                return b""
            seen.add(a.group(1))
            return a.group(0)

        return _ATTRIBUTE.sub(keep_first, m.group(0))

    return _START_TAG.sub(fix_tag, packet)


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _collect(root: Element) -> dict[tuple[str, str], str]:
    props: dict[tuple[str, str], str] = {}
    for desc in root.iter(f"{{{RDF}}}Description"):
        for key, value in desc.attrib.items():
            ns, name = _split(key)
            if ns != RDF:
                props.setdefault((ns, name), value.strip())
        for child in desc:
            ns, name = _split(child.tag)
            value = _element_value(child)
            if value is not None:
                props.setdefault((ns, name), value)
    return props


def _element_value(el: Element) -> str | None:
    """Simple text, or the first item of an rdf:Seq / Bag / Alt."""
    if len(el) == 0:
        return (el.text or "").strip()
    for li in el.iter(f"{{{RDF}}}li"):
        if len(li) == 0:
            return (li.text or "").strip()
    return None


# --------------------------------------------------------------------------- values


def parse_float(text: str | None) -> float | None:
    """``"+16.508"`` -> 16.508; None for empty, non-numeric or non-finite text."""
    if text is None:
        return None
    s = text.strip()
    if not s or len(s) > 64:
        return None
    try:
        if "/" in s:  # XMP writes EXIF rationals as "90337/1000"
            num, _, den = s.partition("/")
            x = float(num) / float(den)
        else:
            x = float(s)
    except (ValueError, ZeroDivisionError):
        return None
    return x if math.isfinite(x) else None


def parse_int(text: str | None) -> int | None:
    x = parse_float(text)
    if x is None or x != int(x) or abs(x) > 2**31:
        return None
    return int(x)


_XMP_GPS = re.compile(r"^\s*(\d{1,3})\s*,\s*(\d{1,2}(?:\.\d+)?)\s*(?:,\s*(\d{1,2}(?:\.\d+)?)\s*)?([NSEWnsew])\s*$")


def parse_xmp_gps(text: str | None) -> float | None:
    """XMP GPS coordinate: ``"22,35.7772N"``, ``"22,35,46.3N"`` or plain decimal degrees."""
    if not text:
        return None
    m = _XMP_GPS.match(text)
    if not m:
        return parse_float(text)
    deg = float(m.group(1)) + float(m.group(2)) / 60 + float(m.group(3) or 0) / 3600
    return -deg if m.group(4).upper() in "SW" else deg
