"""Raster tiles from an MBTiles file (https://github.com/mapbox/mbtiles-spec): an SQLite
database with a ``tiles`` table keyed by zoom, column and row, and a ``metadata`` table.
Rows count from the south (TMS), the viewer asks in XYZ (from the north): flipped here.

The file is opened read-only, one short connection per read, so worker threads never share
a connection and the office can replace the file while the server runs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from heyan.vision.common import InputError

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTilesError(InputError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class MBTilesInfo:
    format: str
    media_type: str
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float] | None  # west, south, east, north (WGS-84)
    name: str | None


def tms_row(z: int, y: int) -> int:
    """The MBTiles (TMS) row of an XYZ tile row."""
    return (1 << z) - 1 - y


class MBTiles:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.info = self._read_info()

    def _connect(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise MBTilesError(self.path, "MBTiles file not found")
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)

    def _read_info(self) -> MBTilesInfo:
        try:
            with self._connect() as con:
                meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
                zooms = con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
        except sqlite3.Error as exc:
            raise MBTilesError(self.path, f"not a readable MBTiles file ({exc})") from None
        fmt = str(meta.get("format") or "png").lower()
        if fmt not in MEDIA_TYPES:
            raise MBTilesError(self.path, f"tile format {fmt!r} is not a raster format the viewer draws (png, jpg, webp)")
        if zooms is None or zooms[0] is None:
            raise MBTilesError(self.path, "the MBTiles file holds no tiles")
        bounds = None
        if meta.get("bounds"):
            try:
                w, s, e, n = (float(v) for v in str(meta["bounds"]).split(","))
                bounds = (w, s, e, n)
            except ValueError:
                raise MBTilesError(self.path, f"metadata bounds {meta['bounds']!r} is not 'west,south,east,north'") from None
        minzoom = int(meta.get("minzoom", zooms[0]))
        maxzoom = int(meta.get("maxzoom", zooms[1]))
        return MBTilesInfo(format=fmt, media_type=MEDIA_TYPES[fmt], minzoom=minzoom, maxzoom=maxzoom,
                           bounds=bounds, name=meta.get("name"))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ (z, x, y), or None when the file has none there."""
        if z < 0 or z > 30 or not (0 <= x < (1 << z)) or not (0 <= y < (1 << z)):
            return None
        with self._connect() as con:
            row = con.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                              (z, x, tms_row(z, y))).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None
