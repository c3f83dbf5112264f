"""The program's settings: environment (``HEYAN_*``) over an optional YAML file
(``HEYAN_CONFIG`` or ``./heyan.yaml``), read here and only here. The defaults are not
written here: they are those of the typed sections, ``models.settings.DetectorSettings``
(detector, slicing) and ``serve.config.ServeConfig`` (the server). The flat names below
are the environment's and the file's; ``Settings`` folds them into those sections.

- default_model, zoo_dir, ort_threads, ort_provider, tile_size, tile_overlap, tile_batch, full_frame_pass,
  merge, merge_iou, min_tile_photo_side -> ``detector`` (model, zoo_dir, threads, ...);
- admin_password, serve_<field> -> ``serve.<field>``; ``serve_*_mb`` in MiB; ``serve_model``
  sets the server's detector model (default: the global one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from heyan.models.settings import DetectorSettings
from heyan.serve.config import MB, ServeConfig
from heyan.vision.common import InputError

# Flat names whose field in DetectorSettings is named otherwise.
_DETECTOR_RENAMES = {"default_model": "model", "ort_threads": "threads", "ort_provider": "provider"}
_DETECTOR_FIELDS = set(DetectorSettings.model_fields) - set(_DETECTOR_RENAMES.values()) | set(_DETECTOR_RENAMES)
_SERVE_RENAMES = {"serve_rules": "rules_path", "serve_data_dir": "data_dir", "serve_db_url": "db_url",
                  "serve_host": "host", "serve_port": "port"}


class SettingsError(InputError):
    """A settings file that cannot be used."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detector: DetectorSettings = Field(default_factory=DetectorSettings)
    serve: ServeConfig = Field(default_factory=ServeConfig)

    @model_validator(mode="before")
    @classmethod
    def _fold_flat_names(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        detector: dict[str, Any] = dict(data.get("detector") or {})
        serve: dict[str, Any] = dict(data.get("serve") or {})
        serve_model: str | None = None
        unknown = []
        for raw_key, value in data.items():
            key = str(raw_key)
            if key in ("detector", "serve"):
                continue
            if key in _DETECTOR_FIELDS:
                detector[_DETECTOR_RENAMES.get(key, key)] = value
            elif key == "admin_password":
                serve["admin_password"] = value
            elif key == "serve_model":
                serve_model = value
            elif key in _SERVE_RENAMES:
                serve[_SERVE_RENAMES[key]] = value
            elif key.startswith("serve_") and key.endswith("_mb"):
                serve[key[len("serve_"):-len("_mb")] + "_bytes"] = int(value) * MB
            elif key.startswith("serve_"):
                serve[key[len("serve_"):]] = value
            else:
                unknown.append(key)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        # The server runs the global detector settings unless serve_model names another model.
        server_detector = dict(detector) | dict(serve.get("detector") or {})
        if serve_model:
            server_detector["model"] = serve_model
        serve["detector"] = server_detector
        return {"detector": detector, "serve": serve}


def _file_values(environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get("HEYAN_CONFIG") or ("heyan.yaml" if Path("heyan.yaml").is_file() else None)
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings file must be a mapping of names to values")
    return data


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    # Only names a section knows: HEYAN_CONFIG, HEYAN_PASSWORD and the like belong to others.
    known = _DETECTOR_FIELDS | set(_SERVE_RENAMES) | {"admin_password", "serve_model"} | {
        f"serve_{f}" for f in ServeConfig.model_fields} | {
        f"serve_{f[:-len('_bytes')]}_mb" for f in ServeConfig.model_fields if f.endswith("_bytes")}
    out: dict[str, Any] = {}
    for key, value in environ.items():
        name = key[len("HEYAN_"):].lower()
        if key.startswith("HEYAN_") and name in known:
            out[name] = value
    return out


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    # Environment wins over the file.
    return Settings.model_validate(_file_values(env) | _env_values(env))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
