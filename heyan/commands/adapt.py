"""``heyan adapt``: fit a model to one site (a camera, a reach of river) from its labelled
frames; the new model is written only if it is better on frames held back from training."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt_cmd)


def adapt_cmd(
    labels: list[Path] = typer.Argument(..., help="The site's labels: VOC folder, COCO / Label Studio .json, CVAT .xml or YOLO data.yaml."),
    base: str = typer.Option(..., "--base", help="Model to start from (zoo name, model folder or .onnx)."),
    name: str = typer.Option(..., "--name", help="Zoo name of the adapted model, e.g. heyan-det-v3-bridge-07."),
    images: Path | None = typer.Option(None, "--images", help="Folder of the images when the labels are kept apart (VOC, COCO)."),
    fmt: str | None = typer.Option(None, "--format", help="Label format (default: guessed)."),
    class_map: Path | None = typer.Option(None, "--map", help="YAML `source: heyan class | drop`."),
    site: str | None = typer.Option(None, "--site", help="Name of the site in the card (default: the labels' folder name)."),
    holdout: float = typer.Option(0.25, "--holdout", min=0.05, max=0.9, help="Share of frame groups held back to judge on."),
    group: str | None = typer.Option(None, "--group", help=r"Regex on file names: frames of one moment stay on one side, e.g. '^(TLC\d+)'."),
    minutes: float = typer.Option(20.0, "--minutes", help="Wall-clock budget of the fine-tune (0: no budget, --epochs only)."),
    epochs: int = typer.Option(15, "--epochs"),
    batch: int = typer.Option(16, "--batch"),
    max_frames: int | None = typer.Option(None, "--max-frames", help="Train on at most this many frames (learning curves)."),
    zoo: Path | None = typer.Option(None, "--zoo", help="Zoo folder to write into (default: the settings' zoo_dir, else ./zoo)."),
    work: Path = typer.Option(Path("work-adapt"), "--work", help="Working folder (chips, the training run)."),
    force: bool = typer.Option(False, "--force", help="Write the model even if it is not better on the held-back frames."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fine-tune a model on one site's labelled frames, compare it with the base on frames
    held back from training (sliced, as `heyan eval`), choose its thresholds there, and
    write it with its card only if it is better. Needs the train extra."""
    from heyan.commands.dataset import read_any
    from heyan.datasets.classmap import apply_class_map, load_class_map
    from heyan.datasets.labelled import ImportResult
    from heyan.settings import get_settings

    try:
        from heyan.models.adapt import AdaptError, AdaptParams, adapt, comparison_lines, write_adapted_model
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise typer.BadParameter(f"adaptation needs the train extra: pip install 'heyan[train]' ({exc})") from exc

    settings = get_settings()
    res = ImportResult()
    for src in labels:
        if not src.exists():
            raise typer.BadParameter(f"{src}: no such file or folder")
        res.extend(read_any(src, fmt, images))
    try:
        mapped = apply_class_map(res, load_class_map(class_map))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    for p in mapped.problems:
        typer.echo(f"skipped {p}", err=True)
    site_name = site or labels[0].resolve().name
    params = AdaptParams(holdout=holdout, group=group, max_train_frames=max_frames, epochs=epochs,
                         minutes=minutes or None, batch=batch, seed=seed)
    try:
        result = adapt(mapped.photos, base, work, params, extra_zoo=settings.detector.zoo_dir)
    except AdaptError as exc:
        typer.echo(f"heyan adapt: {exc}", err=True)
        raise typer.Exit(1) from exc
    for line in comparison_lines(result):
        typer.echo(line, err=True)
    written = None
    if result.better or force:
        target = zoo or settings.detector.zoo_dir or Path("zoo")
        command = "heyan " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        try:
            written = write_adapted_model(result, name, target, site_name, command, settings.detector.zoo_dir)
        except AdaptError as exc:
            typer.echo(f"heyan adapt: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"written: {written} (use it with --model {name}"
                   f"{'' if target == settings.detector.zoo_dir else f' and zoo_dir {target}'})", err=True)
    else:
        typer.echo(f"not written: the adapted model is not better than {result.base} on the held-back frames "
                   "(--force writes it anyway)", err=True)
    out = {"written": str(written) if written else None, "better": result.better, "site": site_name,
           "base_map50": result.base_metrics["map50"], "new_map50": result.new_metrics["map50"],
           "thresholds": result.thresholds, "minutes": result.minutes, "train_frames": result.train_frames,
           "holdout_frames": result.holdout_frames}
    typer.echo(json.dumps(out, ensure_ascii=False))
