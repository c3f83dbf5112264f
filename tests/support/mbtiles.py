"""A small MBTiles file for tests: solid-colour PNG tiles over a lon/lat box, written the
way tile tools write them (TMS rows, metadata table)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import cv2
import numpy as np

BASEMAP_BGR = (196, 226, 242)  # a paper-map beige, not the viewer's own background: found again in screenshots


def xyz_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return x, y


def png(bgr: tuple[int, int, int]) -> bytes:
    img = np.zeros((256, 256, 3), np.uint8)
    img[:] = bgr
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return bytes(buf.tobytes())


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], bounds: tuple[float, float, float, float] | None = None,
                  fmt: str = "png") -> Path:
    """``tiles``: XYZ (z, x, y) -> image bytes; stored with TMS rows as the spec says."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    zooms = [z for z, _, _ in tiles]
    meta = {"name": "test basemap", "format": fmt, "minzoom": str(min(zooms)), "maxzoom": str(max(zooms))}
    if bounds:
        meta["bounds"] = ",".join(str(v) for v in bounds)
    con.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    con.commit()
    con.close()
    return path


def basemap_over(path: Path, west: float, south: float, east: float, north: float, zooms: range, pad: float = 0.01) -> Path:
    """Plain tiles covering the box and ``pad`` degrees around it at each zoom."""
    west, south, east, north = west - pad, south - pad, east + pad, north + pad
    tiles: dict[tuple[int, int, int], bytes] = {}
    tile = png(BASEMAP_BGR)
    for z in zooms:
        x0, y0 = xyz_tile(west, north, z)
        x1, y1 = xyz_tile(east, south, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, y)] = tile
    return write_mbtiles(path, tiles, bounds=(west, south, east, north))
