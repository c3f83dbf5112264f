"""Deterministic generator of labelled river scenes (drone and fixed-camera views).

``generate_dataset`` writes a YOLO-format dataset; ``render_drone_scene`` and
``render_camera_scene`` return one image with its boxes, for tests and the simulator.
"""

from heyan.datasets.synthetic.scenes import SceneSample, render_camera_scene, render_drone_scene, render_scene

__all__ = ["SceneSample", "render_camera_scene", "render_drone_scene", "render_scene"]
