"""Photo metadata -> :class:`CameraPose`: position, attitude, time and intrinsics.

Sources, in order of trust:

- position: EXIF GPS (what PPK and correction tools rewrite), else DJI XMP
  ``GpsLatitude``/``GpsLongitude`` (or DJI's ``GpsLongtitude``), else XMP ``exif:GPS*``;
- attitude, relative altitude, RTK quality and calibration: DJI XMP (any ``http://www.dji.com``
  namespace, whatever its prefix);
- focal length in pixels: DJI ``DewarpData``, then ``CalibratedFocalLength``, then focal
  length in mm with the sensor width of a known camera, then ``FocalLengthIn35mmFilm``.

Intrinsics always refer to the image as stored. DJI calibrations are written for the
capture resolution; a photo resized afterwards gets them scaled to its real size, which is
read from the image itself (JPEG SOF marker or TIFF IFD), not from EXIF.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from heyan.pipeline.metadata.exif import Container, ContainerError, ExifFacts, read_container, read_exif
from heyan.pipeline.metadata.pose import CameraPose
from heyan.pipeline.metadata.xmp import NS_EXIF, NS_TIFF, NS_XMP, Xmp, XmpError, parse_float, parse_int, parse_xmp, parse_xmp_gps
from heyan.vision.common import InputError, unreadable_reason

# cv2 decodes whole images; only worth it (and only safe) for files of photo size when the
# header walk could not find the size.
_CV2_FALLBACK_MAX_BYTES = 64 * 1024 * 1024
# Two positions for the same photo further apart than this are worth telling the user about.
_DISAGREEMENT_NOTE_M = 5.0


class MetadataError(InputError):
    """A photo whose metadata cannot give a usable pose. ``str()`` names file and reason."""

    def __init__(self, file: str | os.PathLike[str], reason: str) -> None:
        self.file = str(file)
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")


@dataclass(frozen=True)
class SensorSpec:
    width_mm: float  # the sensor's long side
    native: tuple[int, int]  # full-resolution (width, height) the width refers to


def _spec(width_mm: float, w: int, h: int) -> SensorSpec:
    return SensorSpec(width_mm, (w, h))


_ONE_INCH = _spec(13.2, 5472, 3648)  # 1" type, 13.2 x 8.8 mm
_SMALL_1_2_3 = _spec(6.17, 4000, 3000)  # 1/2.3" type, 6.17 x 4.55 mm
_FOUR_THIRDS = _spec(17.3, 5280, 3956)  # 4/3 type, 17.3 x 13.0 mm
_HALF_INCH_48MP = _spec(6.4, 8000, 6000)  # 1/2" type, 6.4 x 4.8 mm
_ONE_1_3_48MP = _spec(9.6, 8064, 6048)  # 1/1.3" type, 9.6 x 7.2 mm
_THERMAL_640_12UM = _spec(7.68, 640, 512)  # 640 x 12 um pixels
_THERMAL_640_17UM = _spec(10.88, 640, 512)  # 640 x 17 um pixels (FLIR Tau 2 cores)
_THERMAL_336_17UM = _spec(5.712, 336, 256)

# Published sensor sizes of common DJI cameras, keyed by EXIF Model. Cameras with several
# lenses under one model name list each; the one whose native aspect matches the photo wins.
SENSORS: dict[str, tuple[SensorSpec, ...]] = {
    "FC6310": (_ONE_INCH,),  # Phantom 4 Pro / Advanced
    "FC6310R": (_ONE_INCH,),  # Phantom 4 RTK
    "FC6310S": (_ONE_INCH,),  # Phantom 4 Pro V2.0
    "FC330": (_SMALL_1_2_3,),  # Phantom 4
    "FC300X": (_SMALL_1_2_3,),  # Phantom 3 Professional
    "FC300S": (_SMALL_1_2_3,),  # Phantom 3 Advanced
    "FC220": (_SMALL_1_2_3,),  # Mavic Pro
    "FC2103": (_SMALL_1_2_3,),  # Mavic Air
    "FC2204": (_SMALL_1_2_3,),  # Mavic 2 Zoom
    "FC2403": (_spec(6.17, 4056, 3040), _THERMAL_640_12UM),  # Mavic 2 Enterprise Dual
    "FC7203": (_SMALL_1_2_3,),  # Mavic Mini
    "FC7303": (_SMALL_1_2_3,),  # Mini 2
    "FC3170": (_HALF_INCH_48MP,),  # Mavic Air 2
    "FC3411": (_ONE_INCH,),  # Air 2S
    "FC3582": (_ONE_1_3_48MP,),  # Mini 3 Pro
    "FC8482": (_ONE_1_3_48MP,),  # Mini 4 Pro
    "L1D-20C": (_ONE_INCH,),  # Mavic 2 Pro (Hasselblad)
    "L2D-20C": (_FOUR_THIRDS,),  # Mavic 3 (Hasselblad)
    "M3E": (_FOUR_THIRDS,),  # Mavic 3 Enterprise wide camera
    "M3M": (_FOUR_THIRDS,),  # Mavic 3 Multispectral RGB camera
    "M3T": (_HALF_INCH_48MP, _THERMAL_640_12UM),  # Mavic 3 Thermal
    "M30T": (_HALF_INCH_48MP, _THERMAL_640_12UM),  # Matrice 30T
    "ZH20T": (_spec(7.6, 5184, 3888), _spec(6.17, 4056, 3040), _THERMAL_640_12UM),  # H20T
    "ZENMUSEP1": (_spec(35.9, 8192, 5460),),  # Zenmuse P1, full frame
    "FC6520": (_FOUR_THIRDS,),  # Zenmuse X5S
    "FC6540": (_spec(23.5, 6016, 4008),),  # Zenmuse X7, APS-C
    "FLIR": (_THERMAL_640_17UM, _THERMAL_336_17UM),  # Zenmuse XT / XT2 / XTR thermal core
    "XT S": (_THERMAL_640_17UM,),  # Zenmuse XT S
}


# --------------------------------------------------------------------------- entry point


def read_pose(path: str | os.PathLike[str]) -> CameraPose:
    """Read one photo's camera pose and intrinsics; MetadataError if it is unusable."""
    p = Path(path)
    box = _open_container(p)
    exif, exif_error = read_exif(box.exif_tiff)
    xmp, xmp_error = _read_xmp(box.xmp)
    pose = CameraPose(file=str(p))
    for key, note in (("exif_error", exif_error), ("xmp_error", xmp_error)):
        if note:
            pose.extra[key] = note
    if box.notes:
        pose.extra["container_notes"] = box.notes
    _set_position(pose, exif, xmp)
    _set_attitude(pose, xmp)
    _set_camera(pose, exif, xmp)
    _set_size(pose, box)
    _set_intrinsics(pose, exif, xmp)
    _set_gnss_quality(pose, xmp)
    return pose


def _open_container(p: Path) -> Container:
    try:
        with open(p, "rb") as fh:
            return read_container(fh)
    except ContainerError as exc:
        raise MetadataError(p, str(exc)) from None
    except OSError as exc:
        raise MetadataError(p, unreadable_reason(exc, "a photo")) from None
    except MemoryError:
        raise MetadataError(p, "file too large to read") from None


def _read_xmp(packet: bytes | None) -> tuple[Xmp, str | None]:
    if not packet:
        return Xmp(), None
    try:
        return parse_xmp(packet), None
    except XmpError as exc:
        # Bad XMP is not fatal: EXIF alone may still place the photo.
        return Xmp(), str(exc)


# --------------------------------------------------------------------------- position


def _set_position(pose: CameraPose, exif: ExifFacts, xmp: Xmp) -> None:
    candidates = [
        ("exif", exif.lat, exif.lon),
        ("xmp_dji", xmp.dji_float("GpsLatitude", "Latitude"),
         xmp.dji_float("GpsLongitude", "GpsLongtitude", "Longitude", "Longtitude")),
        ("xmp_exif", parse_xmp_gps(xmp.get(NS_EXIF, "GPSLatitude")),
         parse_xmp_gps(xmp.get(NS_EXIF, "GPSLongitude"))),
    ]
    found = [(src, lat, lon) for src, lat, lon in candidates if lat is not None and lon is not None]
    # DJI writes 0, 0 before the first satellite fix: that is "no position", not the Gulf
    # of Guinea. Any other source is better.
    usable = [c for c in found if not (c[1] == 0 and c[2] == 0)]
    if not found:
        raise MetadataError(pose.file, "no GPS position in EXIF or XMP")
    if not usable:
        raise MetadataError(pose.file, "GPS position is 0, 0 (no satellite fix when the photo was taken)")
    src, lat, lon = usable[0]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MetadataError(pose.file, f"GPS position out of range in {src} (lat {lat:.6g}, lon {lon:.6g})")
    pose.lat, pose.lon = lat, lon
    pose.extra["position_source"] = src
    for other, olat, olon in usable[1:]:
        d = _approx_distance_m(lat, lon, olat, olon)
        if d > _DISAGREEMENT_NOTE_M:
            pose.extra[f"position_vs_{other}_m"] = round(d, 1)
    _set_altitudes(pose, exif, xmp, src)


def _approx_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Equirectangular is plenty for "do two readings of one photo agree within metres".
    k = 111_320.0
    dx = (lon2 - lon1) * k * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat2 - lat1) * k)


def _set_altitudes(pose: CameraPose, exif: ExifFacts, xmp: Xmp, position_source: str) -> None:
    dji_abs = xmp.dji_float("AbsoluteAltitude")
    xmp_exif_alt = parse_float(xmp.get(NS_EXIF, "GPSAltitude"))
    if xmp_exif_alt is not None and xmp.get(NS_EXIF, "GPSAltitudeRef") == "1":
        xmp_exif_alt = -xmp_exif_alt
    # Keep altitude from the same source as the position: a PPK-corrected EXIF block
    # rewrites both, and mixing it with the raw DJI altitude would be inconsistent.
    order = {"exif": [("exif", exif.alt_m), ("xmp_dji", dji_abs), ("xmp_exif", xmp_exif_alt)],
             "xmp_dji": [("xmp_dji", dji_abs), ("exif", exif.alt_m), ("xmp_exif", xmp_exif_alt)],
             "xmp_exif": [("xmp_exif", xmp_exif_alt), ("xmp_dji", dji_abs), ("exif", exif.alt_m)]}
    for src, alt in order[position_source]:
        if alt is not None and abs(alt) < 100_000:
            pose.abs_alt_m = alt
            pose.extra["alt_source"] = src
            break
    # Older DJI firmware rounds the EXIF altitude to 0.1 m while XMP keeps centimetres:
    # when both are the same reading, keep the precise one.
    if pose.extra.get("alt_source") == "exif" and dji_abs is not None \
            and abs(dji_abs - pose.abs_alt_m) <= 0.1:
        pose.abs_alt_m = dji_abs
        pose.extra["alt_source"] = "xmp_dji"
    rel = xmp.dji_float("RelativeAltitude")
    pose.rel_alt_m = rel if rel is not None and abs(rel) < 100_000 else None


# --------------------------------------------------------------------------- attitude


def _angle(xmp: Xmp, *names: str) -> float | None:
    x = xmp.dji_float(*names)
    # Anything beyond a full turn is a corrupt value, not an attitude.
    return x if x is not None and abs(x) <= 360 else None


def _set_attitude(pose: CameraPose, xmp: Xmp) -> None:
    pose.flight_yaw = _angle(xmp, "FlightYawDegree")
    pose.flight_pitch = _angle(xmp, "FlightPitchDegree")
    pose.flight_roll = _angle(xmp, "FlightRollDegree")
    pose.gimbal_yaw = _angle(xmp, "GimbalYawDegree")
    pose.gimbal_pitch = _angle(xmp, "GimbalPitchDegree")
    pose.gimbal_roll = _angle(xmp, "GimbalRollDegree")


# --------------------------------------------------------------------------- camera, time


def _set_camera(pose: CameraPose, exif: ExifFacts, xmp: Xmp) -> None:
    pose.make = exif.make or _clean(xmp.get(NS_TIFF, "Make"))
    pose.model = exif.model or _clean(xmp.get(NS_TIFF, "Model"))
    pose.time = _photo_time(exif, xmp)
    for key, name in (("drone_model", "DroneModel"), ("image_source", "ImageSource"),
                      ("surveying_mode", "SurveyingMode")):
        value = _clean(xmp.dji(name))
        if value:
            pose.extra[key] = value
    if exif.gps_time:
        pose.extra["gps_time_utc"] = exif.gps_time.isoformat()
    if exif.digital_zoom and exif.digital_zoom > 1:
        # Not applied to the intrinsics: DJI's 35 mm equivalent may already include it.
        pose.extra["digital_zoom"] = exif.digital_zoom
    if exif.orientation not in (None, 1):
        # The pixel grid is as stored; viewers would rotate it. Georef must not.
        pose.extra["exif_orientation"] = exif.orientation


def _clean(s: str | None) -> str | None:
    s = (s or "").strip()
    return s[:128] or None


def _photo_time(exif: ExifFacts, xmp: Xmp) -> datetime | None:
    xmp_time = None
    for ns, name in ((NS_EXIF, "DateTimeOriginal"), (NS_XMP, "CreateDate")):
        xmp_time = _parse_iso(xmp.get(ns, name))
        if xmp_time:
            break
    t = exif.time
    if t is None:
        return xmp_time or exif.gps_time
    # DJI's EXIF time has no zone, but newer aircraft put one on the XMP CreateDate.
    if t.tzinfo is None and xmp_time is not None and xmp_time.tzinfo is not None \
            and xmp_time.replace(tzinfo=None, microsecond=0) == t.replace(microsecond=0):
        return t.replace(tzinfo=xmp_time.tzinfo)
    return t


def _parse_iso(text: str | None) -> datetime | None:
    if not text or len(text) > 40:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


# --------------------------------------------------------------------------- image size


def _set_size(pose: CameraPose, box: Container) -> None:
    w, h = box.width, box.height
    if not (w and h):
        w, h = _size_by_decoding(Path(pose.file))
        if w and h:
            pose.extra["size_source"] = "decoded"
    if not (w and h):
        raise MetadataError(pose.file, f"cannot determine the image size ({box.kind} header has no frame size)")
    pose.width, pose.height = w, h


def _size_by_decoding(p: Path) -> tuple[int | None, int | None]:
    try:
        if p.stat().st_size > _CV2_FALLBACK_MAX_BYTES:
            return None, None
        import cv2  # lazy: decoding is the rare fallback
        import numpy as np

        # np.fromfile + imdecode rather than imread: imread fails on non-ASCII paths on Windows.
        img = cv2.imdecode(np.fromfile(str(p), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except Exception:  # noqa: BLE001 - OSError, MemoryError, cv2.error on damaged data: all "unknown"
        return None, None
    if img is None or img.ndim < 2:
        return None, None
    return int(img.shape[1]), int(img.shape[0])


# --------------------------------------------------------------------------- intrinsics


def _set_intrinsics(pose: CameraPose, exif: ExifFacts, xmp: Xmp) -> None:
    w, h = pose.width, pose.height
    assert w and h  # _set_size guarantees it
    pose.cx, pose.cy = w / 2, h / 2
    flag = parse_int(xmp.dji("DewarpFlag"))
    dewarped = flag == 1
    if flag is not None:
        pose.extra["dewarp_flag"] = flag
    ref_w, ref_h, ref_src = _calibration_reference(exif, xmp, w, h)
    scale = max(w, h) / max(ref_w, ref_h)
    dewarp = _parse_dewarp(xmp.dji("DewarpData"))
    cal_f = xmp.dji_float("CalibratedFocalLength")
    if dewarp is not None and not (dewarped and cal_f):
        fx, fy, dx, dy, *dist = dewarp
        pose.focal_px = (fx + fy) / 2 * scale
        pose.cx, pose.cy = w / 2 + dx * scale, h / 2 + dy * scale
        pose.distortion = [0.0] * 5 if dewarped else dist
        pose.focal_source = "dji_dewarp"
        pose.extra["dewarp_fx_fy_px"] = [fx * scale, fy * scale]
    elif cal_f is not None and cal_f > 0:
        pose.focal_px = cal_f * scale
        ocx, ocy = xmp.dji_float("CalibratedOpticalCenterX"), xmp.dji_float("CalibratedOpticalCenterY")
        if ocx is not None and ocy is not None:
            pose.cx, pose.cy = w / 2 + (ocx - ref_w / 2) * scale, h / 2 + (ocy - ref_h / 2) * scale
        pose.distortion = [0.0] * 5 if dewarped else None
        pose.focal_source = "dji_calibrated"
    else:
        _set_focal_from_lens(pose, exif, xmp)
        return
    if scale != 1.0:
        pose.extra["calibration_scale"] = scale
        pose.extra["calibration_reference"] = f"{ref_w:g}x{ref_h:g} ({ref_src})"
    if abs(w / h - ref_w / ref_h) > 0.01 * (w / h):
        pose.extra["intrinsics_warning"] = (
            f"calibration is for {ref_w:g}x{ref_h:g} ({ref_src}), image is {w}x{h}: aspect differs, "
            "scaled by the long side")


def _calibration_reference(exif: ExifFacts, xmp: Xmp, w: int, h: int) -> tuple[float, float, str]:
    """The resolution DJI's calibration values were written for."""
    ocx, ocy = xmp.dji_float("CalibratedOpticalCenterX"), xmp.dji_float("CalibratedOpticalCenterY")
    candidates = [
        # The designed optical centre is the middle of the capture, so it survives any
        # later resize that rewrites or drops the EXIF pixel dimensions.
        (2 * ocx if ocx else 0.0, 2 * ocy if ocy else 0.0, "CalibratedOpticalCenter"),
        (float(exif.pixel_width or 0), float(exif.pixel_height or 0), "EXIF pixel dimensions"),
    ]
    for ref_w, ref_h, source in candidates:
        # Photos get shrunk after capture, never enlarged, and not below a thumbnail.
        if ref_w > 0 and ref_h > 0 and 1 / 64 <= max(w, h) / max(ref_w, ref_h) <= 1.01:
            return ref_w, ref_h, source
    return float(w), float(h), "stored image"


def _parse_dewarp(text: str | None) -> list[float] | None:
    """``"2018-09-06;fx,fy,cx,cy,k1,k2,p1,p2,k3"`` -> the nine numbers (cx, cy from centre)."""
    if not text or len(text) > 1024:
        return None
    numbers = text.split(";")[-1].split(",")
    values = [parse_float(n) for n in numbers[:9]]
    if len(values) < 9 or any(v is None for v in values):
        return None
    fx, fy = values[0], values[1]
    if not (fx and fy and fx > 0 and fy > 0):
        return None
    return values


def _set_focal_from_lens(pose: CameraPose, exif: ExifFacts, xmp: Xmp) -> None:
    w, h = pose.width or 0, pose.height or 0
    long_side = max(w, h)
    spec = _sensor_for(pose.model, exif, w, h)
    # Sensor width and 35 mm equivalent both describe the full frame, so scaling by the
    # stored long side is right for resized photos too.
    f35 = exif.focal_35mm or parse_float(xmp.get(NS_EXIF, "FocalLengthIn35mmFilm"))
    if spec is not None and exif.focal_mm:
        pose.focal_px = exif.focal_mm / spec.width_mm * long_side
        pose.focal_source = "sensor_table"
        pose.extra["sensor_width_mm"] = spec.width_mm
    elif f35 is not None and 0 < f35 < 10_000:
        pose.focal_px = f35 / 36.0 * long_side
        pose.focal_source = "exif_35mm"


def _sensor_for(model: str | None, exif: ExifFacts, w: int, h: int) -> SensorSpec | None:
    specs = SENSORS.get((model or "").strip().upper())
    if not specs:
        return None
    aspect = max(w, h) / max(1, min(w, h))
    matching = [s for s in specs if abs(max(s.native) / min(s.native) - aspect) < 0.02 * aspect]
    if len(matching) > 1 and exif.pixel_width:
        exact = [s for s in matching if exif.pixel_width in s.native]
        matching = exact or matching
    if len(matching) == 1 or (matching and len({s.width_mm for s in matching}) == 1):
        return matching[0]
    return None


# --------------------------------------------------------------------------- GNSS quality


def _set_gnss_quality(pose: CameraPose, xmp: Xmp) -> None:
    pose.rtk_flag = parse_int(xmp.dji("RtkFlag"))
    pose.rtk_std_lon_m = _non_negative(xmp.dji_float("RtkStdLon"))
    pose.rtk_std_lat_m = _non_negative(xmp.dji_float("RtkStdLat"))
    pose.rtk_std_hgt_m = _non_negative(xmp.dji_float("RtkStdHgt"))


def _non_negative(x: float | None) -> float | None:
    return x if x is not None and x >= 0 else None
