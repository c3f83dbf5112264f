"""Phone photos for tests: a real JPEG with the EXIF a phone camera writes (capture time in
its local clock, GPS position), built with the flight simulator's EXIF writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from heyan.datasets.flight.exif_writer import build_exif
from heyan.pipeline.metadata.pose import CameraPose


@dataclass(frozen=True)
class _Phone:
    make: str = "Huawei"
    model: str = "P60"
    focal_mm: float = 5.6
    focal_35mm: float = 26.0


def phone_jpeg(lat: float | None, lon: float | None, taken: datetime | None, seed: int = 0, size: int = 64) -> bytes:
    """A decodable JPEG whose EXIF says it was taken at ``taken`` (naive: the phone's local
    clock) at (lat, lon); None leaves the tag out."""
    # A plain bank-and-water picture (BGR): water above, grass below, a little noise per seed.
    rows = np.linspace(0, 1, size)[:, None, None]
    water, grass = np.array([150, 110, 60]), np.array([60, 140, 90])
    pixels = np.where(rows < 0.55, water, grass) * np.ones((size, size, 3))
    pixels += np.random.default_rng(seed).normal(0, 12, (size, size, 3))
    pixels = np.clip(pixels, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", pixels)
    assert ok
    jpeg = bytes(buf.tobytes())
    app1 = build_exif(CameraPose(file="phone.jpg", lat=lat, lon=lon, time=taken), _Phone(), size, size)
    if taken is None:  # the writer stamps 2000-01-01 when no time is given: leave the tags out instead
        app1 = app1.replace(b"2000:01:01 00:00:00", b"\x00" * 19)
    seg = b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1
    return jpeg[:2] + seg + jpeg[2:]
