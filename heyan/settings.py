"""One settings object for the whole program: environment (``HEYAN_*``) and an optional
YAML file (``HEYAN_CONFIG`` or ``./heyan.yaml``). Library code never reads the environment
itself; the CLI builds ``Settings`` once and passes plain values down."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEYAN_", extra="ignore")

    default_model: str = Field("heyan-det-v1", description="Model zoo name used when --model is not given.")
    zoo_dir: Path | None = Field(None, description="Extra model zoo folder searched before the built-in one.")
    ort_threads: int = Field(0, description="onnxruntime intra-op threads; 0 lets onnxruntime decide (all cores).")
    tile_size: int | None = Field(None, description="Tile size in pixels for sliced inference; default: the model's input size.")
    tile_overlap: float = Field(0.2, ge=0.0, lt=0.9, description="Fraction of a tile shared with its neighbour.")
    tile_batch: int = Field(4, ge=1, description="Tiles sent to onnxruntime in one run.")
    full_frame_pass: bool = Field(True, description="Also run one downscaled pass over the whole photo for large objects.")
    merge: str = Field("nmm", pattern="^(nms|nmm)$", description="How boxes from overlapping tiles are merged.")
    merge_iou: float = Field(0.5, description="Overlap (IoU or IoS) above which boxes from different tiles merge.")
    min_tile_photo_side: int = Field(1400, description="Photos whose longer side is at most this are run whole, untiled.")


def _file_values() -> dict[str, Any]:
    path = os.environ.get("HEYAN_CONFIG") or ("heyan.yaml" if Path("heyan.yaml").is_file() else None)
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: settings file must be a mapping of names to values")
    return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    # Environment wins over the file: pass file values as defaults only.
    file_values = {k: v for k, v in _file_values().items() if f"HEYAN_{k.upper()}" not in os.environ}
    return Settings(**file_values)
