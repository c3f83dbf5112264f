"""Shared helpers for the edge tests (imported as ``edge_helpers``; the fixtures are in conftest.py): generated videos (made once per session), configs,
and how to run ``heyan edge`` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from support.blob_detector import BLOB_MODEL

from heyan.datasets.synthetic.camera_video import MovingObject, OutfallSpec, SceneSpec

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token"


def edge_argv() -> list[str]:
    """`heyan edge`, through the wrapper that lets a config select the tests' blob detector."""
    return [sys.executable, str(REPO / "tests" / "support" / "edge_main.py"), "edge"]


def edge_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def run_edge(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(edge_argv() + args, cwd=REPO, env=edge_env(), capture_output=True, text=True, timeout=timeout)


def popen_edge(args: list[str], log: Path) -> subprocess.Popen[str]:
    fh = open(log, "w")  # noqa: SIM115 - closed by the OS when the child exits
    return subprocess.Popen(edge_argv() + args, cwd=REPO, env=edge_env(), stdout=fh, stderr=subprocess.STDOUT, text=True)


def last_json_line(stdout: str) -> dict[str, Any]:
    lines = [ln for ln in stdout.strip().splitlines() if ln.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def write_config(path: Path, server_url: str, cameras: list[dict[str, Any]], token: str = TOKEN,
                 model: str = BLOB_MODEL, **extra: Any) -> Path:
    cfg: dict[str, Any] = {
        "server": {"url": server_url, "token": token, "heartbeat_interval_s": 0.5, "retry_base_s": 0.2, "retry_max_s": 1.0,
                   "timeout_s": 5},
        "storage": {"dir": str(path.parent / "edge-data"), "min_free_mb": 0, "flush_timeout_s": 20},
        "detector": {"model": model, "threads": 1},
        "cameras": cameras,
    }
    for k, v in extra.items():
        cfg[k] = v if not isinstance(v, dict) else {**cfg.get(k, {}), **v}
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def fast_camera(cam_id: str, source: str, spec: SceneSpec, **over: Any) -> dict[str, Any]:
    """A camera tuned for short test videos: quick debounce and ends."""
    cam: dict[str, Any] = {
        "id": cam_id, "source": source, "rois": [spec.water_roi()], "detect_fps": 5, "full_detect_interval_s": 1.0,
        "tracker": {"min_hits": 2, "window": 3, "end_after_s": 1.0, "update_interval_s": 5.0, "follow_up_s": 0.3},
        "gate": {"warmup_s": 1.0},
    }
    cam.update(over)
    return cam


# Scenes used by several tests. Objects are saturated orange so the ONNX-free BlobDetector
# (BLOB_MODEL) finds them; each lives long enough to be confirmed and then ends.
SCENES: dict[str, SceneSpec] = {
    "objects": SceneSpec(seconds=10, fps=10, seed=3, objects=[
        MovingObject(0.5, 3.0, (0.15, 0.5), (0.35, 0.55), size=0.06, seed=1),
        MovingObject(3.0, 5.5, (0.6, 0.45), (0.8, 0.5), size=0.06, seed=2),
        MovingObject(5.5, 8.0, (0.2, 0.75), (0.4, 0.8), size=0.06, seed=3),
        MovingObject(7.5, 9.8, (0.55, 0.7), (0.75, 0.75), size=0.06, seed=4),
    ]),
    "one_object": SceneSpec(seconds=8, fps=10, seed=5, objects=[MovingObject(1.0, 7.0, (0.3, 0.55), (0.6, 0.6), size=0.08, seed=1)]),
}


__all__ = ["SCENES", "TOKEN", "OutfallSpec", "edge_argv", "fast_camera", "last_json_line", "popen_edge", "run_edge", "write_config"]
