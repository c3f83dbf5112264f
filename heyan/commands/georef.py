"""``heyan georef`` (photo pixel -> ground lat/lon) and ``heyan calibrate`` (fixed camera).

Imports of the pipeline stay inside the commands so ``heyan --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def _parse_pixel(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise typer.BadParameter(f"pixel must be X,Y (e.g. 1024.5,768), got {text!r}") from None
    return x, y


def _fail(msg: str, code: int = 1) -> None:
    typer.echo(msg, err=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command("georef")
    def georef_cmd(
        file: Annotated[Path, typer.Argument(help="Photo (DJI JPEG) whose metadata gives the camera pose.")],
        pixel: Annotated[list[str], typer.Option("--pixel", "-p", help="Pixel X,Y in the image as stored; repeatable.")],
        ground_height: Annotated[float | None, typer.Option(
            "--ground-height", help="Ground (water) plane height in m relative to takeoff (default 0).")] = None,
        dem: Annotated[Path | None, typer.Option("--dem", help="DEM/DSM GeoTIFF to intersect instead of a plane.")] = None,
        takeoff_alt: Annotated[float | None, typer.Option(
            "--takeoff-alt", help="With --dem: takeoff altitude in the DEM's datum (else AbsoluteAltitude is used).")] = None,
        yaw_source: Annotated[str, typer.Option("--yaw-source", help="gimbal | flight: which yaw tag this airframe's camera follows.")] = "gimbal",
        max_range: Annotated[float, typer.Option("--max-range", help="No ground point farther than this (m).")] = 1000.0,
        calibration: Annotated[Path | None, typer.Option(
            "--calibration", help="Fixed camera: project with this calibration JSON (FILE's metadata is not read).")] = None,
    ) -> None:
        """Ground lat/lon and error (m) of photo pixels: one JSON object per line per pixel."""
        if ground_height is not None and dem is not None:
            raise typer.BadParameter("give either --ground-height or --dem, not both")
        if yaw_source not in ("gimbal", "flight"):
            raise typer.BadParameter("--yaw-source must be gimbal or flight")
        pixels = [_parse_pixel(p) for p in pixel]
        import numpy as np  # noqa: PLC0415

        px = np.array(pixels, dtype=float).reshape(-1, 2)
        if calibration is not None:
            from heyan.pipeline.geo.calibration import CalibrationError, load_calibration, project_with_calibration  # noqa: PLC0415

            try:
                res = project_with_calibration(load_calibration(calibration), px, ground_height)
            except CalibrationError as exc:
                _fail(str(exc))
            for rec in res.records():
                typer.echo(json.dumps(rec, ensure_ascii=False))
            return

        from heyan.pipeline.geo.camera_model import PoseError  # noqa: PLC0415
        from heyan.pipeline.geo.dem import Dem, DemError  # noqa: PLC0415
        from heyan.pipeline.geo.georef import GeorefSettings, GroundPlane, project_pixels  # noqa: PLC0415
        from heyan.pipeline.metadata import MetadataError, read_pose  # noqa: PLC0415

        try:
            pose = read_pose(file)
        except MetadataError as exc:
            _fail(str(exc) if str(file) in str(exc) else f"{file}: {exc}")
        except OSError as exc:
            _fail(f"{file}: cannot read: {exc}")
        settings = GeorefSettings(yaw_source=yaw_source, max_range_m=max_range, takeoff_alt_m=takeoff_alt)
        try:
            ground = Dem(dem) if dem is not None else GroundPlane(ground_height or 0.0)
            res = project_pixels(pose, px, ground, settings)
            records = res.records()
        except PoseError as exc:
            # The photo cannot be georeferenced at all: every pixel gets the reason.
            records = [{"pixel": [x, y], "error": f"{file}: {exc}"} for x, y in pixels]
        except DemError as exc:
            _fail(str(exc))
        for rec in records:
            typer.echo(json.dumps(rec, ensure_ascii=False))

    @app.command("calibrate")
    def calibrate_cmd(
        points: Annotated[Path, typer.Argument(help='POINTS.json: {"image_size": [w, h], "points": [{"pixel": [x, y], '
                                                     '"lat": .., "lon": ..}, ...], optional "intrinsics"}.')],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the calibration JSON here (else to stdout).")] = None,
        method: Annotated[str, typer.Option("--method", help="auto | homography | pnp (auto: pnp when intrinsics are given).")] = "auto",
        max_range: Annotated[float | None, typer.Option("--max-range", help="Max projection range in m (default: from the points).")] = None,
    ) -> None:
        """Calibrate a fixed camera from >= 4 ground control points; reports leave-one-out error per point."""
        from heyan.pipeline.geo.calibration import (  # noqa: PLC0415
            CalibrationError,
            calibrate,
            load_control_points,
            save_calibration,
        )

        if method not in ("auto", "homography", "pnp"):
            raise typer.BadParameter("--method must be auto, homography or pnp")
        try:
            pts, size, intr = load_control_points(points)
            cal = calibrate(pts, size, intr, method=method, max_range_m=max_range)
        except CalibrationError as exc:
            _fail(f"{points}: {exc}" if str(points) not in str(exc) else str(exc))
        if out is None:
            typer.echo(json.dumps(cal.to_json_dict(), ensure_ascii=False, indent=2))
        else:
            save_calibration(cal, out)
            typer.echo(f"wrote {out}")
        # Quality report for the person clicking the points (stderr keeps stdout clean JSON).
        rms = f"{cal.loo_rms_m:.3f} m" if cal.loo_rms_m is not None else "n/a (need >= 5 points)"
        print(f"{cal.method}: leave-one-out RMS {rms}", file=sys.stderr)
        for i, p in enumerate(cal.points):
            loo = f"{p['loo_error_m']:.3f} m" if p["loo_error_m"] is not None else "n/a"
            flag = "  OUTLIER (not used)" if p["outlier"] else ""
            print(f"  point {i}{' ' + p['name'] if p.get('name') else ''}: LOO {loo}{flag}", file=sys.stderr)
        for w in cal.warnings:
            print(f"warning: {w}", file=sys.stderr)
