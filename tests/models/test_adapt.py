"""Site adaptation: held-back frames decide, thresholds are chosen there, the model is
written only when it is better (or forced), with a card that says where it came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from heyan.datasets.labelled import LabelledPhoto
from heyan.models.evaluate import _Stats, f1_thresholds

pytest.importorskip("ultralytics", reason="adaptation needs the train extra: pip install 'heyan[train]'")


def test_f1_thresholds_pick_the_best_operating_point():
    # Class 0: true hits at 0.9, 0.8, 0.6; false ones at 0.7, 0.3, 0.2 -> best F1 at 0.6.
    st = _Stats(tp=[np.array([[1], [1], [0], [1], [0], [0]], bool)],
                conf=[np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2])], pred_cls=[np.zeros(6, np.int64)],
                target_cls=[np.zeros(3, np.int64)], images=1)
    assert f1_thresholds(st, 2, [0.3, 0.4]) == [0.6, 0.4]  # class 1 has no objects: its fallback stays
    # A class found only at tiny scores is floored, not set to 0.001.
    st2 = _Stats(tp=[np.array([[1]], bool)], conf=[np.array([0.002])], pred_cls=[np.zeros(1, np.int64)],
                 target_cls=[np.zeros(1, np.int64)], images=1)
    assert f1_thresholds(st2, 1, [0.3]) == [0.05]


def test_split_site_refuses_what_cannot_be_judged():
    from heyan.models.adapt import AdaptError, AdaptParams, split_site

    one = [LabelledPhoto(Path("a.jpg"), 10, 10, np.zeros((0, 4)), [])]
    with pytest.raises(AdaptError, match="at least 2"):
        split_site(one, AdaptParams())
    same = [LabelledPhoto(Path(f"cam1_{i}.jpg"), 10, 10, np.zeros((0, 4)), []) for i in range(4)]
    with pytest.raises(AdaptError, match="single group"):
        split_site(same, AdaptParams(group=r"^(cam\d+)"))
    many = [LabelledPhoto(Path(f"f{i}.jpg"), 10, 10, np.zeros((0, 4)), []) for i in range(8)]
    train, hold = split_site(many, AdaptParams(holdout=0.25, max_train_frames=3))
    assert len(hold) == 2 and len(train) == 3
    assert not {p.image for p in train} & {p.image for p in hold}


def test_adapt_command_end_to_end(tmp_path, monkeypatch):
    from heyan.cli import app
    from heyan.datasets.synthetic.dataset import generate_dataset

    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "yolo-config"))
    site = tmp_path / "site"
    generate_dataset(site, n_train=6, n_val=0, seed=3, size=640)  # six 640 px frames of one "site"
    zoo = tmp_path / "zoo"
    args = ["adapt", str(site / "data.yaml"), "--base", "heyan-det-v1", "--name", "site-x", "--zoo", str(zoo),
            "--work", str(tmp_path / "work"), "--epochs", "1", "--minutes", "0", "--batch", "8",
            "--holdout", "0.34", "--site", "test-site", "--force"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.rindex('{"written"'):].strip())
    assert out["train_frames"] == 4 and out["holdout_frames"] == 2 and out["site"] == "test-site"
    assert out["written"] and (zoo / "site-x" / "model.onnx").is_file()
    assert "base AP50" in res.output and "new AP50" in res.output
    card = json.loads((zoo / "site-x" / "model.json").read_text())
    assert card["name"] == "site-x" and card["training"]["base"] == "heyan-det-v1"
    assert len(card["thresholds"]) == len(card["classes"]) and all(0.05 <= t <= 0.9 for t in card["thresholds"])
    assert card["thresholds"] == out["thresholds"]
    assert set(card["metrics"]) == {"site/test-site/holdout", "site/test-site/holdout-base"}

    from heyan.models.registry import load_detector

    det = load_detector("site-x", extra=zoo)  # the sha256 in its card matches its file
    assert det.imgsz == 320
    # The same name again is refused rather than overwritten.
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "exists" in res.output
