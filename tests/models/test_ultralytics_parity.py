"""Our ONNX runtime must agree with Ultralytics on the same weights: boxes within a pixel
(predict) and mAP within a hundredth (val). Needs the train extra (ultralytics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heyan.datasets.synthetic import render_scene
from heyan.datasets.synthetic.dataset import generate_dataset
from heyan.models.evaluate import evaluate_dataset
from heyan.models.registry import resolve_model
from heyan.vision.detector import DetectorSpec, OnnxDetector

ultralytics = pytest.importorskip("ultralytics", reason="Ultralytics parity needs the train extra: pip install 'heyan[train]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_path() -> tuple[Path, object]:
    return resolve_model("heyan-det-v1")


@pytest.fixture(scope="module")
def yolo(model_path):
    from heyan.models.offline import prepare_offline_ultralytics

    prepare_offline_ultralytics()
    from ultralytics import YOLO

    return YOLO(str(model_path[0]), task="detect")


def _match(ours, theirs_xyxy, theirs_cls, theirs_conf) -> float:
    """Largest coordinate difference after pairing boxes by class and nearest position."""
    assert len(ours) == len(theirs_xyxy), f"{len(ours)} boxes vs Ultralytics' {len(theirs_xyxy)}"
    worst = 0.0
    used = set()
    for box, score, cid in zip(ours.xyxy, ours.scores, ours.class_ids):
        d = np.abs(theirs_xyxy - box).max(1)
        d[[i for i in range(len(d)) if i in used or theirs_cls[i] != cid]] = np.inf
        j = int(np.argmin(d))
        assert np.isfinite(d[j]), f"no Ultralytics box of class {cid} for {box}"
        used.add(j)
        assert abs(float(theirs_conf[j]) - float(score)) < 1e-3
        worst = max(worst, float(d[j]))
    return worst


@pytest.mark.parametrize("size", [320, 480, 640])
def test_boxes_match_ultralytics_predict(model_path, yolo, size):
    onnx_path, card = model_path
    # A low threshold gives many boxes to compare: this checks pre/post-processing, not quality.
    ours_det = OnnxDetector(onnx_path, DetectorSpec(tuple(card.classes), card.imgsz, None, conf=0.1, iou=0.7), threads=2)
    total, worst = 0, 0.0
    for seed in range(10):
        img = render_scene(np.random.default_rng([99, seed]), size=size, camera_fraction=0.3).image
        ours = ours_det(img)
        r = yolo.predict(img, imgsz=card.imgsz, conf=0.1, iou=0.7, verbose=False, rect=False)[0]
        b = r.boxes
        worst = max(worst, _match(ours, b.xyxy.numpy(), b.cls.numpy().astype(int), b.conf.numpy()))
        total += len(ours)
    assert total >= 10, "too few detections for the comparison to mean anything"
    assert worst < 1.0, f"boxes differ from Ultralytics by up to {worst:.3f} px"


def test_eval_matches_ultralytics_val(tmp_path, model_path, yolo):
    onnx_path, card = model_path
    generate_dataset(tmp_path / "ds", n_train=1, n_val=60, seed=4242, size=card.imgsz)
    det = OnnxDetector(onnx_path, DetectorSpec(tuple(card.classes), card.imgsz, None, conf=0.001, iou=0.7), threads=2)
    ours = evaluate_dataset(det, tmp_path / "ds" / "data.yaml", split="val")
    theirs = yolo.val(data=str(tmp_path / "ds" / "data.yaml"), imgsz=card.imgsz, batch=1, conf=0.001, iou=0.7,
                      plots=False, rect=False, verbose=False, project=str(tmp_path), name="val")
    assert ours.instances > 20
    assert ours.map50 > 0.05, "model finds nothing on synthetic data: the comparison would be vacuous"
    assert abs(ours.map50 - theirs.box.map50) < 0.02, (ours.map50, theirs.box.map50)
    assert abs(ours.map50_95 - theirs.box.map) < 0.02, (ours.map50_95, theirs.box.map)
