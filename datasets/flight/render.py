"""Render the photo a drone camera takes of the world.

The ground is a plane, so ground -> image is a homography. A photo is rendered as:

1. split the image rows into bands whose ground sampling distance varies by less than 1.5x
   (one band for a nadir photo; a few for an oblique one, whose far field is coarser);
2. for each band, render an orthophoto of the band's ground area at about the band's finest
   GSD, in a frame aligned with the camera's heading. Every texture is a function of the
   world position (world-anchored periodic tiles and low-frequency fields) and every object
   is drawn at its world position with its own seeded sprite, so overlapping photos see the
   same ground;
3. warp the orthophoto into the photo with the homography of the TRUE pose, obtained from
   ``pipeline.geo.georef.ground_to_pixels`` (so the simulator and the pipeline agree exactly);
4. fade to haze and sky towards ``max_range_m`` (oblique views) and apply the camera's
   vignetting, exposure and sensor noise.

Objects are flat on the ground (no relief, no parallax of buildings in oblique views).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from heyan.datasets.flight.world import World
from heyan.datasets.synthetic.effects import composite
from heyan.pipeline.geo.camera_model import rotation_enu_from_camera
from heyan.pipeline.geo.georef import ground_to_pixels
from heyan.pipeline.metadata.pose import CameraPose

TILE = 1024
TILE_RES = 0.04  # metres per tile pixel at mip level 0 (period 41 m)
MAX_ORTHO_PX = 9_000_000


# --------------------------------------------------------------------------- textures


def periodic_noise(rng: np.random.Generator, n: int, lam_min_px: float, lam_max_px: float, beta: float = 1.0,
                   direction: float | None = None, spread: float = 0.4) -> np.ndarray:
    """Tileable noise (n x n, zero mean, unit std) with wavelengths between the two bounds,
    power-law spectrum; optionally concentrated around a direction (wind ripples)."""
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    k = np.hypot(fx, fy)
    k[0, 0] = 1e-9
    amp = k ** (-beta) * (1 - np.exp(-((k * lam_max_px) ** 2))) * np.exp(-((k * lam_min_px) ** 2))
    if direction is not None:
        ang = np.arctan2(fy, fx)
        diff = (ang - direction + np.pi / 2) % np.pi - np.pi / 2
        amp = amp * np.exp(-((diff / spread) ** 2))
    amp[0, 0] = 0.0
    spec = (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)) * amp
    out = np.fft.irfft2(spec, s=(n, n)).astype(np.float32)
    out -= out.mean()
    return out / (out.std() + 1e-9)


@dataclass
class Tile:
    levels: list[np.ndarray]  # mip pyramid, level l at TILE_RES * 2**l m/px
    angle: float  # rotation of the tile on the ground (radians)
    stretch: float  # metres multiplier (breaks the repetition of the two tiles)


class TextureBank:
    """World-anchored periodic textures, built once per world."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 11])
        self.fine = self._tile(periodic_noise(rng, TILE, 1.5, 0.6 / TILE_RES, beta=0.6), 0.0, 1.0)
        self.medium = self._tile(periodic_noise(rng, TILE, 0.3 / TILE_RES, 8.0 / TILE_RES, beta=1.0),
                                 float(rng.uniform(0.3, 1.2)), 1.37)
        wind = float(rng.uniform(0, np.pi))
        self.ripple = self._tile(periodic_noise(rng, TILE, 0.25 / TILE_RES, 1.2 / TILE_RES, beta=0.5,
                                                direction=wind, spread=0.35), 0.0, 1.0)

    @staticmethod
    def _tile(base: np.ndarray, angle: float, stretch: float) -> Tile:
        levels = [base]
        while levels[-1].shape[0] > 64:
            # Coarser levels average the finest detail away, as a coarser camera pixel does.
            levels.append(cv2.resize(levels[-1], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        return Tile(levels, angle, stretch)


_BANKS: dict[int, TextureBank] = {}


def texture_bank(world: World) -> TextureBank:
    bank = _BANKS.get(world.seed)
    if bank is None:
        if len(_BANKS) >= 4:  # ~17 MB each
            _BANKS.pop(next(iter(_BANKS)))
        bank = _BANKS[world.seed] = TextureBank(world.seed)
    return bank


# --------------------------------------------------------------------------- ortho frame


@dataclass(frozen=True)
class OrthoFrame:
    """Pixel (i, j) of the orthophoto (pixel centres at integers, cv2's convention) is the
    world point ``origin + i * res * a + j * res * b``; ``a`` is image-right, ``b`` image-down
    (b = a turned clockwise, so the orthophoto is a map view, not a mirror image)."""

    origin: np.ndarray
    a: np.ndarray
    b: np.ndarray
    res: float
    width: int
    height: int

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        d = np.asarray(xy, float) - self.origin
        return np.stack([d @ self.a, d @ self.b], axis=-1) / self.res

    def to_world(self, ij: np.ndarray) -> np.ndarray:
        ij = np.asarray(ij, float)
        return self.origin + (ij[..., :1] * self.a + ij[..., 1:2] * self.b) * self.res

    def px_to_world_affine(self) -> np.ndarray:
        """2x3 matrix: world = M @ [i, j, 1]."""
        return np.array([[self.a[0] * self.res, self.b[0] * self.res, self.origin[0]],
                         [self.a[1] * self.res, self.b[1] * self.res, self.origin[1]]])

    def world_bbox(self) -> tuple[float, float, float, float]:
        c = self.to_world(np.array([[0, 0], [self.width, 0], [self.width, self.height], [0, self.height]], float))
        return float(c[:, 0].min()), float(c[:, 1].min()), float(c[:, 0].max()), float(c[:, 1].max())


def _sample_tile(tile: Tile, frame: OrthoFrame) -> np.ndarray:
    """The periodic tile sampled at every orthophoto pixel (world-anchored)."""
    level = 0
    while level + 1 < len(tile.levels) and TILE_RES * tile.stretch * 2 ** (level + 1) <= frame.res * 1.05:
        level += 1
    img = tile.levels[level]
    n = img.shape[0]
    cell = TILE_RES * tile.stretch * 2**level  # metres per tile pixel at this level
    c, s = math.cos(tile.angle), math.sin(tile.angle)
    rot = np.array([[c, s], [-s, c]])  # world -> tile axes
    m = rot @ frame.px_to_world_affine() / cell  # tile px = m @ [i, j, 1]
    m[:, 2] = np.mod(m[:, 2], n)
    return cv2.warpAffine(img, m, (frame.width, frame.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_WRAP)


def _sample_lowfreq(world: World, frame: OrthoFrame, sub: int = 8) -> np.ndarray:
    """(2, h, w): brightness mottling and cloud shadow at every orthophoto pixel. The fields
    are smooth, so they are sampled on a grid ``sub`` times coarser and interpolated."""
    fields = world.lowfreq
    sw, sh = -(-frame.width // sub), -(-frame.height // sub)
    # Small pixel p stands for ortho pixel sub * p + (sub - 1) / 2: cv2.resize's alignment.
    m = frame.px_to_world_affine().copy()
    m[:, 2] += m[:, :2] @ np.array([(sub - 1) / 2, (sub - 1) / 2])
    m[:, :2] *= sub
    m[:, 2] -= world.lowfreq_origin
    m /= world.lowfreq_cell
    out = []
    for ch in fields:
        small = cv2.warpAffine(ch, m, (sw, sh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)
        big = cv2.resize(small, (sw * sub, sh * sub), interpolation=cv2.INTER_LINEAR)
        out.append(big[:frame.height, :frame.width])
    return np.stack(out)


# --------------------------------------------------------------------------- orthophoto


def _draw_sprite(img: np.ndarray, bgr: np.ndarray, alpha: np.ndarray, sprite_res: float, centre: np.ndarray,
                 heading: float, frame: OrthoFrame, shadow: tuple[np.ndarray, float] | None = None) -> None:
    """Composite a top-down sprite (``sprite_res`` m/px) centred on world ``centre`` with its
    +x axis along ``heading`` (radians CCW from east). ``shadow``: (world offset, strength)."""
    f = sprite_res / frame.res
    h, w = alpha.shape
    if f < 0.8:
        nw, nh = max(1, int(round(w * f))), max(1, int(round(h * f)))
        bgr = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (nw, nh), interpolation=cv2.INTER_AREA)
        fx, fy = f * w / nw, f * h / nh
        h, w = nh, nw
    else:
        fx = fy = f
    d = np.array([math.cos(heading), math.sin(heading)])
    ex = np.array([d @ frame.a, d @ frame.b])
    ey = np.array([-ex[1], ex[0]])
    c = frame.to_px(centre)
    m = np.array([[ex[0] * fx, ey[0] * fy, 0.0], [ex[1] * fx, ey[1] * fy, 0.0]])
    m[:, 2] = c - m[:, :2] @ np.array([(w - 1) / 2, (h - 1) / 2])
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [w - 1, h - 1, 1], [0, h - 1, 1]], float) @ m.T
    shift = np.zeros(2)
    if shadow is not None:
        shift = frame.to_px(centre + shadow[0]) - c
    lo = np.floor(np.minimum(corners.min(0), corners.min(0) + shift)) - 1
    hi = np.ceil(np.maximum(corners.max(0), corners.max(0) + shift)) + 2
    x0, y0 = int(max(lo[0], 0)), int(max(lo[1], 0))
    x1, y1 = int(min(hi[0], frame.width)), int(min(hi[1], frame.height))
    if x0 >= x1 or y0 >= y1:
        return
    pw, ph = x1 - x0, y1 - y0
    ml = m.copy()
    ml[:, 2] -= (x0, y0)
    if shadow is not None:
        ms = ml.copy()
        ms[:, 2] += shift
        sa = cv2.warpAffine(alpha, ms, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        region = img[y0:y1, x0:x1]
        region *= (1.0 - shadow[1] * sa)[..., None]
    wb = cv2.warpAffine(bgr, ml, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    wa = cv2.warpAffine(alpha, ml, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    composite(img, wb, wa, x0, y0)


def _outfall_sprite(kind: str, res: float) -> tuple[np.ndarray, np.ndarray]:
    """A concrete headwall with a dark pipe mouth, seen from above, pointing +x (into the
    water); a sewage outfall trails a discoloured plume."""
    L, W = int(8.0 / res), int(3.0 / res)
    bgr = np.zeros((W, L, 3), np.float32)
    a = np.zeros((W, L), np.float32)
    wall = (int(0.0), int(W * 0.2), int(1.6 / res), int(W * 0.8))
    cv2.rectangle(bgr, wall[:2], wall[2:], (165, 170, 170), -1)
    cv2.rectangle(a, wall[:2], wall[2:], 1.0, -1)
    cv2.circle(bgr, (int(1.6 / res), W // 2), max(1, int(0.45 / res)), (35, 35, 35), -1, cv2.LINE_AA)
    cv2.circle(a, (int(1.6 / res), W // 2), max(1, int(0.45 / res)), 1.0, -1, cv2.LINE_AA)
    if kind == "sewage":
        plume = np.zeros((W, L), np.float32)
        cv2.ellipse(plume, (int(4.2 / res), W // 2), (int(2.8 / res), int(1.1 / res)), 0, 0, 360, 1.0, -1)
        plume = cv2.GaussianBlur(plume, (0, 0), 0.5 / res) * 0.55
        col = np.array((60, 80, 70), np.float32)
        blend = np.clip(plume - a, 0, 1)
        bgr = bgr * a[..., None] + col * blend[..., None]
        a = np.clip(a + blend, 0, 1)
        bgr = np.where(a[..., None] > 0, bgr / np.maximum(a, 1e-6)[..., None], 0)
    return bgr, a


_OUTFALL_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


class _Lookup:
    """Per-pixel attribute lookups from the label image: cv2.LUT on a compact 8-bit label
    image when the orthophoto holds fewer than 256 polygons (almost always), else numpy."""

    def __init__(self, lab: np.ndarray, ids: np.ndarray) -> None:
        self.ids = ids  # table row of each local label
        self.small = len(ids) <= 256
        self.lab = lab.astype(np.uint8) if self.small else lab
        self._lab3: np.ndarray | None = None

    def one(self, column: np.ndarray) -> np.ndarray:
        vals = column[self.ids].astype(np.float32)
        if not self.small:
            return vals[self.lab]
        lut = np.zeros(256, np.float32)
        lut[:len(vals)] = vals
        return cv2.LUT(self.lab, lut)

    def three(self, column: np.ndarray) -> np.ndarray:
        vals = column[self.ids].astype(np.float32)
        if not self.small:
            return vals[self.lab]
        if self._lab3 is None:
            self._lab3 = cv2.merge([self.lab, self.lab, self.lab])
        lut = np.zeros((256, 1, 3), np.float32)
        lut[:len(vals), 0] = vals
        return cv2.LUT(self._lab3, lut)


SEDIMENT_BGR = np.array([95, 125, 140], np.float32)


def render_ortho(world: World, frame: OrthoFrame) -> np.ndarray:
    """Orthophoto (float32 BGR, 0-255) of ``frame``'s ground area."""
    tex = texture_bank(world)
    table = world.poly_table()
    H, W = frame.height, frame.width
    minx, miny, maxx, maxy = frame.world_bbox()
    box = table["bbox"]
    hit = np.nonzero((box[:, 0] <= maxx) & (box[:, 2] >= minx) & (box[:, 1] <= maxy) & (box[:, 3] >= miny))[0]
    lab = np.zeros((H, W), np.int32)
    for local, k in enumerate(hit, start=1):
        pts = np.round(frame.to_px(world.polys[k].xy) * 8).astype(np.int32)
        cv2.fillPoly(lab, [pts], local, lineType=cv2.LINE_8, shift=3)
    look = _Lookup(lab, np.concatenate([[0], hit + 1]))
    water = look.one(table["water"])
    has_water = bool(water.any())
    low = _sample_lowfreq(world, frame)
    detail = _sample_tile(tex.fine, frame) * look.one(table["fine"])
    detail += _sample_tile(tex.medium, frame) * look.one(table["med"])
    fac = 1.0 + 0.07 * low[0]
    if has_water:
        detail += (_sample_tile(tex.ripple, frame) * 3.5 + low[0] * 5.0) * water
        fac = np.where(water > 0, 1.0, fac)
        land = (water == 0).astype(np.uint8)
        d_out = cv2.distanceTransform(land, cv2.DIST_L2, 5) * frame.res
        fac *= 1.0 - 0.25 * np.exp(-d_out / 0.6) * land  # wet strip along the water
    # Crop rows, greenhouse bays: stripes as a function of world position.
    rows_amp = look.one(table["rows"][:, 2])
    rm = rows_amp > 0
    if rm.any():
        jj, ii = np.nonzero(rm)
        m = frame.px_to_world_affine()
        X = m[0, 0] * ii + m[0, 1] * jj + m[0, 2]
        Y = m[1, 0] * ii + m[1, 1] * jj + m[1, 2]
        ang = look.one(table["rows"][:, 0])[rm]
        per = look.one(table["rows"][:, 1])[rm]
        phase = (X * np.cos(ang) + Y * np.sin(ang)) * (2 * np.pi / per)
        # Rows finer than 2 px blur into the mean colour (no aliasing moire).
        vis = np.clip(per / frame.res / 2.0 - 1.0, 0.0, 1.0)
        detail[rm] += (np.sin(phase) * rows_amp[rm] * vis).astype(np.float32)
    img = look.three(table["colour"])
    img *= fac[..., None]
    img += detail[..., None] * look.three(table["tint"])
    if has_water:
        # Shallow, sediment-coloured water along the shore.
        d_in = cv2.distanceTransform((water > 0).astype(np.uint8), cv2.DIST_L2, 5) * frame.res
        k = (0.45 * np.exp(-d_in / 1.5) * water)[..., None]
        img *= 1.0 - k
        img += k * SEDIMENT_BGR
    _draw_things(world, frame, img, (minx, miny, maxx, maxy))
    img *= (1.0 - 0.32 * low[1])[..., None]  # cloud shadows
    return img


def _draw_things(world: World, frame: OrthoFrame, img: np.ndarray, bbox: tuple[float, float, float, float]) -> None:
    minx, miny, maxx, maxy = bbox
    sun = np.array([math.cos(world.sun_azimuth), math.sin(world.sun_azimuth)])
    shadow_per_m = -sun / math.tan(world.sun_elevation)  # shadows point away from the sun

    def near(x: float, y: float, r: float) -> bool:
        return minx - r <= x <= maxx + r and miny - r <= y <= maxy + r

    for o in world.outfalls:
        if near(o.x, o.y, 10):
            key = f"{o.outfall_type}"
            if key not in _OUTFALL_CACHE:
                _OUTFALL_CACHE[key] = _outfall_sprite(o.outfall_type, 0.04)
            bgr, a = _OUTFALL_CACHE[key]
            # Sprite centre is 4 m along +x from the headwall's back; the point is the mouth.
            d = np.array([math.cos(o.heading), math.sin(o.heading)])
            _draw_sprite(img, bgr, a, 0.04, np.array([o.x, o.y]) + d * 2.4, o.heading, frame)
    order = {"waste_pile": 0, "structure": 1, "sand_dredger": 2, "boat": 3, "floating_debris": 4}
    for o in sorted(world.objects, key=lambda o: order[o.cls]):
        if not near(o.x, o.y, o.size_m * 1.5 + 10):
            continue
        bgr, a = world.sprite(o)
        shadow = (shadow_per_m * o.height_m, 0.45) if o.height_m > 0 else None
        _draw_sprite(img, bgr, a, o.sprite_res, np.array([o.x, o.y]), o.heading, frame, shadow)
    for t in world.trees:
        if not near(t.x, t.y, t.diameter + 12):
            continue
        bgr, a, res_per_m = world.tree_sprite(t.pool)
        _draw_sprite(img, bgr, a, res_per_m * t.diameter, np.array([t.x, t.y]), t.rotation, frame,
                     (shadow_per_m * t.height * 0.6, 0.4))


# --------------------------------------------------------------------------- photo


@dataclass
class CameraLook:
    """Flight-level photometric settings (one exposure/white balance for the whole flight)."""

    gain: float = 1.0
    wb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    vignetting: float = 0.18
    noise_sd: float = 1.2
    haze: tuple[float, float, float] = (215.0, 210.0, 200.0)
    sky: tuple[float, float, float] = (225.0, 200.0, 170.0)

    @classmethod
    def random(cls, rng: np.random.Generator) -> CameraLook:
        t = float(rng.uniform(0.95, 1.05))
        return cls(gain=float(rng.uniform(0.92, 1.1)), wb=(1.0 / t, 1.0, t),
                   haze=tuple(float(v) for v in rng.uniform(195, 225, 3)))


def _grid_rays(pose: CameraPose, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample pixels (georef convention, corner-based) every ``step`` px incl. the far edges,
    and their unit ray directions in ENU."""
    W, H = int(pose.width), int(pose.height)
    us = np.unique(np.append(np.arange(0, W, step, dtype=float), W))
    vs = np.unique(np.append(np.arange(0, H, step, dtype=float), H))
    uu, vv = np.meshgrid(us, vs)
    f, cx, cy = float(pose.focal_px), float(pose.cx), float(pose.cy)
    v = np.stack([(uu - cx) / f, (vv - cy) / f, np.ones_like(uu)], axis=-1)
    R = rotation_enu_from_camera(float(pose.gimbal_yaw), float(pose.gimbal_pitch), float(pose.gimbal_roll or 0.0))
    d = v @ R.T
    return us, vs, d


def plan_bands(pose: CameraPose, cam_xy: np.ndarray, max_range_m: float, step: int = 16,
               max_ratio: float = 1.5) -> list[dict]:
    """Row bands of the photo with the ground points they see and their resolution."""
    us, vs, d = _grid_rays(pose, step)
    z = float(pose.rel_alt_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d[..., 2] < -1e-9, z / -d[..., 2], np.inf)
    horiz = t * np.hypot(d[..., 0], d[..., 1])
    valid = np.isfinite(t) & (horiz <= max_range_m * 1.02)
    slant = t * np.linalg.norm(d, axis=-1)
    ground = cam_xy + np.nan_to_num(t[..., None] * d[..., :2], nan=0.0, posinf=0.0)
    gsd = np.where(valid, slant / float(pose.focal_px), np.inf)
    row_gsd = gsd.min(axis=1)
    bands: list[dict] = []
    k = 0
    nrows = len(vs)
    while k < nrows - 1:
        if not np.isfinite(row_gsd[k]) and not np.isfinite(row_gsd[k + 1]):
            k += 1
            continue
        k0 = k
        lo = hi = row_gsd[k] if np.isfinite(row_gsd[k]) else row_gsd[k + 1]
        while k + 1 < nrows:
            g = row_gsd[k + 1]
            if np.isfinite(g):
                nlo, nhi = min(lo, g), max(hi, g)
                if nhi / nlo > max_ratio and k > k0:
                    break
                lo, hi = nlo, nhi
            k += 1
        rows = slice(max(k0 - 1, 0), min(k + 2, nrows))
        pts = ground[rows][valid[rows]]
        if len(pts) >= 4:
            bands.append({"v0": float(vs[k0]), "v1": float(vs[k]), "res": float(lo), "ground": pts})
    return bands


def render_photo(world: World, pose: CameraPose, rng: np.random.Generator, look: CameraLook | None = None,
                 max_range_m: float = 600.0) -> np.ndarray:
    """uint8 BGR photo (pose.height x pose.width) seen from ``pose`` (the TRUE pose)."""
    look = look or CameraLook()
    W, H = int(pose.width), int(pose.height)
    cam_xy = np.array([float(v) for v in world.from_lonlat(pose.lon, pose.lat)])
    R = rotation_enu_from_camera(float(pose.gimbal_yaw), float(pose.gimbal_pitch), float(pose.gimbal_roll or 0.0))
    right = R[:2, 0]
    if np.hypot(*right) < 1e-6:
        right = np.array([1.0, 0.0])
    a = right / np.hypot(*right)
    b = np.array([a[1], -a[0]])
    out = np.zeros((H, W, 3), np.float32)
    filled = np.zeros((H, W), np.float32)
    for band in plan_bands(pose, cam_xy, max_range_m):
        pts = band["ground"]
        res = band["res"]
        u, v = pts @ a, pts @ b
        margin = 3.0 + 4 * res
        umin, umax, vmin, vmax = u.min() - margin, u.max() + margin, v.min() - margin, v.max() + margin
        while (umax - umin) * (vmax - vmin) / res**2 > MAX_ORTHO_PX:
            res *= 1.15
        frame = OrthoFrame(umin * a + vmin * b, a, b, res, int(math.ceil((umax - umin) / res)) + 1,
                           int(math.ceil((vmax - vmin) / res)) + 1)
        ortho = render_ortho(world, frame)
        # Homography ortho px -> photo px (cv2 centre convention = georef pixel - 0.5), from
        # the pipeline's own projection of the band's ground points.
        lon, lat = world.to_lonlat(pts[:, 0], pts[:, 1])
        px = ground_to_pixels(pose, lat, lon) - 0.5
        ok = np.isfinite(px).all(axis=1)
        src = frame.to_px(pts[ok]).astype(np.float32)
        hmat, _ = cv2.findHomography(src, px[ok].astype(np.float32), 0)
        if hmat is None:
            continue
        r0 = int(max(0, math.floor(band["v0"]) - 1))
        r1 = int(min(H, math.ceil(band["v1"]) + 1))
        shift = np.array([[1, 0, 0], [0, 1, -r0], [0, 0, 1]], float)
        part = cv2.warpPerspective(ortho, shift @ hmat, (W, r1 - r0), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=look.haze)
        mask = cv2.warpPerspective(np.ones(ortho.shape[:2], np.float32), shift @ hmat, (W, r1 - r0),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        new = mask > filled[r0:r1]
        np.copyto(out[r0:r1], part, where=new[..., None])
        np.copyto(filled[r0:r1], mask, where=new)
    _atmosphere(out, pose, cam_xy, look, max_range_m)
    return _camera_effects(out, rng, look)


def _atmosphere(img: np.ndarray, pose: CameraPose, cam_xy: np.ndarray, look: CameraLook, max_range_m: float) -> None:
    """Aerial perspective: haze growing with distance, ground fading into haze before the
    range limit (nothing is rendered beyond it), sky above the horizon."""
    if float(pose.gimbal_pitch) < -75:
        return
    H, W = img.shape[:2]
    us, vs, d = _grid_rays(pose, 16)
    z = float(pose.rel_alt_m)
    hz = np.hypot(d[..., 0], d[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d[..., 2] < -1e-9, z / -d[..., 2], np.inf)
    dist = np.minimum(t * hz, 4 * max_range_m)
    elev = np.degrees(np.arctan2(d[..., 2], hz))  # of the ray: < 0 below the horizon

    def full(a: np.ndarray) -> np.ndarray:
        return cv2.resize(a.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)

    dist, elev = full(dist), full(elev)
    k = 1.0 - np.exp(-dist / 2500.0)
    fog = np.clip((dist - 0.55 * max_range_m) / (0.4 * max_range_m), 0.0, 1.0) ** 1.5
    k = np.maximum(k, fog)
    haze = np.array(look.haze, np.float32)
    sky_w = np.clip(elev / 12.0, 0.0, 1.0)[..., None]  # haze at the horizon, sky colour above
    target = haze * (1 - sky_w) + np.array(look.sky, np.float32) * sky_w
    img *= (1 - k)[..., None]
    img += k[..., None] * target


_VIGNETTE: dict[tuple[int, int, float], np.ndarray] = {}


def _camera_effects(img: np.ndarray, rng: np.random.Generator, look: CameraLook) -> np.ndarray:
    H, W = img.shape[:2]
    key = (H, W, look.vignetting)
    vig = _VIGNETTE.get(key)
    if vig is None:
        yy = (np.arange(H, dtype=np.float32) - H / 2) / (H / 2)
        xx = (np.arange(W, dtype=np.float32) - W / 2) / (W / 2)
        vig = _VIGNETTE[key] = 1.0 - look.vignetting * (xx[None, :] ** 2 + yy[:, None] ** 2) / 2.0
    gain = look.gain * float(rng.normal(1.0, 0.015))
    img *= (vig * gain)[..., None] * np.array(look.wb, np.float32)
    noise = rng.standard_normal((H // 2 + 1, W // 2 + 1), dtype=np.float32) * look.noise_sd
    img += cv2.resize(noise, (W, H), interpolation=cv2.INTER_NEAREST)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)
