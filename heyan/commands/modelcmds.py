"""``heyan train``, ``heyan export``, ``heyan eval``, ``heyan models``."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command("export")(export_cmd)
    app.command("eval")(eval_cmd)
    app.command("models")(models_cmd)
    app.command("quantize")(quantize_cmd)


def quantize_cmd(
    model: str = typer.Option(..., "--model", help="Zoo name or model folder to quantise."),
    name: str = typer.Option(..., "--name", help="Zoo name of the int8 model, e.g. heyan-det-v3-int8."),
    calib: list[Path] = typer.Option(..., "--calib", help="Folder of real pictures like the ones the model will see "
                                                         "(repeat); never the validation sets. Searched recursively."),
    tiles: int = typer.Option(256, "--tiles", min=16, help="Calibration inputs (tiles and whole frames)."),
    keep_float: str = typer.Option("dfl", "--keep-float", help="What stays in float: dfl (box decoding), outputs (+ the "
                                                               "last box/class convolutions), head (the whole detection head)."),
    zoo: Path | None = typer.Option(None, "--zoo", help="Zoo folder to write into (default: the settings' zoo_dir, else ./zoo)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Static int8 quantisation (onnxruntime, QDQ, per-channel weights) calibrated on real
    pictures; writes a zoo model with its card. Measure it with `heyan eval` before use."""
    from heyan.settings import get_settings

    if keep_float not in ("dfl", "outputs", "head"):
        raise typer.BadParameter(f"--keep-float must be dfl, outputs or head, not {keep_float!r}")
    for folder in calib:
        if not folder.is_dir():
            raise typer.BadParameter(f"{folder}: not a folder (--calib)")
    try:
        from heyan.models.quantize import quantize_zoo_model
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise typer.BadParameter(f"quantisation needs onnx: pip install 'heyan[train]' ({exc})") from exc
    settings = get_settings().detector
    target = zoo or settings.zoo_dir or Path("zoo")
    try:
        dest = quantize_zoo_model(model, name, list(calib), Path(target), tiles, seed, extra=settings.zoo_dir,
                                  keep_float=keep_float)
    except ValueError as exc:
        typer.echo(f"heyan quantize: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps({"model": str(dest / "model.onnx"), "card": str(dest / "model.json")}))


def train_cmd(
    data: Path = typer.Option(..., "--data", help="Ultralytics dataset YAML (e.g. from `heyan synth-dataset`)."),
    out: Path = typer.Option(Path("runs/train"), "--out", help="Run folder (weights, results.csv)."),
    model_yaml: str = typer.Option("yolo11n.yaml", "--model-yaml", help=(
        "Architecture file (random init; nothing is downloaded), a .pt checkpoint to fine-tune, "
        "a zoo model name (e.g. heyan-det-v1: its weights are rebuilt from the ONNX file and fine-tuned), "
        "or pretrained:NAME for weights shipped inside a package (pretrained:nudenet-320n; new class layer).")),
    imgsz: int = typer.Option(320, "--imgsz"),
    epochs: int = typer.Option(100, "--epochs"),
    time_hours: float | None = typer.Option(None, "--time-hours", help="Wall-clock budget; overrides --epochs."),
    batch: int = typer.Option(16, "--batch"),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(0, "--workers", help="Dataloader workers (0 is fastest on 2 cores)."),
    resume: bool = typer.Option(False, "--resume", help="Go on with an interrupted run in --out from its weights/last.pt."),
    scale: float = typer.Option(0.5, "--scale", help="Random rescale augmentation (±fraction)."),
) -> None:
    """Train a detector from scratch with Ultralytics, fully offline (needs `heyan[train]`)."""
    try:
        from heyan.models.train import train
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise typer.BadParameter(f"training needs the train extra: pip install 'heyan[train]' ({exc})") from exc
    res = train(data, out, model_yaml=model_yaml, imgsz=imgsz, epochs=epochs, batch=batch, seed=seed,
                time_hours=time_hours, workers=workers, resume=resume, scale=scale)
    typer.echo(json.dumps({"run_dir": str(res.run_dir), "weights": str(res.best_pt), "epochs": res.epochs_done}))


def export_cmd(
    weights: Path = typer.Argument(..., exists=True, dir_okay=False, help="Ultralytics .pt checkpoint."),
    name: str = typer.Option(..., "--name", help="Zoo name, e.g. heyan-det-v1."),
    zoo: Path | None = typer.Option(None, "--zoo", help="Zoo folder (default: the built-in models/zoo)."),
    imgsz: int = typer.Option(320, "--imgsz"),
    data: Path | None = typer.Option(None, "--data", help="Dataset YAML the model was trained on (recorded in the card)."),
    command: str = typer.Option("", "--command", help="The command that reproduced the training, for the card."),
) -> None:
    """Export a checkpoint to ONNX (dynamic batch, simplified) and write its model card."""
    from heyan.models.card import card_from_training
    from heyan.models.registry import default_zoo_dir
    from heyan.models.train import checkpoint_architecture, export_onnx

    zoo_dir = zoo or default_zoo_dir()
    dest = zoo_dir / name
    onnx_path = export_onnx(weights, dest / "model.onnx", imgsz=imgsz)
    card = card_from_training(name, onnx_path, weights, imgsz=imgsz, data_yaml=data, command=command)
    card.architecture = checkpoint_architecture(weights)
    card.save(dest / "model.json")
    typer.echo(json.dumps({"model": str(onnx_path), "card": str(dest / "model.json"), "sha256": card.sha256}))


def _parse_source(spec: str, tile: bool, split: str, merge: str = "nms", tile_size: int | None = None):
    """`[NAME=]PATH[:SPLIT][:tile]`. NAME is what precedes the first `=` when that holds no
    path separator; suffixes are peeled off the right only while what remains is not an
    existing path (so `C:\\data\\d.yaml` and `runs/lr=0.01/data.yaml` work)."""
    import re

    from heyan.models.evaluate import Source

    name, rest = "", spec
    head, sep, tail = spec.partition("=")
    if sep and head and "/" not in head and "\\" not in head and not Path(spec).exists():
        name, rest = head, tail
    src_split, src_tile = split, tile
    while not Path(rest).exists() and ":" in rest:
        head, _, suffix = rest.rpartition(":")
        if suffix == "tile":
            src_tile = True
        elif re.fullmatch(r"[A-Za-z_][\w-]*", suffix):
            src_split = suffix
        else:
            break
        rest = head
    path = Path(rest)
    if not path.exists():
        raise typer.BadParameter(f"{rest}: no such dataset (in --data {spec!r})")
    if not name:
        name = path.parent.name if path.is_file() else path.name
    return Source(name, path, src_split, src_tile, merge, tile_size)


def eval_cmd(
    data: list[str] = typer.Option(..., "--data", help="YOLO dataset YAML or folder with images/ and labels/; repeat for "
                                                       "several sources, each scored apart and pooled: [NAME=]PATH[:SPLIT][:tile]."),
    split: str = typer.Option("val", "--split"),
    model: str | None = typer.Option(None, "--model", help="Zoo name or path to an .onnx file."),
    tile: bool = typer.Option(False, "--tile/--no-tile", help="Sliced inference on every image (for large labelled photos)."),
    merge: str = typer.Option("nms", "--merge", help="How sliced tiles are merged: nms, or nmm (greedy merging, the "
                                                     "production default; at mAP's low threshold it joins low-score boxes)."),
    tile_size: int | None = typer.Option(None, "--tile-size", min=32, help="Tile size in pixels of sliced sources (default: "
                                                                         "the settings' tile_size, else the model's input size); "
                                                                         "smaller tiles are enlarged to the model's input."),
    write: Path | None = typer.Option(None, "--write", help="Also write the metrics JSON here."),
    update_card: bool = typer.Option(False, "--update-card", help="Store the metrics in the model's card."),
    conf: float = typer.Option(0.001, "--conf", help="Score threshold for mAP (low, as is standard)."),
    confusion_conf: float = typer.Option(0.25, "--confusion-conf", help="Score threshold of the confusion summary and false positives."),
    key: str | None = typer.Option(None, "--key", help="Name of these metrics in the card (default: <dataset folder>:<split>; "
                                                          "with several sources, a prefix)."),
) -> None:
    """mAP50, mAP50-95, per-class precision/recall, per source, and what is confused with what,
    with Heyan's own ONNX runtime."""
    from heyan.commands.common import detector_settings
    from heyan.models.evaluate import confusion_lines, evaluate_sources

    if merge not in ("nms", "nmm"):
        raise typer.BadParameter(f"--merge must be nms or nmm, not {merge!r}")
    settings = detector_settings(model)
    sources = [_parse_source(d, tile, split, merge, tile_size or settings.tile_size) for d in data]
    seen: dict[str, str] = {}
    for src, spec in zip(sources, data):
        if src.name in seen:
            raise typer.BadParameter(f"two sources named {src.name!r} ({seen[src.name]!r} and {spec!r}): "
                                     "name them, e.g. --data NAME=PATH")
        seen[src.name] = spec
    det = settings.load(conf=conf)
    try:
        per, pooled = evaluate_sources(det, sources, progress=True, confusion_conf=confusion_conf)
    except ValueError as exc:
        typer.echo(f"heyan eval: {exc}", err=True)
        raise typer.Exit(1) from None
    for name, res in per.items():
        typer.echo(f"{name}: mAP50 {res.map50:.3f}  mAP50-95 {res.map50_95:.3f}  ({res.images} images, "
                   f"{res.instances} objects, {res.false_positives_per_image:.2f} false positives/image "
                   f"at {confusion_conf})", err=True)
        for line in confusion_lines(res, top=4):
            typer.echo(f"    {line}", err=True)
    if len(sources) == 1:
        out = per[sources[0].name].to_dict()
        stored = {key or f"{sources[0].name}:{sources[0].split}": out}
    else:
        out = {"sources": {n: r.to_dict() for n, r in per.items()}, "all": pooled.to_dict()}
        prefix = f"{key}/" if key else ""
        stored = {f"{prefix}{n}": r.to_dict() for n, r in per.items()} | {f"{prefix}all": pooled.to_dict()}
    text = json.dumps(out, ensure_ascii=False, indent=2)
    typer.echo(text)
    if write:
        write.write_text(text + "\n", encoding="utf-8")
    if update_card:
        from heyan.commands.common import detector_settings
        from heyan.models.card import ModelCard
        from heyan.models.registry import resolve_card_path

        chosen = detector_settings(model)
        card_path = resolve_card_path(chosen.model, extra=chosen.zoo_dir)
        card = ModelCard.load(card_path)
        card.metrics.update(stored)
        card.save(card_path)


def models_cmd() -> None:
    """List the models in the zoo with their classes, input size and headline metrics."""
    from heyan.models.registry import list_models
    from heyan.settings import get_settings

    for card in list_models(get_settings().detector.zoo_dir):
        typer.echo(json.dumps({"name": card.name, "imgsz": card.imgsz, "classes": card.classes, "created": card.created,
                               "sha256": card.sha256[:12], "metrics": card.headline_metrics()}, ensure_ascii=False))
