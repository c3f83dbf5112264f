"""Class mapping on import: a YAML of `source name: heyan class` (or `drop`), e.g.
`jetski: boat`, `dock: structure`, `car: drop`. Names already equal to a Heyan class map to
themselves. A box of a class the map does not mention is a problem, reported by file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from heyan.datasets.labelled import ImportResult, Problem
from heyan.vision.classes import class_names

DROP = "drop"


def load_class_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a class map is a mapping `source: target`")
    out = {}
    for src, dst in raw.items():
        dst = str(dst)
        if dst != DROP and dst not in class_names():
            raise ValueError(f"{path}: {src!r} maps to {dst!r}, which is neither a Heyan class ({', '.join(class_names())}) nor 'drop'")
        out[str(src)] = dst
    return out


def apply_class_map(res: ImportResult, mapping: dict[str, str]) -> ImportResult:
    out = ImportResult(problems=list(res.problems))
    for p in res.photos:
        targets = [mapping.get(n, n if n in class_names() else None) for n in p.names]
        unknown = sorted({n for n, t in zip(p.names, targets) if t is None})
        if unknown:
            out.problems.append(Problem(str(p.image), f"classes {unknown} are not in the class map"))
            continue
        keep = np.array([t != DROP for t in targets], bool)
        out.photos.append(replace(p, boxes=p.boxes[keep], names=[t for t in targets if t != DROP]))
    return out
