"""``heyan train``, ``heyan export``, ``heyan eval``, ``heyan models``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command("export")(export_cmd)
    app.command("eval")(eval_cmd)
    app.command("models")(models_cmd)


def train_cmd(
    data: Path = typer.Option(..., "--data", help="Ultralytics dataset YAML (e.g. from `heyan synth-dataset`)."),
    out: Path = typer.Option(Path("runs/train"), "--out", help="Run folder (weights, results.csv)."),
    model_yaml: str = typer.Option("yolo11n.yaml", "--model-yaml", help="Architecture file (random init; nothing is downloaded), or a .pt checkpoint of ours to fine-tune."),
    imgsz: int = typer.Option(320, "--imgsz"),
    epochs: int = typer.Option(100, "--epochs"),
    time_hours: Optional[float] = typer.Option(None, "--time-hours", help="Wall-clock budget; overrides --epochs."),
    batch: int = typer.Option(16, "--batch"),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(0, "--workers", help="Dataloader workers (0 is fastest on 2 cores)."),
) -> None:
    """Train a detector from scratch with Ultralytics, fully offline (needs `heyan[train]`)."""
    try:
        from models.train import train
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise typer.BadParameter(f"training needs the train extra: pip install 'heyan[train]' ({exc})")
    res = train(data, out, model_yaml=model_yaml, imgsz=imgsz, epochs=epochs, batch=batch, seed=seed,
                time_hours=time_hours, workers=workers)
    typer.echo(json.dumps({"run_dir": str(res.run_dir), "weights": str(res.best_pt), "epochs": res.epochs_done}))


def export_cmd(
    weights: Path = typer.Argument(..., exists=True, dir_okay=False, help="Ultralytics .pt checkpoint."),
    name: str = typer.Option(..., "--name", help="Zoo name, e.g. heyan-det-v1."),
    zoo: Optional[Path] = typer.Option(None, "--zoo", help="Zoo folder (default: the built-in models/zoo)."),
    imgsz: int = typer.Option(320, "--imgsz"),
    data: Optional[Path] = typer.Option(None, "--data", help="Dataset YAML the model was trained on (recorded in the card)."),
    command: str = typer.Option("", "--command", help="The command that reproduced the training, for the card."),
) -> None:
    """Export a checkpoint to ONNX (dynamic batch, simplified) and write its model card."""
    from models.card import card_from_training
    from models.registry import default_zoo_dir
    from models.train import export_onnx

    zoo_dir = zoo or default_zoo_dir()
    dest = zoo_dir / name
    onnx_path = export_onnx(weights, dest / "model.onnx", imgsz=imgsz)
    card = card_from_training(name, onnx_path, weights, imgsz=imgsz, data_yaml=data, command=command)
    card.save(dest / "model.json")
    typer.echo(json.dumps({"model": str(onnx_path), "card": str(dest / "model.json"), "sha256": card.sha256}))


def eval_cmd(
    data: Path = typer.Option(..., "--data", help="YOLO dataset YAML or folder with images/ and labels/."),
    split: str = typer.Option("val", "--split"),
    model: Optional[str] = typer.Option(None, "--model", help="Zoo name or path to an .onnx file."),
    tile: bool = typer.Option(False, "--tile/--no-tile", help="Sliced inference (for large labelled photos)."),
    write: Optional[Path] = typer.Option(None, "--write", help="Also write the metrics JSON here."),
    update_card: bool = typer.Option(False, "--update-card", help="Store the metrics in the model's card."),
    conf: float = typer.Option(0.001, "--conf", help="Score threshold for mAP (low, as is standard)."),
    key: Optional[str] = typer.Option(None, "--key", help="Name of these metrics in the card (default: <dataset folder>:<split>)."),
) -> None:
    """mAP50, mAP50-95 and per-class precision/recall with Heyan's own ONNX runtime."""
    from heyan.commands.common import load_detector
    from models.evaluate import evaluate_dataset

    det = load_detector(model, conf=conf)
    metrics = evaluate_dataset(det, data, split=split, tile=tile, progress=True)
    text = json.dumps(metrics.to_dict(), ensure_ascii=False, indent=2)
    typer.echo(text)
    if write:
        write.write_text(text + "\n", encoding="utf-8")
    if update_card:
        from heyan.settings import get_settings
        from models.registry import resolve_card_path

        card_path = resolve_card_path(model or get_settings().default_model)
        from models.card import ModelCard

        card = ModelCard.load(card_path)
        name = Path(data).parent.name if Path(data).is_file() else Path(data).name
        card.metrics[key or f"{name}:{split}"] = metrics.to_dict()
        card.save(card_path)


def models_cmd() -> None:
    """List the models in the zoo with their classes, input size and headline metrics."""
    from heyan.settings import get_settings
    from models.registry import list_models

    for card in list_models(get_settings().zoo_dir):
        typer.echo(json.dumps({"name": card.name, "imgsz": card.imgsz, "classes": card.classes, "created": card.created,
                               "sha256": card.sha256[:12], "metrics": card.headline_metrics()}, ensure_ascii=False))
