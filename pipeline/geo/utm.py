"""Local metric frames: WGS-84 <-> the local UTM zone, and the local East-North-Up frame.

Angles from a drone are relative to *true* north, but UTM grid north differs from it by the
meridian convergence (up to ~1.5 deg across a zone at China's latitudes, i.e. 26 m of error at
1 km if ignored) and grid metres differ from ground metres by the point scale factor
(0.9996..1.001). Geometry is therefore done in a local East-North-Up (ENU) frame centred on
the camera, and ENU offsets are mapped into UTM by a 2x2 matrix measured at the camera
(``enu_to_grid_matrix``). Over the few kilometres a photo covers, that linearisation is good to
millimetres.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np
from pyproj import CRS, Geod, Transformer

WGS84 = "EPSG:4326"
_GEOD = Geod(ellps="WGS84")


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the UTM zone containing (lon, lat): 326zz north, 327zz south.

    Uses the regular 6-degree zones (the Norway/Svalbard exceptions do not matter here).
    """
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"invalid WGS-84 coordinates lon={lon} lat={lat}")
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=128)
def _transformer(src: str, dst: str, thread: int) -> Transformer:
    # Transformers are expensive to build; they are cached per thread because a pyproj
    # Transformer should not be shared between threads (serve runs the pipeline in workers).
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def transformer(src: str | int, dst: str | int) -> Transformer:
    """Cached always-xy (lon/lat or east/north order) pyproj transformer."""
    return _transformer(_crs_key(src), _crs_key(dst), threading.get_ident())


def _crs_key(crs: str | int) -> str:
    return f"EPSG:{crs}" if isinstance(crs, int) else str(crs)


def lonlat_to_utm(epsg: int, lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    e, n = transformer(WGS84, epsg).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(e, dtype=float), np.asarray(n, dtype=float)


def utm_to_lonlat(epsg: int, east: np.ndarray | float, north: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transformer(epsg, WGS84).transform(np.asarray(east, dtype=float), np.asarray(north, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def enu_to_grid_matrix(lon: float, lat: float, epsg: int, step_m: float = 50.0) -> np.ndarray:
    """2x2 matrix A with ``d_grid = A @ d_enu`` near (lon, lat): convergence and scale.

    Measured with exact geodesic offsets (``Geod.fwd``) of ``step_m`` east and north, taken
    symmetrically so the second-order terms cancel.
    """
    cols = []
    for az in (90.0, 0.0):  # east column, then north column
        lon_p, lat_p, _ = _GEOD.fwd(lon, lat, az, step_m)
        lon_m, lat_m, _ = _GEOD.fwd(lon, lat, az + 180.0, step_m)
        e, n = lonlat_to_utm(epsg, np.array([lon_p, lon_m]), np.array([lat_p, lat_m]))
        cols.append([(e[0] - e[1]) / (2 * step_m), (n[0] - n[1]) / (2 * step_m)])
    return np.array(cols, dtype=float).T


class LocalFrame:
    """ENU frame centred at a WGS-84 point, with conversions to UTM and lon/lat."""

    def __init__(self, lon: float, lat: float, epsg: int | None = None) -> None:
        self.lon = float(lon)
        self.lat = float(lat)
        self.epsg = int(epsg) if epsg is not None else utm_epsg(self.lon, self.lat)
        e0, n0 = lonlat_to_utm(self.epsg, self.lon, self.lat)
        self.origin_grid = np.array([float(e0), float(n0)])
        self.A = enu_to_grid_matrix(self.lon, self.lat, self.epsg)
        self.A_inv = np.linalg.inv(self.A)

    def enu_to_grid(self, east: np.ndarray, north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.stack([np.asarray(east, float), np.asarray(north, float)], axis=-1) @ self.A.T
        return d[..., 0] + self.origin_grid[0], d[..., 1] + self.origin_grid[1]

    def grid_to_enu(self, ge: np.ndarray, gn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.stack([np.asarray(ge, float) - self.origin_grid[0], np.asarray(gn, float) - self.origin_grid[1]], axis=-1)
        d = d @ self.A_inv.T
        return d[..., 0], d[..., 1]

    def enu_to_lonlat(self, east: np.ndarray, north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return utm_to_lonlat(self.epsg, *self.enu_to_grid(east, north))

    def lonlat_to_enu(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.grid_to_enu(*lonlat_to_utm(self.epsg, lon, lat))
