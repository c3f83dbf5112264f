"""Terrain model (DEM/DSM GeoTIFF) and ray-terrain intersection.

rasterio is optional and imported only when a GeoTIFF is opened; a DEM can also be built
from a numpy array (``Dem.from_array``), which is what the edge box and tests use when they
have no GDAL. Heights are metres in the DEM's vertical datum; the camera altitude must be
given in the same datum (see ``GeorefSettings.takeoff_alt_m`` in pipeline.geo.georef).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS

from heyan.pipeline.geo.utm import LocalFrame, transformer
from heyan.vision.common import InputError


class DemError(InputError):
    """The DEM cannot be read or does not cover what is asked."""


@dataclass
class DemGrid:
    """An in-memory elevation grid. ``transform`` is the affine (a, b, c, d, e, f) of
    rasterio/GDAL: x = a*col + b*row + c, y = d*col + e*row + f, pixel-is-area."""

    elevation: np.ndarray  # (rows, cols) float64, NaN where unknown
    transform: tuple[float, float, float, float, float, float]
    crs: str

    def __post_init__(self) -> None:
        a, b, c, d, e, f = self.transform
        m = np.array([[a, b], [d, e]], dtype=float)
        self._inv = np.linalg.inv(m)
        self._off = np.array([c, f], dtype=float)

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear height at CRS coordinates; NaN off the grid or next to a nodata cell."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        shape = x.shape
        dx = x.ravel() - self._off[0]
        dy = y.ravel() - self._off[1]
        col = self._inv[0, 0] * dx + self._inv[0, 1] * dy - 0.5  # pixel centres at +0.5
        row = self._inv[1, 0] * dx + self._inv[1, 1] * dy - 0.5
        rows, cols = self.elevation.shape
        out = np.full(col.shape, np.nan)
        ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (row >= 0) & (col <= cols - 1) & (row <= rows - 1)
        if np.any(ok):
            c = col[ok]
            r = row[ok]
            c0 = np.minimum(np.floor(c).astype(np.int64), max(cols - 2, 0))
            r0 = np.minimum(np.floor(r).astype(np.int64), max(rows - 2, 0))
            c1 = np.minimum(c0 + 1, cols - 1)
            r1 = np.minimum(r0 + 1, rows - 1)
            fc = c - c0
            fr = r - r0
            z = self.elevation
            v = (z[r0, c0] * (1 - fc) * (1 - fr) + z[r0, c1] * fc * (1 - fr)
                 + z[r1, c0] * (1 - fc) * fr + z[r1, c1] * fc * fr)
            out[ok] = v  # NaN propagates from any nodata neighbour
        return out.reshape(shape)

    def cell_size_m(self, lat: float) -> float:
        a, b, _, d, e, _ = self.transform
        size = math.sqrt(abs(a * e - b * d))
        if CRS.from_user_input(self.crs).is_geographic:
            size *= 111_320.0 * math.sqrt(max(math.cos(math.radians(lat)), 1e-6))  # geometric mean of lon/lat metres
        return size


class Dem:
    """A DEM/DSM: a GeoTIFF read window by window, or an in-memory array.

    ``sigma_m`` is its vertical 1-sigma (default: ErrorModel.sigma_dem_m).
    """

    def __init__(self, path: str | Path | None = None, *, grid: DemGrid | None = None,
                 sigma_m: float | None = None, band: int = 1) -> None:
        if (path is None) == (grid is None):
            raise ValueError("Dem needs exactly one of a path or an in-memory grid")
        self.path = Path(path) if path is not None else None
        self.grid = grid
        self.sigma_m = sigma_m
        self.band = band
        self._cache: dict[tuple, DemGrid] = {}
        if self.path is not None:
            self._info = _read_info(self.path)

    @classmethod
    def from_array(cls, elevation: np.ndarray, transform: Sequence[float], crs: str | int,
                   nodata: float | None = None, sigma_m: float | None = None) -> Dem:
        z = np.asarray(elevation, dtype=np.float64).copy()
        if nodata is not None:
            z[z == nodata] = np.nan
        crs_s = f"EPSG:{crs}" if isinstance(crs, int) else str(crs)
        return cls(grid=DemGrid(z, tuple(float(v) for v in tuple(transform)[:6]), crs_s), sigma_m=sigma_m)

    @property
    def crs(self) -> str:
        return self.grid.crs if self.grid is not None else self._info["crs"]

    def window(self, bounds: tuple[float, float, float, float]) -> DemGrid:
        """The part of the DEM covering (xmin, ymin, xmax, ymax) in the DEM's CRS."""
        if self.grid is not None:
            return self.grid
        key = tuple(round(v, 3) for v in bounds)
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = _read_window(self.path, self._info, bounds, self.band)
        return self._cache[key]


def _rasterio():
    try:
        import rasterio  # noqa: PLC0415 - optional dependency, imported lazily
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DemError("reading a DEM GeoTIFF needs rasterio: pip install rasterio "
                       "(or build the DEM with Dem.from_array)") from exc
    return rasterio


def _read_info(path: Path) -> dict:
    rasterio = _rasterio()
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise DemError(f"{path}: DEM has no coordinate reference system")
            return {"crs": ds.crs.to_wkt(), "transform": tuple(ds.transform)[:6],
                    "width": ds.width, "height": ds.height}
    except rasterio.errors.RasterioIOError as exc:
        raise DemError(f"{path}: cannot open DEM: {exc}") from exc


def _read_window(path: Path, info: dict, bounds: tuple[float, float, float, float], band: int) -> DemGrid:
    rasterio = _rasterio()
    from rasterio.windows import Window  # noqa: PLC0415

    a, b, c, d, e, f = info["transform"]
    inv = np.linalg.inv(np.array([[a, b], [d, e]]))
    xs = np.array([bounds[0], bounds[2], bounds[0], bounds[2]]) - c
    ys = np.array([bounds[1], bounds[1], bounds[3], bounds[3]]) - f
    cols = inv[0, 0] * xs + inv[0, 1] * ys
    rows = inv[1, 0] * xs + inv[1, 1] * ys
    c0 = max(int(math.floor(cols.min())) - 2, 0)
    r0 = max(int(math.floor(rows.min())) - 2, 0)
    c1 = min(int(math.ceil(cols.max())) + 2, info["width"])
    r1 = min(int(math.ceil(rows.max())) + 2, info["height"])
    if c1 <= c0 or r1 <= r0:
        # Nothing of the DEM near the camera: an all-NaN 2x2 grid makes every ray "off DEM".
        return DemGrid(np.full((2, 2), np.nan), info["transform"], info["crs"])
    win = Window(c0, r0, c1 - c0, r1 - r0)
    with rasterio.open(path) as ds:
        arr = ds.read(band, window=win, masked=True).astype(np.float64).filled(np.nan)
        tr = tuple(ds.window_transform(win))[:6]
    return DemGrid(arr, tr, info["crs"])


TerrainFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def terrain_in_frame(dem: Dem, frame: LocalFrame, radius_m: float) -> tuple[TerrainFn, DemGrid]:
    """Height function over the camera's ENU frame (east, north in metres -> DEM height)."""
    corners_e = np.array([-radius_m, radius_m, radius_m, -radius_m, 0.0])
    corners_n = np.array([-radius_m, -radius_m, radius_m, radius_m, 0.0])
    ge, gn = frame.enu_to_grid(corners_e, corners_n)
    dem_crs = CRS.from_user_input(dem.crs)
    same = dem_crs.to_epsg() == frame.epsg
    to_dem = None if same else transformer(frame.epsg, dem_crs.to_wkt())
    if to_dem is not None:
        x, y = to_dem.transform(ge, gn)
    else:
        x, y = ge, gn
    grid = dem.window((float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))))

    def terrain(east: np.ndarray, north: np.ndarray) -> np.ndarray:
        ge_, gn_ = frame.enu_to_grid(east, north)
        if to_dem is not None:
            xx, yy = to_dem.transform(ge_, gn_)
            return grid.sample(np.asarray(xx), np.asarray(yy))
        return grid.sample(ge_, gn_)

    return terrain, grid


# Status codes of march_rays.
HIT, OFF_DEM, NO_HIT, CAMERA_BELOW = 0, 1, 2, 3


def march_rays(terrain: TerrainFn, z0: float, dirs: np.ndarray, t_max: np.ndarray, step_m: float,
               chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """First intersection of rays from (0, 0, z0) along unit ENU ``dirs`` (N,3) with terrain.

    Steps along each ray (slant step ``step_m``, about half a DEM cell so a ridge is not
    jumped over) up to ``t_max`` (N,), then bisects the bracketing step to 0.1 mm. A ray that
    meets unknown terrain (off the DEM or nodata) before the ground gives OFF_DEM rather than
    a guess. Returns (t, status), t NaN where status != HIT.
    """
    n = len(dirs)
    t_hit = np.full(n, np.nan)
    status = np.full(n, NO_HIT, dtype=np.int8)
    if n == 0:
        return t_hit, status
    z_nadir = terrain(np.zeros(1), np.zeros(1))[0]
    if np.isfinite(z_nadir) and z0 <= z_nadir:
        status[:] = CAMERA_BELOW
        return t_hit, status
    active = np.where(t_max > 0)[0]
    t_lo = np.zeros(n)
    k = np.arange(1, chunk + 1, dtype=float)
    while active.size:
        d = dirs[active]
        ts = t_lo[active, None] + step_m * k[None, :]
        ts = np.minimum(ts, t_max[active, None])
        e = ts * d[:, 0:1]
        nn = ts * d[:, 1:2]
        z = z0 + ts * d[:, 2:3]
        terr = terrain(e, nn)
        below = z <= terr
        unknown = ~np.isfinite(terr)
        event = below | unknown
        has = event.any(axis=1)
        first = np.argmax(event, axis=1)
        still = []
        for j, idx in enumerate(active):
            if has[j]:
                i = first[j]
                if unknown[j, i]:
                    status[idx] = OFF_DEM
                else:
                    status[idx] = HIT
                    lo = ts[j, i - 1] if i > 0 else t_lo[idx]
                    t_lo[idx] = lo
                    t_hit[idx] = ts[j, i]  # upper bracket, refined below
            elif ts[j, -1] >= t_max[idx]:
                status[idx] = NO_HIT
            else:
                t_lo[idx] = ts[j, -1]
                still.append(idx)
        active = np.array(still, dtype=np.int64)

    hit = np.where(status == HIT)[0]
    if hit.size:
        lo = t_lo[hit].copy()
        hi = t_hit[hit].copy()
        d = dirs[hit]
        for _ in range(60):
            if np.all(hi - lo < 1e-4):
                break
            mid = 0.5 * (lo + hi)
            terr = terrain(mid * d[:, 0], mid * d[:, 1])
            below = ~(z0 + mid * d[:, 2] > terr)  # unknown counts as below: stay conservative
            hi = np.where(below, mid, hi)
            lo = np.where(below, lo, mid)
        t_hit[hit] = 0.5 * (lo + hi)
    return t_hit, status


def terrain_gradient(terrain: TerrainFn, east: np.ndarray, north: np.ndarray, h: float = 0.5) -> np.ndarray:
    """(N,2) dz/deast, dz/dnorth by central differences; 0 where a neighbour is unknown."""
    ze = (terrain(east + h, north) - terrain(east - h, north)) / (2 * h)
    zn = (terrain(east, north + h) - terrain(east, north - h)) / (2 * h)
    g = np.stack([ze, zn], axis=1)
    g[~np.isfinite(g)] = 0.0
    return g
