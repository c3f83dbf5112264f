"""The model zoo: ``<zoo>/<name>/model.onnx`` + ``model.json``. Loads by name, checks the
sha256 so a truncated or swapped file is refused instead of silently detecting nothing."""

from __future__ import annotations

from pathlib import Path

from heyan.models import DEFAULT_MODEL  # noqa: F401  (re-exported)
from heyan.models.card import ModelCard, sha256_file
from heyan.vision.detector import CPU_PROVIDER, OnnxDetector, execution_providers

BUILTIN_ZOO = Path(__file__).resolve().parent / "zoo"


def default_zoo_dir() -> Path:
    return BUILTIN_ZOO


class ModelNotFound(LookupError):
    pass


def zoo_dirs(extra: Path | None = None) -> list[Path]:
    return [d for d in (extra, BUILTIN_ZOO) if d is not None]


def list_models(extra: Path | None = None) -> list[ModelCard]:
    seen: dict[str, ModelCard] = {}
    for zoo in zoo_dirs(extra):
        if not zoo.is_dir():
            continue
        for card_path in sorted(zoo.glob("*/model.json")):
            card = ModelCard.load(card_path)
            seen.setdefault(card.name, card)
    return list(seen.values())


def resolve_model(name_or_path: str, extra: Path | None = None) -> tuple[Path, ModelCard]:
    """A zoo name, a model folder, or a path to an .onnx file with model.json beside it."""
    p = Path(name_or_path)
    if p.suffix == ".onnx" and p.is_file():
        card_path = p.with_name("model.json")
        if not card_path.is_file():
            raise ModelNotFound(f"{p}: no model.json beside the ONNX file (the card gives classes and input size)")
        return p, ModelCard.load(card_path)
    if p.is_dir() and (p / "model.onnx").is_file():
        return p / "model.onnx", ModelCard.load(p / "model.json")
    for zoo in zoo_dirs(extra):
        d = zoo / name_or_path
        if (d / "model.onnx").is_file() and (d / "model.json").is_file():
            return d / "model.onnx", ModelCard.load(d / "model.json")
    known = ", ".join(c.name for c in list_models(extra)) or "none"
    raise ModelNotFound(f"model {name_or_path!r} not found (zoo models: {known})")


def resolve_card_path(name_or_path: str, extra: Path | None = None) -> Path:
    onnx, _ = resolve_model(name_or_path, extra)
    return onnx.with_name("model.json")


def load_detector(name_or_path: str, extra: Path | None = None, threads: int = 0, conf: float | None = None,
                  verify: bool = True, provider: str = CPU_PROVIDER) -> OnnxDetector:
    onnx, card = resolve_model(name_or_path, extra)
    if verify:
        digest = sha256_file(onnx)
        if digest != card.sha256:
            raise ValueError(f"{onnx}: sha256 {digest[:12]}… does not match its model card ({card.sha256[:12]}…); "
                             "the file is corrupt or was replaced")
    return OnnxDetector(onnx, card.spec(conf), threads=threads, providers=execution_providers(provider))
