"""Simulate a survey flight: world -> route -> photos with EXIF/XMP -> ground truth files.

Output folder:

* ``photos/DJI_<time>_<n>_W.jpg`` — rendered from the TRUE pose, tagged with the NOISY pose
  (EXIF GPS + DJI XMP), as a real drone would;
* ``rivers.geojson`` — the river network (segments with chiefs and management-zone widths,
  water surfaces, outfalls, the permitted sand-mining area), pipeline.geo.rivers format;
* ``truth.geojson`` — one Point per object of the five classes: id, class, size_m, ...,
  ``seen_in`` (photos whose frame contains it);
* ``poses.jsonl`` — TRUE poses, one per photo, with ``heyan metadata``'s key names;
* ``flight.json`` — configuration, camera, noise model, route summary.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heyan.datasets.flight.build import build_world, make_river, world_frame
from heyan.datasets.flight.camera import MAVIC_3E, CameraSpec, NoiseModel
from heyan.datasets.flight.exif_writer import round_pose, write_photo
from heyan.datasets.flight.geojson import rivers_geojson, truth_geojson
from heyan.datasets.flight.render import CameraLook, render_photo
from heyan.datasets.flight.route import PATTERNS, RoutePlan, apply_noise, canonical_footprint, plan_route
from heyan.datasets.flight.world import World
from heyan.pipeline.geo.georef import ground_to_pixels
from heyan.pipeline.metadata.pose import CameraPose
from heyan.vision.common import atomic_write


@dataclass
class FlightConfig:
    photos: int = 24
    width: int = 2000
    height: int = 1500
    altitude_m: float = 80.0
    oblique: bool = False
    gimbal_pitch: float | None = None  # default -90 (nadir) or -50 (oblique)
    pattern: str = "river"
    forward_overlap: float = 0.75
    side_overlap: float = 0.75
    seed: int = 0
    river_width_m: float | None = None
    lat0: float | None = None
    lon0: float | None = None
    max_range_m: float = 600.0  # oblique photos fade into haze/sky towards it
    # How far past the bank roads a lawnmower reaches: wide blocks also cover land far from
    # the river, as area surveys do (what the river-zone tile skipping is for).
    corridor_margin_m: float = 20.0
    jpeg_quality: int = 90
    camera: CameraSpec = MAVIC_3E
    noise: NoiseModel = field(default_factory=NoiseModel)

    @property
    def pitch(self) -> float:
        if self.gimbal_pitch is not None:
            return float(self.gimbal_pitch)
        return -50.0 if self.oblique else -90.0

    def check(self) -> None:
        if not 1 <= self.photos <= 5000:
            raise ValueError(f"photos must be 1..5000, got {self.photos}")
        if not 20.0 <= self.altitude_m <= 500.0:
            raise ValueError(f"altitude must be 20..500 m, got {self.altitude_m}")
        if not -90.0 <= self.pitch <= -20.0:
            raise ValueError(f"gimbal pitch must be -90..-20 degrees, got {self.pitch}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"route pattern must be one of {', '.join(PATTERNS)}, got {self.pattern!r}")
        self.camera.check_size(self.width, self.height)


@dataclass
class FlightResult:
    out_dir: Path
    config: FlightConfig
    world: World
    plan: RoutePlan
    true_poses: list[CameraPose]
    reported_poses: list[CameraPose]  # what the photos' metadata says (rounded as written)
    photo_paths: list[Path]
    seen_in: dict[str, int]
    seconds: float
    render_seconds: float

    def summary(self) -> dict[str, Any]:
        p = self.plan
        lon0, lat0 = self.world.origin_lonlat
        return {
            "out": str(self.out_dir), "photos": len(self.photo_paths), "seed": self.config.seed,
            "origin": [round(lon0, 6), round(lat0, 6)], "river": self.world.river.name,
            "river_width_m": round(self.world.river.width_m, 1), "pattern": p.pattern,
            "gimbal_pitch": self.config.pitch, "altitude_m": self.config.altitude_m,
            "size": [self.config.width, self.config.height], "lanes": len(p.lane_offsets_m),
            "forward_spacing_m": round(p.forward_spacing_m, 2), "side_spacing_m": round(p.side_spacing_m, 2),
            "objects": len(self.world.objects),
            "objects_seen": sum(1 for v in self.seen_in.values() if v > 0),
            "seconds": round(self.seconds, 2),
            "seconds_per_photo": round(self.render_seconds / max(1, len(self.photo_paths)), 3),
        }


def pose_record(pose: CameraPose) -> dict[str, Any]:
    return pose.to_json_dict()


def load_poses(path: str | Path) -> list[CameraPose]:
    """Read ``poses.jsonl`` back into CameraPose objects."""
    from datetime import datetime

    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            d = json.loads(line)
            d["time"] = datetime.fromisoformat(d["time"]) if d.get("time") else None
            out.append(CameraPose(**d))
    return out


def _write_json(path: Path, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=1), durable=False)  # the simulator can make it again


@dataclass
class FlightPlan:
    """Everything about a flight but its pixels."""

    config: FlightConfig
    world: World
    plan: RoutePlan
    reported: list[CameraPose]


def plan_flight(config: FlightConfig | None = None) -> FlightPlan:
    """World, route, true and reported poses of a flight, without rendering anything."""
    cfg = config or FlightConfig()
    cfg.check()
    seed = cfg.seed
    # Long enough for the flight plus what oblique photos see beyond it.
    fp = canonical_footprint(cfg.camera, cfg.width, cfg.height, cfg.altitude_m, cfg.pitch, cfg.max_range_m)
    _, miny, _, maxy = fp.bounds
    step = 0.25 * (maxy - miny)
    length = max(3000.0, cfg.photos * step + 2 * max(abs(miny), abs(maxy)) + 1200.0)
    river = make_river(seed, length, cfg.river_width_m)
    frame = world_frame(seed, cfg.lat0, cfg.lon0)
    plan = plan_route(river, frame, cfg.camera, cfg.width, cfg.height, cfg.photos, np.random.default_rng([seed, 20]),
                      altitude_m=cfg.altitude_m, gimbal_pitch=cfg.pitch, pattern=cfg.pattern,
                      forward_overlap=cfg.forward_overlap, side_overlap=cfg.side_overlap, max_range_m=cfg.max_range_m,
                      corridor_margin_m=cfg.corridor_margin_m)
    world = build_world(seed, river, plan.stretch, plan.cover_half_m, cfg.lat0, cfg.lon0)
    reported = [round_pose(p) for p in apply_noise(plan.poses, world.frame, cfg.noise, np.random.default_rng([seed, 21]))]
    return FlightPlan(cfg, world, plan, reported)


def simulate_flight(out_dir: str | Path, config: FlightConfig | None = None,
                    progress: Callable[[int], None] | None = None) -> FlightResult:
    """Render a whole flight into ``out_dir`` (created). Deterministic from ``config.seed``."""
    cfg = config or FlightConfig()
    cfg.check()
    t_start = time.perf_counter()
    out = Path(out_dir)
    (out / "photos").mkdir(parents=True, exist_ok=True)
    seed = cfg.seed
    fl = plan_flight(cfg)
    world, plan, reported = fl.world, fl.plan, fl.reported
    look = CameraLook.random(np.random.default_rng([seed, 22]))
    lat = np.array([o.lat for o in world.objects])
    lon = np.array([o.lon for o in world.objects])
    seen = {o.id: 0 for o in world.objects}
    paths = []
    t_render = time.perf_counter()
    for i, (tp, rp) in enumerate(zip(plan.poses, reported)):
        img = render_photo(world, tp, np.random.default_rng([seed, 100, i]), look, cfg.max_range_m)
        path = write_photo(out / tp.file, img, rp, cfg.camera, cfg.jpeg_quality, cfg.noise.rtk_flag, cfg.noise.rtk_std_m)
        paths.append(path)
        if len(lat):
            px = ground_to_pixels(tp, lat, lon)
            inside = np.isfinite(px).all(axis=1) & (px[:, 0] >= 0) & (px[:, 0] < cfg.width) & \
                (px[:, 1] >= 0) & (px[:, 1] < cfg.height)
            for o, ok in zip(world.objects, inside):
                seen[o.id] += int(ok)
        if progress:
            progress(1)
    render_s = time.perf_counter() - t_render
    _write_json(out / "rivers.geojson", rivers_geojson(world))
    _write_json(out / "truth.geojson", truth_geojson(world, seen))
    tmp = out / "poses.jsonl.part"
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in plan.poses:
            fh.write(json.dumps(pose_record(p), ensure_ascii=False) + "\n")
    tmp.replace(out / "poses.jsonl")
    result = FlightResult(out, cfg, world, plan, plan.poses, reported, paths, seen, time.perf_counter() - t_start, render_s)
    noise = asdict(cfg.noise)
    _write_json(out / "flight.json", {
        "summary": result.summary(),
        "camera": asdict(cfg.camera),
        "noise": noise,
        "route": {"pattern": plan.pattern, "lane_offsets_m": [round(o, 2) for o in plan.lane_offsets_m],
                  "forward_overlap": cfg.forward_overlap, "side_overlap": cfg.side_overlap,
                  "look_ahead_m": round(plan.look_ahead_m, 2), "stretch_m": [round(v, 1) for v in plan.stretch],
                  "footprint_m": [round(plan.footprint_across_m, 2), round(plan.footprint_along_m, 2)]},
        "ground": {"plane_height_m": 0.0, "note": "flat world; water = takeoff level"},
        "max_range_m": cfg.max_range_m,
    })
    result.seconds = time.perf_counter() - t_start
    return result


def gsd_m(config: FlightConfig) -> float:
    f, _, _ = config.camera.intrinsics(config.width, config.height)
    return config.altitude_m / abs(math.sin(math.radians(config.pitch))) / f
