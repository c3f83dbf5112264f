"""How well does georeferencing place objects, given the pose errors of a real drone?

For every photo and every true object inside its frame: the object's pixel is computed with
the TRUE pose (a perfect detection), then georeferenced with the pose the photo REPORTS
(``pipeline.geo.georef.project_pixels`` on ``pipeline.metadata.read_pose`` of the JPEG), and
compared with the object's true position. The figures: median and 95th-percentile distance,
and the share of points whose distance is within 1x and 2x the pipeline's own 1-sigma
error estimate (``GeorefResult.error_m``, the radial sqrt(sigma_E^2 + sigma_N^2)). For a
well-calibrated isotropic Gaussian those shares are 1 - e^-1 = 63 % and 1 - e^-4 = 98 %.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

from heyan.datasets.flight.camera import NoiseModel
from heyan.pipeline.geo.errors_model import ErrorModel
from heyan.pipeline.geo.georef import GeorefSettings, GroundPlane, ground_to_pixels, project_pixels
from heyan.pipeline.metadata.pose import CameraPose

_GEOD = Geod(ellps="WGS84")
EXPECTED_WITHIN_1SIGMA = 1 - math.exp(-1)
EXPECTED_WITHIN_2SIGMA = 1 - math.exp(-4)


@dataclass
class LocalisationStats:
    n: int  # object sightings (object x photo) that were georeferenced
    objects: int  # distinct objects seen
    missed: int  # sightings for which georef gave no point
    median_m: float
    p95_m: float
    max_m: float
    median_error_estimate_m: float
    within_1sigma: float
    within_2sigma: float
    per_class_median_m: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["expected_within_1sigma"] = round(EXPECTED_WITHIN_1SIGMA, 3)
        d["expected_within_2sigma"] = round(EXPECTED_WITHIN_2SIGMA, 3)
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in d.items()}

    def line(self) -> str:
        return (f"n={self.n} ({self.objects} objects) median {self.median_m:.2f} m, p95 {self.p95_m:.2f} m, "
                f"max {self.max_m:.2f} m; median 1-sigma estimate {self.median_error_estimate_m:.2f} m; "
                f"within 1 sigma {self.within_1sigma:.0%} (ideal 63%), within 2 sigma {self.within_2sigma:.0%} "
                f"(ideal 98%)")


def error_model_for(noise: NoiseModel) -> ErrorModel:
    """The ErrorModel whose sigmas are the simulator's noise (for a calibration check)."""
    return ErrorModel(sigma_h_gnss_m=noise.horizontal_sigma_m,
                      sigma_rel_alt_m=math.hypot(noise.rel_alt_bias_m, noise.rel_alt_white_m),
                      sigma_plane_m=0.01, sigma_yaw_deg=noise.yaw_sigma_deg, sigma_pitch_deg=noise.pitch_deg,
                      sigma_roll_deg=noise.roll_deg, sigma_focal_rel_calibrated=1e-4, sigma_focal_rel=1e-4)


def _sightings(true_poses: list[CameraPose], reported_poses: list[CameraPose], objects: list[dict[str, Any]],
               settings: GeorefSettings | None = None, ground: GroundPlane | None = None):
    ground = ground or GroundPlane(0.0)
    settings = settings or GeorefSettings()
    lat = np.array([o["lat"] for o in objects], float)
    lon = np.array([o["lon"] for o in objects], float)
    dists, errs, classes, seen = [], [], [], set()
    missed = 0
    for tp, rp in zip(true_poses, reported_poses):
        if not len(objects):
            break
        px = ground_to_pixels(tp, lat, lon, ground)
        inside = np.isfinite(px).all(axis=1) & (px[:, 0] >= 0) & (px[:, 0] < tp.width) & \
            (px[:, 1] >= 0) & (px[:, 1] < tp.height)
        idx = np.nonzero(inside)[0]
        if not len(idx):
            continue
        res = project_pixels(rp, px[idx], ground, settings)
        for j, i in enumerate(idx):
            if res.reasons[j] is not None:
                missed += 1
                continue
            _, _, d = _GEOD.inv(lon[i], lat[i], res.lon[j], res.lat[j])
            dists.append(d)
            errs.append(float(res.error_m[j]))
            classes.append(objects[i]["class"])
            seen.add(objects[i].get("id", i))
    return np.array(dists, float), np.array(errs, float), classes, seen, missed


def _stats(d: np.ndarray, e: np.ndarray, classes: list[str], seen: set, missed: int) -> LocalisationStats:
    if not len(d):
        nan = float("nan")
        return LocalisationStats(0, 0, missed, nan, nan, nan, nan, nan, nan)
    cls = np.array(classes)
    per_class = {c: float(np.median(d[cls == c])) for c in sorted(set(classes))}
    return LocalisationStats(
        n=len(d), objects=len(seen), missed=missed, median_m=float(np.median(d)), p95_m=float(np.percentile(d, 95)),
        max_m=float(d.max()), median_error_estimate_m=float(np.median(e)), within_1sigma=float(np.mean(d <= e)),
        within_2sigma=float(np.mean(d <= 2 * e)), per_class_median_m=per_class)


def measure(true_poses: list[CameraPose], reported_poses: list[CameraPose], objects: list[dict[str, Any]],
            settings: GeorefSettings | None = None, ground: GroundPlane | None = None) -> LocalisationStats:
    """``objects``: dicts with ``id``, ``class``, ``lat``, ``lon``."""
    return _stats(*_sightings(true_poses, reported_poses, objects, settings, ground))


def load_truth(flight_dir: str | Path) -> list[dict[str, Any]]:
    data = json.loads((Path(flight_dir) / "truth.geojson").read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        lon, lat = f["geometry"]["coordinates"]
        out.append({**f["properties"], "lat": lat, "lon": lon})
    return out


def measure_flight(flight_dir: str | Path, settings: GeorefSettings | None = None,
                   ground: GroundPlane | None = None, role: str | None = None) -> LocalisationStats:
    """Measure a simulated flight from its files: true poses from ``poses.jsonl``, reported
    poses read from the photos themselves (``pipeline.metadata.read_pose``), objects from
    ``truth.geojson`` (optionally only those of ``role``, e.g. "planted")."""
    from heyan.datasets.flight.simulate import load_poses
    from heyan.pipeline.metadata import read_pose

    root = Path(flight_dir)
    true_poses = load_poses(root / "poses.jsonl")
    reported = [read_pose(root / p.file) for p in true_poses]
    objects = [o for o in load_truth(root) if role is None or o.get("role") == role]
    return measure(true_poses, reported, objects, settings, ground)


def measure_seeds(config, seeds: list[int], settings: GeorefSettings | list[GeorefSettings] | None = None,
                  role: str | None = "planted") -> LocalisationStats | list[LocalisationStats]:
    """Pool the figure over several simulated flights (no rendering needed: the true pixel
    of an object comes from the true pose). One flight has a single GNSS offset and compass
    bias, so its figure is one draw; several seeds give the distribution. ``settings`` may
    be a list: the flights are then simulated once and measured with each (a list back)."""
    from dataclasses import replace as _replace

    from heyan.datasets.flight.simulate import plan_flight

    many = isinstance(settings, list)
    variants = settings if many else [settings]
    parts: list[list] = [[] for _ in variants]
    for seed in seeds:
        fl = plan_flight(_replace(config, seed=seed))
        objs = [{"id": f"{seed}:{o.id}", "class": o.cls, "lat": o.lat, "lon": o.lon}
                for o in fl.world.objects if role is None or o.role == role]
        for k, st in enumerate(variants):
            parts[k].append(_sightings(fl.plan.poses, fl.reported, objs, st))
    out = []
    for ps in parts:
        out.append(_stats(np.concatenate([p[0] for p in ps]), np.concatenate([p[1] for p in ps]),
                          [c for p in ps for c in p[2]], set().union(*(p[3] for p in ps)), sum(p[4] for p in ps)))
    return out if many else out[0]
