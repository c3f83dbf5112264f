"""``heyan dataset``: labelled data from other tools into Heyan's classes and an Ultralytics
dataset, split by source photo."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer

FORMATS = ("voc", "coco", "yolo", "cvat", "labelstudio")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Import labelled photos (Pascal VOC, COCO, YOLO, CVAT, Label Studio), map classes, split, tile, "
                           "check, stats; compose copy-paste scenes, augment, mix.",
                      no_args_is_help=True)
    sub.command("import")(import_cmd)
    sub.command("tile")(tile_cmd)
    sub.command("check")(check_cmd)
    sub.command("stats")(stats_cmd)
    sub.command("compose")(compose_cmd)
    sub.command("augment")(augment_cmd)
    sub.command("litter")(litter_cmd)
    sub.command("mix")(mix_cmd)
    from heyan.commands.reviews_export import from_reviews_cmd

    sub.command("from-reviews")(from_reviews_cmd)
    app.add_typer(sub, name="dataset")


def _detect_format(src: Path) -> str:
    if src.is_file() and src.suffix.lower() == ".json":
        head = src.read_text(encoding="utf-8", errors="replace")[:4096].lstrip()
        return "labelstudio" if head.startswith("[") else "coco"
    if src.is_file() and src.suffix.lower() == ".xml":
        return "cvat"
    if src.is_file() and src.suffix.lower() in (".yaml", ".yml"):
        return "yolo"
    if src.is_dir() and any(src.rglob("*.xml")):
        return "voc"
    raise typer.BadParameter(f"{src}: cannot tell the format; give --format ({', '.join(FORMATS)})")


def read_any(src: Path, fmt: str | None, images: Path | None = None):
    from heyan.datasets.formats.coco import read_coco
    from heyan.datasets.formats.cvat import read_cvat
    from heyan.datasets.formats.labelstudio import read_labelstudio
    from heyan.datasets.formats.voc import read_voc
    from heyan.datasets.formats.yolo_import import read_yolo

    fmt = fmt or _detect_format(src)
    if fmt == "voc":
        return read_voc(src, images)
    if fmt == "coco":
        return read_coco(src, images)
    if fmt == "yolo":
        return read_yolo(src)
    if fmt == "cvat":
        return read_cvat(src, images)
    if fmt == "labelstudio":
        return read_labelstudio(src, images)
    raise typer.BadParameter(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


def import_cmd(
    sources: list[Path] = typer.Argument(..., help="VOC folder(s), COCO or Label Studio .json, CVAT .xml, or YOLO data.yaml(s)."),
    out: Path = typer.Option(..., "--out", help="Output Ultralytics dataset folder (data.yaml, images/, labels/)."),
    fmt: str | None = typer.Option(None, "--format", help=f"One of {', '.join(FORMATS)} (default: guessed)."),
    images: Path | None = typer.Option(None, "--images", help="Folder of the images when the labels are kept apart (VOC, COCO)."),
    class_map: Path | None = typer.Option(None, "--map", help="YAML `source: heyan class | drop`."),
    group: str | None = typer.Option(None, "--group", help=r"Regex on file names giving the source photo, e.g. '^(DJI_\d+)'; "
                                                              "all tiles of one photo stay on one side of the split."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", min=0.0, max=1.0,
                                       help="Share of source groups for validation; 1 makes a validation-only set."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Import labels, map them to Heyan's classes, split train/val by source group, write a dataset."""
    from heyan.datasets.classmap import apply_class_map, load_class_map
    from heyan.datasets.export_yolo import write_yolo
    from heyan.datasets.labelled import ImportResult
    from heyan.datasets.split import group_of, split_by_group

    res = ImportResult()
    for src in sources:
        if not src.exists():
            raise typer.BadParameter(f"{src}: no such file or folder")
        res.extend(read_any(src, fmt, images))
    try:
        mapping = load_class_map(class_map)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    mapped = apply_class_map(res, mapping)
    for p in mapped.problems:
        typer.echo(f"skipped {p}", err=True)
    if not mapped.photos:
        typer.echo("heyan dataset import: no usable labelled photo", err=True)
        raise typer.Exit(1)
    train, val = split_by_group(mapped.photos, group, val_fraction, seed)
    data = write_yolo({"train": train, "val": val}, out)
    summary = {
        "data": str(data), "photos": len(mapped.photos), "skipped": len(mapped.problems),
        "train": len(train), "val": len(val),
        "groups": {"train": len({group_of(p.image, group) for p in train}), "val": len({group_of(p.image, group) for p in val})},
        "boxes": {split: dict(Counter(n for p in ps for n in p.names)) for split, ps in (("train", train), ("val", val))},
    }
    typer.echo(json.dumps(summary, ensure_ascii=False))


def tile_cmd(
    data: Path = typer.Argument(..., help="A dataset's data.yaml (e.g. from `heyan dataset import`)."),
    out: Path = typer.Option(..., "--out", help="Output dataset of chips."),
    size: int = typer.Option(320, "--size", help="Chip size: the model's input size, as sliced inference cuts."),
    overlap: float = typer.Option(0.2, "--overlap"),
    min_visible: float = typer.Option(0.4, "--min-visible", help="Keep a clipped box if this share of it is in the chip."),
    keep_empty: float = typer.Option(0.1, "--keep-empty", help="Share of chips without boxes kept (background)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Cut a dataset's photos into chips on the sliced-inference grid (splits kept as they are)."""
    from heyan.datasets.export_yolo import write_yolo
    from heyan.datasets.formats.yolo_import import read_yolo
    from heyan.datasets.tiling import ChipParams, tile_photos

    params = ChipParams(size=size, overlap=overlap, min_visible=min_visible, keep_empty=keep_empty)
    splits, counts = {}, {}
    for split in ("train", "val"):
        res = read_yolo(data, splits=(split,))
        for p in res.problems:
            typer.echo(f"skipped {p}", err=True)
        chips, problems = tile_photos(res.photos, out / "chips" / split, params, seed)
        for p in problems:
            typer.echo(f"skipped {p}", err=True)
        splits[split] = chips
        counts[split] = {"photos": len(res.photos), "chips": len(chips), "boxes": sum(len(c.names) for c in chips)}
    path = write_yolo(splits, out)
    typer.echo(json.dumps({"data": str(path), **counts}, ensure_ascii=False))


def check_cmd(
    data: Path = typer.Argument(..., help="A dataset's data.yaml."),
    out: Path = typer.Option(..., "--out", help="Folder for the images with their labels drawn back on them."),
    split: str = typer.Option("val", "--split"),
    limit: int = typer.Option(0, "--limit", help="Draw at most this many images (0: all)."),
) -> None:
    """Draw every label back onto its image (to look at), and count boxes per class."""
    import cv2
    from tqdm import tqdm

    from heyan.datasets.yolo import iter_split
    from heyan.vision.classes import CLASSES
    from heyan.vision.detections import Detections
    from heyan.vision.draw import draw_detections

    items = iter_split(data, split)
    if limit:
        items = items[:limit]
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    for item in tqdm(items, desc=f"check {split}", unit="img"):
        img = cv2.imread(str(item.image))
        if img is None:
            typer.echo(f"unreadable: {item.image}", err=True)
            continue
        h, w = img.shape[:2]
        det = Detections(item.boxes_xyxy(w, h).astype("float32"), [1.0] * len(item.class_ids), item.class_ids.astype(int))
        counts.update(CLASSES[int(c)].name for c in item.class_ids)
        cv2.imwrite(str(out / item.image.name), draw_detections(img, det, [c.name for c in CLASSES]))
    typer.echo(json.dumps({"images": len(items), "boxes": dict(counts), "out": str(out)}, ensure_ascii=False))


def stats_cmd(
    data: Path = typer.Argument(..., help="A dataset's data.yaml."),
    group: str | None = typer.Option(None, "--group", help=r"Regex giving an image's source photo (default: the file name "
                                                              "without a chip suffix `__NNN`)."),
) -> None:
    """Per split: images, boxes per class, box sizes (long side, px) and sources; sources
    found in both train and val are listed, because they make validation figures lie."""
    from heyan.datasets.compose import CHIP_GROUP, dataset_stats

    try:
        stats = dataset_stats(data, group=group or CHIP_GROUP)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    for split, s in stats["splits"].items():
        typer.echo(f"{split}: {s['images']} images ({s['empty_images']} without boxes), {s['sources']} sources", err=True)
        for name, n in s["boxes"].items():
            q = s["box_long_side_px"][name]
            typer.echo(f"  {name:16s} {n:6d} boxes   long side p10/p50/p90 {q['p10']:.0f}/{q['p50']:.0f}/{q['p90']:.0f} px", err=True)
    if stats.get("sources_in_both_splits"):
        typer.echo(f"WARNING: {stats['sources_in_both_splits']} sources are in both train and val: "
                   f"{', '.join(stats['sources_in_both_splits_names'][:5])}", err=True)
    typer.echo(json.dumps(stats, ensure_ascii=False))


def compose_cmd(
    backgrounds: Path = typer.Option(..., "--backgrounds", help="data.yaml whose train photos are the backgrounds (their labels are kept)."),
    gsd: float = typer.Option(..., "--gsd", help="Ground sampling distance of the backgrounds, metres per pixel (sizes pasted objects)."),
    cutouts: Path | None = typer.Option(None, "--cutouts", help="data.yaml whose train labels give real cut-outs (default: the backgrounds')."),
    out: Path = typer.Option(..., "--out", help="Output dataset folder."),
    n: int = typer.Option(1000, "--n", help="Chips to compose."),
    size: int = typer.Option(320, "--size", help="Chip size (the model's input, cut at native scale)."),
    p_real: float = typer.Option(0.5, "--p-real", help="Share of real cut-outs where a class has some."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Copy-paste composition: real and generated objects on real backgrounds, placed on water
    or land as the class requires, sized by GSD, colour-matched."""
    from heyan.datasets.compose import collect_cutouts, compose_dataset
    from heyan.datasets.copypaste import ComposeParams
    from heyan.datasets.export_yolo import write_yolo
    from heyan.datasets.formats.yolo_import import read_yolo

    bg = read_yolo(backgrounds, splits=("train",))
    for p in bg.problems:
        typer.echo(f"skipped {p}", err=True)
    src = bg if cutouts is None else read_yolo(cutouts, splits=("train",))
    cuts, problems = collect_cutouts(src.photos, gsd if cutouts is None else None, seed=seed, max_px=size)
    for p in problems:
        typer.echo(f"skipped {p}", err=True)
    chips, problems = compose_dataset(bg.photos, gsd, cuts, out / "chips", n, size, seed, ComposeParams(p_real=p_real))
    for p in problems:
        typer.echo(f"skipped {p}", err=True)
    path = write_yolo({"train": chips}, out)
    typer.echo(json.dumps({"data": str(path), "chips": len(chips), "cutouts": {k: len(v) for k, v in cuts.items()},
                           "boxes": dict(Counter(n for c in chips for n in c.names))}, ensure_ascii=False))


def litter_cmd(
    out: Path = typer.Option(..., "--out", help="Output dataset folder."),
    overhead: list[Path] = typer.Option(..., "--overhead", help="Photos or folders whose water takes litter seen from above (bridge, drone). Repeat."),
    bank: list[Path] = typer.Option([], "--bank", help="Photos or folders standing on the far bank, mirrored by calm water in low-camera scenes. Repeat."),
    n: int = typer.Option(3000, "--n", help="Training images."),
    n_val: int = typer.Option(0, "--n-val", help="Validation images (other seeds)."),
    size: int = typer.Option(320, "--size", help="Image size: the model's input at native scale."),
    bank_share: float = typer.Option(0.45, "--bank-share", help="Share of low-camera scenes."),
    empty_share: float = typer.Option(0.1, "--empty-share", help="Share of scenes with look-alikes only (foam, glint, leaves)."),
    workers: int = typer.Option(1, "--workers"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Floating litter (bottles, cans, bags, sheets, styrofoam, plants...) rendered onto real
    water: low bank-camera scenes with reflections and overhead bridge/drone scenes. Never
    give a validation photo as a background."""
    from tqdm import tqdm

    from heyan.datasets.litter.build import LitterSpec, build_litter_dataset, image_files

    over = image_files(overhead)
    banks = image_files(bank)
    if not over:
        raise typer.BadParameter("--overhead: no images found")
    spec = LitterSpec(tuple(map(str, over)), tuple(map(str, banks)), bank_share=bank_share if banks else 0.0,
                      empty_share=empty_share, size=size)
    with tqdm(total=n + n_val, desc="litter scenes", unit="img") as bar:
        summary = build_litter_dataset(out, spec, n, n_val, seed, workers, progress=bar.update)
    typer.echo(json.dumps({"data": str(out / "data.yaml"), **summary}, ensure_ascii=False))


def augment_cmd(
    data: Path = typer.Argument(..., help="A dataset's data.yaml."),
    out: Path = typer.Option(..., "--out", help="Output dataset folder (one augmented copy of each image)."),
    split: str = typer.Option("train", "--split"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Real-photo augmentation (haze, glint, JPEG, motion blur, fisheye, exposure) of a split."""
    from heyan.datasets.compose import augment_dataset
    from heyan.datasets.export_yolo import write_yolo

    photos, problems = augment_dataset(data, split, out / "augmented", seed)
    for p in problems:
        typer.echo(f"skipped {p}", err=True)
    path = write_yolo({"train": photos}, out)
    typer.echo(json.dumps({"data": str(path), "images": len(photos),
                           "boxes": dict(Counter(n for p in photos for n in p.names))}, ensure_ascii=False))


def _part(spec: str, default_split: str = "train", allow_count: bool = True) -> tuple[Path, str, int | None]:
    """`DATA.yaml[:SPLIT][:COUNT]`, suffixes peeled off the right while what remains is not
    an existing file (a Windows drive letter stays part of the path)."""
    import re

    rest, split, count = spec, default_split, None
    while not Path(rest).is_file() and ":" in rest:
        head, _, suffix = rest.rpartition(":")
        if suffix.isdigit():
            if not allow_count:
                raise typer.BadParameter(f"{spec}: a count makes no sense here")
            count = int(suffix)
        elif re.fullmatch(r"[A-Za-z_][\w-]*", suffix):
            split = suffix
        else:
            raise typer.BadParameter(f"{spec}: {suffix!r} is neither a split name nor a count")
        rest = head
    if not Path(rest).is_file():
        raise typer.BadParameter(f"{rest}: no such data.yaml")
    return Path(rest), split, count


def mix_cmd(
    out: Path = typer.Option(..., "--out", help="Folder for the mixed data.yaml (image lists; nothing is copied)."),
    take: list[str] = typer.Option(..., "--take", help="DATA.yaml[:SPLIT][:COUNT] to train on; repeat. SPLIT defaults to train, COUNT to all."),
    val: list[str] = typer.Option([], "--val", help="DATA.yaml[:SPLIT] to validate on during training; repeat (SPLIT defaults to val)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Mix datasets into one training set (e.g. all real chips + 750 synthetic + 750 composites)."""
    from heyan.datasets.compose import write_mix

    parts = [_part(t) for t in take]
    vals = [_part(v, default_split="val", allow_count=False)[:2] for v in val]
    path = write_mix(parts, vals, out, seed)
    typer.echo(json.dumps({"data": str(path), "train": sum(1 for _ in open(out / "train.txt", encoding="utf-8"))}))
