"""WGS-84 -> GCJ-02 (the offset datum of Chinese consumer basemaps: AMap, Tencent).

WGS-84 stays the truth everywhere; this is only for exports that will be drawn on such a
basemap. The transform is the widely published one (no official reference implementation
exists); accuracy of the forward transform is ~1 m against the real offsets. Outside
mainland China the offset is not applied, as the basemaps don't apply it either.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _tlat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lat, lon)
    return np.where(outside, lat, lat + dlat), np.where(outside, lon, lon + dlon)


def gcj02_to_wgs84(lat: np.ndarray | float, lon: np.ndarray | float, iterations: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Inverse by fixed-point iteration (converges to millimetres in 2-3 steps)."""
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    wlat, wlon = lat.copy(), lon.copy()
    for _ in range(iterations):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        wlat, wlon = wlat - (glat - lat), wlon - (glon - lon)
    return wlat, wlon
