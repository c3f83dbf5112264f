"""``heyan edge`` for tests: a config whose ``detector.model`` is ``BLOB_MODEL`` runs the
ONNX-free BlobDetector, which only tests can select. Run as
``python tests/support/edge_main.py edge --config ...``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heyan.cli import app  # noqa: E402
from heyan.models.settings import ModelChoice  # noqa: E402
from heyan.vision.detector import OnnxDetector  # noqa: E402
from support.blob_detector import BLOB_MODEL, BlobDetector  # noqa: E402  (needs the path above)

_load = ModelChoice.load


def _load_or_blobs(self: ModelChoice, conf: float | None = None) -> OnnxDetector:
    if self.model == BLOB_MODEL:
        return BlobDetector()  # type: ignore[return-value]
    return _load(self, conf)


ModelChoice.load = _load_or_blobs  # type: ignore[method-assign]

if __name__ == "__main__":
    app()
