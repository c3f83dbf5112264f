"""One internal form for labelled images, whatever tool made the labels: what every importer
returns and every exporter takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class LabelledPhoto:
    image: Path
    width: int
    height: int
    boxes: np.ndarray  # (N, 4) float32 xyxy in pixels of the image as stored
    names: list[str]  # class name per box (the source's names until a class map is applied)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        if len(self.names) != len(self.boxes):
            raise ValueError(f"{self.image}: {len(self.boxes)} boxes but {len(self.names)} class names")


@dataclass
class Problem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass
class ImportResult:
    photos: list[LabelledPhoto] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: ImportResult) -> None:
        self.photos += other.photos
        self.problems += other.problems


def check_boxes(photo: LabelledPhoto, source: str, tolerance: float = 1.0) -> list[Problem]:
    """Boxes must have area and lie inside the image (a pixel of slack for tools that
    write the right edge inclusively)."""
    out = []
    for (x1, y1, x2, y2), name in zip(photo.boxes, photo.names):
        if not (x2 > x1 and y2 > y1):
            out.append(Problem(source, f"box {name} [{x1:g}, {y1:g}, {x2:g}, {y2:g}] has no area"))
        elif x1 < -tolerance or y1 < -tolerance or x2 > photo.width + tolerance or y2 > photo.height + tolerance:
            out.append(Problem(source, f"box {name} [{x1:g}, {y1:g}, {x2:g}, {y2:g}] lies outside the "
                                       f"{photo.width}x{photo.height} image"))
    return out
