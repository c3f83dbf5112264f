"""Train/validation split by source group: tiles or augmented copies of one photo must all
land on the same side, or the validation figures measure memory, not generalisation."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from heyan.datasets.labelled import LabelledPhoto


def group_of(path: Path, pattern: str | None) -> str:
    """The regex's first group (or whole match) on the file name; the name itself without one."""
    if not pattern:
        return path.stem
    m = re.search(pattern, path.name)
    return (m.group(1) if m.groups() else m.group(0)) if m else path.stem


def split_by_group(photos: list[LabelledPhoto], pattern: str | None, val_fraction: float, seed: int = 0
                   ) -> tuple[list[LabelledPhoto], list[LabelledPhoto]]:
    groups: dict[str, list[LabelledPhoto]] = defaultdict(list)
    for p in photos:
        groups[group_of(p.image, pattern)].append(p)
    keys = sorted(groups)
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    if val_fraction >= 1.0:  # a validation-only set (hand labels of photos never trained on)
        n_val = len(keys)
    else:
        n_val = max(1, round(val_fraction * len(keys))) if val_fraction > 0 and len(keys) > 1 else 0
    val_keys = set(keys[:n_val])
    train = [p for k in sorted(groups) if k not in val_keys for p in groups[k]]
    val = [p for k in sorted(groups) if k in val_keys for p in groups[k]]
    return train, val
