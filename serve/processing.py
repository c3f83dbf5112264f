"""Running the pipeline on a stored flight: lay the flight's photos out in a work folder
(hard links into the content-addressed store, no copies), build the river network of the
version in force, and run ``pipeline.ingest.FlightIngest`` with the database's open tickets.
The detector is loaded once per server and shared by the worker threads."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from heyan.models.card import ModelCard, sha256_file
from heyan.models.registry import ModelNotFound, resolve_model
from heyan.models.settings import DetectorSettings
from heyan.pipeline.geo.rivers import RiverNetwork
from heyan.pipeline.ingest import FlightIngest, IngestOptions, IngestSummary
from heyan.pipeline.tickets.dedup import OpenTicket
from heyan.pipeline.tickets.rules import DEFAULT_RULES_PATH, RuleSet, load_rules
from heyan.serve import sealed
from heyan.serve.config import HEYAN_VERSION
from heyan.vision.common import atomic_write

log = logging.getLogger("heyan.serve.processing")
_SAFE = re.compile(r"[^A-Za-z0-9._\-]+")


class JobAborted(BaseException):
    """Stop a flight mid-way (server shutting down, or the job's lease was lost). A
    BaseException so the pipeline's per-photo ``except Exception`` does not swallow it."""


@dataclass
class PhotoRef:
    name: str
    sha256: str
    path: Path  # the blob in the store


class PhotoCheckpoints:
    """Each photo's pipeline result, kept in the flight's work folder as it finishes, so a
    job interrupted by a crash, a restart or a lost lease resumes where it stopped instead
    of running the detector over the whole flight again.

    The files are pickles sealed with the installation's key (``serve.sealed``): one that
    was not written by this server is refused and its photo processed again. They are valid
    only for the key they were made under: the model, the rules, the river network and
    Heyan's version; another key starts the flight afresh."""

    def __init__(self, folder: Path, key: str, seal: bytes) -> None:
        self.folder = folder
        self.seal = seal
        stamp = folder / "key"
        if stamp.exists() and stamp.read_text(encoding="utf-8") != key:
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key, encoding="utf-8")

    def _path(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.pkl"

    def load(self, sha256: str) -> Any | None:
        try:
            return sealed.loads(self._path(sha256).read_bytes(), self.seal)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 — a half-written or stale file: redo that photo
            log.warning("checkpoint of photo %s unreadable; processing it again", sha256[:12])
            return None

    def save(self, sha256: str, outcome: Any) -> None:
        atomic_write(self._path(sha256), sealed.dumps(outcome, self.seal))

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*.pkl"))


class _ProgressIngest(FlightIngest):
    """FlightIngest that reports each finished photo (``process_photo`` runs once per photo)
    and takes a photo's result from its checkpoint when an earlier attempt finished it."""

    on_photo: Callable[[], None] = staticmethod(lambda: None)
    checkpoints: PhotoCheckpoints | None = None
    sha_of: dict[str, str]  # photo path -> content hash, set by FlightProcessor.run
    resumed: int = 0

    def process_photo(self, path: Path) -> Any:
        sha = self.sha_of.get(str(path))
        try:
            if self.checkpoints is not None and sha is not None:
                done = self.checkpoints.load(sha)
                if done is not None:
                    self.resumed += 1
                    return done
            outcome = super().process_photo(path)
            if self.checkpoints is not None and sha is not None:
                self.checkpoints.save(sha, outcome)  # before on_photo, which may abort the job
            return outcome
        finally:
            self.on_photo()


def layout(photos: list[PhotoRef], folder: Path) -> dict[str, PhotoRef]:
    """Each photo's safe, unique path in ``folder`` (path -> photo); nothing is written."""
    out: dict[str, PhotoRef] = {}
    used: set[str] = set()
    for i, p in enumerate(photos):
        stem, suffix = os.path.splitext(p.name.replace("/", "_"))
        safe = (_SAFE.sub("_", stem)[:120] or "photo") + suffix.lower()
        if safe in used:
            safe = f"{_SAFE.sub('_', stem)[:100]}_{i}{suffix.lower()}"
        used.add(safe)
        out[str(folder / safe)] = p
    return out


def materialize(photos: list[PhotoRef], folder: Path) -> dict[str, PhotoRef]:
    """Hard-link each photo into ``folder`` under its ``layout`` name; return path -> photo."""
    folder.mkdir(parents=True, exist_ok=True)
    out = layout(photos, folder)
    for path, p in out.items():
        target = Path(path)
        if not target.exists():
            try:
                os.link(p.path, target)
            except OSError:  # another filesystem, or links not allowed: copy
                shutil.copyfile(p.path, target)
    return out


class FlightProcessor:
    def __init__(self, settings: DetectorSettings, rules_path: Path | None = None,
                 detector_loader: Callable[[str], Any] | None = None,
                 options: Callable[[str], IngestOptions] | None = None) -> None:
        self.settings = settings
        self.model = settings.model
        self.rules_path = rules_path
        self._loader = detector_loader
        # The server slices photos as `heyan ingest` does, from the same settings.
        self._options = options or (lambda flight_id: IngestOptions(
            flight_id=flight_id, untiled_max_side=settings.min_tile_photo_side))
        self._detector: Any = None
        self._rules: RuleSet | None = None
        self._networks: dict[int, RiverNetwork] = {}
        self._lock = threading.Lock()
        self.last_resumed = 0  # photos the last run took from checkpoints (tests, logs)
        self._card: tuple[ModelCard | None] | None = None  # (card or None: a stand-in), resolved once per model
        self._identity: tuple[str, str | None] | None = None
        self._rules_sha: str | None = None
        self.model_name = settings.model  # how tickets name the model (a site model: its card name)
        self.configured_model = settings.model  # what 回退 past every site model returns to

    def detector(self) -> Any:
        with self._lock:
            if self._detector is None:
                if self._loader is not None:
                    self._detector = self._loader(self.model)
                else:
                    self._detector = self.settings.load()
            return self._detector

    def use_model(self, model: str, name: str | None = None) -> None:
        """Switch the detector (a zoo name or a model folder) for the photos processed from
        now on: a promoted site model, or back (回退). A flight being processed keeps the
        detector it started with."""
        with self._lock:
            self.settings = self.settings.model_copy(update={"model": model})
            self.model = model
            self.model_name = name or model
            self._detector = None
            self._card = None
            self._identity = None

    def card(self) -> ModelCard | None:
        """The model's card, read once per model (a photo key and every recorded detection
        name the model by it; its sha256 is the file's, verified when the detector loads).
        None for a stand-in detector that is no model of the zoo (tests)."""
        with self._lock:
            cached, model = self._card, self.model
        if cached is None:
            try:
                cached = (resolve_model(model, self.settings.zoo_dir)[1],)
            except ModelNotFound:
                cached = (None,)
            with self._lock:
                if self.model == model:
                    self._card = cached
        return cached[0]

    def model_identity(self) -> tuple[str, str | None]:
        """(name, sha256 of the ONNX file) of the detector: what every detection and ticket of
        a flight records as its maker; the card's sha256 where the model has a card, else the
        detector's own file hashed once. A detector with no file (tests): no hash."""
        card = self.card()
        if card is not None:
            return self.model_name, card.sha256
        with self._lock:
            cached = self._identity
        if cached is None:
            path = getattr(self.detector(), "model_path", None)
            cached = (self.model_name, sha256_file(path) if path and os.path.isfile(path) else None)
            with self._lock:
                self._identity = cached
        return cached

    def rules(self) -> RuleSet:
        with self._lock:
            if self._rules is None:
                self._rules = load_rules(self.rules_path)
            return self._rules

    def cached_network(self, version: int) -> RiverNetwork | None:
        """The network of this version if it is built already (saves reading its GeoJSON)."""
        with self._lock:
            return self._networks.get(version)

    def network(self, version: int, geojson: dict[str, Any]) -> RiverNetwork:
        with self._lock:
            if version not in self._networks:
                self._networks = {version: RiverNetwork.from_geojson(geojson, source=network_source(version))}
            return self._networks[version]

    def run(self, flight_id: str, photos: list[PhotoRef], network: RiverNetwork, open_tickets: list[OpenTicket],
            workdir: Path, on_photo: Callable[[], None], seal: bytes) -> tuple[IngestSummary, dict[str, PhotoRef]]:
        # A previous attempt's photos, evidence crops and checkpoints stay (same flight, same
        # layout, so the same ticket ids); its output files are rewritten by this run.
        by_path = materialize(photos, workdir / "photos")
        detector = self.detector()
        options = self._options(flight_id)
        ingest = _ProgressIngest(network, self.rules(), detector, self.settings.slice_params(detector.imgsz), options)
        ingest.on_photo = on_photo
        ingest.checkpoints = PhotoCheckpoints(workdir / "checkpoints", self.checkpoint_key(network, options), seal)
        ingest.sha_of = {path: ref.sha256 for path, ref in by_path.items()}
        summary = ingest.run(workdir / "photos", workdir / "out", open_tickets, progress=False)
        if ingest.resumed:
            log.info("flight %s: resumed, %d of %d photos taken from checkpoints", flight_id, ingest.resumed, len(photos))
        self.last_resumed = ingest.resumed
        return summary, by_path

    def model_id(self) -> str:
        """The model by content (its card's sha256, verified at load), the same on every machine
        that has that file, wherever it lies; a stand-in detector goes by its name."""
        card = self.card()
        return f"{card.name}:{card.sha256}" if card else self.model

    def rules_sha(self) -> str:
        """The rules file's sha256, read once like the rules themselves (``rules()``)."""
        with self._lock:
            if self._rules_sha is None:
                rules = Path(self.rules_path) if self.rules_path else DEFAULT_RULES_PATH
                self._rules_sha = hashlib.sha256(rules.read_bytes()).hexdigest()
            return self._rules_sha

    def photo_key(self, flight_key: str, photo_sha: str, network_source: str, options: IngestOptions) -> str:
        """What one photo's result depends on, for the task queue: the flight and the photo by
        content, the model by content, the rules, the river network, the options, Heyan's
        version. Not where or on what the worker runs (threads, execution provider)."""
        detector = canonical(self.settings.model_copy(update={"threads": 0, "provider": "", "zoo_dir": None}))
        parts = [HEYAN_VERSION, flight_key, photo_sha, self.model_id(), detector, self.rules_sha(), network_source,
                 canonical(options)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def ingest(self, flight_id: str, network: RiverNetwork) -> FlightIngest:
        """The pipeline of this server's settings for one flight (the task queue's photo and
        reduce tasks; the threads' run builds the same with checkpoints)."""
        detector = self.detector()
        return FlightIngest(network, self.rules(), detector, self.settings.slice_params(detector.imgsz),
                            self._options(flight_id))

    def options(self, flight_id: str) -> IngestOptions:
        return self._options(flight_id)

    def checkpoint_key(self, network: RiverNetwork, options: IngestOptions) -> str:
        """What a photo's result depends on: model file, rules, river network, options, code."""
        model_id = self.model
        path = getattr(self.detector(), "model_path", None)
        if path and os.path.exists(path):  # a replaced model file under the same name changes the key
            st = os.stat(path)
            model_id = f"{path}:{st.st_size}:{st.st_mtime_ns}"
        rules = Path(self.rules_path) if self.rules_path else DEFAULT_RULES_PATH
        parts = [HEYAN_VERSION, str(model_id), canonical(self.settings), hashlib.sha256(rules.read_bytes()).hexdigest(),
                 network.source, canonical(options)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def network_source(version: int) -> str:
    """How the server names a river network version (part of every photo's result key)."""
    return f"river network v{version}"


def _plain(v: Any) -> Any:
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"__type__": type(v).__name__, **{f.name: _plain(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    if isinstance(v, BaseModel):  # the detector settings
        return {"__type__": type(v).__name__, **{name: _plain(getattr(v, name)) for name in type(v).model_fields}}
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, (set, frozenset)):  # iteration order differs between processes (hash seed)
        return sorted((_plain(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, default=str))
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, float):
        return repr(v)
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)  # paths, enums


def canonical(options: Any) -> str:
    """The same text for equal options (or settings) in every process: sets sorted, keys sorted (``repr``
    of a frozenset follows the process's hash seed, so a restarted server saw a new key)."""
    return json.dumps(_plain(options), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
