"""The detector's classes: the one place for names, Chinese labels, colours, thresholds.

Order matters: the index of a class here is its id in every model trained by this
project (a model card repeats the list so an old model keeps working if this grows).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassInfo:
    name: str
    zh: str
    description: str
    colour_bgr: tuple[int, int, int]
    # Default score threshold for tickets; a model card may override per class.
    threshold: float


CLASSES: tuple[ClassInfo, ...] = (
    ClassInfo("floating_debris", "漂浮物", "plastic, foam, bottles, clumps of water hyacinth",
              (0, 215, 255), 0.30),
    ClassInfo("sand_dredger", "采砂船", "dredging vessels and sand barges (乱采)",
              (0, 0, 230), 0.40),
    ClassInfo("boat", "船只", "ordinary vessels, so dredgers are not confused with them",
              (230, 160, 0), 0.40),
    ClassInfo("waste_pile", "垃圾/渣土堆", "garbage, construction waste or soil piled on banks (乱堆)",
              (40, 110, 160), 0.35),
    ClassInfo("structure", "建筑物", "buildings, sheds, walls near the water (乱建/乱占 candidates)",
              (200, 0, 200), 0.40),
)


def class_names() -> list[str]:
    return [c.name for c in CLASSES]


def class_index(name: str) -> int:
    for i, c in enumerate(CLASSES):
        if c.name == name:
            return i
    raise KeyError(f"unknown class {name!r}; known: {', '.join(class_names())}")


def info(name: str) -> ClassInfo:
    return CLASSES[class_index(name)]
