"""Reading photos from disk with a clear, per-file reason when they cannot be used."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from heyan.vision.common import InputError, unreadable_reason

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
# A 20 MP photo decodes to 63 MB; refuse absurd headers instead of exhausting memory.
MAX_PIXELS = 200_000_000


class ImageReadError(InputError):
    def __init__(self, file: str | Path, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = str(file)
        self.reason = reason


def _reduced_flag(reduce: int) -> int:
    return {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[reduce]


def _jpeg_truncated(data: bytes) -> bool:
    """No end-of-image marker after the main image's first scan. The header segments are
    walked by their lengths, so an EOI inside them (the EXIF thumbnail) does not count, and
    data appended after the EOI (phone motion photos, maker trailers) does not matter."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return False  # malformed header: let the decoder judge it
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0xDA:  # start of scan: entropy data never contains FF D9
            return data.find(b"\xff\xd9", i) < 0
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
        elif marker == 0xD9:
            return False  # end of image before any scan: not a truncation
        else:
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return True  # the header runs past the end of the data


def decode_image(data: bytes, name: str | Path = "<bytes>", reduce: int = 1) -> np.ndarray:
    """Decode image bytes to BGR uint8. ``reduce`` 2/4/8 uses libjpeg's scaled DCT decode,
    several times cheaper than a full decode followed by a resize."""
    if len(data) == 0:
        raise ImageReadError(name, "file is empty")
    is_jpeg = data[:2] == b"\xff\xd8"
    if is_jpeg and _jpeg_truncated(data):
        # libjpeg fills a truncated scan with grey and only warns: catch it here.
        raise ImageReadError(name, "JPEG is truncated (no end-of-image marker)")
    arr = np.frombuffer(data, np.uint8)
    img = cv2.imdecode(arr, _reduced_flag(reduce))
    if img is None:
        kind = "JPEG" if is_jpeg else "image"
        raise ImageReadError(name, f"cannot decode {kind} data (corrupt or unsupported format)")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.dtype != np.uint8:  # 16-bit TIFF/PNG
        img = (img / 257).astype(np.uint8)
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ImageReadError(name, f"image of {img.shape[1]}x{img.shape[0]} pixels exceeds the limit")
    return img


def read_image(path: str | Path, reduce: int = 1) -> np.ndarray:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImageReadError(p, unreadable_reason(exc, "an image")) from None
    return decode_image(data, p, reduce)


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given; folders expanded (recursively, sorted) to their image files."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out
