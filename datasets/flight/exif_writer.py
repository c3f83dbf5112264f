"""Write a JPEG with the metadata a DJI survey photo carries: EXIF (camera, time, GPS) and a
DJI-style XMP packet (``drone-dji:`` attitude, altitudes, calibration, RTK flag).

No dependency: the EXIF block is a small hand-written little-endian TIFF structure (IFD0 ->
Exif IFD + GPS IFD), the XMP is text. ``pipeline.metadata.read_pose`` reads back exactly the
values written here (tests/datasets/test_flight_sim.py checks the round trip).

Value precision follows DJI's files: angles with 2 decimals, altitudes with 3, XMP latitude /
longitude with 9 decimals, EXIF GPS seconds as a rational over 10^6 (3e-5 m). Callers that
need the written value exactly should round with ``round_pose`` first.
"""

from __future__ import annotations

import math
import struct
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.common import atomic_write

NS_DRONE_DJI = "http://www.dji.com/drone-dji/1.0/"

# TIFF field types
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED, _SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_TYPE_SIZE = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1, _SRATIONAL: 8}


def round_pose(pose: CameraPose) -> CameraPose:
    """The pose as it will read back from the file (DJI's decimal places)."""

    def r(x: float | None, n: int) -> float | None:
        return None if x is None else round(float(x), n)

    return replace(
        pose,
        lat=r(pose.lat, 9), lon=r(pose.lon, 9), rel_alt_m=r(pose.rel_alt_m, 3), abs_alt_m=r(pose.abs_alt_m, 3),
        gimbal_yaw=r(pose.gimbal_yaw, 2), gimbal_pitch=r(pose.gimbal_pitch, 2), gimbal_roll=r(pose.gimbal_roll, 2),
        flight_yaw=r(pose.flight_yaw, 2), flight_pitch=r(pose.flight_pitch, 2), flight_roll=r(pose.flight_roll, 2),
        time=pose.time.replace(microsecond=0) if pose.time else None,
    )


# --------------------------------------------------------------------------- TIFF / EXIF


def _rational(x: float, den: int) -> tuple[int, int]:
    num = int(round(abs(x) * den))
    g = math.gcd(num, den) or 1
    return num // g, den // g


def _entry_bytes(typ: int, values) -> bytes:
    if typ == _ASCII:
        return values.encode("ascii") + b"\x00"
    if typ in (_BYTE, _UNDEFINED):
        return bytes(values)
    if typ == _SHORT:
        return b"".join(struct.pack("<H", v) for v in values)
    if typ == _LONG:
        return b"".join(struct.pack("<I", v) for v in values)
    if typ == _RATIONAL:
        return b"".join(struct.pack("<II", n, d) for n, d in values)
    if typ == _SRATIONAL:
        return b"".join(struct.pack("<ii", n, d) for n, d in values)
    raise ValueError(f"unsupported TIFF type {typ}")


class _Ifd:
    def __init__(self) -> None:
        self.entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, raw value

    def add(self, tag: int, typ: int, values) -> None:
        raw = _entry_bytes(typ, values)
        count = len(raw) // _TYPE_SIZE[typ]
        self.entries.append((tag, typ, count, raw))

    def size(self) -> int:
        data = sum(len(raw) + (len(raw) & 1) for _, _, _, raw in self.entries if len(raw) > 4)
        return 2 + 12 * len(self.entries) + 4 + data

    def pack(self, offset: int) -> bytes:
        """The IFD placed at ``offset`` (from the TIFF header), its values right after it."""
        entries = sorted(self.entries)
        head = bytearray(struct.pack("<H", len(entries)))
        data = bytearray()
        data_at = offset + 2 + 12 * len(entries) + 4
        for tag, typ, count, raw in entries:
            head += struct.pack("<HHI", tag, typ, count)
            if len(raw) <= 4:
                head += raw.ljust(4, b"\x00")
            else:
                head += struct.pack("<I", data_at + len(data))
                data += raw + (b"\x00" if len(raw) & 1 else b"")
        head += struct.pack("<I", 0)  # no next IFD
        return bytes(head + data)


def _dms(deg: float) -> list[tuple[int, int]]:
    a = abs(deg)
    d = int(a)
    m = int((a - d) * 60)
    s = (a - d - m / 60) * 3600
    if s >= 59.9999995:  # rounding pushed the seconds to 60
        s = 0.0
        m += 1
        if m == 60:
            m, d = 0, d + 1
    return [(d, 1), (m, 1), _rational(s, 1_000_000)]


def build_exif(pose: CameraPose, camera, width: int, height: int) -> bytes:
    """APP1 payload: ``Exif\\0\\0`` + TIFF with IFD0, Exif IFD and GPS IFD."""
    when = pose.time or datetime(2000, 1, 1)
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd0, exif, gps = _Ifd(), _Ifd(), _Ifd()
    ifd0.add(0x010F, _ASCII, camera.make)
    ifd0.add(0x0110, _ASCII, camera.model)
    ifd0.add(0x0112, _SHORT, [1])  # orientation: as stored
    ifd0.add(0x011A, _RATIONAL, [(72, 1)])
    ifd0.add(0x011B, _RATIONAL, [(72, 1)])
    ifd0.add(0x0128, _SHORT, [2])
    ifd0.add(0x0131, _ASCII, "heyan survey-flight simulator")
    ifd0.add(0x0132, _ASCII, stamp)
    ifd0.add(0x8769, _LONG, [0])  # Exif IFD pointer, patched below
    ifd0.add(0x8825, _LONG, [0])  # GPS IFD pointer
    exif.add(0x829A, _RATIONAL, [(1, 1000)])  # exposure time
    exif.add(0x829D, _RATIONAL, [(28, 10)])  # f-number
    exif.add(0x8827, _SHORT, [100])  # ISO
    exif.add(0x9000, _UNDEFINED, b"0230")
    exif.add(0x9003, _ASCII, stamp)
    exif.add(0x9004, _ASCII, stamp)
    exif.add(0x920A, _RATIONAL, [_rational(camera.focal_mm, 100)])
    exif.add(0xA002, _LONG, [width])
    exif.add(0xA003, _LONG, [height])
    exif.add(0xA405, _SHORT, [int(round(camera.focal_35mm))])
    gps.add(0x0000, _BYTE, [2, 3, 0, 0])
    if pose.lat is not None and pose.lon is not None:
        gps.add(0x0001, _ASCII, "N" if pose.lat >= 0 else "S")
        gps.add(0x0002, _RATIONAL, _dms(pose.lat))
        gps.add(0x0003, _ASCII, "E" if pose.lon >= 0 else "W")
        gps.add(0x0004, _RATIONAL, _dms(pose.lon))
    if pose.abs_alt_m is not None:
        gps.add(0x0005, _BYTE, [0 if pose.abs_alt_m >= 0 else 1])
        gps.add(0x0006, _RATIONAL, [_rational(pose.abs_alt_m, 1000)])

    ifd0_at = 8
    exif_at = ifd0_at + ifd0.size()
    exif_at += exif_at & 1
    gps_at = exif_at + exif.size()
    gps_at += gps_at & 1
    ifd0.entries = [(t, ty, c, struct.pack("<I", exif_at) if t == 0x8769 else struct.pack("<I", gps_at) if t == 0x8825
                     else raw) for t, ty, c, raw in ifd0.entries]
    tiff = bytearray(b"II*\x00" + struct.pack("<I", ifd0_at))
    for at, ifd in ((ifd0_at, ifd0), (exif_at, exif), (gps_at, gps)):
        tiff += b"\x00" * (at - len(tiff))
        tiff += ifd.pack(at)
    return b"Exif\x00\x00" + bytes(tiff)


# --------------------------------------------------------------------------- XMP


def _signed(x: float, decimals: int) -> str:
    return f"{x:+.{decimals}f}"


def build_xmp(pose: CameraPose, camera, rtk_flag: int = 16,
              rtk_std: tuple[float, float, float] | None = None) -> bytes:
    """APP1 payload: the XMP namespace header + a DJI-style packet.

    DJI writes the longitude as ``GpsLongtitude`` (sic) on many aircraft; the correct
    spelling is written here (pipeline.metadata reads both)."""
    a: dict[str, str] = {}
    if pose.time is not None:
        a["xmp:CreateDate"] = pose.time.isoformat(timespec="seconds")
        a["xmp:ModifyDate"] = pose.time.isoformat(timespec="seconds")
    a["tiff:Make"] = camera.make
    a["tiff:Model"] = camera.model
    a["dc:format"] = "image/jpeg"
    d: dict[str, str] = {"Version": "1.0", "ImageSource": "WideCamera", "GpsStatus": "RTK" if rtk_flag == 50 else "Normal",
                         "AltitudeType": "RtkAlt" if rtk_flag == 50 else "GpsFusionAlt"}
    if pose.lat is not None and pose.lon is not None:
        d["GpsLatitude"] = f"{pose.lat:.9f}"
        d["GpsLongitude"] = f"{pose.lon:.9f}"
    if pose.abs_alt_m is not None:
        d["AbsoluteAltitude"] = _signed(pose.abs_alt_m, 3)
    if pose.rel_alt_m is not None:
        d["RelativeAltitude"] = _signed(pose.rel_alt_m, 3)
    for name, value in (("GimbalRollDegree", pose.gimbal_roll), ("GimbalYawDegree", pose.gimbal_yaw),
                        ("GimbalPitchDegree", pose.gimbal_pitch), ("FlightRollDegree", pose.flight_roll),
                        ("FlightYawDegree", pose.flight_yaw), ("FlightPitchDegree", pose.flight_pitch)):
        if value is not None:
            d[name] = _signed(value, 2)
    d["CamReverse"] = "0"
    d["GimbalReverse"] = "0"
    d["SelfData"] = "Undefined"
    d["CalibratedFocalLength"] = f"{camera.calibrated_focal_px:.6f}"
    d["CalibratedOpticalCenterX"] = f"{camera.optical_center[0]:.6f}"
    d["CalibratedOpticalCenterY"] = f"{camera.optical_center[1]:.6f}"
    # The simulated lens has no distortion: as if the drone had dewarped the photo.
    d["DewarpFlag"] = "1"
    d["RtkFlag"] = str(int(rtk_flag))
    if rtk_std is not None:
        d["RtkStdLon"], d["RtkStdLat"], d["RtkStdHgt"] = (f"{v:.5f}" for v in rtk_std)
    d["DroneModel"] = camera.drone
    d["SurveyingMode"] = "1"
    attrs = "\n".join(f'    {k}="{_xml_escape(v)}"' for k, v in a.items())
    attrs += "\n" + "\n".join(f'    drone-dji:{k}="{_xml_escape(v)}"' for k, v in d.items())
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="DJI Meta Data"\n'
        '    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"\n'
        '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f'    xmlns:drone-dji="{NS_DRONE_DJI}"\n'
        f"{attrs}>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode("utf-8")


def _xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --------------------------------------------------------------------------- JPEG


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError(f"APP segment too large ({len(payload)} bytes)")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def insert_metadata(jpeg: bytes, exif_payload: bytes, xmp_payload: bytes) -> bytes:
    """JPEG bytes with the EXIF and XMP APP1 segments right after SOI (as DJI writes them);
    the encoder's JFIF APP0 is dropped (EXIF and JFIF both want to be first)."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos = 2
    kept = bytearray()
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        seg_len = struct.unpack(">H", jpeg[pos + 2:pos + 4])[0]
        seg = jpeg[pos:pos + 2 + seg_len]
        if marker not in (0xE0, 0xE1):
            kept += seg
        pos += 2 + seg_len
    return b"\xff\xd8" + _segment(0xE1, exif_payload) + _segment(0xE1, xmp_payload) + bytes(kept) + jpeg[pos:]


def write_photo(path: str | Path, image_bgr, pose: CameraPose, camera, quality: int = 90, rtk_flag: int = 16,
                rtk_std: tuple[float, float, float] | None = None) -> Path:
    """Encode ``image_bgr`` (uint8) as JPEG with ``pose`` in EXIF + XMP; atomic write."""
    import cv2

    h, w = image_bgr.shape[:2]
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"{path}: JPEG encoding failed")
    data = insert_metadata(buf.tobytes(), build_exif(pose, camera, w, h), build_xmp(pose, camera, rtk_flag, rtk_std))
    return atomic_write(path, data, durable=False)  # generated: made again, not recovered
