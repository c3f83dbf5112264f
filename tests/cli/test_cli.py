"""The ``heyan`` command as a user runs it: a real subprocess on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from heyan.datasets.synthetic import render_scene
from heyan.datasets.synthetic.large import render_large_photo
from heyan.models import DEFAULT_MODEL

HEYAN = [sys.executable, "-m", "heyan.cli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HEYAN_ORT_THREADS="2")
    return subprocess.run(HEYAN + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_help_lists_every_command(tmp_path):
    res = run(["--help"], tmp_path)
    assert res.returncode == 0
    for cmd in ("detect", "train", "export", "eval", "models", "synth-dataset", "sample-photos"):
        assert cmd in res.stdout, f"{cmd} missing from heyan --help"


def test_detect_writes_jsonl_and_annotations_and_skips_bad_files(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    truth = {}
    for i in range(3):
        s = render_scene(np.random.default_rng([11, i]), 320, camera_fraction=0.0)
        cv2.imwrite(str(photos / f"p{i}.jpg"), s.image)
        truth[f"p{i}.jpg"] = len(s.boxes)
    big = render_large_photo(np.random.default_rng(3), 1980, 1320, chip=660)
    cv2.imwrite(str(photos / "big.jpg"), big.image)
    good = (photos / "p0.jpg").read_bytes()
    (photos / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (photos / "garbage.jpg").write_bytes(b"not an image at all")
    out = tmp_path / "out"
    res = run(["detect", str(photos), "--out", str(out)], tmp_path)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["images"] == 4 and summary["skipped"] == 2
    assert "truncated.jpg" in res.stderr and "truncated" in res.stderr
    assert "garbage.jpg" in res.stderr
    lines = [json.loads(x) for x in (out / "detections.jsonl").read_text().splitlines()]
    assert lines, "the default model found nothing on four synthetic photos"
    for rec in lines:
        assert set(rec) == {"image", "class", "score", "box"}
        assert rec["image"].startswith(str(photos))
        x1, y1, x2, y2 = rec["box"]
        assert 0 <= x1 < x2 and 0 <= y1 < y2
    big_boxes = [r["box"] for r in lines if r["image"].endswith("big.jpg")]
    assert any(b[2] > 700 or b[3] > 700 for b in big_boxes), "tiling must report boxes in full-photo pixels"
    assert len(list((out / "annotated").glob("*.jpg"))) == 4
    assert json.loads((out / "summary.json").read_text())["errors"][0]["error"]


def test_detect_exits_nonzero_when_nothing_readable(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 nothing")
    res = run(["detect", str(bad), "--out", str(tmp_path / "o")], tmp_path)
    assert res.returncode == 1
    assert "bad.jpg" in res.stderr


def test_models_lists_default(tmp_path):
    res = run(["models"], tmp_path)
    assert res.returncode == 0
    names = [json.loads(x)["name"] for x in res.stdout.splitlines()]
    assert DEFAULT_MODEL in names
