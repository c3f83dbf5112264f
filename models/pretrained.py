"""Pretrained starting weights that ship inside packages from the registry.

Nothing can be downloaded at run time and no model hub is reachable, so the only
pretrained detectors are the ones a package carries in its wheel. Each is named here with
where it comes from, its architecture and its licence, so a model card can say exactly
what a model started from. The package is installed with ``--no-deps`` by the Makefile
(its own dependencies are not needed to read one file).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


class PretrainedError(ValueError):
    pass


@dataclass(frozen=True)
class PretrainedSource:
    name: str
    package: str  # PyPI package that ships the file
    version: str
    resource: str  # path of the ONNX file inside the installed package
    architecture: str  # Ultralytics YAML the ONNX was exported from
    imgsz: int
    licence: str
    description: str


SOURCES: dict[str, PretrainedSource] = {
    "nudenet-320n": PretrainedSource(
        name="nudenet-320n", package="nudenet", version="3.4.2", resource="320n.onnx",
        architecture="yolov8n.yaml", imgsz=320, licence="AGPL-3.0 (the wheel's LICENSE)",
        description=("YOLOv8n at 320 px exported by Ultralytics 8.2.46 for NudeNet's 18 body-part classes, "
                     "itself fine-tuned from Ultralytics' COCO weights: generic low- and mid-level features "
                     "(edges, blobs, parts of objects). Its classification layer is dropped.")),
}


def pretrained_onnx(name: str) -> tuple[Path, PretrainedSource]:
    """The ONNX file of a named pretrained source, from its installed package."""
    if name not in SOURCES:
        raise PretrainedError(f"unknown pretrained source {name!r}; known: {', '.join(sorted(SOURCES))}")
    src = SOURCES[name]
    spec = importlib.util.find_spec(src.package)
    if spec is None or not spec.submodule_search_locations:
        raise PretrainedError(f"pretrained source {name!r} needs the package {src.package}=={src.version}: "
                              f"pip install --no-deps {src.package}=={src.version} (make install-full does)")
    for root in spec.submodule_search_locations:
        path = Path(root) / src.resource
        if path.is_file():
            return path, src
    raise PretrainedError(f"{src.package} is installed but has no {src.resource} (version {src.version} ships it)")


def checkpoint_for_pretrained(name: str, out_pt: Path, class_names: list[str], imgsz: int | None = None) -> Path:
    """A trainable checkpoint for ``class_names`` starting from a pretrained source's weights
    (all layers but the classification layer)."""
    from heyan.models.recover import checkpoint_from_onnx

    onnx_path, src = pretrained_onnx(name)
    return checkpoint_from_onnx(onnx_path, out_pt, class_names, src.architecture, imgsz or src.imgsz,
                                new_classes=True)
