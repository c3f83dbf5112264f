"""Which model the box runs, as the server says in its heartbeat answer (``model``: name,
sha256, file URLs; None: the model of the box's own configuration).

A new model is fetched into ``<storage>/models/<sha256>/`` (kept: switching back and forth
needs no network), checked (the ONNX file's sha256 must be the one announced, and its card
must say the same), loaded, and only then put in place of the running detector between two
inferences (``DetectorService.swap``). Any failure leaves the running model in place and is
said in the health (``model_error``): a box that cannot fetch keeps detecting."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heyan.edge.health import Health

if TYPE_CHECKING:
    from heyan.edge.uploader import HttpClient

log = logging.getLogger("heyan.edge.models")


class ModelSync:
    def __init__(self, client: HttpClient, storage_dir: Path, health: Health,
                 switch: Callable[[Any, str, str | None], None], load: Callable[[Path], Any] | None = None) -> None:
        self.client, self.dir, self.health, self.switch = client, Path(storage_dir) / "models", health, switch
        self._load = load or _load_detector
        self.current: str | None = None  # sha256 of the site model running; None: the configured one
        self.failed: dict[str, str] = {}  # sha -> why, so a broken model is not fetched every heartbeat

    def want(self, answer: dict[str, Any] | None) -> None:
        """Act on the heartbeat answer's ``model``; never raises."""
        try:
            self._want(answer)
        except Exception as exc:  # the cameras must go on whatever this does
            self._fail(str((answer or {}).get("sha256")), f"{type(exc).__name__}: {exc}")

    def _want(self, answer: dict[str, Any] | None) -> None:
        sha = answer.get("sha256") if isinstance(answer, dict) else None
        if sha == self.current:
            self.health.model_error = None  # the server no longer asks for one that failed
            return
        if sha is None:  # switched back to the box's own model
            self.switch(None, "", None)
            self.current = None
            self.health.model_error = None
            return
        if sha in self.failed:
            self._fail(sha, self.failed[sha])
            return
        assert isinstance(answer, dict)
        folder = self.dir / sha
        if not _verified(folder, sha):
            self._fetch(answer, folder)
        try:
            detector = self._load(folder)
        except Exception as exc:  # the right file, yet unusable here: do not fetch it again each heartbeat
            self.failed[sha] = f"{type(exc).__name__}: {exc}"
            raise
        self.switch(detector, str(answer.get("name") or sha[:12]), sha)
        self.current = sha
        self.health.model_error = None
        log.info("now running model %s (%s)", answer.get("name"), sha[:12])

    def _fetch(self, answer: dict[str, Any], folder: Path) -> None:
        sha = str(answer["sha256"])
        tmp = self.dir / f".{sha}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for key, name in (("onnx_url", "model.onnx"), ("card_url", "model.json")):
            res = self.client.get_bytes(str(answer[key]))
            if not res.ok or not isinstance(res.body, bytes):
                shutil.rmtree(tmp, ignore_errors=True)
                raise OSError(f"cannot fetch {name}: {res.error or res.status}")
            (tmp / name).write_bytes(res.body)
        if not _verified(tmp, sha):
            shutil.rmtree(tmp, ignore_errors=True)
            self.failed[sha] = "sha256 mismatch"
            raise ValueError(f"model {sha[:12]}: the fetched file's sha256 or card does not match")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    def _fail(self, sha: str, why: str) -> None:
        running = self.current[:12] if self.current else "the configured model"
        self.health.model_error = f"cannot switch to model {sha[:12]}: {why}; still running {running}"
        log.warning(self.health.model_error)


def _verified(folder: Path, sha: str) -> bool:
    onnx, card = folder / "model.onnx", folder / "model.json"
    if not (onnx.is_file() and card.is_file()):
        return False
    h = hashlib.sha256()
    with open(onnx, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    try:
        card_sha = json.loads(card.read_text(encoding="utf-8")).get("sha256")
    except ValueError:
        return False
    return h.hexdigest() == sha == card_sha


def _load_detector(folder: Path) -> Any:
    from heyan.models.registry import load_detector

    return load_detector(str(folder))
