"""``heyan detect``: detections on photos, written as annotated images and JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("detect")(detect_cmd)


def detect_cmd(
    paths: list[Path] = typer.Argument(..., help="Images or folders of images."),
    model: str | None = typer.Option(None, "--model", help="Zoo name or .onnx path (default: settings default_model)."),
    tile: bool = typer.Option(True, "--tile/--no-tile", help="Sliced inference on large photos."),
    out: Path = typer.Option(Path("out/detect"), "--out", help="Folder for annotated images and detections.jsonl."),
    annotate: bool = typer.Option(True, "--annotate/--no-annotate", help="Write annotated copies of the images."),
) -> None:
    """Detect river problems on photos; writes OUT/detections.jsonl and OUT/annotated/*."""
    import cv2
    from tqdm import tqdm

    from heyan.commands.common import detector_settings
    from heyan.pipeline.images import ImageReadError, expand_inputs, read_image
    from heyan.vision.common import atomic_file
    from heyan.vision.draw import draw_detections
    from heyan.vision.inference import detect_image

    settings = detector_settings(model)
    detector = settings.load()
    params = settings.slice_params(detector.imgsz)
    files = expand_inputs(paths)
    out.mkdir(parents=True, exist_ok=True)
    ann_dir = out / "annotated"
    if annotate:
        ann_dir.mkdir(exist_ok=True)
    n_ok, n_bad, n_det = 0, 0, 0
    per_class: dict[str, int] = {}
    errors: list[dict[str, str]] = []
    jsonl = out / "detections.jsonl"
    with atomic_file(jsonl) as tmp, open(tmp, "w", encoding="utf-8") as fh, \
            tqdm(files, unit="img", desc="detect", file=sys.stderr) as bar:
        for f in bar:
            try:
                img = read_image(f)
            except ImageReadError as exc:
                n_bad += 1
                errors.append({"image": str(f), "error": exc.reason})
                typer.echo(f"skipped {f}: {exc.reason}", err=True)
                continue
            det = detect_image(img, detector, params, tile=tile, untiled_max_side=settings.min_tile_photo_side)
            for rec in det.to_records(detector.class_names):
                fh.write(json.dumps({"image": str(f), **rec}, ensure_ascii=False) + "\n")
                per_class[rec["class"]] = per_class.get(rec["class"], 0) + 1
            n_ok += 1
            n_det += len(det)
            if annotate:
                name = f"{n_ok:05d}_{f.stem}.jpg"
                cv2.imwrite(str(ann_dir / name), draw_detections(img, det, detector.class_names), [cv2.IMWRITE_JPEG_QUALITY, 90])
    summary = {"images": n_ok, "skipped": n_bad, "detections": n_det, "per_class": per_class,
               "detections_file": str(jsonl), "annotated_dir": str(ann_dir) if annotate else None, "errors": errors}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    typer.echo(json.dumps({k: v for k, v in summary.items() if k != "errors"}, ensure_ascii=False))
    if n_ok == 0:
        typer.echo("error: no input image could be read", err=True)
        raise typer.Exit(1)
