from __future__ import annotations

import shutil

import numpy as np
import pytest

from heyan.models import DEFAULT_MODEL
from heyan.models.card import ModelCard, sha256_file
from heyan.models.registry import BUILTIN_ZOO, ModelNotFound, list_models, load_detector, resolve_model
from heyan.vision.classes import class_names


def test_default_model_is_committed_with_a_valid_card():
    onnx, card = resolve_model(DEFAULT_MODEL)
    assert onnx.stat().st_size > 1_000_000
    assert card.sha256 == sha256_file(onnx)
    assert card.classes == class_names()
    assert card.thresholds is not None and len(card.thresholds) == len(card.classes)
    assert card.training.get("command"), "the card must say how to reproduce the model"
    held_out = [m for k, m in card.metrics.items() if k.startswith("synthetic-test")]
    assert held_out and held_out[0]["map50"] > 0.3, "the card must carry metrics on a held-out synthetic set"
    assert {c["name"] for c in held_out[0]["per_class"]} == set(class_names())
    real = {k: m for k, m in card.metrics.items() if k.startswith("real/")}
    if DEFAULT_MODEL != "heyan-det-v1":  # every default after the first is judged on real photos
        assert "real/pooled" in real and len(real) >= 4, "the card must carry per-source real validation figures"


def test_every_zoo_model_has_a_card_that_matches_its_file():
    for card in list_models():
        onnx, _ = resolve_model(card.name)
        assert card.sha256 == sha256_file(onnx), card.name
        assert card.classes == class_names(), card.name


def test_list_models_includes_default():
    assert DEFAULT_MODEL in {c.name for c in list_models()}


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ModelNotFound, match="heyan-det-v1"):
        resolve_model("no-such-model")


def test_corrupt_model_file_is_refused(tmp_path):
    src = BUILTIN_ZOO / "heyan-det-v1"
    dst = tmp_path / "zoo" / "broken"
    shutil.copytree(src, dst)
    card = ModelCard.load(dst / "model.json")
    card.name = "broken"
    card.save(dst / "model.json")
    data = bytearray((dst / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dst / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        load_detector("broken", extra=tmp_path / "zoo")


def test_onnx_path_without_card_is_refused(tmp_path):
    p = tmp_path / "lonely.onnx"
    shutil.copy(BUILTIN_ZOO / "heyan-det-v1" / "model.onnx", p)
    with pytest.raises(ModelNotFound, match="model.json"):
        resolve_model(str(p))


def test_default_detector_runs_batched_and_single_alike():
    from heyan.datasets.synthetic import render_scene

    det = load_detector(DEFAULT_MODEL, threads=2)
    imgs = [render_scene(np.random.default_rng([5, i]), 320).image for i in range(4)]
    batch = det.predict_batch(imgs)
    for im, b in zip(imgs, batch):
        single = det(im)
        assert len(single) == len(b)
        if len(b):
            assert np.abs(single.xyxy - b.xyxy).max() < 0.05
