"""A flight job interrupted part-way (server stop, crash, lost lease) resumes from the
photos it had finished, with the real model: the detector does not run over them again,
and the result equals an uninterrupted run's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from heyan.models.settings import DetectorSettings
from heyan.pipeline.geo.rivers import RiverNetwork
from heyan.pipeline.ingest import FlightIngest
from heyan.serve.processing import FlightProcessor, JobAborted, PhotoRef

SEAL = b"s" * 32  # serve.sealed key of these runs


def _photos(flight: Path) -> list[PhotoRef]:
    return [PhotoRef(p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p) for p in sorted((flight / "photos").glob("*.jpg"))]


def _summary(workdir: Path) -> dict:
    feats = json.loads((workdir / "out" / "tickets.geojson").read_text(encoding="utf-8"))["features"]
    return {"tickets": sorted((f["properties"]["category"], f["properties"]["segment_id"]) for f in feats)}


def test_interrupted_job_resumes_where_it_stopped(sim_flight: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    geo = json.loads((sim_flight / "rivers.geojson").read_text(encoding="utf-8"))
    network = RiverNetwork.from_geojson(geo, source="river network v1")
    photos = _photos(sim_flight)
    assert len(photos) >= 5
    proc = FlightProcessor(DetectorSettings(model="heyan-det-v1"))
    runs: list[str] = []
    base = FlightIngest.process_photo
    monkeypatch.setattr(FlightIngest, "process_photo", lambda self, path: (runs.append(Path(path).name), base(self, path))[1])

    ref_summary, _ = proc.run("fl-test", photos, network, [], tmp_path / "ref", lambda: None, SEAL)
    assert len(runs) == len(photos)

    runs.clear()
    seen = {"n": 0}

    def stop_after_three() -> None:
        seen["n"] += 1
        if seen["n"] == 3:
            raise JobAborted("stopping")

    work = tmp_path / "work"
    with pytest.raises(JobAborted):
        proc.run("fl-test", photos, network, [], work, stop_after_three, SEAL)
    first = list(runs)
    assert len(first) == 3

    runs.clear()
    summary, _ = proc.run("fl-test", photos, network, [], work, lambda: None, SEAL)
    assert proc.last_resumed == 3
    assert sorted(runs) == sorted(p.name for p in photos if p.name not in first), "finished photos were run again"
    assert summary.to_dict()["tickets"] == ref_summary.to_dict()["tickets"]
    assert summary.detections == ref_summary.detections
    assert _summary(work) == _summary(tmp_path / "ref")
    # Evidence crops of the photos done before the stop are still there for the import.
    crops = [f["properties"].get("crop") for f in json.loads((work / "out" / "tickets.geojson").read_text())["features"]]
    assert all((work / "out" / c).exists() for c in crops if c)


def test_checkpoints_of_another_network_are_not_used(sim_flight: Path, tmp_path: Path) -> None:
    geo = json.loads((sim_flight / "rivers.geojson").read_text(encoding="utf-8"))
    photos = _photos(sim_flight)[:2]
    proc = FlightProcessor(DetectorSettings(model="heyan-det-v1"))
    work = tmp_path / "work"
    proc.run("fl-x", photos, RiverNetwork.from_geojson(geo, source="river network v1"), [], work, lambda: None, SEAL)
    proc.run("fl-x", photos, RiverNetwork.from_geojson(geo, source="river network v1"), [], work, lambda: None, SEAL)
    assert proc.last_resumed == 2
    proc.run("fl-x", photos, RiverNetwork.from_geojson(geo, source="river network v2"), [], work, lambda: None, SEAL)
    assert proc.last_resumed == 0, "a new river network version must re-decide every photo"


_KEY_SCRIPT = """
from types import SimpleNamespace
from heyan.models.settings import DetectorSettings
from heyan.pipeline.ingest import IngestOptions
from heyan.serve.processing import FlightProcessor

class Stub:
    class_names = ("floating_debris",)

proc = FlightProcessor(DetectorSettings(model="centre-fake"), detector_loader=lambda _: Stub())
print(proc.checkpoint_key(SimpleNamespace(source="river network v1"), IngestOptions(flight_id="fl-1", tile=False)))
"""


def test_checkpoint_key_is_the_same_in_every_process() -> None:
    """A restarted server (another hash seed) must find its checkpoints valid (issue 16)."""
    import os
    import subprocess
    import sys

    keys = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        r = subprocess.run([sys.executable, "-c", _KEY_SCRIPT], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYTHONHASHSEED=seed))
        assert r.returncode == 0, r.stderr[-2000:]
        keys.add(r.stdout.strip())
    assert len(keys) == 1, keys
