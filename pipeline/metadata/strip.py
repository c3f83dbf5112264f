"""Photo metadata removal for photos the public sends: EXIF and XMP can carry the phone's
make and serial number, the owner's name, editing history, a thumbnail of the uncropped
picture. The server keeps what it needs (the capture time and the GPS position, read first
with ``pipeline.tickets.proof.photo_facts``) in its own columns and stores the picture bare.

JPEG: the APP1..APP15 and COM segments are dropped, the compressed image is kept as it is
(no re-encoding, no quality loss). Other formats are re-encoded by OpenCV, which writes no
metadata."""

from __future__ import annotations

import cv2
import numpy as np

from heyan.vision.common import InputError

_KEEP_APP0 = 0xE0  # JFIF header: no personal data
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: markers without a length


class StripError(InputError):
    pass


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without APP1..APP15 and COM segments (EXIF, XMP, ICC, maker notes, comments)."""
    if data[:2] != b"\xff\xd8":
        raise StripError("not a JPEG")
    out = bytearray(b"\xff\xd8")
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise StripError(f"malformed JPEG header at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in _STANDALONE:
            out += data[i:i + 2]
            i += 2
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        length = int.from_bytes(data[i + 2:i + 4], "big")
        end = i + 2 + length
        if length < 2 or end > n:
            raise StripError(f"JPEG segment at byte {i} runs past the end of the file")
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += data[i:end]
        i = end
    raise StripError("JPEG without image data")


def strip_metadata(data: bytes, content_type: str) -> tuple[bytes, str]:
    """(bare bytes, content type): JPEG stripped in place, anything else re-encoded as PNG."""
    if content_type == "image/jpeg":
        return strip_jpeg(data), content_type
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise StripError("the picture cannot be decoded")
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise StripError("the picture cannot be re-encoded")
    return bytes(buf.tobytes()), "image/png"
