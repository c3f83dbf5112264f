"""``heyan simulate-flight``: a simulated survey flight with ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("simulate-flight")(simulate_flight_command)


def simulate_flight_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write photos/, rivers.geojson, truth.geojson, poses.jsonl.")],
    photos: Annotated[int, typer.Option("--photos", min=1, max=5000, help="Number of photos.")] = 24,
    oblique: Annotated[bool, typer.Option("--oblique", help="Oblique photos (gimbal -50 deg, looking ahead).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="World, route and noise seed.")] = 0,
    width: Annotated[int, typer.Option("--width", help="Photo width in pixels.")] = 2000,
    height: Annotated[int, typer.Option("--height", help="Photo height in pixels (4:3 for the Mavic 3E).")] = 1500,
    altitude: Annotated[float, typer.Option("--altitude", help="Flight height above the water, metres.")] = 80.0,
    pitch: Annotated[float | None, typer.Option("--pitch", help="Gimbal pitch in degrees (-90 nadir).")] = None,
    route: Annotated[str, typer.Option("--route", help="river (lanes follow the river) or lawnmower.")] = "river",
    corridor_margin: Annotated[float, typer.Option("--corridor-margin", help="Lawnmower: metres past the bank roads "
                                                   "to cover (a wide block also sees land far from the river).")] = 20.0,
    rtk: Annotated[bool, typer.Option("--rtk", help="RTK-fixed positions (cm-level) instead of plain GNSS.")] = False,
    measure: Annotated[bool, typer.Option("--measure", help="Also report how far georeferenced true objects land "
                                                             "from their true positions.")] = False,
) -> None:
    """Render a drone survey flight over a synthetic river near a Zhejiang town: photos from
    the true pose, tagged (EXIF GPS + DJI XMP) with the noisy pose a drone reports, plus the
    river network, the ground-truth objects and the true poses."""
    from tqdm import tqdm

    from heyan.datasets.flight import FlightConfig, NoiseModel, simulate_flight

    cfg = FlightConfig(photos=photos, width=width, height=height, altitude_m=altitude, oblique=oblique,
                       gimbal_pitch=pitch, pattern=route, seed=seed, corridor_margin_m=corridor_margin,
                       noise=NoiseModel.rtk_fixed() if rtk else NoiseModel())
    try:
        cfg.check()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with tqdm(total=photos, desc="rendering flight", unit="photo") as bar:
        result = simulate_flight(out, cfg, progress=bar.update)
    summary = result.summary()
    if measure:
        from heyan.datasets.flight.measure import measure_flight

        summary["localisation"] = measure_flight(out).to_dict()
    typer.echo(json.dumps(summary, ensure_ascii=False))
