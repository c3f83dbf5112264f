"""Fixtures for the edge tests; plain helpers live in edge_helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from edge_helpers import SCENES

from heyan.datasets.synthetic.camera_video import write_video


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("edge-videos")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            path = root / f"{name}.avi"
            write_video(path, SCENES[name])
            made[name] = path
        return made[name]

    return get
