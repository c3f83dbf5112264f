"""A tiny, real training run: generate data, train one epoch offline, export ONNX with a
card, and run it through our runtime and `heyan eval`."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from datasets.synthetic.dataset import generate_dataset

pytest.importorskip("ultralytics", reason="training needs the train extra: pip install 'heyan[train]'")
pytestmark = pytest.mark.slow


def test_train_export_eval_offline(tmp_path, monkeypatch):
    # Any attempt to reach the network fails loudly instead of hanging on a dead link.
    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))

    from heyan.cli import app

    ds = tmp_path / "ds"
    generate_dataset(ds, n_train=16, n_val=4, seed=7, size=96)
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--data", str(ds / "data.yaml"), "--out", str(tmp_path / "run"),
                              "--imgsz", "96", "--epochs", "1", "--batch", "8"])
    assert res.exit_code == 0, res.output
    weights = tmp_path / "run" / "weights" / "best.pt"
    assert weights.is_file()
    zoo = tmp_path / "zoo"
    res = runner.invoke(app, ["export", str(weights), "--name", "tiny", "--zoo", str(zoo), "--imgsz", "96",
                              "--data", str(ds / "data.yaml"), "--command", "pytest smoke"])
    assert res.exit_code == 0, res.output
    card = json.loads((zoo / "tiny" / "model.json").read_text())
    assert card["imgsz"] == 96 and card["classes"][0] == "floating_debris"
    assert card["training"]["command"] == "pytest smoke" and card["training"]["epochs_done"] == 1

    from models.registry import load_detector

    det = load_detector("tiny", extra=zoo, conf=0.001)
    out = det.predict_batch([np.zeros((96, 96, 3), np.uint8), np.full((50, 80, 3), 128, np.uint8)])
    assert len(out) == 2
    monkeypatch.setenv("HEYAN_ZOO_DIR", str(zoo))
    from heyan.settings import get_settings

    get_settings.cache_clear()
    res = runner.invoke(app, ["eval", "--data", str(ds / "data.yaml"), "--model", "tiny", "--write", str(tmp_path / "m.json")])
    get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["images"] == 4 and {c["name"] for c in metrics["per_class"]} >= {"boat", "structure"}
