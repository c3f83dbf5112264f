"""``heyan synth-dataset``: generate the seeded synthetic training/validation set."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("synth-dataset")(synth_dataset_cmd)
    app.command("sample-photos")(sample_photos_cmd)


def synth_dataset_cmd(
    out: Path = typer.Option(..., "--out", help="Dataset folder to create."),
    train: int = typer.Option(3000, "--train", help="Training images."),
    val: int = typer.Option(400, "--val", help="Validation images (disjoint seeds)."),
    seed: int = typer.Option(2026, "--seed"),
    size: int = typer.Option(320, "--size", help="Image side in pixels."),
    camera_fraction: float = typer.Option(0.25, "--camera-fraction", help="Share of fixed-camera views."),
    workers: int = typer.Option(1, "--workers"),
) -> None:
    """Labelled synthetic river scenes (drone nadir/oblique and fixed camera) in YOLO format."""
    from tqdm import tqdm

    from heyan.datasets.synthetic.dataset import generate_dataset

    with tqdm(total=train + val, desc="rendering", unit="img") as bar:
        summary = generate_dataset(out, train, val, seed=seed, size=size, camera_fraction=camera_fraction,
                                   progress=bar.update, workers=workers)
    typer.echo(summary.to_json())


def sample_photos_cmd(
    out: Path = typer.Option(Path("demo-out/photos"), "--out", help="Folder for the sample photos."),
    drone: int = typer.Option(4, "--drone", help="Drone survey photos (large, tiled at detection)."),
    camera: int = typer.Option(4, "--camera", help="Fixed-camera frames from a bank or bridge."),
    width: int = typer.Option(2640, "--width", help="Drone photo width in pixels."),
    height: int = typer.Option(1980, "--height", help="Drone photo height in pixels."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """A small generated photo set with ground truth (truth.jsonl), for the demo and trials."""
    import json

    import cv2
    import numpy as np
    from tqdm import tqdm

    from heyan.datasets.synthetic import render_camera_scene
    from heyan.datasets.synthetic.large import render_large_photo
    from heyan.vision.classes import class_names

    names = class_names()
    out.mkdir(parents=True, exist_ok=True)
    records = []
    with tqdm(total=drone + camera, desc="rendering sample photos", unit="photo") as bar:
        for i in range(drone):
            s = render_large_photo(np.random.default_rng([seed, i]), width, height, chip=660, gsd_m=0.03)
            name = f"drone_{i:03d}.jpg"
            cv2.imwrite(str(out / name), s.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            records += [{"image": name, "class": names[int(c)], "box": [round(float(v), 1) for v in b]} for b, c in zip(s.boxes, s.class_ids)]
            bar.update(1)
        for i in range(camera):
            s = render_camera_scene(np.random.default_rng([seed, 1000 + i]), size=640)
            name = f"camera_{i:03d}.jpg"
            cv2.imwrite(str(out / name), s.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            records += [{"image": name, "class": names[int(c)], "box": [round(float(v), 1) for v in b]} for b, c in zip(s.boxes, s.class_ids)]
            bar.update(1)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    typer.echo(json.dumps({"photos": str(out), "drone": drone, "camera": camera, "objects": len(records)}))
