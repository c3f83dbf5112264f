"""Survey-flight simulator with ground truth: a synthetic georeferenced river world, drone
routes over it, photos rendered from the true camera pose and tagged (EXIF GPS + DJI XMP)
with the noisy pose a real drone would report, and the truth files to score the pipeline.

    from heyan.datasets.flight import FlightConfig, simulate_flight
    result = simulate_flight("out/flight", FlightConfig(photos=24, seed=1))
"""

from heyan.datasets.flight.build import build_world, generate_world, make_river
from heyan.datasets.flight.camera import MAVIC_3E, PHANTOM_4_RTK, CameraSpec, NoiseModel
from heyan.datasets.flight.simulate import FlightConfig, FlightResult, load_poses, simulate_flight
from heyan.datasets.flight.world import World

__all__ = [
    "MAVIC_3E",
    "PHANTOM_4_RTK",
    "CameraSpec",
    "FlightConfig",
    "FlightResult",
    "NoiseModel",
    "World",
    "build_world",
    "generate_world",
    "load_poses",
    "make_river",
    "simulate_flight",
]
