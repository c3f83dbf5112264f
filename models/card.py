"""Model card: what a model is, how it was made and how good it is (``model.json``)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from heyan.vision.classes import CLASSES
from heyan.vision.common import atomic_write
from heyan.vision.detector import DetectorSpec


class ModelCard(BaseModel):
    name: str
    version: str = "1"
    architecture: str = Field("yolo11n", description="Ultralytics model YAML it was built from.")
    task: str = "detect"
    imgsz: int
    classes: list[str]
    classes_zh: list[str] = []
    thresholds: list[float] | None = Field(None, description="Per-class score threshold for tickets.")
    nms_iou: float = 0.7
    sha256: str
    created: str
    training: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    notes: str = ""

    def spec(self, conf: float | None = None) -> DetectorSpec:
        return DetectorSpec(
            class_names=tuple(self.classes), imgsz=self.imgsz,
            thresholds=tuple(self.thresholds) if self.thresholds and conf is None else None,
            conf=conf if conf is not None else 0.25, iou=self.nms_iou,
        )

    def headline_metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, m in self.metrics.items():
            if isinstance(m, dict) and "map50" in m:
                out[key] = {"map50": m["map50"], "map50_95": m.get("map50_95")}
        return out

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(self.model_dump(), ensure_ascii=False, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> ModelCard:
        try:
            return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: invalid model card: {exc}") from exc


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def card_from_training(name: str, onnx_path: Path, weights: Path, imgsz: int, data_yaml: Path | None,
                       command: str) -> ModelCard:
    training: dict[str, Any] = {"weights": str(weights), "command": command}
    args_yaml = Path(weights).parent.parent / "args.yaml"
    if args_yaml.is_file():
        import yaml

        args = yaml.safe_load(args_yaml.read_text())
        training.update({k: args.get(k) for k in ("model", "epochs", "batch", "imgsz", "seed", "time", "optimizer", "lr0", "mosaic")})
    results = Path(weights).parent.parent / "results.csv"
    if results.is_file():
        training["epochs_done"] = max(0, len(results.read_text().strip().splitlines()) - 1)
    if data_yaml is not None:
        training["data"] = str(data_yaml)
    return ModelCard(
        name=name, imgsz=imgsz, classes=[c.name for c in CLASSES], classes_zh=[c.zh for c in CLASSES],
        thresholds=[c.threshold for c in CLASSES], sha256=sha256_file(onnx_path),
        created=datetime.now(UTC).isoformat(timespec="seconds"), training=training,
    )
