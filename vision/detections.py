"""``Detections``: the one value type every detector, merger and drawer takes and returns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One row of ``Detections``, for code that wants to iterate."""

    box: tuple[float, float, float, float]
    score: float
    class_id: int
    class_name: str | None = None


def _as_boxes(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class Detections:
    """Boxes in pixels (x1, y1, x2, y2), scores in [0, 1] and integer class ids.

    Immutable; every operation returns a new value. ``data`` carries optional per-row
    arrays (e.g. which tile a box came from) that follow the rows through filtering.
    """

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    class_ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = _as_boxes(self.xyxy)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        class_ids = np.asarray(self.class_ids, dtype=np.int64).reshape(-1)
        n = len(xyxy)
        if len(scores) != n or len(class_ids) != n:
            raise ValueError(
                f"Detections rows disagree: {n} boxes, {len(scores)} scores, {len(class_ids)} class ids"
            )
        for key, value in self.data.items():
            if len(value) != n:
                raise ValueError(f"Detections.data[{key!r}] has {len(value)} rows, expected {n}")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_ids", class_ids)

    # -- construction -------------------------------------------------------------
    @classmethod
    def empty(cls) -> Detections:
        return cls()

    @classmethod
    def concat(cls, parts: Iterable[Detections]) -> Detections:
        parts = [p for p in parts]
        if not parts:
            return cls.empty()
        keys = set(parts[0].data)
        for p in parts[1:]:
            keys &= set(p.data)
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]) if parts else np.zeros((0, 4)),
            scores=np.concatenate([p.scores for p in parts]),
            class_ids=np.concatenate([p.class_ids for p in parts]),
            data={k: np.concatenate([p.data[k] for p in parts]) for k in sorted(keys)},
        )

    # -- access -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: int | slice | np.ndarray | Sequence[int]) -> Detections:
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        idx = np.asarray(index) if not isinstance(index, slice) else index
        if isinstance(idx, np.ndarray) and idx.size == 0:
            idx = idx.astype(np.int64)  # np.asarray([]) is float64, which cannot index
        return Detections(
            xyxy=self.xyxy[idx],
            scores=self.scores[idx],
            class_ids=self.class_ids[idx],
            data={k: v[idx] for k, v in self.data.items()},
        )

    def __iter__(self) -> Iterator[Detection]:
        for box, score, cid in zip(self.xyxy, self.scores, self.class_ids):
            yield Detection(tuple(float(v) for v in box), float(score), int(cid))  # type: ignore[arg-type]

    @property
    def area(self) -> np.ndarray:
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return wh[:, 0] * wh[:, 1]

    @property
    def centers(self) -> np.ndarray:
        return (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2.0

    # -- transforms ---------------------------------------------------------------
    def filter(self, mask: np.ndarray) -> Detections:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self),):
            raise ValueError(f"filter mask has shape {mask.shape}, expected ({len(self)},)")
        return self[mask]

    def with_min_score(self, thresholds: float | Sequence[float] | np.ndarray) -> Detections:
        """Keep rows whose score reaches their class's threshold (scalar or per class id)."""
        thr = np.asarray(thresholds, dtype=np.float32)
        if thr.ndim == 0:
            return self.filter(self.scores >= thr)
        if len(self) and int(self.class_ids.max()) >= len(thr):
            raise ValueError(f"class id {int(self.class_ids.max())} has no threshold (got {len(thr)})")
        return self.filter(self.scores >= thr[self.class_ids])

    def shifted(self, dx: float, dy: float) -> Detections:
        off = np.array([dx, dy, dx, dy], dtype=np.float32)
        return Detections(self.xyxy + off, self.scores, self.class_ids, dict(self.data))

    def scaled(self, sx: float, sy: float | None = None) -> Detections:
        sy = sx if sy is None else sy
        s = np.array([sx, sy, sx, sy], dtype=np.float32)
        return Detections(self.xyxy * s, self.scores, self.class_ids, dict(self.data))

    def clipped(self, width: int, height: int) -> Detections:
        b = self.xyxy.copy()
        b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, width)
        b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, height)
        return Detections(b, self.scores, self.class_ids, dict(self.data))

    def with_data(self, **arrays: np.ndarray) -> Detections:
        data = dict(self.data)
        data.update({k: np.asarray(v) for k, v in arrays.items()})
        return Detections(self.xyxy, self.scores, self.class_ids, data)

    def sorted_by_score(self) -> Detections:
        return self[np.argsort(-self.scores, kind="stable")]

    # -- serialisation ------------------------------------------------------------
    def to_records(self, class_names: Sequence[str] | None = None, decimals: int = 1) -> list[dict[str, Any]]:
        """One dict per row: ``class`` (name if names are given, else id), ``score``, ``box``."""
        out: list[dict[str, Any]] = []
        for box, score, cid in zip(self.xyxy, self.scores, self.class_ids):
            out.append(
                {
                    "class": class_names[int(cid)] if class_names is not None else int(cid),
                    "score": round(float(score), 4),
                    "box": [round(float(v), decimals) for v in box],
                }
            )
        return out

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], class_names: Sequence[str] | None = None) -> Detections:
        boxes, scores, ids = [], [], []
        for i, r in enumerate(records):
            try:
                box = [float(v) for v in r["box"]]
                if len(box) != 4:
                    raise ValueError("box needs 4 numbers")
                c = r["class"]
                if isinstance(c, str):
                    if class_names is None:
                        raise ValueError(f"class {c!r} given by name but no class names passed")
                    cid = list(class_names).index(c) if c in class_names else -1
                    if cid < 0:
                        raise ValueError(f"unknown class {c!r}")
                else:
                    cid = int(c)
                boxes.append(box)
                scores.append(float(r["score"]))
                ids.append(cid)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"detection record {i} is invalid: {exc}") from exc
        return cls(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores), np.array(ids))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Detections):
            return NotImplemented
        return (
            len(self) == len(other)
            and np.array_equal(self.xyxy, other.xyxy)
            and np.array_equal(self.scores, other.scores)
            and np.array_equal(self.class_ids, other.class_ids)
        )

    def __repr__(self) -> str:
        return f"Detections(n={len(self)})"
