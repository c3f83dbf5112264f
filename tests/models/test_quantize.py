"""`heyan quantize`: an int8 copy of a zoo model, calibrated on pictures, written with its
card; the box-decoding tail stays in float, and the int8 model scores close to its base."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from typer.testing import CliRunner

from heyan.cli import app
from heyan.models.card import ModelCard, sha256_file
from heyan.models.quantize import calibration_tiles
from heyan.models.registry import load_detector

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from heyan.datasets.synthetic import render_camera_scene
    from heyan.datasets.synthetic.large import render_large_photo

    root = tmp_path_factory.mktemp("calib")
    for i in range(3):
        s = render_large_photo(np.random.default_rng([5, i]), 1320, 990, chip=660, gsd_m=0.03)
        cv2.imwrite(str(root / f"drone_{i}.jpg"), s.image)
        c = render_camera_scene(np.random.default_rng([5, 100 + i]), size=640)
        (root / "sub").mkdir(exist_ok=True)
        cv2.imwrite(str(root / "sub" / f"cam_{i}.png"), c.image)
    (root / "notes.txt").write_text("not a picture")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return root


def test_calibration_tiles_are_model_inputs_cut_like_production(pictures: Path) -> None:
    tiles = calibration_tiles([pictures], 320, count=40, seed=1)
    assert len(tiles) == 40
    assert all(t.shape == (320, 320, 3) and t.dtype == np.uint8 for t in tiles)
    assert len({t.tobytes() for t in tiles}) == 40  # random places, no repeats
    assert calibration_tiles([pictures], 320, count=40, seed=1)[5].tobytes() == tiles[5].tobytes()
    with pytest.raises(ValueError, match="no images"):
        calibration_tiles([pictures / "nothing-here"], 320)


def test_quantize_writes_an_int8_zoo_model_close_to_its_base(pictures: Path, tmp_path: Path) -> None:
    zoo = tmp_path / "zoo"
    res = CliRunner().invoke(app, ["quantize", "--model", "heyan-det-v2", "--name", "v2-int8", "--calib", str(pictures),
                                   "--tiles", "48", "--zoo", str(zoo)])
    assert res.exit_code == 0, res.output
    dest = zoo / "v2-int8"
    card = ModelCard.load(dest / "model.json")
    assert card.sha256 == sha256_file(dest / "model.onnx") and card.name == "v2-int8"
    assert card.training["quantized_from"]["model"] == "heyan-det-v2" and card.training["calibration"]["tiles"] == 48
    base = load_detector("heyan-det-v2")
    assert card.classes == list(base.class_names) and card.imgsz == base.imgsz

    graph = onnx.load(str(dest / "model.onnx")).graph
    quantised = {n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    assert sum(n.op_type == "QuantizeLinear" for n in graph.node) > 20
    dfl = [n for n in graph.node if "dfl" in n.name.lower() and n.op_type == "Conv"]
    assert dfl and not any(i in quantised or "DequantizeLinear" in i for n in dfl for i in n.input[1:])

    int8 = load_detector(str(dest / "model.onnx"))  # its card beside it, sha checked
    tiles = calibration_tiles([pictures], base.imgsz, count=8, seed=9)
    from heyan.vision.preprocess import to_input

    a = base.run(to_input(tiles))
    b = int8.run(to_input(tiles))
    assert a.shape == b.shape
    scores_a, scores_b = a[:, 4:, :].ravel(), b[:, 4:, :].ravel()
    assert np.corrcoef(scores_a, scores_b)[0, 1] > 0.9


def test_quantize_refuses_a_missing_folder(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["quantize", "--model", "heyan-det-v2", "--name", "x", "--calib", str(tmp_path / "no"),
                                   "--zoo", str(tmp_path)])
    flat = " ".join(res.output.replace("│", " ").split())  # rich wraps the message in a box
    assert res.exit_code == 2 and "not a folder (--calib)" in flat


def test_keep_float_patterns_pick_the_head_layers_by_name() -> None:
    import re

    from heyan.models.quantize import KEEP_FLOAT

    names = ["/model.22/dfl/conv/Conv", "/model.22/cv2.0/cv2.0.2/Conv", "/model.22/cv3.2/cv3.2.2/Conv",
             "/model.22/cv3.2/cv3.2.1/conv/Conv", "/model.21/cv2/conv/Conv", "/model.2/m.0/cv2/conv/Conv"]

    def kept(mode: str) -> list[str]:
        return [n for n in names if any(re.search(p, n.lower()) for p in KEEP_FLOAT[mode])]

    assert kept("dfl") == names[:1]
    assert kept("outputs") == names[:3]
    assert kept("head") == names[:4]
