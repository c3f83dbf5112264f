"""A tiny, real training run: generate data, train one epoch offline, export ONNX with a
card, and run it through our runtime and `heyan eval`."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from heyan.datasets.synthetic.dataset import generate_dataset

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

    from heyan.models.registry import load_detector

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


def test_zoo_model_checkpoint_rebuilt_from_onnx_computes_the_same(tmp_path):
    """An office fine-tunes the model it runs, of which only ONNX ships: the rebuilt
    checkpoint must compute what the ONNX computes, before any training."""
    import onnxruntime as ort
    import torch

    from heyan.models.recover import checkpoint_for_zoo_model
    from heyan.models.registry import resolve_model

    onnx_path, card = resolve_model("heyan-det-v1")
    pt = checkpoint_for_zoo_model("heyan-det-v1", tmp_path / "v1.pt")
    ckpt = torch.load(pt, weights_only=False)
    net = ckpt["model"].float().eval()
    assert list(net.names.values()) == card.classes
    x = np.random.default_rng(0).random((2, 3, card.imgsz, card.imgsz), dtype=np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        got = net(torch.from_numpy(x))[0].numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-2 * max(1.0, float(np.abs(want).max()) / 100)


def test_recover_refuses_a_model_of_another_architecture(tmp_path):
    from heyan.models.recover import RecoverError, checkpoint_from_onnx
    from heyan.models.registry import resolve_model

    onnx_path, card = resolve_model("heyan-det-v1")
    with pytest.raises(RecoverError, match="yolo11s"):
        checkpoint_from_onnx(onnx_path, tmp_path / "x.pt", card.classes, "yolo11s.yaml")


def test_eval_scores_sources_apart_and_pooled(tmp_path):
    from heyan.cli import app

    a, b = tmp_path / "a", tmp_path / "b"
    generate_dataset(a, n_train=0, n_val=6, seed=11, size=160)
    generate_dataset(b, n_train=0, n_val=4, seed=12, size=160)
    res = CliRunner().invoke(app, ["eval", "--data", f"one={a / 'data.yaml'}", "--data", f"{b / 'data.yaml'}:val",
                                   "--model", "heyan-det-v1", "--write", str(tmp_path / "m.json")])
    assert res.exit_code == 0, res.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert set(m["sources"]) == {"one", "b"}
    assert m["sources"]["one"]["images"] == 6 and m["sources"]["b"]["images"] == 4
    assert m["all"]["images"] == 10
    assert m["all"]["instances"] == m["sources"]["one"]["instances"] + m["sources"]["b"]["instances"]
    assert "false_positives_per_image" in m["all"]
    assert "taken for" in res.output or "missed" in res.output  # the confusion summary in words


def test_pretrained_package_weights_carry_over_but_the_class_layer(tmp_path):
    """Starting weights from a detector shipped inside a registry package (nudenet's
    YOLOv8n): the rebuilt network computes the package's boxes exactly, and only the
    class layer is new (our classes, not the package's)."""
    import onnxruntime as ort
    import torch

    from heyan.models.pretrained import PretrainedError, checkpoint_for_pretrained, pretrained_onnx
    from heyan.vision.classes import class_names

    try:
        onnx_path, src = pretrained_onnx("nudenet-320n")
    except PretrainedError as exc:
        pytest.fail(f"make install-full installs the pretrained package: {exc}")
    pt = checkpoint_for_pretrained("nudenet-320n", tmp_path / "start.pt", class_names())
    net = torch.load(pt, weights_only=False)["model"].float().eval()
    assert list(net.names.values()) == class_names()
    x = np.random.default_rng(1).random((1, 3, src.imgsz, src.imgsz), dtype=np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        got = net(torch.from_numpy(x))[0].numpy()
    assert want.shape[1] == 4 + 18 and got.shape[1] == 4 + len(class_names())
    assert np.abs(got[:, :4] - want[:, :4]).max() < 1e-2  # boxes in pixels: same network
    # The card must name the architecture the weights fit (recover.py rebuilds from it).
    from heyan.models.train import checkpoint_architecture
    assert checkpoint_architecture(pt) == "yolov8n"
    with pytest.raises(PretrainedError, match="unknown"):
        pretrained_onnx("no-such-weights")
