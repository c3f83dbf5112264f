"""`heyan eval --tile-size`: sliced sources are cut at the size asked for (smaller tiles are
enlarged to the model's input), so the accuracy of a production tile setting can be measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from heyan.models.evaluate import Source, evaluate_sources
from heyan.models.registry import load_detector


class CountingDetector:
    """The real detector, counting the images (tiles) it is given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.images = 0
        self.sizes: set[tuple[int, int]] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def predict_batch(self, images: list[np.ndarray], *args: Any, **kwargs: Any) -> Any:
        self.images += len(images)
        self.sizes.update(im.shape[:2] for im in images)
        return self.inner.predict_batch(images, *args, **kwargs)


def _dataset(root: Path) -> Path:
    rng = np.random.default_rng(3)
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    img = np.full((640, 960, 3), (90, 110, 100), np.uint8)
    img = cv2.add(img, rng.integers(0, 25, img.shape, dtype=np.uint8))
    cv2.rectangle(img, (400, 300), (430, 318), (245, 245, 245), -1)  # a small white floating thing
    cv2.imwrite(str(root / "images" / "val" / "a.jpg"), img)
    (root / "labels" / "val" / "a.txt").write_text(f"0 {415 / 960:.5f} {309 / 640:.5f} {30 / 960:.5f} {18 / 640:.5f}\n")
    (root / "data.yaml").write_text("path: .\nval: images/val\nnames:\n  0: floating_debris\n")
    return root / "data.yaml"


def test_tile_size_sets_the_slices(tmp_path: Path) -> None:
    data = _dataset(tmp_path / "ds")
    det = load_detector("heyan-det-v2", conf=0.001)
    counts = {}
    for size in (None, 160):
        wrapped = CountingDetector(det)
        per, _pooled = evaluate_sources(wrapped, [Source("s", data, "val", tile=True, tile_size=size)])
        assert per["s"].images == 1 and per["s"].instances == 1
        counts[size] = wrapped.images
        side = size or det.imgsz
        assert max(max(s) for s in wrapped.sizes) <= side, wrapped.sizes
    # 960x640 at the model's 320 px: a handful of tiles; at 160 px about four times as many.
    assert counts[160] >= 3 * counts[None] > 0, counts
