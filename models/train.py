"""Train a detector from a model YAML (no pretrained weights exist offline) and export it.

Everything Ultralytics is imported inside functions, after ``prepare_offline_ultralytics``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from heyan.models.offline import prepare_offline_ultralytics


@dataclass
class TrainResult:
    run_dir: Path
    best_pt: Path
    epochs_done: int


def train(data_yaml: Path, out_dir: Path, model_yaml: str = "yolo11n.yaml", imgsz: int = 320, epochs: int = 100,
          batch: int = 16, seed: int = 0, time_hours: float | None = None, workers: int = 0, patience: int = 100,
          fliplr: float = 0.5, mosaic: float = 1.0, close_mosaic: int = 5, resume: bool = False,
          scale: float = 0.5) -> TrainResult:
    prepare_offline_ultralytics()
    from ultralytics import YOLO  # heavy: torch

    out_dir = Path(out_dir).resolve()
    last = out_dir / "weights" / "last.pt"
    if resume:
        # An interrupted run goes on from its last epoch with its own arguments.
        if not last.is_file():
            raise FileNotFoundError(f"{out_dir}: no weights/last.pt to resume from")
        YOLO(str(last)).train(resume=True)
        best = out_dir / "weights" / "best.pt"
        return TrainResult(out_dir, best if best.exists() else last, _epochs_in_results(out_dir / "results.csv"))
    # An architecture file builds a random init (no weights may be downloaded here); a .pt
    # checkpoint of our own (e.g. the previous model) is fine-tuned. Ultralytics drops the
    # checkpoint's weights unless `pretrained` names it, so pass it explicitly.
    if str(model_yaml).startswith("pretrained:"):
        # Weights shipped inside a registry package (models/pretrained.py), new class layer.
        from heyan.models.pretrained import checkpoint_for_pretrained
        from heyan.vision.classes import class_names

        model_yaml = str(checkpoint_for_pretrained(str(model_yaml).split(":", 1)[1],
                                                   out_dir.parent / f"{out_dir.name}-start.pt", class_names(), imgsz))
    elif not str(model_yaml).endswith((".yaml", ".yml", ".pt")):
        # A zoo model: rebuild its checkpoint from the shipped ONNX (models/recover.py).
        from heyan.models.recover import checkpoint_for_zoo_model

        model_yaml = str(checkpoint_for_zoo_model(str(model_yaml), out_dir.parent / f"{out_dir.name}-start.pt"))
    model = YOLO(model_yaml)
    pretrained: str | bool = str(Path(model_yaml).resolve()) if str(model_yaml).endswith(".pt") else False
    kwargs = dict(
        data=str(Path(data_yaml).resolve()), imgsz=imgsz, epochs=epochs, batch=batch, workers=workers,
        device="cpu", seed=seed, deterministic=True, pretrained=pretrained, amp=False, plots=False,
        project=str(out_dir.parent), name=out_dir.name, exist_ok=True, patience=patience,
        fliplr=fliplr, mosaic=mosaic, close_mosaic=close_mosaic, scale=scale, verbose=True,
    )
    if time_hours:
        kwargs["time"] = time_hours
    model.train(**kwargs)
    best = out_dir / "weights" / "best.pt"
    if not best.exists():
        best = out_dir / "weights" / "last.pt"
    epochs_done = _epochs_in_results(out_dir / "results.csv")
    return TrainResult(out_dir, best, epochs_done)


def _epochs_in_results(csv: Path) -> int:
    if not csv.is_file():
        return 0
    return max(0, len(csv.read_text().strip().splitlines()) - 1)


def export_onnx(weights: Path, out: Path, imgsz: int = 320, opset: int = 17) -> Path:
    """Export to ONNX with a dynamic batch axis (tiles are batched), simplified by onnxslim."""
    prepare_offline_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(weights))
    produced = Path(model.export(format="onnx", imgsz=imgsz, opset=opset, simplify=True, dynamic=True, device="cpu"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(produced), out)
    return out


def checkpoint_architecture(weights: Path) -> str:
    """The architecture a checkpoint was built from (``yolo11n``, ``yolov8n``...), as its
    model card records it: rebuilding weights from the ONNX later depends on it."""
    prepare_offline_ultralytics()
    from ultralytics import YOLO

    cfg = getattr(YOLO(str(weights)).model, "yaml", None) or {}
    name = Path(str(cfg.get("yaml_file", "yolo11n.yaml"))).stem
    scale = cfg.get("scale")
    # Ultralytics stores the unscaled family file (yolov8.yaml) with the scale apart.
    if scale and not name.endswith(str(scale)):
        name += str(scale)
    return name
