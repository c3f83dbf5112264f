"""``heyan metadata`` (photo poses as JSON lines) and ``heyan frames`` (video + SRT -> frames).

Imports of the pipeline stay inside the commands so ``heyan --help`` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff"}


def register(app: typer.Typer) -> None:
    app.command("metadata")(metadata_command)
    app.command("frames")(frames_command)


def metadata_command(
    files: Annotated[list[Path], typer.Argument(help="Photos (JPEG, TIFF) or folders of photos.")],
) -> None:
    """Print each photo's camera pose and intrinsics as one JSON object per line.

    An unreadable photo prints {"file": ..., "error": ...} and the rest go on; the exit
    code is non-zero only when no photo could be read.
    """
    from heyan.pipeline.metadata import MetadataError, read_pose

    read = failed = 0
    for path in _expand(files):
        try:
            record = read_pose(path).to_json_dict()
            read += 1
        except MetadataError as exc:
            record = {"file": str(path), "error": exc.reason}
            failed += 1
        typer.echo(json.dumps(record, ensure_ascii=False, default=str))
    if read == 0:
        typer.echo(f"no photo could be read ({failed} failed)", err=True)
        raise typer.Exit(1)


def _expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
        else:
            yield path  # missing files are reported by read_pose, in order


def frames_command(
    video: Annotated[Path, typer.Argument(help="Drone video (MP4, MOV, AVI).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the frames and frames.jsonl.")],
    srt: Annotated[Path | None, typer.Option(
        "--srt", help="DJI telemetry file; default: VIDEO with .SRT/.srt beside it.")] = None,
    every: Annotated[str, typer.Option("--every", help="Sampling interval: 2s, 500ms, 1m.")] = "2s",
    quality: Annotated[int, typer.Option("--quality", min=30, max=100, help="JPEG quality.")] = 92,
) -> None:
    """Sample VIDEO every --every seconds into geotagged JPEGs plus frames.jsonl."""
    from heyan.pipeline.metadata.frames import FRAMES_INDEX, FramesError, parse_interval, sample_frames
    from heyan.pipeline.metadata.srt import SrtError, parse_srt

    try:
        every_s = parse_interval(every)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--every") from None
    srt_path = srt or _sidecar_srt(video)
    if srt_path is None:
        typer.echo(f"{video}: no telemetry: pass --srt FILE (no .SRT beside the video)", err=True)
        raise typer.Exit(2)
    try:
        track = parse_srt(srt_path)
        poses = sample_frames(video, track, every_s, out, jpeg_quality=quality)
    except (SrtError, FramesError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if not poses:
        typer.echo(f"{video}: no frame overlaps the telemetry in {srt_path}", err=True)
        raise typer.Exit(1)
    typer.echo(f"wrote {len(poses)} frames to {out} ({out / FRAMES_INDEX})")


def _sidecar_srt(video: Path) -> Path | None:
    for suffix in (".SRT", ".srt"):
        candidate = video.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None
