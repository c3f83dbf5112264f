"""``heyan dataset from-reviews``: reviewed tickets -> an Ultralytics dataset of chips
(confirmed -> labelled, rejected -> hard negatives), with a manifest tracing every chip to
the review decision. The logic is in ``serve.label_export``; this command adds the parts
``serve`` may not import (``datasets``: the YOLO writer) and the terminal."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from heyan.serve.db import Database


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    # The server's own reading: zone-less times are local (+08:00), as offices write them.
    from heyan.serve.importer import parse_time

    t = parse_time(value)
    if t is None:
        raise typer.BadParameter(f"--since {value!r} is not an ISO date or time (e.g. 2024-05-01)")
    return t


def _open_db(url: str) -> Database:
    """The server's database, read as it is: a missing SQLite file or an empty database is an
    error, not something to create (make_engine would create the file)."""
    from sqlalchemy.engine import make_url

    from heyan.serve.db import Database
    from heyan.serve.migrate import current_revision

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:") and not Path(u.database).is_file():
        raise typer.BadParameter(f"--db: no database file {u.database}")
    db = Database(url)
    if current_revision(db.engine) is None:
        db.dispose()
        raise typer.BadParameter(f"--db: {u.render_as_string(hide_password=True)} has no Heyan schema (never served?)")
    return db


def from_reviews_cmd(
    out: Path = typer.Option(..., "--out", help="New (or empty) folder for the dataset."),
    db: str | None = typer.Option(None, "--db", help="Server database URL (default: the server's, from settings)."),
    store: Path | None = typer.Option(None, "--store", help="Server blob store folder, the one holding blobs/ "
                                                               "(default: <serve_data_dir>/store)."),
    size: int = typer.Option(320, "--size", min=32, help="Chip side in pixels, cut at native resolution (the model's input)."),
    since: str | None = typer.Option(None, "--since", help="Only tickets reviewed since this ISO date/time "
                                                              "(zone-less: +08:00)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the chips' random offsets."),
) -> None:
    """Export reviewed tickets as training chips: confirmed -> labelled, rejected -> hard negatives;
    frames hand-labelled completely in the viewer -> tiles with their hand labels."""
    from tqdm import tqdm

    from heyan.datasets.export_yolo import write_yolo
    from heyan.datasets.labelled import LabelledPhoto
    from heyan.serve.label_export import ChipCutter, collect, cut_labelled, summarise
    from heyan.serve.label_formats import latest_versions
    from heyan.serve.storage import BlobStore
    from heyan.settings import get_settings

    config = get_settings().serve.with_overrides(db=db)
    store_dir = Path(store) if store else config.data_dir / "store"
    if not (store_dir / "blobs").is_dir():  # BlobStore() would create an empty store and report every photo missing
        raise typer.BadParameter(f"--store: {store_dir} is not a blob store (no blobs/ folder)")
    if out.exists() and any(out.iterdir()):  # never mix a new export with an old one's chips
        raise typer.BadParameter(f"--out: {out} is not empty")
    since_at = _since(since)

    database = _open_db(config.database_url)
    try:
        with database.session(write=False) as session:
            col = collect(session, since_at)
            hand = [f for f in latest_versions(session) if since_at is None or f.created_at >= since_at]
    finally:
        database.dispose()

    # A completely hand-labelled frame is taught from its hand labels, not from review chips.
    done = {f.sha for f in hand}
    col.centres = [v for v in col.centres if v.photo_sha not in done]
    cutter = ChipCutter(BlobStore(store_dir), out / "chips", size=size, seed=seed)
    with tqdm(total=len(cutter.photos(col)) + len(hand), unit="photo", desc="from-reviews", file=sys.stderr) as bar:
        chips, skipped = cutter.run(col, on_photo=lambda: bar.update(1))
        got, bad = cut_labelled(BlobStore(store_dir), out / "chips", hand, size=size, on_photo=lambda: bar.update(1))
        chips, skipped = chips + got, skipped + bad
    for s in skipped:
        typer.echo(f"skipped {s.name}: {s.reason}", err=True)

    photos = [LabelledPhoto(c.path, c.width, c.height, c.boxes, c.names) for c in chips]
    data = write_yolo({"train": photos}, out)
    # write_yolo links images in; move the chips over the links so the dataset folder is
    # self-contained (it can be copied to the training PC) and holds each chip once.
    for c in chips:
        os.replace(c.path, out / "images" / "train" / c.path.name)
    (out / "chips").rmdir()
    _write_jsonl(out / "reviews.jsonl", [c.record for c in chips])
    _write_jsonl(out / "skipped.jsonl", [s.as_dict() for s in skipped])

    summary = summarise(chips, skipped)
    summary.update(data=str(data), manifest=str(out / "reviews.jsonl"), since=since_at.isoformat() if since_at else None,
                   skipped_items=[s.as_dict() for s in skipped[:50]])  # all of them are in skipped.jsonl
    typer.echo(json.dumps(summary, ensure_ascii=False))


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    from heyan.vision.common import atomic_write

    atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


if __name__ == "__main__":  # `python -m heyan.commands.reviews_export`, before the CLI lists it
    typer.run(from_reviews_cmd)
