"""A synthetic dataset written by ``generate_dataset`` is valid YOLO, and ``datasets.yolo``
reads it (and hand-written label files) back with the same boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from heyan.datasets.synthetic import dataset as dataset_module
from heyan.datasets.synthetic import render_scene
from heyan.datasets.synthetic.dataset import generate_dataset, yolo_lines
from heyan.datasets.yolo import iter_split, label_path, read_labels, split_images_dir
from heyan.vision.classes import class_names

SEED, SIZE, N_TRAIN, N_VAL = 5, 160, 12, 4  # a seed whose scenes render quickly
VAL_OFFSET = 10_000_000  # generate_dataset's documented per-split seed offset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The dataset, plus every scene the generator rendered, keyed by its seed sequence
    (recorded on the way through, so the test need not render them all again)."""
    root = tmp_path_factory.mktemp("synth")
    ticks: list[int] = []
    rendered: dict[tuple[int, ...], object] = {}

    def recording_render(rng, *args, **kwargs):
        key = tuple(int(v) for v in rng.bit_generator.seed_seq.entropy)
        rendered[key] = sample = render_scene(rng, *args, **kwargs)
        return sample

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dataset_module, "render_scene", recording_render)
        summary = generate_dataset(root, n_train=N_TRAIN, n_val=N_VAL, seed=SEED, size=SIZE, progress=ticks.append)
    assert len(rendered) == N_TRAIN + N_VAL
    return root, summary, ticks, rendered


def parse_label_file(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------- yolo_lines


def test_yolo_lines_normalises_centre_and_size():
    lines = yolo_lines(np.array([[10, 20, 30, 60], [0, 0, 100, 200]], np.float32), np.array([3, 0]), 100, 200)
    assert lines == ["3 0.200000 0.200000 0.200000 0.200000", "0 0.500000 0.500000 1.000000 1.000000"]
    assert yolo_lines(np.zeros((0, 4)), np.zeros(0), 100, 100) == []


# --------------------------------------------------------------------------- generated dataset


def test_layout_and_summary(dataset):
    root, summary, ticks, _ = dataset
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        images = sorted((root / "images" / split).glob("*.jpg"))
        labels = sorted((root / "labels" / split).glob("*.txt"))
        assert len(images) == n and len(labels) == n
        assert [p.stem for p in images] == [p.stem for p in labels]
        for p in images:
            im = cv2.imread(str(p))
            assert im is not None and im.shape == (SIZE, SIZE, 3)
    assert summary.counts == {"train": N_TRAIN, "val": N_VAL}
    assert sum(ticks) == N_TRAIN + N_VAL
    # Per-class counts agree with the label files.
    for split in ("train", "val"):
        counted = {n: 0 for n in class_names()}
        for lbl in (root / "labels" / split).glob("*.txt"):
            for row in parse_label_file(lbl):
                counted[class_names()[int(row[0])]] += 1
        assert summary.per_class[split] == counted
    assert sum(summary.per_class["train"].values()) > 0


def test_labels_are_valid_yolo(dataset):
    root, _, _, _ = dataset
    nc = len(class_names())
    rows = 0
    for lbl in (root / "labels").rglob("*.txt"):
        for line in lbl.read_text().splitlines():
            if not line.strip():
                continue
            parts = line.split()
            assert len(parts) == 5, line
            assert parts[0].isdigit() and 0 <= int(parts[0]) < nc
            cx, cy, w, h = (float(v) for v in parts[1:])
            assert 0 < cx < 1 and 0 < cy < 1, line
            assert 0 < w <= 1 and 0 < h <= 1, line
            assert cx - w / 2 >= -1e-6 and cx + w / 2 <= 1 + 1e-6, line
            assert cy - h / 2 >= -1e-6 and cy + h / 2 <= 1 + 1e-6, line
            rows += 1
    assert rows > 0


def test_data_yaml_names_match_the_classes(dataset):
    root, _, _, _ = dataset
    cfg = yaml.safe_load((root / "data.yaml").read_text())
    assert [cfg["names"][i] for i in sorted(cfg["names"])] == class_names()
    assert Path(cfg["path"]).resolve() == root.resolve()
    assert (Path(cfg["path"]) / cfg["train"]).is_dir() and (Path(cfg["path"]) / cfg["val"]).is_dir()
    images_dir, names = split_images_dir(root / "data.yaml", "val")
    assert images_dir == root / "images" / "val" and names == class_names()


@pytest.mark.parametrize("via_yaml", [False, True])
def test_iter_split_reads_back_the_rendered_boxes(dataset, via_yaml):
    """Labels read back are the boxes the renderer produced for that image, and the image
    file holds the rendered pixels (up to JPEG loss)."""
    root, _, _, rendered = dataset
    src = root / "data.yaml" if via_yaml else root
    for split, n, offset in (("train", N_TRAIN, 0), ("val", N_VAL, VAL_OFFSET)):
        items = iter_split(src, split)
        assert [it.image.name for it in items] == [f"{split}_{i:06d}.jpg" for i in range(n)]
        for i, it in enumerate(items):
            s = rendered[(SEED, offset + i)]
            np.testing.assert_array_equal(it.class_ids, s.class_ids)
            assert it.boxes_norm.shape == (len(s.boxes), 4)
            np.testing.assert_allclose(it.boxes_xyxy(SIZE, SIZE), s.boxes, atol=1e-3)
            img = cv2.imread(str(it.image))
            assert np.abs(img.astype(np.int16) - s.image).mean() < 3


def test_one_image_can_be_regenerated_alone(dataset):
    root, _, _, _ = dataset
    (item,) = [it for it in iter_split(root, "val") if it.image.name == "val_000001.jpg"]
    s = render_scene(np.random.default_rng([SEED, VAL_OFFSET + 1]), SIZE, 0.25)
    np.testing.assert_allclose(item.boxes_xyxy(SIZE, SIZE), s.boxes, atol=1e-3)
    assert np.abs(cv2.imread(str(item.image)).astype(np.int16) - s.image).mean() < 3


def test_train_and_val_images_differ(dataset):
    root, _, _, _ = dataset
    a = cv2.imread(str(root / "images" / "train" / "train_000000.jpg"))
    b = cv2.imread(str(root / "images" / "val" / "val_000000.jpg"))
    assert np.abs(a.astype(np.int16) - b).mean() > 5


# --------------------------------------------------------------------------- reader details


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_read_labels_parses_rows_and_skips_blank_lines(tmp_path):
    p = write(tmp_path / "a.txt", "1 0.5 0.5 0.2 0.4\n\n0 0.1 0.2 0.05 0.1\n")
    cls, boxes = read_labels(p)
    assert cls.tolist() == [1, 0] and cls.dtype == np.int64
    np.testing.assert_allclose(boxes, [[0.5, 0.5, 0.2, 0.4], [0.1, 0.2, 0.05, 0.1]])


def test_read_labels_missing_or_empty_file_is_no_objects(tmp_path):
    for p in (tmp_path / "missing.txt", write(tmp_path / "empty.txt", ""), write(tmp_path / "blank.txt", "\n \n")):
        cls, boxes = read_labels(p)
        assert cls.shape == (0,) and boxes.shape == (0, 4)


def test_read_labels_bad_row_names_file_and_line(tmp_path):
    p = write(tmp_path / "bad.txt", "0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.1\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2"):
        read_labels(p)


def test_boxes_xyxy_denormalises(tmp_path):
    img = tmp_path / "ds" / "images" / "val" / "a.png"
    img.parent.mkdir(parents=True)
    cv2.imwrite(str(img), np.zeros((200, 400, 3), np.uint8))
    write(tmp_path / "ds" / "labels" / "val" / "a.txt", "2 0.25 0.5 0.1 0.2\n")
    (item,) = iter_split(tmp_path / "ds", "val")
    np.testing.assert_allclose(item.boxes_xyxy(400, 200), [[80, 80, 120, 120]])
    assert item.class_ids.tolist() == [2]


def test_iter_split_ignores_non_images_and_allows_missing_labels(tmp_path):
    root = tmp_path / "ds"
    for name in ("b.jpg", "a.PNG", "notes.txt"):
        write(root / "images" / "train" / name, "x")
    items = iter_split(root, "train")
    assert [it.image.name for it in items] == ["a.PNG", "b.jpg"]
    assert all(len(it.class_ids) == 0 for it in items)


def test_label_path_replaces_the_last_images_folder():
    p = Path("/data/images/flight/images/train/x.jpeg")
    assert label_path(p) == Path("/data/images/flight/labels/train/x.txt")
    assert label_path(Path("/data/other/x.jpg")) == Path("/data/other/x.txt")


def test_split_images_dir_errors_and_relative_yaml_path(tmp_path):
    root = tmp_path / "ds"
    (root / "images" / "train").mkdir(parents=True)
    cfg = write(root / "data.yaml", "path: .\ntrain: images/train\nnames: [a, b]\n")
    images_dir, names = split_images_dir(cfg, "train")
    assert images_dir.resolve() == (root / "images" / "train").resolve() and names == ["a", "b"]
    with pytest.raises(ValueError, match="'val'"):
        split_images_dir(cfg, "val")
    with pytest.raises(ValueError, match="images/val"):
        split_images_dir(root, "val")
    with pytest.raises(ValueError, match="not found"):
        iter_split(write(root / "other.yaml", "path: .\nval: images/val\n"), "val")
