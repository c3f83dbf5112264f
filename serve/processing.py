"""Running the pipeline on a stored flight: lay the flight's photos out in a work folder
(hard links into the content-addressed store, no copies), build the river network of the
version in force, and run ``pipeline.ingest.FlightIngest`` with the database's open tickets.
The detector is loaded once per server and shared by the worker threads."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.dedup import OpenTicket
from pipeline.ingest import FlightIngest, IngestOptions, IngestSummary
from pipeline.rivers import RiverNetwork
from pipeline.rules import RuleSet, load_rules

_SAFE = re.compile(r"[^A-Za-z0-9._\-]+")


class JobAborted(BaseException):
    """Stop a flight mid-way (server shutting down, or the job's lease was lost). A
    BaseException so the pipeline's per-photo ``except Exception`` does not swallow it."""


@dataclass
class PhotoRef:
    name: str
    sha256: str
    path: Path  # the blob in the store


class _ProgressIngest(FlightIngest):
    """FlightIngest that reports each finished photo (``process_photo`` runs once per photo)."""

    on_photo: Callable[[], None] = staticmethod(lambda: None)

    def process_photo(self, path: Path) -> Any:
        try:
            return super().process_photo(path)
        finally:
            self.on_photo()


def materialize(photos: list[PhotoRef], folder: Path) -> dict[str, PhotoRef]:
    """Hard-link each photo into ``folder`` under a safe, unique name; return path -> photo."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, PhotoRef] = {}
    used: set[str] = set()
    for i, p in enumerate(photos):
        stem, suffix = os.path.splitext(p.name.replace("/", "_"))
        safe = (_SAFE.sub("_", stem)[:120] or "photo") + suffix.lower()
        if safe in used:
            safe = f"{_SAFE.sub('_', stem)[:100]}_{i}{suffix.lower()}"
        used.add(safe)
        target = folder / safe
        if not target.exists():
            try:
                os.link(p.path, target)
            except OSError:  # another filesystem, or links not allowed: copy
                shutil.copyfile(p.path, target)
        out[str(target)] = p
    return out


class FlightProcessor:
    def __init__(self, model: str, rules_path: Path | None = None,
                 detector_loader: Callable[[str], Any] | None = None,
                 options: Callable[[str], IngestOptions] | None = None) -> None:
        self.model = model
        self.rules_path = rules_path
        self._loader = detector_loader
        self._options = options or (lambda flight_id: IngestOptions(flight_id=flight_id))
        self._detector: Any = None
        self._rules: RuleSet | None = None
        self._networks: dict[int, RiverNetwork] = {}
        self._lock = threading.Lock()

    def detector(self) -> Any:
        with self._lock:
            if self._detector is None:
                if self._loader is not None:
                    self._detector = self._loader(self.model)
                else:
                    from heyan.commands.common import load_detector

                    self._detector = load_detector(self.model)
            return self._detector

    def rules(self) -> RuleSet:
        with self._lock:
            if self._rules is None:
                self._rules = load_rules(self.rules_path)
            return self._rules

    def network(self, version: int, geojson: dict[str, Any]) -> RiverNetwork:
        with self._lock:
            if version not in self._networks:
                self._networks = {version: RiverNetwork.from_geojson(geojson, source=f"river network v{version}")}
            return self._networks[version]

    def run(self, flight_id: str, photos: list[PhotoRef], network: RiverNetwork, open_tickets: list[OpenTicket],
            workdir: Path, on_photo: Callable[[], None]) -> tuple[IngestSummary, dict[str, PhotoRef]]:
        if workdir.exists():
            shutil.rmtree(workdir)  # a previous attempt's leftovers: start clean
        by_path = materialize(photos, workdir / "photos")
        detector = self.detector()
        from heyan.commands.common import slice_params

        ingest = _ProgressIngest(network, self.rules(), detector, slice_params(detector), self._options(flight_id))
        ingest.on_photo = on_photo  # type: ignore[method-assign]
        summary = ingest.run(workdir / "photos", workdir / "out", open_tickets, progress=False)
        return summary, by_path
